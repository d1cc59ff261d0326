//! AppProjects enforced end to end: the `default` project made when
//! missing, repositories, destinations and kinds refused (each with its
//! reason, nothing applied), and sync windows holding automated and
//! manual syncs back.

use crate::support;

use std::time::Duration;

use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use sextant_model::AppProject;
use support::*;

fn projects(w: &World) -> Api<AppProject> {
    Api::namespaced(w.client.clone(), NS)
}

async fn create_project(w: &World, name: &str, spec: Value) {
    let p: AppProject = serde_json::from_value(json!({
        "apiVersion": "sextant.dev/v1alpha1",
        "kind": "AppProject",
        "metadata": {"name": name, "namespace": NS},
        "spec": spec,
    }))
    .unwrap();
    projects(w)
        .create(&PostParams::default(), &p)
        .await
        .unwrap();
}

async fn patch_project(w: &World, name: &str, spec: Value) {
    projects(w)
        .patch(
            name,
            &PatchParams::default(),
            &Patch::Merge(&json!({ "spec": spec })),
        )
        .await
        .unwrap();
}

async fn set_project(w: &World, app: &str, project: &str) {
    w.apps()
        .patch(
            app,
            &PatchParams::default(),
            &Patch::Merge(&json!({"spec": {"project": project}})),
        )
        .await
        .unwrap();
}

/// An app of `project` from the first moment (no sync under another).
async fn create_app_in(w: &World, project: &str, name: &str, dest: &str, policy: Value) {
    let app = json!({
        "apiVersion": "sextant.dev/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "project": project,
            "source": {"repoURL": format!("file://{}", w.repo.display()), "path": name, "targetRevision": "main"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": dest},
            "syncPolicy": policy,
        }
    });
    w.apps()
        .create(
            &PostParams::default(),
            &serde_json::from_value(app).unwrap(),
        )
        .await
        .unwrap();
}

fn namespace(name: &str) -> String {
    format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n")
}

fn op_message(a: &sextant_model::Application) -> String {
    a.status
        .as_ref()
        .and_then(|s| s.operation_state.as_ref())
        .and_then(|o| o.message.clone())
        .unwrap_or_default()
}

#[tokio::test]
async fn projects_refuse_repositories_destinations_and_kinds_before_any_change() {
    let mut w = World::new().await;
    let c1 = w.commit(
        &[
            ("plain/cm.yaml", &configmap("plain", "1")),
            ("kinds/ns.yaml", &namespace("team-extra")),
            ("kinds/cm.yaml", &configmap("kinds", "1")),
        ],
        "first",
    );
    create_project(
        &w,
        "team",
        json!({
            "sourceRepos": [format!("file://{}*", w.repo.parent().unwrap().display())],
            "destinations": [{"server": "*", "namespace": "team-*"}],
        }),
    )
    .await;
    w.start_controller().await;

    // The default project is made, allowing everything.
    let default = projects(&w).get("default").await.unwrap();
    assert_eq!(default.spec.source_repos, Some(vec!["*".to_string()]));
    w.create_app("open", "plain", "open", automated(true, false))
        .await;
    w.wait_synced_healthy("open", &c1).await;

    // A repository outside sourceRepos.
    w.create_app_from(
        "stranger",
        "file:///elsewhere/other.git",
        "plain",
        "team-a",
        manual(),
        "main",
    )
    .await;
    set_project(&w, "stranger", "team").await;
    let a = w
        .wait_app("stranger", 60, "the repository refused", |a| {
            condition(a, "InvalidSpecError").is_some_and(|m| m.contains("sourceRepos"))
        })
        .await;
    let m = condition(&a, "InvalidSpecError").unwrap();
    assert!(
        m.contains("file:///elsewhere/other.git") && m.contains("project team"),
        "{m}"
    );
    assert_eq!(sync_status(&a), "Unknown");

    // A destination outside the project's; a sync asked for fails.
    w.create_app("elsewhere", "plain", "prod", manual()).await;
    set_project(&w, "elsewhere", "team").await;
    w.request_sync("elsewhere", json!({})).await;
    let a = w
        .wait_app("elsewhere", 60, "the sync refused", |a| {
            op_phase(a) == "Failed"
        })
        .await;
    assert!(op_message(&a).contains("destination"), "{}", op_message(&a));
    assert!(
        condition(&a, "InvalidSpecError").is_some_and(|m| m.contains("namespace \"prod\"")),
        "{:?}",
        a.status
    );
    assert!(w.configmap("prod", "plain").await.is_none());

    // A cluster-scoped kind the project does not list: the sync fails in
    // preflight and applies nothing, not even the permitted ConfigMap.
    w.create_app("kinds", "kinds", "team-a", manual()).await;
    set_project(&w, "kinds", "team").await;
    let a = w
        .wait_app("kinds", 60, "the kind reported", |a| {
            condition(a, "InvalidSpecError").is_some_and(|m| m.contains("/Namespace"))
        })
        .await;
    assert_eq!(sync_status(&a), "OutOfSync");
    let options = json!({"syncOptions": ["CreateNamespace=true"]});
    w.request_sync("kinds", options.clone()).await;
    let a = w
        .wait_app("kinds", 60, "the sync refused", |a| op_phase(a) == "Failed")
        .await;
    let m = op_message(&a);
    assert!(
        m.contains("clusterResourceWhitelist") && m.contains("nothing"),
        "{m}"
    );
    assert!(w.configmap("team-a", "kinds").await.is_none());
    let nss: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(w.client.clone());
    assert!(nss.get_opt("team-extra").await.unwrap().is_none());

    // Whitelisting the kind clears the condition (the project's change
    // queues its apps) and the sync goes through.
    patch_project(
        &w,
        "team",
        json!({"clusterResourceWhitelist": [{"group": "", "kind": "Namespace"}]}),
    )
    .await;
    w.wait_app("kinds", 60, "the condition cleared", |a| {
        condition(a, "InvalidSpecError").is_none() && op_phase(a) == "Failed"
    })
    .await;
    w.wait_app("kinds", 30, "the operation cleared", |a| {
        a.operation.is_none()
    })
    .await;
    w.request_sync("kinds", options).await;
    w.wait_synced_healthy("kinds", &c1).await;
    assert!(w.configmap("team-a", "kinds").await.is_some());

    // An app naming a project that does not exist.
    set_project(&w, "open", "nobody").await;
    let a = w
        .wait_app("open", 60, "the missing project", |a| {
            condition(a, "InvalidSpecError").is_some_and(|m| m.contains("nobody"))
        })
        .await;
    assert!(
        condition(&a, "InvalidSpecError")
            .unwrap()
            .contains("does not exist")
    );
    w.stop_controller().await;
}

#[tokio::test]
async fn sync_windows_hold_automated_and_manual_syncs_back_and_say_why() {
    let mut w = World::new().await;
    let c1 = w.commit(
        &[
            ("held/cm.yaml", &configmap("held", "1")),
            ("asked/cm.yaml", &configmap("asked", "1")),
            ("later/cm.yaml", &configmap("later", "1")),
        ],
        "first",
    );
    // A deny window open all the time for two apps, and an allow window
    // that opens only on 1 January for the third.
    create_project(
        &w,
        "frozen",
        json!({
            "sourceRepos": ["*"],
            "destinations": [{"server": "*", "namespace": "*"}],
            "syncWindows": [
                {"kind": "deny", "schedule": "* * * * *", "duration": "1h",
                 "applications": ["held", "asked"]},
                {"kind": "allow", "schedule": "0 0 1 1 *", "duration": "1m",
                 "applications": ["later"], "timeZone": "Europe/Paris"},
            ],
        }),
    )
    .await;
    w.start_controller().await;
    for (name, policy) in [
        ("held", automated(true, false)),
        ("asked", manual()),
        ("later", automated(true, false)),
    ] {
        create_app_in(&w, "frozen", name, "frozen", policy).await;
    }
    let a = w
        .wait_app("held", 60, "the window reported", |a| {
            condition(a, "SyncWindowWarning").is_some()
        })
        .await;
    let m = condition(&a, "SyncWindowWarning").unwrap();
    assert!(m.contains("deny window 0") && m.contains("until"), "{m}");
    let a = w
        .wait_app("later", 60, "the window reported", |a| {
            condition(a, "SyncWindowWarning").is_some()
        })
        .await;
    let m = condition(&a, "SyncWindowWarning").unwrap();
    assert!(
        m.contains("allow window 1")
            && m.contains("the next opens at")
            && m.contains("Europe/Paris"),
        "{m}"
    );
    // A manual sync is refused, with the reason.
    w.request_sync("asked", json!({})).await;
    let a = w
        .wait_app("asked", 60, "the sync refused", |a| op_phase(a) == "Failed")
        .await;
    assert!(
        op_message(&a).contains("deny window 0"),
        "{}",
        op_message(&a)
    );
    // Held back, not forgotten: nothing was applied.
    tokio::time::sleep(Duration::from_secs(2)).await;
    for name in ["held", "asked", "later"] {
        assert!(w.configmap("frozen", name).await.is_none(), "{name} synced");
        assert_eq!(sync_status(&w.app(name).await), "OutOfSync");
    }

    // manualSync on the window lets people through, not automation.
    let mut windows = projects(&w)
        .get("frozen")
        .await
        .unwrap()
        .spec
        .sync_windows
        .unwrap();
    windows[0].manual_sync = Some(true);
    patch_project(&w, "frozen", json!({"syncWindows": windows})).await;
    w.wait_app("asked", 30, "the operation cleared", |a| {
        a.operation.is_none()
    })
    .await;
    w.wait_app("held", 60, "the window's manual note", |a| {
        condition(a, "SyncWindowWarning").is_some_and(|m| m.contains("manual syncs are allowed"))
    })
    .await;
    w.request_sync("asked", json!({})).await;
    w.wait_synced_healthy("asked", &c1).await;
    assert!(w.configmap("frozen", "held").await.is_none());

    // Without the deny window the held app syncs by itself.
    windows.remove(0);
    patch_project(&w, "frozen", json!({"syncWindows": windows})).await;
    let a = w.wait_synced_healthy("held", &c1).await;
    assert!(condition(&a, "SyncWindowWarning").is_none());
    assert!(w.configmap("frozen", "later").await.is_none());
    w.stop_controller().await;
}

#[tokio::test]
async fn orphaned_objects_in_an_apps_namespace_are_listed_in_a_warning() {
    let mut w = World::new().await;
    let c1 = w.commit(
        &[
            ("shop/web.yaml", &deployment("web", "nginx:1.27")),
            ("shop/cm.yaml", &configmap("tracked", "1")),
        ],
        "first",
    );
    create_project(
        &w,
        "watched",
        json!({
            "sourceRepos": ["*"],
            "destinations": [{"server": "*", "namespace": "*"}],
            "clusterResourceWhitelist": [{"group": "*", "kind": "*"}],
            "orphanedResources": {"ignore": [{"group": "", "kind": "Secret"}]},
        }),
    )
    .await;
    w.start_controller().await;
    create_app_in(
        &w,
        "watched",
        "shop",
        "shop",
        json!({"automated": {"prune": true}, "syncOptions": ["CreateNamespace=true"]}),
    )
    .await;
    let a = w.wait_synced_healthy("shop", &c1).await;
    // The Deployment's ReplicaSet and Pods have owners; the namespace's
    // default ServiceAccount and CA ConfigMap are nobody's: none is listed.
    assert!(
        condition(&a, "OrphanedResourceWarning").is_none(),
        "{:?}",
        condition(&a, "OrphanedResourceWarning")
    );
    // Something made by hand beside the app, and an ignored kind.
    let cms = w.api("v1", "ConfigMap", "configmaps", Some("shop"));
    let secrets = w.api("v1", "Secret", "secrets", Some("shop"));
    cms.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "stray"}, "data": {"a": "b"}})).unwrap(),
    )
    .await
    .unwrap();
    secrets
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "by-hand"}, "stringData": {"a": "b"}})).unwrap(),
        )
        .await
        .unwrap();
    let a = w
        .wait_app("shop", 60, "the orphan reported", |a| {
            condition(a, "OrphanedResourceWarning").is_some()
        })
        .await;
    let m = condition(&a, "OrphanedResourceWarning").unwrap();
    assert!(
        m.starts_with("1 orphaned object(s) in namespace shop"),
        "{m}"
    );
    assert!(
        m.contains("ConfigMap stray") && !m.contains("by-hand"),
        "{m}"
    );
    assert_eq!(
        sync_status(&a),
        "Synced",
        "an orphan is not the app's drift"
    );
    // Gone again: the warning goes too.
    cms.delete("stray", &Default::default()).await.unwrap();
    w.wait_app("shop", 60, "the warning cleared", |a| {
        condition(a, "OrphanedResourceWarning").is_none()
    })
    .await;
    w.stop_controller().await;
}
