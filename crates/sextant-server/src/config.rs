//! How the server is started: address, TLS, path prefix, namespace,
//! renderer settings.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// How the listener speaks.
#[derive(Debug, Clone)]
pub enum TlsMode {
    /// Plain HTTP, behind a TLS-terminating proxy (`--insecure`).
    Insecure,
    /// A self-signed certificate generated at start for these host names
    /// and addresses.
    SelfSigned,
    /// A certificate chain and key from PEM files.
    Files {
        /// Certificate chain (PEM).
        cert: PathBuf,
        /// Private key (PEM, PKCS#8, PKCS#1 or SEC1).
        key: PathBuf,
    },
}

/// Everything `sextant server` needs.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Where to listen; port 0 picks a free port.
    pub listen: SocketAddr,
    /// TLS or not.
    pub tls: TlsMode,
    /// Path prefix the server is reached under (`/sextant`), for a proxy
    /// that forwards a sub-path; `/` for none.
    pub base_href: String,
    /// The controller's namespace: Applications, settings, accounts.
    pub namespace: String,
    /// Where rendered manifests and Git mirrors are cached.
    pub cache_dir: PathBuf,
    /// helm / kustomize binaries and rendering limits.
    pub tools: sextant_render::ToolConfig,
    /// How long a browser session lasts.
    pub session_lifetime: Duration,
    /// The public URL of the UI (links in notifications, `settings.url`).
    pub url: Option<String>,
    /// Request timeout for ordinary routes (streams are exempt).
    pub request_timeout: Duration,
    /// Largest request body accepted.
    pub max_body_bytes: usize,
}

impl ServerConfig {
    /// Defaults for a namespace and cache folder: plain HTTP on a free
    /// loopback port.
    pub fn new(namespace: impl Into<String>, cache_dir: PathBuf) -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            tls: TlsMode::Insecure,
            base_href: "/".into(),
            namespace: namespace.into(),
            cache_dir,
            tools: sextant_render::ToolConfig::default(),
            session_lifetime: Duration::from_secs(24 * 3600),
            url: None,
            request_timeout: Duration::from_secs(60),
            max_body_bytes: 2 * 1024 * 1024,
        }
    }

    /// The base href with one leading and no trailing slash (`""` for
    /// the root).
    pub fn prefix(&self) -> String {
        let trimmed = self.base_href.trim_matches('/');
        if trimmed.is_empty() {
            String::new()
        } else {
            format!("/{trimmed}")
        }
    }
}
