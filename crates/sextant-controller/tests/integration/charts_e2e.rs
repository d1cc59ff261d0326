//! Applications whose source is a chart of a Helm chart repository or an
//! OCI registry: credentials from a repository Secret of type helm (Argo
//! CD's keys), the newest version a range allows synced and recorded as
//! the revision, a new version picked up at the next poll, and a
//! registry over plain HTTP through `insecureOCIForceHttp`.

use crate::support;

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, PostParams};
use serde_json::{Value, json};
use sextant_model::Application;
use sextant_testkit::{OciRegistry, StaticHttpServer, index_repo, package_chart};
use support::*;

fn helm_secret(name: &str, data: Value) -> Secret {
    serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": NS,
                     "labels": {"argocd.argoproj.io/secret-type": "repository"}},
        "stringData": data,
    }))
    .unwrap()
}

fn chart_app(name: &str, repo: &str, chart: &str, revision: &str, dest: &str) -> Application {
    serde_json::from_value(json!({
        "apiVersion": "sextant.dev/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "project": "default",
            "source": {
                "repoURL": repo, "chart": chart, "targetRevision": revision,
                "helm": {"valuesObject": {"greeting": "hi from values"}},
            },
            "destination": {"server": "https://kubernetes.default.svc", "namespace": dest},
            "syncPolicy": {"automated": {"prune": true}, "syncOptions": ["CreateNamespace=true"]},
        }
    }))
    .unwrap()
}

fn history_revisions(a: &Application) -> Vec<String> {
    a.status
        .iter()
        .flat_map(|s| s.history.iter().flatten())
        .map(|h| h.revision.clone())
        .collect()
}

#[tokio::test]
async fn a_chart_from_a_private_chart_repository_syncs_and_follows_its_range() {
    let mut w = World::new().await;
    let charts = w.dir.path().join("charts");
    package_chart(&charts, "web", "1.0.0", &[]);
    package_chart(&charts, "web", "2.0.0", &[]);
    index_repo(&charts);
    let server = StaticHttpServer::start(&charts, Some(("ci", "chart-pass-789")));
    let url = server.url("");
    w.start_controller().await;
    w.apps()
        .create(
            &PostParams::default(),
            &chart_app("web", &url, "web", "1.*", "web"),
        )
        .await
        .unwrap();

    // No Secret: the condition says where credentials go.
    let app = w
        .wait_app("web", 60, "ComparisonError", |a| {
            condition(a, "ComparisonError").is_some()
        })
        .await;
    let message = condition(&app, "ComparisonError").unwrap();
    assert!(message.contains("refused access (401)"), "{message}");
    assert!(message.contains("with type: helm"), "{message}");

    let secrets: Api<Secret> = Api::namespaced(w.client.clone(), NS);
    secrets
        .create(
            &PostParams::default(),
            &helm_secret(
                "charts",
                json!({"type": "helm", "name": "charts", "url": url,
                       "username": "ci", "password": "chart-pass-789"}),
            ),
        )
        .await
        .unwrap();
    let app = w.wait_synced_healthy("web", "1.0.0").await;
    assert!(condition(&app, "ComparisonError").is_none());
    let cm = w
        .configmap("web", "web-web")
        .await
        .expect("the chart's ConfigMap");
    assert_eq!(cm["data"]["version"], "1.0.0");
    assert_eq!(cm["data"]["greeting"], "hi from values");
    assert!(
        !serde_json::to_string(&app.status)
            .unwrap()
            .contains("chart-pass-789")
    );

    // A new version in the range is synced at a following poll.
    package_chart(&charts, "web", "1.1.0", &[]);
    index_repo(&charts);
    let app = w.wait_synced_healthy("web", "1.1.0").await;
    assert_eq!(history_revisions(&app), vec!["1.0.0", "1.1.0"]);
    let cm = w.configmap("web", "web-web").await.unwrap();
    assert_eq!(cm["data"]["version"], "1.1.0");
}

#[tokio::test]
async fn a_chart_from_an_oci_registry_over_plain_http_syncs() {
    let mut w = World::new().await;
    let registry = OciRegistry::start();
    let packaged = w.dir.path().join("packaged");
    for v in ["1.0.0", "1.4.2"] {
        registry.push(&package_chart(&packaged, "api", v, &[]), "team/charts");
    }
    let url = format!("oci://{}/team/charts", registry.host);
    let secrets: Api<Secret> = Api::namespaced(w.client.clone(), NS);
    secrets
        .create(
            &PostParams::default(),
            &helm_secret(
                "registry",
                json!({"type": "helm", "url": url, "enableOCI": "true",
                       "insecureOCIForceHttp": "true"}),
            ),
        )
        .await
        .unwrap();
    w.start_controller().await;
    w.apps()
        .create(
            &PostParams::default(),
            &chart_app("api", &url, "api", "~1.4", "api"),
        )
        .await
        .unwrap();
    w.wait_synced_healthy("api", "1.4.2").await;
    let cm = w
        .configmap("api", "api-api")
        .await
        .expect("the chart's ConfigMap");
    assert_eq!(cm["data"]["version"], "1.4.2");
}

/// A chart repository over HTTPS with a certificate of a private CA:
/// refused until the CA is in `sextant-tls-certs-cm` under the server's
/// host name (Argo CD's `argocd-tls-certs-cm` format), then synced.
#[tokio::test]
async fn a_chart_repository_signed_by_a_private_ca_is_trusted_through_the_tls_certs_config_map() {
    let mut w = World::new().await;
    let charts = w.dir.path().join("charts");
    package_chart(&charts, "web", "1.0.0", &[]);
    index_repo(&charts);
    let server = StaticHttpServer::start_tls(&charts, None);
    let url = server.url("");
    assert!(url.starts_with("https://localhost:"), "{url}");
    w.start_controller().await;
    w.apps()
        .create(
            &PostParams::default(),
            &chart_app("web", &url, "web", "1.0.0", "web"),
        )
        .await
        .unwrap();
    let app = w
        .wait_app("web", 60, "ComparisonError", |a| {
            condition(a, "ComparisonError").is_some()
        })
        .await;
    let message = condition(&app, "ComparisonError").unwrap();
    assert!(
        message.contains("certificate") && message.contains("sextant-tls-certs-cm"),
        "{message}"
    );

    let config_maps = w.api("v1", "ConfigMap", "configmaps", Some(NS));
    let cm = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "argocd-tls-certs-cm", "namespace": NS},
        "data": {"localhost": server.ca_pem.clone().unwrap()},
    });
    config_maps
        .create(&PostParams::default(), &serde_json::from_value(cm).unwrap())
        .await
        .unwrap();
    w.wait_synced_healthy("web", "1.0.0").await;
    assert!(w.configmap("web", "web-web").await.is_some());
}
