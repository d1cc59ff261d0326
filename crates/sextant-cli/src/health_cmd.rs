//! `sextant health`: assess objects read from YAML or JSON files and print
//! one JSON line per object; also the loader of a customizations directory
//! (the engine reads no files, see ARCHITECTURE.md).

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sextant_engine::health::{HealthCustomizations, HealthStatus, ObjectRef, assess};

/// The largest health script read from a customizations directory.
const MAX_SCRIPT_BYTES: u64 = 1024 * 1024;

/// Options of `sextant health`.
#[derive(Debug, Args)]
pub struct HealthArgs {
    /// YAML or JSON files, each holding one or more objects (multi-document
    /// YAML, `kind: List`); `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// A directory of Lua health checks laid out as GROUP/KIND/health.lua
    /// (KIND/health.lua for the core group; `_` is a wildcard), as in Argo
    /// CD's resource customizations.
    #[arg(long, value_name = "DIR")]
    customizations: Option<PathBuf>,
}

/// One line of output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Line<'a> {
    api_version: &'a str,
    kind: &'a str,
    namespace: Option<&'a str>,
    name: &'a str,
    status: HealthStatus,
    message: &'a str,
}

/// Read every file, assess every object, print a line each.
pub fn run(args: HealthArgs) -> anyhow::Result<ExitCode> {
    let custom = match &args.customizations {
        Some(dir) => load_customizations(dir)?,
        None => HealthCustomizations::new(),
    };
    let mut objects = Vec::new();
    for file in &args.files {
        read_objects(file, &mut objects)?;
    }
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let written = objects.iter().try_for_each(|obj| {
        let health = assess(obj, &custom);
        let id = ObjectRef::of(obj);
        let line = Line {
            api_version: id.api_version,
            kind: id.kind,
            namespace: id.namespace,
            name: id.name,
            status: health.status,
            message: &health.message,
        };
        serde_json::to_writer(&mut out, &line).map_err(io::Error::from)?;
        out.write_all(b"\n")
    });
    match written.and_then(|()| out.flush()) {
        // A reader that stopped early (`| head`) is not an error.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        other => {
            other.context("could not write the results")?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Append the objects in `file` (or standard input for `-`) to `objects`.
fn read_objects(file: &Path, objects: &mut Vec<Value>) -> anyhow::Result<()> {
    let shown = file.display();
    let text = if file == Path::new("-") {
        let mut text = String::new();
        io::stdin()
            .read_to_string(&mut text)
            .context("could not read standard input")?;
        text
    } else {
        fs::read_to_string(file).with_context(|| format!("could not read {shown}"))?
    };
    let documents = parse_documents(&text).with_context(|| format!("could not parse {shown}"))?;
    for document in documents {
        push_object(document, objects);
    }
    Ok(())
}

/// The documents of a JSON text (one or more values) or a YAML stream.
fn parse_documents(text: &str) -> anyhow::Result<Vec<Value>> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        return serde_json::Deserializer::from_str(text)
            .into_iter::<Value>()
            .enumerate()
            .map(|(i, value)| value.with_context(|| format!("JSON value {}", i + 1)))
            .collect();
    }
    serde_yaml_ng::Deserializer::from_str(text)
        .enumerate()
        .map(|(i, document)| {
            Value::deserialize(document).with_context(|| format!("YAML document {}", i + 1))
        })
        .collect()
}

/// Add one document: skip empty ones, expand lists (`kind: List`,
/// `DeploymentList`), whose items may leave out their apiVersion and kind.
fn push_object(mut document: Value, objects: &mut Vec<Value>) {
    if document.is_null() {
        return;
    }
    let (kind, api_version) = {
        let id = ObjectRef::of(&document);
        (id.kind.to_owned(), id.api_version.to_owned())
    };
    let items = match (kind.strip_suffix("List"), document.get_mut("items")) {
        (Some(_), Some(Value::Array(items))) => std::mem::take(items),
        _ => {
            objects.push(document);
            return;
        }
    };
    let item_kind = kind.strip_suffix("List").unwrap_or_default();
    for mut item in items {
        if let Value::Object(map) = &mut item {
            if !item_kind.is_empty() && !map.contains_key("kind") {
                map.insert("kind".to_owned(), Value::from(item_kind));
            }
            if !api_version.is_empty() && !map.contains_key("apiVersion") {
                map.insert("apiVersion".to_owned(), Value::from(api_version.as_str()));
            }
        }
        push_object(item, objects);
    }
}

/// Read a customizations directory: `GROUP/KIND/health.lua` and
/// `KIND/health.lua`; everything else (tests, actions) is ignored.
pub fn load_customizations(dir: &Path) -> anyhow::Result<HealthCustomizations> {
    let mut custom = HealthCustomizations::new();
    let mut visit = |relative: &str, source: String| -> anyhow::Result<()> {
        custom.insert_file(relative, source)?;
        Ok(())
    };
    walk(
        dir,
        "",
        0,
        2,
        &|name, depth| name == "health.lua" && depth > 0,
        &mut visit,
    )
    .with_context(|| {
        format!(
            "could not load health customizations from {}",
            dir.display()
        )
    })?;
    Ok(custom)
}

/// The resource actions of a customizations directory in Argo CD's layout
/// (`[GROUP/]KIND/actions/discovery.lua`,
/// `[GROUP/]KIND/actions/NAME/action.lua`), over the built-in ones.
pub fn load_actions(dir: &Path) -> anyhow::Result<sextant_engine::actions::ResourceActions> {
    let mut actions = sextant_engine::actions::ResourceActions::new();
    let mut visit = |relative: &str, source: String| -> anyhow::Result<()> {
        actions.insert_file(relative, source);
        Ok(())
    };
    let wanted =
        |name: &str, depth: usize| depth >= 2 && (name == "discovery.lua" || name == "action.lua");
    walk(dir, "", 0, 4, &wanted, &mut visit)
        .with_context(|| format!("could not load resource actions from {}", dir.display()))?;
    Ok(actions)
}

/// Visit the files under `dir` (at most `max_depth` folders down) whose
/// name and depth `wanted` accepts, with their path relative to the walk's
/// root and their text.
fn walk(
    dir: &Path,
    prefix: &str,
    depth: usize,
    max_depth: usize,
    wanted: &dyn Fn(&str, usize) -> bool,
    visit: &mut dyn FnMut(&str, String) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let entries = fs::read_dir(dir).with_context(|| format!("could not list {}", dir.display()))?;
    let mut entries = entries
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("could not list {}", dir.display()))?;
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        // Group and kind names are ASCII; a name that is not UTF-8 is no key.
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let path = entry.path();
        let relative = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}/{name}")
        };
        // Follows symbolic links, as a checked-out customizations repo may
        // use them.
        let meta =
            fs::metadata(&path).with_context(|| format!("could not inspect {}", path.display()))?;
        if meta.is_dir() && depth < max_depth {
            walk(&path, &relative, depth + 1, max_depth, wanted, visit)?;
        } else if meta.is_file() && wanted(&name, depth) {
            if meta.len() > MAX_SCRIPT_BYTES {
                bail!("{} is larger than {MAX_SCRIPT_BYTES} bytes", path.display());
            }
            let source = fs::read_to_string(&path)
                .with_context(|| format!("could not read {}", path.display()))?;
            visit(&relative, source)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn list_items_inherit_the_list_kind_and_api_version() {
        let mut objects = Vec::new();
        push_object(
            json!({"apiVersion": "apps/v1", "kind": "DeploymentList", "items": [
                {"metadata": {"name": "a"}},
                {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "b"}}
            ]}),
            &mut objects,
        );
        assert_eq!(objects.len(), 2);
        assert_eq!(objects[0]["kind"], "Deployment");
        assert_eq!(objects[0]["apiVersion"], "apps/v1");
    }

    #[test]
    fn json_streams_and_yaml_streams_both_parse() {
        let json = parse_documents("{\"kind\": \"A\"}\n{\"kind\": \"B\"}").unwrap();
        assert_eq!(json.len(), 2);
        let yaml = parse_documents("kind: A\n---\nkind: B\n---\n").unwrap();
        assert_eq!(yaml.iter().filter(|d| !d.is_null()).count(), 2);
    }
}
