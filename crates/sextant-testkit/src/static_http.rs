//! Files served over HTTP/1.1 on loopback (a Helm chart repository is
//! just that), optionally asking for basic auth, optionally over HTTPS
//! with a certificate of a private CA, counting the requests so a test can
//! tell whether a cache answered.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::http_git::base64;

/// A static file server for a folder.
pub struct StaticHttpServer {
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    /// The CA that signed the server's certificate (HTTPS only).
    pub ca_pem: Option<String>,
    stop: Arc<AtomicBool>,
    requests: Arc<AtomicUsize>,
}

impl StaticHttpServer {
    /// Serve `root`; with an account, every request must carry it as
    /// basic auth (401 otherwise).
    pub fn start(root: &Path, account: Option<(&str, &str)>) -> Self {
        Self::start_with(root, account, None)
    }

    /// [`start`](Self::start) over HTTPS, with a certificate for
    /// `localhost` and 127.0.0.1 signed by a new CA ([`Self::ca_pem`]),
    /// which clients must be told to trust.
    pub fn start_tls(root: &Path, account: Option<(&str, &str)>) -> Self {
        let serving =
            crate::control_plane::certs::serving("static-http", &["localhost"], &["127.0.0.1"]);
        use rustls::pki_types::pem::PemObject;
        let _ = rustls::crypto::ring::default_provider().install_default();
        let cert = rustls::pki_types::CertificateDer::pem_slice_iter(serving.cert_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .expect("the serving certificate parses");
        let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(serving.key_pem.as_bytes())
            .expect("the serving key parses");
        let config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(cert, key)
            .expect("a TLS server configuration");
        let mut server = Self::start_with(root, account, Some(Arc::new(config)));
        server.ca_pem = Some(serving.ca_pem);
        server
    }

    fn start_with(
        root: &Path,
        account: Option<(&str, &str)>,
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(AtomicUsize::new(0));
        let root = root.to_owned();
        let token = account.map(|(u, p)| base64(format!("{u}:{p}").as_bytes()));
        let (stopped, counted) = (stop.clone(), requests.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                counted.fetch_add(1, Ordering::SeqCst);
                let (root, token, tls) = (root.clone(), token.clone(), tls.clone());
                std::thread::spawn(move || {
                    let _ = match tls {
                        None => serve(stream, &root, token.as_deref()),
                        Some(config) => rustls::ServerConnection::new(config)
                            .map_err(std::io::Error::other)
                            .and_then(|conn| {
                                let mut tls = rustls::StreamOwned::new(conn, stream);
                                serve(&mut tls, &root, token.as_deref())?;
                                tls.conn.send_close_notify();
                                tls.flush()
                            }),
                    };
                });
            }
        });
        Self {
            port,
            ca_pem: None,
            stop,
            requests,
        }
    }

    /// The URL of `path` under the root (`https://localhost:...` when
    /// serving HTTPS: the certificate names it).
    pub fn url(&self, path: &str) -> String {
        match self.ca_pem {
            Some(_) => format!("https://localhost:{}/{path}", self.port),
            None => format!("http://127.0.0.1:{}/{path}", self.port),
        }
    }

    /// How many requests have come in so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for StaticHttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve(mut out: impl Read + Write, root: &Path, token: Option<&str>) -> std::io::Result<()> {
    // A GET has no body: once the headers are read, what the reader
    // buffered beyond them does not matter.
    let mut reader = BufReader::new(&mut out);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let target = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_owned();
    let mut auth = None;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':')
            && k.trim().eq_ignore_ascii_case("authorization")
        {
            auth = Some(v.trim().to_owned());
        }
    }
    drop(reader);
    if let Some(token) = token
        && auth.as_deref().and_then(|a| a.strip_prefix("Basic ")) != Some(token)
    {
        out.write_all(b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"charts\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?;
        return out.flush();
    }
    let path = target.split('?').next().unwrap_or("/");
    let file: PathBuf = root.join(path.trim_start_matches('/'));
    let inside = !path.split('/').any(|p| p == "..");
    match std::fs::read(&file) {
        Ok(body) if inside && file.is_file() => {
            write!(
                out,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            out.write_all(&body)?;
        }
        _ => out.write_all(
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        )?,
    }
    out.flush()
}
