//! Which apps `sextant preview` previews when no `--path` is given: the
//! Applications (`sextant.dev/v1alpha1`, or Argo CD's `argoproj.io/v1alpha1`)
//! found in the repository's YAML and JSON files (and made by the
//! ApplicationSets found there, their git generators reading the same
//! tree) whose single source is
//! this repository (`--repo`, or a `--repo-url`) and a path in it, or a
//! chart of a Helm chart repository (its version is what a commit bumps),
//! each with the render options its source sets, and multi-source
//! Applications with at least one source in this repository (those
//! sources render at the previewed commits, the others at their
//! targetRevision). Everything else found (other Git repositories) is
//! listed as skipped, with the reason.

use std::path::Path;

use serde_json::Value;
use sextant_controller::source::{AppRef, RenderExtras};
use sextant_engine::diff::{IgnoreRule, SkippedApp};
use sextant_model::Application;
use sextant_model::application::ApplicationSource;
use sextant_render::RenderOptions;

use crate::app_source;

/// Files larger than this are not looked at.
const MAX_FILE: u64 = 1 << 20;
/// At most this many files are looked at.
const MAX_FILES: usize = 20_000;

/// An app to preview.
#[derive(Clone, Debug)]
pub struct AppSpec {
    /// The Application's name (or the path).
    pub name: String,
    /// Its project.
    pub project: String,
    /// The path in the repository (for a chart: `chart NAME of REPO`).
    pub path: String,
    /// A chart of a chart repository instead of a path.
    pub chart: Option<ChartSource>,
    /// The sources of a multi-source app, each with whether it is this
    /// repository (rendered at the previewed commit).
    pub sources: Option<Vec<(ApplicationSource, bool)>>,
    /// How to render it.
    pub options: RenderOptions,
    /// Its ignoreDifferences.
    pub ignore: Vec<IgnoreRule>,
}

/// A chart of a chart repository, at the version or range the
/// Application names at one revision of the previewed repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChartSource {
    /// The chart repository (HTTP(S) or `oci://`).
    pub repo: String,
    /// The chart.
    pub chart: String,
    /// Its `targetRevision`.
    pub revision: String,
}

/// The Applications in the tree at `root`, and what was found but is not
/// previewed. `is_this_repo` says whether a `repoURL` names the repository
/// being previewed; `extras` is what a render gets besides the app's
/// source (config management plugins).
pub fn discover(
    root: &Path,
    namespace: &str,
    is_this_repo: &dyn Fn(&str) -> bool,
    extras: &RenderExtras,
) -> (Vec<AppSpec>, Vec<SkippedApp>) {
    let mut files = Vec::new();
    walk(root, root, &mut files);
    let (mut apps, mut skipped) = (Vec::new(), Vec::new());
    for rel in files {
        let Ok(text) = std::fs::read_to_string(root.join(&rel)) else {
            continue;
        };
        // Templates and other non-manifests do not parse; they hold no apps.
        let Ok(docs) = sextant_render::manifest::parse_yaml(&rel, &text) else {
            continue;
        };
        for doc in docs {
            let v = &doc.value;
            let api = v.get("apiVersion").and_then(Value::as_str).unwrap_or("");
            if !sextant_model::ApiGroup::is_known_api_version(api) {
                continue;
            }
            let name = v
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_owned();
            match v.get("kind").and_then(Value::as_str) {
                Some("ApplicationSet") => {
                    let repos = crate::appset_cmd::Folder {
                        root: Some(root.to_path_buf()),
                        is_this_repo: Box::new(is_this_repo),
                    };
                    match crate::appset_cmd::generate_with(v, &repos, namespace) {
                        Ok(made) => {
                            for app in made {
                                let app_name = app
                                    .pointer("/metadata/name")
                                    .and_then(Value::as_str)
                                    .unwrap_or("?")
                                    .to_owned();
                                match app_spec(&app, namespace, is_this_repo, extras) {
                                    Ok(app) => apps.push(app),
                                    Err(reason) => skipped.push(SkippedApp {
                                        name: format!(
                                            "Application {app_name} of ApplicationSet {name} ({rel})"
                                        ),
                                        reason,
                                    }),
                                }
                            }
                        }
                        Err(reason) => skipped.push(SkippedApp {
                            name: format!("ApplicationSet {name} ({rel})"),
                            reason,
                        }),
                    }
                }
                Some("Application") => match app_spec(v, namespace, is_this_repo, extras) {
                    Ok(app) => apps.push(app),
                    Err(reason) => skipped.push(SkippedApp {
                        name: format!("Application {name} ({rel})"),
                        reason,
                    }),
                },
                _ => {}
            }
        }
    }
    apps.sort_by(|a, b| a.name.cmp(&b.name));
    apps.dedup_by(|a, b| a.name == b.name);
    (apps, skipped)
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        if out.len() >= MAX_FILES {
            return;
        }
        let path = e.path();
        let Ok(kind) = e.file_type() else { continue };
        let name = e.file_name().to_string_lossy().into_owned();
        if kind.is_dir() && !name.starts_with('.') {
            walk(root, &path, out);
        } else if kind.is_file()
            && [".yaml", ".yml", ".json"].iter().any(|x| name.ends_with(x))
            && e.metadata().is_ok_and(|m| m.len() <= MAX_FILE)
            && let Ok(rel) = path.strip_prefix(root)
        {
            out.push(rel.to_string_lossy().into_owned());
        }
    }
}

fn app_spec(
    v: &Value,
    namespace: &str,
    is_this_repo: &dyn Fn(&str) -> bool,
    extras: &RenderExtras,
) -> Result<AppSpec, String> {
    let app: Application =
        serde_json::from_value(v.clone()).map_err(|e| format!("not a valid Application: {e}"))?;
    let name = app.metadata.name.clone().unwrap_or_default();
    let project = app.spec.project.clone();
    let app_ref = AppRef {
        name: &name,
        project: &project,
    };
    let namespace = app
        .spec
        .destination
        .namespace
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| namespace.to_owned());
    if let Some(list) = app.spec.sources.as_ref().filter(|s| !s.is_empty()) {
        let sources: Vec<(ApplicationSource, bool)> = list
            .iter()
            .map(|s| (s.clone(), is_this_repo(&s.repo_url)))
            .collect();
        if !sources.iter().any(|(_, this)| *this) {
            return Err(
                "none of its sources is this repository; pass --repo-url if one is".to_owned(),
            );
        }
        return Ok(AppSpec {
            path: format!("{} sources", list.len()),
            options: RenderOptions {
                namespace,
                ..RenderOptions::default()
            },
            chart: None,
            sources: Some(sources),
            ignore: app_source::ignore_rules(&app)?,
            name,
            project,
        });
    }
    let Some(source) = &app.spec.source else {
        return Err("it has no source".to_owned());
    };
    if let Some(chart) = sextant_controller::source::chart_of(source) {
        return Ok(AppSpec {
            options: app_source::render_options(app_ref, source, &namespace, extras)?,
            path: format!("chart {chart} of {}", source.repo_url),
            chart: Some(ChartSource {
                repo: source.repo_url.clone(),
                chart: chart.to_owned(),
                revision: source.target_revision.clone().unwrap_or_default(),
            }),
            sources: None,
            ignore: app_source::ignore_rules(&app)?,
            name,
            project,
        });
    }
    if !is_this_repo(&source.repo_url) {
        return Err(format!(
            "its source is another repository ({}); pass --repo-url if it is this one",
            source.repo_url
        ));
    }
    let path = source.path.clone().unwrap_or_else(|| ".".to_owned());
    let ignore = app_source::ignore_rules(&app)?;
    Ok(AppSpec {
        options: app_source::render_options(app_ref, source, &namespace, extras)?,
        name,
        path,
        chart: None,
        sources: None,
        ignore,
        project,
    })
}

/// A repository URL or path reduced for comparison: no `file://`, no
/// trailing `/` or `.git`, local paths made absolute.
pub fn canonical_repo(url: &str) -> String {
    let trimmed = url.trim();
    let local = trimmed.strip_prefix("file://").unwrap_or(trimmed);
    let text = if !trimmed.contains("://") || trimmed.starts_with("file://") {
        std::fs::canonicalize(local)
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_else(|_| local.to_owned())
    } else {
        trimmed.to_owned()
    };
    let text = text.trim_end_matches('/');
    text.strip_suffix(".git").unwrap_or(text).to_owned()
}
