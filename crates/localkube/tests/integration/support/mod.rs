//! Test support: the cluster of the test profile and a kubectl runner
//! bound to it. The default profile is an in-process localkube; with
//! `SEXTANT_TEST_CLUSTER=real` it is a real control plane (etcd,
//! kube-apiserver, kube-controller-manager from sextant-testkit) with
//! localkube's kubelet stand-in.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use localkube::{Config, LocalKube};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Whether the tests run against a real control plane.
pub fn real() -> bool {
    std::env::var("SEXTANT_TEST_CLUSTER").is_ok_and(|v| v == "real")
}

/// The cluster a test talks to.
pub enum Server {
    /// localkube in this process, with its simulated controllers.
    Local(LocalKube),
    /// A real control plane with the kubelet stand-in attached.
    Real(sextant_testkit::ControlPlane),
}

impl Server {
    /// Start the cluster of the profile (see the module's doc).
    pub async fn start() -> Server {
        if real() {
            let mut cp = sextant_testkit::ControlPlane::start().await;
            let stand_in = localkube::controllers::StandIn::start(
                cp.kubeconfig(),
                localkube::controllers::SimulationConfig::default(),
            )
            .expect("the kubelet stand-in starts");
            cp.attach(stand_in);
            Server::Real(cp)
        } else {
            Server::Local(
                LocalKube::start(Config::default())
                    .await
                    .expect("localkube starts"),
            )
        }
    }

    /// Its kubeconfig.
    pub fn kubeconfig_path(&self) -> &Path {
        match self {
            Server::Local(l) => l.kubeconfig_path(),
            Server::Real(r) => r.kubeconfig(),
        }
    }

    /// A kube-rs client.
    pub async fn client(&self) -> kube::Client {
        match self {
            Server::Local(l) => l.client().await.expect("a client"),
            Server::Real(r) => r.client().await,
        }
    }
}

/// Start the profile's cluster, with a kubectl bound to it.
pub async fn start() -> (Server, Kubectl) {
    let server = Server::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let kubectl = Kubectl {
        kubeconfig: server.kubeconfig_path().to_path_buf(),
        home: dir,
    };
    (server, kubectl)
}

/// Runs the real kubectl with a private HOME (so its discovery cache is ours).
pub struct Kubectl {
    pub kubeconfig: PathBuf,
    pub home: tempfile::TempDir,
}

impl Kubectl {
    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new("kubectl");
        c.args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("HOME", self.home.path())
            .env_remove("HTTPS_PROXY")
            .env_remove("HTTP_PROXY")
            .kill_on_drop(true);
        c
    }

    /// Write a file in the private directory and return its path.
    pub fn write(&self, name: &str, content: &str) -> String {
        let p = self.home.path().join(name);
        std::fs::write(&p, content).expect("write test file");
        p.to_string_lossy().into_owned()
    }

    /// (exit code, stdout, stderr).
    pub async fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = tokio::time::timeout(Duration::from_secs(60), self.command(args).output())
            .await
            .unwrap_or_else(|_| panic!("kubectl {args:?} timed out"))
            .unwrap_or_else(|e| panic!("could not run kubectl (is it installed?): {e}"));
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Run and require success; returns stdout.
    pub async fn ok(&self, args: &[&str]) -> String {
        self.ok_with_stderr(args).await.0
    }

    /// Run and require success; returns (stdout, stderr).
    pub async fn ok_with_stderr(&self, args: &[&str]) -> (String, String) {
        let (code, out, err) = self.run(args).await;
        assert_eq!(
            code, 0,
            "kubectl {args:?} failed:\nstdout: {out}\nstderr: {err}"
        );
        (out, err)
    }

    /// Run and require failure; returns stderr.
    pub async fn fails(&self, args: &[&str]) -> String {
        let (code, out, err) = self.run(args).await;
        assert_ne!(
            code, 0,
            "kubectl {args:?} should have failed:\nstdout: {out}"
        );
        err
    }

    /// Start a long-running kubectl (e.g. `get --watch`).
    pub fn spawn(&self, args: &[&str]) -> Running {
        let mut child = self
            .command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn kubectl");
        let stdout = child.stdout.take().expect("stdout piped");
        Running {
            _child: child,
            lines: BufReader::new(stdout).lines(),
            seen: Vec::new(),
        }
    }
}

/// A running kubectl whose output is read line by line.
pub struct Running {
    _child: Child,
    lines: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    seen: Vec<String>,
}

impl Running {
    /// Wait for a line matching `pred`.
    pub async fn expect_line(&mut self, pred: impl Fn(&str) -> bool, patience: Duration) {
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            let next = tokio::time::timeout_at(deadline, self.lines.next_line()).await;
            match next {
                Ok(Ok(Some(line))) => {
                    let hit = pred(&line);
                    self.seen.push(line);
                    if hit {
                        return;
                    }
                }
                Ok(Ok(None)) => panic!("kubectl exited; output so far: {:?}", self.seen),
                Ok(Err(e)) => panic!("reading kubectl output: {e}"),
                Err(_) => panic!("no matching line in time; output so far: {:?}", self.seen),
            }
        }
    }
}
