//! `sextant server`: the API server (and, from the same port, the UI)
//! until Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use sextant_server::{Server, ServerConfig, TlsMode};

/// Options of `sextant server`.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Serve Prometheus metrics at http://ADDR/metrics (port 0 picks a
    /// free one; the address is printed).
    #[arg(long, value_name = "ADDR")]
    metrics_listen: Option<SocketAddr>,
    /// The kubeconfig to use (default: $KUBECONFIG, ~/.kube/config, or
    /// the in-cluster service account).
    #[arg(long, value_name = "PATH")]
    kubeconfig: Option<PathBuf>,
    /// The kubeconfig context.
    #[arg(long)]
    context: Option<String>,
    /// The controller's namespace (Applications, settings, accounts;
    /// default: sextant, or argocd with --api-group argoproj.io).
    #[arg(short, long = "namespace", env = "SEXTANT_NAMESPACE")]
    namespace: Option<String>,
    /// Serve plain HTTP (behind a proxy that terminates TLS).
    #[arg(long, conflicts_with_all = ["tls_cert", "tls_key"])]
    insecure: bool,
    /// The TLS certificate chain (PEM); without it and --insecure a
    /// self-signed certificate is generated at start.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The TLS private key (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Serve under this path prefix (`/sextant`), for a proxy that
    /// forwards a sub-path.
    #[arg(long, default_value = "/")]
    base_href: String,
    /// The public URL users reach the server at (for links).
    #[arg(long)]
    url: Option<String>,
    /// Where Git mirrors and renders are cached.
    #[arg(long, env = "SEXTANT_CACHE_DIR", value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Tools for rendering (diffs and manifests).
    #[command(flatten)]
    tools: crate::render_cmd::ToolArgs,
}

/// The TLS mode the flags ask for.
fn tls_mode(args: &ServerArgs) -> TlsMode {
    match (&args.tls_cert, &args.tls_key, args.insecure) {
        (_, _, true) => TlsMode::Insecure,
        (Some(cert), Some(key), _) => TlsMode::Files {
            cert: cert.clone(),
            key: key.clone(),
        },
        _ => TlsMode::SelfSigned,
    }
}

/// Start the server and run until stopped.
pub async fn run(args: ServerArgs) -> anyhow::Result<ExitCode> {
    let client =
        sextant_cluster::connect_inferred(args.kubeconfig.as_deref(), args.context.as_deref())
            .await
            .context("could not connect to the cluster")?;
    let _metrics =
        crate::controller_cmd::serve_metrics("sextant server", args.metrics_listen).await?;
    let cache_dir = match &args.cache_dir {
        Some(dir) => dir.clone(),
        None => crate::render_cmd::cache_dir_or_default(None)?.join("server"),
    };
    let namespace = crate::cli::namespace_or_default(args.namespace.as_deref());
    let mut config = ServerConfig::new(namespace.clone(), cache_dir);
    config.listen = args.listen;
    config.tls = tls_mode(&args);
    config.base_href = args.base_href.clone();
    config.url = args.url.clone();
    config.tools = args.tools.config();
    let stop = crate::controller_cmd::wait_for_stop();
    tokio::pin!(stop);
    let server = Server::start(client, config)
        .await
        .context("could not start the server")?;
    eprintln!("sextant server: listening on {}", server.url());
    if let Some(password) = server.initial_admin_password() {
        eprintln!(
            "sextant server: first start: the admin password is {password}\n  (also in Secret {}/sextant-initial-admin-secret; change it with `sextant account update-password` and delete that Secret)",
            namespace
        );
    }
    stop.await?;
    eprintln!("sextant server: stopping");
    server.shutdown().await;
    Ok(ExitCode::SUCCESS)
}
