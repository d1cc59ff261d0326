//! Benchmark: what waves and hooks cost. One app of 1,000 objects synced
//! in one wave, then the same objects in five waves with a PreSync and a
//! PostSync Job, against in-process localkube with its simulated
//! controllers. The extra time should be the rollouts' and the Jobs' own
//! (each wave waits for its Deployments to be Healthy), not polling: the
//! controller's next pass comes with the next change of the app's objects.
//!
//! `cargo bench -p sextant-controller --bench waves` (`WAVES_OBJECTS`,
//! default 1000; `WAVES_RUNS`, default 3).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmark code: a panic is a failure report"
)]

use std::time::{Duration, Instant};

use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube::discovery::ApiResource;
use localkube::controllers::SimulationConfig;
use localkube::{Config, LocalKube};
use serde_json::json;
use sextant_controller::{Controller, ControllerConfig};
use sextant_model::Application;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn files(objects: usize, waves: usize, hooks: bool) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let deployments_per_wave = 2;
    for i in 0..objects {
        let wave = i * waves / objects;
        let annotation = if waves > 1 {
            format!("\n  annotations:\n    sextant.dev/sync-wave: \"{wave}\"")
        } else {
            String::new()
        };
        let is_deployment = i % (objects / waves).max(1) < deployments_per_wave;
        let text = if is_deployment {
            format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d{i}{annotation}\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {{app: d{i}}}\n  template:\n    metadata:\n      labels: {{app: d{i}}}\n    spec:\n      containers:\n      - name: main\n        image: nginx:1.27\n"
            )
        } else {
            format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}{annotation}\ndata:\n  key: \"{i}\"\n"
            )
        };
        out.push((format!("app/o{i}.yaml"), text));
    }
    if hooks {
        for (name, hook) in [("pre", "PreSync"), ("post", "PostSync")] {
            out.push((
                format!("app/{name}.yaml"),
                format!(
                    "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {name}\n  annotations:\n    sextant.dev/hook: {hook}\nspec:\n  backoffLimit: 0\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: main\n        image: busybox\n"
                ),
            ));
        }
    }
    out
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

/// Seconds from asking for the sync to its Succeeded outcome.
async fn run(objects: usize, waves: usize, hooks: bool) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let server = LocalKube::start(Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        kubeconfig: Some(dir.path().join("kubeconfig")),
        simulation: SimulationConfig::default(),
        ..Config::default()
    })
    .await
    .unwrap();
    let client = server.client().await.unwrap();
    let crd_resource = ApiResource::erase::<
        k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
    >(&());
    let crds: Api<DynamicObject> = Api::all_with(client.clone(), &crd_resource);
    for crd in sextant_model::crd::all() {
        let obj: DynamicObject =
            serde_json::from_value(serde_json::to_value(&crd).unwrap()).unwrap();
        crds.create(&PostParams::default(), &obj).await.unwrap();
    }
    let nss: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    nss.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": "sextant"}})).unwrap(),
    )
    .await
    .unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(repo.join("app")).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    for (path, text) in files(objects, waves, hooks) {
        std::fs::write(repo.join(path), text).unwrap();
    }
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "bench"]);
    let config = ControllerConfig::new("sextant", dir.path().join("cache"));
    let controller = Controller::start(client.clone(), config).await.unwrap();
    let apps: Api<Application> = Api::namespaced(client.clone(), "sextant");
    let app = json!({
        "apiVersion": "sextant.dev/v1alpha1", "kind": "Application",
        "metadata": {"name": "big", "namespace": "sextant"},
        "spec": {"project": "default",
                 "source": {"repoURL": format!("file://{}", repo.display()), "path": "app", "targetRevision": "main"},
                 "destination": {"server": "https://kubernetes.default.svc", "namespace": "big"},
                 "syncPolicy": {"syncOptions": ["CreateNamespace=true"]}},
    });
    apps.create(
        &PostParams::default(),
        &serde_json::from_value(app).unwrap(),
    )
    .await
    .unwrap();
    // Compared first, so the timing is the sync's alone.
    loop {
        let a = apps.get("big").await.unwrap();
        if a.status
            .as_ref()
            .and_then(|s| s.sync.as_ref())
            .is_some_and(|s| s.status == "OutOfSync")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let started = Instant::now();
    apps.patch(
        "big",
        &PatchParams::default(),
        &Patch::Merge(json!({"operation": {"sync": {}, "initiatedBy": {"username": "bench"}}})),
    )
    .await
    .unwrap();
    loop {
        let a = apps.get("big").await.unwrap();
        let phase = a
            .status
            .as_ref()
            .and_then(|s| s.operation_state.as_ref())
            .map(|o| o.phase.clone())
            .unwrap_or_default();
        if a.operation.is_none() && phase == "Succeeded" {
            break;
        }
        assert!(phase != "Failed", "the sync failed: {:?}", a.status);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let secs = started.elapsed().as_secs_f64();
    controller.shutdown().await;
    server.shutdown().await;
    secs
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let objects = env("WAVES_OBJECTS", 1000);
    let runs = env("WAVES_RUNS", 3).max(1);
    let mut one = Vec::new();
    let mut five = Vec::new();
    for _ in 0..runs {
        one.push(run(objects, 1, false).await);
        five.push(run(objects, 5, true).await);
    }
    println!("objects: {objects}, runs: {runs}");
    println!(
        "one wave, no hooks:        {:?} s, median {:.2} s",
        one,
        median(one.clone())
    );
    println!(
        "five waves, two Job hooks: {:?} s, median {:.2} s",
        five,
        median(five.clone())
    );
    println!(
        "extra: {:.2} s (five waves wait for their Deployments' rollouts, two Jobs run; localkube's pods start in 0.3 s and get Ready 0.3 s later, Jobs run 0.5 s)",
        median(five) - median(one)
    );
}
