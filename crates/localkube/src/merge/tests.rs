//! Tests of field sets (FieldsV1, from_object) and server-side apply / ownership tracking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};

use super::fieldset::FieldSet;
use super::ssa::{
    Conflict, ManagedEntry, Operation, apply, conflicts_message, parse_managed_fields,
    record_update, write_managed_fields,
};

fn deployment(replicas: i64, labels: Value) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{
                    "name": "web",
                    "image": "nginx:1",
                    "ports": [{"containerPort": 80, "protocol": "TCP"}]
                }]}
            }
        },
        "status": {"replicas": 0}
    })
}

fn entry<'a>(managed: &'a [ManagedEntry], manager: &str) -> &'a ManagedEntry {
    managed
        .iter()
        .find(|e| e.manager == manager)
        .unwrap_or_else(|| panic!("no entry for {manager}: {managed:#?}"))
}

fn owns(managed: &[ManagedEntry], manager: &str, path: &str) -> bool {
    managed
        .iter()
        .any(|e| e.manager == manager && e.fields.leaf_paths().iter().any(|p| p == path))
}

// ---- field sets ----

#[test]
fn fields_v1_round_trip() {
    let encoded = json!({
        "f:metadata": {"f:labels": {".": {}, "f:app": {}}, "f:finalizers": {"v:\"a/b\"": {}}},
        "f:spec": {
            "f:replicas": {},
            "f:template": {"f:spec": {"f:containers": {
                "k:{\"name\":\"web\"}": {
                    ".": {},
                    "f:image": {},
                    "f:ports": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {
                        ".": {}, "f:containerPort": {}
                    }}
                }
            }}}
        }
    });
    let set = FieldSet::from_fields_v1(&encoded).unwrap();
    assert_eq!(set.to_fields_v1(), encoded);
    assert_eq!(FieldSet::from_fields_v1(&set.to_fields_v1()).unwrap(), set);
    let paths = set.leaf_paths();
    assert!(paths.contains(&".metadata.labels".to_owned()), "{paths:?}");
    assert!(paths.contains(&".metadata.finalizers[=\"a/b\"]".to_owned()));
    assert!(paths.contains(&".spec.template.spec.containers[name=\"web\"].image".to_owned()));
    assert!(!paths.contains(&".spec".to_owned()));

    // Key order inside k: is normalised; bad elements are rejected.
    let unsorted = json!({"k:{\"protocol\":\"TCP\",\"containerPort\":80}": {}});
    let parsed = FieldSet::from_fields_v1(&unsorted).unwrap();
    assert_eq!(
        parsed.to_fields_v1(),
        json!({"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {}})
    );
    assert!(FieldSet::from_fields_v1(&json!({"x:y": {}})).is_err());
    assert!(FieldSet::from_fields_v1(&json!({"f:a": 1})).is_err());
    assert!(FieldSet::from_fields_v1(&json!([])).is_err());
}

#[test]
fn from_object_deployment() {
    let mut d = deployment(3, json!({"app": "web"}));
    // protocol omitted: defaulted to TCP in the key.
    d["spec"]["template"]["spec"]["containers"][0]["ports"] = json!([{"containerPort": 80}]);
    d["metadata"]["finalizers"] = json!(["example.com/x"]);
    d["spec"]["template"]["spec"]["containers"][0]["args"] = json!(["-v"]);
    let set = FieldSet::from_object("Deployment", &d, false);
    let v1 = set.to_fields_v1();
    let containers = &v1["f:spec"]["f:template"]["f:spec"]["f:containers"];
    let web = &containers["k:{\"name\":\"web\"}"];
    assert_eq!(web["."], json!({}));
    assert_eq!(web["f:image"], json!({}));
    assert_eq!(web["f:args"], json!({}), "atomic list is a leaf");
    assert_eq!(
        web["f:ports"]["k:{\"containerPort\":80,\"protocol\":\"TCP\"}"],
        json!({".": {}, "f:containerPort": {}})
    );
    assert_eq!(
        v1["f:spec"]["f:selector"],
        json!({}),
        "LabelSelector is atomic"
    );
    assert_eq!(
        v1["f:metadata"],
        json!({
            "f:labels": {"f:app": {}},
            "f:finalizers": {"v:\"example.com/x\"": {}}
        })
    );
    assert!(v1.get("f:status").is_none());
    assert!(v1.get("f:apiVersion").is_none() && v1.get("f:kind").is_none());

    let with_status = FieldSet::from_object("Deployment", &d, true);
    assert_eq!(
        with_status.to_fields_v1()["f:status"],
        json!({"f:replicas": {}})
    );
}

#[test]
fn set_operations() {
    let a = FieldSet::from_fields_v1(&json!({"f:a": {}, "f:b": {"f:c": {}, "f:d": {}}})).unwrap();
    let b = FieldSet::from_fields_v1(&json!({"f:b": {"f:c": {}}, "f:e": {}})).unwrap();
    assert_eq!(
        a.union(&b).to_fields_v1(),
        json!({"f:a": {}, "f:b": {"f:c": {}, "f:d": {}}, "f:e": {}})
    );
    assert_eq!(
        a.difference(&b).to_fields_v1(),
        json!({"f:a": {}, "f:b": {"f:d": {}}})
    );
    assert_eq!(
        a.intersection(&b).to_fields_v1(),
        json!({"f:b": {"f:c": {}}})
    );
    assert!(a.intersection(&FieldSet::default()).is_empty());
    assert!(a.difference(&a).is_empty());
}

// ---- server-side apply ----

const T1: &str = "2024-01-01T00:00:00Z";
const T2: &str = "2024-01-02T00:00:00Z";

fn apply_ok(
    live: Option<&Value>,
    cfg: &Value,
    manager: &str,
    force: bool,
) -> (Value, Vec<ManagedEntry>) {
    let out = apply("Deployment", live, cfg, manager, "apps/v1", T1, force, None)
        .unwrap_or_else(|c| panic!("conflicts: {c:?}"));
    (out.object, out.managed)
}

#[test]
fn apply_create_then_drop_label_removes_it() {
    let cfg = deployment(3, json!({"app": "web", "team": "a"}));
    let (obj, managed) = apply_ok(None, &cfg, "sextant", false);
    assert_eq!(obj["metadata"]["labels"]["team"], "a");
    assert!(
        obj.get("status").is_none(),
        "status is not applied through the main resource"
    );
    assert_eq!(managed.len(), 1);
    assert_eq!(managed[0].operation, Operation::Apply);
    assert!(owns(&managed, "sextant", ".metadata.labels.team"));
    assert_eq!(obj["metadata"]["managedFields"][0]["manager"], "sextant");
    assert_eq!(
        obj["metadata"]["managedFields"][0]["fieldsType"],
        "FieldsV1"
    );

    let cfg2 = deployment(3, json!({"app": "web"}));
    let (obj2, managed2) = apply_ok(Some(&obj), &cfg2, "sextant", false);
    assert_eq!(obj2["metadata"]["labels"], json!({"app": "web"}));
    assert!(!owns(&managed2, "sextant", ".metadata.labels.team"));
    assert_eq!(
        obj2["metadata"]["name"], "web",
        "untracked metadata is kept"
    );

    // Dropping every label removes the emptied map too.
    let mut cfg3 = cfg2.clone();
    cfg3["metadata"].as_object_mut().unwrap().remove("labels");
    let (obj3, _) = apply_ok(Some(&obj2), &cfg3, "sextant", false);
    assert!(obj3["metadata"].get("labels").is_none(), "{obj3}");
}

#[test]
fn apply_keeps_field_shared_with_other_manager() {
    let cfg = deployment(3, json!({"app": "web", "team": "a"}));
    let (obj, _) = apply_ok(None, &cfg, "sextant", false);
    // A second applier sets the same value: no conflict, shared ownership.
    let other = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"team": "a"}}});
    let (obj, managed) = apply_ok(Some(&obj), &other, "other", false);
    assert!(owns(&managed, "sextant", ".metadata.labels.team"));
    assert!(owns(&managed, "other", ".metadata.labels.team"));

    let cfg2 = deployment(3, json!({"app": "web"}));
    let (obj2, managed2) = apply_ok(Some(&obj), &cfg2, "sextant", false);
    assert_eq!(
        obj2["metadata"]["labels"]["team"], "a",
        "still owned by other"
    );
    assert!(!owns(&managed2, "sextant", ".metadata.labels.team"));
    assert!(owns(&managed2, "other", ".metadata.labels.team"));
}

#[test]
fn apply_removes_dropped_list_elements_unless_co_owned() {
    let mut cfg = deployment(3, json!({"app": "web"}));
    cfg["spec"]["template"]["spec"]["containers"] = json!([
        {"name": "web", "image": "nginx"},
        {"name": "sidecar", "image": "busybox"}
    ]);
    let (obj, _) = apply_ok(None, &cfg, "sextant", false);
    // Another applier co-owns the sidecar element.
    let other = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"template": {"spec": {"containers": [{"name": "sidecar"}]}}}});
    let (obj, _) = apply_ok(Some(&obj), &other, "other", false);

    cfg["spec"]["template"]["spec"]["containers"] = json!([{"name": "log", "image": "fluent"}]);
    let (obj, managed) = apply_ok(Some(&obj), &cfg, "sextant", false);
    assert_eq!(
        obj["spec"]["template"]["spec"]["containers"],
        json!([{"name": "sidecar"}, {"name": "log", "image": "fluent"}]),
        "web removed; sidecar kept (image was only sextant's); log appended"
    );
    assert!(owns(
        &managed,
        "other",
        ".spec.template.spec.containers[name=\"sidecar\"]"
    ));
}

#[test]
fn apply_conflict_with_scale_and_force() {
    let cfg = deployment(3, json!({"app": "web"}));
    let (obj, managed) = apply_ok(None, &cfg, "sextant", false);

    // kubectl scale --replicas=5 (an Update through the scale subresource).
    let mut scaled = obj.clone();
    scaled["spec"]["replicas"] = json!(5);
    let managed = record_update(
        "Deployment",
        Some(&obj),
        &scaled,
        managed,
        "kubectl-scale",
        "apps/v1",
        T2,
        Some("scale"),
    );
    assert!(owns(&managed, "kubectl-scale", ".spec.replicas"));
    assert!(!owns(&managed, "sextant", ".spec.replicas"));
    assert_eq!(
        entry(&managed, "kubectl-scale").subresource.as_deref(),
        Some("scale")
    );
    write_managed_fields(&mut scaled, &managed);

    let err = apply(
        "Deployment",
        Some(&scaled),
        &cfg,
        "sextant",
        "apps/v1",
        T2,
        false,
        None,
    )
    .unwrap_err();
    assert_eq!(
        err,
        vec![Conflict {
            manager: "kubectl-scale".into(),
            path: ".spec.replicas".into()
        }]
    );
    assert_eq!(
        conflicts_message(&err),
        "Apply failed with 1 conflict: conflict with \"kubectl-scale\": .spec.replicas"
    );

    // Re-applying without replicas would not conflict; forcing takes ownership.
    let out = apply(
        "Deployment",
        Some(&scaled),
        &cfg,
        "sextant",
        "apps/v1",
        T2,
        true,
        None,
    )
    .unwrap();
    assert_eq!(out.object["spec"]["replicas"], 3);
    assert!(owns(&out.managed, "sextant", ".spec.replicas"));
    assert!(
        out.managed.iter().all(|e| e.manager != "kubectl-scale"),
        "emptied entry is dropped: {:?}",
        out.managed
    );
}

#[test]
fn apply_reports_all_conflicts() {
    let cfg = deployment(3, json!({"app": "web"}));
    let (obj, managed) = apply_ok(None, &cfg, "sextant", false);
    let mut edited = obj.clone();
    edited["spec"]["replicas"] = json!(2);
    edited["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:9");
    let managed = record_update(
        "Deployment",
        Some(&obj),
        &edited,
        managed,
        "kubectl-edit",
        "apps/v1",
        T2,
        None,
    );
    write_managed_fields(&mut edited, &managed);
    let err = apply(
        "Deployment",
        Some(&edited),
        &cfg,
        "sextant",
        "apps/v1",
        T2,
        false,
        None,
    )
    .unwrap_err();
    let paths: Vec<&str> = err.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            ".spec.replicas",
            ".spec.template.spec.containers[name=\"web\"].image"
        ]
    );
    assert!(err.iter().all(|c| c.manager == "kubectl-edit"));
    assert_eq!(
        conflicts_message(&err),
        "Apply failed with 2 conflicts: conflicts with \"kubectl-edit\":\n- .spec.replicas\n\
         - .spec.template.spec.containers[name=\"web\"].image"
    );
}

#[test]
fn record_update_moves_changed_fields() {
    let cfg = deployment(3, json!({"app": "web"}));
    let (obj, managed) = apply_ok(None, &cfg, "sextant", false);
    let mut new = obj.clone();
    new["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:2");
    new["metadata"]["annotations"] = json!({"note": "x"});
    let managed = record_update(
        "Deployment",
        Some(&obj),
        &new,
        managed,
        "kubectl-edit",
        "apps/v1",
        T2,
        None,
    );
    let image = ".spec.template.spec.containers[name=\"web\"].image";
    assert!(owns(&managed, "kubectl-edit", image));
    assert!(!owns(&managed, "sextant", image));
    assert!(
        owns(&managed, "sextant", ".spec.replicas"),
        "unchanged fields stay"
    );
    let edit = entry(&managed, "kubectl-edit");
    assert_eq!(edit.operation, Operation::Update);
    assert_eq!(edit.time, T2);
    // An added map of scalars is owned as a whole (`.`), like the API server does.
    assert_eq!(
        edit.fields.to_fields_v1()["f:metadata"],
        json!({"f:annotations": {".": {}, "f:note": {}}})
    );
    // A write that changes nothing leaves the entries alone.
    let again = record_update(
        "Deployment",
        Some(&new),
        &new,
        managed.clone(),
        "x",
        "apps/v1",
        T2,
        None,
    );
    assert_eq!(again, managed);
    // Removing a field drops it from its owner.
    let mut removed = new.clone();
    removed["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("annotations");
    let managed = record_update(
        "Deployment",
        Some(&new),
        &removed,
        managed,
        "y",
        "apps/v1",
        T2,
        None,
    );
    assert!(!owns(
        &managed,
        "kubectl-edit",
        ".metadata.annotations.note"
    ));
    assert!(
        managed.iter().all(|e| e.manager != "y"),
        "removals alone own nothing"
    );
}

#[test]
fn record_update_on_create() {
    let obj = deployment(1, json!({"app": "web"}));
    let managed = record_update(
        "Deployment",
        None,
        &obj,
        Vec::new(),
        "kubectl-create",
        "apps/v1",
        T1,
        None,
    );
    assert_eq!(managed.len(), 1);
    let v1 = managed[0].fields.to_fields_v1();
    assert_eq!(
        v1["f:metadata"],
        json!({"f:labels": {".": {}, "f:app": {}}})
    );
    assert_eq!(v1["f:spec"]["f:replicas"], json!({}));
    assert!(v1.get("f:status").is_none());
    // Status writes are tracked separately.
    let mut with_status = obj.clone();
    with_status["status"] = json!({"replicas": 1});
    let managed = record_update(
        "Deployment",
        Some(&obj),
        &with_status,
        managed,
        "kube-controller-manager",
        "apps/v1",
        T2,
        Some("status"),
    );
    let status = entry(&managed, "kube-controller-manager");
    assert_eq!(
        status.fields.to_fields_v1(),
        json!({"f:status": {"f:replicas": {}}})
    );
}

#[test]
fn apply_twice_is_idempotent() {
    let cfg = deployment(3, json!({"app": "web"}));
    let first = apply(
        "Deployment",
        None,
        &cfg,
        "sextant",
        "apps/v1",
        T1,
        false,
        None,
    )
    .unwrap();
    let second = apply(
        "Deployment",
        Some(&first.object),
        &cfg,
        "sextant",
        "apps/v1",
        T2,
        false,
        None,
    )
    .unwrap();
    let mut a = first.object.clone();
    let mut b = second.object.clone();
    a["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("managedFields");
    b["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("managedFields");
    assert_eq!(a, b);
    assert_eq!(first.managed.len(), second.managed.len());
    for (x, y) in first.managed.iter().zip(&second.managed) {
        assert_eq!(
            (&x.manager, x.operation, &x.fields),
            (&y.manager, y.operation, &y.fields)
        );
    }
}

#[test]
fn apply_status_subresource() {
    let cfg = deployment(3, json!({"app": "web"}));
    let (obj, managed) = apply_ok(None, &cfg, "sextant", false);
    let status_cfg = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 99},
        "status": {"replicas": 3, "conditions": [{"type": "Available", "status": "True"}]}});
    let out = apply(
        "Deployment",
        Some(&obj),
        &status_cfg,
        "controller",
        "apps/v1",
        T2,
        false,
        Some("status"),
    )
    .unwrap();
    assert_eq!(
        out.object["spec"]["replicas"], 3,
        "spec untouched through status"
    );
    assert_eq!(out.object["status"]["conditions"][0]["type"], "Available");
    let ctl = entry(&out.managed, "controller");
    assert_eq!(ctl.subresource.as_deref(), Some("status"));
    assert!(owns(
        &out.managed,
        "controller",
        ".status.conditions[type=\"Available\"]"
    ));
    assert!(!owns(&out.managed, "controller", ".spec.replicas"));
    assert_eq!(managed.len() + 1, out.managed.len());
}

#[test]
fn apply_list_map_order_and_merge() {
    let mut cfg = deployment(1, json!({}));
    cfg["spec"]["template"]["spec"]["containers"][0]["env"] =
        json!([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]);
    let (obj, _) = apply_ok(None, &cfg, "sextant", false);
    // Another manager adds env C after B.
    let other = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"template": {"spec": {"containers": [{"name": "web", "env": [{"name": "C", "value": "3"}]}]}}}});
    let (obj, _) = apply_ok(Some(&obj), &other, "other", false);
    // sextant reorders B before A and adds Z first.
    cfg["spec"]["template"]["spec"]["containers"][0]["env"] = json!([{"name": "Z", "value": "0"}, {"name": "B", "value": "2"}, {"name": "A", "value": "1"}]);
    let (obj, _) = apply_ok(Some(&obj), &cfg, "sextant", false);
    let names: Vec<&str> = obj["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    // As in structured-merge-diff: applied order for applied elements, C stays
    // right after B, where it was in the live list.
    assert_eq!(names, ["Z", "B", "C", "A"]);
}

#[test]
fn managed_fields_round_trip() {
    let mut obj = json!({"metadata": {"name": "x"}});
    let entries = vec![
        ManagedEntry {
            manager: "a".into(),
            operation: Operation::Apply,
            api_version: "v1".into(),
            time: T1.into(),
            subresource: None,
            fields: FieldSet::from_fields_v1(&json!({"f:data": {"f:k": {}}})).unwrap(),
        },
        ManagedEntry {
            manager: "b".into(),
            operation: Operation::Update,
            api_version: "v1".into(),
            time: T2.into(),
            subresource: Some("status".into()),
            fields: FieldSet::from_fields_v1(&json!({"f:status": {"f:phase": {}}})).unwrap(),
        },
    ];
    write_managed_fields(&mut obj, &entries);
    let mf = &obj["metadata"]["managedFields"];
    assert_eq!(mf[0]["operation"], "Apply");
    assert!(mf[0].get("subresource").is_none());
    assert_eq!(mf[1]["subresource"], "status");
    assert_eq!(mf[1]["fieldsV1"], json!({"f:status": {"f:phase": {}}}));
    assert_eq!(parse_managed_fields(&obj).unwrap(), entries);
    write_managed_fields(&mut obj, &[]);
    assert!(obj["metadata"].get("managedFields").is_none());
    assert!(
        parse_managed_fields(&json!({"metadata": {"managedFields": [{"operation": "Nope"}]}}))
            .is_err()
    );
}
