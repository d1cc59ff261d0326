//! The diff pipeline end to end on small objects: server-side and
//! structural targets, ownership, each kind of ignore rule, Secret masking.

use serde_json::{Value, json};

use super::{IgnoreDifferences, IgnoreRule, Input, Mode, ObjectDiff, Outcome, diff_object};

fn deployment(image: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": image}]}}}})
}

/// `obj` as the server would keep it: defaults, server metadata, status,
/// and the given managedFields.
fn served(obj: &Value, replicas: i64, managed: Value) -> Value {
    let mut v = obj.clone();
    v["metadata"]["uid"] = json!("1234");
    v["metadata"]["resourceVersion"] = json!("42");
    v["metadata"]["generation"] = json!(1);
    v["metadata"]["managedFields"] = managed;
    v["spec"]["replicas"] = json!(replicas);
    v["spec"]["revisionHistoryLimit"] = json!(10);
    v["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = json!("IfNotPresent");
    v["status"] = json!({"replicas": replicas});
    v
}

fn rules(yaml: &str) -> IgnoreDifferences {
    let rules: Vec<IgnoreRule> = serde_yaml_ng::from_str(yaml).unwrap_or_else(|e| panic!("{e}"));
    IgnoreDifferences::new(&rules, &[]).unwrap_or_else(|e| panic!("{e}"))
}

fn check(
    desired: &Value,
    live: Option<&Value>,
    predicted: Option<&Value>,
    ignore: &IgnoreDifferences,
) -> ObjectDiff {
    diff_object(
        Input {
            desired: Some(desired),
            live,
            predicted,
            fallback_reason: predicted.is_none().then_some("no dry-run in this test"),
            overlay: true,
        },
        ignore,
    )
}

#[test]
fn a_prediction_equal_to_the_live_object_is_unchanged_despite_defaults() {
    let desired = deployment("nginx:1.27");
    let live = served(&desired, 1, json!([]));
    let d = check(
        &desired,
        Some(&live),
        Some(&live),
        &IgnoreDifferences::none(),
    );
    assert_eq!((d.outcome, d.mode), (Outcome::Unchanged, Mode::ServerSide));
    assert_eq!(d.unified(), "");
}

#[test]
fn a_real_change_is_reported_with_its_path_and_a_unified_diff() {
    let live = served(&deployment("nginx:1.27"), 1, json!([]));
    let predicted = served(&deployment("nginx:1.28"), 1, json!([]));
    let d = check(
        &deployment("nginx:1.28"),
        Some(&live),
        Some(&predicted),
        &IgnoreDifferences::none(),
    );
    assert_eq!(d.outcome, Outcome::Changed);
    assert_eq!(d.changes.len(), 1);
    assert_eq!(d.changes[0].path, "/spec/template/spec/containers/0/image");
    let text = d.unified();
    assert!(
        text.starts_with("===== Deployment.apps shop/web (changed) =====\n--- live\n+++ desired\n"),
        "{text}"
    );
    assert!(
        text.contains("-      - image: nginx:1.27")
            || text.contains("-    - image: nginx:1.27")
            || text.contains("image: nginx:1.27"),
        "{text}"
    );
    assert!(text.contains("+") && text.contains("nginx:1.28"), "{text}");
}

#[test]
fn an_object_that_is_not_live_is_added_and_says_why_it_is_structural() {
    let desired = deployment("nginx:1.27");
    let d = check(&desired, None, None, &IgnoreDifferences::none());
    assert_eq!((d.outcome, d.mode), (Outcome::Added, Mode::Structural));
    assert!(d.unified().contains("# no dry-run in this test\n"));
}

#[test]
fn structurally_a_field_another_manager_owns_and_git_does_not_set_is_not_drift() {
    let desired = deployment("nginx:1.27");
    let managed = json!([
        {"manager": "sextant", "operation": "Apply", "fieldsType": "FieldsV1",
         "fieldsV1": {"f:spec": {"f:template": {"f:spec": {"f:containers": {
            "k:{\"name\":\"web\"}": {".": {}, "f:image": {}, "f:name": {}}}}}}}},
        {"manager": "kubectl", "operation": "Update", "fieldsType": "FieldsV1",
         "fieldsV1": {"f:spec": {"f:replicas": {}}}, "subresource": "scale"}]);
    let live = served(&desired, 5, managed);
    let d = check(&desired, Some(&live), None, &IgnoreDifferences::none());
    assert_eq!(d.outcome, Outcome::Unchanged, "{}", d.unified());
}

#[test]
fn structurally_a_field_sextant_applied_and_git_dropped_is_drift() {
    let mut desired = deployment("nginx:1.27");
    desired["metadata"]["labels"] = json!({"app": "web"});
    let managed = json!([{"manager": "sextant", "operation": "Apply", "fieldsType": "FieldsV1",
        "fieldsV1": {"f:metadata": {"f:labels": {"f:app": {}, "f:tier": {}}}}}]);
    let mut live = served(&desired, 1, managed);
    live["metadata"]["labels"]["tier"] = json!("front");
    let d = check(&desired, Some(&live), None, &IgnoreDifferences::none());
    assert_eq!(d.outcome, Outcome::Changed);
    assert_eq!(d.changes[0].path, "/metadata/labels/tier");
}

#[test]
fn json_pointer_rules_hide_the_fields_they_name() {
    let live = served(&deployment("a"), 5, json!([]));
    let predicted = served(&deployment("a"), 2, json!([]));
    let ignore = rules("- group: apps\n  kind: Deployment\n  jsonPointers: [/spec/replicas]\n");
    let d = check(&deployment("a"), Some(&live), Some(&predicted), &ignore);
    assert_eq!(d.outcome, Outcome::Unchanged);
    let other = rules("- group: apps\n  kind: StatefulSet\n  jsonPointers: [/spec/replicas]\n");
    let d = check(&deployment("a"), Some(&live), Some(&predicted), &other);
    assert_eq!(
        d.outcome,
        Outcome::Changed,
        "a rule for another kind does not apply"
    );
}

#[test]
fn jq_path_expression_rules_hide_the_fields_they_select() {
    let live = served(&deployment("a"), 1, json!([]));
    let predicted = served(&deployment("b"), 1, json!([]));
    let ignore = rules(
        "- kind: Deployment\n  name: web\n  jqPathExpressions:\n  - '.spec.template.spec.containers[] | select(.name == \"web\") | .image'\n",
    );
    let d = check(&deployment("b"), Some(&live), Some(&predicted), &ignore);
    assert_eq!(d.outcome, Outcome::Unchanged, "{}", d.unified());
}

#[test]
fn managed_fields_manager_rules_hide_the_fields_those_managers_own() {
    let managed = json!([{"manager": "autoscaler", "operation": "Update", "fieldsType": "FieldsV1",
        "fieldsV1": {"f:spec": {"f:replicas": {}}}}]);
    let live = served(&deployment("a"), 7, managed);
    let predicted = served(&deployment("a"), 2, json!([]));
    let ignore =
        rules("- group: apps\n  kind: Deployment\n  managedFieldsManagers: [autoscaler]\n");
    let d = check(&deployment("a"), Some(&live), Some(&predicted), &ignore);
    assert_eq!(d.outcome, Outcome::Unchanged, "{}", d.unified());
}

#[test]
fn secret_values_never_reach_the_output_but_changed_keys_do() {
    let desired = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "shop"},
        "stringData": {"password": "hunter3", "user": "admin"}});
    let live = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "shop",
        "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{\"stringData\":{\"password\":\"hunter2\"}}"}},
        "data": {"password": "aHVudGVyMg==", "user": "YWRtaW4="}, "type": "Opaque"});
    let mut predicted = live.clone();
    predicted["data"]["password"] = json!("aHVudGVyMw==");
    let d = check(
        &desired,
        Some(&live),
        Some(&predicted),
        &IgnoreDifferences::none(),
    );
    assert_eq!(d.outcome, Outcome::Changed);
    let text = d.unified();
    for secret in ["hunter", "aHVudGVy", "YWRtaW4"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    assert!(
        text.contains("-  password: ++++++++ (old)\n+  password: ++++++++ (new)\n"),
        "{text}"
    );
    assert_eq!(d.changes[0].path, "/data/password");
    let structural = check(&desired, Some(&live), None, &IgnoreDifferences::none()).unified();
    assert!(
        !structural.contains("hunter") && !structural.contains("aHVudGVy"),
        "{structural}"
    );
}

#[test]
fn an_object_diffed_with_itself_is_unchanged_whatever_its_shape() {
    let samples = [
        deployment("x"),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "b"}}),
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"a": "Yg=="}}),
        json!({"apiVersion": "x.io/v1", "kind": "Thing", "metadata": {"name": "t"}, "spec": [1, [2, {"a": null}]]}),
    ];
    for obj in &samples {
        for predicted in [Some(obj), None] {
            let d = check(obj, Some(obj), predicted, &IgnoreDifferences::none());
            assert_eq!(d.outcome, Outcome::Unchanged, "{obj}");
            assert!(d.changes.is_empty());
        }
    }
}

#[test]
fn invalid_rules_are_refused_naming_the_culprit() {
    let bad_pointer: Vec<IgnoreRule> =
        serde_yaml_ng::from_str("- kind: Deployment\n  jsonPointers: [spec/replicas]\n")
            .unwrap_or_default();
    let err = IgnoreDifferences::new(&bad_pointer, &[])
        .map(|_| ())
        .unwrap_err();
    assert!(err.to_string().contains("`spec/replicas`"), "{err}");
    let bad_jq: Vec<IgnoreRule> =
        serde_yaml_ng::from_str("- kind: Deployment\n  jqPathExpressions: ['.spec[[']\n")
            .unwrap_or_default();
    let err = IgnoreDifferences::new(&[], &bad_jq)
        .map(|_| ())
        .unwrap_err();
    assert!(err.to_string().contains("`.spec[[`"), "{err}");
}
