//! Rendering one path of a checkout: check the tree is safe, detect (or
//! take) the source kind as Argo CD does (kustomization, then Chart.yaml,
//! else a plain directory), produce the objects, normalise them and sort
//! them stably.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::directory::{self, DirectoryError};
use crate::helm::{self, HelmError};
use crate::kustomize::{self, KustomizeError};
use crate::manifest::{self, Document, ParseError};
use crate::normalize::{self, Scope};
use crate::options::{RenderOptions, SourceKind};
use crate::paths::{self, PathError};
use crate::plugin::{self, PluginError, WorkTree};
use crate::tools::Tools;

/// Errors from rendering a path.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The path leaves the checkout, or a symlink in it points out.
    #[error(transparent)]
    Path(#[from] PathError),
    /// The path is not a folder in the checkout.
    #[error("path `{0}` is not a folder in the repository")]
    NotAFolder(String),
    /// A plain directory could not be read.
    #[error(transparent)]
    Directory(#[from] DirectoryError),
    /// A Kustomize source failed.
    #[error(transparent)]
    Kustomize(#[from] KustomizeError),
    /// A Helm source failed.
    #[error(transparent)]
    Helm(#[from] HelmError),
    /// A config management plugin could not be chosen or failed.
    #[error(transparent)]
    Plugin(#[from] PluginError),
    /// One manifest is malformed or not a usable object.
    #[error(transparent)]
    Manifest(Box<dyn std::error::Error + Send + Sync>),
    /// Several manifests are malformed; each is listed with its cause.
    #[error("{} manifests are invalid: {}", .0.len(), .0.join("; "))]
    Manifests(Vec<String>),
    /// Objects are rendered more than once: which one Git means is not
    /// clear, so nothing is used until the repository says.
    #[error("{}; keep one of each (nothing of this source is synced until then)", .0.join("; "))]
    Duplicates(Vec<String>),
}

/// A file that was not rendered, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    /// The file, relative to the repository root.
    pub path: String,
    /// Why it was skipped.
    pub reason: String,
}

impl Skipped {
    pub(crate) fn new(path: &str, reason: &str) -> Self {
        Self {
            path: path.to_owned(),
            reason: reason.to_owned(),
        }
    }
}

/// The result of rendering a path.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rendered {
    /// What kind of source it was.
    pub kind: SourceKind,
    /// The objects, normalised and sorted by group, kind, namespace, name.
    pub objects: Vec<Value>,
    /// Files that were not manifests.
    pub skipped: Vec<Skipped>,
    /// Things worth knowing that did not stop the render.
    pub warnings: Vec<String>,
}

/// The kind of source in `dir`, as Argo CD detects it.
pub fn detect(dir: &Path) -> SourceKind {
    if kustomize::kustomization_in(dir).is_some() {
        SourceKind::Kustomize
    } else if dir.join("Chart.yaml").is_file() {
        SourceKind::Helm
    } else {
        SourceKind::Directory
    }
}

/// The repository-relative folder `path` names (`""` for the root).
pub fn source_folder(root: &Path, path: &str) -> Result<PathBuf, RenderError> {
    let trimmed = path.trim().trim_end_matches('/');
    let trimmed = if trimmed.is_empty() { "." } else { trimmed };
    let rel = paths::resolve_inside(root, Path::new(""), trimmed, "--path")?;
    if !root.join(&rel).is_dir() {
        return Err(RenderError::NotAFolder(path.to_owned()));
    }
    Ok(rel)
}

/// Render `path` of the checkout at `root`.
pub fn render_path(
    root: &Path,
    path: &str,
    options: &RenderOptions,
    tools: &Tools,
) -> Result<Rendered, RenderError> {
    paths::check_symlinks(root)?;
    render_checked(root, path, options, tools)
}

/// [`render_path`] for a tree already known to pass
/// [`paths::check_symlinks`] (an immutable snapshot scanned once).
pub(crate) fn render_checked(
    root: &Path,
    path: &str,
    options: &RenderOptions,
    tools: &Tools,
) -> Result<Rendered, RenderError> {
    let folder = source_folder(root, path)?;
    let mut work = WorkTree::default();
    let plugin = plugin::choose(root, &folder, options, tools, &mut work)?;
    let kind = match plugin {
        Some(_) => SourceKind::Plugin,
        None => options
            .kind
            .filter(|k| *k != SourceKind::Plugin)
            .unwrap_or_else(|| detect(&root.join(&folder))),
    };
    let mut skipped = Vec::new();
    let mut parse_problems = Vec::new();
    let sources: Vec<(String, Vec<Document>)> = match kind {
        SourceKind::Directory => directory::read(
            root,
            &folder,
            &options.directory,
            tools,
            &mut skipped,
            &mut parse_problems,
        )?
        .into_iter()
        .map(|f| (f.file, f.docs))
        .collect(),
        SourceKind::Kustomize => {
            let out = kustomize::build(root, &folder, &options.kustomize, tools)?;
            vec![tool_output("kustomize build output", &out)?]
        }
        SourceKind::Helm => {
            let out = helm::template(
                root,
                &folder,
                &options.helm,
                &options.refs,
                options.namespace(),
                tools,
            )?;
            vec![tool_output("helm template output", &out)?]
        }
        SourceKind::Plugin => match plugin {
            Some(plugin) => {
                let (out, _stderr) =
                    plugin::generate(root, &folder, plugin, options, tools, &mut work)?;
                vec![tool_output(
                    &format!("the output of config management plugin `{}`", plugin.name),
                    &out,
                )?]
            }
            None => Vec::new(),
        },
    };
    let scope = Scope::new(&options.cluster_scoped_kinds);
    let mut problems: Vec<Box<dyn std::error::Error + Send + Sync>> = parse_problems
        .into_iter()
        .map(|e| Box::new(e) as _)
        .collect();
    let mut objects = Vec::new();
    let mut origins = Vec::new();
    for (origin, docs) in sources {
        for mut doc in docs {
            match normalize::normalize(
                &mut doc.value,
                &origin,
                doc.index,
                options.namespace(),
                normalize::AppPlacement {
                    namespace: options.applications_namespace.as_deref(),
                    group: options.application_group.as_deref(),
                },
                &scope,
            ) {
                Ok(()) => {
                    origins.push(format!("{origin} (document {})", doc.index));
                    objects.push(doc.value);
                }
                Err(e) => problems.push(Box::new(e)),
            }
        }
    }
    let duplicates = duplicates(&objects, &origins);
    if !duplicates.is_empty() {
        return Err(RenderError::Duplicates(duplicates));
    }
    match problems.len() {
        0 => {}
        1 => return Err(RenderError::Manifest(problems.remove(0))),
        _ => {
            return Err(RenderError::Manifests(
                problems.iter().map(|e| chain(e.as_ref())).collect(),
            ));
        }
    }
    objects.sort_by_cached_key(normalize::identity);
    Ok(Rendered {
        kind,
        objects,
        skipped,
        warnings: Vec::new(),
    })
}

fn tool_output(origin: &str, text: &str) -> Result<(String, Vec<Document>), RenderError> {
    let wrap = |e: ParseError| RenderError::Manifest(Box::new(e));
    let docs = manifest::parse_yaml(origin, text).map_err(wrap)?;
    let docs = manifest::flatten_lists(origin, docs).map_err(wrap)?;
    Ok((origin.to_owned(), docs))
}

/// Objects rendered more than once (same group, kind, namespace and
/// name), each named with the places it comes from. Objects with only a
/// `generateName` (hooks) get a new name each time and may repeat.
fn duplicates(objects: &[Value], origins: &[String]) -> Vec<String> {
    let mut seen: std::collections::BTreeMap<_, Vec<&str>> = std::collections::BTreeMap::new();
    for (obj, origin) in objects.iter().zip(origins) {
        if obj
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .is_none()
        {
            continue;
        }
        seen.entry(normalize::identity(obj))
            .or_default()
            .push(origin.as_str());
    }
    seen.into_iter()
        .filter(|(_, places)| places.len() > 1)
        .map(|((group, kind, ns, name), places)| {
            let group = if group.is_empty() {
                String::new()
            } else {
                format!(".{group}")
            };
            let object = if ns.is_empty() {
                format!("{kind}{group} {name}")
            } else {
                format!("{kind}{group} {ns}/{name}")
            };
            format!(
                "{object} is defined more than once: in {}",
                places.join(" and in ")
            )
        })
        .collect()
}

/// `e` and its causes on one line.
pub(crate) fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut next = e.source();
    while let Some(s) = next {
        text.push_str(": ");
        text.push_str(&s.to_string());
        next = s.source();
    }
    text
}
