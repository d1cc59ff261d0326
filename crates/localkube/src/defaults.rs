//! Defaulting the API server does on write, and the initial status of new
//! objects.

use serde_json::{Value, json};

use crate::resources::ResourceType;

/// The status a freshly created object starts with, when the kind has a
/// status subresource (clients cannot set it on create).
pub fn initial_status(rt: &ResourceType) -> Option<Value> {
    if rt.custom.is_some() {
        return None;
    }
    match (rt.group.as_str(), rt.kind.as_str()) {
        ("", "Namespace") => Some(json!({"phase": "Active"})),
        ("", "Pod") => Some(json!({"phase": "Pending"})),
        ("", "PersistentVolumeClaim") => Some(json!({"phase": "Pending"})),
        ("", "Service") => Some(json!({"loadBalancer": {}})),
        _ => Some(json!({})),
    }
}

/// Fill in the defaults a real API server sets on every write.
pub fn apply(rt: &ResourceType, obj: &mut Value) {
    if rt.group.is_empty() && rt.kind == "Namespace" {
        let name = obj
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            let labels = meta.entry("labels").or_insert_with(|| json!({}));
            if let Some(l) = labels.as_object_mut() {
                l.insert("kubernetes.io/metadata.name".into(), Value::String(name));
            }
        }
        if obj.pointer("/spec/finalizers").is_none() {
            obj["spec"] = json!({"finalizers": ["kubernetes"]});
        }
    }
}
