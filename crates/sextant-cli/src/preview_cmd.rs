//! `sextant preview`: render a repository at two revisions, with no cluster,
//! and report per app what the change adds, removes and modifies (with the
//! diff), calling out new kinds, new cluster-scoped objects and image
//! changes. `--fail-on` turns findings into exit code 1 for gating a pull
//! request; a path or app that fails to render is exit 2.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, ValueEnum};
use serde_json::Value;
use sextant_engine::diff::{AppPreview, FailOn, IgnoreDifferences, Preview, preview_app};
use sextant_render::{Renderer, RendererConfig, Request, ToolConfig, runner::Limits};
use sextant_source::{GitOptions, RepoUrl, Snapshot};

use crate::preview_apps::{self, AppSpec, canonical_repo};
use crate::render_cmd;

/// Options of `sextant preview`.
#[derive(Debug, Args)]
pub struct PreviewArgs {
    /// The repository: a local Git repository or a URL.
    #[arg(long)]
    repo: String,
    /// The revision the change starts from (e.g. the target branch).
    #[arg(long)]
    base: String,
    /// The revision with the change (e.g. the pull request's commit).
    #[arg(long)]
    head: String,
    /// A path to preview; repeatable. Without it, the Applications found in
    /// the repository are previewed (or the root, if there are none).
    #[arg(long, value_name = "PATH")]
    path: Vec<String>,
    /// Output format (`-o`, as in the other commands, or `--format`).
    #[arg(
        short = 'o',
        long,
        visible_alias = "output",
        value_enum,
        default_value = "text"
    )]
    format: Format,
    /// Exit 1 when the change adds a cluster-scoped object, removes an
    /// object, or changes anything; repeatable.
    #[arg(long, value_enum, value_name = "WHAT")]
    fail_on: Vec<Gate>,
    /// Another URL that names this repository in Applications' repoURL
    /// (e.g. its https:// address); repeatable.
    #[arg(long, value_name = "URL")]
    repo_url: Vec<String>,
    /// Destination namespace for paths and for Applications without one.
    #[arg(long, default_value = "default")]
    namespace: String,
    /// The helm binary (default: `helm` on PATH).
    #[arg(long, env = "SEXTANT_HELM_BIN", value_name = "PATH")]
    helm_bin: Option<PathBuf>,
    /// The kustomize binary (default: `kustomize` on PATH, else `kubectl
    /// kustomize`).
    #[arg(long, env = "SEXTANT_KUSTOMIZE_BIN", value_name = "PATH")]
    kustomize_bin: Option<PathBuf>,
    /// Seconds helm or kustomize may run.
    #[arg(long, default_value_t = 90)]
    tool_timeout: u64,
    /// Where mirrors, snapshots and rendered output are cached.
    #[arg(long, env = "SEXTANT_CACHE_DIR", value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Config management plugins the apps may use.
    #[command(flatten)]
    plugins: crate::plugin_args::PluginArgs,
    /// What they add to every render (loaded from `plugins`).
    #[arg(skip)]
    extras: sextant_controller::source::RenderExtras,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    Text,
    Markdown,
    Json,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Gate {
    AddedClusterScoped,
    Removed,
    Any,
}

/// Preview and print.
pub async fn run(mut args: PreviewArgs) -> anyhow::Result<ExitCode> {
    args.extras = args.plugins.extras()?;
    tokio::task::spawn_blocking(move || run_blocking(&args))
        .await
        .context("the preview task stopped unexpectedly")?
}

fn run_blocking(args: &PreviewArgs) -> anyhow::Result<ExitCode> {
    let config = RendererConfig {
        cache_dir: render_cmd::cache_dir_or_default(args.cache_dir.as_ref())?,
        git: GitOptions::default(),
        tools: ToolConfig {
            helm: args.helm_bin.clone(),
            kustomize: args.kustomize_bin.clone(),
            kubectl: None,
            limits: Limits {
                timeout: Duration::from_secs(args.tool_timeout.max(1)),
                ..Limits::default()
            },
            allow_network: false,
            jsonnet_exe: render_cmd::jsonnet_exe(),
            ..ToolConfig::default()
        },
        disk_cache: true,
        ..RendererConfig::default()
    };
    let renderer = Renderer::new(config).context("could not set up rendering")?;
    let repo = RepoUrl::parse(&args.repo)?;
    let snapshot = |revision: &str| -> anyhow::Result<Snapshot> {
        let commit = renderer.git().resolve(&repo, revision, None)?;
        Ok(renderer.git().snapshot(&repo, &commit, None)?)
    };
    let base = snapshot(&args.base)?;
    let head = snapshot(&args.head)?;
    let (apps, skipped) = apps(args, &base, &head);
    let mut preview = Preview {
        base: format!("{} ({})", args.base, short(&base)),
        head: format!("{} ({})", args.head, short(&head)),
        apps: Vec::new(),
        skipped,
    };
    for (app, at_base, at_head) in &apps {
        preview.apps.push(preview_one(
            &renderer, args, app, at_base, at_head, &base, &head,
        ));
    }
    let text = match args.format {
        Format::Text => preview.to_text(),
        Format::Markdown => preview.to_markdown(),
        Format::Json => {
            let mut t =
                serde_json::to_string_pretty(&preview.to_json()).context("could not print JSON")?;
            t.push('\n');
            t
        }
    };
    print!("{text}");
    let failed: Vec<&AppPreview> = preview.apps.iter().filter(|a| a.error.is_some()).collect();
    if !failed.is_empty() {
        let names: Vec<&str> = failed.iter().map(|a| a.name.as_str()).collect();
        anyhow::bail!("could not preview {} (see above)", names.join(", "));
    }
    let gates: Vec<FailOn> = args
        .fail_on
        .iter()
        .map(|g| match g {
            Gate::AddedClusterScoped => FailOn::AddedClusterScoped,
            Gate::Removed => FailOn::Removed,
            Gate::Any => FailOn::Any,
        })
        .collect();
    let failures = preview.failures(&gates);
    for f in &failures {
        eprintln!("fail-on: {f}");
    }
    Ok(if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn short(snapshot: &Snapshot) -> String {
    snapshot.commit().to_string().chars().take(12).collect()
}

/// An app to preview, with its spec at base and at head (`None` where it
/// does not exist).
type Planned = (AppSpec, Option<AppSpec>, Option<AppSpec>);

/// The apps to preview, and what was found but skipped.
fn apps(
    args: &PreviewArgs,
    base: &Snapshot,
    head: &Snapshot,
) -> (Vec<Planned>, Vec<sextant_engine::diff::SkippedApp>) {
    let plain = |path: &str| AppSpec {
        name: path.to_owned(),
        project: String::new(),
        path: path.to_owned(),
        options: sextant_render::RenderOptions {
            namespace: args.namespace.clone(),
            plugins: args
                .extras
                .plugins
                .iter()
                .filter(|p| p.discoverable())
                .cloned()
                .collect(),
            ..Default::default()
        },
        chart: None,
        sources: None,
        ignore: Vec::new(),
    };
    if !args.path.is_empty() {
        let planned = args
            .path
            .iter()
            .map(|p| (plain(p), Some(plain(p)), Some(plain(p))))
            .collect();
        return (planned, Vec::new());
    }
    let mut names = vec![canonical_repo(&args.repo)];
    names.extend(args.repo_url.iter().map(|u| canonical_repo(u)));
    let is_this_repo = |url: &str| names.contains(&canonical_repo(url));
    let extras = &args.extras;
    let (at_head, skipped) =
        preview_apps::discover(head.dir(), &args.namespace, &is_this_repo, extras);
    let (at_base, _) = preview_apps::discover(base.dir(), &args.namespace, &is_this_repo, extras);
    if at_head.is_empty() && at_base.is_empty() {
        return (
            vec![(plain("."), Some(plain(".")), Some(plain(".")))],
            skipped,
        );
    }
    let mut planned: Vec<Planned> = Vec::new();
    for app in &at_head {
        let old = at_base.iter().find(|b| b.name == app.name).cloned();
        planned.push((app.clone(), old, Some(app.clone())));
    }
    for app in at_base
        .iter()
        .filter(|b| !at_head.iter().any(|h| h.name == b.name))
    {
        planned.push((app.clone(), Some(app.clone()), None));
    }
    (planned, skipped)
}

fn preview_one(
    renderer: &Renderer,
    args: &PreviewArgs,
    app: &AppSpec,
    at_base: &Option<AppSpec>,
    at_head: &Option<AppSpec>,
    base: &Snapshot,
    head: &Snapshot,
) -> AppPreview {
    // Objects, and the chart version for a chart of a chart repository
    // (public repositories: preview has no cluster to read Secrets from).
    let access = sextant_render::ChartAccess::default();
    let render = |spec: &Option<AppSpec>,
                  snapshot: &Snapshot|
     -> anyhow::Result<Option<(Vec<Value>, Option<String>)>> {
        let Some(spec) = spec else { return Ok(None) };
        if let Some(sources) = &spec.sources {
            return render_sources(renderer, args, spec, sources, snapshot).map(Some);
        }
        if let Some(c) = &spec.chart {
            let outcome = renderer.render(&Request {
                repo: &c.repo,
                revision: &c.revision,
                path: "",
                options: &spec.options,
                credentials: None,
                chart: Some(sextant_render::ChartSpec {
                    name: &c.chart,
                    access: &access,
                    fresh: false,
                }),
            })?;
            return Ok(Some((
                outcome.rendered.objects.clone(),
                outcome.version.clone(),
            )));
        }
        if !snapshot.dir().join(&spec.path).is_dir() {
            return Ok(None);
        }
        let outcome = renderer.render(&Request {
            repo: &args.repo,
            revision: &snapshot.commit().to_string(),
            path: &spec.path,
            options: &spec.options,
            credentials: None,
            chart: None,
        })?;
        Ok(Some((outcome.rendered.objects.clone(), None)))
    };
    let chain = |e: anyhow::Error| {
        e.chain()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(": ")
    };
    let old = match render(at_base, base) {
        Ok(o) => o,
        Err(e) => {
            return AppPreview::failed(&app.name, &app.path, format!("at base: {}", chain(e)));
        }
    };
    let new = match render(at_head, head) {
        Ok(o) => o,
        Err(e) => {
            return AppPreview::failed(&app.name, &app.path, format!("at head: {}", chain(e)));
        }
    };
    let ignore = match IgnoreDifferences::new(&app.ignore, &[]) {
        Ok(i) => i,
        Err(e) => return AppPreview::failed(&app.name, &app.path, e.to_string()),
    };
    let note = match (&old, &new) {
        (None, None) => Some(format!("path `{}` exists at neither revision", app.path)),
        (None, Some(_)) => Some("new at head".to_owned()),
        (Some(_), None) => Some("gone at head".to_owned()),
        (Some((_, Some(from))), Some((_, Some(to)))) if from != to => {
            if app.sources.is_some() {
                Some(format!("other sources {from} -> {to}"))
            } else {
                let chart = app.chart.as_ref().map_or("", |c| c.chart.as_str());
                Some(format!("chart {chart} {from} -> {to}"))
            }
        }
        _ => None,
    };
    let objects = |o: &Option<(Vec<Value>, Option<String>)>| -> Vec<Value> {
        o.as_ref().map(|(objs, _)| objs.clone()).unwrap_or_default()
    };
    let mut p = preview_app(
        &app.name,
        &app.path,
        &objects(&old),
        &objects(&new),
        &ignore,
    );
    p.note = note;
    p
}

/// A multi-source app at `snapshot`: the sources in this repository at
/// its commit, the others at their targetRevision (public repositories:
/// preview reads no credentials). The objects, and the revisions of the
/// other sources (a chart version bump shows there).
fn render_sources(
    renderer: &Renderer,
    args: &PreviewArgs,
    spec: &AppSpec,
    sources: &[(sextant_model::application::ApplicationSource, bool)],
    snapshot: &Snapshot,
) -> anyhow::Result<(Vec<Value>, Option<String>)> {
    let commit = snapshot.commit().to_string();
    let list: Vec<_> = sources
        .iter()
        .map(|(s, this)| {
            let mut s = s.clone();
            if *this {
                s.repo_url = args.repo.clone();
            }
            s
        })
        .collect();
    let wanted: Vec<Option<String>> = sources
        .iter()
        .map(|(_, this)| this.then(|| commit.clone()))
        .collect();
    let nobody = sextant_controller::repo_creds::RepoCredentials::new(&args.namespace);
    let fetched = sextant_controller::source::render_sources(
        renderer,
        &nobody,
        &sextant_controller::source::Target {
            app: sextant_controller::source::AppRef {
                name: &spec.name,
                project: &spec.project,
            },
            namespace: &spec.options.namespace,
            applications_namespace: None,
            fresh: false,
            extras: &args.extras,
        },
        &list,
        &wanted,
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let others: Vec<String> = fetched
        .revisions
        .iter()
        .flatten()
        .zip(sources)
        .filter(|(_, (_, this))| !this)
        .map(|(r, _)| r.clone())
        .collect();
    Ok((
        fetched.outcome.rendered.objects.clone(),
        (!others.is_empty()).then(|| others.join(",")),
    ))
}
