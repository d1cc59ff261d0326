//! The generated CRDs: committed output is current, schemas are
//! structural, a real-API-shaped server accepts them, and an Argo CD
//! Application manifest reads as a Sextant one after changing apiVersion.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use kube::api::{Api, PostParams};
use sextant_model::Application;

const COMMITTED: &str = include_str!("../../../deploy/crds.yaml");

#[test]
fn committed_crds_match_the_types() {
    let fresh = sextant_model::crd::all_yaml(sextant_model::ApiGroup::Sextant).unwrap();
    if std::env::var_os("SEXTANT_BLESS").is_some() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/crds.yaml");
        std::fs::write(path, &fresh).unwrap();
        return;
    }
    assert!(
        fresh == COMMITTED,
        "deploy/crds.yaml is stale: run `SEXTANT_BLESS=1 cargo test -p sextant-model --test crds`"
    );
}

fn walk(v: &serde_json::Value, path: &str, problems: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for bad in ["$ref", "definitions", "$defs", "title"] {
                if m.contains_key(bad) {
                    problems.push(format!("{path}: {bad}"));
                }
            }
            if m.contains_key("properties") && !m.contains_key("type") {
                problems.push(format!("{path}: properties without type"));
            }
            for (k, c) in m {
                walk(c, &format!("{path}/{k}"), problems);
            }
        }
        serde_json::Value::Array(a) => {
            for (i, c) in a.iter().enumerate() {
                walk(c, &format!("{path}/{i}"), problems);
            }
        }
        _ => {}
    }
}

#[test]
fn schemas_are_structural() {
    for crd in sextant_model::crd::all() {
        let mut problems = Vec::new();
        walk(&crd["spec"]["versions"][0]["schema"], "", &mut problems);
        assert!(
            problems.is_empty(),
            "{}: {problems:?}",
            crd["metadata"]["name"]
        );
    }
}

#[test]
fn argo_cds_group_gets_the_same_schemas_under_its_own_names() {
    let ours = sextant_model::crd::all_for(sextant_model::ApiGroup::Sextant);
    let argo = sextant_model::crd::all_for(sextant_model::ApiGroup::ArgoCd);
    let names: Vec<_> = argo.iter().map(|c| c["metadata"]["name"].clone()).collect();
    assert_eq!(
        names,
        [
            "applications.argoproj.io",
            "applicationsets.argoproj.io",
            "appprojects.argoproj.io"
        ]
    );
    for (o, a) in ours.iter().zip(&argo) {
        assert_eq!(a["spec"]["group"], "argoproj.io");
        assert_eq!(o["spec"]["versions"], a["spec"]["versions"]);
        assert_eq!(o["spec"]["names"], a["spec"]["names"]);
    }
    let text = sextant_model::crd::all_yaml(sextant_model::ApiGroup::ArgoCd).unwrap();
    assert!(text.contains("group: argoproj.io") && !text.contains("sextant.dev/"));
}

const ARGO_APP: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: guestbook
  namespace: sextant
spec:
  project: default
  source:
    repoURL: https://github.com/example/gitops.git
    targetRevision: HEAD
    path: apps/guestbook
    helm:
      valueFiles: [values-prod.yaml]
      parameters:
      - {name: image.tag, value: "1.2.3", forceString: true}
      valuesObject: {replicaCount: 2}
  destination:
    server: https://kubernetes.default.svc
    namespace: guestbook
  syncPolicy:
    automated: {prune: true, selfHeal: true}
    syncOptions: [CreateNamespace=true, ServerSideApply=true]
    retry: {limit: 5, backoff: {duration: 5s, factor: 2, maxDuration: 3m}}
  ignoreDifferences:
  - group: apps
    kind: Deployment
    jsonPointers: [/spec/replicas]
  revisionHistoryLimit: 5
"#;

#[tokio::test]
async fn an_argo_cd_manifest_is_a_sextant_application_after_changing_its_api_version() {
    let text = ARGO_APP.replace("argoproj.io/v1alpha1", "sextant.dev/v1alpha1");
    let app: Application = serde_yaml_ng::from_str(&text).unwrap();
    let source = app.spec.source.as_ref().unwrap();
    assert_eq!(source.repo_url, "https://github.com/example/gitops.git");
    assert_eq!(
        source.helm.as_ref().unwrap().parameters.as_ref().unwrap()[0].force_string,
        Some(true)
    );
    assert_eq!(
        app.spec
            .sync_policy
            .as_ref()
            .unwrap()
            .automated
            .as_ref()
            .unwrap()
            .self_heal,
        Some(true)
    );

    // Served by an API server once the CRDs are applied.
    let server = localkube::LocalKube::start(localkube::Config::default())
        .await
        .unwrap();
    let client = server.client().await.unwrap();
    let crds: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
        Api::all(client.clone());
    for crd in sextant_model::crd::all() {
        crds.create(
            &PostParams::default(),
            &serde_json::from_value(crd).unwrap(),
        )
        .await
        .unwrap();
    }
    let ns: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    ns.create(
        &PostParams::default(),
        &serde_json::from_value(serde_json::json!({"metadata": {"name": "sextant"}})).unwrap(),
    )
    .await
    .unwrap();
    let apps: Api<Application> = Api::namespaced(client, "sextant");
    let created = apps
        .create(
            &PostParams {
                field_manager: Some("test".into()),
                ..Default::default()
            },
            &app,
        )
        .await
        .unwrap();
    assert_eq!(created.spec, app.spec, "the schema keeps every field");
    let fetched = apps.get("guestbook").await.unwrap();
    assert_eq!(
        fetched
            .spec
            .source
            .unwrap()
            .helm
            .unwrap()
            .values_object
            .unwrap()["replicaCount"],
        2
    );
}
