//! End to end: bad input changes nothing and stays inside its app, manual
//! syncs (dry run, history, initiator), rollback, refresh on demand,
//! objects that are not ours, deletion with and without the finalizer,
//! and a controller killed in the middle of a sync.

use crate::support;

use std::time::Duration;

use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use localkube::faults::{FaultRules, LatencyFault, Match};
use serde_json::json;
use support::*;

#[tokio::test]
async fn a_malformed_manifest_fails_its_app_with_nothing_applied_and_other_apps_go_on() {
    let mut w = World::new().await;
    let c1 = w.commit(
        &[
            ("broken/ok.yaml", &configmap("first", "1")),
            (
                "broken/bad.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\ndata: [unclosed\n",
            ),
            ("fine/cm.yaml", &configmap("fine", "1")),
        ],
        "one good app, one broken",
    );
    w.start_controller().await;
    w.create_app("broken", "broken", "broken", automated(true, true))
        .await;
    w.create_app("fine", "fine", "fine", automated(true, true))
        .await;
    w.wait_synced_healthy("fine", &c1).await;
    let app = w
        .wait_app("broken", 90, "ComparisonError", |a| {
            condition(a, "ComparisonError").is_some()
        })
        .await;
    let message = condition(&app, "ComparisonError").unwrap();
    assert!(message.contains("bad.yaml"), "{message}");
    assert_eq!(sync_status(&app), "Unknown");
    // A sync asked for by hand fails too, and still nothing is applied.
    w.request_sync("broken", json!({"prune": true})).await;
    let app = w
        .wait_app("broken", 90, "the sync to fail", |a| {
            op_phase(a) == "Failed" && a.operation.is_none()
        })
        .await;
    let op = app.status.unwrap().operation_state.unwrap();
    assert!(op.message.unwrap().contains("bad.yaml"));
    assert!(w.configmap("broken", "first").await.is_none());
    assert!(w.configmap("broken", "bad").await.is_none());
    w.stop_controller().await;
}

#[tokio::test]
async fn preflight_refuses_an_invalid_object_and_leaves_the_cluster_untouched() {
    let mut w = World::new().await;
    let invalid = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: mismatched
spec:
  selector:
    matchLabels: {app: one}
  template:
    metadata:
      labels: {app: two}
    spec:
      containers:
      - name: main
        image: nginx:1.27
";
    w.commit(
        &[
            ("app/cm.yaml", &configmap("settings", "1")),
            ("app/deploy.yaml", invalid),
        ],
        "invalid",
    );
    w.start_controller().await;
    w.create_app("shop", "app", "shop", manual()).await;
    w.wait_app("shop", 90, "OutOfSync", |a| sync_status(a) == "OutOfSync")
        .await;
    w.request_sync("shop", json!({})).await;
    let app = w
        .wait_app("shop", 90, "the sync to fail", |a| op_phase(a) == "Failed")
        .await;
    let op = app.status.unwrap().operation_state.unwrap();
    let message = op.message.clone().unwrap();
    assert!(message.contains("preflight"), "{op:?}");
    // The message names the object refused and why, not only a count.
    assert!(
        message.contains("Deployment shop/mismatched: ") && message.contains("selector"),
        "{message}"
    );
    let results = op.sync_result.unwrap().resources.unwrap();
    let refused = results.iter().find(|r| r.name == "mismatched").unwrap();
    assert_eq!(refused.status.as_deref(), Some("SyncFailed"));
    assert!(
        refused.message.as_deref().unwrap().contains("selector"),
        "{refused:?}"
    );
    // Nothing changed: not even the namespace or the valid ConfigMap.
    assert!(w.configmap("shop", "settings").await.is_none());
    let ns = w
        .api("v1", "Namespace", "namespaces", None)
        .get_opt("shop")
        .await
        .unwrap();
    assert!(ns.is_none());
    w.stop_controller().await;
}

#[tokio::test]
async fn a_manual_app_waits_for_a_sync_and_a_dry_run_changes_nothing() {
    let mut w = World::new().await;
    let c1 = w.commit(&[("app/d.yaml", &deployment("web", "nginx:1.27"))], "one");
    w.start_controller().await;
    w.create_app("web", "app", "web", manual()).await;
    let app = w
        .wait_app("web", 90, "OutOfSync", |a| sync_status(a) == "OutOfSync")
        .await;
    assert_eq!(health(&app), "Missing");
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(
        w.deployment("web", "web").await.is_none(),
        "a manual app must not sync by itself"
    );

    w.request_sync("web", json!({"dryRun": true})).await;
    let app = w
        .wait_app("web", 90, "the dry run", |a| {
            op_phase(a) == "Succeeded" && a.operation.is_none()
        })
        .await;
    assert!(app.status.as_ref().unwrap().history.is_none());
    assert!(w.deployment("web", "web").await.is_none());

    // Every status the app goes through, to check the one the sync ends with.
    let seen = {
        let stream = kube::runtime::watcher(
            w.apps(),
            kube::runtime::watcher::Config::default().fields("metadata.name=web"),
        );
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let into = seen.clone();
        let (ready, listed) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            use futures::StreamExt;
            let mut stream = std::pin::pin!(kube::runtime::WatchStreamExt::applied_objects(stream));
            let mut ready = Some(ready);
            while let Some(Ok(app)) = stream.next().await {
                into.lock().unwrap().push(app);
                if let Some(r) = ready.take() {
                    let _ = r.send(());
                }
            }
        });
        // Watching before the sync is asked for.
        listed.await.unwrap();
        seen
    };
    w.request_sync("web", json!({})).await;
    let app = w.wait_synced_healthy("web", &c1).await;
    // The status that records the sync says Synced: no OutOfSync left over
    // from the comparison before it. (The watch may trail the polls.)
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !seen
        .lock()
        .unwrap()
        .iter()
        .any(|a| a.status.as_ref().is_some_and(|s| s.history.is_some()))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the watch never saw the sync"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let first_recorded = seen
        .lock()
        .unwrap()
        .iter()
        .find(|a| a.status.as_ref().is_some_and(|s| s.history.is_some()))
        .cloned()
        .expect("the sync's outcome was seen");
    assert_eq!(op_phase(&first_recorded), "Succeeded");
    assert_eq!(sync_status(&first_recorded), "Synced");
    let st = app.status.unwrap();
    let entry = &st.history.unwrap()[0];
    assert_eq!(entry.revision, c1);
    assert_eq!(
        entry.initiated_by.as_ref().unwrap().username.as_deref(),
        Some("tester")
    );
    let results = st
        .operation_state
        .unwrap()
        .sync_result
        .unwrap()
        .resources
        .unwrap();
    assert_eq!(results[0].message.as_deref(), Some("created"));
    w.stop_controller().await;
}

#[tokio::test]
async fn rollback_restores_the_previous_revisions_objects() {
    let mut w = World::new().await;
    let c1 = w.commit(
        &[
            ("app/d.yaml", &deployment("web", "nginx:1.27")),
            ("app/old.yaml", &configmap("old", "1")),
        ],
        "v1",
    );
    w.start_controller().await;
    w.create_app("web", "app", "web", manual()).await;
    w.wait_app("web", 90, "compared", |a| synced_revision(a) == c1)
        .await;
    w.request_sync("web", json!({})).await;
    w.wait_synced_healthy("web", &c1).await;
    let c2 = w.commit(
        &[
            ("app/d.yaml", &deployment("web", "nginx:1.28")),
            ("app/old.yaml", ""),
        ],
        "v2",
    );
    w.wait_app("web", 90, "c2 seen", |a| synced_revision(a) == c2)
        .await;
    w.request_sync("web", json!({"prune": true})).await;
    w.wait_synced_healthy("web", &c2).await;
    assert!(w.configmap("web", "old").await.is_none());

    // Roll back to history entry 0, as `sextant app rollback web 0` does.
    let app = w.app("web").await;
    let entry = app.status.unwrap().history.unwrap()[0].clone();
    assert_eq!(entry.revision, c1);
    w.request_sync(
        "web",
        json!({"revision": entry.revision, "source": entry.source}),
    )
    .await;
    w.wait_app("web", 90, "the rollback", |a| {
        op_phase(a) == "Succeeded" && a.operation.is_none()
    })
    .await;
    assert_eq!(
        image_of(&w.deployment("web", "web").await.unwrap()),
        "nginx:1.27"
    );
    assert!(w.configmap("web", "old").await.is_some());
    let app = w
        .wait_app("web", 90, "OutOfSync with HEAD", |a| {
            sync_status(a) == "OutOfSync"
        })
        .await;
    let history = app.status.unwrap().history.unwrap();
    assert_eq!(history.last().unwrap().revision, c1);
    w.stop_controller().await;
}

#[tokio::test]
async fn a_refresh_reads_git_at_once_instead_of_at_the_next_poll() {
    let mut w = World::new().await;
    let c1 = w.commit(&[("app/cm.yaml", &configmap("cfg", "1"))], "one");
    w.start_controller_with(|c| c.repo_poll_interval = Duration::from_secs(3600))
        .await;
    w.create_app("cfg", "app", "cfg", automated(true, false))
        .await;
    w.wait_synced_healthy("cfg", &c1).await;
    let c2 = w.commit(&[("app/cm.yaml", &configmap("cfg", "2"))], "two");
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        synced_revision(&w.app("cfg").await),
        c1,
        "no poll for an hour"
    );
    let patch = json!({"metadata": {"annotations": {"sextant.dev/refresh": "normal"}}});
    w.apps()
        .patch("cfg", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    w.wait_synced_healthy("cfg", &c2).await;
    w.wait_app("cfg", 90, "the refresh annotation to be removed", |a| {
        !a.metadata
            .annotations
            .as_ref()
            .is_some_and(|m| m.contains_key("sextant.dev/refresh"))
    })
    .await;
    assert_eq!(w.configmap("cfg", "cfg").await.unwrap()["data"]["key"], "2");
    w.stop_controller().await;
}

#[tokio::test]
async fn an_object_sextant_did_not_create_is_never_adopted_silently() {
    let mut w = World::new().await;
    let c1 = w.commit(&[("app/cm.yaml", &configmap("taken", "from-git"))], "one");
    let nss = w.api("v1", "Namespace", "namespaces", None);
    nss.create(
        &PostParams::default(),
        &serde_json::from_value(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}),
        )
        .unwrap(),
    )
    .await
    .unwrap();
    let cms = w.api("v1", "ConfigMap", "configmaps", Some("shop"));
    let theirs = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "taken", "namespace": "shop"}, "data": {"key": "theirs"}});
    cms.create(
        &PostParams::default(),
        &serde_json::from_value(theirs).unwrap(),
    )
    .await
    .unwrap();
    w.start_controller().await;
    w.create_app("shop", "app", "shop", automated(true, true))
        .await;
    let app = w
        .wait_app("shop", 90, "SharedResourceWarning", |a| {
            synced_revision(a) == c1 && condition(a, "SharedResourceWarning").is_some()
        })
        .await;
    assert!(
        condition(&app, "SharedResourceWarning")
            .unwrap()
            .contains("kubectl annotate")
    );
    assert_eq!(sync_status(&app), "OutOfSync");
    w.request_sync("shop", json!({})).await;
    let app = w
        .wait_app("shop", 90, "the sync to fail", |a| op_phase(a) == "Failed")
        .await;
    let msg = app
        .status
        .unwrap()
        .operation_state
        .unwrap()
        .message
        .unwrap();
    assert!(msg.contains("not managed by this app"), "{msg}");
    assert_eq!(
        w.configmap("shop", "taken").await.unwrap()["data"]["key"],
        "theirs"
    );
    w.stop_controller().await;
}

#[tokio::test]
async fn deleting_an_app_with_the_finalizer_deletes_its_objects_and_without_it_keeps_them() {
    let mut w = World::new().await;
    let c1 = w.commit(
        &[
            ("a/cm.yaml", &configmap("a", "1")),
            (
                "a/kept.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kept\n  annotations:\n    argocd.argoproj.io/sync-options: Delete=false\n",
            ),
            ("b/cm.yaml", &configmap("b", "1")),
        ],
        "one",
    );
    w.start_controller().await;
    w.create_app("cascade", "a", "a", automated(true, false))
        .await;
    w.create_app("orphan", "b", "b", automated(true, false))
        .await;
    w.wait_synced_healthy("cascade", &c1).await;
    w.wait_synced_healthy("orphan", &c1).await;
    let patch = json!({"metadata": {"finalizers": ["resources-finalizer.sextant.dev"]}});
    w.apps()
        .patch("cascade", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    w.apps()
        .delete("cascade", &DeleteParams::default())
        .await
        .unwrap();
    w.apps()
        .delete("orphan", &DeleteParams::default())
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    while w.apps().get_opt("cascade").await.unwrap().is_some() {
        assert!(
            std::time::Instant::now() < deadline,
            "the finalizer was never released"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        w.configmap("a", "a").await.is_none(),
        "cascade must delete the app's objects"
    );
    assert!(
        w.configmap("a", "kept").await.is_some(),
        "Delete=false outlives the app"
    );
    assert!(w.apps().get_opt("orphan").await.unwrap().is_none());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        w.configmap("b", "b").await.is_some(),
        "without the finalizer objects stay"
    );
    w.stop_controller().await;
}

#[tokio::test]
async fn a_controller_killed_mid_sync_converges_when_started_again() {
    let mut w = World::new().await;
    if w.localkube_only("slow ConfigMap writes are injected by localkube's faults") {
        return;
    }
    let files: Vec<(String, String)> = (0..30)
        .map(|i| (format!("app/cm{i}.yaml"), configmap(&format!("cm{i}"), "1")))
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let c1 = w.commit(&refs, "thirty");
    // Slow writes of ConfigMaps, so the sync is still running when killed.
    w.server
        .faults()
        .set(FaultRules {
            latency: Some(LatencyFault {
                delay_ms: 500,
                matches: Match {
                    resources: vec!["configmaps".into()],
                    verbs: vec!["patch".into()],
                    ..Match::default()
                },
                ..LatencyFault::default()
            }),
            ..FaultRules::default()
        })
        .unwrap();
    w.start_controller().await;
    w.create_app("many", "app", "many", automated(true, false))
        .await;
    w.wait_app("many", 90, "the sync to start", |a| {
        op_phase(a) == "Running"
    })
    .await;
    w.kill_controller();
    w.server.faults().clear();
    let app = w.app("many").await;
    assert_eq!(op_phase(&app), "Running", "killed mid-sync");
    w.start_controller().await;
    let app = w.wait_synced_healthy("many", &c1).await;
    assert_eq!(op_phase(&app), "Succeeded");
    for i in 0..30 {
        assert!(w.configmap("many", &format!("cm{i}")).await.is_some());
    }
    w.stop_controller().await;
}

#[tokio::test]
async fn a_partial_sync_applies_only_the_objects_named() {
    let mut w = World::new().await;
    let c1 = w.commit(
        &[
            ("app/a.yaml", &configmap("a", "1")),
            ("app/b.yaml", &configmap("b", "1")),
        ],
        "two",
    );
    w.start_controller().await;
    w.create_app("part", "app", "part", manual()).await;
    w.wait_app("part", 90, "OutOfSync", |a| sync_status(a) == "OutOfSync")
        .await;
    w.request_sync(
        "part",
        json!({"resources": [{"group": "", "kind": "ConfigMap", "name": "a"}]}),
    )
    .await;
    let app = w
        .wait_app("part", 90, "the partial sync", |a| {
            op_phase(a) == "Succeeded" && a.operation.is_none()
        })
        .await;
    assert!(w.configmap("part", "a").await.is_some());
    assert!(w.configmap("part", "b").await.is_none(), "b was not named");
    // What was left out keeps the app OutOfSync, at the revision compared.
    assert_eq!(sync_status(&app), "OutOfSync");
    assert_eq!(synced_revision(&app), c1);
    let resources = app.status.unwrap().resources.unwrap();
    let status_of = |name: &str| {
        resources
            .iter()
            .find(|r| r.name == name)
            .and_then(|r| r.status.clone())
            .unwrap()
    };
    assert_eq!(
        (status_of("a").as_str(), status_of("b").as_str()),
        ("Synced", "OutOfSync")
    );
    w.stop_controller().await;
}
