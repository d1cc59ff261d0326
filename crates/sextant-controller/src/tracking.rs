//! The tracking id that marks an object as an app's:
//! `<app>:<group>/<kind>:<namespace>/<name>` in the annotation
//! `sextant.dev/tracking-id` (`argocd.argoproj.io/tracking-id` when the
//! process serves Argo CD's group, so what Argo CD deployed is recognized). Only objects carrying this app's id are ever
//! updated or pruned by it; a copy of an object (same name, no or another
//! id) is never taken over silently.

use serde_json::Value;
use sextant_engine::diff::ObjectKey;

/// The tracking id of the object `key` names, for `app`.
pub fn tracking_id(app: &str, key: &ObjectKey) -> String {
    format!(
        "{app}:{}/{}:{}/{}",
        key.group, key.kind, key.namespace, key.name
    )
}

/// The tracking id an object carries.
pub fn tracking_of(obj: &Value) -> Option<&str> {
    obj.pointer("/metadata/annotations")
        .and_then(|a| a.get(sextant_model::group::selected().tracking_annotation()))
        .and_then(Value::as_str)
}

/// Whether `obj` carries exactly the id `app` would give it (a copy of an
/// object under another name or namespace, with a stale id, is not the
/// app's).
pub fn is_owned_by(app: &str, obj: &Value) -> bool {
    tracking_of(obj) == Some(tracking_id(app, &ObjectKey::of(obj)).as_str())
}

/// Set the app's tracking id on a desired object.
pub fn mark(app: &str, obj: &mut Value) {
    let id = tracking_id(app, &ObjectKey::of(obj));
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        let annotations = meta
            .entry("annotations")
            .or_insert_with(|| Value::Object(Default::default()));
        if !annotations.is_object() {
            *annotations = Value::Object(Default::default());
        }
        if let Some(a) = annotations.as_object_mut() {
            a.insert(
                sextant_model::group::selected()
                    .tracking_annotation()
                    .to_owned(),
                Value::String(id),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_name_app_group_kind_namespace_and_name() {
        let mut d = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop"}});
        mark("payments", &mut d);
        assert_eq!(tracking_of(&d), Some("payments:apps/Deployment:shop/web"));
        let mut ns = json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "shop", "annotations": {"a": "b"}}});
        mark("infra", &mut ns);
        assert_eq!(tracking_of(&ns), Some("infra:/Namespace:/shop"));
        assert_eq!(ns["metadata"]["annotations"]["a"], "b");
    }
}
