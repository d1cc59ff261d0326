//! API server benchmark: `sextant server` in front of many Applications.
//!
//! localkube (`sextant localkube --no-simulation`) and the API server
//! (`sextant server --insecure`) both run as child processes, so the
//! server's memory is its own (VmRSS / VmHWM of its /proc entry) and this
//! process is only the load: a kube client that creates the apps and
//! patches their status, and HTTP clients.
//!
//! Setup: Sextant's CRDs, the `sextant` namespace, a few AppProjects and
//! `--apps` Applications with a realistic status (sync and health varied,
//! 5 to 10 entries in `status.resources`, an operation state with a
//! result per object, a history entry; `team` and `env` labels; four
//! projects), created 64 at a time (a create, then the status through the
//! `/status` subresource). Then the server starts, and is timed until a
//! list says `total` = `--apps`. Measured, after a warm-up, one request at
//! a time:
//!
//! - the first page, `GET /api/v1/applications?limit=100`
//!   (`--requests` samples, 300): p50 / p99;
//! - filtered lists (`health=Degraded`, `project=payments&sync=OutOfSync`,
//!   `selector=team=pay`, `search=...`; a third of `--requests` each);
//! - the live stream's fan-out: `--clients` (100) followers of
//!   `/api/v1/stream/applications`; `--changes` (50) status patches of
//!   different apps through the Kubernetes API, `--spacing-ms` (100)
//!   apart; for every client and change, the time from the patch
//!   response to that client reading the event (and from the patch
//!   request, since the event can overtake the response), and whether
//!   every client got every change;
//! - the server's RSS at ready, after the load, after a refresh pass
//!   (every app's status written once, 32 at a time, as the controller's
//!   periodic compare does; `--refresh-pass 0` skips it), and its peak
//!   (VmHWM).
//!
//! ```sh
//! cargo bench -p sextant-cli --bench api
//! cargo bench -p sextant-cli --bench api -- --apps 2000 --clients 20 --json /tmp/api.json
//! ```
//!
//! Options (or environment variables): `--apps N` (`API_APPS`, 10000),
//! `--clients N` (`API_CLIENTS`, 100), `--requests N` (`API_REQUESTS`,
//! 300), `--changes N` (`API_CHANGES`, 50), `--spacing-ms N`
//! (`API_SPACING_MS`, 100), `--refresh-pass 0|1` (`API_REFRESH_PASS`, 1),
//! `--timeout-s N` (`API_TIMEOUT_S`, 600: for
//! each wait), `--json PATH` (`API_JSON`). `SEXTANT_LOG` is passed to the
//! server (its log goes to this process's stderr). For profiling,
//! `API_SERVER_WRAP` runs the server under a command (`heaptrack -o
//! /tmp/server`, `perf record -g -o /tmp/perf.data --`); `API_SEXTANT`
//! runs another build's `sextant` (localkube and the server) under the
//! same harness, to compare before and after a change.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmark code: a panic is a failure report"
)]

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube::discovery::ApiResource;
use serde_json::{Value, json};
use sextant_model::Application;

const NS: &str = "sextant";
const PROJECTS: [&str; 4] = ["payments", "search", "platform", "default"];
const TEAMS: [&str; 3] = ["pay", "search", "infra"];
const COMPONENTS: [&str; 6] = ["api", "web", "worker", "gateway", "db-proxy", "cron"];
/// What a status change writes into `status.sync.revision`; the summary
/// the stream sends carries it as `revision`.
const MARKER: &str = "bench-change-";

// ----- options -----

#[derive(Debug)]
struct Options {
    apps: usize,
    clients: usize,
    requests: usize,
    changes: usize,
    spacing: Duration,
    churn: bool,
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
            apps: env_or("API_APPS", 10_000),
            clients: env_or("API_CLIENTS", 100),
            requests: env_or("API_REQUESTS", 300),
            changes: env_or("API_CHANGES", 50),
            spacing: Duration::from_millis(env_or("API_SPACING_MS", 100)),
            churn: env_or("API_REFRESH_PASS", 1) != 0,
            timeout: Duration::from_secs(env_or("API_TIMEOUT_S", 600)),
            json: std::env::var_os("API_JSON").map(PathBuf::from),
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let mut value = || -> u64 {
                let v = args.next().unwrap_or_else(|| panic!("{arg} needs a value"));
                v.parse()
                    .unwrap_or_else(|_| panic!("{arg}: not a number: {v}"))
            };
            match arg.as_str() {
                // cargo bench passes --bench to every bench target.
                "--bench" => {}
                "--apps" => o.apps = value() as usize,
                "--clients" => o.clients = value() as usize,
                "--requests" => o.requests = value() as usize,
                "--changes" => o.changes = value() as usize,
                "--spacing-ms" => o.spacing = Duration::from_millis(value()),
                "--refresh-pass" => o.churn = value() != 0,
                "--timeout-s" => o.timeout = Duration::from_secs(value()),
                "--json" => {
                    o.json = Some(PathBuf::from(
                        args.next().unwrap_or_else(|| panic!("--json needs a path")),
                    ))
                }
                other => panic!(
                    "unknown option {other}; see the top of crates/sextant-cli/benches/api.rs"
                ),
            }
        }
        assert!(o.apps > 0, "--apps must be at least 1");
        assert!(o.requests >= 3, "--requests must be at least 3");
        o.changes = o.changes.min(o.apps);
        o
    }
}

// ----- /proc readings -----

/// A `kB` field of /proc/PID/status, in MiB.
fn proc_status_mib(pid: u32, field: &str) -> f64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// User + system CPU seconds of a process (100 Hz clock ticks).
fn cpu_seconds(pid: u32) -> f64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let rest = text.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok());
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

// ----- child processes -----

/// A child stopped when dropped, so a panic never leaves one behind:
/// SIGTERM first (the server shuts down cleanly; a profiler wrapping it
/// writes its data), SIGKILL after 10 s. The server runs in a process
/// group of its own, which gets the SIGTERM (a wrapper's children too).
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.0.id())])
            .stderr(Stdio::null())
            .status();
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Proc {
    fn pid(&self) -> u32 {
        self.0.id()
    }
}

/// The `sextant` binary: this build's, or `API_SEXTANT` (another build's,
/// to compare before and after a change with the same harness).
fn sextant() -> PathBuf {
    std::env::var_os("API_SEXTANT").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_sextant")),
        PathBuf::from,
    )
}

/// `sextant localkube --no-simulation` on a free loopback port.
fn start_localkube(dir: &Path) -> (Proc, PathBuf) {
    let kubeconfig = dir.join("kubeconfig");
    let child = Command::new(sextant())
        .arg("localkube")
        .args(["--listen", "127.0.0.1:0", "--no-simulation", "--kubeconfig"])
        .arg(&kubeconfig)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("sextant localkube starts");
    let mut p = Proc(child);
    let stdout = p.0.stdout.take().expect("piped stdout");
    // The banner's last line tells the kubeconfig is written.
    let mut started = false;
    for line in BufReader::new(stdout).lines() {
        if line
            .expect("localkube's stdout is readable")
            .starts_with("kubeconfig written to")
        {
            started = true;
            break;
        }
    }
    assert!(
        started && kubeconfig.exists(),
        "localkube did not start (see its stderr above)"
    );
    (p, kubeconfig)
}

/// `sextant server --insecure` on a free loopback port; its URL and the
/// admin password it printed. Its stderr keeps being copied to ours.
/// `API_SERVER_WRAP` (e.g. `heaptrack -o /tmp/server` or `perf record -g
/// -o /tmp/perf.data --`) runs the server under that command, for
/// profiling; the memory figures are then the wrapper's.
fn start_server(dir: &Path, kubeconfig: &Path) -> (Proc, String, String) {
    let wrap = std::env::var("API_SERVER_WRAP").unwrap_or_default();
    let mut words = wrap.split_whitespace();
    let mut command = match words.next() {
        Some(program) => {
            eprintln!("api: the server runs under `{wrap}`: its memory figures are the wrapper's");
            let mut c = Command::new(program);
            c.args(words).arg(sextant());
            c
        }
        None => Command::new(sextant()),
    };
    let child = command
        .process_group(0)
        .args(["server", "--insecure", "--listen", "127.0.0.1:0", "-n", NS])
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .arg("--cache-dir")
        .arg(dir.join("server-cache"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sextant server starts");
    let mut p = Proc(child);
    let stderr = p.0.stderr.take().expect("piped stderr");
    let (tx, rx) = std::sync::mpsc::channel::<(String, String)>();
    std::thread::spawn(move || {
        let mut url = None;
        let mut sent = false;
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { return };
            if let Some(u) = line.strip_prefix("sextant server: listening on ") {
                url = Some(u.trim().to_owned());
            } else if let Some(pw) =
                line.strip_prefix("sextant server: first start: the admin password is ")
                && let Some(u) = url.take()
                && !sent
            {
                let _ = tx.send((u, pw.trim().to_owned()));
                sent = true;
            } else if !line.starts_with("  (also in Secret") {
                eprintln!("server: {line}");
            }
        }
    });
    let (url, password) = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the server printed its URL and the admin password");
    (p, url, password)
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

/// A small deterministic mix of `i` (so figures are comparable between runs).
fn mix(i: usize, salt: u64) -> u64 {
    let mut x = (i as u64)
        .wrapping_add(salt)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^ (x >> 29)
}

fn app_name(i: usize) -> String {
    format!(
        "{}-{}-{i:05}",
        TEAMS[i % TEAMS.len()],
        COMPONENTS[i % COMPONENTS.len()]
    )
}

fn commit_of(i: usize, salt: u64) -> String {
    format!(
        "{:016x}{:016x}{:08x}",
        mix(i, salt),
        mix(i, salt + 1),
        mix(i, salt + 2) as u32
    )
}

/// The app's spec and labels (what a create sends).
fn app_object(i: usize) -> Application {
    let name = app_name(i);
    let team = TEAMS[i % TEAMS.len()];
    let project = PROJECTS[(mix(i, 1) % PROJECTS.len() as u64) as usize];
    let env = if mix(i, 2).is_multiple_of(3) {
        "staging"
    } else {
        "prod"
    };
    serde_json::from_value(json!({
        "apiVersion": "sextant.dev/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": NS, "labels": {
            "team": team, "env": env, "app.kubernetes.io/part-of": format!("{team}-platform"),
        }},
        "spec": {
            "project": project,
            "source": {
                "repoURL": format!("https://git.example.com/{team}/deploy.git"),
                "path": format!("apps/{name}/overlays/{env}"),
                "targetRevision": "main",
            },
            "destination": {"server": "https://kubernetes.default.svc", "namespace": format!("{team}-{env}")},
            "syncPolicy": {
                "automated": {"prune": true, "selfHeal": true},
                "syncOptions": ["CreateNamespace=true"],
            },
        }
    }))
    .unwrap()
}

/// A status as the controller writes it: sync and health varied, 5 to 10
/// objects, the last sync's operation state and one history entry.
fn app_status(i: usize) -> Value {
    let name = app_name(i);
    let team = TEAMS[i % TEAMS.len()];
    let ns = format!("{team}-prod");
    let commit = commit_of(i, 10);
    let roll = mix(i, 3) % 100;
    let sync = match roll {
        0..80 => "Synced",
        80..95 => "OutOfSync",
        _ => "Unknown",
    };
    let roll = mix(i, 4) % 100;
    let health = match roll {
        0..80 => "Healthy",
        80..88 => "Progressing",
        88..95 => "Degraded",
        95..98 => "Missing",
        _ => "Suspended",
    };
    let objects = 5 + (mix(i, 5) % 6) as usize;
    let mut resources = vec![
        json!({"group": "apps", "version": "v1", "kind": "Deployment", "namespace": ns, "name": name,
               "status": sync, "health": {"status": health}}),
        json!({"version": "v1", "kind": "Service", "namespace": ns, "name": name,
               "status": "Synced", "health": {"status": "Healthy"}}),
        json!({"version": "v1", "kind": "ServiceAccount", "namespace": ns, "name": name, "status": "Synced"}),
        json!({"group": "networking.k8s.io", "version": "v1", "kind": "Ingress", "namespace": ns,
               "name": name, "status": "Synced", "health": {"status": "Healthy"}}),
    ];
    for n in 0..objects - resources.len() {
        resources.push(
            json!({"version": "v1", "kind": "ConfigMap", "namespace": ns,
                              "name": format!("{name}-config-{n}"), "status": "Synced"}),
        );
    }
    let results: Vec<Value> = resources
        .iter()
        .map(|r| {
            json!({"group": r.get("group").cloned().unwrap_or(json!("")), "version": r["version"],
                   "kind": r["kind"], "namespace": ns, "name": r["name"], "status": "Synced",
                   "message": format!("{}/{} configured", r["kind"].as_str().unwrap_or_default().to_lowercase(), r["name"].as_str().unwrap_or_default()),
                   "syncPhase": "Sync"})
        })
        .collect();
    let source = json!({
        "repoURL": format!("https://git.example.com/{team}/deploy.git"),
        "path": format!("apps/{name}/overlays/prod"),
        "targetRevision": "main",
    });
    let minute = i % 60;
    let started = format!("2026-12-01T10:{minute:02}:00Z");
    let finished = format!("2026-12-01T10:{minute:02}:04Z");
    let mut conditions = Vec::new();
    if health == "Degraded" {
        conditions.push(json!({"type": "SyncError", "message": format!("Deployment {name}: progress deadline exceeded"),
                               "lastTransitionTime": finished}));
    }
    json!({"status": {
        "resources": resources,
        "sync": {"status": sync, "revision": commit, "comparedTo": {
            "source": source,
            "destination": {"server": "https://kubernetes.default.svc", "namespace": ns},
        }},
        "health": {"status": health},
        "history": [{"id": 1, "revision": commit, "deployedAt": finished, "deployStartedAt": started,
                     "source": source, "initiatedBy": {"automated": true}}],
        "conditions": conditions,
        "reconciledAt": finished,
        "operationState": {
            "operation": {"sync": {"revision": commit, "prune": true}, "initiatedBy": {"automated": true},
                          "retry": {"limit": 5}},
            "phase": "Succeeded",
            "message": "successfully synced (all tasks run)",
            "syncResult": {"revision": commit, "resources": results, "source": source},
            "startedAt": started,
            "finishedAt": finished,
        },
        "sourceType": "Kustomize",
        "summary": {"images": [format!("registry.example.com/{team}/{name}:1.{}.{}", i % 7, i % 13)]},
    }})
}

async fn install(client: &kube::Client, o: &Options) {
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
    let nss: Api<DynamicObject> =
        Api::all_with(client.clone(), &resource("v1", "Namespace", "namespaces"));
    let ns: DynamicObject = serde_json::from_value(
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}),
    )
    .unwrap();
    nss.create(&PostParams::default(), &ns).await.unwrap();
    let projects: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        NS,
        &resource("sextant.dev/v1alpha1", "AppProject", "appprojects"),
    );
    for p in PROJECTS {
        let obj: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "sextant.dev/v1alpha1", "kind": "AppProject",
            "metadata": {"name": p, "namespace": NS},
            "spec": {"sourceRepos": ["*"], "destinations": [{"server": "*", "namespace": "*"}]},
        }))
        .unwrap();
        projects.create(&PostParams::default(), &obj).await.unwrap();
    }
    let apps: Api<Application> = Api::namespaced(client.clone(), NS);
    futures::stream::iter(0..o.apps)
        .map(|i| {
            let apps = apps.clone();
            async move {
                let app = app_object(i);
                let name = app.metadata.name.clone().unwrap_or_default();
                apps.create(&PostParams::default(), &app).await?;
                apps.patch_status(&name, &PatchParams::default(), &Patch::Merge(app_status(i)))
                    .await
                    .map(|_| ())
            }
        })
        .buffer_unordered(64)
        .try_collect::<Vec<()>>()
        .await
        .unwrap();
}

// ----- HTTP -----

struct Http {
    client: reqwest::Client,
    url: String,
    token: String,
}

impl Http {
    /// GET a path; the status, the body's size and the body as JSON.
    async fn get(&self, path: &str) -> (u16, usize, Value) {
        let resp = self
            .client
            .get(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("the server answers");
        let status = resp.status().as_u16();
        let body = resp.bytes().await.expect("a body");
        (
            status,
            body.len(),
            serde_json::from_slice(&body).unwrap_or(Value::Null),
        )
    }
}

fn http_client(timeout: Option<Duration>) -> reqwest::Client {
    let mut b = reqwest::Client::builder().no_proxy();
    if let Some(t) = timeout {
        b = b.timeout(t);
    }
    b.build().unwrap()
}

/// Wait for /readyz, log in as admin; the bearer token.
async fn login(client: &reqwest::Client, url: &str, password: &str, deadline: Instant) -> String {
    loop {
        let ready = client
            .get(format!("{url}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ready {
            break;
        }
        assert!(Instant::now() < deadline, "the server never got ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let resp = client
        .post(format!("{url}/api/v1/session"))
        .json(&json!({"username": "admin", "password": password, "token": true}))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "login: {}", resp.status());
    let body: Value = resp.json().await.unwrap();
    body["token"].as_str().expect("a token").to_owned()
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

fn f(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or(f64::NAN)
}

/// `warmup` then `n` sequential GETs of `path`; latencies in ms, the
/// first answer's `total` and body size.
async fn time_gets(http: &Http, path: &str, warmup: usize, n: usize) -> (Value, u64, usize) {
    for _ in 0..warmup {
        let (status, _, _) = http.get(path).await;
        assert_eq!(status, 200, "GET {path}");
    }
    let mut samples = Vec::with_capacity(n);
    let mut total = 0;
    let mut size = 0;
    for k in 0..n {
        let t = Instant::now();
        let (status, bytes, body) = http.get(path).await;
        samples.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(status, 200, "GET {path}");
        if k == 0 {
            total = body["total"].as_u64().unwrap_or(0);
            size = bytes;
        }
    }
    (summary(samples), total, size)
}

// ----- the live stream -----

/// What one follower saw: per change, when it arrived.
struct Follower {
    got: Vec<Option<Instant>>,
    resets: usize,
}

/// Follow `/api/v1/stream/applications` until every change arrived, the
/// stream ends or `stop` fires. `connected` is signalled once the response
/// headers are in (the server has subscribed by then).
async fn follow(
    client: reqwest::Client,
    url: String,
    token: String,
    changes: usize,
    connected: tokio::sync::mpsc::Sender<()>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Follower {
    let mut me = Follower {
        got: vec![None; changes],
        resets: 0,
    };
    let resp = client
        .get(format!("{url}/api/v1/stream/applications"))
        .bearer_auth(&token)
        .header("accept", "text/event-stream")
        .send()
        .await
        .expect("the stream answers");
    assert_eq!(resp.status().as_u16(), 200, "the stream's status");
    let _ = connected.send(()).await;
    let mut resp = resp;
    let mut buf: Vec<u8> = Vec::new();
    let mut missing = changes;
    let needle = format!("\"revision\":\"{MARKER}");
    while missing > 0 {
        let chunk = tokio::select! {
            c = resp.chunk() => c,
            _ = stop.changed() => break,
        };
        let Ok(Some(chunk)) = chunk else { break };
        let now = Instant::now();
        buf.extend_from_slice(&chunk);
        // Whole events end with a blank line.
        while let Some(end) = buf.windows(2).position(|w| w == b"\n\n") {
            let event = String::from_utf8_lossy(&buf[..end]).into_owned();
            buf.drain(..end + 2);
            if event.lines().any(|l| l == "event: reset") {
                me.resets += 1;
            }
            if let Some(at) = event.find(&needle) {
                let rest = &event[at + needle.len()..];
                let k: usize = rest
                    .split('"')
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(usize::MAX);
                if let Some(slot) = me.got.get_mut(k)
                    && slot.is_none()
                {
                    *slot = Some(now);
                    missing -= 1;
                }
            }
        }
    }
    me
}

// ----- main -----

#[tokio::main]
async fn main() {
    let o = Options::parse();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let load_before = loadavg();
    let dir = tempfile::tempdir().unwrap();
    eprintln!(
        "api: {} apps, {} stream clients; load average {load_before}",
        o.apps, o.clients
    );

    let (lk, kubeconfig) = start_localkube(dir.path());
    let kube = sextant_cluster::connect(&kubeconfig, None)
        .await
        .expect("localkube answers");
    let t = Instant::now();
    install(&kube, &o).await;
    let install_s = t.elapsed().as_secs_f64();
    eprintln!(
        "api: {} Applications created in {install_s:.1} s; localkube RSS {:.0} MiB",
        o.apps,
        proc_status_mib(lk.pid(), "VmRSS")
    );

    // ---- the server: start until a list shows every app ----
    let t0 = Instant::now();
    let (server, url, password) = start_server(dir.path(), &kubeconfig);
    let pid = server.pid();
    let client = http_client(Some(Duration::from_secs(60)));
    let deadline = Instant::now() + o.timeout;
    let token = login(&client, &url, &password, deadline).await;
    let ready_s = t0.elapsed().as_secs_f64();
    let http = Http {
        client: client.clone(),
        url: url.clone(),
        token: token.clone(),
    };
    loop {
        let (_, _, body) = http.get("/api/v1/applications?limit=1").await;
        if body["total"].as_u64() == Some(o.apps as u64) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the list never showed {} apps: {}",
            o.apps,
            body["total"]
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let listed_s = t0.elapsed().as_secs_f64();
    let rss_ready = proc_status_mib(pid, "VmRSS");
    let hwm_ready = proc_status_mib(pid, "VmHWM");
    let cpu_start = cpu_seconds(pid);
    eprintln!(
        "api: server at {url} (pid {pid}) ready in {ready_s:.1} s, all {} apps listed at {listed_s:.1} s; RSS {rss_ready:.0} MiB, peak {hwm_ready:.0} MiB",
        o.apps
    );

    // ---- (a) the first page ----
    let cpu_before = cpu_seconds(pid);
    let (first_page, total, page_bytes) =
        time_gets(&http, "/api/v1/applications?limit=100", 30, o.requests).await;
    // Warm-up included: 30 more requests.
    let cpu_per_first_page = (cpu_seconds(pid) - cpu_before) / (o.requests + 30) as f64 * 1000.0;
    assert_eq!(total, o.apps as u64);
    eprintln!(
        "api: first page p50 {:.1} ms, p99 {:.1} ms ({page_bytes} bytes)",
        f(&first_page, "p50"),
        f(&first_page, "p99")
    );

    // ---- (b) filtered lists ----
    let search = format!("{}-0", COMPONENTS[0]);
    // (label, query); an empty query is the second page.
    let queries = [
        ("health=Degraded".to_owned(), "health=Degraded".to_owned()),
        (
            "project=payments&sync=OutOfSync".to_owned(),
            "project=payments&sync=OutOfSync".to_owned(),
        ),
        (
            "selector=team=pay".to_owned(),
            "selector=team%3Dpay".to_owned(),
        ),
        (format!("search={search}"), format!("search={search}")),
        ("page 2 (continue)".to_owned(), String::new()),
    ];
    let mut filtered = Vec::new();
    let n = (o.requests / 3).max(3);
    for (label, query) in queries {
        let query = if query.is_empty() {
            // The second page: `continue` from the first.
            let (_, _, body) = http.get("/api/v1/applications?limit=100").await;
            format!("continue={}", body["continue"].as_str().unwrap_or_default())
        } else {
            query
        };
        let path = format!("/api/v1/applications?limit=100&{query}");
        let (s, total, bytes) = time_gets(&http, &path, 10, n).await;
        eprintln!(
            "api: {label}: {total} apps, p50 {:.1} ms, p99 {:.1} ms",
            f(&s, "p50"),
            f(&s, "p99")
        );
        filtered.push((label, total, bytes, s));
    }
    let rss_after_lists = proc_status_mib(pid, "VmRSS");

    // ---- (c) the live stream's fan-out ----
    let stream_client = http_client(None);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let (conn_tx, mut conn_rx) = tokio::sync::mpsc::channel(o.clients.max(1));
    let mut followers = Vec::new();
    for _ in 0..o.clients {
        followers.push(tokio::spawn(follow(
            stream_client.clone(),
            url.clone(),
            token.clone(),
            o.changes,
            conn_tx.clone(),
            stop_rx.clone(),
        )));
    }
    drop(conn_tx);
    let mut connected = 0;
    while connected < o.clients {
        match tokio::time::timeout(Duration::from_secs(60), conn_rx.recv()).await {
            Ok(Some(())) => connected += 1,
            _ => panic!("only {connected} of {} stream clients connected", o.clients),
        }
    }
    let rss_streams = proc_status_mib(pid, "VmRSS");
    let apps_api: Api<Application> = Api::namespaced(kube.clone(), NS);
    let step = (o.apps / o.changes.max(1)).max(1);
    let mut sent = Vec::new();
    let mut returned = Vec::new();
    let mut patch_ms = Vec::new();
    let cpu_before = cpu_seconds(pid);
    for k in 0..o.changes {
        let i = (k * step + k) % o.apps;
        let patch = json!({"status": {
            "sync": {"status": "OutOfSync", "revision": format!("{MARKER}{k}")},
            "health": {"status": "Progressing"},
        }});
        let t_sent = Instant::now();
        apps_api
            .patch_status(&app_name(i), &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .unwrap();
        let t_ret = Instant::now();
        patch_ms.push((t_ret - t_sent).as_secs_f64() * 1000.0);
        sent.push(t_sent);
        returned.push(t_ret);
        tokio::time::sleep(o.spacing).await;
    }
    // Every follower ends once it has every change; bound the wait.
    let wait_until = Instant::now() + Duration::from_secs(30);
    let mut results = Vec::new();
    for h in followers {
        let left = wait_until.saturating_duration_since(Instant::now());
        let mut h = h;
        match tokio::time::timeout(left, &mut h).await {
            Ok(r) => results.push(r.unwrap()),
            Err(_) => {
                let _ = stop_tx.send(true);
                results.push(h.await.unwrap());
            }
        }
    }
    let _ = stop_tx.send(true);
    let cpu_stream = cpu_seconds(pid) - cpu_before;
    let mut from_return = Vec::new();
    let mut from_send = Vec::new();
    let mut missed = 0;
    let mut complete_clients = 0;
    let mut resets = 0;
    for r in &results {
        resets += r.resets;
        if r.got.iter().all(Option::is_some) {
            complete_clients += 1;
        }
        for (k, at) in r.got.iter().enumerate() {
            match at {
                Some(at) => {
                    from_return
                        .push(at.saturating_duration_since(returned[k]).as_secs_f64() * 1000.0);
                    from_send.push(at.saturating_duration_since(sent[k]).as_secs_f64() * 1000.0);
                }
                None => missed += 1,
            }
        }
    }
    let early = from_return.iter().filter(|v| **v == 0.0).count();
    let from_return = summary(from_return);
    let from_send = summary(from_send);
    let patch_ms = summary(patch_ms);

    // ---- (d) memory, after a refresh pass: every app's status written
    // once, as the controller's periodic compare does (the streams are
    // closed by now) ----
    let rss_before_churn = proc_status_mib(pid, "VmRSS");
    let mut churn_s = f64::NAN;
    if o.churn {
        let seq_of = |body: &Value| -> u64 {
            body["eventId"]
                .as_str()
                .and_then(|id| id.rsplit_once('-'))
                .and_then(|(_, seq)| seq.parse().ok())
                .unwrap_or(0)
        };
        let (_, _, body) = http.get("/api/v1/applications?limit=1").await;
        let seq_before = seq_of(&body);
        let t = Instant::now();
        futures::stream::iter(0..o.apps)
            .map(|i| {
                let apps = apps_api.clone();
                async move {
                    let patch = json!({"status": {"reconciledAt": format!("2026-12-01T11:00:{:02}Z", i % 60)}});
                    apps.patch_status(&app_name(i), &PatchParams::default(), &Patch::Merge(&patch))
                        .await
                        .map(|_| ())
                }
            })
            .buffer_unordered(32)
            .try_collect::<Vec<()>>()
            .await
            .unwrap();
        loop {
            let (_, _, body) = http.get("/api/v1/applications?limit=1").await;
            if seq_of(&body) >= seq_before + o.apps as u64 {
                break;
            }
            assert!(
                Instant::now() < t + o.timeout,
                "the server never saw the refresh pass"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        churn_s = t.elapsed().as_secs_f64();
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_end = proc_status_mib(pid, "VmRSS");
    let hwm_end = proc_status_mib(pid, "VmHWM");
    let cpu_total = cpu_seconds(pid) - cpu_start;
    let lk_hwm = proc_status_mib(lk.pid(), "VmHWM");
    let load_after = loadavg();
    drop(server);
    drop(lk);

    let report = json!({
        "apps": o.apps,
        "clients": o.clients,
        "changes": o.changes,
        "spacingMs": o.spacing.as_millis() as u64,
        "setup": {"installSeconds": install_s, "serverReadySeconds": ready_s, "allListedSeconds": listed_s},
        "firstPageMs": first_page,
        "firstPageBytes": page_bytes,
        "firstPageServerCpuMs": cpu_per_first_page,
        "filtered": filtered.iter().map(|(label, total, bytes, s)| json!({"query": label, "total": total, "bytes": bytes, "ms": s})).collect::<Vec<_>>(),
        "stream": {
            "fromPatchResponseMs": from_return,
            "fromPatchRequestMs": from_send,
            "eventsBeforePatchResponse": early,
            "patchMs": patch_ms,
            "clientsWithEveryChange": complete_clients,
            "eventsMissed": missed,
            "resets": resets,
            "serverCpuSeconds": cpu_stream,
        },
        "memoryMiB": {
            "serverRssReady": rss_ready,
            "serverHwmReady": hwm_ready,
            "serverRssAfterLists": rss_after_lists,
            "serverRssWithStreams": rss_streams,
            "serverRssBeforeRefreshPass": rss_before_churn,
            "serverRssEnd": rss_end,
            "serverHwm": hwm_end,
            "localkubeHwm": lk_hwm,
        },
        "refreshPassSeconds": churn_s,
        "serverCpuSecondsUnderLoad": cpu_total,
        "load": {"before": load_before, "after": load_after},
    });

    let ms = |v: &Value| {
        format!(
            "p50 {:>6.1} ms  p99 {:>6.1} ms  max {:>6.1} ms",
            f(v, "p50"),
            f(v, "p99"),
            f(v, "max")
        )
    };
    println!();
    println!(
        "api: {} Applications (5-10 objects each in status), `sextant server --insecure` as a child process",
        o.apps
    );
    println!(
        "  setup: apps created in {install_s:.1} s; server ready {ready_s:.1} s and all apps listed {listed_s:.1} s after its start"
    );
    println!(
        "  first page, limit=100 ({} requests, {page_bytes} bytes):  {}  (server CPU {cpu_per_first_page:.1} ms/request)",
        o.requests,
        ms(&first_page)
    );
    for (label, total, _, s) in &filtered {
        println!("  {label:<40} {total:>6} apps  {}", ms(s));
    }
    println!(
        "  stream, {} clients x {} changes {} ms apart:",
        o.clients,
        o.changes,
        o.spacing.as_millis()
    );
    println!("    from the patch's response:  {}", ms(&from_return));
    println!(
        "    from the patch's request:   {}  ({early} events arrived before the patch's response)",
        ms(&from_send)
    );
    println!(
        "    every change at every client: {} ({complete_clients} of {} clients complete, {missed} events missed, {resets} resets); server CPU {cpu_stream:.2} s; patch itself {}",
        missed == 0 && resets == 0,
        o.clients,
        ms(&patch_ms)
    );
    println!(
        "  server RSS: {rss_ready:.0} MiB when all listed, {rss_after_lists:.0} after the lists, {rss_streams:.0} with {} streams, {rss_before_churn:.0} after them",
        o.clients
    );
    if o.churn {
        println!(
            "  refresh pass (every app's status written once, 32 at a time): seen by the server in {churn_s:.1} s; RSS after it {rss_end:.0} MiB"
        );
    }
    println!("  server peak RSS (VmHWM): {hwm_end:.0} MiB (at ready {hwm_ready:.0} MiB)");
    println!(
        "  localkube peak RSS {lk_hwm:.0} MiB; load average before {load_before}, after {load_after}"
    );
    println!(
        "  aims: first page p99 {:.1} ms (< 50: {}), server peak {hwm_end:.0} MiB (< 200: {})",
        f(&first_page, "p99"),
        f(&first_page, "p99") < 50.0,
        hwm_end < 200.0
    );
    if let Some(path) = &o.json {
        std::fs::write(path, serde_json::to_string_pretty(&report).unwrap()).unwrap();
        println!("  JSON written to {}", path.display());
    }
}
