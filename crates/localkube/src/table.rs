//! Server-side printing: `meta.k8s.io/v1` Table responses, which is what
//! `kubectl get` asks for, with the columns a real server prints per kind
//! (and a CRD's additionalPrinterColumns).

use std::sync::Arc;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use serde_json::{Value, json};

use crate::resources::ResourceType;

fn col(name: &str, ty: &str, priority: u8) -> Value {
    let format = if name == "Name" { "name" } else { "" };
    json!({"name": name, "type": ty, "format": format, "description": "", "priority": priority})
}

fn s<'a>(obj: &'a Value, p: &str) -> &'a str {
    obj.pointer(p).and_then(Value::as_str).unwrap_or("")
}

fn n(obj: &Value, p: &str) -> i64 {
    obj.pointer(p).and_then(Value::as_i64).unwrap_or(0)
}

/// kubectl's short human duration (`5s`, `3m2s`, `4h`, `2d3h`).
pub fn human_age(ts: &str) -> String {
    let Ok(t) = chrono::DateTime::parse_from_rfc3339(ts) else {
        return "<unknown>".into();
    };
    let secs = (chrono::Utc::now() - t.with_timezone(&chrono::Utc))
        .num_seconds()
        .max(0);
    let (m, h, d) = (secs / 60, secs / 3600, secs / 86400);
    if secs < 120 {
        format!("{secs}s")
    } else if m < 10 {
        let r = secs % 60;
        if r == 0 {
            format!("{m}m")
        } else {
            format!("{m}m{r}s")
        }
    } else if h < 3 {
        format!("{m}m")
    } else if h < 8 {
        let r = m % 60;
        if r == 0 {
            format!("{h}h")
        } else {
            format!("{h}h{r}m")
        }
    } else if d < 2 {
        format!("{h}h")
    } else if d < 8 {
        let r = h % 24;
        if r == 0 {
            format!("{d}d")
        } else {
            format!("{d}d{r}h")
        }
    } else {
        format!("{d}d")
    }
}

fn containers(obj: &Value, p: &str) -> (String, String) {
    let cs = obj
        .pointer(p)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let names: Vec<&str> = cs.iter().map(|c| s(c, "/name")).collect();
    let images: Vec<&str> = cs.iter().map(|c| s(c, "/image")).collect();
    (names.join(","), images.join(","))
}

fn selector(obj: &Value) -> String {
    obj.pointer("/spec/selector/matchLabels")
        .or_else(|| obj.pointer("/spec/selector"))
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| format!("{k}={v}")))
                .collect::<Vec<_>>()
                .join(",")
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "<none>".into())
}

fn or_none(v: String) -> String {
    if v.is_empty() { "<none>".into() } else { v }
}

/// Evaluate a simple printer-column JSONPath (`.spec.foo.bar`).
fn json_path(obj: &Value, path: &str) -> Value {
    let mut cur = obj;
    for part in path.trim_start_matches('.').split('.') {
        match cur.get(part) {
            Some(v) => cur = v,
            None => return Value::String(String::new()),
        }
    }
    cur.clone()
}

fn columns_and_cells(rt: &ResourceType, obj: &Value) -> (Vec<Value>, Vec<Value>) {
    let name = json!(s(obj, "/metadata/name"));
    let age = json!(human_age(s(obj, "/metadata/creationTimestamp")));
    if let Some(custom) = &rt.custom
        && !custom.printer_columns.is_empty()
    {
        let mut cols = vec![col("Name", "string", 0)];
        let mut cells = vec![name];
        for pc in &custom.printer_columns {
            let ty = s(pc, "/type");
            cols.push(col(
                s(pc, "/name"),
                if ty.is_empty() { "string" } else { ty },
                pc.get("priority").and_then(Value::as_u64).unwrap_or(0) as u8,
            ));
            let v = json_path(obj, s(pc, "/jsonPath"));
            cells.push(if ty == "date" {
                json!(human_age(v.as_str().unwrap_or("")))
            } else {
                v
            });
        }
        return (cols, cells);
    }
    match (rt.group.as_str(), rt.kind.as_str()) {
        ("", "Pod") => {
            let total = obj
                .pointer("/spec/containers")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            let statuses = obj
                .pointer("/status/containerStatuses")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let ready = statuses
                .iter()
                .filter(|c| c.get("ready").and_then(Value::as_bool) == Some(true))
                .count();
            let restarts: i64 = statuses.iter().map(|c| n(c, "/restartCount")).sum();
            let mut status = s(obj, "/status/phase").to_string();
            for c in &statuses {
                let r = s(c, "/state/waiting/reason");
                if !r.is_empty() {
                    status = r.to_string();
                }
            }
            if obj.pointer("/metadata/deletionTimestamp").is_some() {
                status = "Terminating".into();
            }
            (
                vec![
                    col("Name", "string", 0),
                    col("Ready", "string", 0),
                    col("Status", "string", 0),
                    col("Restarts", "string", 0),
                    col("Age", "string", 0),
                    col("IP", "string", 1),
                    col("Node", "string", 1),
                    col("Nominated Node", "string", 1),
                    col("Readiness Gates", "string", 1),
                ],
                vec![
                    name,
                    json!(format!("{ready}/{total}")),
                    json!(status),
                    json!(restarts.to_string()),
                    age,
                    json!(or_none(s(obj, "/status/podIP").into())),
                    json!(or_none(s(obj, "/spec/nodeName").into())),
                    json!("<none>"),
                    json!("<none>"),
                ],
            )
        }
        ("apps", "Deployment") => {
            let (c, i) = containers(obj, "/spec/template/spec/containers");
            (
                vec![
                    col("Name", "string", 0),
                    col("Ready", "string", 0),
                    col("Up-to-date", "integer", 0),
                    col("Available", "integer", 0),
                    col("Age", "string", 0),
                    col("Containers", "string", 1),
                    col("Images", "string", 1),
                    col("Selector", "string", 1),
                ],
                vec![
                    name,
                    json!(format!(
                        "{}/{}",
                        n(obj, "/status/readyReplicas"),
                        obj.pointer("/spec/replicas")
                            .and_then(Value::as_i64)
                            .unwrap_or(1)
                    )),
                    json!(n(obj, "/status/updatedReplicas")),
                    json!(n(obj, "/status/availableReplicas")),
                    age,
                    json!(c),
                    json!(i),
                    json!(selector(obj)),
                ],
            )
        }
        ("apps", "ReplicaSet") | ("", "ReplicationController") => {
            let (c, i) = containers(obj, "/spec/template/spec/containers");
            (
                vec![
                    col("Name", "string", 0),
                    col("Desired", "integer", 0),
                    col("Current", "integer", 0),
                    col("Ready", "integer", 0),
                    col("Age", "string", 0),
                    col("Containers", "string", 1),
                    col("Images", "string", 1),
                    col("Selector", "string", 1),
                ],
                vec![
                    name,
                    json!(
                        obj.pointer("/spec/replicas")
                            .and_then(Value::as_i64)
                            .unwrap_or(1)
                    ),
                    json!(n(obj, "/status/replicas")),
                    json!(n(obj, "/status/readyReplicas")),
                    age,
                    json!(c),
                    json!(i),
                    json!(selector(obj)),
                ],
            )
        }
        ("apps", "StatefulSet") => {
            let (c, i) = containers(obj, "/spec/template/spec/containers");
            (
                vec![
                    col("Name", "string", 0),
                    col("Ready", "string", 0),
                    col("Age", "string", 0),
                    col("Containers", "string", 1),
                    col("Images", "string", 1),
                ],
                vec![
                    name,
                    json!(format!(
                        "{}/{}",
                        n(obj, "/status/readyReplicas"),
                        obj.pointer("/spec/replicas")
                            .and_then(Value::as_i64)
                            .unwrap_or(1)
                    )),
                    age,
                    json!(c),
                    json!(i),
                ],
            )
        }
        ("apps", "DaemonSet") => (
            vec![
                col("Name", "string", 0),
                col("Desired", "integer", 0),
                col("Current", "integer", 0),
                col("Ready", "integer", 0),
                col("Up-to-date", "integer", 0),
                col("Available", "integer", 0),
                col("Age", "string", 0),
            ],
            vec![
                name,
                json!(n(obj, "/status/desiredNumberScheduled")),
                json!(n(obj, "/status/currentNumberScheduled")),
                json!(n(obj, "/status/numberReady")),
                json!(n(obj, "/status/updatedNumberScheduled")),
                json!(n(obj, "/status/numberAvailable")),
                age,
            ],
        ),
        ("", "Service") => {
            let ports = obj
                .pointer("/spec/ports")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let ports: Vec<String> = ports
                .iter()
                .map(|p| {
                    let proto = p.get("protocol").and_then(Value::as_str).unwrap_or("TCP");
                    match p.get("nodePort").and_then(Value::as_i64) {
                        Some(np) => format!("{}:{np}/{proto}", n(p, "/port")),
                        None => format!("{}/{proto}", n(p, "/port")),
                    }
                })
                .collect();
            let external = obj
                .pointer("/status/loadBalancer/ingress")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .map(|i| s(i, "/ip").to_string())
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| {
                    if s(obj, "/spec/type") == "LoadBalancer" {
                        "<pending>".into()
                    } else {
                        "<none>".into()
                    }
                });
            let ty = match s(obj, "/spec/type") {
                "" => "ClusterIP",
                t => t,
            };
            (
                vec![
                    col("Name", "string", 0),
                    col("Type", "string", 0),
                    col("Cluster-IP", "string", 0),
                    col("External-IP", "string", 0),
                    col("Port(s)", "string", 0),
                    col("Age", "string", 0),
                    col("Selector", "string", 1),
                ],
                vec![
                    name,
                    json!(ty),
                    json!(or_none(s(obj, "/spec/clusterIP").into())),
                    json!(external),
                    json!(or_none(ports.join(","))),
                    age,
                    json!(selector(obj)),
                ],
            )
        }
        ("", "Namespace") => (
            vec![
                col("Name", "string", 0),
                col("Status", "string", 0),
                col("Age", "string", 0),
            ],
            vec![name, json!(s(obj, "/status/phase")), age],
        ),
        ("", "ConfigMap") => (
            vec![
                col("Name", "string", 0),
                col("Data", "integer", 0),
                col("Age", "string", 0),
            ],
            vec![
                name,
                json!(
                    obj.get("data")
                        .and_then(Value::as_object)
                        .map_or(0, |m| m.len())
                        + obj
                            .get("binaryData")
                            .and_then(Value::as_object)
                            .map_or(0, |m| m.len())
                ),
                age,
            ],
        ),
        ("", "Secret") => (
            vec![
                col("Name", "string", 0),
                col("Type", "string", 0),
                col("Data", "integer", 0),
                col("Age", "string", 0),
            ],
            vec![
                name,
                json!(match s(obj, "/type") {
                    "" => "Opaque",
                    t => t,
                }),
                json!(
                    obj.get("data")
                        .and_then(Value::as_object)
                        .map_or(0, |m| m.len())
                ),
                age,
            ],
        ),
        ("batch", "Job") => {
            let complete = obj
                .pointer("/status/conditions")
                .and_then(Value::as_array)
                .is_some_and(|cs| {
                    cs.iter()
                        .any(|c| s(c, "/type") == "Complete" && s(c, "/status") == "True")
                });
            let failed = obj
                .pointer("/status/conditions")
                .and_then(Value::as_array)
                .is_some_and(|cs| {
                    cs.iter()
                        .any(|c| s(c, "/type") == "Failed" && s(c, "/status") == "True")
                });
            let status = if complete {
                "Complete"
            } else if failed {
                "Failed"
            } else {
                "Running"
            };
            (
                vec![
                    col("Name", "string", 0),
                    col("Status", "string", 0),
                    col("Completions", "string", 0),
                    col("Age", "string", 0),
                ],
                vec![
                    name,
                    json!(status),
                    json!(format!(
                        "{}/{}",
                        n(obj, "/status/succeeded"),
                        obj.pointer("/spec/completions")
                            .and_then(Value::as_i64)
                            .unwrap_or(1)
                    )),
                    age,
                ],
            )
        }
        ("", "Event") => {
            let last = match s(obj, "/lastTimestamp") {
                "" => s(obj, "/metadata/creationTimestamp"),
                t => t,
            };
            let object = format!(
                "{}/{}",
                s(obj, "/involvedObject/kind").to_lowercase(),
                s(obj, "/involvedObject/name")
            );
            (
                vec![
                    col("Last Seen", "string", 0),
                    col("Type", "string", 0),
                    col("Reason", "string", 0),
                    col("Object", "string", 0),
                    col("Message", "string", 0),
                    col("Source", "string", 1),
                    col("First Seen", "string", 1),
                    col("Count", "string", 1),
                    col("Name", "string", 1),
                ],
                vec![
                    json!(human_age(last)),
                    json!(s(obj, "/type")),
                    json!(s(obj, "/reason")),
                    json!(object),
                    json!(s(obj, "/message")),
                    json!(s(obj, "/source/component")),
                    json!(human_age(s(obj, "/firstTimestamp"))),
                    json!(n(obj, "/count").to_string()),
                    name,
                ],
            )
        }
        ("", "Node") => {
            let ready = obj
                .pointer("/status/conditions")
                .and_then(Value::as_array)
                .and_then(|cs| cs.iter().find(|c| s(c, "/type") == "Ready"))
                .map(|c| {
                    if s(c, "/status") == "True" {
                        "Ready"
                    } else {
                        "NotReady"
                    }
                })
                .unwrap_or("Unknown");
            (
                vec![
                    col("Name", "string", 0),
                    col("Status", "string", 0),
                    col("Roles", "string", 0),
                    col("Age", "string", 0),
                    col("Version", "string", 0),
                    col("Internal-IP", "string", 1),
                ],
                vec![
                    name,
                    json!(ready),
                    json!("<none>"),
                    age,
                    json!(s(obj, "/status/nodeInfo/kubeletVersion")),
                    json!(s(obj, "/status/addresses/0/address")),
                ],
            )
        }
        ("", "PersistentVolumeClaim") => (
            vec![
                col("Name", "string", 0),
                col("Status", "string", 0),
                col("Volume", "string", 0),
                col("Capacity", "string", 0),
                col("Access Modes", "string", 0),
                col("StorageClass", "string", 0),
                col("Age", "string", 0),
            ],
            vec![
                name,
                json!(s(obj, "/status/phase")),
                json!(s(obj, "/spec/volumeName")),
                json!(s(obj, "/status/capacity/storage")),
                json!(
                    obj.pointer("/status/accessModes/0")
                        .and_then(Value::as_str)
                        .map(|m| match m {
                            "ReadWriteOnce" => "RWO",
                            "ReadOnlyMany" => "ROX",
                            "ReadWriteMany" => "RWX",
                            other => other,
                        })
                        .unwrap_or("")
                ),
                json!(s(obj, "/spec/storageClassName")),
                age,
            ],
        ),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => (
            vec![col("Name", "string", 0), col("Created At", "date", 0)],
            vec![name, json!(s(obj, "/metadata/creationTimestamp"))],
        ),
        _ => (
            vec![col("Name", "string", 0), col("Age", "string", 0)],
            vec![name, age],
        ),
    }
}

fn row_object(obj: &Value, include: Option<&str>) -> Value {
    match include {
        Some("None") => Value::Null,
        Some("Object") => obj.clone(),
        _ => json!({
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": obj.get("metadata").cloned().unwrap_or(json!({})),
        }),
    }
}

/// A Table of `items` (one row each).
pub fn table(
    rt: &ResourceType,
    items: &[Value],
    list_meta: Option<&Value>,
    include: Option<&str>,
) -> Value {
    let mut columns = None;
    let mut rows = Vec::new();
    for obj in items {
        let (cols, cells) = columns_and_cells(rt, obj);
        columns.get_or_insert(cols);
        let mut row = json!({"cells": cells});
        let o = row_object(obj, include);
        if !o.is_null() {
            row["object"] = o;
        }
        rows.push(row);
    }
    let columns = columns.unwrap_or_else(|| columns_and_cells(rt, &json!({"metadata": {}})).0);
    let mut meta = json!({});
    if let Some(m) = list_meta {
        meta = m.clone();
    }
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": meta,
        "columnDefinitions": columns,
        "rows": rows,
    })
}

/// Re-encode a watch stream's objects as one-row Tables.
pub fn watch_as_table<S>(
    rt: Arc<ResourceType>,
    stream: S,
) -> impl Stream<Item = Result<Bytes, std::convert::Infallible>>
where
    S: Stream<Item = Result<Bytes, std::convert::Infallible>>,
{
    stream.map(move |item| {
        let Ok(bytes) = item;
        let Ok(ev) = serde_json::from_slice::<Value>(&bytes) else {
            return Ok(bytes);
        };
        let kind = ev.get("type").and_then(Value::as_str).unwrap_or("");
        if kind == "ERROR" || kind == "BOOKMARK" {
            return Ok(bytes);
        }
        let obj = ev.get("object").cloned().unwrap_or(Value::Null);
        let t = table(&rt, &[obj], None, None);
        let mut line = json!({"type": kind, "object": t}).to_string();
        line.push('\n');
        Ok(Bytes::from(line))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_print_like_kubectl() {
        let ts = |secs: i64| (chrono::Utc::now() - chrono::Duration::seconds(secs)).to_rfc3339();
        assert_eq!(human_age(&ts(5)), "5s");
        assert_eq!(human_age(&ts(185)), "3m5s");
        assert_eq!(human_age(&ts(3 * 86400 + 3600 * 2)), "3d2h");
    }
}
