//! Fleet benchmark: the Application controller reconciling many apps.
//!
//! localkube runs as a separate process (the built `sextant localkube`), so
//! the memory of this process is the controller's (plus this harness: a
//! kube client and one watch of the Applications). A Git repository holds
//! `--apps` folders of `--objects` objects each (1 Deployment with 1
//! replica, 1 Service, the rest ConfigMaps with a few small keys); as many
//! Applications (automated, prune, selfHeal, CreateNamespace=true, each its
//! own destination namespace) are created before the controller starts.
//! Measured:
//!
//! - wall time from `Controller::start` until every app reports Synced and
//!   Healthy at the commit (seen through a watch of the Applications);
//! - peak memory (VmHWM) of this process and of the localkube process, the
//!   CPU time each used, and the controller's live cache size;
//! - self-heal latency: `--heal` Deployments (in different apps) are edited
//!   one at a time (strategic merge patch of the image by field manager
//!   `kubectl-edit`, as `kubectl edit` does); from the patch response until
//!   a watch sees the image back at the Git value.
//!
//! ```sh
//! cargo bench -p sextant-cli --bench fleet
//! cargo bench -p sextant-cli --bench fleet -- --apps 50 --objects 10 --json /tmp/fleet.json
//! ```
//!
//! Options (or environment variables): `--apps N` (`FLEET_APPS`, 200),
//! `--objects N` (`FLEET_OBJECTS`, 20, at least 2), `--heal N`
//! (`FLEET_HEAL`, 50), `--self-heal-delay-ms N` (`FLEET_SELF_HEAL_DELAY_MS`,
//! 0; the product default is 5000), `--workers N` (`FLEET_WORKERS`, the
//! controller's default), `--pod-start-ms` / `--pod-ready-ms`
//! (`FLEET_POD_START_MS` / `FLEET_POD_READY_MS`, 100 each),
//! `--no-simulation` (`FLEET_NO_SIMULATION`: localkube without its simulated
//! controllers, so only Synced is waited for), `--timeout-s N`
//! (`FLEET_TIMEOUT_S`, 900), `--json PATH` (`FLEET_JSON`). `SEXTANT_LOG`
//! (an env filter such as `sextant_controller=debug`) turns logging on.
//!
//! `--appset` (`FLEET_APPSET`): instead of creating the Applications, one
//! ApplicationSet with a git directory generator over `apps/*` makes them
//! once the controller runs; the report adds the time until all exist.
//!
//! `--real` (`FLEET_REAL`) runs the same against a real control plane
//! instead of localkube: sextant-testkit's etcd, kube-apiserver and
//! kube-controller-manager (built by `scripts/build-control-plane.sh`,
//! found as the tests find them) with localkube's kubelet stand-in as a
//! child process (`sextant localkube simulate`). The "cluster" figures are
//! then the sums over those four processes (CPU time, and peak RSS as the
//! sum of each process's peak).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmark code: a panic is a failure report"
)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use kube::discovery::ApiResource;
use kube::runtime::watcher::{self, Event};
use serde_json::{Value, json};
use sextant_controller::{Controller, ControllerConfig};
use sextant_model::Application;

const NS: &str = "sextant";

// ----- options -----

#[derive(Debug)]
struct Options {
    apps: usize,
    objects: usize,
    heal: usize,
    self_heal_delay_ms: u64,
    workers: Option<usize>,
    pod_start_ms: u64,
    pod_ready_ms: u64,
    /// localkube without its simulated controllers: no Pods, so
    /// Deployments never become Healthy; only Synced is waited for.
    no_simulation: bool,
    /// A real control plane with the kubelet stand-in instead of localkube.
    real: bool,
    /// One ApplicationSet (git directory generator over `apps/*`) makes
    /// the Applications, once the controller runs.
    appset: bool,
    timeout: Duration,
    json: Option<PathBuf>,
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

impl Options {
    fn parse() -> Self {
        let mut o = Options {
            apps: env_or("FLEET_APPS", 200),
            objects: env_or("FLEET_OBJECTS", 20),
            heal: env_or("FLEET_HEAL", 50),
            self_heal_delay_ms: env_or("FLEET_SELF_HEAL_DELAY_MS", 0),
            workers: std::env::var("FLEET_WORKERS")
                .ok()
                .and_then(|v| v.parse().ok()),
            pod_start_ms: env_or("FLEET_POD_START_MS", 100),
            pod_ready_ms: env_or("FLEET_POD_READY_MS", 100),
            no_simulation: std::env::var_os("FLEET_NO_SIMULATION").is_some(),
            real: std::env::var_os("FLEET_REAL").is_some(),
            appset: std::env::var_os("FLEET_APPSET").is_some(),
            timeout: Duration::from_secs(env_or("FLEET_TIMEOUT_S", 900)),
            json: std::env::var_os("FLEET_JSON").map(PathBuf::from),
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let mut value = |name: &str| -> String {
                args.next()
                    .unwrap_or_else(|| panic!("{name} needs a value"))
            };
            let number = |name: &str, v: String| -> u64 {
                v.parse()
                    .unwrap_or_else(|_| panic!("{name}: not a number: {v}"))
            };
            match arg.as_str() {
                // cargo bench passes --bench to every bench target.
                "--bench" => {}
                "--apps" => o.apps = number("--apps", value("--apps")) as usize,
                "--objects" => o.objects = number("--objects", value("--objects")) as usize,
                "--heal" => o.heal = number("--heal", value("--heal")) as usize,
                "--self-heal-delay-ms" => {
                    o.self_heal_delay_ms = number(&arg, value("--self-heal-delay-ms"))
                }
                "--workers" => o.workers = Some(number(&arg, value("--workers")) as usize),
                "--pod-start-ms" => o.pod_start_ms = number(&arg, value("--pod-start-ms")),
                "--pod-ready-ms" => o.pod_ready_ms = number(&arg, value("--pod-ready-ms")),
                "--no-simulation" => o.no_simulation = true,
                "--real" => o.real = true,
                "--appset" => o.appset = true,
                "--timeout-s" => {
                    o.timeout = Duration::from_secs(number(&arg, value("--timeout-s")))
                }
                "--json" => o.json = Some(PathBuf::from(value("--json"))),
                other => panic!(
                    "unknown option {other}; see the top of crates/sextant-cli/benches/fleet.rs"
                ),
            }
        }
        assert!(o.apps > 0, "--apps must be at least 1");
        assert!(o.objects >= 2, "--objects must be at least 2");
        o.heal = o.heal.min(o.apps);
        assert!(
            !(o.real && o.no_simulation),
            "--no-simulation is for localkube; --real always runs the kubelet stand-in"
        );
        o
    }
}

// ----- /proc readings -----

/// A `kB` field of /proc/PID/status, in MiB.
fn proc_status_mib(pid: &str, field: &str) -> f64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// User + system CPU seconds of a process (clock ticks at 100 Hz, the
/// Linux default).
fn cpu_seconds(pid: &str) -> f64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which is in parentheses.
    let rest = text.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok());
    // utime and stime are fields 14 and 15 of stat; 12 and 13 after ')'.
    (tick(11).unwrap_or(0.0) + tick(12).unwrap_or(0.0)) / 100.0
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

// ----- localkube as a child process -----

struct LocalkubeProcess {
    child: Child,
    kubeconfig: PathBuf,
    url: String,
}

impl LocalkubeProcess {
    fn start(dir: &Path, o: &Options) -> Self {
        let kubeconfig = dir.join("kubeconfig");
        let child = Command::new(env!("CARGO_BIN_EXE_sextant"))
            .arg("localkube")
            .args(["--listen", "127.0.0.1:0", "--kubeconfig"])
            .arg(&kubeconfig)
            .args(["--pod-start-ms", &o.pod_start_ms.to_string()])
            .args(["--pod-ready-ms", &o.pod_ready_ms.to_string()])
            .args(o.no_simulation.then_some("--no-simulation"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("sextant localkube starts");
        // Owned before anything can panic, so the child is always killed.
        let mut me = Self {
            child,
            kubeconfig,
            url: String::new(),
        };
        let stdout = me.child.stdout.take().expect("piped stdout");
        // The banner's last line tells the kubeconfig is written.
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("localkube's stdout is readable");
            if let Some(url) = line.strip_prefix("localkube listening on ") {
                me.url = url.trim().to_owned();
            }
            if line.starts_with("kubeconfig written to") {
                break;
            }
        }
        assert!(
            !me.url.is_empty() && me.kubeconfig.exists(),
            "localkube did not start (see its stderr above)"
        );
        me
    }

    fn pid(&self) -> String {
        self.child.id().to_string()
    }
}

impl Drop for LocalkubeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ----- or a real control plane -----

/// The cluster under the controller: localkube, or a real control plane
/// with the kubelet stand-in in a child process.
enum Cluster {
    Local(LocalkubeProcess),
    Real {
        // Declared first: the stand-in stops before its API server.
        stand_in: StandInProcess,
        plane: sextant_testkit::ControlPlane,
    },
}

struct StandInProcess(Child);

impl Drop for StandInProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Cluster {
    async fn start(dir: &Path, o: &Options) -> Self {
        if !o.real {
            return Cluster::Local(LocalkubeProcess::start(dir, o));
        }
        let plane = sextant_testkit::ControlPlane::start().await;
        let child = Command::new(env!("CARGO_BIN_EXE_sextant"))
            .args(["localkube", "simulate", "--kubeconfig"])
            .arg(plane.kubeconfig())
            .args(["--pod-start-ms", &o.pod_start_ms.to_string()])
            .args(["--pod-ready-ms", &o.pod_ready_ms.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("sextant localkube simulate starts");
        Cluster::Real {
            stand_in: StandInProcess(child),
            plane,
        }
    }

    fn kubeconfig(&self) -> &Path {
        match self {
            Cluster::Local(lk) => &lk.kubeconfig,
            Cluster::Real { plane, .. } => plane.kubeconfig(),
        }
    }

    fn url(&self) -> &str {
        match self {
            Cluster::Local(lk) => &lk.url,
            Cluster::Real { plane, .. } => plane.url(),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Cluster::Local(_) => "localkube",
            Cluster::Real { .. } => "etcd + kube-apiserver + kube-controller-manager + stand-in",
        }
    }

    /// Its processes' ids.
    fn pids(&self) -> Vec<String> {
        match self {
            Cluster::Local(lk) => vec![lk.pid()],
            Cluster::Real { stand_in, plane } => plane
                .pids()
                .into_iter()
                .chain([stand_in.0.id()])
                .map(|p| p.to_string())
                .collect(),
        }
    }
}

/// CPU seconds summed over processes.
fn cpu_sum(pids: &[String]) -> f64 {
    pids.iter().map(|p| cpu_seconds(p)).sum()
}

/// A /proc status field in MiB, summed over processes.
fn mib_sum(pids: &[String], field: &str) -> f64 {
    pids.iter().map(|p| proc_status_mib(p, field)).sum()
}

// ----- the Git repository -----

fn git(repo: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(repo)
        .env("GIT_AUTHOR_NAME", "bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.com")
        .env("GIT_COMMITTER_NAME", "bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.com")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn app_name(i: usize) -> String {
    format!("app-{i:04}")
}

fn image(app: &str) -> String {
    format!("registry.example.com/team/{app}:1.4.2")
}

fn deployment_yaml(app: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app.kubernetes.io/name: web
    app.kubernetes.io/part-of: {app}
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: web
  template:
    metadata:
      labels:
        app.kubernetes.io/name: web
        app.kubernetes.io/part-of: {app}
    spec:
      containers:
      - name: main
        image: {image}
        ports:
        - name: http
          containerPort: 8080
        env:
        - name: APP_NAME
          value: {app}
        - name: LOG_LEVEL
          value: info
        envFrom:
        - configMapRef:
            name: web-config-01
        resources:
          requests:
            cpu: 50m
            memory: 64Mi
          limits:
            memory: 128Mi
        readinessProbe:
          httpGet:
            path: /healthz
            port: http
",
        image = image(app)
    )
}

fn service_yaml(app: &str) -> String {
    format!(
        "apiVersion: v1
kind: Service
metadata:
  name: web
  labels:
    app.kubernetes.io/name: web
    app.kubernetes.io/part-of: {app}
spec:
  selector:
    app.kubernetes.io/name: web
  ports:
  - name: http
    port: 80
    targetPort: http
"
    )
}

fn configmap_yaml(app: &str, n: usize) -> String {
    format!(
        "apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config-{n:02}
  labels:
    app.kubernetes.io/name: web
    app.kubernetes.io/part-of: {app}
data:
  LOG_FORMAT: json
  FEATURE_FLAGS: \"search,checkout-v2,recommendations\"
  CACHE_TTL_SECONDS: \"{ttl}\"
  UPSTREAM_URL: http://{app}-upstream.internal:8080/api/v{n}
  application.properties: |
    server.port=8080
    server.shutdown=graceful
    app.name={app}
    app.section={n}
    spring.datasource.url=jdbc:postgresql://db.internal:5432/{app}
    spring.datasource.hikari.maximum-pool-size=10
    management.endpoints.web.exposure.include=health,info,prometheus
    logging.level.root=INFO
",
        ttl = 60 * n
    )
}

/// Write the repository; returns (commit, files written).
fn make_repo(repo: &Path, o: &Options) -> (String, usize) {
    std::fs::create_dir_all(repo).unwrap();
    git(repo, &["init", "-q", "-b", "main"]);
    let mut files = 0;
    for i in 0..o.apps {
        let app = app_name(i);
        let dir = repo.join("apps").join(&app);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("deployment.yaml"), deployment_yaml(&app)).unwrap();
        std::fs::write(dir.join("service.yaml"), service_yaml(&app)).unwrap();
        files += 2;
        for n in 1..=o.objects - 2 {
            std::fs::write(
                dir.join(format!("config-{n:02}.yaml")),
                configmap_yaml(&app, n),
            )
            .unwrap();
            files += 1;
        }
    }
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "-m", "fleet"]);
    (git(repo, &["rev-parse", "HEAD"]), files)
}

// ----- cluster setup -----

fn resource(api_version: &str, kind: &str, plural: &str) -> ApiResource {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    ApiResource {
        group: group.into(),
        version: version.into(),
        api_version: api_version.into(),
        kind: kind.into(),
        plural: plural.into(),
    }
}

async fn install(client: &kube::Client, repo: &Path, o: &Options) {
    let crds: Api<DynamicObject> = Api::all_with(
        client.clone(),
        &resource(
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            "customresourcedefinitions",
        ),
    );
    for crd in sextant_model::crd::all() {
        let obj: DynamicObject = serde_json::from_value(crd).unwrap();
        crds.create(&PostParams::default(), &obj).await.unwrap();
    }
    // A real API server serves a CRD's kind only once it is Established.
    for crd in sextant_model::crd::all() {
        let name = crd["metadata"]["name"].as_str().unwrap().to_owned();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let v = serde_json::to_value(crds.get(&name).await.unwrap()).unwrap();
            let established = v["status"]["conditions"].as_array().is_some_and(|cs| {
                cs.iter()
                    .any(|c| c["type"] == "Established" && c["status"] == "True")
            });
            if established {
                break;
            }
            assert!(Instant::now() < deadline, "CRD {name} was not established");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let nss: Api<DynamicObject> =
        Api::all_with(client.clone(), &resource("v1", "Namespace", "namespaces"));
    let ns: DynamicObject = serde_json::from_value(
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}),
    )
    .unwrap();
    nss.create(&PostParams::default(), &ns).await.unwrap();
    let apps: Api<Application> = Api::namespaced(client.clone(), NS);
    let repo_url = format!("file://{}", repo.display());
    if o.appset {
        let sets: Api<sextant_model::ApplicationSet> = Api::namespaced(client.clone(), NS);
        let set = serde_json::from_value(json!({
            "apiVersion": "sextant.dev/v1alpha1",
            "kind": "ApplicationSet",
            "metadata": {"name": "fleet", "namespace": NS},
            "spec": {
                "generators": [{"git": {"repoURL": repo_url, "revision": "main", "directories": [{"path": "apps/*"}]}}],
                "template": {
                    "metadata": {"name": "{{path.basename}}"},
                    "spec": {
                        "project": "default",
                        "source": {"repoURL": repo_url, "path": "{{path}}", "targetRevision": "main"},
                        "destination": {"server": "https://kubernetes.default.svc", "namespace": "{{path.basename}}"},
                        "syncPolicy": {
                            "automated": {"prune": true, "selfHeal": true},
                            "syncOptions": ["CreateNamespace=true"],
                        },
                    },
                },
            },
        }))
        .unwrap();
        sets.create(&PostParams::default(), &set).await.unwrap();
        return;
    }
    futures::stream::iter(0..o.apps)
        .map(|i| {
            let apps = apps.clone();
            let name = app_name(i);
            let app: Application = serde_json::from_value(json!({
                "apiVersion": "sextant.dev/v1alpha1",
                "kind": "Application",
                "metadata": {"name": name, "namespace": NS},
                "spec": {
                    "project": "default",
                    "source": {"repoURL": repo_url, "path": format!("apps/{name}"), "targetRevision": "main"},
                    "destination": {"server": "https://kubernetes.default.svc", "namespace": name},
                    "syncPolicy": {
                        "automated": {"prune": true, "selfHeal": true},
                        "syncOptions": ["CreateNamespace=true"],
                    },
                }
            }))
            .unwrap();
            async move { apps.create(&PostParams::default(), &app).await.map(|_| ()) }
        })
        .buffer_unordered(16)
        .try_collect::<Vec<()>>()
        .await
        .unwrap();
}

// ----- watching the Applications -----

#[derive(Clone, Debug, Default)]
struct AppView {
    compared: bool,
    synced: bool,
    healthy: bool,
    history: usize,
}

impl AppView {
    fn done(&self) -> bool {
        self.synced && self.healthy
    }
}

#[derive(Debug, Default)]
struct Fleet {
    apps: HashMap<String, AppView>,
    /// When each app was first Synced+Healthy at the commit.
    first_done: HashMap<String, Duration>,
    /// When the first app reported any comparison (after the first
    /// render, which checks the commit out).
    first_status: Option<Duration>,
    all_synced: Option<Duration>,
    all_done: Option<Duration>,
    /// When every expected Application existed (made by an ApplicationSet).
    all_exist: Option<Duration>,
    started: Option<Instant>,
    /// Without the simulation nothing becomes Healthy: count Synced only.
    synced_only: bool,
}

fn view(app: &Application, commit: &str) -> AppView {
    let st = app.status.as_ref();
    let sync = st.and_then(|s| s.sync.as_ref());
    AppView {
        compared: sync.is_some_and(|s| !s.status.is_empty()),
        synced: sync.is_some_and(|s| s.status == "Synced" && s.revision.as_deref() == Some(commit)),
        healthy: st
            .and_then(|s| s.health.as_ref())
            .is_some_and(|h| h.status == "Healthy"),
        history: st.and_then(|s| s.history.as_ref()).map_or(0, Vec::len),
    }
}

impl Fleet {
    fn update(&mut self, app: &Application, commit: &str, expected: usize) {
        let name = app.metadata.name.clone().unwrap_or_default();
        let mut v = view(app, commit);
        if self.synced_only {
            v.healthy = true;
        }
        if let Some(t0) = self.started {
            let now = t0.elapsed();
            if v.compared && self.first_status.is_none() {
                self.first_status = Some(now);
            }
            if v.done() {
                self.first_done.entry(name.clone()).or_insert(now);
            }
            self.apps.insert(name, v);
            if self.apps.len() == expected && self.all_exist.is_none() {
                self.all_exist = Some(now);
            }
            if self.apps.len() == expected {
                if self.all_synced.is_none() && self.apps.values().all(|a| a.synced) {
                    self.all_synced = Some(now);
                }
                if self.all_done.is_none() && self.apps.values().all(AppView::done) {
                    self.all_done = Some(now);
                }
            }
        } else {
            self.apps.insert(name, v);
        }
    }

    fn counts(&self) -> (usize, usize, usize) {
        let synced = self.apps.values().filter(|a| a.synced).count();
        let healthy = self.apps.values().filter(|a| a.healthy).count();
        let done = self.apps.values().filter(|a| a.done()).count();
        (synced, healthy, done)
    }
}

/// Watch the Applications into `fleet`; `ready` is set once the first
/// listing is in.
fn watch_fleet(
    client: kube::Client,
    fleet: Arc<Mutex<Fleet>>,
    commit: String,
    expected: usize,
) -> (
    tokio::task::JoinHandle<()>,
    tokio::sync::watch::Receiver<bool>,
) {
    let (ready_tx, ready_rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(async move {
        let api: Api<Application> = Api::namespaced(client, NS);
        let mut stream = watcher::watcher(api, watcher::Config::default()).boxed();
        while let Some(event) = stream.next().await {
            match event {
                Ok(Event::InitApply(app)) | Ok(Event::Apply(app)) => {
                    fleet.lock().unwrap().update(&app, &commit, expected);
                }
                Ok(Event::InitDone) => {
                    ready_tx.send_replace(true);
                }
                Ok(Event::Init) | Ok(Event::Delete(_)) => {}
                Err(e) => eprintln!("fleet: watching Applications: {e}; retrying"),
            }
        }
    });
    (task, ready_rx)
}

/// How many Events of each reason the controller recorded on the apps.
async fn event_reasons(client: &kube::Client) -> std::collections::BTreeMap<String, usize> {
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), NS, &resource("v1", "Event", "events"));
    let mut out = std::collections::BTreeMap::new();
    for e in api.list(&Default::default()).await.unwrap().items {
        let reason = e.data["reason"].as_str().unwrap_or_default().to_owned();
        *out.entry(reason).or_insert(0) += 1;
    }
    out
}

/// How many apps have each history length (syncs that succeeded).
fn history_lengths(fleet: &Fleet) -> std::collections::BTreeMap<usize, usize> {
    let mut out = std::collections::BTreeMap::new();
    for a in fleet.apps.values() {
        *out.entry(a.history).or_insert(0) += 1;
    }
    out
}

// ----- self-heal -----

fn image_of(obj: &Value) -> String {
    obj.pointer("/spec/template/spec/containers/0/image")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

struct Heal {
    /// Patch response to the watch seeing the Git image again.
    reverted: Duration,
    /// Patch response to the app reporting Synced+Healthy after the
    /// self-heal sync (its history one longer).
    app_back: Option<Duration>,
}

async fn heal_one(
    client: &kube::Client,
    fleet: &Arc<Mutex<Fleet>>,
    app: &str,
) -> Result<Heal, String> {
    let api: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        app,
        &resource("apps/v1", "Deployment", "deployments"),
    );
    let history_before = fleet.lock().unwrap().apps.get(app).map_or(0, |a| a.history);
    let git_image = image(app);
    let edited = format!("registry.example.com/team/{app}:1.4.3-hotfix");
    let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "main", "image": edited}]}}}});
    let params = PatchParams {
        field_manager: Some("kubectl-edit".into()),
        ..PatchParams::default()
    };
    let out = api
        .patch("web", &params, &Patch::Strategic(&patch))
        .await
        .map_err(|e| format!("patch: {e}"))?;
    let t = Instant::now();
    let rv = out.metadata.resource_version.clone().unwrap_or_default();
    let after = serde_json::to_value(&out).unwrap_or_default();
    if image_of(&after) != edited {
        return Err(format!("the patch did not take: {}", image_of(&after)));
    }
    // The namespace holds this one Deployment; a watch from the patch's
    // resourceVersion misses nothing after it.
    let mut stream = api
        .watch(&WatchParams::default().timeout(120), &rv)
        .await
        .map_err(|e| format!("watch: {e}"))?
        .boxed();
    let mut reverted = None;
    while let Some(ev) = stream.try_next().await.map_err(|e| format!("watch: {e}"))? {
        if let WatchEvent::Modified(obj) | WatchEvent::Added(obj) = ev
            && image_of(&serde_json::to_value(&obj).unwrap_or_default()) == git_image
        {
            reverted = Some(t.elapsed());
            break;
        }
    }
    let reverted = reverted.ok_or("not reverted within 120 s")?;
    // The app settles (status written after the sync, rollout back).
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut app_back = None;
    while Instant::now() < deadline {
        let back = fleet
            .lock()
            .unwrap()
            .apps
            .get(app)
            .is_some_and(|a| a.done() && a.history > history_before);
        if back {
            app_back = Some(t.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(Heal { reverted, app_back })
}

// ----- figures -----

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

fn summary(mut v: Vec<f64>) -> Value {
    v.sort_by(f64::total_cmp);
    json!({
        "n": v.len(),
        "min": v.first().copied().unwrap_or(f64::NAN),
        "p50": percentile(&v, 0.5),
        "p90": percentile(&v, 0.9),
        "p99": percentile(&v, 0.99),
        "max": v.last().copied().unwrap_or(f64::NAN),
    })
}

fn ms(v: &Value, key: &str) -> String {
    format!("{:.0} ms", v[key].as_f64().unwrap_or(f64::NAN))
}

#[tokio::main]
async fn main() {
    let o = Options::parse();
    if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_env("SEXTANT_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .try_init();
    }
    let load_before = loadavg();
    let dir = tempfile::tempdir().unwrap();
    let total_objects = o.apps * o.objects;
    eprintln!(
        "fleet: {} apps x {} objects = {} objects; load average {load_before}",
        o.apps, o.objects, total_objects
    );

    let t = Instant::now();
    let repo = dir.path().join("repo");
    let (commit, files) = make_repo(&repo, &o);
    let repo_s = t.elapsed().as_secs_f64();

    let lk = Cluster::start(dir.path(), &o).await;
    let lk_pids = lk.pids();
    let lk_pid = lk_pids.join(",");
    let client = sextant_cluster::connect(lk.kubeconfig(), None)
        .await
        .expect("the cluster answers");
    let t = Instant::now();
    install(&client, &repo, &o).await;
    let install_s = t.elapsed().as_secs_f64();
    eprintln!(
        "fleet: repo ({files} files) in {repo_s:.1} s, {} at {} (pids {lk_pid}), {} Applications created in {install_s:.1} s",
        lk.name(),
        lk.url(),
        o.apps
    );

    let fleet = Arc::new(Mutex::new(Fleet {
        synced_only: o.no_simulation,
        ..Fleet::default()
    }));
    let (watch_task, mut ready) =
        watch_fleet(client.clone(), fleet.clone(), commit.clone(), o.apps);
    ready.wait_for(|r| *r).await.unwrap();

    let mut config = ControllerConfig::new(NS, dir.path().join("cache"));
    config.self_heal_delay = Duration::from_millis(o.self_heal_delay_ms);
    if let Some(w) = o.workers {
        config.workers = w;
    }
    let workers = config.workers;
    let rss_before = proc_status_mib("self", "VmRSS");
    let cpu_self_before = cpu_seconds("self");
    let cpu_lk_before = cpu_sum(&lk_pids);

    // ---- phase 1: from start to all Synced+Healthy ----
    let t0 = Instant::now();
    fleet.lock().unwrap().started = Some(t0);
    let controller = Controller::start(client.clone(), config)
        .await
        .expect("the controller starts");
    let mut last_print = Instant::now();
    let all_done = loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let (done, counts) = {
            let f = fleet.lock().unwrap();
            (f.all_done, f.counts())
        };
        if let Some(d) = done {
            break Some(d);
        }
        if last_print.elapsed() >= Duration::from_secs(5) {
            last_print = Instant::now();
            let (whole, ids) = controller.cache_size();
            eprintln!(
                "fleet: t={:>5.1}s synced {} healthy {} both {} / {}; cache {whole}+{ids}; rss {:.0} MiB, cluster {:.0} MiB; load {}",
                t0.elapsed().as_secs_f64(),
                counts.0,
                counts.1,
                counts.2,
                o.apps,
                proc_status_mib("self", "VmRSS"),
                mib_sum(&lk_pids, "VmRSS"),
                loadavg()
            );
        }
        if t0.elapsed() > o.timeout {
            break None;
        }
    };
    let cpu_self_sync = cpu_seconds("self") - cpu_self_before;
    let cpu_lk_sync = cpu_sum(&lk_pids) - cpu_lk_before;
    let hwm_sync = proc_status_mib("self", "VmHWM");
    let lk_hwm_sync = mib_sum(&lk_pids, "VmHWM");
    let (cache_whole, cache_ids) = controller.cache_size();
    let (all_synced, first_status, per_app, all_exist) = {
        let f = fleet.lock().unwrap();
        let per_app: Vec<f64> = f
            .first_done
            .values()
            .map(|d| d.as_secs_f64() * 1000.0)
            .collect();
        (f.all_synced, f.first_status, per_app, f.all_exist)
    };
    let Some(all_done) = all_done else {
        let f = fleet.lock().unwrap();
        let mut stuck: Vec<(&String, &AppView)> =
            f.apps.iter().filter(|(_, a)| !a.done()).collect();
        stuck.sort_by_key(|(n, _)| (*n).clone());
        eprintln!(
            "fleet: TIMEOUT after {:?}: {} of {} apps not Synced+Healthy, e.g. {:?}",
            o.timeout,
            stuck.len(),
            o.apps,
            stuck.iter().take(5).collect::<Vec<_>>()
        );
        std::process::exit(1);
    };

    // ---- phase 2: self-heal ----
    tokio::time::sleep(Duration::from_secs(1)).await;
    // Syncs so far: one per app is expected (a second one would be a
    // spurious re-sync).
    let histories = history_lengths(&fleet.lock().unwrap());
    let events_synced = event_reasons(&client).await;
    // Idle: nothing changes; what do both processes spend?
    let idle_window = Duration::from_secs(5);
    let (idle_self, idle_lk) = (cpu_seconds("self"), cpu_sum(&lk_pids));
    tokio::time::sleep(idle_window).await;
    let idle_cpu_self = (cpu_seconds("self") - idle_self) / idle_window.as_secs_f64();
    let idle_cpu_lk = (cpu_sum(&lk_pids) - idle_lk) / idle_window.as_secs_f64();
    let mut reverted = Vec::new();
    let mut app_back = Vec::new();
    let step = (o.apps / o.heal.max(1)).max(1);
    for k in 0..o.heal {
        let app = app_name((k * step) % o.apps);
        match heal_one(&client, &fleet, &app).await {
            Ok(h) => {
                reverted.push(h.reverted.as_secs_f64() * 1000.0);
                if let Some(b) = h.app_back {
                    app_back.push(b.as_secs_f64() * 1000.0);
                }
            }
            Err(e) => eprintln!("fleet: self-heal of {app}: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let hwm = proc_status_mib("self", "VmHWM");
    let lk_hwm = mib_sum(&lk_pids, "VmHWM");
    let rss_end = proc_status_mib("self", "VmRSS");
    let load_after = loadavg();
    let events_end = event_reasons(&client).await;
    controller.shutdown().await;
    watch_task.abort();
    let lk_name = lk.name();
    drop(lk);

    let per_app = summary(per_app);
    let heal = summary(reverted);
    let back = summary(app_back);
    let report = json!({
        "apps": o.apps,
        "objectsPerApp": o.objects,
        "objects": total_objects,
        "workers": workers,
        "selfHealDelayMs": o.self_heal_delay_ms,
        "podStartMs": o.pod_start_ms,
        "podReadyMs": o.pod_ready_ms,
        "simulation": !o.no_simulation,
        "cluster": lk_name,
        "commit": commit,
        "appsCreated": if o.appset { "by one ApplicationSet (git directory generator), once the controller started" } else { "before the controller started" },
        "allExistSeconds": all_exist.map(|d| d.as_secs_f64()),
        "setup": {"repoSeconds": repo_s, "installSeconds": install_s, "files": files},
        "firstStatusSeconds": first_status.map(|d| d.as_secs_f64()),
        "idleCpuFraction": {"controller": idle_cpu_self, "localkube": idle_cpu_lk},
        "allSyncedSeconds": all_synced.map(|d| d.as_secs_f64()),
        "allSyncedHealthySeconds": all_done.as_secs_f64(),
        "perAppSyncedHealthyMs": per_app,
        "cache": {"whole": cache_whole, "identityOnly": cache_ids},
        "memoryMiB": {
            "controllerRssBeforeStart": rss_before,
            "controllerHwmAtAllSynced": hwm_sync,
            "controllerHwm": hwm,
            "controllerRssEnd": rss_end,
            "localkubeHwmAtAllSynced": lk_hwm_sync,
            "localkubeHwm": lk_hwm,
        },
        "cpuSecondsToAllSynced": {"controller": cpu_self_sync, "localkube": cpu_lk_sync},
        "historyLengthsAtAllSynced": histories.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
        "eventsAtAllSynced": events_synced,
        "eventsAtEnd": events_end,
        "selfHealMs": heal,
        "selfHealAppBackMs": back,
        "load": {"before": load_before, "after": load_after},
    });

    println!();
    println!(
        "fleet: {} apps x {} objects (1 Deployment, 1 Service, {} ConfigMaps) = {} objects",
        o.apps,
        o.objects,
        o.objects - 2,
        total_objects
    );
    println!(
        "  controller: {workers} workers, self-heal delay {} ms (product default 5000); localkube pods start {} ms + ready {} ms",
        o.self_heal_delay_ms, o.pod_start_ms, o.pod_ready_ms
    );
    if o.appset {
        println!(
            "  Applications made by one ApplicationSet (git directory generator over apps/*); cluster: {lk_name}"
        );
        println!(
            "  all Applications exist: {:>7.1} s",
            all_exist.map_or(f64::NAN, |d| d.as_secs_f64())
        );
    } else {
        println!("  Applications created before the controller started; cluster: {lk_name}");
    }
    if o.no_simulation {
        println!(
            "  localkube --no-simulation: no Pods, Deployments stay Progressing; \"Healthy\" below is not waited for"
        );
    }
    println!(
        "  first app compared:    {:>7.1} s   (first render: Git fetch + checkout of the commit)",
        first_status.map_or(f64::NAN, |d| d.as_secs_f64())
    );
    println!(
        "  all Synced:            {:>7.1} s",
        all_synced.map_or(f64::NAN, |d| d.as_secs_f64())
    );
    println!(
        "  all Synced+Healthy:    {:>7.1} s   (per app p50 {:.1} s, p90 {:.1} s)",
        all_done.as_secs_f64(),
        per_app["p50"].as_f64().unwrap_or(f64::NAN) / 1000.0,
        per_app["p90"].as_f64().unwrap_or(f64::NAN) / 1000.0
    );
    println!(
        "  CPU to all synced:     controller {cpu_self_sync:.1} s, cluster {cpu_lk_sync:.1} s"
    );
    println!("  live cache:            {cache_whole} objects whole, {cache_ids} by identity");
    println!(
        "  idle CPU (5 s, nothing changing): controller {:.1}%, cluster {:.1}% of a core",
        idle_cpu_self * 100.0,
        idle_cpu_lk * 100.0
    );
    println!(
        "  syncs per app at all synced (history length: apps): {histories:?}; Events {events_synced:?}"
    );
    println!("  Events at the end: {events_end:?}");
    println!(
        "  peak RSS (VmHWM):      controller process {hwm:.0} MiB (RSS {rss_before:.0} MiB before start, {hwm_sync:.0} MiB peak at all synced), cluster {lk_hwm:.0} MiB"
    );
    println!(
        "  self-heal ({} edits):  p50 {}, p90 {}, p99 {}, max {}",
        heal["n"],
        ms(&heal, "p50"),
        ms(&heal, "p90"),
        ms(&heal, "p99"),
        ms(&heal, "max")
    );
    println!(
        "  app back Synced+Healthy after an edit: p50 {}, p99 {}",
        ms(&back, "p50"),
        ms(&back, "p99")
    );
    println!("  load average before {load_before}, after {load_after}");
    if let Some(path) = &o.json {
        std::fs::write(path, serde_json::to_string_pretty(&report).unwrap()).unwrap();
        println!("  JSON written to {}", path.display());
    }
}
