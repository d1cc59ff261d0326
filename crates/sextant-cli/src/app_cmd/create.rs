//! `sextant app create`: an Application from flags. `--self-heal` and
//! `--auto-prune` imply `--auto-sync`; `--upsert` replaces the spec of an
//! app that exists (its status and metadata stay). Before writing it
//! checks what would only fail later: the sync options, that the project
//! exists, and that the path exists in the repository at the revision
//! (`--validate=false` skips the last two, for setups where Git or the
//! project comes after the app).

use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use kube::api::PostParams;
use sextant_model::application::{
    ApplicationDestination, ApplicationSource, ApplicationSourceHelm, HelmParameter, SyncPolicy,
    SyncPolicyAutomated,
};
use sextant_model::{Application, ApplicationSpec};

use super::ConnArgs;
use super::client::{Apps, retry_on_conflict};

/// Options of `sextant app create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The Application's name.
    name: String,
    /// The Git repository (URL), or with --helm-chart the Helm chart
    /// repository (`https://...`) or OCI registry (`oci://...`).
    #[arg(long)]
    repo: String,
    /// The folder in the repository.
    #[arg(
        long,
        required_unless_present = "helm_chart",
        conflicts_with = "helm_chart"
    )]
    path: Option<String>,
    /// A chart of the Helm chart repository --repo instead of a folder of
    /// Git; --revision is then its version or a range (`1.2.*`).
    #[arg(long, value_name = "CHART")]
    helm_chart: Option<String>,
    /// Branch, tag, commit or HEAD to follow; with --helm-chart, the
    /// chart version or range.
    #[arg(long, default_value = "HEAD")]
    revision: String,
    /// The namespace to deploy to.
    #[arg(long, value_name = "NS")]
    dest_namespace: String,
    /// The API server to deploy to.
    #[arg(
        long,
        value_name = "URL",
        default_value = "https://kubernetes.default.svc"
    )]
    dest_server: String,
    /// The AppProject.
    #[arg(long, default_value = "default")]
    project: String,
    /// Sync automatically when Git changes.
    #[arg(long)]
    auto_sync: bool,
    /// Revert changes made in the cluster (implies --auto-sync).
    #[arg(long)]
    self_heal: bool,
    /// Delete objects Git no longer has when syncing automatically (implies
    /// --auto-sync).
    #[arg(long)]
    auto_prune: bool,
    /// A sync option such as `CreateNamespace=true`; repeatable.
    #[arg(long = "sync-option", value_name = "KEY=VALUE")]
    sync_options: Vec<String>,
    /// Helm: `--set KEY=VALUE`; repeatable.
    #[arg(long = "helm-set", value_name = "KEY=VALUE")]
    helm_set: Vec<String>,
    /// Helm: a value file in the repository, relative to the chart;
    /// repeatable.
    #[arg(long = "values-file", value_name = "FILE")]
    values_files: Vec<String>,
    /// Plain folders: descend into sub-folders.
    #[arg(long)]
    directory_recurse: bool,
    /// Jsonnet files of plain folders.
    #[command(flatten)]
    jsonnet: crate::jsonnet_args::JsonnetArgs,
    /// Render with this config management plugin (`<name>-<version>` when
    /// it declares a version; declared in ConfigMap sextant-cmp-cm); `""`
    /// for the one whose discovery rule matches.
    #[arg(long, value_name = "NAME", visible_alias = "config-management-plugin")]
    plugin: Option<String>,
    /// Plugins: a variable for the plugin's commands (`ARGOCD_ENV_KEY`);
    /// repeatable.
    #[arg(long, value_name = "KEY=VALUE", requires = "plugin")]
    plugin_env: Vec<String>,
    /// Replace the spec if the app exists instead of failing.
    #[arg(long)]
    upsert: bool,
    /// Check that the project exists and the path exists at the revision
    /// (`--validate=false` to skip).
    #[arg(long, default_value_t = true, num_args = 0..=1, default_missing_value = "true",
          action = clap::ArgAction::Set)]
    validate: bool,
    /// Git credentials and cache for the path check.
    #[command(flatten)]
    renderer: crate::render_cmd::RendererArgs,
}

/// Create (or with `--upsert` update) the app.
pub async fn run(conn: &ConnArgs, args: CreateArgs) -> anyhow::Result<ExitCode> {
    let spec = spec(&args)?;
    let apps = Apps::connect(conn).await?;
    let name = args.name.as_str();
    if args.validate {
        check_project(&apps, &args.project).await?;
        check_path(&apps, &args).await?;
    }
    let mut app = Application::new(name, spec.clone());
    app.metadata.namespace = Some(apps.namespace.clone());
    match apps.api.create(&PostParams::default(), &app).await {
        Ok(_) => {
            println!("application {name} created in namespace {}", apps.namespace);
            return Ok(ExitCode::SUCCESS);
        }
        Err(kube::Error::Api(status)) if status.code == 409 => {
            if !args.upsert {
                anyhow::bail!(
                    "application {name} already exists in namespace {}; pass --upsert to replace its spec, or delete it first",
                    apps.namespace
                );
            }
        }
        Err(kube::Error::Api(status)) if status.code == 404 => {
            if !super::client::crds_installed(&apps.client).await? {
                return Err(apps.missing(name).await);
            }
            anyhow::bail!(
                "could not create application {name}: {} (create the namespace with `kubectl create namespace {}`, or choose another with -n)",
                status.message,
                apps.namespace
            );
        }
        Err(e) => {
            return Err(anyhow::anyhow!(super::client::words(&e))).with_context(|| {
                format!(
                    "could not create application {name} in namespace {}",
                    apps.namespace
                )
            });
        }
    }
    // Replace the spec of what we read (the update is conditional on its
    // resourceVersion), re-reading when the controller wrote in between.
    let updated = retry_on_conflict(async || {
        let mut existing = apps.get(name).await?;
        if existing.spec == spec {
            return Ok(false);
        }
        existing.spec = spec.clone();
        match apps
            .api
            .replace(name, &PostParams::default(), &existing)
            .await
        {
            Ok(_) => Ok(true),
            Err(e) => Err(apps.failed(e, name, "update").await),
        }
    })
    .await?;
    if updated {
        println!("application {name} updated in namespace {}", apps.namespace);
    } else {
        println!("application {name} unchanged");
    }
    Ok(ExitCode::SUCCESS)
}

/// The project must exist (`default` is always there, as Argo CD has it).
async fn check_project(apps: &Apps, project: &str) -> anyhow::Result<()> {
    if project.is_empty() || project == "default" {
        return Ok(());
    }
    let gvk = kube::core::GroupVersionKind::gvk(
        sextant_model::group::selected().name(),
        sextant_model::VERSION,
        "AppProject",
    );
    let resource = kube::discovery::ApiResource::from_gvk_with_plural(&gvk, "appprojects");
    let projects: kube::Api<kube::api::DynamicObject> =
        kube::Api::namespaced_with(apps.client.clone(), &apps.namespace, &resource);
    match projects.get_opt(project).await {
        Ok(Some(_)) => Ok(()),
        Ok(None) => anyhow::bail!(
            "project {project} does not exist in namespace {}: create the AppProject first, use --project default, or pass --validate=false",
            apps.namespace
        ),
        // Not allowed to read projects: the controller will say.
        Err(e) => {
            eprintln!(
                "warning: could not check that project {project} exists: {}",
                super::client::words(&e)
            );
            Ok(())
        }
    }
}

/// A chart must have a version matching the revision in its repository.
async fn check_chart(apps: &Apps, args: &CreateArgs, chart: &str) -> anyhow::Result<()> {
    let access = super::client::saved_repositories(apps)
        .await
        .map(|s| s.chart_access(&args.repo).1)
        .unwrap_or_default();
    let renderer = args.renderer.renderer()?;
    let (repo, revision, name) = (args.repo.clone(), args.revision.clone(), chart.to_owned());
    let options = sextant_render::RenderOptions {
        namespace: args.dest_namespace.clone(),
        ..Default::default()
    };
    let version = tokio::task::spawn_blocking(move || -> anyhow::Result<String> {
        let outcome = renderer.render(&sextant_render::Request {
            repo: &repo,
            revision: &revision,
            path: "",
            options: &options,
            credentials: None,
            chart: Some(sextant_render::ChartSpec {
                name: &name,
                access: &access,
                fresh: true,
            }),
        })?;
        Ok(outcome.revision())
    })
    .await
    .context("the chart check stopped unexpectedly")?
    .with_context(|| {
        format!(
            "could not get chart {chart} {} from {}; check --repo, --helm-chart and --revision, or pass --validate=false to create the app anyway",
            args.revision, args.repo
        )
    })?;
    eprintln!(
        "chart {chart}: {} resolves to version {version}",
        args.revision
    );
    Ok(())
}

/// The path must exist in the repository at the revision.
async fn check_path(apps: &Apps, args: &CreateArgs) -> anyhow::Result<()> {
    if let Some(chart) = &args.helm_chart {
        return check_chart(apps, args, chart).await;
    }
    let saved = super::client::saved_credentials(apps, &args.repo).await;
    let credentials = args.renderer.credentials().or(saved);
    let renderer = args.renderer.renderer()?;
    let (repo, revision) = (args.repo.clone(), args.revision.clone());
    let path = args.path.clone().unwrap_or_default();
    let skip = "pass --validate=false to create the app anyway";
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let local = std::path::Path::new(&repo);
        let root = if !repo.contains("://") && local.is_dir() && !sextant_render::is_git_repository(local) {
            local.to_path_buf()
        } else {
            let url = sextant_source::RepoUrl::parse(&repo)
                .map_err(|e| anyhow::anyhow!("--repo {repo}: {e}; {skip}"))?;
            let git = renderer.git();
            let commit = git
                .resolve(&url, &revision, credentials.as_ref())
                .map_err(|e| anyhow::anyhow!("could not find revision {revision} of {repo}: {e}; check --revision, or {skip}"))?;
            let snapshot = git
                .snapshot(&url, &commit, credentials.as_ref())
                .map_err(|e| anyhow::anyhow!("could not read {repo} at {revision}: {e}; {skip}"))?;
            let dir = snapshot.dir().join(path.trim_start_matches("./"));
            if !dir.is_dir() {
                anyhow::bail!(
                    "path {path} does not exist in {repo} at {revision} (commit {}): check --path and --revision, or {skip}",
                    &commit.to_string()[..7]
                );
            }
            return Ok(());
        };
        if !root.join(&path).is_dir() {
            anyhow::bail!("path {path} does not exist in {repo}: check --path, or {skip}");
        }
        Ok(())
    })
    .await
    .context("the path check stopped unexpectedly")?
}

/// The spec the flags describe.
fn spec(args: &CreateArgs) -> anyhow::Result<ApplicationSpec> {
    if args.helm_chart.is_some() && args.revision == "HEAD" {
        anyhow::bail!(
            "--helm-chart needs --revision: the chart version (1.2.3) or a range (1.2.*, >=1.0.0 <2.0.0)"
        );
    }
    for option in &args.sync_options {
        pair(option, "--sync-option")?;
    }
    sextant_engine::sync::SyncOptions::parse_app(args.sync_options.iter().map(String::as_str))
        .map_err(|e| anyhow::anyhow!("--sync-option: {e}"))?;
    let parameters = args
        .helm_set
        .iter()
        .map(|item| {
            pair(item, "--helm-set").map(|(name, value)| HelmParameter {
                name,
                value,
                force_string: None,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let helm =
        (!parameters.is_empty() || !args.values_files.is_empty()).then(|| ApplicationSourceHelm {
            parameters: (!parameters.is_empty()).then_some(parameters),
            value_files: (!args.values_files.is_empty()).then(|| args.values_files.clone()),
            ..ApplicationSourceHelm::default()
        });
    let jsonnet = args.jsonnet.source()?;
    let directory = (args.directory_recurse || jsonnet.is_some()).then(|| {
        sextant_model::application::ApplicationSourceDirectory {
            recurse: args.directory_recurse.then_some(true),
            jsonnet,
            ..Default::default()
        }
    });
    let plugin = match &args.plugin {
        Some(name) => Some(sextant_model::application::ApplicationSourcePlugin {
            name: (!name.is_empty()).then(|| name.clone()),
            env: Some(
                args.plugin_env
                    .iter()
                    .map(|item| {
                        pair(item, "--plugin-env").map(|(name, value)| {
                            sextant_model::application::PluginEnvEntry { name, value }
                        })
                    })
                    .collect::<anyhow::Result<Vec<_>>>()?,
            )
            .filter(|e| !e.is_empty()),
            parameters: None,
        }),
        None => None,
    };
    let automated =
        (args.auto_sync || args.self_heal || args.auto_prune).then(|| SyncPolicyAutomated {
            prune: args.auto_prune.then_some(true),
            self_heal: args.self_heal.then_some(true),
            ..SyncPolicyAutomated::default()
        });
    let sync_options = (!args.sync_options.is_empty()).then(|| args.sync_options.clone());
    let sync_policy = (automated.is_some() || sync_options.is_some()).then(|| SyncPolicy {
        automated,
        sync_options,
        ..SyncPolicy::default()
    });
    Ok(ApplicationSpec {
        source: Some(ApplicationSource {
            repo_url: args.repo.clone(),
            path: args.path.clone(),
            chart: args.helm_chart.clone(),
            target_revision: Some(args.revision.clone()),
            helm,
            directory,
            plugin,
            ..ApplicationSource::default()
        }),
        destination: ApplicationDestination {
            server: Some(args.dest_server.clone()),
            namespace: Some(args.dest_namespace.clone()),
            name: None,
        },
        project: args.project.clone(),
        sync_policy,
        ..ApplicationSpec::default()
    })
}

fn pair(item: &str, flag: &str) -> anyhow::Result<(String, String)> {
    match item.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => anyhow::bail!("{flag} expects KEY=VALUE, got `{item}`"),
    }
}
