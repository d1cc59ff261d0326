//! Several clusters: two more localkube instances (TLS, bearer tokens)
//! registered through cluster Secrets made from their kubeconfigs, apps on
//! each by name and by server, an unknown cluster refused, rotated
//! credentials taken in without a restart, and a stopped cluster that
//! gives its apps a condition while the other clusters' apps keep syncing.

use crate::support;

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use localkube::{Config, LocalKube};
use serde_json::{Value, json};
use sextant_cluster::ClusterCredentials;
use support::*;

async fn remote_cluster() -> LocalKube {
    let mut config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        tls: true,
        ..Config::default()
    };
    config.simulation.enabled = false;
    LocalKube::start(config).await.unwrap()
}

/// The cluster Secret `sextant cluster add` would write for `kube`.
fn cluster_secret(kube: &LocalKube, name: &str) -> (Secret, ClusterCredentials) {
    let text = std::fs::read_to_string(kube.kubeconfig_path()).unwrap();
    let creds = ClusterCredentials::from_kubeconfig(&text, None, Some(name)).unwrap();
    let secret: Secret = serde_json::from_value(json!({
        "metadata": {"name": format!("cluster-{name}"), "namespace": NS,
                     "labels": {"sextant.dev/secret-type": "cluster"}},
        "stringData": creds.secret_data(),
    }))
    .unwrap();
    (secret, creds)
}

async fn create_app(w: &World, name: &str, destination: Value) {
    let app = json!({
        "apiVersion": "sextant.dev/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "project": "default",
            "source": {"repoURL": format!("file://{}", w.repo.display()), "path": name, "targetRevision": "main"},
            "destination": destination,
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
}

async fn value_in(client: &kube::Client, ns: &str, name: &str) -> Option<String> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    api.get_opt(name)
        .await
        .ok()
        .flatten()
        .and_then(|c| c.data?.get("key").cloned())
}

#[tokio::test]
async fn apps_deploy_to_each_cluster_and_a_stopped_one_holds_up_only_its_own() {
    let mut w = World::new().await;
    let east = remote_cluster().await;
    let west = remote_cluster().await;
    let c1 = w.commit(
        &[
            ("home/cm.yaml", &configmap("home", "1")),
            ("east/cm.yaml", &configmap("east", "1")),
            ("west/cm.yaml", &configmap("west", "1")),
            ("lost/cm.yaml", &configmap("lost", "1")),
        ],
        "first",
    );
    let secrets: Api<Secret> = Api::namespaced(w.client.clone(), NS);
    let (east_secret, east_creds) = cluster_secret(&east, "east");
    let (west_secret, west_creds) = cluster_secret(&west, "west");
    assert_eq!(east_creds.auth_kind(), "token");
    secrets
        .create(&PostParams::default(), &east_secret)
        .await
        .unwrap();
    secrets
        .create(&PostParams::default(), &west_secret)
        .await
        .unwrap();
    w.start_controller().await;

    // The local cluster by name, east by name, west by server URL.
    create_app(
        &w,
        "home",
        json!({"name": "in-cluster", "namespace": "apps"}),
    )
    .await;
    create_app(&w, "east", json!({"name": "east", "namespace": "apps"})).await;
    create_app(
        &w,
        "west",
        json!({"server": west_creds.server, "namespace": "apps"}),
    )
    .await;
    create_app(&w, "lost", json!({"name": "nowhere", "namespace": "apps"})).await;
    for app in ["home", "east", "west"] {
        w.wait_synced_healthy(app, &c1).await;
    }
    let east_client = east.client().await.unwrap();
    let west_client = west.client().await.unwrap();
    assert_eq!(
        value_in(&w.client, "apps", "home").await.as_deref(),
        Some("1")
    );
    assert_eq!(
        value_in(&east_client, "apps", "east").await.as_deref(),
        Some("1")
    );
    assert_eq!(
        value_in(&west_client, "apps", "west").await.as_deref(),
        Some("1")
    );
    // Each object went to its own cluster only.
    assert_eq!(value_in(&w.client, "apps", "east").await, None);
    assert_eq!(value_in(&east_client, "apps", "west").await, None);
    let lost = w
        .wait_app("lost", 60, "the unknown cluster reported", |a| {
            condition(a, "InvalidSpecError").is_some()
        })
        .await;
    let m = condition(&lost, "InvalidSpecError").unwrap();
    assert!(
        m.contains("no cluster named nowhere") && m.contains("sextant cluster add"),
        "{m}"
    );

    // Rotated credentials are taken in without a restart: a wrong token
    // is refused, the right one works again.
    let bad = json!({"stringData": {"config": r#"{"bearerToken":"wrong","tlsClientConfig":{"insecure":true}}"#}});
    secrets
        .patch("cluster-east", &PatchParams::default(), &Patch::Merge(&bad))
        .await
        .unwrap();
    let c2 = w.commit(&[("east/cm.yaml", &configmap("east", "2"))], "east 2");
    let a = w
        .wait_app("east", 90, "the refused credentials reported", |a| {
            condition(a, "ComparisonError").is_some_and(|m| m.contains("cluster east"))
        })
        .await;
    assert!(
        condition(&a, "ComparisonError")
            .unwrap()
            .contains("unreachable"),
        "{:?}",
        condition(&a, "ComparisonError")
    );
    secrets
        .patch(
            "cluster-east",
            &PatchParams::default(),
            &Patch::Merge(&json!({"stringData": east_creds.secret_data()})),
        )
        .await
        .unwrap();
    w.wait_synced_healthy("east", &c2).await;
    assert_eq!(
        value_in(&east_client, "apps", "east").await.as_deref(),
        Some("2")
    );

    // West stops answering: its app says so; the others keep syncing.
    west.shutdown().await;
    let c3 = w.commit(
        &[
            ("home/cm.yaml", &configmap("home", "3")),
            ("east/cm.yaml", &configmap("east", "3")),
            ("west/cm.yaml", &configmap("west", "3")),
        ],
        "third",
    );
    for app in ["home", "east", "west"] {
        w.apps()
            .patch(
                app,
                &PatchParams::default(),
                &Patch::Merge(
                    &json!({"metadata": {"annotations": {"sextant.dev/refresh": "normal"}}}),
                ),
            )
            .await
            .unwrap();
    }
    w.wait_synced_healthy("home", &c3).await;
    w.wait_synced_healthy("east", &c3).await;
    let a = w
        .wait_app("west", 90, "the stopped cluster reported", |a| {
            condition(a, "ComparisonError").is_some_and(|m| m.contains("cluster west"))
        })
        .await;
    assert_eq!(sync_status(&a), "Unknown");
    assert!(
        condition(&a, "ComparisonError")
            .unwrap()
            .contains("unreachable")
    );
    assert_eq!(
        value_in(&east_client, "apps", "east").await.as_deref(),
        Some("3")
    );
    w.stop_controller().await;
    east.shutdown().await;
}
