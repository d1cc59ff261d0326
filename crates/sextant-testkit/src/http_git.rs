//! Smart HTTP: `git http-backend` as a CGI program behind a minimal
//! HTTP/1.1 server, optionally asking for basic auth.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// `git http-backend` behind a minimal HTTP/1.1 server on loopback,
/// serving the repositories under a root folder. With an account, every
/// request must carry it as basic auth (401 otherwise).
pub struct HttpGitServer {
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    stop: Arc<AtomicBool>,
}

impl HttpGitServer {
    /// Serve `root`; with a token, ask for basic auth `x-access-token:TOKEN`
    /// (what GitHub and others accept for tokens).
    pub fn start(root: &Path, token: Option<&str>) -> Self {
        Self::serve_with(
            root,
            token.map(|t| ("x-access-token".to_owned(), t.to_owned())),
        )
    }

    /// Serve `root`, asking for basic auth `username:password`.
    pub fn with_account(root: &Path, username: &str, password: &str) -> Self {
        Self::serve_with(root, Some((username.to_owned(), password.to_owned())))
    }

    fn serve_with(root: &Path, account: Option<(String, String)>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let root = root.to_owned();
        let token = account.map(|(user, password)| format!("{user}:{password}"));
        let stopped = stop.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let root = root.clone();
                let token = token.clone();
                std::thread::spawn(move || {
                    let _ = serve(stream, &root, token.as_deref());
                });
            }
        });
        Self { port, stop }
    }

    /// The URL of the repository at `path` under the root.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/{path}", self.port)
    }
}

impl Drop for HttpGitServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Answer one request; `account` is the `user:password` basic auth must carry.
fn serve(stream: TcpStream, root: &Path, account: Option<&str>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or("GET").to_owned();
    let target = parts.next().unwrap_or("/").to_owned();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let mut body = Vec::new();
    if let Some(len) = header("content-length") {
        let len: usize = len.parse().unwrap_or(0);
        body.resize(len, 0);
        reader.read_exact(&mut body)?;
    } else if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let size = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16)
                .unwrap_or(0);
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk)?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    }
    let mut out = stream;
    if let Some(account) = account {
        let ok = header("authorization")
            .and_then(|v| v.strip_prefix("Basic ").map(str::to_owned))
            .is_some_and(|b| b == base64(account.as_bytes()));
        if !ok {
            out.write_all(
                b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"git\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            )?;
            return out.shutdown(Shutdown::Both);
        }
    }
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let mut cgi = Command::new("git");
    cgi.arg("http-backend")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GIT_PROJECT_ROOT", root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("REQUEST_METHOD", &method)
        .env("PATH_INFO", path)
        .env("QUERY_STRING", query)
        .env("REMOTE_ADDR", "127.0.0.1")
        .env("CONTENT_LENGTH", body.len().to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(ct) = header("content-type") {
        cgi.env("CONTENT_TYPE", ct);
    }
    if let Some(proto) = header("git-protocol") {
        cgi.env("GIT_PROTOCOL", proto);
    }
    if let Some(enc) = header("content-encoding") {
        cgi.env("HTTP_CONTENT_ENCODING", enc);
    }
    let mut child = cgi.spawn()?;
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&body);
    });
    let mut response = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut response)?;
    let _ = writer.join();
    child.wait()?;
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| (p, 4))
        .or_else(|| {
            response
                .windows(2)
                .position(|w| w == b"\n\n")
                .map(|p| (p, 2))
        });
    let (head, payload) = match split {
        Some((p, n)) => (
            String::from_utf8_lossy(&response[..p]).into_owned(),
            &response[p + n..],
        ),
        None => (String::new(), &response[..]),
    };
    let mut status = "200 OK".to_owned();
    let mut out_headers = String::new();
    for line in head.lines() {
        if let Some(s) = line.strip_prefix("Status:") {
            status = s.trim().to_owned();
        } else if !line.is_empty() {
            out_headers.push_str(line);
            out_headers.push_str("\r\n");
        }
    }
    write!(
        out,
        "HTTP/1.1 {status}\r\n{out_headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
        payload.len()
    )?;
    out.write_all(payload)?;
    out.flush()?;
    out.shutdown(Shutdown::Both)
}

/// Standard base64 with padding (what basic auth carries).
pub fn base64(input: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
