//! `sextant localkube`: serve the local Kubernetes API until Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args;

/// Options of `sextant localkube`.
#[derive(Debug, Args)]
pub struct LocalkubeArgs {
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
}

/// Start the server and wait for Ctrl-C.
pub async fn run(args: LocalkubeArgs) -> anyhow::Result<ExitCode> {
    let config = localkube::Config {
        listen: args.listen,
        kubeconfig: Some(args.kubeconfig.clone()),
        tls: args.tls,
        bookmark_interval: Duration::from_secs(args.bookmark_interval.max(1)),
    };
    let server = localkube::LocalKube::start(config)
        .await
        .context("could not start localkube")?;
    println!("localkube listening on {}", server.url());
    println!(
        "kubeconfig written to {}",
        server.kubeconfig_path().display()
    );
    println!(
        "try: kubectl --kubeconfig {} get namespaces",
        server.kubeconfig_path().display()
    );
    tokio::signal::ctrl_c()
        .await
        .context("could not wait for Ctrl-C")?;
    eprintln!("localkube: shutting down");
    server.shutdown().await;
    Ok(ExitCode::SUCCESS)
}
