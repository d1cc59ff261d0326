//! End to end: an app of apps (a parent whose manifests are Applications)
//! creates its children in the controller's namespace, is Healthy only when
//! they are (Degraded when one is), and deleting it deletes the children
//! with their objects, children first; `spec.dependsOn` holds an automated
//! sync until the dependency is Synced and Healthy, and says so; a missing
//! dependency and a cycle are conditions.

use crate::support;

use std::time::{Duration, Instant};

use kube::api::{DeleteParams, PostParams};
use serde_json::{Value, json};
use sextant_model::Application;
use support::*;

/// A child Application manifest, with no namespace (the parent's render
/// puts it in the controller's).
fn child(name: &str, repo: &str, path: &str) -> String {
    format!(
        "apiVersion: sextant.dev/v1alpha1
kind: Application
metadata:
  name: {name}
spec:
  project: default
  source: {{repoURL: '{repo}', path: {path}, targetRevision: main}}
  destination: {{server: 'https://kubernetes.default.svc', namespace: {name}}}
  syncPolicy:
    automated: {{prune: true, selfHeal: true}}
    syncOptions: [CreateNamespace=true]
"
    )
}

async fn create(w: &World, app: Value) {
    let app: Application = serde_json::from_value(app).unwrap();
    w.apps().create(&PostParams::default(), &app).await.unwrap();
}

fn app_json(name: &str, repo: &str, path: &str, extra: Value) -> Value {
    let mut v = json!({
        "apiVersion": "sextant.dev/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "project": "default",
            "source": {"repoURL": repo, "path": path, "targetRevision": "main"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": name},
            "syncPolicy": automated(true, false),
        },
    });
    if let (Some(spec), Value::Object(e)) = (v["spec"].as_object_mut(), extra) {
        spec.extend(e);
    }
    v
}

#[tokio::test]
async fn an_app_of_apps_rolls_up_health_and_deletes_its_children_first() {
    let mut w = World::new().await;
    let repo = format!("file://{}", w.repo.display());
    let c1 = w.commit(
        &[
            (
                "root/apps.yaml",
                &format!(
                    "{}---\n{}",
                    child("child-a", &repo, "services/a"),
                    child("child-b", &repo, "services/b")
                ),
            ),
            ("services/a/cm.yaml", &configmap("a", "1")),
            ("services/b/web.yaml", &deployment("web", "nginx:1")),
        ],
        "root and two children",
    );
    w.start_controller().await;
    let mut root = app_json("root", &repo, "root", json!({}));
    root["metadata"]["finalizers"] = json!(["resources-finalizer.sextant.dev"]);
    create(&w, root).await;

    // The children are made in the controller's namespace and synced.
    let deadline = Instant::now() + Duration::from_secs(60);
    while w.apps().get_opt("child-b").await.unwrap().is_none() {
        assert!(Instant::now() < deadline, "the children were never made");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for c in ["child-a", "child-b"] {
        w.wait_synced_healthy(c, &c1).await;
    }
    let root = w.wait_synced_healthy("root", &c1).await;
    let kinds: Vec<String> = root
        .status
        .unwrap()
        .resources
        .unwrap_or_default()
        .iter()
        .map(|r| {
            format!(
                "{}/{}/{}",
                r.kind,
                r.namespace.clone().unwrap_or_default(),
                r.name
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            format!("Application/{NS}/child-a"),
            format!("Application/{NS}/child-b")
        ]
    );

    // A child that turns Degraded makes the parent Degraded.
    w.commit(
        &[(
            "services/b/web.yaml",
            &deployment("web", "nginx-doesnotexist:1"),
        )],
        "bad image",
    );
    w.wait_app("child-b", 120, "child-b Degraded", |a| {
        health(a) == "Degraded"
    })
    .await;
    let root = w
        .wait_app("root", 60, "root Degraded", |a| health(a) == "Degraded")
        .await;
    assert_eq!(
        sync_status(&root),
        "Synced",
        "the parent's own objects did not change"
    );

    // Deleting the parent deletes the children and their objects first.
    w.apps()
        .delete("root", &DeleteParams::background())
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while w.apps().get_opt("root").await.unwrap().is_some() {
        assert!(Instant::now() < deadline, "root was never deleted");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for c in ["child-a", "child-b"] {
        assert!(
            w.apps().get_opt(c).await.unwrap().is_none(),
            "{c} outlived its parent"
        );
    }
    assert!(
        w.configmap("child-a", "a").await.is_none(),
        "child-a's objects outlived it"
    );
    assert!(
        w.deployment("child-b", "web").await.is_none(),
        "child-b's objects outlived it"
    );
}

#[tokio::test]
async fn depends_on_holds_an_automated_sync_until_the_dependency_is_healthy() {
    let mut w = World::new().await;
    let repo = format!("file://{}", w.repo.display());
    w.commit(&[("web/cm.yaml", &configmap("web", "1"))], "web only");
    w.start_controller().await;
    create(
        &w,
        app_json("web", &repo, "web", json!({"dependsOn": [{"name": "db"}]})),
    )
    .await;

    // A dependency that does not exist is a condition, and nothing syncs.
    let web = w
        .wait_app("web", 60, "DependencyError", |a| {
            condition(a, "DependencyError").is_some()
        })
        .await;
    let msg = condition(&web, "DependencyError").unwrap();
    assert!(msg.contains("do not exist") && msg.contains("db"), "{msg}");
    assert!(w.configmap("web", "web").await.is_none());

    // db exists but cannot render yet (its folder is not in Git): web waits.
    create(&w, app_json("db", &repo, "db", json!({}))).await;
    let web = w
        .wait_app("web", 60, "DependencyWait", |a| {
            condition(a, "DependencyWait").is_some()
        })
        .await;
    assert!(
        condition(&web, "DependencyWait").unwrap().contains("db ("),
        "{web:?}"
    );
    assert!(condition(&web, "DependencyError").is_none());
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        w.configmap("web", "web").await.is_none(),
        "web synced before db was ready"
    );

    // Once db is Synced and Healthy, web syncs, and not before.
    let c2 = w.commit(&[("db/db.yaml", &deployment("db", "postgres:16"))], "db");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if w.configmap("web", "web").await.is_some() {
            let db = w.app("db").await;
            assert!(
                sync_status(&db) == "Synced" && health(&db) == "Healthy",
                "web synced while db was {}/{}",
                sync_status(&db),
                health(&db)
            );
            break;
        }
        assert!(Instant::now() < deadline, "web never synced");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let web = w.wait_synced_healthy("web", &c2).await;
    assert!(condition(&web, "DependencyWait").is_none());
}

#[tokio::test]
async fn a_dependency_cycle_is_a_condition_on_every_app_in_it() {
    let mut w = World::new().await;
    let repo = format!("file://{}", w.repo.display());
    w.commit(
        &[
            ("x/cm.yaml", &configmap("x", "1")),
            ("y/cm.yaml", &configmap("y", "1")),
        ],
        "x and y",
    );
    w.start_controller().await;
    create(
        &w,
        app_json("x", &repo, "x", json!({"dependsOn": [{"name": "y"}]})),
    )
    .await;
    create(
        &w,
        app_json("y", &repo, "y", json!({"dependsOn": [{"name": "x"}]})),
    )
    .await;
    for (name, cycle) in [("x", "x -> y -> x"), ("y", "y -> x -> y")] {
        let a = w
            .wait_app(name, 60, "DependencyError", |a| {
                condition(a, "DependencyError").is_some_and(|m| m.contains("cycle"))
            })
            .await;
        let msg = condition(&a, "DependencyError").unwrap();
        assert!(msg.contains(cycle), "{msg}");
    }
    assert!(w.configmap("x", "x").await.is_none() && w.configmap("y", "y").await.is_none());
}
