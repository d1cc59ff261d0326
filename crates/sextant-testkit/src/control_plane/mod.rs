//! A real Kubernetes control plane for tests: etcd, kube-apiserver and
//! kube-controller-manager built from the Go modules in `tools/` (see
//! `binaries.rs`), each on loopback ports picked at run time, with a temp
//! data folder, generated certificates and an admin bearer token in
//! `system:masters`. [`ControlPlane::start`] returns once the API server is
//! ready and kube-controller-manager acts; dropping the handle (also when
//! a test panics) kills the processes and removes the folder. A watchdog
//! shell does the same if the test process dies without unwinding.
//!
//! There is no kubelet and no scheduler: attach one with
//! [`ControlPlane::attach`] (localkube's `StandIn`, which lives in a crate
//! this one does not depend on).

mod binaries;
pub mod certs;
mod process;

use std::any::Any;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub use binaries::{folder as binaries_folder, workspace_root};
use process::Proc;

/// The controllers kube-controller-manager runs. Not the Node lifecycle
/// (the stand-in's Nodes send no heartbeats) nor volume binding (the
/// stand-in provisions claims itself).
pub const CONTROLLERS: &str = "deployment-controller,replicaset-controller,statefulset-controller,\
daemonset-controller,job-controller,cronjob-controller,garbage-collector-controller,\
namespace-controller,serviceaccount-controller,serviceaccount-token-controller,\
endpoints-controller,endpointslice-controller,endpointslice-mirroring-controller,\
disruption-controller,ttl-after-finished-controller,root-ca-certificate-publisher-controller,\
replicationcontroller-controller,resourcequota-controller,clusterrole-aggregation-controller,\
pod-garbage-collector-controller,persistentvolume-protection-controller,\
persistentvolumeclaim-protection-controller";

/// A running control plane.
pub struct ControlPlane {
    url: String,
    kubeconfig: PathBuf,
    token: String,
    attached: Vec<Box<dyn Any + Send>>,
    // Dropped in reverse start order by `Drop`.
    procs: Vec<Proc>,
    watchdog: Option<std::process::Child>,
    dir: Option<tempfile::TempDir>,
    root: PathBuf,
}

/// Free loopback ports, held until all are picked so none repeats.
fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind a loopback port"))
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().expect("a bound address").port())
        .collect()
}

impl ControlPlane {
    /// Start in a fresh temp folder.
    pub async fn start() -> ControlPlane {
        let dir = tempfile::Builder::new()
            .prefix("sextant-control-plane")
            .tempdir()
            .expect("create a temp folder");
        let root = dir.path().to_path_buf();
        let mut cp = Self::start_in(&root).await;
        cp.dir = Some(dir);
        cp
    }

    /// Start with its data in `root` (created; left in place on drop: the
    /// caller owns it). `scripts/control-plane.sh up` uses this.
    pub async fn start_in(root: &Path) -> ControlPlane {
        let bin = binaries::folder();
        let m = certs::write(&root.join("pki"));
        let ports = free_ports(3);
        let (etcd_port, peer_port, api_port) = (ports[0], ports[1], ports[2]);
        let url = format!("https://127.0.0.1:{api_port}");
        let mut procs = Vec::new();

        let etcd_url = format!("http://127.0.0.1:{etcd_port}");
        let peer_url = format!("http://127.0.0.1:{peer_port}");
        let etcd_data = root.join("etcd");
        procs.push(Proc::spawn(
            &bin.join("etcd"),
            &[
                "--name=default".into(),
                format!("--data-dir={}", etcd_data.display()),
                format!("--listen-client-urls={etcd_url}"),
                format!("--advertise-client-urls={etcd_url}"),
                format!("--listen-peer-urls={peer_url}"),
                format!("--initial-advertise-peer-urls={peer_url}"),
                format!("--initial-cluster=default={peer_url}"),
                "--unsafe-no-fsync".into(),
                "--log-level=warn".into(),
            ],
            &root.join("etcd.log"),
        ));

        let p = |f: &Path| f.display().to_string();
        procs.push(Proc::spawn(
            &bin.join("kube-apiserver"),
            &[
                format!("--etcd-servers={etcd_url}"),
                format!("--secure-port={api_port}"),
                "--bind-address=127.0.0.1".into(),
                "--advertise-address=127.0.0.1".into(),
                format!("--cert-dir={}", p(&root.join("pki"))),
                format!("--tls-cert-file={}", p(&m.serving_cert)),
                format!("--tls-private-key-file={}", p(&m.serving_key)),
                format!("--client-ca-file={}", p(&m.ca_file)),
                format!("--token-auth-file={}", p(&m.token_file)),
                "--authorization-mode=RBAC".into(),
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local".into(),
                format!("--service-account-key-file={}", p(&m.sa_pub)),
                format!("--service-account-signing-key-file={}", p(&m.sa_key)),
                "--service-cluster-ip-range=10.96.0.0/16".into(),
                // Loopback addresses are not valid Endpoints: nothing would
                // be written but errors.
                "--endpoint-reconciler-type=none".into(),
                "--profiling=false".into(),
            ],
            &root.join("kube-apiserver.log"),
        ));

        let kubeconfig = root.join("kubeconfig");
        write(
            &kubeconfig,
            &certs::kubeconfig(&url, &m.ca_pem, "admin", &m.admin_token),
        );
        let kcm_kubeconfig = root.join("kube-controller-manager.kubeconfig");
        write(
            &kcm_kubeconfig,
            &certs::kubeconfig(&url, &m.ca_pem, "kube-controller-manager", &m.kcm_token),
        );
        let mut cp = ControlPlane {
            url,
            kubeconfig,
            token: m.admin_token.clone(),
            attached: Vec::new(),
            procs,
            watchdog: None,
            dir: None,
            root: root.to_path_buf(),
        };
        cp.arm_watchdog();
        let client = cp.wait_ready().await;

        cp.procs.push(Proc::spawn(
            &bin.join("kube-controller-manager"),
            &[
                format!("--kubeconfig={}", p(&kcm_kubeconfig)),
                format!("--controllers={CONTROLLERS}"),
                "--leader-elect=false".into(),
                "--use-service-account-credentials=false".into(),
                "--secure-port=0".into(),
                format!("--root-ca-file={}", p(&m.ca_file)),
                format!("--service-account-private-key-file={}", p(&m.sa_key)),
                "--kube-api-qps=200".into(),
                "--kube-api-burst=400".into(),
                "--concurrent-deployment-syncs=10".into(),
                "--concurrent-replicaset-syncs=10".into(),
                "--concurrent-gc-syncs=20".into(),
                "--profiling=false".into(),
            ],
            &root.join("kube-controller-manager.log"),
        ));
        cp.arm_watchdog();
        cp.wait_controllers(&client).await;
        cp
    }

    /// The API server's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The admin kubeconfig (bearer token in `system:masters`).
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// The admin's bearer token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The data folder (certificates, etcd data, the processes' logs).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The process ids of etcd, kube-apiserver and kube-controller-manager.
    pub fn pids(&self) -> Vec<u32> {
        self.procs.iter().map(Proc::id).collect()
    }

    /// Keep `guard` alive as long as the control plane, dropping it first
    /// (e.g. the kubelet stand-in, so it stops before its API server).
    pub fn attach(&mut self, guard: impl Any + Send) {
        self.attached.push(Box::new(guard));
    }

    /// A kube-rs client as the admin.
    pub async fn client(&self) -> kube::Client {
        let kc =
            kube::config::Kubeconfig::read_from(&self.kubeconfig).expect("read the kubeconfig");
        let config = kube::Config::from_custom_kubeconfig(kc, &Default::default())
            .await
            .expect("a client configuration from the kubeconfig");
        kube::Client::try_from(config).expect("a kube client")
    }

    /// (Re)start the shell that kills the processes if this one dies.
    fn arm_watchdog(&mut self) {
        if let Some(mut w) = self.watchdog.take() {
            let _ = w.kill();
            let _ = w.wait();
        }
        let pids: Vec<String> = self.pids().iter().map(u32::to_string).collect();
        let script = "p=$1; shift; while kill -0 \"$p\" 2>/dev/null; do sleep 1; done; kill -9 \"$@\" 2>/dev/null";
        self.watchdog = std::process::Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg("sextant-control-plane-watchdog")
            .arg(std::process::id().to_string())
            .args(&pids)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .ok();
    }

    fn fail(&self, what: &str) -> ! {
        let mut report = format!("control plane in {}: {what}\n", self.root.display());
        for log in [
            "etcd.log",
            "kube-apiserver.log",
            "kube-controller-manager.log",
        ] {
            let text = std::fs::read_to_string(self.root.join(log)).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(15).collect();
            report.push_str(&format!("--- last lines of {log}:\n"));
            for l in tail.into_iter().rev() {
                report.push_str(l);
                report.push('\n');
            }
        }
        panic!("{report}");
    }

    async fn wait_ready(&mut self) -> kube::Client {
        let client = self.client().await;
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(dead) = self.procs.iter_mut().find_map(Proc::exited) {
                self.fail(&format!("{dead} before the API server was ready"));
            }
            let req = http::Request::get("/readyz")
                .body(Vec::new())
                .expect("a request");
            if let Ok(text) = client.request_text(req).await
                && text.trim() == "ok"
            {
                return client;
            }
            if Instant::now() > deadline {
                self.fail("kube-apiserver was not ready within 120 s");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// kube-controller-manager acts once the `default` ServiceAccount of
    /// the `default` namespace exists.
    async fn wait_controllers(&mut self, client: &kube::Client) {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(dead) = self.procs.iter_mut().find_map(Proc::exited) {
                self.fail(&format!("{dead} before the controllers started"));
            }
            let req = http::Request::get("/api/v1/namespaces/default/serviceaccounts/default")
                .body(Vec::new())
                .expect("a request");
            if client.request_text(req).await.is_ok() {
                return;
            }
            if Instant::now() > deadline {
                self.fail("kube-controller-manager made no ServiceAccount within 120 s");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        self.attached.clear();
        while let Some(p) = self.procs.pop() {
            drop(p);
        }
        if let Some(mut w) = self.watchdog.take() {
            let _ = w.kill();
            let _ = w.wait();
        }
    }
}
