//! Differential fidelity: the same requests to localkube and to a real
//! kube-apiserver, compared by status code, Status reason and normalized
//! body (uids, timestamps and resourceVersion values left out; kept:
//! names, labels, annotations, data, finalizers, the fields an apply
//! owns); then watches from the resourceVersions writes returned and a
//! custom resource whose CRD has a structural schema. What still differs
//! is listed, with the reason, in docs/localkube.md. Runs only with
//! `SEXTANT_TEST_CLUSTER=real`.

use localkube::{Config, LocalKube};
use serde_json::{Value, json};

/// One request: method, path, content type, body.
struct Step {
    what: &'static str,
    method: &'static str,
    path: String,
    content_type: &'static str,
    body: Option<Value>,
}

fn step(
    what: &'static str,
    method: &'static str,
    path: &str,
    ct: &'static str,
    body: Option<Value>,
) -> Step {
    Step {
        what,
        method,
        path: path.to_string(),
        content_type: ct,
        body,
    }
}

const JSON: &str = "application/json";
const MERGE: &str = "application/merge-patch+json";
const JSONPATCH: &str = "application/json-patch+json";
const SMP: &str = "application/strategic-merge-patch+json";
const APPLY: &str = "application/apply-patch+yaml";

/// What is compared of an answer: for a Status, its reason and code; for
/// an object, the fields named in the module doc; for a list, its items'
/// names and whether it has a continue token.
fn normalize(v: &Value) -> Value {
    if v["kind"] == "Status" {
        return json!({"kind": "Status", "reason": v["reason"], "code": v["code"], "status": v["status"]});
    }
    if let Some(items) = v.get("items").and_then(Value::as_array) {
        let names: Vec<&Value> = items.iter().map(|i| &i["metadata"]["name"]).collect();
        let more = v["metadata"]["continue"]
            .as_str()
            .is_some_and(|c| !c.is_empty());
        return json!({"items": names, "continue": more});
    }
    let m = &v["metadata"];
    let managers: Vec<Value> = m["managedFields"]
        .as_array()
        .map(|fs| {
            let mut out: Vec<Value> = fs
                .iter()
                .map(|f| json!({"manager": f["manager"], "operation": f["operation"], "fields": f["fieldsV1"]}))
                .collect();
            out.sort_by_key(|f| f.to_string());
            out
        })
        .unwrap_or_default();
    json!({
        "kind": v["kind"], "name": m["name"], "labels": m["labels"], "annotations": m["annotations"],
        "finalizers": m["finalizers"], "data": v["data"], "spec": v["spec"], "managedFields": managers,
    })
}

async fn send(client: &kube::Client, s: &Step) -> (u16, Value) {
    let body = s
        .body
        .as_ref()
        .map(|b| b.to_string().into_bytes())
        .unwrap_or_default();
    let req = http::Request::builder()
        .method(s.method)
        .uri(&s.path)
        .header("content-type", s.content_type)
        .header("accept", "application/json")
        .body(body)
        .unwrap();
    let resp = client
        .send(req.map(kube::client::Body::from))
        .await
        .unwrap();
    let code = resp.status().as_u16();
    let bytes = resp.into_body().collect_bytes().await.unwrap();
    (code, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

fn cm(name: &str, data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": {"app": "diff"}}, "data": data})
}

fn steps() -> Vec<Step> {
    let ns = "/api/v1/namespaces/diff";
    let cms = format!("{ns}/configmaps");
    let a = format!("{cms}/a");
    vec![
        step(
            "create a namespace",
            "POST",
            "/api/v1/namespaces",
            JSON,
            Some(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "diff"}})),
        ),
        step(
            "create",
            "POST",
            &cms,
            JSON,
            Some(cm("a", json!({"k": "1"}))),
        ),
        step(
            "create again: AlreadyExists",
            "POST",
            &cms,
            JSON,
            Some(cm("a", json!({"k": "1"}))),
        ),
        step(
            "create with a bad name: Invalid",
            "POST",
            &cms,
            JSON,
            Some(cm("Bad_Name", json!({}))),
        ),
        step(
            "create with a malformed body: BadRequest",
            "POST",
            &cms,
            JSON,
            Some(json!("not an object")),
        ),
        step(
            "update with a stale resourceVersion: Conflict",
            "PUT",
            &a,
            JSON,
            Some({
                let mut c = cm("a", json!({"k": "2"}));
                c["metadata"]["resourceVersion"] = json!("1");
                c
            }),
        ),
        step(
            "merge patch",
            "PATCH",
            &a,
            MERGE,
            Some(json!({"data": {"m": "x"}})),
        ),
        step(
            "JSON patch",
            "PATCH",
            &a,
            JSONPATCH,
            Some(json!([{"op": "add", "path": "/data/j", "value": "y"}])),
        ),
        step(
            "JSON patch with a failing test: Invalid",
            "PATCH",
            &a,
            JSONPATCH,
            Some(json!([{"op": "test", "path": "/data/k", "value": "9"}])),
        ),
        step(
            "strategic merge patch",
            "PATCH",
            &a,
            SMP,
            Some(json!({"data": {"s": "z"}})),
        ),
        step(
            "server-side apply of a new object",
            "PATCH",
            &format!("{cms}/b?fieldManager=alice"),
            APPLY,
            Some(cm("b", json!({"owned": "alice"}))),
        ),
        step(
            "apply by another manager: Conflict",
            "PATCH",
            &format!("{cms}/b?fieldManager=bob"),
            APPLY,
            Some(cm("b", json!({"owned": "bob"}))),
        ),
        step(
            "apply forced",
            "PATCH",
            &format!("{cms}/b?fieldManager=bob&force=true"),
            APPLY,
            Some(cm("b", json!({"owned": "bob"}))),
        ),
        step(
            "apply dropping a field removes it",
            "PATCH",
            &format!("{cms}/b?fieldManager=bob"),
            APPLY,
            Some(cm("b", json!({}))),
        ),
        step(
            "apply without fieldManager: BadRequest",
            "PATCH",
            &format!("{cms}/b"),
            APPLY,
            Some(cm("b", json!({}))),
        ),
        step(
            "create a third",
            "POST",
            &cms,
            JSON,
            Some(cm("c", json!({}))),
        ),
        step(
            "list by label",
            "GET",
            &format!("{cms}?labelSelector=app%3Ddiff"),
            JSON,
            None,
        ),
        step(
            "list by a label nobody has",
            "GET",
            &format!("{cms}?labelSelector=app%3Dnone"),
            JSON,
            None,
        ),
        step(
            "list by field",
            "GET",
            &format!("{cms}?fieldSelector=metadata.name%3Db"),
            JSON,
            None,
        ),
        step(
            "list by an unknown field: BadRequest",
            "GET",
            &format!("{cms}?fieldSelector=spec.x%3D1"),
            JSON,
            None,
        ),
        step(
            "list a page",
            "GET",
            &format!("{cms}?labelSelector=app%3Ddiff&limit=1"),
            JSON,
            None,
        ),
        step(
            "get a missing object: NotFound",
            "GET",
            &format!("{cms}/nope"),
            JSON,
            None,
        ),
        step(
            "get from an unknown resource: NotFound",
            "GET",
            &format!("{ns}/nopes/x"),
            JSON,
            None,
        ),
        step(
            "delete in the foreground",
            "DELETE",
            &a,
            JSON,
            Some(
                json!({"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Foreground"}),
            ),
        ),
        step(
            "delete in the background",
            "DELETE",
            &format!("{cms}/b"),
            JSON,
            Some(
                json!({"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}),
            ),
        ),
        step(
            "delete orphaning",
            "DELETE",
            &format!("{cms}/c"),
            JSON,
            Some(
                json!({"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Orphan"}),
            ),
        ),
        step(
            "delete a missing object: NotFound",
            "DELETE",
            // Not `c`: kube-controller-manager's garbage collector removes
            // the orphan finalizer in its own time.
            &format!("{cms}/never"),
            JSON,
            None,
        ),
        step(
            "create in a missing namespace: NotFound",
            "POST",
            "/api/v1/namespaces/nowhere/configmaps",
            JSON,
            Some(cm("x", json!({}))),
        ),
    ]
}

/// The steps whose answers still differ; docs/localkube.md says why.
const KNOWN: &[&str] = &[
    // A server-set default (Namespace spec.finalizers) is owned in managedFields.
    "create a namespace",
    // An empty map (ConfigMap data: {}) is stored instead of dropped.
    "apply dropping a field removes it",
    "create a third",
    "delete orphaning",
    // A deletion that removes the object at once answers with the object,
    // not a Success Status.
    "delete in the background",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn localkube_answers_a_request_sequence_as_kube_apiserver_does() {
    if std::env::var("SEXTANT_TEST_CLUSTER").map_or(true, |v| v != "real") {
        eprintln!("SEXTANT_TEST_CLUSTER is not `real`: there is no kube-apiserver to compare with");
        return;
    }
    let real = sextant_testkit::ControlPlane::start().await;
    let local = LocalKube::start(Config::default()).await.unwrap();
    let (rc, lc) = (real.client().await, local.client().await.unwrap());
    let mut differences = Vec::new();
    let mut unexpected: Vec<String> = Vec::new();
    for s in steps() {
        let (r, l) = (send(&rc, &s).await, send(&lc, &s).await);
        let (rn, ln) = (normalize(&r.1), normalize(&l.1));
        if r.0 != l.0 || rn != ln {
            differences.push(s.what);
            if !KNOWN.contains(&s.what) {
                unexpected.push(format!(
                    "{} ({} {}):\n  kube-apiserver {}: {rn}\n  localkube      {}: {ln}",
                    s.what, s.method, s.path, r.0, l.0
                ));
            }
        }
    }
    assert!(
        unexpected.is_empty(),
        "{} new differences:\n{}",
        unexpected.len(),
        unexpected.join("\n")
    );
    let fixed: Vec<&&str> = KNOWN.iter().filter(|k| !differences.contains(k)).collect();
    assert!(
        fixed.is_empty(),
        "no longer different (take them off KNOWN and docs/localkube.md): {fixed:?}"
    );
}

/// A watch's answer normalized: each event's type with the object's name
/// and data (an ERROR's reason and code); a non-stream answer as
/// [`normalize`] does.
fn normalize_watch(code: u16, bytes: &[u8]) -> Value {
    let events: Vec<Value> = bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .filter_map(|l| serde_json::from_slice::<Value>(l).ok())
        .collect();
    if events.len() == 1 && events[0].get("type").is_none() {
        return json!({"code": code, "answer": normalize(&events[0])});
    }
    let events: Vec<Value> = events
        .iter()
        .map(|e| {
            let o = &e["object"];
            if e["type"] == "ERROR" {
                json!({"type": "ERROR", "reason": o["reason"], "code": o["code"]})
            } else {
                json!({"type": e["type"], "name": o["metadata"]["name"], "data": o["data"]})
            }
        })
        .collect();
    json!({"code": code, "events": events})
}

async fn send_raw(
    client: &kube::Client,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Vec<u8>) {
    let req = http::Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", if method == "PATCH" { MERGE } else { JSON })
        .header("accept", "application/json")
        .body(body.map(|b| b.to_string().into_bytes()).unwrap_or_default())
        .unwrap();
    let resp = client
        .send(req.map(kube::client::Body::from))
        .await
        .unwrap();
    let code = resp.status().as_u16();
    (
        code,
        resp.into_body().collect_bytes().await.unwrap().to_vec(),
    )
}

/// Writes, then watches from the versions they returned, on one server:
/// (what, normalized answer) for each watch.
async fn watch_story(c: &kube::Client) -> Vec<(&'static str, Value)> {
    let cms = "/api/v1/namespaces/watch/configmaps";
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "watch"}});
    assert_eq!(
        send_raw(c, "POST", "/api/v1/namespaces", Some(ns)).await.0,
        201
    );
    let (code, x) = send_raw(c, "POST", cms, Some(cm("x", json!({"v": "1"})))).await;
    assert_eq!(code, 201);
    let x: Value = serde_json::from_slice(&x).unwrap();
    let rv = x["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_owned();
    let x_path = format!("{cms}/x");
    let patch = json!({"data": {"v": "2"}});
    assert_eq!(send_raw(c, "PATCH", &x_path, Some(patch)).await.0, 200);
    assert_eq!(
        send_raw(c, "POST", cms, Some(cm("y", json!({"v": "1"}))))
            .await
            .0,
        201
    );
    assert_eq!(send_raw(c, "DELETE", &x_path, None).await.0, 200);
    let (_, list) = send_raw(c, "GET", &format!("{cms}?labelSelector=app%3Ddiff"), None).await;
    let list: Value = serde_json::from_slice(&list).unwrap();
    let list_rv = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_owned();
    // The label keeps out the kube-root-ca.crt ConfigMap a real cluster
    // puts in every namespace.
    let watch = |query: String| {
        format!("{cms}?watch=true&timeoutSeconds=1&labelSelector=app%3Ddiff&{query}")
    };
    let watches = [
        (
            "watch from a create's resourceVersion",
            watch(format!("resourceVersion={rv}")),
        ),
        (
            "watch one object from that resourceVersion",
            watch(format!(
                "resourceVersion={rv}&fieldSelector=metadata.name%3Dx"
            )),
        ),
        (
            "watch from a list's resourceVersion: nothing new",
            watch(format!("resourceVersion={list_rv}")),
        ),
        (
            "watch from resourceVersion 0: the current objects as ADDED",
            watch("resourceVersion=0".into()),
        ),
        (
            "watch without a resourceVersion: the current objects as ADDED",
            watch(String::new()),
        ),
        (
            "watch from a resourceVersion that is not a number: BadRequest",
            watch("resourceVersion=abc".into()),
        ),
    ];
    let mut out = Vec::new();
    for (what, path) in watches {
        let (code, bytes) = send_raw(c, "GET", &path, None).await;
        out.push((what, normalize_watch(code, &bytes)));
    }
    out
}

/// The steps on a custom resource whose CRD has a structural schema
/// (types, bounds, an enum, a default, a required field, pruning, a part
/// that keeps unknown fields, a status subresource).
fn crd_steps() -> Vec<Step> {
    let ws = "/apis/diff.example.com/v1/namespaces/default/widgets";
    let w = |spec: Value| json!({"apiVersion": "diff.example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": spec});
    vec![
        step(
            "create a valid widget: defaulted and pruned",
            "POST",
            ws,
            JSON,
            Some(w(
                json!({"size": 3, "extra": "pruned", "free": {"any": {"deep": 1}}, "tags": ["a"]}),
            )),
        ),
        step(
            "create below the minimum: Invalid",
            "POST",
            ws,
            JSON,
            Some(w(json!({"size": 0}))),
        ),
        step(
            "create with a string for an integer: Invalid",
            "POST",
            ws,
            JSON,
            Some(w(json!({"size": "big"}))),
        ),
        step(
            "create without a required field: Invalid",
            "POST",
            ws,
            JSON,
            Some(w(json!({"color": "red"}))),
        ),
        step(
            "create with a value outside the enum: Invalid",
            "POST",
            ws,
            JSON,
            Some(w(json!({"size": 2, "color": "green"}))),
        ),
        step(
            "merge patch above the maximum: Invalid",
            "PATCH",
            &format!("{ws}/w"),
            MERGE,
            Some(json!({"spec": {"size": 20}})),
        ),
        step(
            "merge patch within bounds",
            "PATCH",
            &format!("{ws}/w"),
            MERGE,
            Some(json!({"spec": {"size": 5, "color": "blue"}})),
        ),
        step(
            "merge patch removing a defaulted field: the default again",
            "PATCH",
            &format!("{ws}/w"),
            MERGE,
            Some(json!({"spec": {"color": null}})),
        ),
        step(
            "status patch leaves spec alone",
            "PATCH",
            &format!("{ws}/w/status"),
            MERGE,
            Some(json!({"status": {"ready": true}, "spec": {"size": 9}})),
        ),
        step(
            "get after the status patch",
            "GET",
            &format!("{ws}/w"),
            JSON,
            None,
        ),
        step(
            "apply an invalid widget: Invalid",
            "PATCH",
            &format!("{ws}/v?fieldManager=alice"),
            APPLY,
            Some(
                json!({"apiVersion": "diff.example.com/v1", "kind": "Widget", "metadata": {"name": "v"}, "spec": {"size": 11}}),
            ),
        ),
        step("list widgets", "GET", ws, JSON, None),
    ]
}

fn widget_crd() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.diff.example.com"},
        "spec": {
            "group": "diff.example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "required": ["size"], "properties": {
                        "size": {"type": "integer", "minimum": 1, "maximum": 10},
                        "color": {"type": "string", "enum": ["red", "blue"], "default": "red"},
                        "tags": {"type": "array", "items": {"type": "string"}},
                        "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
                    }},
                    "status": {"type": "object", "properties": {"ready": {"type": "boolean"}}}
                }}}
            }]
        }
    })
}

/// Create the widget CRD and wait until it is Established.
async fn install_widgets(c: &kube::Client) {
    let crds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
    assert_eq!(send_raw(c, "POST", crds, Some(widget_crd())).await.0, 201);
    for _ in 0..300 {
        let (_, b) = send_raw(c, "GET", &format!("{crds}/widgets.diff.example.com"), None).await;
        let v: Value = serde_json::from_slice(&b).unwrap_or(Value::Null);
        let established = v["status"]["conditions"].as_array().is_some_and(|cs| {
            cs.iter()
                .any(|c| c["type"] == "Established" && c["status"] == "True")
        });
        // Established is when the CRD says so; the kind may be served a
        // moment later.
        if established
            && send_raw(c, "GET", "/apis/diff.example.com/v1/widgets", None)
                .await
                .0
                == 200
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the widget CRD was not established");
}

/// The watch and CRD differences still expected; docs/localkube.md says why.
const KNOWN_WATCH_AND_CRD: &[&str] = &[
    // kube-apiserver answers a watch from a resourceVersion that is not a
    // number with a 500 InternalError; localkube with a 400 BadRequest.
    "watch from a resourceVersion that is not a number: BadRequest",
    // An Update's managedFields of a custom resource: kube-apiserver marks
    // every object it creates as a member (`.`), localkube only maps
    // without a schema.
    "create a valid widget: defaulted and pruned",
    "merge patch within bounds",
    "merge patch removing a defaulted field: the default again",
    "status patch leaves spec alone",
    "get after the status patch",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watches_from_a_resource_version_and_a_crd_with_a_schema_answer_as_kube_apiserver_does() {
    if std::env::var("SEXTANT_TEST_CLUSTER").map_or(true, |v| v != "real") {
        eprintln!("SEXTANT_TEST_CLUSTER is not `real`: there is no kube-apiserver to compare with");
        return;
    }
    let real = sextant_testkit::ControlPlane::start().await;
    let local = LocalKube::start(Config::default()).await.unwrap();
    let (rc, lc) = (real.client().await, local.client().await.unwrap());
    let mut differences = Vec::new();
    let mut unexpected: Vec<String> = Vec::new();
    let (rw, lw) = (watch_story(&rc).await, watch_story(&lc).await);
    for ((what, r), (_, l)) in rw.iter().zip(&lw) {
        if r != l {
            differences.push(*what);
            if !KNOWN_WATCH_AND_CRD.contains(what) {
                unexpected.push(format!(
                    "{what}:\n  kube-apiserver {r}\n  localkube      {l}"
                ));
            }
        }
    }
    install_widgets(&rc).await;
    install_widgets(&lc).await;
    for s in crd_steps() {
        let (r, l) = (send(&rc, &s).await, send(&lc, &s).await);
        let (rn, ln) = (normalize(&r.1), normalize(&l.1));
        if r.0 != l.0 || rn != ln {
            differences.push(s.what);
            if !KNOWN_WATCH_AND_CRD.contains(&s.what) {
                unexpected.push(format!(
                    "{} ({} {}):\n  kube-apiserver {}: {rn}\n  localkube      {}: {ln}",
                    s.what, s.method, s.path, r.0, l.0
                ));
            }
        }
    }
    assert!(
        unexpected.is_empty(),
        "{} new differences:\n{}",
        unexpected.len(),
        unexpected.join("\n")
    );
    let fixed: Vec<&&str> = KNOWN_WATCH_AND_CRD
        .iter()
        .filter(|k| !differences.contains(k))
        .collect();
    assert!(
        fixed.is_empty(),
        "no longer different (take them off KNOWN_WATCH_AND_CRD and docs/localkube.md): {fixed:?}"
    );
}
