//! Kustomize sources: the kustomization graph is checked before the build
//! (every referenced file and base inside the repository, no remote bases
//! unless allowed), then built with `kustomize build` or `kubectl
//! kustomize`. Argo-CD-style overrides (name prefix/suffix, images, common
//! labels/annotations, namespace) are applied through a wrapping
//! kustomization in a scratch folder, so the shared snapshot is never
//! written to.

use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::manifest::{self, ParseError};
use crate::options::KustomizeOptions;
use crate::paths::{self, PathError};
use crate::runner::{self, RunError};
use crate::tools::{Kustomize, ToolError, Tools};

/// Errors from a Kustomize source.
#[derive(Debug, thiserror::Error)]
pub enum KustomizeError {
    /// A kustomization file does not parse.
    #[error("invalid kustomization")]
    Parse(#[source] ParseError),
    /// A referenced path leaves the repository or does not exist.
    #[error(transparent)]
    Path(#[from] PathError),
    /// A remote base while they are disabled.
    #[error("`{file}` uses the remote base `{reference}`, and remote bases are disabled")]
    RemoteBase {
        /// The kustomization file.
        file: String,
        /// The reference.
        reference: String,
    },
    /// An image override is malformed.
    #[error("kustomize image override `{0}` is malformed (expected [old=]new[:tag|@digest])")]
    Image(String),
    /// No kustomize or kubectl.
    #[error(transparent)]
    Tool(#[from] ToolError),
    /// The wrapping kustomization could not be written.
    #[error("could not write the kustomization that applies the kustomize options")]
    Wrapper(#[source] std::io::Error),
    /// The build failed.
    #[error("kustomize build of `{path}` failed")]
    Build {
        /// The folder built.
        path: String,
        /// Why.
        #[source]
        source: RunError,
    },
    /// The build's output does not parse.
    #[error("kustomize build of `{path}` produced unreadable output")]
    Output {
        /// The folder built.
        path: String,
        /// Why.
        #[source]
        source: ParseError,
    },
}

/// The names Kustomize looks for, in its order.
pub const KUSTOMIZATION_FILES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// The kustomization file in `dir`, if any.
pub fn kustomization_in(dir: &Path) -> Option<&'static str> {
    KUSTOMIZATION_FILES
        .into_iter()
        .find(|name| dir.join(name).is_file())
}

/// Fields listing files or folders (bases for the first group).
const DIR_FIELDS: [&str; 6] = [
    "resources",
    "bases",
    "components",
    "generators",
    "transformers",
    "validators",
];
const FILE_FIELDS: [&str; 3] = ["crds", "configurations", "patchesStrategicMerge"];
const PATH_OBJECT_FIELDS: [&str; 3] = ["patches", "patchesJson6902", "replacements"];

/// Check every reference reachable from the kustomization in `app` (a
/// folder relative to `root`).
pub fn check_references(root: &Path, app: &Path, allow_remote: bool) -> Result<(), KustomizeError> {
    let mut queue = vec![app.to_owned()];
    let mut seen = HashSet::new();
    while let Some(dir) = queue.pop() {
        if !seen.insert(dir.clone()) || seen.len() > 1000 {
            continue;
        }
        let Some(name) = kustomization_in(&root.join(&dir)) else {
            continue;
        };
        let file = dir.join(name).display().to_string();
        let text = std::fs::read_to_string(root.join(&dir).join(name)).map_err(|source| {
            PathError::Io {
                path: file.clone(),
                source,
            }
        })?;
        let docs = manifest::parse_yaml(&file, &text).map_err(KustomizeError::Parse)?;
        let Some(k) = docs.first().map(|d| &d.value) else {
            continue;
        };
        let check = |reference: &str, may_be_base: bool, queue: &mut Vec<PathBuf>| {
            check_one(
                root,
                &dir,
                &file,
                reference,
                may_be_base,
                allow_remote,
                queue,
            )
        };
        for field in DIR_FIELDS {
            for entry in strings(k.get(field)) {
                check(entry, true, &mut queue)?;
            }
        }
        for field in FILE_FIELDS {
            for entry in strings(k.get(field)) {
                check(entry, false, &mut queue)?;
            }
        }
        for field in PATH_OBJECT_FIELDS {
            for item in k.get(field).and_then(Value::as_array).into_iter().flatten() {
                if let Some(path) = item.get("path").and_then(Value::as_str) {
                    check(path, false, &mut queue)?;
                }
            }
        }
        for field in ["configMapGenerator", "secretGenerator"] {
            for generator in k.get(field).and_then(Value::as_array).into_iter().flatten() {
                let files = strings(generator.get("files"))
                    .map(|f| f.split_once('=').map_or(f, |(_, p)| p))
                    .chain(strings(generator.get("envs")))
                    .chain(generator.get("env").and_then(Value::as_str));
                for path in files {
                    check(path, false, &mut queue)?;
                }
            }
        }
        for item in k
            .get("helmCharts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(path) = item.get("valuesFile").and_then(Value::as_str) {
                check(path, false, &mut queue)?;
            }
        }
        for (outer, inner) in [("helmGlobals", "chartHome"), ("openapi", "path")] {
            if let Some(path) = k
                .get(outer)
                .and_then(|o| o.get(inner))
                .and_then(Value::as_str)
            {
                check(path, false, &mut queue)?;
            }
        }
    }
    Ok(())
}

fn check_one(
    root: &Path,
    dir: &Path,
    file: &str,
    reference: &str,
    may_be_base: bool,
    allow_remote: bool,
    queue: &mut Vec<PathBuf>,
) -> Result<(), KustomizeError> {
    if reference.contains('\n') || reference.trim_start().starts_with('{') {
        return Ok(()); // an inline patch or config
    }
    if is_remote(root, dir, reference) {
        return if allow_remote {
            Ok(())
        } else {
            Err(KustomizeError::RemoteBase {
                file: file.to_owned(),
                reference: reference.to_owned(),
            })
        };
    }
    let rel = paths::resolve_inside(root, dir, reference, file)?;
    if may_be_base && root.join(&rel).is_dir() {
        queue.push(rel);
    }
    Ok(())
}

/// A URL, a `git@` address, or a `host.tld/...` path that does not exist
/// locally.
fn is_remote(root: &Path, dir: &Path, reference: &str) -> bool {
    if reference.contains("://") || reference.starts_with("git@") || reference.contains("?ref=") {
        return true;
    }
    let first = reference.split('/').next().unwrap_or("");
    first.contains('.')
        && first != "."
        && first != ".."
        && reference.contains('/')
        && !root.join(dir).join(reference).exists()
}

fn strings(v: Option<&Value>) -> impl Iterator<Item = &str> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

/// Build the kustomization in `app` and return its output.
pub fn build(
    root: &Path,
    app: &Path,
    options: &KustomizeOptions,
    tools: &Tools,
) -> Result<String, KustomizeError> {
    check_references(root, app, options.allow_remote_bases)?;
    let kustomize = tools.kustomize()?.clone();
    let target = root.join(app);
    let wrapper;
    let build_dir = if options.has_overrides() {
        wrapper = tempfile::Builder::new()
            .prefix("kustomize-")
            .tempdir_in(tools.scratch())
            .map_err(KustomizeError::Wrapper)?;
        write_wrapper(wrapper.path(), &target, options)?;
        wrapper.path().to_owned()
    } else {
        target
    };
    let (program, verb) = match &kustomize {
        Kustomize::Standalone(p) => (p, "build"),
        Kustomize::Kubectl(p) => (p, "kustomize"),
    };
    let invocation = tools
        .invocation(program, root)
        .arg(verb)
        .arg(&build_dir)
        .arg("--load-restrictor=LoadRestrictionsRootOnly")
        .args(&options.build_options);
    let path = app.display().to_string();
    let out = runner::run(&invocation, tools.limits()).map_err(|source| KustomizeError::Build {
        path: path.clone(),
        source,
    })?;
    String::from_utf8(out.stdout).map_err(|e| KustomizeError::Build {
        path,
        source: RunError::Failed {
            program: "kustomize".into(),
            status: "non-UTF-8 output".into(),
            stderr: e.to_string(),
        },
    })
}

fn write_wrapper(
    dir: &Path,
    target: &Path,
    options: &KustomizeOptions,
) -> Result<(), KustomizeError> {
    let from = dir.canonicalize().map_err(KustomizeError::Wrapper)?;
    let to = target.canonicalize().map_err(KustomizeError::Wrapper)?;
    let mut k = Map::new();
    k.insert(
        "apiVersion".into(),
        json!("kustomize.config.k8s.io/v1beta1"),
    );
    k.insert("kind".into(), json!("Kustomization"));
    k.insert(
        "resources".into(),
        json!([relative(&from, &to).display().to_string()]),
    );
    if let Some(p) = &options.name_prefix {
        k.insert("namePrefix".into(), json!(p));
    }
    if let Some(s) = &options.name_suffix {
        k.insert("nameSuffix".into(), json!(s));
    }
    if let Some(ns) = &options.namespace {
        k.insert("namespace".into(), json!(ns));
    }
    if !options.common_labels.is_empty() {
        k.insert(
            "labels".into(),
            json!([{"pairs": options.common_labels, "includeSelectors": true}]),
        );
    }
    if !options.common_annotations.is_empty() {
        k.insert(
            "commonAnnotations".into(),
            json!(options.common_annotations),
        );
    }
    if !options.images.is_empty() {
        let images = options
            .images
            .iter()
            .map(|i| image_override(i))
            .collect::<Result<Vec<_>, _>>()?;
        k.insert("images".into(), Value::Array(images));
    }
    let yaml = serde_yaml_ng::to_string(&Value::Object(k))
        .map_err(|e| KustomizeError::Wrapper(std::io::Error::other(e)))?;
    std::fs::write(dir.join("kustomization.yaml"), yaml).map_err(KustomizeError::Wrapper)
}

/// `[old=]new[:tag|@digest]` as a kustomize `images` entry.
pub fn image_override(spec: &str) -> Result<Value, KustomizeError> {
    let bad = || KustomizeError::Image(spec.to_owned());
    let (old, new) = match spec.split_once('=') {
        Some((old, new)) => (Some(old), new),
        None => (None, spec),
    };
    let (image, tag, digest) = if let Some((image, digest)) = new.split_once('@') {
        (image, None, Some(digest))
    } else {
        match new.rfind(':') {
            Some(i) if !new[i..].contains('/') => (&new[..i], Some(&new[i + 1..]), None),
            _ => (new, None, None),
        }
    };
    if image.is_empty() || old.is_some_and(str::is_empty) || tag.is_some_and(str::is_empty) {
        return Err(bad());
    }
    let mut entry = Map::new();
    entry.insert("name".into(), json!(old.unwrap_or(image)));
    if old.is_some_and(|o| o != image) {
        entry.insert("newName".into(), json!(image));
    }
    if let Some(tag) = tag {
        entry.insert("newTag".into(), json!(tag));
    }
    if let Some(digest) = digest {
        entry.insert("digest".into(), json!(digest));
    }
    Ok(Value::Object(entry))
}

/// The path from folder `from` to `to` (both absolute).
fn relative(from: &Path, to: &Path) -> PathBuf {
    let a: Vec<Component> = from.components().collect();
    let b: Vec<Component> = to.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..a.len() {
        out.push("..");
    }
    for c in &b[common..] {
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_overrides_follow_kustomize_edit_set_image() {
        assert_eq!(
            image_override("nginx:1.25").unwrap(),
            json!({"name": "nginx", "newTag": "1.25"})
        );
        assert_eq!(
            image_override("nginx=registry.local:5000/nginx:2").unwrap(),
            json!({"name": "nginx", "newName": "registry.local:5000/nginx", "newTag": "2"})
        );
        assert_eq!(
            image_override("app@sha256:abc").unwrap(),
            json!({"name": "app", "digest": "sha256:abc"})
        );
        assert_eq!(
            image_override("registry.local:5000/app").unwrap(),
            json!({"name": "registry.local:5000/app"})
        );
        assert!(image_override("=x").is_err());
    }

    #[test]
    fn relative_paths_climb_to_the_common_ancestor() {
        assert_eq!(
            relative(Path::new("/tmp/a/b"), Path::new("/tmp/c/d")),
            PathBuf::from("../../c/d")
        );
    }

    #[test]
    fn remote_references_are_recognised() {
        let dir = tempfile::tempdir().unwrap();
        for remote in [
            "https://github.com/org/repo//base?ref=v1",
            "github.com/org/repo/base",
            "git@github.com:org/repo.git",
        ] {
            assert!(is_remote(dir.path(), Path::new(""), remote), "{remote}");
        }
        assert!(!is_remote(dir.path(), Path::new(""), "../base"));
        assert!(!is_remote(dir.path(), Path::new(""), "deployment.yaml"));
    }
}
