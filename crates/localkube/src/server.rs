//! Starting and stopping localkube: the listener (plain or TLS), the
//! kubeconfig it writes, and the handle tests and the demo hold.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::cluster::Cluster;
use crate::faults::Faults;
use crate::http::{AppState, handle};
use crate::tls;

/// How to start the server.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Where to write the kubeconfig; `None` writes one into a private
    /// temporary directory owned by the handle.
    pub kubeconfig: Option<PathBuf>,
    /// Serve HTTPS with a generated CA and require a bearer token.
    pub tls: bool,
    /// Interval between watch bookmarks.
    pub bookmark_interval: Duration,
    /// The simulated controllers (nodes, workloads, kubelet, ...).
    pub simulation: crate::controllers::SimulationConfig,
    /// Keep the state in this directory across restarts (`None`: memory only).
    pub data_dir: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            kubeconfig: None,
            tls: false,
            bookmark_interval: Duration::from_secs(5),
            simulation: crate::controllers::SimulationConfig::default(),
            data_dir: None,
        }
    }
}

/// Errors starting the server.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Could not bind the address.
    #[error("could not listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// Could not write the kubeconfig.
    #[error("could not write the kubeconfig {path}")]
    Kubeconfig {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// TLS setup failed.
    #[error("could not set up TLS")]
    Tls(#[from] tls::TlsError),
    /// The data directory could not be read.
    #[error("could not load the state in {path}")]
    Load {
        /// The state file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: crate::persist::PersistError,
    },
}

/// Errors building a client for the server.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The kubeconfig could not be read.
    #[error("could not load the kubeconfig")]
    Kubeconfig(#[from] kube::config::KubeconfigError),
    /// kube-rs refused the configuration.
    #[error("could not build a Kubernetes client")]
    Client(#[from] kube::Error),
}

/// A running localkube.
pub struct LocalKube {
    addr: SocketAddr,
    url: String,
    kubeconfig: PathBuf,
    cluster: Arc<Cluster>,
    faults: Arc<Faults>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    controllers: Option<JoinHandle<()>>,
    saver: Option<JoinHandle<()>>,
    data_dir: Option<PathBuf>,
    _tempdir: Option<tempfile::TempDir>,
}

impl std::fmt::Debug for LocalKube {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalKube").field("url", &self.url).finish()
    }
}

fn random_token() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..40)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// The kubeconfig text for a server.
pub fn kubeconfig_yaml(url: &str, ca_pem: Option<&str>, token: Option<&str>) -> String {
    use base64::Engine;
    let mut cluster = format!("    server: {url}\n");
    if let Some(ca) = ca_pem {
        let b64 = base64::engine::general_purpose::STANDARD.encode(ca);
        cluster.push_str(&format!("    certificate-authority-data: {b64}\n"));
    }
    let user = match token {
        Some(t) => format!("    token: {t}\n"),
        None => "    {}\n".to_string(),
    };
    let user = if token.is_some() {
        format!("  user:\n{user}")
    } else {
        "  user: {}\n".to_string()
    };
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: localkube\n  cluster:\n{cluster}users:\n- name: localkube\n{user}contexts:\n- name: localkube\n  context:\n    cluster: localkube\n    user: localkube\n    namespace: default\ncurrent-context: localkube\npreferences: {{}}\n"
    )
}

impl LocalKube {
    /// Start serving; returns once the listener is bound and the kubeconfig
    /// written, so clients can connect immediately.
    pub async fn start(config: Config) -> Result<Self, StartError> {
        let cluster = match &config.data_dir {
            Some(dir) => crate::persist::load(dir)?,
            None => Cluster::new(),
        };
        Self::start_with(config, Arc::new(cluster)).await
    }

    /// Start serving an existing cluster state.
    pub async fn start_with(config: Config, cluster: Arc<Cluster>) -> Result<Self, StartError> {
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| StartError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: config.listen,
            source,
        })?;
        let host = if addr.ip().is_unspecified() {
            "127.0.0.1".to_string()
        } else {
            addr.ip().to_string()
        };
        let (tls, token) = if config.tls {
            let hosts = vec![
                "localhost".to_string(),
                "127.0.0.1".to_string(),
                host.clone(),
            ];
            (Some(tls::generate(&hosts)?), Some(random_token()))
        } else {
            (None, None)
        };
        let scheme = if tls.is_some() { "https" } else { "http" };
        let url = format!("{scheme}://{host}:{}", addr.port());
        let (kubeconfig, tempdir) = match &config.kubeconfig {
            Some(p) => (p.clone(), None),
            None => {
                let dir = tempfile::tempdir().map_err(|source| StartError::Kubeconfig {
                    path: std::env::temp_dir(),
                    source,
                })?;
                (dir.path().join("kubeconfig"), Some(dir))
            }
        };
        let text = kubeconfig_yaml(
            &url,
            tls.as_ref().map(|t| t.ca_pem.as_str()),
            token.as_deref(),
        );
        if let Some(parent) = kubeconfig.parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(|source| StartError::Kubeconfig {
                path: kubeconfig.clone(),
                source,
            })?;
        }
        std::fs::write(&kubeconfig, text).map_err(|source| StartError::Kubeconfig {
            path: kubeconfig.clone(),
            source,
        })?;
        let faults = Arc::new(Faults::new(cluster.clone()));
        let state = Arc::new(AppState {
            cluster: cluster.clone(),
            address: format!("{host}:{}", addr.port()),
            token,
            bookmark_interval: config.bookmark_interval,
            faults: faults.clone(),
        });
        let router = Router::new().fallback(handle).with_state(state);
        let (stop, stop_rx) = watch::channel(false);
        let acceptor = tls.map(|t| tokio_rustls::TlsAcceptor::from(t.server_config));
        let task = tokio::spawn(serve(listener, router, acceptor, stop_rx));
        let saver = config
            .data_dir
            .clone()
            .map(|dir| tokio::spawn(crate::persist::save_periodically(cluster.clone(), dir)));
        let controllers = config
            .simulation
            .enabled
            .then(|| crate::controllers::spawn(cluster.clone(), config.simulation.clone()));
        Ok(LocalKube {
            addr,
            url,
            kubeconfig,
            cluster,
            faults,
            stop,
            task,
            controllers,
            saver,
            data_dir: config.data_dir.clone(),
            _tempdir: tempdir,
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server URL (`http://127.0.0.1:PORT` or `https://...`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The kubeconfig that points at this server.
    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig
    }

    /// The cluster state (for in-process inspection and fault injection).
    pub fn cluster(&self) -> &Arc<Cluster> {
        &self.cluster
    }

    /// Fault injection: latency, 429s, 500/503s, dropped watches and
    /// expired resourceVersions, for reliability tests. Off until switched on
    /// here, over `/localkube/v1/faults`, or by `sextant localkube --fault-*`.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// A kube-rs client configured from the written kubeconfig.
    pub async fn client(&self) -> Result<kube::Client, ClientError> {
        let kubeconfig = kube::config::Kubeconfig::read_from(&self.kubeconfig)?;
        let config = kube::Config::from_custom_kubeconfig(
            kubeconfig,
            &kube::config::KubeConfigOptions::default(),
        )
        .await?;
        Ok(kube::Client::try_from(config)?)
    }

    /// Stop accepting and close every open connection (watches included).
    pub async fn shutdown(mut self) {
        if let Some(c) = &self.controllers {
            c.abort();
        }
        let _ = self.stop.send(true);
        let _ = (&mut self.task).await;
        if let Some(s) = &self.saver {
            s.abort();
        }
        if let Some(dir) = &self.data_dir
            && let Err(e) = crate::persist::save(&self.cluster, dir)
        {
            tracing::error!(error = %e, dir = %dir.display(), "could not save the state on shutdown");
        }
    }
}

impl Drop for LocalKube {
    fn drop(&mut self) {
        // A handle dropped without `shutdown` still stops everything it
        // started, so tests cannot leak servers into each other.
        if let Some(c) = &self.controllers {
            c.abort();
        }
        if let Some(s) = &self.saver {
            s.abort();
        }
        let _ = self.stop.send(true);
    }
}

async fn serve(
    listener: TcpListener,
    router: Router,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    mut stop: watch::Receiver<bool>,
) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let service = TowerToHyperService::new(router.clone());
                let acceptor = acceptor.clone();
                connections.spawn(async move {
                    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                    match acceptor {
                        Some(acceptor) => {
                            let Ok(tls) = acceptor.accept(stream).await else { return };
                            let _ = builder.serve_connection(TokioIo::new(tls), service).await;
                        }
                        None => {
                            let _ = builder.serve_connection(TokioIo::new(stream), service).await;
                        }
                    }
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.abort_all();
    while connections.join_next().await.is_some() {}
}
