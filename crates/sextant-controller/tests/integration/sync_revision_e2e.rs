//! End to end: a sync deploys what Git holds when it is asked (the target
//! revision resolved again at that moment), not what the controller last
//! compared; an explicit revision is deployed as asked while HEAD moves on.

use crate::support;

use std::time::Duration;

use serde_json::json;
use sextant_model::Application;
use support::*;

fn history_revisions(a: &Application) -> Vec<String> {
    a.status
        .iter()
        .flat_map(|s| s.history.iter().flatten())
        .map(|h| h.revision.clone())
        .collect()
}

fn deployed_revision(a: &Application) -> String {
    a.status
        .as_ref()
        .and_then(|s| s.operation_state.as_ref())
        .and_then(|o| o.sync_result.as_ref())
        .map(|r| r.revision.clone())
        .unwrap_or_default()
}

/// `kubectl patch` with a JSON merge patch, as a user writes an operation
/// (async: localkube serves from this test's runtime).
async fn kubectl_patch(w: &World, name: &str, patch: &serde_json::Value) {
    let out = tokio::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(w.kubeconfig())
        .args(["-n", NS, "patch", "applications.sextant.dev", name])
        .args(["--type", "merge", "-p", &patch.to_string()])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "kubectl patch: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn a_sync_asked_right_after_a_commit_deploys_that_commit() {
    let mut w = World::new().await;
    let c1 = w.commit(&[("app/cm.yaml", &configmap("cfg", "1"))], "one");
    // No poll for an hour: only the sync itself can see the new commit.
    w.start_controller_with(|c| c.repo_poll_interval = Duration::from_secs(3600))
        .await;
    w.create_app("cfg", "app", "cfg", manual()).await;
    w.wait_app("cfg", 90, "compared at c1", |a| synced_revision(a) == c1)
        .await;
    w.request_sync("cfg", json!({})).await;
    w.wait_synced_healthy("cfg", &c1).await;

    let c2 = w.commit(&[("app/cm.yaml", &configmap("cfg", "2"))], "two");
    w.request_sync("cfg", json!({})).await;
    let app = w
        .wait_app("cfg", 90, "the sync to finish", |a| {
            op_phase(a) == "Succeeded" && a.operation.is_none() && deployed_revision(a) != c1
        })
        .await;
    assert_eq!(
        deployed_revision(&app),
        c2,
        "the sync deployed HEAD as it is now"
    );
    assert_eq!(w.configmap("cfg", "cfg").await.unwrap()["data"]["key"], "2");
    assert_eq!(history_revisions(&app), vec![c1.clone(), c2.clone()]);
    let message = app
        .status
        .as_ref()
        .and_then(|s| s.operation_state.as_ref())
        .and_then(|o| o.message.clone())
        .unwrap_or_default();
    assert!(!message.is_empty(), "the outcome is described");
    // The app is compared at the commit it now runs.
    w.wait_synced_healthy("cfg", &c2).await;
    w.stop_controller().await;
}

#[tokio::test]
async fn an_operation_written_with_kubectl_deploys_the_commit_git_holds_now() {
    let mut w = World::new().await;
    let c1 = w.commit(&[("app/cm.yaml", &configmap("cfg", "1"))], "one");
    w.start_controller_with(|c| c.repo_poll_interval = Duration::from_secs(3600))
        .await;
    w.create_app("cfg", "app", "cfg", manual()).await;
    w.wait_app("cfg", 90, "compared at c1", |a| synced_revision(a) == c1)
        .await;
    let c2 = w.commit(&[("app/cm.yaml", &configmap("cfg", "2"))], "two");
    kubectl_patch(&w, "cfg", &json!({"operation": {"sync": {}}})).await;
    let app = w
        .wait_app("cfg", 90, "the sync to finish", |a| {
            op_phase(a) == "Succeeded" && a.operation.is_none()
        })
        .await;
    assert_eq!(deployed_revision(&app), c2);
    assert_eq!(w.configmap("cfg", "cfg").await.unwrap()["data"]["key"], "2");
    assert_eq!(history_revisions(&app), vec![c2.clone()]);
    w.stop_controller().await;
}

#[tokio::test]
async fn a_sync_to_an_explicit_older_revision_deploys_it_while_head_moved_on() {
    let mut w = World::new().await;
    let c1 = w.commit(&[("app/cm.yaml", &configmap("cfg", "1"))], "one");
    let c2 = w.commit(&[("app/cm.yaml", &configmap("cfg", "2"))], "two");
    w.start_controller_with(|c| c.repo_poll_interval = Duration::from_secs(3600))
        .await;
    w.create_app("cfg", "app", "cfg", manual()).await;
    w.wait_app("cfg", 90, "compared at c2", |a| synced_revision(a) == c2)
        .await;
    let c3 = w.commit(&[("app/cm.yaml", &configmap("cfg", "3"))], "three");
    w.request_sync("cfg", json!({"revision": c1})).await;
    let app = w
        .wait_app("cfg", 90, "the sync to finish", |a| {
            op_phase(a) == "Succeeded" && a.operation.is_none()
        })
        .await;
    assert_eq!(deployed_revision(&app), c1);
    assert_eq!(w.configmap("cfg", "cfg").await.unwrap()["data"]["key"], "1");
    assert_eq!(history_revisions(&app), vec![c1.clone()]);
    // The app is compared with HEAD, which it does not run.
    let app = w
        .wait_app("cfg", 90, "OutOfSync with HEAD", |a| {
            sync_status(a) == "OutOfSync" && synced_revision(a) == c3
        })
        .await;
    assert_eq!(history_revisions(&app), vec![c1]);
    w.stop_controller().await;
}
