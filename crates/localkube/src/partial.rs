//! The metadata-only representation (`as=PartialObjectMetadata`), which
//! clients such as kube-runtime's metadata watcher ask for to cache many
//! objects cheaply.

use bytes::Bytes;
use futures::{Stream, StreamExt};
use serde_json::{Value, json};

/// One object as `PartialObjectMetadata`.
pub fn object(obj: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata").cloned().unwrap_or(json!({})),
    })
}

/// A list as `PartialObjectMetadataList`.
pub fn list(items: &[Value], list_meta: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadataList",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta,
        "items": items.iter().map(object).collect::<Vec<_>>(),
    })
}

/// Re-encode a watch stream's objects as `PartialObjectMetadata`.
pub fn watch<S>(stream: S) -> impl Stream<Item = Result<Bytes, std::convert::Infallible>>
where
    S: Stream<Item = Result<Bytes, std::convert::Infallible>>,
{
    stream.map(|item| {
        let Ok(bytes) = item;
        let Ok(ev) = serde_json::from_slice::<Value>(&bytes) else {
            return Ok(bytes);
        };
        let kind = ev.get("type").and_then(Value::as_str).unwrap_or("");
        if kind == "ERROR" || kind == "BOOKMARK" {
            return Ok(bytes);
        }
        let obj = ev.get("object").cloned().unwrap_or(Value::Null);
        let mut line = json!({"type": kind, "object": object(&obj)}).to_string();
        line.push('\n');
        Ok(Bytes::from(line))
    })
}
