//! Files served over HTTP/1.1 on loopback (a Helm chart repository is
//! just that), optionally asking for basic auth, counting the requests so
//! a test can tell whether a cache answered.

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::http_git::base64;

/// A static file server for a folder.
pub struct StaticHttpServer {
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    stop: Arc<AtomicBool>,
    requests: Arc<AtomicUsize>,
}

impl StaticHttpServer {
    /// Serve `root`; with an account, every request must carry it as
    /// basic auth (401 otherwise).
    pub fn start(root: &Path, account: Option<(&str, &str)>) -> Self {
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
                let (root, token) = (root.clone(), token.clone());
                std::thread::spawn(move || {
                    let _ = serve(stream, &root, token.as_deref());
                });
            }
        });
        Self {
            port,
            stop,
            requests,
        }
    }

    /// The URL of `path` under the root.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/{path}", self.port)
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

fn serve(stream: TcpStream, root: &Path, token: Option<&str>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
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
    let mut out = stream;
    if let Some(token) = token
        && auth.as_deref().and_then(|a| a.strip_prefix("Basic ")) != Some(token)
    {
        out.write_all(b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"charts\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?;
        return out.shutdown(Shutdown::Both);
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
    out.flush()?;
    out.shutdown(Shutdown::Both)
}
