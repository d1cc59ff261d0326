//! The listener: TLS with a given certificate or one generated at start,
//! or plain HTTP; one hyper connection per accepted socket, with the
//! client's address available to routes (login rate limiting).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::extract::connect_info::ConnectInfo;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

use crate::config::TlsMode;

/// TLS problems.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A PEM file could not be read.
    #[error("could not read {path}")]
    Read {
        /// The file.
        path: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// No certificate or key in the file.
    #[error("{path} holds no {what} in PEM form")]
    Empty {
        /// The file.
        path: String,
        /// Certificate or private key.
        what: &'static str,
    },
    /// Generating the self-signed certificate failed.
    #[error("could not generate a self-signed certificate")]
    Generate(#[from] rcgen::Error),
    /// rustls refused the certificate or key.
    #[error("the certificate and key do not make a TLS configuration")]
    Config(#[from] rustls::Error),
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.display().to_string(),
        source,
    })
}

/// A TLS configuration and, when it was generated, its certificate (PEM).
pub struct Tls {
    /// For the listener.
    pub config: Arc<rustls::ServerConfig>,
    /// The generated certificate, for clients to trust.
    pub generated_pem: Option<String>,
}

/// The rustls configuration for `mode` (`None` for plain HTTP).
pub fn tls_config(mode: &TlsMode, hosts: &[String]) -> Result<Option<Tls>, TlsError> {
    let (chain, key, generated) = match mode {
        TlsMode::Insecure => return Ok(None),
        TlsMode::SelfSigned => {
            let certified = rcgen::generate_simple_self_signed(hosts.to_vec())?;
            let pem = certified.cert.pem();
            (
                vec![CertificateDer::from(certified.cert.der().to_vec())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
                    certified.signing_key.serialize_der(),
                )),
                Some(pem),
            )
        }
        TlsMode::Files { cert, key } => {
            let cert_pem = read(cert)?;
            let chain: Vec<CertificateDer<'static>> =
                rustls_pemfile::certs(&mut cert_pem.as_slice())
                    .filter_map(Result::ok)
                    .collect();
            if chain.is_empty() {
                return Err(TlsError::Empty {
                    path: cert.display().to_string(),
                    what: "certificate",
                });
            }
            let key_pem = read(key)?;
            let Some(private) = rustls_pemfile::private_key(&mut key_pem.as_slice())
                .ok()
                .flatten()
            else {
                return Err(TlsError::Empty {
                    path: key.display().to_string(),
                    what: "private key",
                });
            };
            (chain, private, None)
        }
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Some(Tls {
        config: Arc::new(config),
        generated_pem: generated,
    }))
}

/// Serve `router` on `listener` until `stop` turns true.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    tls: Option<Arc<rustls::ServerConfig>>,
    stop: watch::Receiver<bool>,
) {
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    let mut stopping = stop.clone();
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let router = router.clone();
                let acceptor = acceptor.clone();
                let mut stop = stop.clone();
                connections.spawn(async move {
                    let service = router.map_request(move |mut req: http::Request<hyper::body::Incoming>| {
                        req.extensions_mut().insert(ConnectInfo(peer));
                        req
                    });
                    let service = TowerToHyperService::new(service);
                    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                    let served = async {
                        match acceptor {
                            Some(acceptor) => {
                                let Ok(tls) = acceptor.accept(stream).await else { return };
                                let _ = builder.serve_connection(TokioIo::new(tls), service).await;
                            }
                            None => {
                                let _ = builder.serve_connection(TokioIo::new(stream), service).await;
                            }
                        }
                    };
                    tokio::select! {
                        () = served => {}
                        _ = stop.wait_for(|s| *s) => {}
                    }
                });
            }
            _ = stopping.wait_for(|s| *s) => break,
        }
        while connections.try_join_next().is_some() {}
    }
    connections.abort_all();
}

/// The address a request came from (loopback when unknown).
pub fn peer(extensions: &http::Extensions) -> SocketAddr {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)))
}
