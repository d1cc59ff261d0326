//! Helm sources: `helm template` on a chart in the repository, with value
//! files (inside the repository only, or `$name/path` inside the source
//! of a multi-source app whose `ref` is `name`), inline values, `--set` and
//! `--set-string` parameters, release name, namespace, CRDs in or out, and
//! API versions / kube version passed through. Local (`file://`) chart
//! dependencies must stay inside the repository; vendored ones come from
//! the chart's `charts/` folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::manifest::{self, ParseError};
use crate::options::{HelmOptions, SourceRef};
use crate::paths::{self, PathError};
use crate::runner::{self, RunError};
use crate::tools::{ToolError, Tools};

/// Errors from a Helm source.
#[derive(Debug, thiserror::Error)]
pub enum HelmError {
    /// `Chart.yaml` does not parse.
    #[error("invalid chart")]
    Chart(#[source] ParseError),
    /// A value file or dependency leaves the repository or is missing.
    #[error(transparent)]
    Path(#[from] PathError),
    /// A value file given as a URL.
    #[error("value file `{0}` is a URL; value files must be inside the repository")]
    RemoteValueFile(String),
    /// A `$name/...` value file names no source with that `ref`.
    #[error(
        "value file `{file}` names `${name}`, but no source of the app has `ref: {name}` (sources with a ref: {known})"
    )]
    UnknownRef {
        /// The value file as written.
        file: String,
        /// The ref name.
        name: String,
        /// The refs there are.
        known: String,
    },
    /// The release name is not a valid Helm release name.
    #[error(
        "release name `{0}` is invalid (lowercase letters, digits, `-` and `.`, at most 53 characters)"
    )]
    ReleaseName(String),
    /// No helm binary.
    #[error(transparent)]
    Tool(#[from] ToolError),
    /// Writing the inline values failed.
    #[error("could not write the inline Helm values")]
    Values(#[source] std::io::Error),
    /// `helm template` failed.
    #[error("helm template of `{chart}` failed")]
    Template {
        /// The chart folder.
        chart: String,
        /// Why.
        #[source]
        source: RunError,
    },
}

/// Render the chart in `chart` (a folder relative to `root`); `refs` are
/// the files of the app's other sources, for `$name/...` value files.
pub fn template(
    root: &Path,
    chart: &Path,
    options: &HelmOptions,
    refs: &BTreeMap<String, SourceRef>,
    namespace: &str,
    tools: &Tools,
) -> Result<String, HelmError> {
    check_dependencies(root, chart)?;
    let mut value_files = Vec::new();
    for file in &options.value_files {
        if file.contains("://") {
            return Err(HelmError::RemoteValueFile(file.clone()));
        }
        value_files.push(value_file(root, chart, file, refs)?);
    }
    let release = match &options.release_name {
        Some(name) => name.clone(),
        None => default_release_name(chart),
    };
    if !valid_release_name(&release) {
        return Err(HelmError::ReleaseName(release));
    }
    let helm = tools.helm()?;
    let scratch = tempfile::Builder::new()
        .prefix("helm-")
        .tempdir_in(tools.scratch())
        .map_err(HelmError::Values)?;
    if let Some(values) = options.values.as_deref().filter(|v| !v.trim().is_empty()) {
        let path = scratch.path().join("inline-values.yaml");
        std::fs::write(&path, values).map_err(HelmError::Values)?;
        value_files.push(path);
    }
    let mut inv = tools
        .invocation(helm, root)
        .arg("template")
        .arg(&release)
        .arg(root.join(chart))
        .arg("--namespace")
        .arg(namespace)
        .arg(if options.skip_crds {
            "--skip-crds"
        } else {
            "--include-crds"
        });
    for file in &value_files {
        inv = inv.arg("--values").arg(file);
    }
    for p in &options.parameters {
        let flag = if p.force_string {
            "--set-string"
        } else {
            "--set"
        };
        inv = inv.arg(flag).arg(format!("{}={}", p.name, p.value));
    }
    for v in &options.api_versions {
        inv = inv.arg("--api-versions").arg(v);
    }
    if let Some(v) = &options.kube_version {
        inv = inv.arg("--kube-version").arg(v);
    }
    let chart_name = chart.display().to_string();
    let out = runner::run(&inv, tools.limits()).map_err(|source| HelmError::Template {
        chart: chart_name.clone(),
        source,
    })?;
    String::from_utf8(out.stdout).map_err(|e| HelmError::Template {
        chart: chart_name,
        source: RunError::Failed {
            program: "helm".into(),
            status: "non-UTF-8 output".into(),
            stderr: e.to_string(),
        },
    })
}

/// Where a value file is: `$name/path` in the checkout of the source
/// whose `ref` is `name` (relative to its root, as Argo CD reads it),
/// anything else relative to the chart; inside its checkout either way.
fn value_file(
    root: &Path,
    chart: &Path,
    file: &str,
    refs: &BTreeMap<String, SourceRef>,
) -> Result<PathBuf, HelmError> {
    let Some(reference) = file.strip_prefix('$') else {
        let rel = paths::existing_inside(root, chart, file, "helm valueFiles")?;
        return Ok(root.join(rel));
    };
    let (name, path) = reference.split_once('/').unwrap_or((reference, ""));
    let Some(source) = refs.get(name) else {
        let known: Vec<&str> = refs.keys().map(String::as_str).collect();
        return Err(HelmError::UnknownRef {
            file: file.to_owned(),
            name: name.to_owned(),
            known: if known.is_empty() {
                "none".into()
            } else {
                known.join(", ")
            },
        });
    };
    let what = format!("helm valueFiles of ${name}");
    let rel = paths::existing_inside(&source.dir, Path::new(""), path, &what)?;
    Ok(source.dir.join(rel))
}

/// `file://` dependencies in `Chart.yaml` must resolve inside the
/// repository (helm would read them from anywhere).
fn check_dependencies(root: &Path, chart: &Path) -> Result<(), HelmError> {
    let file = chart.join("Chart.yaml").display().to_string();
    let text = std::fs::read_to_string(root.join(chart).join("Chart.yaml")).map_err(|source| {
        PathError::Io {
            path: file.clone(),
            source,
        }
    })?;
    let docs = manifest::parse_yaml(&file, &text).map_err(HelmError::Chart)?;
    let deps = docs
        .first()
        .and_then(|d| d.value.get("dependencies"))
        .and_then(Value::as_array);
    for dep in deps.into_iter().flatten() {
        if let Some(local) = dep
            .get("repository")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("file://"))
        {
            paths::resolve_inside(root, chart, local, &file)?;
        }
    }
    Ok(())
}

fn default_release_name(chart: &Path) -> String {
    let base = chart
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let cleaned: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .take(53)
        .collect();
    let cleaned = cleaned.trim_matches(|c| c == '-' || c == '.').to_owned();
    if cleaned.is_empty() {
        "release".into()
    } else {
        cleaned
    }
}

fn valid_release_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 53
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_release_name_is_the_chart_folder_made_valid() {
        assert_eq!(default_release_name(Path::new("charts/My_App")), "my-app");
        assert_eq!(default_release_name(Path::new("")), "release");
        assert!(valid_release_name("web-1"));
        assert!(!valid_release_name("Web"));
        assert!(!valid_release_name("-x"));
    }
}
