//! `sextant localkube simulate --kubeconfig K`: the kubelet stand-in
//! (simulated Nodes, scheduler, kubelet and network controllers) against
//! any API server, until Ctrl-C or SIGTERM.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args;

/// Options of `sextant localkube simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// The kubeconfig of the API server to act on (its current context).
    #[arg(long)]
    kubeconfig: PathBuf,
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
    /// Milliseconds between passes (longer when a pass takes longer).
    #[arg(long, default_value_t = 200)]
    tick_ms: u64,
}

/// Run the stand-in until asked to stop.
pub async fn run(args: SimulateArgs) -> anyhow::Result<ExitCode> {
    let cfg = localkube::controllers::SimulationConfig {
        enabled: true,
        nodes: args.nodes,
        pod_start_delay: Duration::from_millis(args.pod_start_ms),
        pod_ready_delay: Duration::from_millis(args.pod_ready_ms),
        job_run_time: Duration::from_millis(args.job_run_ms),
        tick: Duration::from_millis(args.tick_ms.max(10)),
    };
    let kubeconfig = args.kubeconfig.clone();
    let stand_in = tokio::task::spawn_blocking(move || {
        localkube::controllers::StandIn::start(&kubeconfig, cfg)
    })
    .await
    .context("the kubelet stand-in's start was interrupted")?
    .with_context(|| {
        format!(
            "could not start the kubelet stand-in against {}",
            args.kubeconfig.display()
        )
    })?;
    eprintln!(
        "localkube simulate: {} Nodes, Pods scheduled and run against the API server of {}",
        args.nodes,
        args.kubeconfig.display()
    );
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("could not listen for SIGTERM")?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r.context("could not wait for Ctrl-C")?,
        _ = term.recv() => {}
    }
    eprintln!("localkube simulate: stopping");
    tokio::task::spawn_blocking(move || stand_in.stop())
        .await
        .context("the kubelet stand-in did not stop cleanly")?;
    Ok(ExitCode::SUCCESS)
}
