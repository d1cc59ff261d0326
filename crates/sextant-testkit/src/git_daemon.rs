//! `git daemon` for git:// URLs.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::git_command;

/// `git daemon` serving `base` on a free loopback port.
pub struct GitDaemon {
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    child: Child,
}

impl GitDaemon {
    /// Serve every repository under `base` (retrying on another port when
    /// the one picked was taken meanwhile).
    pub fn start(base: &Path) -> Self {
        for _ in 0..20 {
            let port = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let mut child = git_command(base)
                .args([
                    "daemon",
                    "--reuseaddr",
                    "--export-all",
                    "--listen=127.0.0.1",
                    &format!("--port={port}"),
                    &format!("--base-path={}", base.display()),
                ])
                .arg(base)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("git daemon starts");
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    // Someone else may have taken the port after we let it
                    // go: then the daemon fails to bind and exits.
                    std::thread::sleep(Duration::from_millis(100));
                    if let Ok(None) = child.try_wait() {
                        return Self { port, child };
                    }
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("git daemon did not start");
    }

    /// The URL of the repository at `path` under the base.
    pub fn url(&self, path: &str) -> String {
        format!("git://127.0.0.1:{}/{path}", self.port)
    }
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
