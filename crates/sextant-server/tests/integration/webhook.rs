//! `POST /api/webhook`: a signed push refreshes the Applications and
//! ApplicationSets that follow the pushed branch, so a commit is deployed
//! without waiting for the poll (an hour here); unsigned, wrongly signed
//! and malformed requests are refused and change nothing.

use crate::support;

use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::PostParams;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;
use support::{NS, World, configmap};

const SECRET: &str = "webhook-s3cret";

fn sign(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

async fn webhook_secret(w: &World) {
    let secrets: Api<Secret> = Api::namespaced(w.client.clone(), NS);
    secrets
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({
                "metadata": {"name": "sextant-webhook"},
                "stringData": {"github.secret": SECRET},
            }))
            .unwrap(),
        )
        .await
        .unwrap();
}

/// A GitHub push of `main` touching `files`.
fn push_body(w: &World, files: &[&str]) -> Vec<u8> {
    let url = format!("file://{}", w.repo.display());
    serde_json::to_vec(&json!({
        "ref": "refs/heads/main",
        "repository": {"html_url": url, "clone_url": url, "default_branch": "main"},
        "commits": [{"added": [], "modified": files, "removed": []}],
    }))
    .unwrap()
}

async fn post(
    w: &World,
    event: &str,
    signature: Option<&str>,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let mut req = w
        .http
        .post(format!("{}/api/webhook", w.url))
        .header("X-GitHub-Event", event)
        .header("Content-Type", "application/json");
    if let Some(s) = signature {
        req = req.header("X-Hub-Signature-256", s);
    }
    let resp = req.body(body).send().await.unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn revision(app: &Value) -> &str {
    app["status"]["sync"]["revision"].as_str().unwrap_or("")
}

#[tokio::test]
async fn a_signed_push_deploys_the_commit_without_waiting_for_the_poll() {
    // Webhook requests are counted by result (sextant_webhook_requests_total).
    sextant_metrics::install();
    let mut w = World::new().await;
    webhook_secret(&w).await;
    let c1 = w.commit(
        &[
            ("apps/web/cm.yaml", &configmap("web", "1")),
            ("apps/api/cm.yaml", &configmap("api", "1")),
        ],
        "one",
    );
    w.start_controller_polling(Duration::from_secs(3600)).await;
    let admin = w.admin().await;
    w.create_app(w.app("web", "default", "apps/web", "web", true))
        .await;
    let mut api = w.app("api", "default", "apps/api", "api", true);
    // Only a push touching its own folder concerns it.
    api["metadata"]["annotations"] = json!({"argocd.argoproj.io/manifest-generate-paths": "."});
    w.create_app(api).await;
    let mut other = w.app("other", "default", "apps/web", "other", true);
    other["spec"]["source"]["targetRevision"] = json!("dev");
    w.create_app(other).await;
    for app in ["web", "api"] {
        w.wait_app(&admin, app, "synced at c1", |a| revision(a) == c1)
            .await;
    }

    let c2 = w.commit(&[("apps/web/cm.yaml", &configmap("web", "2"))], "two");
    // Refused: no signature, a wrong one; ignored: not a push.
    let body = push_body(&w, &["apps/web/cm.yaml"]);
    let (status, answer) = post(&w, "push", None, body.clone()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("X-Hub-Signature-256"),
        "{answer}"
    );
    let mut forged = body.clone();
    forged.extend(b" ");
    let (status, _) = post(&w, "push", Some(&sign(&body)), forged).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = post(&w, "push", Some(&sign(b"{not json")), b"{not json".to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, answer) = post(&w, "ping", Some(&sign(b"{}")), b"{}".to_vec()).await;
    assert_eq!(
        (status, answer["ignored"].as_str()),
        (StatusCode::OK, Some("not a push event"))
    );
    let counted = sextant_metrics::render();
    for (result, at_least) in [("unauthorized", 2.0), ("malformed", 1.0), ("ignored", 1.0)] {
        let line =
            format!("sextant_webhook_requests_total{{provider=\"github\",result=\"{result}\"}} ");
        let n: f64 = counted
            .lines()
            .find_map(|l| l.strip_prefix(&line))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        assert!(n >= at_least, "{result}: {counted}");
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (_, web) = w.get("/api/v1/applications/web", &admin).await;
    assert_eq!(
        revision(&web),
        c1,
        "nothing refreshed web before a valid push (the poll is an hour)"
    );

    // The signed push: web is refreshed and deploys c2; api (its folder
    // untouched) and other (another branch) are not asked.
    let started = Instant::now();
    let (status, answer) = post(&w, "push", Some(&sign(&body)), body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["applications"], json!(["web"]), "{answer}");
    w.wait_app(&admin, "web", "synced at c2", |a| {
        revision(a) == c2 && a["status"]["sync"]["status"] == "Synced"
    })
    .await;
    eprintln!(
        "push -> web Synced at the new commit in {:?}",
        started.elapsed()
    );
    let (_, api) = w.get("/api/v1/applications/api", &admin).await;
    assert_eq!(revision(&api), c1);
}

#[tokio::test]
async fn a_push_refreshes_the_application_sets_that_read_the_branch() {
    let mut w = World::new().await;
    webhook_secret(&w).await;
    w.commit(&[("apps/web/cm.yaml", &configmap("web", "1"))], "web");
    w.start_controller_polling(Duration::from_secs(3600)).await;
    let repo = format!("file://{}", w.repo.display());
    let sets: Api<sextant_model::ApplicationSet> = Api::namespaced(w.client.clone(), NS);
    let set = json!({
        "apiVersion": "sextant.dev/v1alpha1", "kind": "ApplicationSet",
        "metadata": {"name": "services", "namespace": NS},
        "spec": {
            "generators": [{"git": {"repoURL": repo, "revision": "main", "directories": [{"path": "apps/*"}]}}],
            "template": {
                "metadata": {"name": "{{path.basename}}"},
                "spec": {
                    "project": "default",
                    "source": {"repoURL": repo, "targetRevision": "main", "path": "{{path}}"},
                    "destination": {"server": "https://kubernetes.default.svc", "namespace": "{{path.basename}}"},
                },
            },
        },
    });
    sets.create(
        &PostParams::default(),
        &serde_json::from_value(set).unwrap(),
    )
    .await
    .unwrap();
    let apps: Api<sextant_model::Application> = Api::namespaced(w.client.clone(), NS);
    w.eventually("the set makes web", async || {
        apps.get_opt("web").await.unwrap().is_some()
    })
    .await;

    w.commit(&[("apps/api/cm.yaml", &configmap("api", "1"))], "api");
    let body = push_body(&w, &["apps/api/cm.yaml"]);
    let (status, answer) = post(&w, "push", Some(&sign(&body)), body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["applicationSets"], json!(["services"]), "{answer}");
    w.eventually("the set makes api", async || {
        apps.get_opt("api").await.unwrap().is_some()
    })
    .await;
    // The refresh annotation is taken off once acted on.
    w.eventually("the set's refresh annotation is removed", async || {
        let s = sets.get("services").await.unwrap();
        !s.metadata
            .annotations
            .unwrap_or_default()
            .contains_key("sextant.dev/application-set-refresh")
    })
    .await;
}
