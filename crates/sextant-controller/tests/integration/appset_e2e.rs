//! End to end: ApplicationSets on a cluster. The field report's layout
//! (`clusters/<cluster>/apps/<service>/`, with plain, Kustomize and Helm
//! services) and its set (a git-directory
//! generator, `{{path.basename}}-prod-us-east`): one Application per
//! service, a directory added or removed in Git adds or removes an app, a
//! generator error keeps the apps, deleting the set deletes them; matrix
//! of clusters x directories, git files in Go-template mode, merge, and the
//! create-only policy.

use crate::support;

use std::time::{Duration, Instant};

use kube::Api;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use sextant_model::ApplicationSet;
use support::*;

fn sets(w: &World) -> Api<ApplicationSet> {
    Api::namespaced(w.client.clone(), NS)
}

async fn create_set(w: &World, set: Value) {
    let set: ApplicationSet = serde_json::from_value(set).unwrap();
    sets(w).create(&PostParams::default(), &set).await.unwrap();
}

/// The names of the Applications owned by the set `set`, sorted.
async fn owned(w: &World, set: &str) -> Vec<String> {
    let mut names: Vec<String> = w
        .apps()
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|a| {
            a.metadata
                .owner_references
                .iter()
                .flatten()
                .any(|o| o.kind == "ApplicationSet" && o.name == set)
        })
        .filter(|a| a.metadata.deletion_timestamp.is_none())
        .filter_map(|a| a.metadata.name)
        .collect();
    names.sort();
    names
}

async fn wait_owned(w: &World, set: &str, want: &[&str], secs: u64) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let have = owned(w, set).await;
        if have == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "set {set}: waited {secs}s for Applications {want:?}, have {have:?}; status: {}",
            serde_json::to_string_pretty(&sets(w).get(set).await.unwrap().status).unwrap()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Wait until the set's condition `type_` has status `status`; returns
/// its message.
async fn wait_condition(w: &World, set: &str, type_: &str, status: &str, secs: u64) -> String {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let s = sets(w).get(set).await.unwrap();
        if let Some(c) = s
            .status
            .iter()
            .flat_map(|s| s.conditions.iter())
            .find(|c| c.type_ == type_ && c.status == status)
        {
            return c.message.clone();
        }
        assert!(
            Instant::now() < deadline,
            "set {set}: waited for {type_}={status}; status: {}",
            serde_json::to_string_pretty(&s.status).unwrap()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn service(name: &str) -> String {
    configmap(name, name)
}

fn field_report_set(repo: &str) -> Value {
    json!({
        "apiVersion": "sextant.dev/v1alpha1",
        "kind": "ApplicationSet",
        "metadata": {"name": "prod-us-east", "namespace": NS},
        "spec": {
            "generators": [{"git": {
                "repoURL": repo,
                "revision": "main",
                "directories": [{"path": "clusters/prod-us-east/apps/*"}],
            }}],
            "template": {
                "metadata": {"name": "{{path.basename}}-prod-us-east", "labels": {"cluster": "{{path[1]}}"}},
                "spec": {
                    "project": "default",
                    "source": {"repoURL": repo, "targetRevision": "main", "path": "{{path}}"},
                    "destination": {"server": "https://kubernetes.default.svc", "namespace": "{{path.basename}}"},
                    "syncPolicy": automated(true, false),
                },
            },
        },
    })
}

#[tokio::test]
async fn a_git_directory_set_makes_an_app_per_service_and_follows_git() {
    let mut w = World::new().await;
    let c1 = w.commit(
        &[
            ("clusters/prod-us-east/apps/web/cm.yaml", &service("web")),
            ("clusters/prod-us-east/apps/api/cm.yaml", &service("api")),
            // A Kustomize service and a Helm one.
            ("clusters/prod-us-east/apps/checkout/cm.yaml", &service("checkout")),
            (
                "clusters/prod-us-east/apps/checkout/kustomization.yaml",
                "resources: [cm.yaml]\nnamePrefix: kust-\n",
            ),
            (
                "clusters/prod-us-east/apps/frontend/Chart.yaml",
                "apiVersion: v2\nname: frontend\nversion: 0.1.0\n",
            ),
            (
                "clusters/prod-us-east/apps/frontend/templates/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-settings\ndata:\n  k: v\n",
            ),
            ("clusters/prod-eu-west/apps/web/cm.yaml", &service("web")),
        ],
        "four services",
    );
    w.start_controller().await;
    let repo = format!("file://{}", w.repo.display());
    create_set(&w, field_report_set(&repo)).await;

    let all = [
        "api-prod-us-east",
        "checkout-prod-us-east",
        "frontend-prod-us-east",
        "web-prod-us-east",
    ];
    wait_owned(&w, "prod-us-east", &all, 60).await;
    for app in all {
        let a = w.wait_synced_healthy(app, &c1).await;
        assert_eq!(a.metadata.labels.unwrap()["cluster"], "prod-us-east");
        let service = app.trim_end_matches("-prod-us-east");
        assert_eq!(
            a.spec.source.unwrap().path.unwrap_or_default(),
            format!("clusters/prod-us-east/apps/{service}")
        );
    }
    assert!(w.configmap("web", "web").await.is_some());
    assert!(
        w.configmap("checkout", "kust-checkout").await.is_some(),
        "the Kustomize service is deployed"
    );
    assert!(
        w.configmap("frontend", "frontend-prod-us-east-settings")
            .await
            .is_some(),
        "the Helm service is deployed (its release named after the app)"
    );
    wait_condition(&w, "prod-us-east", "ResourcesUpToDate", "True", 30).await;
    // The set's status lists its apps with their sync and health.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let s = sets(&w)
            .get("prod-us-east")
            .await
            .unwrap()
            .status
            .unwrap_or_default();
        let healthy = s.resources.len() == all.len()
            && s.resources.iter().all(|r| {
                r.status.as_deref() == Some("Synced")
                    && r.health.as_ref().is_some_and(|h| h.status == "Healthy")
            });
        if healthy {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the set's status never listed its apps Synced+Healthy: {s:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Adding a service is adding a directory.
    let c2 = w.commit(
        &[(
            "clusters/prod-us-east/apps/worker/cm.yaml",
            &service("worker"),
        )],
        "worker",
    );
    let mut with_worker = all.to_vec();
    with_worker.push("worker-prod-us-east");
    wait_owned(&w, "prod-us-east", &with_worker, 30).await;
    w.wait_synced_healthy("worker-prod-us-east", &c2).await;

    // Removing directories removes their apps.
    w.commit(
        &[
            ("clusters/prod-us-east/apps/api/cm.yaml", ""),
            ("clusters/prod-us-east/apps/checkout/cm.yaml", ""),
            ("clusters/prod-us-east/apps/checkout/kustomization.yaml", ""),
            ("clusters/prod-us-east/apps/frontend/Chart.yaml", ""),
            ("clusters/prod-us-east/apps/frontend/templates/cm.yaml", ""),
        ],
        "api, checkout and frontend go",
    );
    wait_owned(
        &w,
        "prod-us-east",
        &["web-prod-us-east", "worker-prod-us-east"],
        30,
    )
    .await;

    // A generator that cannot read Git keeps the apps and says why.
    let broken = json!({"spec": {"generators": [{"git": {
        "repoURL": format!("file://{}/missing", w.dir.path().display()),
        "revision": "main",
        "directories": [{"path": "clusters/prod-us-east/apps/*"}],
    }}]}});
    sets(&w)
        .patch(
            "prod-us-east",
            &PatchParams::default(),
            &Patch::Merge(&broken),
        )
        .await
        .unwrap();
    let msg = wait_condition(&w, "prod-us-east", "ErrorOccurred", "True", 30).await;
    assert!(
        msg.contains("missing") && msg.contains("left as they are"),
        "{msg}"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        owned(&w, "prod-us-east").await,
        vec!["web-prod-us-east", "worker-prod-us-east"]
    );

    // Deleting the set deletes its apps (owner references).
    sets(&w)
        .delete("prod-us-east", &DeleteParams::foreground())
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !w
        .apps()
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .is_empty()
    {
        assert!(Instant::now() < deadline, "the set's apps outlived it");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn matrix_git_files_go_templates_merge_and_create_only() {
    let mut w = World::new().await;
    w.commit(
        &[
            ("clusters/prod-us-east/apps/web/cm.yaml", &service("web")),
            ("clusters/prod-us-east/apps/api/cm.yaml", &service("api")),
            ("clusters/staging/apps/web/cm.yaml", &service("web")),
            (
                "clusters/prod-us-east/config.json",
                r#"{"cluster": {"name": "prod-us-east", "region": "us-east-1"}, "replicas": 3}"#,
            ),
            (
                "clusters/staging/config.json",
                r#"{"cluster": {"name": "staging", "region": "eu-west-1"}}"#,
            ),
        ],
        "layout",
    );
    // A second cluster, as a cluster Secret in Argo CD's form.
    let secrets: Api<k8s_openapi::api::core::v1::Secret> = Api::namespaced(w.client.clone(), NS);
    secrets
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({
                "metadata": {"name": "cluster-staging", "labels": {
                    "argocd.argoproj.io/secret-type": "cluster", "env": "staging"}},
                "stringData": {"name": "staging", "server": "https://staging.example:6443"},
            }))
            .unwrap(),
        )
        .await
        .unwrap();
    w.start_controller().await;
    let repo = format!("file://{}", w.repo.display());
    let app_spec = |path: &str, server: &str, ns: &str| {
        json!({
            "project": "default",
            "source": {"repoURL": repo, "targetRevision": "main", "path": path},
            "destination": {"server": server, "namespace": ns},
        })
    };

    // Matrix: the clusters (local + staging) x each cluster's services.
    create_set(
        &w,
        json!({
            "apiVersion": "sextant.dev/v1alpha1", "kind": "ApplicationSet",
            "metadata": {"name": "matrix", "namespace": NS},
            "spec": {
                "generators": [{"matrix": {"generators": [
                    {"clusters": {"values": {"dir": "prod-us-east"}}},
                    {"git": {"repoURL": repo, "revision": "main",
                        "directories": [{"path": "clusters/{{name}}/apps/*"}]}},
                ]}}],
                "template": {
                    "metadata": {"name": "{{path.basename}}-{{nameNormalized}}"},
                    "spec": app_spec("{{path}}", "{{server}}", "{{path.basename}}"),
                },
            },
        }),
    )
    .await;
    // `in-cluster` has no folder; staging has one service.
    wait_owned(&w, "matrix", &["web-staging"], 60).await;
    assert_eq!(
        w.app("web-staging")
            .await
            .spec
            .destination
            .server
            .as_deref(),
        Some("https://staging.example:6443")
    );

    // Git files in Go-template mode, merged with a list by cluster name,
    // under create-only.
    create_set(
        &w,
        json!({
            "apiVersion": "sextant.dev/v1alpha1", "kind": "ApplicationSet",
            "metadata": {"name": "files", "namespace": NS},
            "spec": {
                "goTemplate": true,
                "goTemplateOptions": ["missingkey=error"],
                // Kept by the CRD (not pruned) and merged over the template.
                "templatePatch": "metadata:\n  labels:\n    patched: '{{ .cluster.name }}'\n",
                "syncPolicy": {"applicationsSync": "create-only"},
                "generators": [{"merge": {"mergeKeys": ["cluster.name"], "generators": [
                    {"git": {"repoURL": repo, "revision": "main", "files": [{"path": "clusters/*/config.json"}]}},
                    {"list": {"elements": [{"cluster": {"name": "staging"}, "tier": "bronze"}]}},
                ]}}],
                "template": {
                    "metadata": {
                        "name": "cfg-{{ .cluster.name | normalize }}",
                        "annotations": {"region": "{{ .cluster.region }}", "tier": "{{ .tier | default \"gold\" }}"},
                    },
                    "spec": app_spec("{{ .path.path }}", "https://kubernetes.default.svc", "{{ .path.basename }}"),
                },
            },
        }),
    )
    .await;
    wait_owned(&w, "files", &["cfg-prod-us-east", "cfg-staging"], 60).await;
    let staging = w.app("cfg-staging").await;
    let ann = staging.metadata.annotations.clone().unwrap();
    assert_eq!(ann["region"], "eu-west-1");
    assert_eq!(ann["tier"], "bronze");
    assert_eq!(
        staging.metadata.labels.clone().unwrap()["patched"],
        "staging"
    );
    assert_eq!(
        w.app("cfg-prod-us-east")
            .await
            .metadata
            .annotations
            .unwrap()["tier"],
        "gold"
    );
    assert_eq!(
        staging.spec.source.unwrap().path.as_deref(),
        Some("clusters/staging")
    );

    // create-only: a changed template does not touch existing apps.
    let patch = json!({"spec": {"template": {"metadata": {"annotations": {"region": "changed"}}}}});
    sets(&w)
        .patch("files", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        w.app("cfg-staging").await.metadata.annotations.unwrap()["region"],
        "eu-west-1"
    );

    // A template reading a key no set has fails (missingkey=error) and
    // changes nothing.
    let patch = json!({"spec": {"template": {"metadata": {"name": "cfg-{{ .nope }}"}}}});
    sets(&w)
        .patch("files", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    let msg = wait_condition(&w, "files", "ErrorOccurred", "True", 30).await;
    assert!(msg.contains("missingkey=error"), "{msg}");
    assert_eq!(
        owned(&w, "files").await,
        vec!["cfg-prod-us-east", "cfg-staging"]
    );
}

#[tokio::test]
async fn preserve_resources_on_deletion_keeps_the_objects_of_deleted_apps() {
    let mut w = World::new().await;
    let c1 = w.commit(
        &[
            ("apps/a/cm.yaml", &service("a")),
            ("apps/b/cm.yaml", &service("b")),
        ],
        "a and b",
    );
    w.start_controller().await;
    let repo = format!("file://{}", w.repo.display());
    create_set(
        &w,
        json!({
            "apiVersion": "sextant.dev/v1alpha1", "kind": "ApplicationSet",
            "metadata": {"name": "keep", "namespace": NS},
            "spec": {
                "syncPolicy": {"preserveResourcesOnDeletion": true},
                "generators": [{"git": {"repoURL": repo, "revision": "main", "directories": [{"path": "apps/*"}]}}],
                "template": {
                    "metadata": {"name": "{{path.basename}}", "finalizers": ["resources-finalizer.sextant.dev"]},
                    "spec": {
                        "project": "default",
                        "source": {"repoURL": repo, "targetRevision": "main", "path": "{{path}}"},
                        "destination": {"server": "https://kubernetes.default.svc", "namespace": "{{path.basename}}"},
                        "syncPolicy": automated(true, false),
                    },
                },
            },
        }),
    )
    .await;
    wait_owned(&w, "keep", &["a", "b"], 60).await;
    for app in ["a", "b"] {
        let a = w.wait_synced_healthy(app, &c1).await;
        assert!(
            a.metadata.finalizers.unwrap_or_default().is_empty(),
            "{app} got the resources finalizer"
        );
    }
    // An app the set deletes leaves its objects.
    w.commit(&[("apps/b/cm.yaml", "")], "b goes");
    wait_owned(&w, "keep", &["a"], 30).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while w.apps().get_opt("b").await.unwrap().is_some() {
        assert!(Instant::now() < deadline, "b was never deleted");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        w.configmap("b", "b").await.is_some(),
        "b's objects were deleted"
    );

    // So does deleting the set.
    sets(&w)
        .delete("keep", &DeleteParams::background())
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while w.apps().get_opt("a").await.unwrap().is_some() {
        assert!(Instant::now() < deadline, "a outlived its set");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        w.configmap("a", "a").await.is_some(),
        "a's objects were deleted"
    );
}
