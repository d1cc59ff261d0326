//! Webhook benchmark: from `git push` to the object applied in the
//! cluster, with the push posting the webhook.
//!
//! A bare repository is served by `git http-backend` behind
//! sextant-testkit's smart-HTTP server (push enabled); its `post-receive`
//! hook posts a GitHub-style push event to `sextant server`'s
//! `/api/webhook` (with `curl`, as a Git server's webhook would, signed
//! with the shared secret). localkube, the controller (Git poll: one hour,
//! so only the webhook can bring the commit) and the server run in this
//! process. One Application (automated) follows the repository over HTTP.
//! Each round commits a new value of a ConfigMap in a working clone,
//! pushes it over HTTP, and times until the cluster holds the new value.
//!
//! ```sh
//! cargo bench -p sextant-cli --bench webhook
//! cargo bench -p sextant-cli --bench webhook -- --rounds 50
//! ```
//!
//! Also runs the same rounds without the hook (the controller polling
//! every `--poll-s`, default 10 s), for comparison.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmark code: a panic is a failure report"
)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use kube::api::{Api, DynamicObject, PostParams};
use kube::discovery::ApiResource;
use serde_json::json;
use sextant_controller::{Controller, ControllerConfig};
use sextant_server::{Server, ServerConfig, TlsMode};
use sextant_testkit::{HttpGitServer, git};

const NS: &str = "sextant";
const SECRET: &str = "bench-secret";

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn configmap(value: usize) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bench\ndata:\n  round: \"{value}\"\n"
    )
}

/// The post-receive hook: one signed GitHub push event per ref.
fn hook(webhook: &str, repo_url: &str) -> String {
    format!(
        r#"#!/bin/sh
while read old new ref; do
  body="{{\"ref\":\"$ref\",\"after\":\"$new\",\"repository\":{{\"clone_url\":\"{repo_url}\",\"default_branch\":\"main\"}},\"commits\":[]}}"
  sig=$(printf '%s' "$body" | openssl dgst -sha256 -hmac '{SECRET}' | sed 's/^.*= //')
  curl -s -o /dev/null -X POST -H 'Content-Type: application/json' -H 'X-GitHub-Event: push' \
    -H "X-Hub-Signature-256: sha256=$sig" --data-binary "$body" '{webhook}'
done
"#
    )
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn value_in_cluster(client: &kube::Client) -> Option<String> {
    let ar = ApiResource {
        group: String::new(),
        version: "v1".into(),
        api_version: "v1".into(),
        kind: "ConfigMap".into(),
        plural: "configmaps".into(),
    };
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), "bench", &ar);
    let cm = api.get_opt("bench").await.ok()??;
    cm.data["data"]["round"].as_str().map(str::to_owned)
}

/// Commit `value`, push over HTTP, and time until the cluster has it.
async fn round(client: &kube::Client, work: &Path, value: usize) -> (f64, f64) {
    std::fs::write(work.join("app/cm.yaml"), configmap(value)).unwrap();
    git(work, &["commit", "-q", "-am", &format!("round {value}")]);
    let t0 = Instant::now();
    let out = Command::new("git")
        .args(["push", "-q", "origin", "main"])
        .current_dir(work)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git push: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pushed = t0.elapsed().as_secs_f64();
    let want = value.to_string();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if value_in_cluster(client).await.as_deref() == Some(want.as_str()) {
            return (pushed, t0.elapsed().as_secs_f64());
        }
        assert!(
            Instant::now() < deadline,
            "round {value}: the value never reached the cluster"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::main]
async fn main() {
    let rounds = arg("--rounds", 20) as usize;
    let poll_s = arg("--poll-s", 10);
    let _ = rustls::crypto::ring::default_provider().install_default();
    for tool in ["curl", "openssl"] {
        assert!(
            Command::new(tool).arg("--version").output().is_ok()
                || Command::new(tool).arg("version").output().is_ok(),
            "{tool} is needed by the hook"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("git");
    let bare = root.join("gitops.git");
    std::fs::create_dir_all(&bare).unwrap();
    git(&bare, &["init", "-q", "--bare", "-b", "main"]);
    git(&bare, &["config", "http.receivepack", "true"]);
    let http = HttpGitServer::start(&root, None);
    let repo_url = http.url("gitops.git");

    let work = dir.path().join("work");
    std::fs::create_dir_all(work.join("app")).unwrap();
    git(&work, &["init", "-q", "-b", "main"]);
    std::fs::write(work.join("app/cm.yaml"), configmap(0)).unwrap();
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-q", "-m", "round 0"]);
    git(&work, &["remote", "add", "origin", &repo_url]);
    git(&work, &["push", "-q", "origin", "main"]);

    let lk = localkube::LocalKube::start(localkube::Config {
        kubeconfig: Some(dir.path().join("kubeconfig")),
        ..localkube::Config::default()
    })
    .await
    .unwrap();
    let client = lk.client().await.unwrap();
    let crds = ApiResource::erase::<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition>(&());
    let crd_api: Api<DynamicObject> = Api::all_with(client.clone(), &crds);
    for crd in sextant_model::crd::all() {
        crd_api
            .create(
                &PostParams::default(),
                &serde_json::from_value(crd).unwrap(),
            )
            .await
            .unwrap();
    }
    let nss: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    nss.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": NS}})).unwrap(),
    )
    .await
    .unwrap();
    let secrets: Api<k8s_openapi::api::core::v1::Secret> = Api::namespaced(client.clone(), NS);
    secrets
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "sextant-webhook"}, "stringData": {"github.secret": SECRET}}))
                .unwrap(),
        )
        .await
        .unwrap();
    let mut sc = ServerConfig::new(NS, dir.path().join("server-cache"));
    sc.tls = TlsMode::Insecure;
    sc.listen = "127.0.0.1:0".parse().unwrap();
    let server = Server::start(client.clone(), sc).await.unwrap();
    server.ready().await;
    let webhook = format!("{}/api/webhook", server.url().trim_end_matches('/'));

    let apps: Api<sextant_model::Application> = Api::namespaced(client.clone(), NS);
    let app = json!({
        "apiVersion": "sextant.dev/v1alpha1", "kind": "Application",
        "metadata": {"name": "bench", "namespace": NS},
        "spec": {
            "project": "default",
            "source": {"repoURL": repo_url, "path": "app", "targetRevision": "main"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "bench"},
            "syncPolicy": {"automated": {"prune": true}, "syncOptions": ["CreateNamespace=true"]},
        },
    });
    apps.create(
        &PostParams::default(),
        &serde_json::from_value(app).unwrap(),
    )
    .await
    .unwrap();

    let mut results = Vec::new();
    for (label, with_hook, poll) in [
        ("webhook (poll 1 h)", true, Duration::from_secs(3600)),
        ("poll only", false, Duration::from_secs(poll_s)),
    ] {
        let hook_path = bare.join("hooks/post-receive");
        if with_hook {
            std::fs::write(&hook_path, hook(&webhook, &repo_url)).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&hook_path, std::fs::Permissions::from_mode(0o755)).unwrap();
        } else {
            let _ = std::fs::remove_file(&hook_path);
        }
        let mut cc = ControllerConfig::new(NS, dir.path().join(format!("cache-{with_hook}")));
        cc.repo_poll_interval = poll;
        let controller = Controller::start(client.clone(), cc).await.unwrap();
        // The app is synced at what the repository holds before timing.
        let start_value = (results.len() + 1) * 1000;
        let _ = round(&client, &work, start_value).await;
        let n = if with_hook { rounds } else { rounds.min(5) };
        let (mut push, mut total) = (Vec::new(), Vec::new());
        for i in 1..=n {
            let (p, t) = round(&client, &work, start_value + i).await;
            push.push(p);
            total.push(t);
        }
        controller.shutdown().await;
        push.sort_by(f64::total_cmp);
        total.sort_by(f64::total_cmp);
        results.push((label, n, push, total));
    }
    println!();
    println!(
        "webhook: push over smart HTTP -> value in the cluster (localkube, one app, controller and server in-process)"
    );
    for (label, n, push, total) in &results {
        println!(
            "  {label:<20} {n:>3} rounds: push -> applied p50 {:>7.3} s, p90 {:>7.3} s, max {:>7.3} s (git push itself p50 {:.3} s)",
            percentile(total, 0.5),
            percentile(total, 0.9),
            total.last().copied().unwrap_or(f64::NAN),
            percentile(push, 0.5),
        );
    }
    drop(server);
    drop(lk);
}
