//! `sextant controller`: reconcile the Applications of one namespace until
//! Ctrl-C or SIGTERM.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use sextant_controller::leader::LeaseConfig;
use sextant_controller::{Controller, ControllerConfig};

use crate::app_cmd::duration;

/// Options of `sextant controller`.
#[derive(Debug, Args)]
pub struct ControllerArgs {
    /// The kubeconfig (default: KUBECONFIG, else ~/.kube/config, else in-cluster).
    #[arg(long, value_name = "PATH")]
    kubeconfig: Option<PathBuf>,
    /// The kubeconfig context (default: its current context).
    #[arg(long)]
    context: Option<String>,
    /// The namespace whose Applications are reconciled (default: sextant,
    /// or argocd with --api-group argoproj.io).
    #[arg(short, long = "namespace", env = "SEXTANT_NAMESPACE")]
    namespace: Option<String>,
    /// Where Git mirrors, snapshots and renders are cached (default:
    /// $XDG_CACHE_HOME/sextant/controller or ~/.cache/sextant/controller).
    #[arg(long, env = "SEXTANT_CACHE_DIR", value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// How often Git is asked for new commits (`30s`, `3m`, ...); the
    /// `sextant.dev/refresh` annotation asks at once.
    #[arg(long, default_value = "3m", value_parser = duration::parse)]
    repo_poll_interval: Duration,
    /// How often every app is re-evaluated even when nothing it follows
    /// changed (a safety net; `reconciledAt` advances).
    #[arg(long, default_value = "10m", value_parser = duration::parse)]
    resync_interval: Duration,
    /// How long self-heal waits after an app's last sync before it
    /// re-applies Git over live changes.
    #[arg(long, default_value = "5s", value_parser = duration::parse)]
    self_heal_delay: Duration,
    /// How long one step of a sync (a wave, a hook) may wait for its
    /// objects to be Healthy or its hooks to finish before the sync fails.
    #[arg(long, default_value = "10m", value_parser = duration::parse)]
    sync_wait_timeout: Duration,
    /// How many apps are reconciled at once.
    #[arg(long, default_value_t = 8)]
    workers: usize,
    /// Lua health checks laid out as GROUP/KIND/health.lua (Argo CD's
    /// resource customizations); used for every app.
    #[arg(long, value_name = "DIR")]
    resource_customizations: Option<PathBuf>,
    /// ignoreDifferences rules for every app (a YAML list of rules).
    #[arg(long, value_name = "FILE")]
    system_ignore_differences: Option<PathBuf>,
    /// Reconcile without taking the Lease first (only when this is surely
    /// the one controller of the namespace).
    #[arg(long)]
    no_leader_election: bool,
    /// The Lease (in --namespace) that decides which controller acts.
    #[arg(long, default_value = "sextant-controller", value_name = "NAME")]
    lease_name: String,
    /// Serve Prometheus metrics at http://ADDR/metrics (port 0 picks a
    /// free one; the address is printed).
    #[arg(long, value_name = "ADDR")]
    metrics_listen: Option<std::net::SocketAddr>,
    /// helm and kustomize.
    #[command(flatten)]
    tools: crate::render_cmd::ToolArgs,
}

/// Serve `/metrics` on `listen`, saying where; the task runs until the
/// process ends.
pub async fn serve_metrics(
    who: &str,
    listen: Option<std::net::SocketAddr>,
) -> anyhow::Result<Option<tokio::task::JoinHandle<()>>> {
    let Some(listen) = listen else {
        return Ok(None);
    };
    let (addr, task) = sextant_metrics::serve(listen)
        .await
        .with_context(|| format!("could not serve metrics on {listen} (--metrics-listen)"))?;
    eprintln!("{who}: metrics on http://{addr}/metrics");
    Ok(Some(task))
}

/// Run the controller until asked to stop.
pub async fn run(args: ControllerArgs) -> anyhow::Result<ExitCode> {
    let client =
        sextant_cluster::connect_inferred(args.kubeconfig.as_deref(), args.context.as_deref())
            .await
            .context("could not connect to the cluster")?;
    if !crate::app_cmd::client::crds_installed(&client).await? {
        anyhow::bail!(
            "the cluster does not serve Applications of {}: {}",
            sextant_model::group::selected().api_version(),
            crate::app_cmd::client::install_crds()
        );
    }
    let _metrics = serve_metrics("sextant controller", args.metrics_listen).await?;
    let cache_dir = match args.cache_dir {
        Some(dir) => dir,
        None => crate::render_cmd::cache_dir_or_default(None)?.join("controller"),
    };
    let namespace = crate::cli::namespace_or_default(args.namespace.as_deref());
    let mut config = ControllerConfig::new(namespace.clone(), cache_dir);
    config.repo_poll_interval = args.repo_poll_interval;
    config.self_heal_delay = args.self_heal_delay;
    config.sync_wait_timeout = args.sync_wait_timeout;
    config.resync_interval = args.resync_interval;
    config.workers = args.workers.max(1);
    config.tools = args.tools.config();
    if let Some(dir) = &args.resource_customizations {
        config.health = crate::health_cmd::load_customizations(dir)?;
    }
    if let Some(file) = &args.system_ignore_differences {
        config.system_ignore = crate::diff_cmd::load_rules(file)?;
    }
    if !args.no_leader_election {
        let mut lease = LeaseConfig::new();
        lease.name = args.lease_name.clone();
        eprintln!(
            "sextant controller: taking the lease {}/{} as {} (another controller may hold it; this one waits)",
            namespace, lease.name, lease.identity
        );
        config.leader_election = Some(lease);
    }
    // One signal listener for the whole run: a signal between two
    // listeners would be lost.
    let stop = wait_for_stop();
    tokio::pin!(stop);
    let controller = tokio::select! {
        c = Controller::start(client, config) => c.context("could not start the controller")?,
        stop = &mut stop => {
            stop?;
            eprintln!("sextant controller: stopped before it led");
            return Ok(ExitCode::SUCCESS);
        }
    };
    eprintln!(
        "sextant controller: reconciling the Applications in namespace {} (Ctrl-C to stop)",
        namespace
    );
    tokio::select! {
        stop = &mut stop => stop?,
        () = controller.lost() => {
            eprintln!(
                "sextant controller: lost the lease {}/{} to another controller; exiting so this one can be started again as a candidate",
                namespace, args.lease_name
            );
            return Ok(ExitCode::from(1));
        }
    }
    eprintln!("sextant controller: stopping");
    controller.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C, or SIGTERM where there is one (how Kubernetes stops a Pod).
pub(crate) async fn wait_for_stop() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .context("could not listen for SIGTERM")?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.context("could not wait for Ctrl-C")?,
            _ = term.recv() => {}
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c()
            .await
            .context("could not wait for Ctrl-C")
    }
}
