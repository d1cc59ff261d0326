//! End to end: phases, waves and hooks. A later wave starts only when the
//! one before is Healthy; a PreSync hook runs first and, when it fails,
//! nothing of the Sync phase is applied and the SyncFail hooks run;
//! PostSync hooks run once the Sync phase is Healthy; delete policies;
//! duplicates are refused before anything is applied.

use crate::support;

use std::time::Duration;

use serde_json::{Value, json};
use sextant_model::Application;
use support::*;

fn job(name: &str, image: &str, annotations: &str) -> String {
    format!(
        "apiVersion: batch/v1
kind: Job
metadata:
  name: {name}
  annotations:
{annotations}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: {image}
"
    )
}

fn annotated_configmap(name: &str, annotations: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  annotations:\n{annotations}\ndata:\n  key: \"1\"\n"
    )
}

fn rv(obj: &Value) -> u64 {
    obj["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

fn results(a: &Application) -> Vec<sextant_model::application::ResourceResult> {
    a.status
        .as_ref()
        .and_then(|s| s.operation_state.as_ref())
        .and_then(|o| o.sync_result.as_ref())
        .and_then(|r| r.resources.clone())
        .unwrap_or_default()
}

fn op_message(a: &Application) -> String {
    a.status
        .as_ref()
        .and_then(|s| s.operation_state.as_ref())
        .and_then(|o| o.message.clone())
        .unwrap_or_default()
}

async fn job_of(w: &World, ns: &str, name: &str) -> Option<Value> {
    let api = w.api("batch/v1", "Job", "jobs", Some(ns));
    api.get_opt(name)
        .await
        .unwrap()
        .map(|d| serde_json::to_value(d).unwrap())
}

#[tokio::test]
async fn a_presync_hook_runs_first_and_a_later_wave_waits_for_the_earlier_one_to_be_healthy() {
    let mut w = World::new().await;
    let c1 = w.commit(
        &[
            (
                "app/migrate.yaml",
                &job("migrate", "busybox", "    sextant.dev/hook: PreSync"),
            ),
            ("app/web.yaml", &deployment("web", "nginx:1.27")),
            (
                "app/after.yaml",
                &annotated_configmap("after", "    argocd.argoproj.io/sync-wave: \"1\""),
            ),
        ],
        "waves",
    );
    w.start_controller().await;
    w.create_app("web", "app", "web", manual()).await;
    w.wait_app("web", 90, "compared", |a| synced_revision(a) == c1)
        .await;
    w.request_sync("web", json!({})).await;
    let app = w
        .wait_app("web", 120, "the sync to succeed", |a| {
            op_phase(a) == "Succeeded" && a.operation.is_none()
        })
        .await;
    let migrate = job_of(&w, "web", "migrate")
        .await
        .expect("the hook ran and is kept");
    let web = w.deployment("web", "web").await.unwrap();
    let after = w.configmap("web", "after").await.unwrap();
    // The Deployment came after the hook finished, the wave-1 ConfigMap
    // after the Deployment was Healthy (resourceVersions order writes).
    assert!(
        rv(&web) > rv(&migrate),
        "deployment {} after hook {}",
        rv(&web),
        rv(&migrate)
    );
    assert!(
        rv(&after) > rv(&web),
        "wave 1 ({}) after wave 0 was Healthy ({})",
        rv(&after),
        rv(&web)
    );
    let r = results(&app);
    let hook = r.iter().find(|r| r.name == "migrate").unwrap();
    assert_eq!(hook.hook_type.as_deref(), Some("PreSync"));
    assert_eq!(hook.sync_phase.as_deref(), Some("PreSync"));
    assert_eq!(hook.hook_phase.as_deref(), Some("Succeeded"));
    let wave = r.iter().find(|r| r.name == "after").unwrap();
    assert_eq!(wave.sync_wave, Some(1));
    // A hook is not part of the app's sync status.
    let app = w.wait_synced_healthy("web", &c1).await;
    let listed: Vec<String> = app
        .status
        .unwrap()
        .resources
        .unwrap()
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert!(!listed.contains(&"migrate".to_owned()), "{listed:?}");
    w.stop_controller().await;
}

#[tokio::test]
async fn a_wave_that_never_gets_healthy_holds_the_next_and_fails_after_the_timeout() {
    let mut w = World::new().await;
    let c1 = w.commit(
        &[
            ("app/web.yaml", &deployment("web", "nginx-neverready")),
            (
                "app/after.yaml",
                &annotated_configmap("after", "    sextant.dev/sync-wave: \"1\""),
            ),
        ],
        "stuck",
    );
    w.start_controller_with(|c| c.sync_wait_timeout = Duration::from_secs(4))
        .await;
    w.create_app("web", "app", "web", manual()).await;
    w.wait_app("web", 90, "compared", |a| synced_revision(a) == c1)
        .await;
    w.request_sync("web", json!({})).await;
    let waiting = w
        .wait_app("web", 90, "the sync to wait on the Deployment", |a| {
            op_phase(a) == "Running" && op_message(a).contains("Deployment.apps web/web")
        })
        .await;
    assert!(
        op_message(&waiting).starts_with("waiting"),
        "{}",
        op_message(&waiting)
    );
    assert!(w.configmap("web", "after").await.is_none(), "wave 1 waits");
    let app = w
        .wait_app("web", 90, "the sync to fail", |a| {
            op_phase(a) == "Failed" && a.operation.is_none()
        })
        .await;
    assert!(
        op_message(&app).contains("Deployment.apps web/web"),
        "{}",
        op_message(&app)
    );
    assert!(
        w.configmap("web", "after").await.is_none(),
        "wave 1 never started"
    );
    w.stop_controller().await;
}

#[tokio::test]
async fn a_failing_presync_hook_leaves_the_sync_phase_unapplied_and_runs_the_sync_fail_hooks() {
    let mut w = World::new().await;
    let c1 = w.commit(
        &[
            (
                "app/migrate.yaml",
                &job("migrate", "migrate-fail", "    sextant.dev/hook: PreSync"),
            ),
            ("app/cfg.yaml", &configmap("cfg", "1")),
            (
                "app/cleanup.yaml",
                &annotated_configmap("cleanup", "    argocd.argoproj.io/hook: SyncFail"),
            ),
        ],
        "failing hook",
    );
    w.start_controller().await;
    w.create_app("web", "app", "web", manual()).await;
    w.wait_app("web", 90, "compared", |a| synced_revision(a) == c1)
        .await;
    w.request_sync("web", json!({})).await;
    let app = w
        .wait_app("web", 120, "the sync to fail", |a| {
            op_phase(a) == "Failed" && a.operation.is_none()
        })
        .await;
    assert!(op_message(&app).contains("migrate"), "{}", op_message(&app));
    assert!(
        w.configmap("web", "cfg").await.is_none(),
        "Sync phase not applied"
    );
    assert!(
        w.configmap("web", "cleanup").await.is_some(),
        "the SyncFail hook ran"
    );
    let r = results(&app);
    let cleanup = r.iter().find(|r| r.name == "cleanup").unwrap();
    assert_eq!(cleanup.sync_phase.as_deref(), Some("SyncFail"));
    w.stop_controller().await;
}

#[tokio::test]
async fn post_sync_hooks_run_after_the_sync_phase_and_hook_succeeded_deletes_them() {
    let mut w = World::new().await;
    let c1 = w.commit(
        &[
            ("app/web.yaml", &deployment("web", "nginx:1.27")),
            (
                "app/smoke.yaml",
                &job(
                    "smoke",
                    "busybox",
                    "    sextant.dev/hook: PostSync\n    sextant.dev/hook-delete-policy: HookSucceeded",
                ),
            ),
        ],
        "smoke test",
    );
    w.start_controller().await;
    w.create_app("web", "app", "web", manual()).await;
    w.wait_app("web", 90, "compared", |a| synced_revision(a) == c1)
        .await;
    w.request_sync("web", json!({})).await;
    let app = w
        .wait_app("web", 120, "the sync to succeed", |a| {
            op_phase(a) == "Succeeded" && a.operation.is_none()
        })
        .await;
    let r = results(&app);
    let smoke = r.iter().find(|r| r.name == "smoke").unwrap();
    assert_eq!(smoke.sync_phase.as_deref(), Some("PostSync"));
    assert_eq!(smoke.hook_phase.as_deref(), Some("Succeeded"));
    let web = w.deployment("web", "web").await.unwrap();
    assert_eq!(
        web["status"]["availableReplicas"], 1,
        "PostSync ran once the Deployment was Healthy"
    );
    let mut gone = false;
    for _ in 0..100 {
        if job_of(&w, "web", "smoke").await.is_none() {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(gone, "HookSucceeded deletes the hook");
    // The deleted hook is not something to prune, nor part of the status.
    let app = w.wait_synced_healthy("web", &c1).await;
    assert!(
        app.status
            .unwrap()
            .resources
            .unwrap()
            .iter()
            .all(|r| r.name != "smoke")
    );
    w.stop_controller().await;
}

#[tokio::test]
async fn two_objects_with_one_name_are_refused_naming_both_files_and_nothing_is_applied() {
    let mut w = World::new().await;
    w.commit(
        &[
            ("app/a.yaml", &configmap("cfg", "1")),
            ("app/b.yaml", &configmap("cfg", "2")),
            ("app/other.yaml", &configmap("other", "1")),
        ],
        "twice",
    );
    w.start_controller().await;
    w.create_app("web", "app", "web", automated(true, true))
        .await;
    let app = w
        .wait_app("web", 90, "a ComparisonError", |a| {
            condition(a, "ComparisonError").is_some()
        })
        .await;
    let message = condition(&app, "ComparisonError").unwrap();
    assert!(
        message.contains("a.yaml") && message.contains("b.yaml") && message.contains("cfg"),
        "{message}"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        w.configmap("web", "other").await.is_none(),
        "nothing applied"
    );
    assert!(w.configmap("web", "cfg").await.is_none(), "nothing applied");
    w.stop_controller().await;
}

#[tokio::test]
async fn unknown_sync_options_show_as_a_condition_and_client_side_apply_records_last_applied() {
    let mut w = World::new().await;
    let c1 = w.commit(&[("app/cm.yaml", &configmap("cfg", "1"))], "one");
    w.start_controller().await;
    w.create_app(
        "typo",
        "app",
        "typo",
        json!({"syncOptions": ["CreateNamespace=true", "PruneLastt=true"]}),
    )
    .await;
    let app = w
        .wait_app("typo", 90, "an InvalidSpecError", |a| {
            condition(a, "InvalidSpecError").is_some()
        })
        .await;
    let message = condition(&app, "InvalidSpecError").unwrap();
    assert!(message.contains("PruneLastt=true"), "{message}");
    w.request_sync("typo", json!({})).await;
    let app = w
        .wait_app("typo", 90, "the sync to be refused", |a| {
            op_phase(a) == "Failed" && a.operation.is_none()
        })
        .await;
    assert!(
        op_message(&app).contains("PruneLastt"),
        "{}",
        op_message(&app)
    );
    assert!(
        w.configmap("typo", "cfg").await.is_none(),
        "nothing applied"
    );

    // ServerSideApply=false: kubectl's client-side apply, with its record.
    w.create_app(
        "csa",
        "app",
        "csa",
        json!({"syncOptions": ["CreateNamespace=true", "ServerSideApply=false"]}),
    )
    .await;
    w.wait_app("csa", 90, "compared", |a| synced_revision(a) == c1)
        .await;
    w.request_sync("csa", json!({})).await;
    w.wait_synced_healthy("csa", &c1).await;
    let live = w.configmap("csa", "cfg").await.unwrap();
    let recorded =
        live["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
    assert!(recorded.contains("\"key\":\"1\""), "{recorded}");
    // A key Git drops is removed, as kubectl apply would.
    let c2 = w.commit(
        &[(
            "app/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  other: \"2\"\n",
        )],
        "two",
    );
    w.wait_app("csa", 90, "c2 compared", |a| synced_revision(a) == c2)
        .await;
    w.request_sync("csa", json!({})).await;
    w.wait_app("csa", 90, "the sync", |a| {
        op_phase(a) == "Succeeded" && a.operation.is_none()
    })
    .await;
    let live = w.configmap("csa", "cfg").await.unwrap();
    assert_eq!(live["data"]["other"], "2");
    assert!(live["data"].get("key").is_none(), "{live}");
    w.stop_controller().await;
}

#[tokio::test]
async fn a_terminated_sync_stops_at_a_safe_point_and_ends_failed() {
    let mut w = World::new().await;
    let c1 = w.commit(
        &[
            (
                "app/web.yaml",
                // Never Ready, and not given up on soon (kube-controller-
                // manager would call a short deadline Degraded first).
                &deployment("web", "nginx-neverready")
                    .replace("progressDeadlineSeconds: 2", "progressDeadlineSeconds: 600"),
            ),
            (
                "app/after.yaml",
                &annotated_configmap("after", "    sextant.dev/sync-wave: \"1\""),
            ),
        ],
        "stuck",
    );
    w.start_controller().await;
    w.create_app("web", "app", "web", manual()).await;
    w.wait_app("web", 90, "compared", |a| synced_revision(a) == c1)
        .await;
    w.request_sync("web", json!({})).await;
    w.wait_app("web", 90, "the sync to wait on the Deployment", |a| {
        op_phase(a) == "Running" && op_message(a).starts_with("waiting")
    })
    .await;
    // As `sextant app terminate-op` (and Argo CD's API server) do: set
    // Terminating, and ask again if a controller write put Running back.
    let patch = json!({"status": {"operationState": {"phase": "Terminating", "message": "terminated by tester"}}});
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    let app = loop {
        let a = w.app("web").await;
        if op_phase(&a) == "Failed" && a.operation.is_none() {
            break a;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the sync never stopped"
        );
        if op_phase(&a) == "Running" {
            w.apps()
                .patch_status(
                    "web",
                    &kube::api::PatchParams::default(),
                    &kube::api::Patch::Merge(&patch),
                )
                .await
                .unwrap();
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert!(
        op_message(&app).contains("terminated by tester"),
        "{}",
        op_message(&app)
    );
    assert!(
        w.configmap("web", "after").await.is_none(),
        "nothing more started"
    );
    assert!(
        w.event_reasons("web")
            .await
            .contains(&"SyncFailed".to_owned())
    );
    w.stop_controller().await;
}

#[tokio::test]
async fn a_failed_automated_sync_is_retried_with_backoff_and_succeeds_once_its_cause_is_gone() {
    let mut w = World::new().await;
    let c1 = w.commit(&[("app/cm.yaml", &configmap("cfg", "1"))], "one");
    w.start_controller().await;
    // No CreateNamespace and no namespace: the first sync fails preflight.
    w.create_app(
        "cfg",
        "app",
        "later",
        json!({"automated": {"prune": true}, "retry": {"limit": 5, "backoff": {"duration": "1s", "factor": 2, "maxDuration": "4s"}}}),
    )
    .await;
    let app = w
        .wait_app("cfg", 90, "a failed sync with a retry due", |a| {
            op_phase(a) == "Failed"
                && condition(a, "SyncError").is_some_and(|m| m.contains("retrying (attempt"))
        })
        .await;
    let message = condition(&app, "SyncError").unwrap();
    assert!(message.contains("of 5"), "{message}");
    let nss: kube::Api<k8s_openapi::api::core::v1::Namespace> = kube::Api::all(w.client.clone());
    nss.create(
        &Default::default(),
        &serde_json::from_value(json!({"metadata": {"name": "later"}})).unwrap(),
    )
    .await
    .unwrap();
    let app = w.wait_synced_healthy("cfg", &c1).await;
    let state = app
        .status
        .as_ref()
        .unwrap()
        .operation_state
        .as_ref()
        .unwrap();
    assert_eq!(state.phase, "Succeeded");
    assert!(state.retry_count.unwrap_or(0) >= 1, "{state:?}");
    assert!(w.configmap("later", "cfg").await.is_some());
    w.stop_controller().await;
}

/// `sextant app sync --retry-limit N` (issue 19): a failed user sync with
/// `operation.retry` stays Running while it waits out its backoff, is run
/// again from the start, and succeeds once its cause is gone; with its
/// retries used up it ends Failed.
#[tokio::test]
async fn a_failed_user_sync_with_retry_is_tried_again_until_its_limit() {
    let mut w = World::new().await;
    let c1 = w.commit(&[("app/cm.yaml", &configmap("cfg", "1"))], "one");
    w.start_controller().await;
    // No CreateNamespace and no namespace: each attempt fails preflight.
    w.create_app("cfg", "app", "later", json!({})).await;
    w.create_app("gone", "app", "never", json!({})).await;
    let retry =
        json!({"limit": 3, "backoff": {"duration": "1s", "factor": 1, "maxDuration": "1s"}});
    for name in ["cfg", "gone"] {
        let patch = json!({"operation": {
            "sync": {"revision": c1},
            "initiatedBy": {"username": "tester"},
            "retry": if name == "gone" { json!({"limit": 1, "backoff": {"duration": "1s"}}) } else { retry.clone() },
        }});
        w.apps()
            .patch(
                name,
                &kube::api::PatchParams::default(),
                &kube::api::Patch::Merge(&patch),
            )
            .await
            .unwrap();
    }
    let app = w
        .wait_app("cfg", 90, "a failed attempt waiting to be retried", |a| {
            op_phase(a) == "Running"
                && a.status
                    .as_ref()
                    .and_then(|s| s.operation_state.as_ref())
                    .and_then(|o| o.message.clone())
                    .is_some_and(|m| m.contains("retrying (attempt 1 of 3)"))
        })
        .await;
    assert!(
        app.operation.is_some(),
        "the operation is kept for the retry"
    );
    let nss: kube::Api<k8s_openapi::api::core::v1::Namespace> = kube::Api::all(w.client.clone());
    nss.create(
        &Default::default(),
        &serde_json::from_value(json!({"metadata": {"name": "later"}})).unwrap(),
    )
    .await
    .unwrap();
    let app = w
        // The outcome is written, then the operation cleared: wait for both.
        .wait_app("cfg", 90, "the retried sync to succeed", |a| {
            op_phase(a) == "Succeeded" && a.operation.is_none()
        })
        .await;
    let state = app
        .status
        .as_ref()
        .unwrap()
        .operation_state
        .as_ref()
        .unwrap();
    assert!(state.retry_count.unwrap_or(0) >= 1, "{state:?}");
    assert!(w.configmap("later", "cfg").await.is_some());

    let app = w
        .wait_app("gone", 90, "the last retry to fail", |a| {
            op_phase(a) == "Failed" && a.operation.is_none()
        })
        .await;
    let state = app
        .status
        .as_ref()
        .unwrap()
        .operation_state
        .as_ref()
        .unwrap();
    assert_eq!(state.retry_count, Some(1), "one retry, then no more");
    w.stop_controller().await;
}

#[tokio::test]
async fn a_fight_with_another_writer_is_detected_named_and_backed_off() {
    let mut w = World::new().await;
    let c1 = w.commit(&[("app/cm.yaml", &configmap("cfg", "git"))], "one");
    w.start_controller().await;
    w.create_app("cfg", "app", "cfg", automated(true, true))
        .await;
    w.wait_synced_healthy("cfg", &c1).await;
    // Another writer keeps setting the field Git sets.
    let cms = w.api("v1", "ConfigMap", "configmaps", Some("cfg"));
    let fighter = tokio::spawn(async move {
        let params = kube::api::PatchParams {
            field_manager: Some("fighter".into()),
            ..Default::default()
        };
        for _ in 0..600 {
            let _ = cms
                .patch(
                    "cfg",
                    &params,
                    &kube::api::Patch::Merge(&json!({"data": {"key": "mine"}})),
                )
                .await;
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    });
    let app = w
        .wait_app("cfg", 90, "the fight to be reported", |a| {
            condition(a, "SelfHealFightWarning").is_some()
        })
        .await;
    fighter.abort();
    let message = condition(&app, "SelfHealFightWarning").unwrap();
    assert!(
        message.contains("fighter")
            && message.contains("ConfigMap cfg/cfg")
            && message.contains("/data/key"),
        "{message}"
    );
    assert!(
        w.event_reasons("cfg")
            .await
            .contains(&"FightDetected".to_owned())
    );
    // Self-heals are counted, not written into history: only the first sync is there.
    let history = app.status.unwrap().history.unwrap_or_default();
    assert_eq!(history.len(), 1, "{history:?}");
    w.stop_controller().await;
}

#[tokio::test]
async fn a_bad_commit_is_rolled_back_to_the_last_healthy_one_and_not_synced_again() {
    let mut w = World::new().await;
    let c1 = w.commit(
        &[("app/web.yaml", &deployment("web", "nginx:1.27"))],
        "good",
    );
    w.start_controller().await;
    w.create_app(
        "web",
        "app",
        "web",
        json!({"automated": {"prune": true, "selfHeal": true}, "syncOptions": ["CreateNamespace=true"],
               "autoRollback": {"healthTimeout": "3s"}}),
    )
    .await;
    w.wait_synced_healthy("web", &c1).await;
    w.wait_app("web", 90, "c1 remembered as healthy", |a| {
        a.status
            .as_ref()
            .and_then(|s| s.auto_rollback.as_ref())
            .and_then(|r| r.last_healthy_revision.as_deref())
            == Some(c1.as_str())
    })
    .await;
    let c2 = w.commit(
        &[("app/web.yaml", &deployment("web", "nginx-doesnotexist:1"))],
        "bad image",
    );
    let app = w
        .wait_app("web", 120, "the rollback", |a| {
            a.status
                .as_ref()
                .and_then(|s| s.auto_rollback.as_ref())
                .and_then(|r| r.rolled_back_from.as_deref())
                == Some(c2.as_str())
                && op_phase(a) == "Succeeded"
        })
        .await;
    let history = app.status.as_ref().unwrap().history.clone().unwrap();
    let last = history.last().unwrap();
    assert_eq!(last.revision, c1, "{history:?}");
    assert!(
        last.reason
            .as_deref()
            .unwrap_or_default()
            .contains("automatic rollback from"),
        "{last:?}"
    );
    assert_eq!(
        image_of(&w.deployment("web", "web").await.unwrap()),
        "nginx:1.27"
    );
    assert!(
        w.event_reasons("web")
            .await
            .contains(&"RolledBack".to_owned())
    );
    // The bad commit is not synced again (it is HEAD, the app OutOfSync).
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        image_of(&w.deployment("web", "web").await.unwrap()),
        "nginx:1.27"
    );
    let app = w.app("web").await;
    assert_eq!(synced_revision(&app), c2);
    assert_eq!(sync_status(&app), "OutOfSync");
    w.stop_controller().await;
}

fn deployment_with_selector(label: &str, options: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations:
    sextant.dev/sync-options: {options}
spec:
  replicas: 1
  selector:
    matchLabels: {{app: {label}}}
  template:
    metadata:
      labels: {{app: {label}}}
    spec:
      containers:
      - name: main
        image: nginx:1.27
"
    )
}

#[tokio::test]
async fn force_and_replace_recreate_an_object_whose_immutable_field_changed() {
    let mut w = World::new().await;
    let c1 = w.commit(
        &[(
            "app/web.yaml",
            &deployment_with_selector("web", "Replace=true"),
        )],
        "one",
    );
    w.start_controller().await;
    w.create_app("web", "app", "web", manual()).await;
    w.wait_app("web", 90, "compared", |a| synced_revision(a) == c1)
        .await;
    w.request_sync("web", json!({})).await;
    w.wait_synced_healthy("web", &c1).await;
    let before = w.deployment("web", "web").await.unwrap();
    // The selector is immutable: without Force the sync fails in preflight.
    let c2 = w.commit(
        &[(
            "app/web.yaml",
            &deployment_with_selector("web2", "Replace=true"),
        )],
        "selector",
    );
    w.wait_app("web", 90, "c2 compared", |a| synced_revision(a) == c2)
        .await;
    w.request_sync("web", json!({})).await;
    let app = w
        .wait_app("web", 90, "the sync to fail", |a| {
            op_phase(a) == "Failed" && a.operation.is_none()
        })
        .await;
    assert!(
        op_message(&app).contains("preflight"),
        "{}",
        op_message(&app)
    );
    let c3 = w.commit(
        &[(
            "app/web.yaml",
            &deployment_with_selector("web2", "Force=true,Replace=true"),
        )],
        "force",
    );
    w.wait_app("web", 90, "c3 compared", |a| synced_revision(a) == c3)
        .await;
    w.request_sync("web", json!({})).await;
    w.wait_app("web", 90, "the forced sync", |a| {
        op_phase(a) == "Succeeded" && a.operation.is_none()
    })
    .await;
    let after = w.deployment("web", "web").await.unwrap();
    assert_ne!(
        after["metadata"]["uid"], before["metadata"]["uid"],
        "deleted and created anew"
    );
    assert_eq!(after["spec"]["selector"]["matchLabels"]["app"], "web2");
    w.stop_controller().await;
}

/// A chart whose templates use Helm's hook annotations.
fn hooked_chart() -> Vec<(&'static str, String)> {
    let hook_job = |name: &str, hook: &str, weight: &str, policy: &str| {
        format!(
            "apiVersion: batch/v1
kind: Job
metadata:
  name: {name}
  annotations:
    helm.sh/hook: {hook}
    helm.sh/hook-weight: \"{weight}\"
    helm.sh/hook-delete-policy: {policy}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: busybox
"
        )
    };
    vec![
        (
            "chart/Chart.yaml",
            "apiVersion: v2\nname: hooked\nversion: 0.1.0\n".to_owned(),
        ),
        (
            "chart/templates/db-init.yaml",
            hook_job("db-init", "pre-install,pre-upgrade", "-1", "before-hook-creation"),
        ),
        (
            "chart/templates/notify.yaml",
            hook_job("notify", "post-install,post-upgrade", "0", "hook-succeeded"),
        ),
        (
            "chart/templates/test.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: chart-test\n  annotations:\n    helm.sh/hook: test\nspec:\n  containers:\n  - name: t\n    image: busybox\n".to_owned(),
        ),
        (
            "chart/templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: \"1\"\n".to_owned(),
        ),
    ]
}

#[tokio::test]
async fn a_helm_charts_own_hooks_run_in_the_phases_argo_cd_maps_them_to() {
    let mut w = World::new().await;
    let files = hooked_chart();
    let refs: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
    let c1 = w.commit(&refs, "chart");
    w.start_controller().await;
    w.create_app("chart", "chart", "chart", manual()).await;
    w.wait_app("chart", 90, "compared", |a| synced_revision(a) == c1)
        .await;
    w.request_sync("chart", json!({})).await;
    let app = w
        .wait_app("chart", 120, "the sync to succeed", |a| {
            op_phase(a) == "Succeeded" && a.operation.is_none()
        })
        .await;
    let r = results(&app);
    let phase_of = |name: &str| {
        r.iter()
            .find(|x| x.name == name)
            .and_then(|x| x.sync_phase.clone())
            .unwrap_or_default()
    };
    assert_eq!(phase_of("db-init"), "PreSync", "{r:?}");
    assert_eq!(phase_of("notify"), "PostSync", "{r:?}");
    assert_eq!(phase_of("settings"), "Sync", "{r:?}");
    let db_init = r.iter().find(|x| x.name == "db-init").unwrap();
    assert_eq!(db_init.sync_wave, Some(-1), "hook-weight is the wave");
    assert!(
        r.iter().all(|x| x.name != "chart-test"),
        "test hooks are not run"
    );
    assert!(
        job_of(&w, "chart", "db-init").await.is_some(),
        "before-hook-creation keeps it"
    );
    let mut gone = false;
    for _ in 0..100 {
        if job_of(&w, "chart", "notify").await.is_none() {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(gone, "hook-succeeded deletes the PostSync hook");
    let pods = w.api("v1", "Pod", "pods", Some("chart"));
    assert!(pods.get_opt("chart-test").await.unwrap().is_none());
    w.stop_controller().await;
}

#[tokio::test]
async fn post_delete_hooks_run_after_the_apps_objects_are_gone_and_are_cleaned_up() {
    let mut w = World::new().await;
    let c1 = w.commit(
        &[
            ("app/cm.yaml", &configmap("cfg", "1")),
            (
                "app/goodbye.yaml",
                &job("goodbye", "busybox", "    sextant.dev/hook: PostDelete"),
            ),
        ],
        "one",
    );
    w.start_controller().await;
    w.create_app("bye", "app", "bye", automated(true, false))
        .await;
    w.wait_synced_healthy("bye", &c1).await;
    assert!(
        job_of(&w, "bye", "goodbye").await.is_none(),
        "not run by a sync"
    );
    let patch = json!({"metadata": {"finalizers": ["resources-finalizer.sextant.dev"]}});
    w.apps()
        .patch(
            "bye",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(&patch),
        )
        .await
        .unwrap();
    w.apps().delete("bye", &Default::default()).await.unwrap();
    // Watch for the hook while the app goes.
    let mut seen_hook = false;
    let mut cfg_gone_first = false;
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    while w.apps().get_opt("bye").await.unwrap().is_some() {
        assert!(
            std::time::Instant::now() < deadline,
            "the finalizer was never released"
        );
        if job_of(&w, "bye", "goodbye").await.is_some() {
            seen_hook = true;
            cfg_gone_first = w.configmap("bye", "cfg").await.is_none();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(seen_hook, "the PostDelete hook ran");
    assert!(cfg_gone_first, "after the app's objects were deleted");
    let mut cleaned = false;
    for _ in 0..100 {
        if job_of(&w, "bye", "goodbye").await.is_none() {
            cleaned = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(cleaned, "the finished hook is deleted");
    w.stop_controller().await;
}

#[tokio::test]
async fn respect_ignore_differences_keeps_the_clusters_value_of_an_ignored_field() {
    let mut w = World::new().await;
    let cm = |key: &str, other: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  key: \"{key}\"\n  other: \"{other}\"\n"
        )
    };
    let c1 = w.commit(&[("app/cm.yaml", &cm("git", "1"))], "one");
    w.start_controller().await;
    w.create_app(
        "cfg",
        "app",
        "cfg",
        json!({"syncOptions": ["CreateNamespace=true", "RespectIgnoreDifferences=true"]}),
    )
    .await;
    let patch = json!({"spec": {"ignoreDifferences": [{"kind": "ConfigMap", "jsonPointers": ["/data/key"]}]}});
    w.apps()
        .patch(
            "cfg",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(&patch),
        )
        .await
        .unwrap();
    w.wait_app("cfg", 90, "compared", |a| synced_revision(a) == c1)
        .await;
    w.request_sync("cfg", json!({})).await;
    w.wait_synced_healthy("cfg", &c1).await;
    // Someone else owns the value now.
    let cms = w.api("v1", "ConfigMap", "configmaps", Some("cfg"));
    let params = kube::api::PatchParams {
        field_manager: Some("ops".into()),
        ..Default::default()
    };
    cms.patch(
        "cfg",
        &params,
        &kube::api::Patch::Merge(&json!({"data": {"key": "ops"}})),
    )
    .await
    .unwrap();
    let c2 = w.commit(&[("app/cm.yaml", &cm("git", "2"))], "two");
    w.wait_app("cfg", 90, "c2 compared", |a| synced_revision(a) == c2)
        .await;
    w.request_sync("cfg", json!({})).await;
    w.wait_app("cfg", 90, "the sync", |a| {
        op_phase(a) == "Succeeded" && a.operation.is_none()
    })
    .await;
    let live = w.configmap("cfg", "cfg").await.unwrap();
    assert_eq!(live["data"]["other"], "2", "the rest of Git is applied");
    assert_eq!(
        live["data"]["key"], "ops",
        "the ignored field keeps the cluster's value"
    );
    w.stop_controller().await;
}

#[tokio::test]
async fn an_unreachable_git_server_is_retried_with_backoff_and_a_bad_path_waits_for_a_change() {
    let mut w = World::new().await;
    w.commit(&[("app/cm.yaml", &configmap("cfg", "1"))], "one");
    w.start_controller().await;
    // Nothing listens on this port: reaching Git fails, which may pass.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    w.create_app_from(
        "away",
        &format!("git://127.0.0.1:{port}/repo"),
        "app",
        "away",
        manual(),
        "main",
    )
    .await;
    let app = w
        .wait_app("away", 90, "a ComparisonError", |a| {
            condition(a, "ComparisonError").is_some()
        })
        .await;
    let message = condition(&app, "ComparisonError").unwrap();
    assert!(message.contains("retrying in"), "transient: {message}");
    // A path the repository does not have is the repository's fault.
    w.create_app("nopath", "missing", "nopath", manual()).await;
    let app = w
        .wait_app("nopath", 90, "a ComparisonError", |a| {
            condition(a, "ComparisonError").is_some()
        })
        .await;
    let message = condition(&app, "ComparisonError").unwrap();
    assert!(!message.contains("retrying"), "permanent: {message}");
    w.stop_controller().await;
}

#[tokio::test]
async fn prune_last_prune_false_and_orphan_propagation_do_what_they_say() {
    let mut w = World::new().await;
    let annotated = |name: &str, options: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  annotations:\n    sextant.dev/sync-options: {options}\ndata:\n  key: \"1\"\n"
        )
    };
    let c1 = w.commit(
        &[
            ("app/web.yaml", &deployment("web", "nginx:1.27")),
            ("app/last.yaml", &annotated("last", "PruneLast=true")),
            ("app/keep.yaml", &annotated("keep", "Prune=false")),
            ("app/cfg.yaml", &configmap("cfg", "1")),
        ],
        "one",
    );
    w.start_controller().await;
    w.create_app(
        "opts",
        "app",
        "opts",
        json!({"syncOptions": ["CreateNamespace=true", "PrunePropagationPolicy=orphan"]}),
    )
    .await;
    w.wait_app("opts", 90, "compared", |a| synced_revision(a) == c1)
        .await;
    w.request_sync("opts", json!({})).await;
    w.wait_synced_healthy("opts", &c1).await;
    let replica_sets = w.api("apps/v1", "ReplicaSet", "replicasets", Some("opts"));
    let before = replica_sets
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .len();
    assert!(before >= 1);
    // Git drops the Deployment and both annotated ConfigMaps, adds a
    // PostSync hook, and changes a ConfigMap.
    let c2 = w.commit(
        &[
            ("app/web.yaml", ""),
            ("app/last.yaml", ""),
            ("app/keep.yaml", ""),
            (
                "app/smoke.yaml",
                &job("smoke", "busybox", "    sextant.dev/hook: PostSync"),
            ),
            (
                "app/cfg.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  key: \"2\"\n",
            ),
        ],
        "two",
    );
    w.wait_app("opts", 90, "c2 compared", |a| synced_revision(a) == c2)
        .await;
    w.request_sync("opts", json!({"prune": true})).await;
    let app = w
        .wait_app("opts", 120, "the sync", |a| {
            op_phase(a) == "Succeeded" && a.operation.is_none()
        })
        .await;
    let r = results(&app);
    let at = |name: &str| r.iter().position(|x| x.name == name).unwrap_or(usize::MAX);
    assert!(at("smoke") < at("last"), "PruneLast after PostSync: {r:?}");
    assert!(
        at("web") < at("smoke"),
        "a normal prune before PostSync: {r:?}"
    );
    let keep = r.iter().find(|x| x.name == "keep").unwrap();
    assert_eq!(keep.status.as_deref(), Some("PruneSkipped"));
    assert!(
        w.configmap("opts", "keep").await.is_some(),
        "Prune=false kept it"
    );
    assert!(w.configmap("opts", "last").await.is_none());
    assert!(w.deployment("opts", "web").await.is_none());
    let after = replica_sets
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .len();
    assert_eq!(after, before, "orphan propagation leaves the ReplicaSets");
    assert_eq!(
        w.configmap("opts", "cfg").await.unwrap()["data"]["key"],
        "2"
    );
    w.stop_controller().await;
}

#[tokio::test]
async fn a_sync_failed_by_api_errors_is_retried_and_succeeds_when_they_stop() {
    use localkube::faults::{ErrorFault, FaultRules, Match};
    let mut w = World::new().await;
    if w.localkube_only("injects API errors") {
        return;
    }
    let c1 = w.commit(&[("app/cm.yaml", &configmap("cfg", "1"))], "one");
    w.server
        .faults()
        .set(FaultRules {
            errors: Some(ErrorFault {
                code: 500,
                matches: Match {
                    resources: vec!["configmaps".into()],
                    verbs: vec!["patch".into()],
                    ..Match::default()
                },
                ..ErrorFault::default()
            }),
            ..FaultRules::default()
        })
        .unwrap();
    w.start_controller().await;
    w.create_app(
        "cfg",
        "app",
        "cfg",
        json!({"automated": {"prune": true}, "syncOptions": ["CreateNamespace=true"],
               "retry": {"limit": 10, "backoff": {"duration": "1s", "factor": 2, "maxDuration": "2s"}}}),
    )
    .await;
    w.wait_app("cfg", 90, "a failed sync with a retry due", |a| {
        op_phase(a) == "Failed"
            && condition(a, "SyncError").is_some_and(|m| m.contains("retrying (attempt"))
    })
    .await;
    w.server.faults().clear();
    let app = w.wait_synced_healthy("cfg", &c1).await;
    let state = app
        .status
        .as_ref()
        .unwrap()
        .operation_state
        .as_ref()
        .unwrap();
    assert_eq!(state.phase, "Succeeded");
    assert!(state.retry_count.unwrap_or(0) >= 1, "{state:?}");
    w.stop_controller().await;
}
