//! Normalisation before comparison: what the API server sets by itself
//! (uid, resourceVersion, generation, creationTimestamp, managedFields,
//! selfLink, deletion bookkeeping), `status`, the tracking annotation and
//! kubectl's last-applied annotation are not differences, and neither are
//! nulls or empty label and annotation maps. Secret `stringData` is folded
//! into `data` (base64), as the API server does on write.

use base64::Engine as _;
use serde_json::{Map, Value};

use super::TRACKING_ANNOTATION;

/// Metadata fields the server owns.
const SERVER_METADATA: &[&str] = &[
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];

/// Annotations that are bookkeeping, not desired state.
const IGNORED_ANNOTATIONS: &[&str] = &[
    TRACKING_ANNOTATION,
    "argocd.argoproj.io/tracking-id",
    "kubectl.kubernetes.io/last-applied-configuration",
];

/// A normalised copy of `obj`. What is dropped is never copied (status
/// and managedFields are most of a live object).
pub fn normalize(obj: &Value) -> Value {
    let Value::Object(map) = obj else {
        return strip_nulls(obj);
    };
    let mut out = Map::new();
    for (k, v) in map {
        match (k.as_str(), v) {
            ("status", _) | (_, Value::Null) => {}
            ("metadata", Value::Object(meta)) => {
                out.insert(k.clone(), Value::Object(metadata(meta)));
            }
            _ => {
                out.insert(k.clone(), strip_nulls(v));
            }
        }
    }
    if is_core_secret(&out) {
        fold_string_data(&mut out);
    }
    Value::Object(out)
}

fn metadata(meta: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, v) in meta {
        if v.is_null() || SERVER_METADATA.contains(&k.as_str()) {
            continue;
        }
        let v = match (k.as_str(), v) {
            ("annotations", Value::Object(a)) => Value::Object(
                a.iter()
                    .filter(|(k, v)| !v.is_null() && !IGNORED_ANNOTATIONS.contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
            _ => strip_nulls(v),
        };
        let empty_map = v.as_object().is_some_and(Map::is_empty);
        if !(empty_map && (k == "annotations" || k == "labels")) {
            out.insert(k.clone(), v);
        }
    }
    out
}

fn is_core_secret(map: &Map<String, Value>) -> bool {
    map.get("apiVersion").and_then(Value::as_str) == Some("v1")
        && map.get("kind").and_then(Value::as_str) == Some("Secret")
}

/// `stringData` entries become base64 `data` entries (they win over `data`
/// with the same key, as on the server).
fn fold_string_data(map: &mut Map<String, Value>) {
    let Some(Value::Object(string_data)) = map.remove("stringData") else {
        return;
    };
    if string_data.is_empty() {
        return;
    }
    let data = map
        .entry("data")
        .or_insert_with(|| Value::Object(Map::new()));
    if !data.is_object() {
        *data = Value::Object(Map::new());
    }
    if let Some(data) = data.as_object_mut() {
        for (k, v) in string_data {
            let text = match v {
                Value::String(s) => s,
                other => other.to_string(),
            };
            let encoded = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
            data.insert(k, Value::String(encoded));
        }
    }
}

/// A copy without null map entries (the server drops them on write).
/// Cloning and pruning in place beats rebuilding the maps.
fn strip_nulls(value: &Value) -> Value {
    let mut copy = value.clone();
    remove_nulls(&mut copy);
    copy
}

fn remove_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(remove_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(remove_nulls),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::normalize;

    #[test]
    fn server_set_metadata_status_and_bookkeeping_annotations_are_removed() {
        let live = json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "namespace": "n", "uid": "u", "resourceVersion": "7",
                "generation": 2, "creationTimestamp": "2024-01-01T00:00:00Z",
                "managedFields": [{"manager": "sextant"}],
                "annotations": {"sextant.dev/tracking-id": "app:/ConfigMap:n/a"}},
            "data": {"k": "v"},
            "status": {"phase": "x"}
        });
        assert_eq!(
            normalize(&live),
            json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "a", "namespace": "n"}, "data": {"k": "v"}})
        );
    }

    #[test]
    fn secret_string_data_is_folded_into_base64_data() {
        let desired = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
            "data": {"a": "eA=="}, "stringData": {"b": "hello"}});
        assert_eq!(
            normalize(&desired)["data"],
            json!({"a": "eA==", "b": "aGVsbG8="})
        );
    }

    #[test]
    fn nulls_and_empty_label_maps_are_not_differences() {
        let desired = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "labels": {}, "creationTimestamp": null},
            "data": {"k": null}});
        assert_eq!(
            normalize(&desired),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {}})
        );
    }
}
