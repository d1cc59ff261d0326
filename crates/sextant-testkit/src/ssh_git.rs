//! An SSH server for Git over SSH in tests: OpenSSH's `sshd` (Debian's
//! openssh-server; `scripts/install-tools.sh` installs it) started on a
//! free loopback port, as the user running the test, with a host key and an
//! authorized client key made for it, serving the repositories under a
//! folder by their absolute paths.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `sshd`.
pub struct SshGitServer {
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    dir: tempfile::TempDir,
    child: Child,
}

/// Where `sshd` is: `$SEXTANT_SSHD`, else Debian's path.
fn sshd() -> PathBuf {
    std::env::var_os("SEXTANT_SSHD")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/sbin/sshd"))
}

fn keygen(path: &Path) {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .status()
        .expect("ssh-keygen runs");
    assert!(status.success(), "ssh-keygen failed");
}

impl SshGitServer {
    /// Start `sshd` (panics, saying what to install, when it cannot).
    pub fn start() -> Self {
        let sshd = sshd();
        assert!(
            sshd.is_file(),
            "{} is missing: run scripts/install-tools.sh (it installs Debian's openssh-server) or set SEXTANT_SSHD",
            sshd.display()
        );
        let dir = tempfile::tempdir().expect("a temporary folder");
        keygen(&dir.path().join("host_key"));
        keygen(&dir.path().join("client_key"));
        std::fs::copy(
            dir.path().join("client_key.pub"),
            dir.path().join("authorized_keys"),
        )
        .expect("authorized_keys");
        let user = std::env::var("USER").unwrap_or_else(|_| "root".into());
        for _ in 0..20 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            let config = dir.path().join("sshd_config");
            std::fs::write(
                &config,
                format!(
                    "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\nAuthorizedKeysFile {d}/authorized_keys\n\
                     PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n\
                     PidFile {d}/sshd.pid\nPermitRootLogin prohibit-password\nAllowUsers {user}\n",
                    d = dir.path().display()
                ),
            )
            .expect("sshd_config");
            let mut child = Command::new(&sshd)
                .args(["-D", "-e", "-f"])
                .arg(&config)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("sshd starts");
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Self { port, dir, child };
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!(
            "sshd did not start (as root it needs /run/sshd: scripts/install-tools.sh makes it)"
        );
    }

    /// The `ssh://` URL of the repository at the absolute `path`.
    pub fn url(&self, path: &Path) -> String {
        let user = std::env::var("USER").unwrap_or_else(|_| "root".into());
        format!("ssh://{user}@127.0.0.1:{}{}", self.port, path.display())
    }

    /// The private key the server accepts.
    pub fn client_key(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("client_key")).expect("the client key")
    }

    /// The `known_hosts` line of the server's host key.
    pub fn known_hosts(&self) -> String {
        let key =
            std::fs::read_to_string(self.dir.path().join("host_key.pub")).expect("the host key");
        let mut parts = key.split_whitespace();
        let (kind, body) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        format!("[127.0.0.1]:{} {kind} {body}\n", self.port)
    }
}

impl Drop for SshGitServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
