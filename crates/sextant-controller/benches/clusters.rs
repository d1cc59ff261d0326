//! Benchmark: one controller, three clusters, one of them slow. Three
//! in-process localkube instances (the first also holds the Applications);
//! `CLUSTERS_APPS` apps per cluster (default 300), each three ConfigMaps
//! (`CLUSTERS_DEPLOYMENT=1`: a Deployment and two ConfigMaps, which adds
//! localkube's simulated rollouts, in this same process, to the load),
//! automated with `CreateNamespace=true`. Run A: no latency. Run A2: the
//! first two clusters alone (the baseline for B: the same work for them,
//! nothing else). Run B: the third cluster answers every request
//! `CLUSTERS_DELAY_MS` late (default 2000, localkube's latency fault).
//! For each run: the time from `Controller::start` until every app of
//! each cluster is Synced and Healthy (the slow one given
//! `CLUSTERS_SLOW_WAIT_S`, default 120, after the others finished), and
//! per-app p50/p90. What counts is the fast clusters' figures in B beside
//! A: the slow cluster must not hold them up.
//!
//! `cargo bench -p sextant-controller --bench clusters`
//! (`CLUSTERS_RUNS`, default 1: runs of A then B).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmark code: a panic is a failure report"
)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::api::{Api, DynamicObject, ListParams, PostParams};
use kube::discovery::ApiResource;
use localkube::controllers::SimulationConfig;
use localkube::faults::{FaultRules, LatencyFault};
use localkube::{Config, LocalKube};
use serde_json::json;
use sextant_cluster::ClusterCredentials;
use sextant_controller::{Controller, ControllerConfig};
use sextant_model::Application;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn git(dir: &std::path::Path, args: &[&str]) {
    let ok = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.invalid")
        .env("GIT_COMMITTER_NAME", "bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.invalid")
        .status()
        .unwrap()
        .success();
    assert!(ok, "git {args:?}");
}

fn make_repo(repo: &std::path::Path, apps: usize, deployment: bool) {
    for i in 0..apps {
        let d = repo.join(format!("app-{i}"));
        std::fs::create_dir_all(&d).unwrap();
        for c in 0..3 {
            let text = if deployment && c == 2 {
                format!(
                    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {{app: web{i}}}\n  template:\n    metadata:\n      labels: {{app: web{i}}}\n    spec:\n      containers:\n      - name: main\n        image: nginx:1.27\n"
                )
            } else {
                format!(
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings-{c}\ndata:\n  key: \"{i}-{c}\"\n"
                )
            };
            std::fs::write(d.join(format!("o{c}.yaml")), text).unwrap();
        }
    }
    git(repo, &["init", "-q", "-b", "main"]);
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-qm", "bench"]);
}

async fn localkube(dir: &std::path::Path, name: &str, tls: bool) -> LocalKube {
    LocalKube::start(Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        kubeconfig: Some(dir.join(format!("kubeconfig-{name}"))),
        tls,
        simulation: SimulationConfig {
            pod_start_delay: Duration::from_millis(100),
            pod_ready_delay: Duration::from_millis(100),
            ..SimulationConfig::default()
        },
        ..Config::default()
    })
    .await
    .unwrap()
}

struct Outcome {
    /// Per cluster: seconds until all its apps were Synced+Healthy (None:
    /// not within the wait), and each app's time.
    clusters: Vec<(String, Option<f64>, Vec<f64>)>,
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// One run: apps on the first `clusters` of in-cluster, east, west; west
/// `delay_ms` late.
async fn run(
    apps_per_cluster: usize,
    clusters: usize,
    delay_ms: u64,
    deployment: bool,
    slow_wait: Duration,
) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let names = &["in-cluster", "east", "west"][..clusters];
    let home = localkube(dir.path(), "home", false).await;
    let east = localkube(dir.path(), "east", true).await;
    let west = localkube(dir.path(), "west", true).await;
    let client = home.client().await.unwrap();
    let crd_resource = ApiResource::erase::<
        k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
    >(&());
    let crds: Api<DynamicObject> = Api::all_with(client.clone(), &crd_resource);
    for crd in sextant_model::crd::all() {
        let obj: DynamicObject =
            serde_json::from_value(serde_json::to_value(&crd).unwrap()).unwrap();
        crds.create(&PostParams::default(), &obj).await.unwrap();
    }
    let nss: Api<Namespace> = Api::all(client.clone());
    nss.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": "sextant"}})).unwrap(),
    )
    .await
    .unwrap();
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "sextant");
    for (name, kube) in [("east", &east), ("west", &west)] {
        let text = std::fs::read_to_string(kube.kubeconfig_path()).unwrap();
        let creds = ClusterCredentials::from_kubeconfig(&text, None, Some(name)).unwrap();
        let secret: Secret = serde_json::from_value(json!({
            "metadata": {"name": format!("cluster-{name}"), "namespace": "sextant",
                         "labels": {"sextant.dev/secret-type": "cluster"}},
            "stringData": creds.secret_data(),
        }))
        .unwrap();
        secrets
            .create(&PostParams::default(), &secret)
            .await
            .unwrap();
    }
    if delay_ms > 0 {
        west.faults()
            .set(FaultRules {
                latency: Some(LatencyFault {
                    delay_ms,
                    ..LatencyFault::default()
                }),
                ..FaultRules::default()
            })
            .unwrap();
    }
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    make_repo(&repo, apps_per_cluster, deployment);
    let apps: Api<Application> = Api::namespaced(client.clone(), "sextant");
    for (c, cluster) in names.iter().enumerate() {
        for i in 0..apps_per_cluster {
            let app = json!({
                "apiVersion": "sextant.dev/v1alpha1", "kind": "Application",
                "metadata": {"name": format!("c{c}-app-{i}"), "namespace": "sextant"},
                "spec": {"project": "default",
                         "source": {"repoURL": format!("file://{}", repo.display()), "path": format!("app-{i}"), "targetRevision": "main"},
                         "destination": {"name": cluster, "namespace": format!("ns-{i}")},
                         "syncPolicy": {"automated": {"prune": true}, "syncOptions": ["CreateNamespace=true"]}},
            });
            apps.create(
                &PostParams::default(),
                &serde_json::from_value(app).unwrap(),
            )
            .await
            .unwrap();
        }
    }
    let config = ControllerConfig::new("sextant", dir.path().join("cache"));
    let started = Instant::now();
    let controller = Controller::start(client.clone(), config).await.unwrap();
    let mut done: HashMap<String, f64> = HashMap::new();
    let mut fast_done_at: Option<Instant> = None;
    let total = apps_per_cluster * names.len();
    loop {
        let list = apps.list(&ListParams::default()).await.unwrap();
        let now = started.elapsed().as_secs_f64();
        for a in &list.items {
            let name = a.metadata.name.clone().unwrap_or_default();
            let st = a.status.as_ref();
            let ok = st
                .and_then(|s| s.sync.as_ref())
                .is_some_and(|s| s.status == "Synced")
                && st
                    .and_then(|s| s.health.as_ref())
                    .is_some_and(|h| h.status == "Healthy");
            if ok {
                done.entry(name).or_insert(now);
            }
        }
        let fast = done
            .keys()
            .filter(|n| n.starts_with("c0-") || n.starts_with("c1-"))
            .count();
        if fast == 2 * apps_per_cluster && fast_done_at.is_none() {
            fast_done_at = Some(Instant::now());
        }
        if done.len() == total {
            break;
        }
        if let Some(t) = fast_done_at
            && t.elapsed() > slow_wait
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1800),
            "not done after 30 minutes: {} of {total}",
            done.len()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let mut clusters = Vec::new();
    for (c, cluster) in names.iter().enumerate() {
        let mut times: Vec<f64> = done
            .iter()
            .filter(|(n, _)| n.starts_with(&format!("c{c}-")))
            .map(|(_, t)| *t)
            .collect();
        times.sort_by(f64::total_cmp);
        let all = (times.len() == apps_per_cluster).then(|| times[times.len() - 1]);
        clusters.push(((*cluster).to_owned(), all, times));
    }
    controller.shutdown().await;
    for s in [home, east, west] {
        s.shutdown().await;
    }
    Outcome { clusters }
}

fn report(label: &str, o: &Outcome, apps: usize) {
    println!("{label}");
    for (name, all, times) in &o.clusters {
        println!(
            "  {name:<10} all {apps} Synced+Healthy: {}; per app first {:.1} s, p50 {:.1} s, p90 {:.1} s ({} done)",
            all.map_or_else(|| "not within the wait".to_owned(), |t| format!("{t:.1} s")),
            pct(times, 0.0),
            pct(times, 0.5),
            pct(times, 0.9),
            times.len()
        );
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let apps = env("CLUSTERS_APPS", 300);
    let delay = env("CLUSTERS_DELAY_MS", 2000) as u64;
    let runs = env("CLUSTERS_RUNS", 1).max(1);
    let slow_wait = Duration::from_secs(env("CLUSTERS_SLOW_WAIT_S", 120) as u64);
    let deployment = env("CLUSTERS_DEPLOYMENT", 0) == 1;
    println!(
        "{apps} apps per cluster ({}); slow cluster: west, {delay} ms per request",
        if deployment {
            "1 Deployment + 2 ConfigMaps each"
        } else {
            "3 ConfigMaps each"
        }
    );
    for r in 0..runs {
        let a = run(apps, 3, 0, deployment, slow_wait).await;
        report(
            &format!("run {} A: three clusters, no latency", r + 1),
            &a,
            apps,
        );
        let a2 = run(apps, 2, 0, deployment, slow_wait).await;
        report(
            &format!("run {} A2: in-cluster and east alone", r + 1),
            &a2,
            apps,
        );
        let b = run(apps, 3, delay, deployment, slow_wait).await;
        report(
            &format!("run {} B: three clusters, west {delay} ms late", r + 1),
            &b,
            apps,
        );
    }
}
