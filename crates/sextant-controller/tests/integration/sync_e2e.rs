//! End to end against localkube and a local Git repository: automated
//! sync of new commits, self-heal and drift, pruning, bad images, bad
//! manifests, manual syncs with history and rollback, deletion with and
//! without the finalizer, and a controller killed mid-sync.

use crate::support;

use std::time::Duration;

use kube::api::{Patch, PatchParams, PostParams};
use serde_json::json;
use support::*;

#[tokio::test]
async fn an_automated_app_syncs_then_follows_a_new_commit() {
    let mut w = World::new().await;
    let c1 = w.commit(
        &[
            ("apps/web/deploy.yaml", &deployment("web", "nginx:1.27")),
            ("apps/web/cm.yaml", &configmap("web-config", "one")),
        ],
        "first",
    );
    w.start_controller().await;
    w.create_app("web", "apps/web", "shop", automated(true, false))
        .await;
    let app = w.wait_synced_healthy("web", &c1).await;
    let st = app.status.unwrap();
    let resources = st.resources.unwrap();
    assert_eq!(resources.len(), 2, "{resources:?}");
    assert!(
        resources
            .iter()
            .all(|r| r.status.as_deref() == Some("Synced"))
    );
    assert_eq!(st.history.as_ref().unwrap().len(), 1);
    assert_eq!(st.history.unwrap()[0].revision, c1);
    let d = w.deployment("shop", "web").await.unwrap();
    assert_eq!(
        d["metadata"]["annotations"]["sextant.dev/tracking-id"],
        "web:apps/Deployment:shop/web"
    );

    let c2 = w.commit(
        &[("apps/web/deploy.yaml", &deployment("web", "nginx:1.28"))],
        "bump",
    );
    w.wait_synced_healthy("web", &c2).await;
    assert_eq!(
        image_of(&w.deployment("shop", "web").await.unwrap()),
        "nginx:1.28"
    );
    let app = w.app("web").await;
    let history = app.status.unwrap().history.unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[1].revision, c2);
    assert_eq!(
        history[1].initiated_by.as_ref().unwrap().automated,
        Some(true)
    );
    let reasons = w.event_reasons("web").await;
    assert!(
        reasons.iter().filter(|r| *r == "SyncSucceeded").count() >= 2,
        "{reasons:?}"
    );
    assert!(reasons.contains(&"SyncStarted".to_owned()), "{reasons:?}");
    w.stop_controller().await;
}

#[tokio::test]
async fn self_heal_reverts_a_live_edit_and_without_it_the_edit_is_reported_as_drift() {
    let mut w = World::new().await;
    let c1 = w.commit(
        &[
            ("healed/deploy.yaml", &deployment("healed", "nginx:1.27")),
            (
                "drifting/deploy.yaml",
                &deployment("drifting", "nginx:1.27"),
            ),
        ],
        "first",
    );
    w.start_controller().await;
    w.create_app("healed", "healed", "a", automated(true, true))
        .await;
    w.create_app("drifting", "drifting", "b", automated(true, false))
        .await;
    w.wait_synced_healthy("healed", &c1).await;
    w.wait_synced_healthy("drifting", &c1).await;

    // A `kubectl edit`: another field manager changes the image.
    let edit = json!({"spec": {"template": {"spec": {"containers": [{"name": "main", "image": "nginx:hotfix"}]}}}});
    for (ns, name) in [("a", "healed"), ("b", "drifting")] {
        w.api("apps/v1", "Deployment", "deployments", Some(ns))
            .patch(
                name,
                &PatchParams {
                    field_manager: Some("kubectl-edit".into()),
                    ..Default::default()
                },
                &Patch::Strategic(&edit),
            )
            .await
            .unwrap();
    }
    // Self-heal puts Git back.
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    loop {
        let d = w.deployment("a", "healed").await.unwrap();
        if image_of(&d) == "nginx:1.27" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not healed: {}",
            image_of(&d)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    w.wait_synced_healthy("healed", &c1).await;
    let reasons = w.event_reasons("healed").await;
    assert!(reasons.contains(&"DriftDetected".to_owned()), "{reasons:?}");
    assert!(
        reasons.contains(&"SelfHealApplied".to_owned()),
        "{reasons:?}"
    );

    // Without self-heal: OutOfSync, the object named, the edit kept.
    let app = w
        .wait_app("drifting", 90, "OutOfSync", |a| {
            sync_status(a) == "OutOfSync"
        })
        .await;
    let res = app.status.unwrap().resources.unwrap();
    let dep = res.iter().find(|r| r.kind == "Deployment").unwrap();
    assert_eq!(dep.status.as_deref(), Some("OutOfSync"));
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        image_of(&w.deployment("b", "drifting").await.unwrap()),
        "nginx:hotfix"
    );
    assert!(
        w.event_reasons("drifting")
            .await
            .contains(&"DriftDetected".to_owned())
    );
    w.stop_controller().await;
}

#[tokio::test]
async fn a_removed_file_is_pruned_with_prune_and_reported_without() {
    let mut w = World::new().await;
    let c1 = w.commit(
        &[
            ("p/a.yaml", &configmap("keep", "1")),
            ("p/b.yaml", &configmap("gone", "1")),
            ("q/a.yaml", &configmap("keep", "1")),
            ("q/b.yaml", &configmap("gone", "1")),
        ],
        "first",
    );
    w.start_controller().await;
    w.create_app("pruning", "p", "p", automated(true, false))
        .await;
    w.create_app("keeping", "q", "q", automated(false, false))
        .await;
    w.wait_synced_healthy("pruning", &c1).await;
    w.wait_synced_healthy("keeping", &c1).await;
    let c2 = w.commit(&[("p/b.yaml", ""), ("q/b.yaml", "")], "drop");
    w.wait_synced_healthy("pruning", &c2).await;
    assert!(w.configmap("p", "gone").await.is_none());
    assert!(w.configmap("p", "keep").await.is_some());
    let app = w
        .wait_app("keeping", 90, "OutOfSync at c2", |a| {
            synced_revision(a) == c2 && sync_status(a) == "OutOfSync"
        })
        .await;
    let res = app.status.unwrap().resources.unwrap();
    let gone = res.iter().find(|r| r.name == "gone").unwrap();
    assert_eq!(gone.requires_pruning, Some(true));
    assert!(w.configmap("q", "gone").await.is_some());

    // Marked IgnoreExtraneous (Argo CD's spelling), the leftover is still
    // listed but no longer makes the app OutOfSync.
    w.api("v1", "ConfigMap", "configmaps", Some("q"))
        .patch(
            "gone",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"annotations": {
                "argocd.argoproj.io/compare-options": "IgnoreExtraneous"
            }}})),
        )
        .await
        .unwrap();
    let app = w
        .wait_app("keeping", 90, "Synced with the leftover ignored", |a| {
            sync_status(a) == "Synced"
        })
        .await;
    let res = app.status.unwrap().resources.unwrap();
    let gone = res.iter().find(|r| r.name == "gone").unwrap();
    assert_eq!(gone.requires_pruning, Some(true));
    w.stop_controller().await;
}

#[tokio::test]
async fn a_bad_image_makes_the_app_degraded() {
    let mut w = World::new().await;
    let c1 = w.commit(&[("web/d.yaml", &deployment("web", "nginx:1.27"))], "ok");
    w.start_controller().await;
    w.create_app("web", "web", "web", automated(true, true))
        .await;
    w.wait_synced_healthy("web", &c1).await;
    let c2 = w.commit(
        &[("web/d.yaml", &deployment("web", "nginx:doesnotexist"))],
        "bad",
    );
    let app = w
        .wait_app("web", 60, "Degraded at c2", |a| {
            synced_revision(a) == c2 && health(a) == "Degraded"
        })
        .await;
    assert_eq!(sync_status(&app), "Synced");
    let message = app
        .status
        .unwrap()
        .health
        .unwrap()
        .message
        .unwrap_or_default();
    assert!(message.contains("Deployment"), "{message}");
    w.stop_controller().await;
}

/// `count()` once it has not moved for 3 s (at most 60 s).
async fn settled(count: impl Fn() -> u64) -> u64 {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut last = count();
    let mut since = std::time::Instant::now();
    while since.elapsed() < Duration::from_secs(3) {
        assert!(std::time::Instant::now() < deadline, "never settled");
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = count();
        if now != last {
            (last, since) = (now, std::time::Instant::now());
        }
    }
    last
}

#[tokio::test]
async fn a_commit_or_a_live_change_re_evaluates_only_the_apps_it_touches() {
    let mut w = World::new().await;
    let c1 = w.commit(
        &[
            ("a/cm.yaml", &configmap("a", "1")),
            ("b/cm.yaml", &configmap("b", "1")),
        ],
        "one",
    );
    git(&w.repo, &["branch", "other"]);
    w.start_controller_with(|c| {
        c.repo_poll_interval = Duration::from_millis(200);
        c.resync_interval = Duration::from_secs(3600);
    })
    .await;
    w.create_app_at("a", "a", "a", automated(true, true), "main")
        .await;
    w.create_app_at("b", "b", "b", automated(true, true), "other")
        .await;
    w.wait_synced_healthy("a", &c1).await;
    w.wait_synced_healthy("b", &c1).await;
    // Let the start-up settle: the first Git poll of each (repo, revision)
    // counts as a change (polls are at least 1 s apart), and each sync is
    // followed by a re-check.
    let b0 = settled(|| w.controller().reconciles("b")).await;
    let a0 = w.controller().reconciles("a");

    // A commit on main (b follows `other`), then a live edit of a's object.
    let c2 = w.commit(&[("a/cm.yaml", &configmap("a", "2"))], "a changes");
    w.wait_synced_healthy("a", &c2).await;
    let edit = json!({"data": {"key": "edited"}});
    w.api("v1", "ConfigMap", "configmaps", Some("a"))
        .patch(
            "a",
            &PatchParams {
                field_manager: Some("kubectl-edit".into()),
                ..Default::default()
            },
            &Patch::Merge(&edit),
        )
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    while w.configmap("a", "a").await.unwrap()["data"]["key"] != "2" {
        assert!(std::time::Instant::now() < deadline, "a was not healed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await; // several polls
    assert!(w.controller().reconciles("a") > a0);
    assert_eq!(
        w.controller().reconciles("b"),
        b0,
        "b follows another revision and its objects did not change"
    );
    w.stop_controller().await;
}

#[tokio::test]
async fn lua_health_checks_and_system_wide_ignore_rules_apply_to_every_app() {
    let mut w = World::new().await;
    let c1 = w.commit(&[("app/cm.yaml", &configmap("feature", "off"))], "one");
    w.start_controller_with(|c| {
        c.health
            .insert(
                "ConfigMap",
                r#"if obj.data ~= nil and obj.data.key == "broken" then
                     return {status = "Degraded", message = "the key says broken"}
                   end
                   return {status = "Healthy", message = "fine"}"#,
            )
            .unwrap();
        c.system_ignore = vec![
            serde_json::from_value(
                json!({"kind": "ConfigMap", "jsonPointers": ["/metadata/labels"]}),
            )
            .unwrap(),
        ];
    })
    .await;
    w.create_app("feature", "app", "feature", automated(true, false))
        .await;
    let app = w.wait_synced_healthy("feature", &c1).await;
    let res = app.status.unwrap().resources.unwrap();
    let checked = res[0].health.as_ref().unwrap().message.as_deref();
    assert_eq!(checked, Some("fine"), "the Lua check ran");
    let cms = w.api("v1", "ConfigMap", "configmaps", Some("feature"));
    let params = PatchParams {
        field_manager: Some("kubectl-edit".into()),
        ..Default::default()
    };
    // A label added by hand is ignored system-wide: still Synced.
    cms.patch(
        "feature",
        &params,
        &Patch::Merge(&json!({"metadata": {"labels": {"team": "x"}}})),
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(sync_status(&w.app("feature").await), "Synced");
    // Data the script dislikes: OutOfSync (not ignored) and Degraded by Lua.
    cms.patch(
        "feature",
        &params,
        &Patch::Merge(&json!({"data": {"key": "broken"}})),
    )
    .await
    .unwrap();
    let app = w
        .wait_app("feature", 90, "Degraded by the Lua check", |a| {
            health(a) == "Degraded"
        })
        .await;
    assert_eq!(sync_status(&app), "OutOfSync");
    let message = app
        .status
        .unwrap()
        .health
        .unwrap()
        .message
        .unwrap_or_default();
    assert!(message.contains("the key says broken"), "{message}");
    w.stop_controller().await;
}

#[tokio::test]
async fn history_keeps_revision_history_limit_entries() {
    let mut w = World::new().await;
    let c1 = w.commit(&[("app/cm.yaml", &configmap("cfg", "1"))], "one");
    w.start_controller().await;
    w.create_app("cfg", "app", "cfg", automated(true, false))
        .await;
    let patch = json!({"spec": {"revisionHistoryLimit": 2}});
    w.apps()
        .patch("cfg", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    w.wait_synced_healthy("cfg", &c1).await;
    let c2 = w.commit(&[("app/cm.yaml", &configmap("cfg", "2"))], "two");
    w.wait_synced_healthy("cfg", &c2).await;
    let c3 = w.commit(&[("app/cm.yaml", &configmap("cfg", "3"))], "three");
    let app = w
        .wait_app("cfg", 90, "three syncs", |a| {
            a.status
                .as_ref()
                .and_then(|s| s.history.as_ref())
                .is_some_and(|h| h.last().is_some_and(|e| e.revision == c3))
        })
        .await;
    let history = app.status.unwrap().history.unwrap();
    let revisions: Vec<&str> = history.iter().map(|h| h.revision.as_str()).collect();
    assert_eq!(revisions, [c2.as_str(), c3.as_str()]);
    assert_eq!(
        history.iter().map(|h| h.id).collect::<Vec<_>>(),
        [1, 2],
        "ids keep counting"
    );
    w.stop_controller().await;
}

/// A source that renders no objects (a wrong path, a file type Sextant
/// does not read, such as Jsonnet) says so in a condition and is never
/// synced automatically, which would prune the app away; with
/// `syncPolicy.automated.allowEmpty` an app with no objects is meant and
/// the prune goes ahead (issue 17).
#[tokio::test]
async fn an_empty_render_is_reported_and_not_auto_pruned_unless_allow_empty() {
    let mut w = World::new().await;
    let c1 = w.commit(
        &[
            ("e/a.yaml", &configmap("kept", "1")),
            ("f/a.yaml", &configmap("dropped", "1")),
        ],
        "first",
    );
    w.start_controller().await;
    let mut strict = automated(true, false);
    strict["automated"]["allowEmpty"] = json!(false);
    w.create_app("strict", "e", "e", strict).await;
    let mut empty_ok = automated(true, false);
    empty_ok["automated"]["allowEmpty"] = json!(true);
    w.create_app("loose", "f", "f", empty_ok).await;
    w.wait_synced_healthy("strict", &c1).await;
    w.wait_synced_healthy("loose", &c1).await;
    // The manifests go: a Jsonnet file that gives no object is all left.
    let c2 = w.commit(
        &[
            ("e/a.yaml", ""),
            ("e/main.jsonnet", "[]"),
            ("f/a.yaml", ""),
            ("f/README.md", "nothing here"),
        ],
        "to jsonnet",
    );
    let app = w
        .wait_app("strict", 90, "the empty-render condition at c2", |a| {
            synced_revision(a) == c2 && condition(a, "EmptyRenderWarning").is_some()
        })
        .await;
    let message = condition(&app, "EmptyRenderWarning").unwrap();
    assert!(
        message.contains("renders no objects") && message.contains("allowEmpty"),
        "{message}"
    );
    assert_eq!(
        sync_status(&app),
        "OutOfSync",
        "the live object requires pruning"
    );
    w.wait_synced_healthy("loose", &c2).await;
    assert!(
        w.configmap("f", "dropped").await.is_none(),
        "allowEmpty: pruned"
    );
    // No automated sync of the strict app: its object is still there.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(w.configmap("e", "kept").await.is_some());
    let app = w.app("strict").await;
    assert_ne!(
        app.status
            .unwrap()
            .operation_state
            .map(|o| o.sync_result.map(|r| r.revision)),
        Some(Some(c2.clone())),
        "no sync ran at the empty commit"
    );
    w.stop_controller().await;
}

/// A directory of Jsonnet: its libs, extVars and TLAs from
/// `source.directory.jsonnet`, synced like any manifests; a commit whose
/// Jsonnet fails is a ComparisonError naming file and line, and the
/// cluster keeps what the last good commit gave.
#[tokio::test]
async fn a_jsonnet_app_syncs_and_a_failing_commit_changes_nothing() {
    let mut w = World::new().await;
    let main = "local cm = import 'cm.libsonnet';\nfunction(count)\n  [cm.make('settings-%d' % i, std.extVar('env')) for i in std.range(1, count)]\n";
    let lib = "{\n  make(name, env):: {\n    apiVersion: 'v1', kind: 'ConfigMap',\n    metadata: { name: name },\n    data: { env: env },\n  },\n}\n";
    let c1 = w.commit(
        &[("jn/app/main.jsonnet", main), ("jn/lib/cm.libsonnet", lib)],
        "jsonnet",
    );
    w.start_controller().await;
    let app: sextant_model::Application = serde_json::from_value(json!({
        "apiVersion": "sextant.dev/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "jn", "namespace": NS},
        "spec": {
            "project": "default",
            "source": {
                "repoURL": format!("file://{}", w.repo.display()),
                "path": "jn/app",
                "targetRevision": "main",
                "directory": {"jsonnet": {
                    "libs": ["jn/lib"],
                    "extVars": [{"name": "env", "value": "prod"}],
                    "tlas": [{"name": "count", "value": "2", "code": true}],
                }},
            },
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "jn"},
            "syncPolicy": {"automated": {"prune": true}, "syncOptions": ["CreateNamespace=true"]},
        }
    }))
    .unwrap();
    w.apps()
        .create(&kube::api::PostParams::default(), &app)
        .await
        .unwrap();
    let app = w.wait_synced_healthy("jn", &c1).await;
    assert_eq!(app.status.unwrap().resources.unwrap().len(), 2);
    for name in ["settings-1", "settings-2"] {
        let cm = w.configmap("jn", name).await.unwrap();
        assert_eq!(cm["data"]["env"], "prod", "{cm}");
    }

    let broken =
        "local cm = import 'cm.libsonnet';\nfunction(count) error 'count %d is too many' % count\n";
    w.commit(&[("jn/app/main.jsonnet", broken)], "break it");
    let app = w
        .wait_app("jn", 90, "a ComparisonError naming main.jsonnet", |a| {
            condition(a, "ComparisonError").is_some_and(|m| m.contains("main.jsonnet:2"))
        })
        .await;
    let message = condition(&app, "ComparisonError").unwrap();
    assert!(message.contains("count 2 is too many"), "{message}");
    assert_eq!(synced_revision(&app), c1, "the last good sync stays");
    assert!(w.configmap("jn", "settings-2").await.is_some());
    w.stop_controller().await;
}

#[tokio::test]
async fn helm_parameters_get_argo_cds_build_environment() {
    let mut w = World::new().await;
    let chart = "apiVersion: v2\nname: stamped\nversion: 0.1.0\n";
    let template = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: stamp\ndata:\n  app: {{ .Values.app | quote }}\n  revision: {{ .Values.revision | quote }}\n  literal: {{ .Values.literal | quote }}\n";
    let c1 = w.commit(
        &[
            ("chart/Chart.yaml", chart),
            ("chart/values.yaml", "app: ''\nrevision: ''\nliteral: ''\n"),
            ("chart/templates/cm.yaml", template),
        ],
        "chart",
    );
    w.start_controller().await;
    let app = json!({
        "apiVersion": "sextant.dev/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "stamped", "namespace": NS},
        "spec": {
            "project": "default",
            "source": {
                "repoURL": format!("file://{}", w.repo.display()),
                "path": "chart",
                "targetRevision": "main",
                "helm": {"parameters": [
                    {"name": "app", "value": "$ARGOCD_APP_NAME in ${ARGOCD_APP_NAMESPACE}"},
                    {"name": "revision", "value": "$ARGOCD_APP_REVISION_SHORT"},
                    {"name": "literal", "value": "$$5"},
                ]},
            },
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "stamps"},
            "syncPolicy": {"automated": {"prune": true}, "syncOptions": ["CreateNamespace=true"]},
        }
    });
    w.apps()
        .create(
            &PostParams::default(),
            &serde_json::from_value(app).unwrap(),
        )
        .await
        .unwrap();
    w.wait_synced_healthy("stamped", &c1).await;
    let cm = w.configmap("stamps", "stamp").await.unwrap();
    assert_eq!(cm["data"]["app"], "stamped in stamps");
    assert_eq!(cm["data"]["revision"], c1[..7]);
    assert_eq!(cm["data"]["literal"], "$5", "$$ is a literal dollar");

    // A new commit is a new revision in the values: the app follows it.
    let c2 = w.commit(&[("chart/README.md", "stamped\n")], "docs");
    w.wait_synced_healthy("stamped", &c2).await;
    let cm = w.configmap("stamps", "stamp").await.unwrap();
    assert_eq!(cm["data"]["revision"], c2[..7]);
    w.stop_controller().await;
}
