//! The server runs with the Kubernetes permissions `deploy/server-rbac.yaml`
//! writes down, not as cluster-admin: on a real control plane (which
//! enforces RBAC) a server whose client is that ServiceAccount's token
//! serves every route, and the same token cannot delete what the apps
//! deploy. localkube does not enforce RBAC, so this runs on the real
//! control plane only.

use crate::support;

use std::time::Duration;

use k8s_openapi::api::authentication::v1::TokenRequest;
use k8s_openapi::api::core::v1::{ConfigMap, ServiceAccount};
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams};
use kube::discovery::{ApiCapabilities, ApiResource, Discovery, Scope};
use reqwest::{Method, StatusCode};
use serde_json::json;
use sextant_server::{Server, ServerConfig};
use support::{NS, World, configmap, sync_status};

/// Apply every document of a YAML file with server-side apply.
async fn apply_file(client: &kube::Client, path: &std::path::Path) {
    let text = std::fs::read_to_string(path).unwrap();
    let discovery = Discovery::new(client.clone()).run().await.unwrap();
    for doc in serde_yaml_ng::Deserializer::from_str(&text) {
        let value: serde_json::Value = serde::Deserialize::deserialize(doc).unwrap();
        if value.is_null() {
            continue;
        }
        let obj: DynamicObject = serde_json::from_value(value.clone()).unwrap();
        let gvk = kube::core::GroupVersionKind::try_from(obj.types.as_ref().unwrap()).unwrap();
        let (ar, caps): (ApiResource, ApiCapabilities) = discovery.resolve_gvk(&gvk).unwrap();
        let api: Api<DynamicObject> = if caps.scope == Scope::Namespaced {
            Api::namespaced_with(
                client.clone(),
                obj.metadata.namespace.as_deref().unwrap(),
                &ar,
            )
        } else {
            Api::all_with(client.clone(), &ar)
        };
        api.patch(
            obj.metadata.name.as_deref().unwrap(),
            &PatchParams::apply("test").force(),
            &Patch::Apply(&value),
        )
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn the_server_works_with_the_role_written_in_deploy_and_is_not_cluster_admin() {
    if !support::real() {
        eprintln!("runs on the real control plane only: localkube does not enforce RBAC");
        return;
    }
    let mut w = World::new().await;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    apply_file(&w.client, &root.join("deploy/server-rbac.yaml")).await;
    let sas: Api<ServiceAccount> = Api::namespaced(w.client.clone(), NS);
    let request: TokenRequest =
        serde_json::from_value(json!({"spec": {"expirationSeconds": 3600}})).unwrap();
    let token = sas
        .create_token_request("sextant-server", &Default::default(), &request)
        .await
        .unwrap()
        .status
        .unwrap()
        .token;
    let kc = kube::config::Kubeconfig::read_from(w.kubeconfig()).unwrap();
    let mut config = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .unwrap();
    config.auth_info = kube::config::AuthInfo {
        token: Some(token.into()),
        ..Default::default()
    };
    let sa_client = kube::Client::try_from(config).unwrap();

    // The app and its objects (made by a controller with its own rights).
    w.commit(&[("web/cm.yaml", &configmap("settings", "one"))], "one");
    w.create_app(w.app("web", "default", "web", "web", true))
        .await;
    w.start_controller().await;

    let server = Server::start(
        sa_client.clone(),
        ServerConfig::new(NS, w.dir.path().join("sa-cache")),
    )
    .await
    .unwrap();
    tokio::time::timeout(Duration::from_secs(60), server.ready())
        .await
        .unwrap();
    // Talk to the ServiceAccount's server from here on.
    w.url = server.url().to_owned();
    let admin = w.admin().await;
    w.wait_app(&admin, "web", "is Synced", |a| sync_status(a) == "Synced")
        .await;
    for path in [
        "/api/v1/applications",
        "/api/v1/applications/web",
        "/api/v1/applications/web/resource-tree",
        "/api/v1/applications/web/managed-resources",
        "/api/v1/applications/web/diff",
        "/api/v1/applications/web/manifests",
        "/api/v1/applications/web/events",
        "/api/v1/projects",
        "/api/v1/repositories",
        "/api/v1/clusters",
        "/api/v1/account",
    ] {
        let (status, body) = w.get(path, &admin).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "GET {path} with the server's own Role: {body}"
        );
    }
    let (_, diff) = w.get("/api/v1/applications/web/diff", &admin).await;
    assert_eq!(
        diff["errors"],
        json!([]),
        "the dry-run of a diff is allowed: {diff}"
    );
    // The server started before the app's first sync: it watches
    // ConfigMaps from when the app's status first names one, so the tree
    // fills a moment after Synced (a live stream gets it then).
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (_, tree) = w
            .get("/api/v1/applications/web/resource-tree", &admin)
            .await;
        if tree.to_string().contains("\"ConfigMap\"") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the tree never showed the ConfigMap: {tree}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for (method, path, body) in [
        (Method::POST, "/api/v1/applications/web/refresh", None),
        (
            Method::POST,
            "/api/v1/repositories",
            Some(json!({"url": "https://git.example/a.git", "password": "p"})),
        ),
        (
            Method::DELETE,
            "/api/v1/repositories/repo-git-example-a",
            None,
        ),
        (
            Method::POST,
            "/api/v1/applications",
            Some(w.app("other", "default", "x", "x", false)),
        ),
        (
            Method::DELETE,
            "/api/v1/applications/other?cascade=false",
            None,
        ),
    ] {
        let (status, answer) = w.call(method.clone(), path, Some(&admin), body).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{method} {path} with the server's own Role: {answer}"
        );
        if path == "/api/v1/applications" {
            w.eventually("the server sees other", async || {
                w.get("/api/v1/applications/other", &admin).await.0 == StatusCode::OK
            })
            .await;
        }
    }
    // Not cluster-admin: it cannot delete what the app deployed.
    let cms: Api<ConfigMap> = Api::namespaced(sa_client, "web");
    let refused = cms.delete("settings", &DeleteParams::default()).await;
    assert!(
        matches!(refused, Err(kube::Error::Api(ref s)) if s.code == 403),
        "{refused:?}"
    );
    server.shutdown().await;
}
