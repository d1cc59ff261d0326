//! `sextant localkube`: serve the local Kubernetes API until Ctrl-C;
//! `sextant localkube simulate`: its simulated Nodes and kubelet against
//! another API server.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};

mod faults;
mod simulate;

/// What else `sextant localkube` can do than serve.
#[derive(Debug, Subcommand)]
pub enum LocalkubeAction {
    /// Run localkube's simulated Nodes, scheduler, kubelet and network
    /// controllers against any API server (e.g. a real kube-apiserver with
    /// kube-controller-manager), as a kubelet stand-in.
    Simulate(simulate::SimulateArgs),
}

/// Options of `sextant localkube`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct LocalkubeArgs {
    #[command(subcommand)]
    action: Option<LocalkubeAction>,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:6443")]
    listen: SocketAddr,
    /// Where to write a kubeconfig for kubectl and kube-rs.
    #[arg(long, default_value = "localkube.kubeconfig")]
    kubeconfig: PathBuf,
    /// Serve HTTPS with a generated CA and require a bearer token (both
    /// written into the kubeconfig).
    #[arg(long)]
    tls: bool,
    /// Seconds between watch bookmarks.
    #[arg(long, default_value_t = 5)]
    bookmark_interval: u64,
    /// Number of simulated Nodes.
    #[arg(long, default_value_t = 3)]
    nodes: usize,
    /// Milliseconds from a Pod's creation to its containers running.
    #[arg(long, default_value_t = 1000)]
    pod_start_ms: u64,
    /// Milliseconds from running to Ready.
    #[arg(long, default_value_t = 1000)]
    pod_ready_ms: u64,
    /// Milliseconds a Job's Pod runs before it completes.
    #[arg(long, default_value_t = 2000)]
    job_run_ms: u64,
    /// Turn the simulated controllers off (a bare API server).
    #[arg(long)]
    no_simulation: bool,
    /// Keep the state in this directory, so a restart keeps every object
    /// and resourceVersion (default: memory only).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    // Boxed: the fault flags would make this the one large variant of the
    // subcommand enum (clippy::large_enum_variant).
    #[command(flatten)]
    faults: Box<faults::FaultArgs>,
}

/// Start the server and wait for Ctrl-C.
pub async fn run(args: LocalkubeArgs) -> anyhow::Result<ExitCode> {
    if let Some(LocalkubeAction::Simulate(sim)) = args.action {
        return simulate::run(sim).await;
    }
    let config = localkube::Config {
        listen: args.listen,
        kubeconfig: Some(args.kubeconfig.clone()),
        tls: args.tls,
        bookmark_interval: Duration::from_secs(args.bookmark_interval.max(1)),
        simulation: localkube::controllers::SimulationConfig {
            enabled: !args.no_simulation,
            nodes: args.nodes,
            pod_start_delay: Duration::from_millis(args.pod_start_ms),
            pod_ready_delay: Duration::from_millis(args.pod_ready_ms),
            job_run_time: Duration::from_millis(args.job_run_ms),
            ..Default::default()
        },
        data_dir: args.data_dir.clone(),
    };
    let fault_rules = args.faults.rules();
    fault_rules.validate().context("invalid --fault-* flags")?;
    let server = localkube::LocalKube::start(config)
        .await
        .context("could not start localkube")?;
    if !fault_rules.is_empty() {
        // Before the address is printed, so no client sees the server
        // without its faults.
        server
            .faults()
            .set(fault_rules)
            .context("invalid --fault-* flags")?;
        eprintln!(
            "localkube: fault injection is on (GET {}/localkube/v1/faults shows the rules)",
            server.url()
        );
    }
    // Written without println!: a closed stdout (the reader went away) must
    // not bring the server down.
    let banner = format!(
        "localkube listening on {url}\nkubeconfig written to {kc}\ntry: kubectl --kubeconfig {kc} get namespaces\n",
        url = server.url(),
        kc = server.kubeconfig_path().display()
    );
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(banner.as_bytes());
        let _ = out.flush();
    }
    tokio::signal::ctrl_c()
        .await
        .context("could not wait for Ctrl-C")?;
    {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "localkube: shutting down");
    }
    server.shutdown().await;
    Ok(ExitCode::SUCCESS)
}
