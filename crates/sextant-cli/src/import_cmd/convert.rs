//! Argo CD's objects as Sextant's (pure: objects in, objects and notes
//! out). Applications, ApplicationSets and AppProjects keep their names and
//! specs (the field names are the same) and move to `sextant.dev` in the
//! target namespace; what Sextant's types do not hold is named, never
//! dropped in silence. The tracking id Argo CD wrote on an object that an
//! app-of-apps made is rewritten to the object's new identity, so the
//! parent app still owns it. Repository and cluster Secrets are copied as
//! they are (Sextant reads Argo CD's labels); the settings ConfigMaps and
//! Secrets go to Sextant's names, the parts Sextant cannot use left out
//! and named.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use sextant_model::ApiGroup;
use sextant_model::annotations::{ARGOCD_TRACKING_ID, TRACKING_ID};

/// One object to write, and what did not come with it.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    /// The object as it will be written.
    pub object: Value,
    /// Where it came from (`Application argocd/web`).
    pub from: String,
    /// What Sextant cannot carry over, each saying why.
    pub lost: Vec<String>,
    /// Whether the object holds secrets (its data is never printed).
    pub secret: bool,
}

/// Metadata worth keeping on an imported object.
fn metadata(meta: &Value, namespace: &str) -> (Map<String, Value>, Vec<String>) {
    let mut out = Map::new();
    let mut lost = Vec::new();
    if let Some(name) = meta.get("name") {
        out.insert("name".into(), name.clone());
    }
    out.insert("namespace".into(), Value::String(namespace.to_owned()));
    if let Some(labels) = meta.get("labels").filter(|l| is_non_empty_map(l)) {
        out.insert("labels".into(), labels.clone());
    }
    if let Some(Value::Object(annotations)) = meta.get("annotations") {
        let kept: Map<String, Value> = annotations
            .iter()
            .filter(|(k, _)| {
                k.as_str() != "kubectl.kubernetes.io/last-applied-configuration"
                    && k.as_str() != "argocd.argoproj.io/refresh"
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !kept.is_empty() {
            out.insert("annotations".into(), Value::Object(kept));
        }
    }
    if let Some(finalizers) = meta.get("finalizers").filter(|f| is_non_empty_list(f)) {
        // Argo CD's resources finalizer is honoured as Sextant's own.
        out.insert("finalizers".into(), finalizers.clone());
    }
    if let Some(Value::Array(owners)) = meta.get("ownerReferences") {
        for o in owners {
            lost.push(format!(
                "its owner reference to {} {} (the imported set takes it over)",
                o.get("kind").and_then(Value::as_str).unwrap_or("?"),
                o.get("name").and_then(Value::as_str).unwrap_or("?"),
            ));
        }
    }
    (out, lost)
}

fn is_non_empty_map(v: &Value) -> bool {
    v.as_object().is_some_and(|m| !m.is_empty())
}

fn is_non_empty_list(v: &Value) -> bool {
    v.as_array().is_some_and(|l| !l.is_empty())
}

/// The tracking id Argo CD wrote (`app:argoproj.io/Kind:argocd/name`),
/// rewritten to the object's identity under Sextant's group, as
/// Sextant's annotation.
fn retrack(meta: &mut Map<String, Value>, kind: &str, namespace: &str, name: &str) {
    let Some(Value::Object(annotations)) = meta.get_mut("annotations") else {
        return;
    };
    let Some(old) = annotations.remove(ARGOCD_TRACKING_ID) else {
        return;
    };
    let Some(app) = old.as_str().and_then(sextant_cluster::app_of) else {
        return;
    };
    let key = sextant_engine::diff::ObjectKey {
        api_version: ApiGroup::Sextant.api_version().to_owned(),
        group: ApiGroup::Sextant.name().to_owned(),
        kind: kind.to_owned(),
        namespace: namespace.to_owned(),
        name: name.to_owned(),
    };
    let id = sextant_cluster::Tracking::id(app, &key);
    annotations.insert(TRACKING_ID.into(), Value::String(id));
}

/// The paths `original` has (not null) that `kept` does not.
fn lost_paths(original: &Value, kept: &Value, path: &str, out: &mut Vec<String>) {
    match (original, kept) {
        (Value::Object(o), Value::Object(k)) => {
            for (key, v) in o {
                // Nothing set: whether it is written makes no difference.
                let empty = match v {
                    Value::Null => true,
                    Value::Object(m) => m.is_empty(),
                    Value::Array(a) => a.is_empty(),
                    Value::String(s) => s.is_empty(),
                    _ => false,
                };
                if empty {
                    continue;
                }
                let here = format!("{path}.{key}");
                match k.get(key) {
                    Some(kv) => lost_paths(v, kv, &here, out),
                    None => out.push(here),
                }
            }
        }
        (Value::Array(o), Value::Array(k)) => {
            for (i, v) in o.iter().enumerate() {
                if let Some(kv) = k.get(i) {
                    lost_paths(v, kv, &format!("{path}[{i}]"), out);
                }
            }
        }
        _ => {}
    }
}

/// Features Sextant does not have, found in an Application's spec.
fn unsupported_features(spec: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let sources: Vec<&Value> = spec
        .get("source")
        .into_iter()
        .chain(
            spec.get("sources")
                .and_then(Value::as_array)
                .into_iter()
                .flatten(),
        )
        .collect();
    for source in sources {
        if let Some(plugin) = source.get("plugin") {
            let which = plugin
                .get("name")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
                .map_or("the plugin its discovery finds".to_owned(), |n| {
                    format!("plugin `{n}`")
                });
            out.push(format!(
                "a config management plugin source (spec.source.plugin) renders with {which}: it must be declared in the ConfigMap sextant-cmp-cm (the sidecar's plugin.yaml as it is, one per key; argocd-cmp-cm is copied there) and its programs must be on the controller's PATH, as Sextant runs plugins itself instead of in sidecars"
            ));
        }
    }
    out
}

/// Convert one of Argo CD's `Application`, `ApplicationSet` or
/// `AppProject` into Sextant's, in `namespace`.
pub fn argo_object(kind: &str, obj: &Value, namespace: &str) -> Planned {
    let meta = obj.get("metadata").cloned().unwrap_or_else(|| json!({}));
    let name = meta
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let from_ns = meta
        .get("namespace")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let (mut new_meta, mut lost) = metadata(&meta, namespace);
    retrack(&mut new_meta, kind, namespace, &name);
    let spec = obj.get("spec").cloned().unwrap_or_else(|| json!({}));
    let candidate = json!({
        "apiVersion": ApiGroup::Sextant.api_version(),
        "kind": kind,
        "metadata": new_meta,
        "spec": spec,
    });
    // What Sextant's types keep of the spec.
    let typed: Result<Value, String> = match kind {
        "Application" => round_trip::<sextant_model::Application>(&candidate),
        "ApplicationSet" => round_trip::<sextant_model::ApplicationSet>(&candidate),
        _ => round_trip::<sextant_model::AppProject>(&candidate),
    };
    let kept_spec = match typed {
        Ok(v) => v.get("spec").cloned().unwrap_or_else(|| json!({})),
        Err(e) => {
            lost.push(format!("its spec does not read as Sextant's {kind}: {e}"));
            spec.clone()
        }
    };
    let mut missing = Vec::new();
    lost_paths(&spec, &kept_spec, "spec", &mut missing);
    lost.extend(
        missing
            .into_iter()
            .map(|p| format!("{p} (Sextant has no such field)")),
    );
    if kind == "Application" {
        lost.extend(unsupported_features(&spec));
        if obj.get("operation").is_some() {
            lost.push("the operation in progress (start it again with sextant app sync)".into());
        }
    }
    Planned {
        object: candidate,
        from: format!("{kind} {from_ns}/{name}"),
        lost,
        secret: false,
    }
}

fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(
    v: &Value,
) -> Result<Value, String> {
    let typed: T = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
    serde_json::to_value(typed).map_err(|e| e.to_string())
}

/// A repository or cluster Secret copied into `namespace`.
pub fn labelled_secret(obj: &Value, namespace: &str) -> Planned {
    let meta = obj.get("metadata").cloned().unwrap_or_else(|| json!({}));
    let (mut new_meta, _) = metadata(&meta, namespace);
    new_meta.remove("finalizers");
    let mut object = json!({"apiVersion": "v1", "kind": "Secret", "metadata": new_meta});
    for field in ["type", "data"] {
        if let Some(v) = obj.get(field) {
            object[field] = v.clone();
        }
    }
    let kind = meta
        .pointer("/labels/argocd.argoproj.io~1secret-type")
        .and_then(Value::as_str)
        .unwrap_or("labelled");
    Planned {
        from: format!(
            "Secret {}/{} ({kind})",
            meta.get("namespace")
                .and_then(Value::as_str)
                .unwrap_or_default(),
            meta.get("name").and_then(Value::as_str).unwrap_or_default()
        ),
        object,
        lost: Vec::new(),
        secret: true,
    }
}

/// A settings ConfigMap (`data`) under Sextant's name, with the keys
/// Sextant does not act on named (`unsupported`).
pub fn config_map(
    from: &str,
    to: &str,
    namespace: &str,
    data: &BTreeMap<String, String>,
    unsupported: &[String],
) -> Planned {
    Planned {
        object: json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": to, "namespace": namespace}, "data": data}),
        from: format!("ConfigMap {from}"),
        lost: unsupported
            .iter()
            .map(|k| format!("{k}: copied, but Sextant does not act on it"))
            .collect(),
        secret: false,
    }
}

/// Keys of `argocd-secret` that mean the same to Sextant: passwords (bcrypt
/// hashes verify) and webhook secrets. Argo CD's signing key, TLS pair and
/// tokens are not: sessions start anew.
fn keeps_secret_key(key: &str) -> bool {
    key == "admin.password"
        || key == "admin.passwordMtime"
        || key.starts_with("webhook.")
        || (key.starts_with("accounts.")
            && (key.ends_with(".password") || key.ends_with(".passwordMtime")))
}

/// `argocd-secret` as Sextant's settings Secret (base64 `data` as read).
pub fn settings_secret(
    from: &str,
    to: &str,
    namespace: &str,
    data: &BTreeMap<String, String>,
) -> Planned {
    let kept: BTreeMap<&String, &String> =
        data.iter().filter(|(k, _)| keeps_secret_key(k)).collect();
    let left: Vec<&String> = data.keys().filter(|k| !keeps_secret_key(k)).collect();
    let mut lost = Vec::new();
    if !left.is_empty() {
        lost.push(format!(
            "{} (Argo CD's signing key, TLS and tokens: log in to Sextant again)",
            left.iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Planned {
        object: json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": to, "namespace": namespace}, "data": kept}),
        from: format!("Secret {from}"),
        lost,
        secret: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_application_moves_group_and_namespace_and_keeps_its_spec() {
        let argo = json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": "web", "namespace": "argocd", "uid": "u", "resourceVersion": "9",
                "finalizers": ["resources-finalizer.argocd.argoproj.io"],
                "annotations": {"argocd.argoproj.io/tracking-id": "root:argoproj.io/Application:argocd/web",
                    "kubectl.kubernetes.io/last-applied-configuration": "{}"},
                "labels": {"team": "shop"}},
            "spec": {"project": "shop",
                "source": {"repoURL": "https://git.example.com/deploy.git", "path": "web", "targetRevision": "main",
                    "plugin": {"name": "cmp"}},
                "destination": {"server": "https://kubernetes.default.svc", "namespace": "web"},
                "syncPolicy": {"automated": {"prune": true}}},
            "status": {"sync": {"status": "Synced"}},
            "operation": {"sync": {}},
        });
        let planned = argo_object("Application", &argo, "sextant");
        let o = &planned.object;
        assert_eq!(o["apiVersion"], "sextant.dev/v1alpha1");
        assert_eq!(o["metadata"]["namespace"], "sextant");
        assert!(
            o["metadata"].get("uid").is_none() && o["metadata"].get("resourceVersion").is_none()
        );
        assert!(o.get("status").is_none() && o.get("operation").is_none());
        assert_eq!(
            o["metadata"]["finalizers"][0],
            "resources-finalizer.argocd.argoproj.io"
        );
        assert_eq!(
            o["metadata"]["annotations"]["sextant.dev/tracking-id"],
            "root:sextant.dev/Application:sextant/web",
            "the parent app-of-apps still owns it"
        );
        assert!(
            o["metadata"]["annotations"]
                .get(ARGOCD_TRACKING_ID)
                .is_none()
        );
        assert!(
            o["metadata"]["annotations"]
                .get("kubectl.kubernetes.io/last-applied-configuration")
                .is_none()
        );
        assert_eq!(o["spec"]["syncPolicy"]["automated"]["prune"], true);
        assert_eq!(planned.from, "Application argocd/web");
        assert!(
            planned.lost.iter().any(|l| l.contains("plugin")),
            "{:?}",
            planned.lost
        );
        assert!(
            planned.lost.iter().any(|l| l.contains("operation")),
            "{:?}",
            planned.lost
        );
    }

    #[test]
    fn fields_sextant_does_not_hold_are_named() {
        let argo = json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject",
            "metadata": {"name": "shop", "namespace": "argocd"},
            "spec": {"sourceRepos": ["*"], "someFutureField": {"x": 1}},
        });
        let planned = argo_object("AppProject", &argo, "sextant");
        assert_eq!(planned.object["spec"]["sourceRepos"], json!(["*"]));
        assert!(
            planned
                .lost
                .iter()
                .any(|l| l.starts_with("spec.someFutureField")),
            "{:?}",
            planned.lost
        );
    }

    #[test]
    fn argo_cds_settings_secret_keeps_passwords_and_webhook_secrets_only() {
        let data: BTreeMap<String, String> = [
            ("admin.password", "JDJh"),
            ("accounts.alice.password", "JDJh"),
            ("webhook.github.secret", "cw=="),
            ("server.secretkey", "c2s="),
            ("tls.crt", "Y3J0"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let planned = settings_secret("argocd/argocd-secret", "sextant-secret", "sextant", &data);
        let kept: Vec<&str> = planned.object["data"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            kept,
            [
                "accounts.alice.password",
                "admin.password",
                "webhook.github.secret"
            ]
        );
        assert!(planned.secret);
        assert!(
            planned.lost[0].contains("server.secretkey, tls.crt"),
            "{:?}",
            planned.lost
        );
    }
}
