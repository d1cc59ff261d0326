//! Secret values never leave the server: every JSON document a route
//! returns that holds Kubernetes objects goes through [`mask_objects`]
//! first, and every error text from the cluster through [`scrub`].
//!
//! A Secret (core `v1`, kind `Secret`) anywhere in a document — a live
//! object, a desired manifest, the result of a server-side dry-run, an
//! item of a list — has each value of `data` and `stringData` replaced by
//! the engine's mask `++++++++`, keeping the keys so a user still sees
//! which keys exist. Its `last-applied-configuration` annotation (which
//! holds the values as written) is masked whole.

use serde_json::Value;
use sextant_engine::diff::mask::SAME;

/// kubectl's annotation that copies the applied object, values included.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// True for a core Secret.
fn is_secret(obj: &serde_json::Map<String, Value>) -> bool {
    obj.get("kind").and_then(Value::as_str) == Some("Secret")
        && obj
            .get("apiVersion")
            .and_then(Value::as_str)
            .is_none_or(|v| v == "v1")
}

/// Mask every Secret found anywhere in `doc`, in place.
pub fn mask_objects(doc: &mut Value) {
    match doc {
        Value::Object(map) => {
            if is_secret(map) {
                mask_secret(map);
            }
            for v in map.values_mut() {
                mask_objects(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_objects),
        _ => {}
    }
}

/// Mask one Secret's values and its last-applied copy.
fn mask_secret(map: &mut serde_json::Map<String, Value>) {
    for field in ["data", "stringData"] {
        if let Some(Value::Object(values)) = map.get_mut(field) {
            for v in values.values_mut() {
                *v = Value::String(SAME.to_owned());
            }
        }
    }
    if let Some(Value::Object(annotations)) = map
        .get_mut("metadata")
        .and_then(|m| m.get_mut("annotations"))
        && let Some(v) = annotations.get_mut(LAST_APPLIED)
    {
        *v = Value::String(SAME.to_owned());
    }
}

/// Remove values the API server quotes back in an error
/// (`Invalid value: "s3cr3t": ...` becomes `Invalid value: "++++++++": ...`),
/// since the value may be a Secret's.
pub fn scrub(text: &str) -> String {
    const MARK: &str = "Invalid value: ";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(MARK) {
        out.push_str(&rest[..at + MARK.len()]);
        rest = &rest[at + MARK.len()..];
        // The value runs to the next `": ` (quoted) or `: ` (bare).
        let end = if let Some(quoted) = rest.strip_prefix('"') {
            quoted.find("\": ").map(|i| i + 2).unwrap_or(rest.len())
        } else {
            rest.find(": ").unwrap_or(rest.len())
        };
        out.push('"');
        out.push_str(SAME);
        out.push('"');
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_masked_wherever_they_are_nested() {
        let mut doc = json!({
            "items": [
                {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "a",
                  "annotations": {LAST_APPLIED: "{\"data\":{\"k\":\"c2VjcmV0\"}}"}},
                 "data": {"k": "c2VjcmV0"}, "stringData": {"p": "secret"}},
                {"apiVersion": "v1", "kind": "ConfigMap", "data": {"k": "visible"}},
            ],
            "diff": {"live": {"kind": "Secret", "apiVersion": "v1", "data": {"x": "eA=="}}},
        });
        mask_objects(&mut doc);
        let text = doc.to_string();
        assert!(!text.contains("c2VjcmV0"), "{text}");
        assert!(!text.contains("\"secret\""), "{text}");
        assert!(!text.contains("eA=="), "{text}");
        assert!(text.contains("visible"));
        assert_eq!(doc["items"][0]["data"]["k"], SAME);
    }

    #[test]
    fn quoted_values_in_api_errors_are_scrubbed() {
        let e = r#"Secret "db" is invalid: data[pass]: Invalid value: "hunter2": a valid config key must consist of alphanumeric characters"#;
        let s = scrub(e);
        assert!(!s.contains("hunter2"), "{s}");
        assert!(s.contains("a valid config key"), "{s}");
        assert_eq!(scrub("no values here"), "no values here");
        let bare = scrub("spec.replicas: Invalid value: -1: must be greater");
        assert!(!bare.contains("-1"), "{bare}");
    }
}
