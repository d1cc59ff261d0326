//! The server-side diff against localkube: defaulting is not drift, fields
//! other managers own are not drift, real changes are, each kind of
//! ignoreDifferences rule works, Secret values stay masked, and objects
//! whose kind or namespace comes in the same change fall back to a
//! structural diff that says so.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is a failure report"
)]

use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::discovery::{self, Scope};
use localkube::{Config, LocalKube};
use serde_json::{Value, json};
use sextant_cluster::{DiffSettings, connect, diff_objects};
use sextant_engine::diff::{DiffReport, IgnoreDifferences, IgnoreRule, Mode, Outcome};

async fn server() -> (LocalKube, kube::Client) {
    let server = LocalKube::start(Config::default()).await.unwrap();
    let client = connect(server.kubeconfig_path(), None).await.unwrap();
    (server, client)
}

fn deployment(image: &str, replicas: Option<i64>) -> Value {
    let mut d = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": {"selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": image,
                    "ports": [{"containerPort": 80}]}]}}}});
    if let Some(r) = replicas {
        d["spec"]["replicas"] = json!(r);
    }
    d
}

async fn api_for(client: &kube::Client, obj: &Value) -> Api<DynamicObject> {
    let api_version = obj["apiVersion"].as_str().unwrap();
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let gvk = kube::core::GroupVersionKind::gvk(group, version, obj["kind"].as_str().unwrap());
    let (resource, caps) = discovery::pinned_kind(client, &gvk).await.unwrap();
    match caps.scope {
        Scope::Namespaced => Api::namespaced_with(
            client.clone(),
            obj["metadata"]["namespace"].as_str().unwrap_or("default"),
            &resource,
        ),
        Scope::Cluster => Api::all_with(client.clone(), &resource),
    }
}

/// Apply as Sextant's sync will: server-side apply, manager `sextant`.
async fn apply(client: &kube::Client, obj: &Value) {
    let api = api_for(client, obj).await;
    let name = obj["metadata"]["name"].as_str().unwrap();
    api.patch(
        name,
        &PatchParams::apply("sextant").force(),
        &Patch::Apply(obj),
    )
    .await
    .unwrap();
}

/// A merge patch by another field manager (what `kubectl scale`, an HPA or
/// an operator does).
async fn patch_as(client: &kube::Client, obj: &Value, manager: &str, patch: Value) {
    let api = api_for(client, obj).await;
    let params = PatchParams {
        field_manager: Some(manager.to_owned()),
        ..PatchParams::default()
    };
    let name = obj["metadata"]["name"].as_str().unwrap();
    api.patch(name, &params, &Patch::Merge(&patch))
        .await
        .unwrap();
}

async fn diff(client: &kube::Client, desired: &[Value], rules: &str) -> DiffReport {
    let rules: Vec<IgnoreRule> = serde_yaml_ng::from_str(rules).unwrap();
    let ignore = IgnoreDifferences::new(&rules, &[]).unwrap();
    let settings = DiffSettings {
        ignore: &ignore,
        concurrency: 4,
        created_namespaces: &[],
    };
    diff_objects(client, desired, settings).await
}

fn only(report: &DiffReport) -> &sextant_engine::diff::ObjectDiff {
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.objects.len(), 1);
    &report.objects[0]
}

#[tokio::test]
async fn a_freshly_applied_deployment_diffs_clean_although_the_server_defaulted_it() {
    let (_s, client) = server().await;
    let desired = deployment("nginx:1.27", None);
    apply(&client, &desired).await;
    let live = api_for(&client, &desired).await.get("web").await.unwrap();
    let live = serde_json::to_value(live).unwrap();
    assert_eq!(
        live["spec"]["replicas"],
        json!(1),
        "the server defaulted replicas"
    );
    assert!(live["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"].is_string());
    let report = diff(&client, &[desired], "[]").await;
    let d = only(&report);
    assert_eq!(
        (d.outcome, d.mode),
        (Outcome::Unchanged, Mode::ServerSide),
        "{}",
        d.unified()
    );
}

#[tokio::test]
async fn replicas_set_by_another_manager_are_not_drift_when_git_leaves_them_out() {
    let (_s, client) = server().await;
    let desired = deployment("nginx:1.27", None);
    apply(&client, &desired).await;
    patch_as(
        &client,
        &desired,
        "kubectl",
        json!({"spec": {"replicas": 5}}),
    )
    .await;
    let report = diff(&client, std::slice::from_ref(&desired), "[]").await;
    assert_eq!(
        only(&report).outcome,
        Outcome::Unchanged,
        "{}",
        only(&report).unified()
    );
}

#[tokio::test]
async fn replicas_set_through_the_scale_subresource_are_not_drift_when_git_leaves_them_out() {
    let (_s, client) = server().await;
    let desired = deployment("nginx:1.27", None);
    apply(&client, &desired).await;
    let api = api_for(&client, &desired).await;
    let params = PatchParams {
        field_manager: Some("kubectl".to_owned()),
        ..PatchParams::default()
    };
    api.patch_scale(
        "web",
        &params,
        &Patch::Merge(json!({"spec": {"replicas": 4}})),
    )
    .await
    .unwrap();
    let live = serde_json::to_value(api.get("web").await.unwrap()).unwrap();
    assert_eq!(live["spec"]["replicas"], json!(4));
    let report = diff(&client, &[desired], "[]").await;
    assert_eq!(
        only(&report).outcome,
        Outcome::Unchanged,
        "{}",
        only(&report).unified()
    );
}

#[tokio::test]
async fn a_real_change_is_drift_with_its_path_and_a_unified_diff() {
    let (_s, client) = server().await;
    apply(&client, &deployment("nginx:1.27", None)).await;
    let report = diff(&client, &[deployment("nginx:1.28", None)], "[]").await;
    let d = only(&report);
    assert_eq!((d.outcome, d.mode), (Outcome::Changed, Mode::ServerSide));
    let paths: Vec<&str> = d.changes.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(paths, ["/spec/template/spec/containers/0/image"]);
    let text = d.unified();
    assert!(
        text.starts_with("===== Deployment.apps default/web (changed) =====\n"),
        "{text}"
    );
    assert!(
        text.contains("-      - image: nginx:1.27\n+      - image: nginx:1.28\n"),
        "{text}"
    );
}

#[tokio::test]
async fn a_json_pointer_rule_hides_replicas_another_manager_changed() {
    let (_s, client) = server().await;
    let desired = deployment("nginx:1.27", Some(2));
    apply(&client, &desired).await;
    patch_as(
        &client,
        &desired,
        "kubectl",
        json!({"spec": {"replicas": 5}}),
    )
    .await;
    let plain = diff(&client, std::slice::from_ref(&desired), "[]").await;
    assert_eq!(
        only(&plain).outcome,
        Outcome::Changed,
        "Git sets replicas, so 5 is drift"
    );
    let rule = "- group: apps\n  kind: Deployment\n  jsonPointers: [/spec/replicas]\n";
    let ignored = diff(&client, &[desired], rule).await;
    assert_eq!(
        only(&ignored).outcome,
        Outcome::Unchanged,
        "{}",
        only(&ignored).unified()
    );
}

#[tokio::test]
async fn a_jq_path_expression_rule_hides_the_image_it_selects() {
    let (_s, client) = server().await;
    apply(&client, &deployment("nginx:1.27", None)).await;
    let rule = "- group: apps\n  kind: Deployment\n  name: web\n  jqPathExpressions:\n  - '.spec.template.spec.containers[] | select(.name == \"web\") | .image'\n";
    let report = diff(&client, &[deployment("nginx:1.28", None)], rule).await;
    assert_eq!(
        only(&report).outcome,
        Outcome::Unchanged,
        "{}",
        only(&report).unified()
    );
}

#[tokio::test]
async fn a_managed_fields_managers_rule_hides_what_that_manager_owns() {
    let (_s, client) = server().await;
    let desired = deployment("nginx:1.27", Some(2));
    apply(&client, &desired).await;
    patch_as(
        &client,
        &desired,
        "autoscaler",
        json!({"spec": {"replicas": 4}}),
    )
    .await;
    let plain = diff(&client, std::slice::from_ref(&desired), "[]").await;
    assert_eq!(only(&plain).outcome, Outcome::Changed);
    let rule = "- group: apps\n  kind: Deployment\n  managedFieldsManagers: [autoscaler]\n";
    let ignored = diff(&client, &[desired], rule).await;
    assert_eq!(
        only(&ignored).outcome,
        Outcome::Unchanged,
        "{}",
        only(&ignored).unified()
    );
}

#[tokio::test]
async fn secret_values_are_masked_and_changed_keys_are_named() {
    let (_s, client) = server().await;
    let secret = |password: &str| {
        json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "db", "namespace": "default"},
            "stringData": {"user": "admin", "password": password}})
    };
    apply(&client, &secret("hunter2")).await;
    let clean = diff(&client, &[secret("hunter2")], "[]").await;
    assert_eq!(
        only(&clean).outcome,
        Outcome::Unchanged,
        "{}",
        only(&clean).unified()
    );
    let report = diff(&client, &[secret("correct-horse")], "[]").await;
    let d = only(&report);
    assert_eq!(d.outcome, Outcome::Changed);
    let text = report.to_text() + &report.to_json().to_string();
    for leak in [
        "hunter2",
        "aHVudGVyMg",
        "correct-horse",
        "Y29ycmVjdC1ob3Jz",
        "admin",
        "YWRtaW4",
    ] {
        assert!(!text.contains(leak), "{leak} leaked:\n{text}");
    }
    assert!(
        text.contains("password: ++++++++ (old)") && text.contains("password: ++++++++ (new)"),
        "{text}"
    );
    assert_eq!(d.changes[0].path, "/data/password");
}

#[tokio::test]
async fn objects_whose_crd_or_namespace_comes_in_the_same_change_are_diffed_structurally() {
    let (_s, client) = server().await;
    let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}});
    let widget = json!({"apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": "w", "namespace": "default"}, "spec": {"size": 3}});
    let namespace = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}});
    let config = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "c", "namespace": "shop"}, "data": {"k": "v"}});
    let report = diff(&client, &[crd, widget, namespace, config], "[]").await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let by_kind = |kind: &str| report.objects.iter().find(|d| d.key.kind == kind).unwrap();
    for kind in ["CustomResourceDefinition", "Namespace"] {
        assert_eq!(
            (by_kind(kind).outcome, by_kind(kind).mode),
            (Outcome::Added, Mode::ServerSide)
        );
    }
    let w = by_kind("Widget");
    assert_eq!((w.outcome, w.mode), (Outcome::Added, Mode::Structural));
    assert!(
        w.note
            .as_deref()
            .unwrap()
            .contains("not served by the cluster yet")
    );
    let c = by_kind("ConfigMap");
    assert_eq!((c.outcome, c.mode), (Outcome::Added, Mode::Structural));
    assert!(
        c.note
            .as_deref()
            .unwrap()
            .contains("namespace shop does not exist yet")
    );
    assert!(
        report
            .summary_line()
            .contains("4 objects compared: 4 added"),
        "{}",
        report.summary_line()
    );
}

#[tokio::test]
async fn an_object_the_server_refuses_is_an_error_and_the_others_are_still_diffed() {
    let (_s, client) = server().await;
    let mut bad = deployment("nginx:1.27", None);
    bad["metadata"]["name"] = json!("bad");
    bad["spec"]["selector"]["matchLabels"]["app"] = json!("other");
    let good = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "c", "namespace": "default"}, "data": {"k": "v"}});
    let report = diff(&client, &[bad, good], "[]").await;
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    assert_eq!(report.errors[0].key.name, "bad");
    assert!(
        report.errors[0].error.contains("refused the dry-run apply"),
        "{}",
        report.errors[0].error
    );
    assert_eq!(report.objects.len(), 1);
    assert_eq!(report.objects[0].outcome, Outcome::Added);
}
