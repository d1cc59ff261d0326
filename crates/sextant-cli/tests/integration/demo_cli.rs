//! The real `sextant demo`: it starts localkube, the sample repository, the
//! Applications and the controller, prints the kubeconfig and "ready" once
//! every app is Synced and Healthy, and stops cleanly on Ctrl-C (SIGINT).
//! With `SEXTANT_TEST_CLUSTER=real` the demo runs against a real control
//! plane (sextant-testkit, with localkube's kubelet stand-in) through
//! `--kubeconfig` instead of starting localkube.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The apps of the sample repository and the Deployment each runs:
/// (Application, namespace, Deployment).
const APPS: &[(&str, &str, &str)] = &[
    ("payments", "payments", "payments"),
    ("checkout", "checkout", "checkout"),
    ("frontend", "frontend", "frontend"),
    ("infrastructure", "monitoring", "prometheus"),
];

/// Whether the tests run against a real control plane.
fn real() -> bool {
    std::env::var("SEXTANT_TEST_CLUSTER").is_ok_and(|v| v == "real")
}

/// The real control plane of the profile (None on localkube's), with the
/// kubelet stand-in attached.
struct RealCluster {
    plane: Option<sextant_testkit::ControlPlane>,
    runtime: tokio::runtime::Runtime,
}

impl RealCluster {
    fn start() -> Option<RealCluster> {
        if !real() {
            return None;
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let plane = runtime.block_on(async {
            let mut plane = sextant_testkit::ControlPlane::start().await;
            // The demo's localkube runs Pods with these delays.
            let simulation = localkube::controllers::SimulationConfig {
                pod_start_delay: Duration::from_secs(1),
                pod_ready_delay: Duration::from_secs(1),
                ..Default::default()
            };
            let stand_in =
                localkube::controllers::StandIn::start(plane.kubeconfig(), simulation).unwrap();
            plane.attach(stand_in);
            plane
        });
        Some(RealCluster {
            plane: Some(plane),
            runtime,
        })
    }

    fn kubeconfig(&self) -> String {
        let plane = self.plane.as_ref().unwrap();
        plane.kubeconfig().to_str().unwrap().to_owned()
    }
}

impl Drop for RealCluster {
    fn drop(&mut self) {
        let _inside = self.runtime.enter();
        drop(self.plane.take());
    }
}

/// A running `sextant demo` whose stdout lines arrive on a channel.
struct Demo {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    stderr: PathBuf,
}

impl Demo {
    fn start(args: &[&str], tmp: &Path) -> Demo {
        let stderr = tmp.join("demo.stderr");
        let mut child = Command::new(env!("CARGO_BIN_EXE_sextant"))
            .arg("demo")
            .args(["--server-listen", "127.0.0.1:0"])
            .args(args)
            .env("TMPDIR", tmp)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Demo {
            child,
            lines,
            seen: Vec::new(),
            stderr,
        }
    }

    /// Read lines until one satisfies `done`; fail after `limit`.
    fn read_until(&mut self, limit: Duration, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    assert!(
                        !line.starts_with("not ready after"),
                        "the apps did not become ready:\n{}",
                        self.transcript()
                    );
                    if done(&line) {
                        return line;
                    }
                }
                Err(e) => panic!("no expected line ({e}); so far:\n{}", self.transcript()),
            }
        }
    }

    /// The value after `key: ` on a line read so far.
    fn value(&self, key: &str) -> String {
        let prefix = format!("{key}: ");
        self.seen
            .iter()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("no `{key}:` line in:\n{}", self.transcript()))
            .trim()
            .to_owned()
    }

    fn transcript(&self) -> String {
        format!(
            "--- stdout\n{}\n--- stderr\n{}",
            self.seen.join("\n"),
            std::fs::read_to_string(&self.stderr).unwrap_or_default()
        )
    }

    /// SIGINT, as Ctrl-C sends, then wait for the exit.
    fn interrupt(mut self) -> (std::process::ExitStatus, String) {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let start = Instant::now();
        let code = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if start.elapsed() > Duration::from_secs(60) {
                let _ = self.child.kill();
                panic!("did not stop on SIGINT:\n{}", self.transcript());
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.seen.push(line);
        }
        (code, self.transcript())
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn kubectl_json(kubeconfig: &str, home: &Path, args: &[&str]) -> Value {
    let out = Command::new("kubectl")
        .args(args)
        .args(["-o", "json"])
        .env("KUBECONFIG", kubeconfig)
        .env("HOME", home)
        .output()
        .expect("kubectl runs");
    assert!(
        out.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn wait_until(limit: Duration, what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn demo_brings_every_app_to_synced_and_healthy_and_stops_on_ctrl_c() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    let cluster = RealCluster::start();
    let mut args = vec!["--dir".to_owned(), dir.to_str().unwrap().to_owned()];
    if let Some(c) = &cluster {
        args.extend(["--kubeconfig".to_owned(), c.kubeconfig()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut demo = Demo::start(&args, tmp.path());
    demo.read_until(Duration::from_secs(60), |l| l.starts_with("kubeconfig: "));
    demo.read_until(Duration::from_secs(300), |l| l.starts_with("ready:"));
    let kubeconfig = demo.value("kubeconfig");
    match &cluster {
        Some(c) => assert_eq!(
            Path::new(&kubeconfig),
            Path::new(&c.kubeconfig()).canonicalize().unwrap()
        ),
        None => assert_eq!(
            Path::new(&kubeconfig),
            dir.canonicalize().unwrap().join("kubeconfig")
        ),
    }
    let repo = demo.value("repository");
    assert!(repo.contains("/gitops (branch main, commit "), "{repo}");

    // The API server: its URL and the admin password are printed, and
    // `sextant login` / `sextant account get` work with them.
    let server = demo.value("server");
    let url = server.split_whitespace().next().unwrap().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{server}");
    let password = demo
        .seen
        .iter()
        .find_map(|l| l.trim().strip_prefix("admin password: "))
        .unwrap_or_else(|| panic!("no admin password in:\n{}", demo.transcript()))
        .to_owned();
    let sextant = |args: &[&str], stdin: Option<&str>| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sextant"))
            .args(args)
            .env("SEXTANT_CONFIG", tmp.path().join("cli.json"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(text) = stdin {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "sextant {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let said = sextant(&["login", &url, "--password-stdin"], Some(&password));
    assert!(said.contains("logged in"), "{said}");
    let me = sextant(&["account", "get"], None);
    assert!(me.contains("name:         admin"), "{me}");
    let versions = sextant(&["version"], None);
    assert!(versions.starts_with("sextant: "), "{versions}");
    assert!(
        versions.contains(&format!("\nserver: {} ({url}", env!("CARGO_PKG_VERSION"))),
        "{versions}"
    );

    let apps = kubectl_json(
        &kubeconfig,
        tmp.path(),
        &["get", "applications", "-n", "sextant"],
    );
    let items = apps["items"].as_array().unwrap();
    for (name, _, _) in APPS {
        let app = items
            .iter()
            .find(|a| a["metadata"]["name"] == *name)
            .unwrap_or_else(|| panic!("no Application {name}: {apps:#}"));
        assert_eq!(app["status"]["sync"]["status"], "Synced", "{name}: {app:#}");
        assert_eq!(
            app["status"]["health"]["status"], "Healthy",
            "{name}: {app:#}"
        );
    }
    // The services come from the ApplicationSet demo-services, which
    // lists them in its status; infrastructure is an Application of its own.
    for app in items {
        let name = app["metadata"]["name"].as_str().unwrap();
        let owner = app["metadata"]["ownerReferences"][0]["name"].as_str();
        let want = (name != "infrastructure").then_some("demo-services");
        assert_eq!(owner, want, "{name}: {app:#}");
    }
    let set = kubectl_json(
        &kubeconfig,
        tmp.path(),
        &["get", "applicationsets", "demo-services", "-n", "sextant"],
    );
    let listed: Vec<&str> = set["status"]["resources"]
        .as_array()
        .unwrap_or_else(|| panic!("no resources in the set's status: {set:#}"))
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert_eq!(listed, ["checkout", "frontend", "payments"], "{set:#}");
    for (name, namespace, deployment) in APPS {
        let d = kubectl_json(
            &kubeconfig,
            tmp.path(),
            &["get", "deployment", deployment, "-n", namespace],
        );
        assert_eq!(
            d["status"]["availableReplicas"], d["spec"]["replicas"],
            "{name}: {d:#}"
        );
    }

    // What the demo suggests trying. 1: a commit is synced.
    let repo = dir.join("gitops");
    let file = repo.join("clusters/demo/apps/payments/deployment.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("replicas: 2"), "{text}");
    std::fs::write(&file, text.replace("replicas: 2", "replicas: 3")).unwrap();
    let out = Command::new("git")
        .args(["commit", "-q", "-am", "payments: 3 replicas"])
        .current_dir(&repo)
        .env("HOME", tmp.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let replicas = || {
        kubectl_json(
            &kubeconfig,
            tmp.path(),
            &["get", "deployment", "payments", "-n", "payments"],
        )["spec"]["replicas"]
            .as_i64()
    };
    wait_until(Duration::from_secs(120), "the commit to be synced", || {
        replicas() == Some(3)
    });
    // 2: a change in the cluster is reverted by self-heal.
    let out = Command::new("kubectl")
        .args([
            "scale",
            "deployment",
            "payments",
            "-n",
            "payments",
            "--replicas=5",
        ])
        .env("KUBECONFIG", &kubeconfig)
        .env("HOME", tmp.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_until(
        Duration::from_secs(120),
        "self-heal to revert the scale",
        || replicas() == Some(3),
    );

    let (code, transcript) = demo.interrupt();
    assert!(
        code.success(),
        "clean exit on Ctrl-C: {code:?}\n{transcript}"
    );
    assert!(transcript.contains("sextant demo: kept"), "{transcript}");
    assert!(
        dir.join("gitops/.git").is_dir(),
        "--dir keeps the repository"
    );
}

#[test]
fn demo_without_waiting_installs_the_apps_and_removes_its_temporary_folder_on_ctrl_c() {
    let tmp = tempfile::tempdir().unwrap();
    let cluster = RealCluster::start();
    let mut args = vec!["--no-wait".to_owned()];
    if let Some(c) = &cluster {
        args.extend(["--kubeconfig".to_owned(), c.kubeconfig()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut demo = Demo::start(&args, tmp.path());
    let last = demo.read_until(Duration::from_secs(60), |l| l.starts_with("Ctrl-C stops"));
    let kubeconfig = demo.value("kubeconfig");
    // The demo's folder holds the repository (and localkube's kubeconfig).
    let repository = demo.value("repository");
    let folder = Path::new(repository.split(" (").next().unwrap())
        .parent()
        .unwrap()
        .to_owned();
    assert!(
        folder.starts_with(tmp.path().canonicalize().unwrap()),
        "{}",
        folder.display()
    );
    assert!(last.contains(&folder.display().to_string()), "{last}");
    let text = demo.transcript();
    for expected in [
        "export KUBECONFIG=",
        "git commit -am",
        "kubectl scale deployment payments -n payments --replicas=5",
        "nginx:doesnotexist",
        "sextant app get payments",
    ] {
        assert!(text.contains(expected), "`{expected}` in:\n{text}");
    }

    let apps = kubectl_json(
        &kubeconfig,
        tmp.path(),
        &["get", "applications", "-n", "sextant"],
    );
    let mut names: Vec<&str> = apps["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["metadata"]["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["checkout", "frontend", "infrastructure", "payments"]
    );
    let payments = apps["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["metadata"]["name"] == "payments")
        .unwrap();
    let url = payments["spec"]["source"]["repoURL"].as_str().unwrap();
    assert_eq!(url, format!("file://{}/gitops", folder.display()));

    let (code, transcript) = demo.interrupt();
    assert!(
        code.success(),
        "clean exit on Ctrl-C: {code:?}\n{transcript}"
    );
    assert!(
        !folder.exists(),
        "{} removed\n{transcript}",
        folder.display()
    );
}

#[test]
fn demo_without_git_says_what_is_missing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sextant"))
        .args(["demo", "--no-wait"])
        .env("PATH", tmp.path())
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the demo needs the `git` binary on PATH"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "nothing left behind"
    );
}

#[test]
fn demo_with_three_clusters_deploys_each_clusters_folder_to_it() {
    if real() {
        // --clusters starts localkube clusters of its own; the real
        // profile's cluster is reached through --kubeconfig, which it
        // refuses (checked below on localkube).
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    let mut demo = Demo::start(
        &["--dir", dir.to_str().unwrap(), "--clusters", "3"],
        tmp.path(),
    );
    demo.read_until(Duration::from_secs(60), |l| l.starts_with("kubeconfig: "));
    let ready = demo.read_until(Duration::from_secs(300), |l| l.starts_with("ready:"));
    let clusters = demo.value("clusters");
    assert!(
        clusters.starts_with("in-cluster (above), staging at https://127.0.0.1:"),
        "{clusters}"
    );
    assert!(
        demo.transcript().contains("prod-eu at https://127.0.0.1:"),
        "{}",
        demo.transcript()
    );
    // The demo's own apps plus one per extra cluster.
    assert!(ready.contains("apps are Synced and Healthy"), "{ready}");
    let home = tmp.path();
    let kubeconfig = demo.value("kubeconfig");
    let apps = kubectl_json(&kubeconfig, home, &["get", "applications", "-n", "sextant"]);
    let dest = |name: &str| {
        apps["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["metadata"]["name"] == name)
            .map(|a| a["spec"]["destination"]["name"].clone())
    };
    assert_eq!(dest("staging-payments"), Some(json!("staging")));
    assert_eq!(dest("prod-eu-payments"), Some(json!("prod-eu")));
    // The Deployment is in the staging cluster, not in the demo's own.
    let staging = dir.canonicalize().unwrap().join("kubeconfig-staging");
    let deploy = kubectl_json(
        staging.to_str().unwrap(),
        home,
        &["get", "deployment", "payments", "-n", "payments"],
    );
    assert_eq!(deploy["status"]["readyReplicas"], 2);
    assert_eq!(
        deploy["metadata"]["annotations"]["sextant.dev/tracking-id"],
        "staging-payments:apps/Deployment:payments/payments",
        "the staging cluster's copy belongs to the staging app"
    );
    // The demo's own cluster has only its own app's copy.
    let mine = kubectl_json(
        &kubeconfig,
        home,
        &["get", "deployment", "payments", "-n", "payments"],
    );
    assert_eq!(
        mine["metadata"]["annotations"]["sextant.dev/tracking-id"],
        "payments:apps/Deployment:payments/payments"
    );
    let (status, transcript) = demo.interrupt();
    assert!(status.success(), "{transcript}");
}
