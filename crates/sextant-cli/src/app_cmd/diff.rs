//! `sextant app diff`: render the app's source as the controller does (at
//! what its target revision is in Git now, which is what a sync would
//! deploy, or at `--revision`; the app's
//! render options; the tracking the settings ConfigMap asks for, by
//! default the annotation
//! `sextant.dev/tracking-id: <app>:<group>/<kind>:<namespace>/<name>`, on
//! every object) and diff it against the cluster with a server-side
//! dry-run apply and the app's and the ConfigMap's ignoreDifferences, as
//! `sextant diff` does.
//! Live objects of the kinds in `status.resources` that carry this app's
//! tracking id but are no longer rendered are listed as "would be pruned".
//! Exit 0 same, 1 different, 2 error.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use kube::api::{ApiResource, DynamicObject, ListParams};
use kube::core::GroupVersionKind;
use kube::{Api, Client};
use serde_json::{Value, json};
use sextant_cluster::{DiffSettings, diff_objects};
use sextant_controller::tracking::Tracking;
use sextant_engine::diff::{IgnoreDifferences, ObjectError, ObjectKey};
use sextant_model::Application;
use sextant_render::{Outcome, Request};
use sextant_source::Credentials;

use super::ConnArgs;
use super::client::{Apps, words};
use crate::render_cmd::RendererArgs;

/// The in-cluster destination (the cluster the kubeconfig names).
const IN_CLUSTER: &str = "https://kubernetes.default.svc";

/// Options of `sextant app diff`.
#[derive(Debug, Args)]
pub struct AppDiffArgs {
    /// The Application's name.
    name: String,
    #[command(flatten)]
    what: DiffWhat,
    /// Output format.
    #[arg(short, long, value_enum, default_value = "text")]
    output: DiffFormat,
}

/// What to compare the cluster with, and how (shared with `app sync
/// --preview-changes`).
#[derive(Clone, Debug, Args)]
pub struct DiffWhat {
    /// Diff what this revision renders instead of the app's target
    /// revision (a branch, tag, commit, `HEAD~1`, ...).
    #[arg(long, conflicts_with = "local")]
    revision: Option<String>,
    /// Diff what this local folder renders, as its files are now
    /// (uncommitted changes included), in place of the app's path.
    #[arg(long, value_name = "DIR")]
    local: Option<PathBuf>,
    /// With --local: the repository's root, so that the chart or overlay
    /// in DIR can use files outside it (`../base`); DIR must be inside it.
    #[arg(long, value_name = "DIR", requires = "local")]
    local_repo_root: Option<PathBuf>,
    /// System-wide ignoreDifferences rules (a YAML list, `ignoreDifferences:`,
    /// or an Application), added to the app's own.
    #[arg(long, env = "SEXTANT_SYSTEM_IGNORE_DIFFERENCES", value_name = "FILE")]
    system_ignore_differences: Option<PathBuf>,
    /// How many objects are compared at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Tools, caches and Git credentials for rendering.
    #[command(flatten)]
    renderer: RendererArgs,
    /// What the cluster's settings add to a render (kustomize flags,
    /// config management plugins).
    #[arg(skip)]
    extras: sextant_controller::source::RenderExtras,
}

impl DiffWhat {
    /// Compare the app's target revision (or `revision`) with the cluster.
    pub fn at(revision: Option<String>, renderer: RendererArgs) -> Self {
        Self {
            revision,
            local: None,
            local_repo_root: None,
            system_ignore_differences: None,
            concurrency: 8,
            renderer,
            extras: Default::default(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum DiffFormat {
    Text,
    Json,
}

/// A live object this app tracks that its source no longer renders.
struct Prune {
    key: ObjectKey,
}

/// What a diff found.
pub struct Found {
    report: sextant_engine::diff::DiffReport,
    prunes: Vec<Prune>,
    commit: Option<String>,
}

impl Found {
    /// Whether a sync would change anything.
    pub fn differs(&self) -> bool {
        self.report.differs() || !self.prunes.is_empty()
    }

    /// Print the diff as text on stdout: each object's diff, the objects
    /// that would be pruned, a summary line.
    pub fn print_text(&self, name: &str) {
        let text = self.report.to_text();
        let (body, summary) = text
            .trim_end()
            .rsplit_once('\n')
            .map_or(("", text.trim_end()), |(b, s)| (b, s));
        if !body.is_empty() {
            println!("{body}");
        }
        for p in &self.prunes {
            println!(
                "===== {} (would be pruned) =====\n# tracked by application {name} but no longer rendered; `sextant app sync {name} --prune` deletes it",
                p.key
            );
        }
        if self.prunes.is_empty() {
            println!("{summary}");
        } else {
            println!("{summary}; {} would be pruned", self.prunes.len());
        }
    }

    /// An error when some objects could not be compared.
    pub fn check_errors(&self) -> anyhow::Result<()> {
        if !self.report.errors.is_empty() {
            anyhow::bail!(
                "{} of {} objects could not be compared (see above)",
                self.report.errors.len(),
                self.report.errors.len() + self.report.objects.len()
            );
        }
        Ok(())
    }
}

/// Render, diff, look for pruning candidates, print.
pub async fn run(conn: &ConnArgs, args: AppDiffArgs) -> anyhow::Result<ExitCode> {
    let apps = Apps::connect(conn).await?;
    let name = args.name.clone();
    let app = apps.get(&name).await?;
    let found = compute(&apps, &app, &name, args.what).await?;
    if args.output == DiffFormat::Json {
        let mut doc = found.report.to_json();
        doc["application"] = json!(name);
        doc["commit"] = json!(found.commit);
        doc["wouldBePruned"] = json!(found.prunes.iter().map(|p| &p.key).collect::<Vec<_>>());
        println!(
            "{}",
            serde_json::to_string_pretty(&doc).context("could not print JSON")?
        );
    } else {
        found.print_text(&name);
    }
    found.check_errors()?;
    Ok(if found.differs() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Render what `what` names for `app` and diff it against the cluster.
pub async fn compute(
    apps: &Apps,
    app: &Application,
    name: &str,
    mut what: DiffWhat,
) -> anyhow::Result<Found> {
    let app_rules = crate::app_source::ignore_rules(app)
        .map_err(|e| anyhow::anyhow!("application {name}: {e}"))?;
    // The settings ConfigMap's tracking and ignoreDifferences, as the
    // controller applies them.
    let cm = sextant_controller::settings::read_once(&apps.client, &apps.namespace).await;
    let mut system_rules = cm.system_ignore.clone();
    what.extras = render_extras(apps, &cm).await;
    if let Some(file) = &what.system_ignore_differences {
        system_rules.extend(crate::diff_cmd::load_rules(file)?);
    }
    let ignore = IgnoreDifferences::new(&app_rules, &system_rules)
        .with_context(|| format!("application {name} has invalid ignoreDifferences"))?;
    warn_other_cluster(app, name);
    let concurrency = what.concurrency;
    let revision = what.revision.clone();
    let local = what.local.clone();
    let (desired, commit) = desired(apps, app, name, what, &cm.tracking).await?;
    if let Some(commit) = &commit {
        eprintln!(
            "comparing the live state with {} ({})",
            super::table::short_revision(commit),
            match &revision {
                Some(r) => format!("{r}, as asked"),
                None => format!("{}, the app's targetRevision", target_revision(app)),
            }
        );
    } else if let Some(dir) = &local {
        eprintln!(
            "comparing the live state with the files in {}",
            dir.display()
        );
    }
    let created = sextant_controller::source::namespaces_a_sync_creates(app);
    let settings = DiffSettings {
        ignore: &ignore,
        concurrency,
        created_namespaces: &created,
    };
    let mut report = diff_objects(&apps.client, &desired, settings).await;
    let rendered: BTreeSet<(String, String, String, String)> = desired
        .iter()
        .map(|o| identity(&ObjectKey::of(o)))
        .collect();
    let (prunes, errors) = prune_candidates(&apps.client, app, name, &rendered, &cm.tracking).await;
    report.errors.extend(errors);
    Ok(Found {
        report,
        prunes,
        commit,
    })
}

/// What a sync of `app` would apply, as `what` names it: rendered, each
/// object with the tracking annotation the controller adds.
pub async fn rendered_objects(
    apps: &Apps,
    app: &Application,
    name: &str,
    mut what: DiffWhat,
) -> anyhow::Result<Vec<Value>> {
    let cm = sextant_controller::settings::read_once(&apps.client, &apps.namespace).await;
    what.extras = render_extras(apps, &cm).await;
    Ok(desired(apps, app, name, what, &cm.tracking).await?.0)
}

/// What the cluster's settings add to a render, as the controller has it.
async fn render_extras(
    apps: &Apps,
    settings: &sextant_controller::settings::Settings,
) -> sextant_controller::source::RenderExtras {
    sextant_controller::source::RenderExtras {
        kustomize_build_options: settings.kustomize_build_options.clone(),
        plugins: std::sync::Arc::new(
            sextant_controller::plugins::read_once(&apps.client, &apps.namespace).await,
        ),
    }
}

/// Render with the credentials saved in the cluster (flags win), and add
/// tracking; also returns the commit rendered (none for `--local`).
async fn desired(
    apps: &Apps,
    app: &Application,
    name: &str,
    what: DiffWhat,
    tracking: &Tracking,
) -> anyhow::Result<(Vec<Value>, Option<String>)> {
    if let Some(list) = app.spec.sources.as_ref().filter(|s| !s.is_empty()) {
        if what.local.is_some() {
            anyhow::bail!(
                "application {name} has several sources; --local renders one folder in place of one source's path, so it is not available for it (use --revision, commas between the sources' revisions)"
            );
        }
        let saved = super::client::saved_repositories(apps)
            .await
            .unwrap_or_else(|| {
                sextant_controller::repo_creds::RepoCredentials::new(&apps.namespace)
            });
        let (outcome, revision) = render_sources(app, name, list, what, saved).await?;
        eprintln!("revisions: {revision}");
        eprintln!("objects: {}", outcome.rendered.objects.len());
        for w in &outcome.rendered.warnings {
            eprintln!("warning: {w}");
        }
        let mut objects = outcome.rendered.objects.clone();
        for obj in &mut objects {
            tracking.mark(name, obj);
        }
        return Ok((objects, Some(revision)));
    }
    let saved = match app.spec.source.as_ref() {
        Some(source) if what.local.is_none() => super::client::saved_repositories(apps)
            .await
            .map(|s| Saved {
                credentials: s.lookup(&source.repo_url).map(|f| f.credentials),
                chart: Some(s.chart_access(&source.repo_url).1),
            })
            .unwrap_or_default(),
        _ => Saved::default(),
    };
    let outcome = render(app, name, what, saved).await?;
    crate::render_cmd::report(&outcome);
    let mut objects = outcome.rendered.objects.clone();
    for obj in &mut objects {
        tracking.mark(name, obj);
    }
    let revision = Some(outcome.revision()).filter(|r| !r.is_empty());
    Ok((objects, revision))
}

/// The revision `app` follows, as its spec says (`HEAD` when unset).
pub(super) fn target_revision(app: &Application) -> String {
    app.spec
        .source
        .as_ref()
        .and_then(|s| s.target_revision.as_deref())
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .unwrap_or("HEAD")
        .to_owned()
}

/// What the cluster's repository Secrets hold for the app's repository.
#[derive(Default)]
struct Saved {
    credentials: Option<Credentials>,
    chart: Option<sextant_render::ChartAccess>,
}

/// Render the app's source at `what.revision`, or at what its target
/// revision is in Git now (what a sync would deploy, not what was last
/// compared), or the folder `what.local` as it is on disk.
async fn render(
    app: &Application,
    name: &str,
    what: DiffWhat,
    saved: Saved,
) -> anyhow::Result<Outcome> {
    let Some(source) = app.spec.source.clone() else {
        anyhow::bail!("application {name} has no source");
    };
    let chart = sextant_controller::source::chart_of(&source).map(str::to_owned);
    let revision = what
        .revision
        .clone()
        .unwrap_or_else(|| target_revision(app));
    let namespace = app.spec.destination.namespace.clone().unwrap_or_default();
    let app_ref = sextant_controller::source::AppRef {
        name,
        project: &app.spec.project,
    };
    let options = crate::app_source::render_options(app_ref, &source, &namespace, &what.extras)
        .map_err(|e| anyhow::anyhow!("application {name}: {e}"))?;
    let renderer = what.renderer;
    if let Some(dir) = what.local {
        let (root, path) = local_root_and_path(&dir, what.local_repo_root.as_deref())?;
        let label = format!("application {name}: could not render {}", dir.display());
        return tokio::task::spawn_blocking(move || -> anyhow::Result<Outcome> {
            Ok(renderer.renderer()?.render_local(&root, &path, &options)?)
        })
        .await
        .context("the render task stopped unexpectedly")?
        .context(label);
    }
    let path = source.path.clone().unwrap_or_else(|| ".".to_owned());
    let label = format!(
        "application {name}: could not render {} at {revision}",
        source.repo_url
    );
    tokio::task::spawn_blocking(move || -> anyhow::Result<Outcome> {
        // Flags win over what is saved in the cluster.
        let credentials = renderer.credentials().or(saved.credentials);
        let access = saved.chart.unwrap_or_default();
        let renderer = renderer.renderer()?;
        Ok(renderer.render(&Request {
            repo: &source.repo_url,
            revision: &revision,
            path: &path,
            options: &options,
            credentials: credentials.as_ref(),
            chart: chart.as_deref().map(|name| sextant_render::ChartSpec {
                name,
                access: &access,
                fresh: true,
            }),
        })?)
    })
    .await
    .context("the render task stopped unexpectedly")?
    .context(label)
}

/// Render every source of a multi-source app at `what.revision` (one
/// revision per source, commas between) or each one's targetRevision,
/// with the repository credentials saved in the cluster.
async fn render_sources(
    app: &Application,
    name: &str,
    list: &[sextant_model::application::ApplicationSource],
    what: DiffWhat,
    saved: sextant_controller::repo_creds::RepoCredentials,
) -> anyhow::Result<(Outcome, String)> {
    use sextant_controller::source::{Target, wanted_revisions};
    let wanted = wanted_revisions(list, what.revision.as_deref())
        .map_err(|e| anyhow::anyhow!("application {name}: --revision: {e}"))?;
    let namespace = app.spec.destination.namespace.clone().unwrap_or_default();
    let (name, list, renderer) = (name.to_owned(), list.to_vec(), what.renderer);
    let (project, extras) = (app.spec.project.clone(), what.extras);
    tokio::task::spawn_blocking(move || -> anyhow::Result<(Outcome, String)> {
        let renderer = renderer.renderer()?;
        let fetched = sextant_controller::source::render_sources(
            &renderer,
            &saved,
            &Target {
                app: sextant_controller::source::AppRef {
                    name: &name,
                    project: &project,
                },
                namespace: &namespace,
                applications_namespace: None,
                fresh: true,
                extras: &extras,
            },
            &list,
            &wanted,
        )
        .map_err(|e| anyhow::anyhow!("application {name}: could not render: {e}"))?;
        let revision = fetched.revision();
        Ok((fetched.outcome, revision))
    })
    .await
    .context("the render task stopped unexpectedly")?
}

/// The folder to render from and the path inside it for `--local DIR`
/// (`--local-repo-root ROOT`): ROOT and DIR relative to it, or DIR and `.`.
fn local_root_and_path(
    dir: &std::path::Path,
    root: Option<&std::path::Path>,
) -> anyhow::Result<(PathBuf, String)> {
    let canonical = |p: &std::path::Path| {
        std::fs::canonicalize(p).with_context(|| format!("--local: could not open {}", p.display()))
    };
    let dir = canonical(dir)?;
    if !dir.is_dir() {
        anyhow::bail!("--local: {} is not a folder", dir.display());
    }
    let Some(root) = root else {
        return Ok((dir, ".".to_owned()));
    };
    let root = canonical(root)?;
    let inside = dir.strip_prefix(&root).map_err(|_| {
        anyhow::anyhow!(
            "--local {} is not inside --local-repo-root {}",
            dir.display(),
            root.display()
        )
    })?;
    let path = inside
        .to_str()
        .ok_or_else(|| anyhow::anyhow!("--local {}: the path is not UTF-8", dir.display()))?;
    let path = if path.is_empty() { "." } else { path };
    Ok((root.clone(), path.to_owned()))
}

/// Say so when the app deploys somewhere other than the kubeconfig's
/// cluster (the diff is against the kubeconfig's cluster).
fn warn_other_cluster(app: &Application, name: &str) {
    let d = &app.spec.destination;
    let server = d.server.as_deref().filter(|s| !s.is_empty());
    let other = match (server, d.name.as_deref().filter(|n| !n.is_empty())) {
        (Some(s), _) => (s != IN_CLUSTER).then(|| s.to_owned()),
        (None, Some(n)) => (n != "in-cluster").then(|| n.to_owned()),
        (None, None) => None,
    };
    if let Some(other) = other {
        eprintln!(
            "warning: application {name} deploys to {other}; this diff is against the cluster of your kubeconfig"
        );
    }
}

fn identity(key: &ObjectKey) -> (String, String, String, String) {
    (
        key.group.clone(),
        key.kind.clone(),
        key.namespace.clone(),
        key.name.clone(),
    )
}

/// Live objects of the kinds in `status.resources` whose tracking id is
/// this app's (and names the object itself, so a copied annotation does
/// not count) and that are not rendered any more.
async fn prune_candidates(
    client: &Client,
    app: &Application,
    name: &str,
    rendered: &BTreeSet<(String, String, String, String)>,
    tracking: &Tracking,
) -> (Vec<Prune>, Vec<ObjectError>) {
    let mut kinds: BTreeMap<(String, String), String> = BTreeMap::new();
    for r in app
        .status
        .as_ref()
        .and_then(|s| s.resources.as_ref())
        .into_iter()
        .flatten()
    {
        kinds
            .entry((r.group.clone(), r.kind.clone()))
            .or_insert_with(|| r.version.clone());
    }
    let (mut prunes, mut errors) = (Vec::new(), Vec::new());
    for ((group, kind), version) in kinds {
        let failed = |error: String| ObjectError {
            key: ObjectKey {
                group: group.clone(),
                kind: kind.clone(),
                ..ObjectKey::default()
            },
            error,
        };
        let resource = match resolve(client, &group, &version, &kind).await {
            Ok(Some(resource)) => resource,
            Ok(None) => continue,
            Err(e) => {
                errors.push(failed(format!("could not look for objects to prune: {e}")));
                continue;
            }
        };
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
        let list = match api.list(&ListParams::default()).await {
            Ok(list) => list.items,
            Err(e) => {
                errors.push(failed(format!(
                    "could not list live objects to look for objects to prune: {}",
                    words(&e)
                )));
                continue;
            }
        };
        for obj in list {
            let Ok(mut value) = serde_json::to_value(&obj) else {
                continue;
            };
            // kube-apiserver lists built-in kinds without apiVersion and
            // kind; the identity needs them.
            if let Some(o) = value.as_object_mut()
                && !o.contains_key("apiVersion")
            {
                o.insert("apiVersion".into(), resource.api_version.clone().into());
                o.insert("kind".into(), resource.kind.clone().into());
            }
            if !tracking.is_owned_by(name, &value) {
                continue;
            }
            let key = ObjectKey::of(&value);
            if !rendered.contains(&identity(&key)) {
                prunes.push(Prune { key });
            }
        }
    }
    prunes.sort_by(|a, b| a.key.cmp(&b.key));
    (prunes, errors)
}

/// The kind's resource, `None` when the cluster does not serve it (no
/// objects of it can exist).
pub(super) async fn resolve(
    client: &Client,
    group: &str,
    version: &str,
    kind: &str,
) -> Result<Option<ApiResource>, String> {
    let found = if version.is_empty() {
        kube::discovery::group(client, group)
            .await
            .map(|g| g.recommended_kind(kind).map(|(r, _)| r))
    } else {
        let gvk = GroupVersionKind::gvk(group, version, kind);
        kube::discovery::pinned_kind(client, &gvk)
            .await
            .map(|(r, _)| Some(r))
    };
    match found {
        Ok(resource) => Ok(resource),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(None),
        Err(kube::Error::Discovery(_)) => Ok(None),
        Err(e) => Err(words(&e)),
    }
}
