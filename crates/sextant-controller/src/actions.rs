//! Resource actions on an app's objects, for the CLI (`sextant app actions`)
//! and the API server: which of the app's live objects an action may run
//! on (the ones it tracks, per `status.resources`), what each offers, and
//! running one: the scripts (`sextant_engine::actions`) give the changed
//! or new objects, which are written here.
//!
//! A change is a JSON merge patch of what the action changed, carrying the
//! object's resourceVersion, so an object changed meanwhile is refused
//! (conflict) rather than overwritten; a changed `status` goes to the
//! status subresource. Each run is recorded as a `ResourceActionRan` Event
//! on the Application.

use serde_json::{Map, Value};
use sextant_cluster::{Kinds, Tracking};
use sextant_engine::actions::{ActionInfo, Operation, ResourceActions};
use sextant_engine::diff::ObjectKey;
use sextant_model::Application;

/// Which of the app's objects: every field set must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selector {
    /// API group (`""` core); any when `None`.
    pub group: Option<String>,
    /// Kind; any when `None`.
    pub kind: Option<String>,
    /// Namespace; any when `None`.
    pub namespace: Option<String>,
    /// Name; any when `None`.
    pub name: Option<String>,
}

impl Selector {
    fn matches(&self, key: &ObjectKey) -> bool {
        let ok = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
        ok(&self.group, &key.group)
            && ok(&self.kind, &key.kind)
            && ok(&self.namespace, &key.namespace)
            && ok(&self.name, &key.name)
    }
}

/// One object and the actions it offers.
#[derive(Debug, Clone, PartialEq)]
pub struct Offered {
    /// The object.
    pub key: ObjectKey,
    /// Its actions, as discovery says.
    pub actions: Vec<ActionInfo>,
}

/// What running an action did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ran {
    /// The object it ran on.
    pub target: String,
    /// What changed, one line each (`patched Deployment shop/web`,
    /// `created Job shop/report-1765...`).
    pub changes: Vec<String>,
}

/// The live objects of `app` that `selector` picks and the app tracks,
/// sorted. Objects the app lists but that are gone are skipped.
pub async fn live_objects(
    client: &kube::Client,
    tracking: &Tracking,
    app: &Application,
    selector: &Selector,
) -> Result<Vec<Value>, String> {
    let app_name = app.metadata.name.clone().unwrap_or_default();
    let kinds = Kinds::new(client.clone());
    let mut out = Vec::new();
    let listed = app
        .status
        .iter()
        .flat_map(|s| s.resources.iter().flatten())
        .filter(|r| r.requires_pruning != Some(true) && r.hook != Some(true));
    for r in listed {
        let key = status_key(r);
        if !selector.matches(&key) {
            continue;
        }
        let Some(info) = kinds.lookup(&key.api_version, &key.kind).await? else {
            continue;
        };
        let api: kube::Api<kube::api::DynamicObject> = if info.namespaced {
            kube::Api::namespaced_with(client.clone(), &key.namespace, &info.resource)
        } else {
            kube::Api::all_with(client.clone(), &info.resource)
        };
        let found = api
            .get_opt(&key.name)
            .await
            .map_err(|e| format!("could not read {key}: {}", sextant_cluster::words(&e)))?;
        let Some(obj) = found else { continue };
        let mut value = serde_json::to_value(obj).map_err(|e| format!("{key}: {e}"))?;
        if let Some(o) = value.as_object_mut() {
            o.entry("apiVersion")
                .or_insert_with(|| Value::String(key.api_version.clone()));
            o.entry("kind")
                .or_insert_with(|| Value::String(key.kind.clone()));
        }
        if tracking.is_owned_by(&app_name, &value) {
            out.push(value);
        }
    }
    out.sort_by_key(ObjectKey::of);
    Ok(out)
}

/// The actions each object offers (objects without any are left out).
pub async fn offered(
    actions: &ResourceActions,
    objects: Vec<Value>,
) -> Result<Vec<Offered>, String> {
    let actions = actions.clone();
    tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        for obj in &objects {
            let listed = actions.discover(obj).map_err(|e| e.to_string())?;
            if !listed.is_empty() {
                out.push(Offered {
                    key: ObjectKey::of(obj),
                    actions: listed,
                });
            }
        }
        Ok(out)
    })
    .await
    .map_err(|e| format!("the action task stopped: {e}"))?
}

/// Who asks for an action, for the Event: the person (or client) and the
/// component that ran it (`sextant-server`, `sextant-cli`).
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    /// The person or client.
    pub who: &'a str,
    /// The component.
    pub component: &'a str,
}

/// Run `action` on `obj`, an object of `app`, and write what it changed.
pub async fn run(
    client: &kube::Client,
    actions: &ResourceActions,
    app: &Application,
    obj: &Value,
    action: &str,
    caller: Caller<'_>,
) -> Result<Ran, String> {
    let target = ObjectKey::of(obj);
    let impacts = {
        let (actions, obj, action) = (actions.clone(), obj.clone(), action.to_owned());
        tokio::task::spawn_blocking(move || actions.run(&action, &obj))
            .await
            .map_err(|e| format!("the action task stopped: {e}"))?
            .map_err(|e| e.to_string())?
    };
    let kinds = Kinds::new(client.clone());
    let mut changes = Vec::new();
    for impact in impacts {
        let key = ObjectKey::of(&impact.object);
        let info = kinds
            .lookup(&key.api_version, &key.kind)
            .await?
            .ok_or_else(|| {
                format!(
                    "{key}: the cluster does not serve {} {}",
                    key.api_version, key.kind
                )
            })?;
        let api: kube::Api<kube::api::DynamicObject> = if info.namespaced {
            kube::Api::namespaced_with(client.clone(), &key.namespace, &info.resource)
        } else {
            kube::Api::all_with(client.clone(), &info.resource)
        };
        let params = kube::api::PatchParams {
            field_manager: Some(FIELD_MANAGER.to_owned()),
            ..Default::default()
        };
        match impact.operation {
            Operation::Patch => {
                let (spec, status) = patches(obj, &impact.object);
                if let Some(patch) = spec {
                    api.patch(&key.name, &params, &kube::api::Patch::Merge(&patch))
                        .await
                        .map_err(|e| refused(&key, &e))?;
                }
                if let Some(patch) = status {
                    api.patch_status(&key.name, &params, &kube::api::Patch::Merge(&patch))
                        .await
                        .map_err(|e| refused(&key, &e))?;
                }
                changes.push(format!("patched {key}"));
            }
            Operation::Create => {
                let object: kube::api::DynamicObject = serde_json::from_value(impact.object)
                    .map_err(|e| {
                        format!("{key}: the action made an object that is not one: {e}")
                    })?;
                let post = kube::api::PostParams {
                    field_manager: Some(FIELD_MANAGER.to_owned()),
                    ..Default::default()
                };
                api.create(&post, &object)
                    .await
                    .map_err(|e| refused(&key, &e))?;
                changes.push(format!("created {key}"));
            }
        }
    }
    let ran = Ran {
        target: target.to_string(),
        changes,
    };
    crate::events::record_from(
        client,
        app,
        crate::events::Reason::ResourceActionRan,
        &format!(
            "{} ran action {action} on {}: {}",
            caller.who,
            ran.target,
            if ran.changes.is_empty() {
                "nothing changed".to_owned()
            } else {
                ran.changes.join(", ")
            }
        ),
        caller.component,
    )
    .await;
    Ok(ran)
}

/// The field manager of what actions write.
const FIELD_MANAGER: &str = "sextant-action";

/// The object a `status.resources` entry names.
pub fn status_key(r: &sextant_model::application::ResourceStatus) -> ObjectKey {
    ObjectKey {
        api_version: if r.group.is_empty() {
            r.version.clone()
        } else {
            format!("{}/{}", r.group, r.version)
        },
        group: r.group.clone(),
        kind: r.kind.clone(),
        namespace: r.namespace.clone().unwrap_or_default(),
        name: r.name.clone(),
    }
}

fn refused(key: &ObjectKey, e: &kube::Error) -> String {
    let conflict = matches!(e, kube::Error::Api(s) if s.code == 409);
    let hint = if conflict {
        " (it changed meanwhile; run the action again)"
    } else {
        ""
    };
    format!("could not write {key}: {}{hint}", sextant_cluster::words(e))
}

/// The merge patches that turn `live` into `changed`: everything but the
/// status (with the live resourceVersion, so a change made meanwhile is a
/// conflict), and the status alone. `None` where nothing changed.
fn patches(live: &Value, changed: &Value) -> (Option<Value>, Option<Value>) {
    let without_status = |v: &Value| {
        let mut v = v.clone();
        if let Some(o) = v.as_object_mut() {
            o.remove("status");
        }
        v
    };
    let spec = merge_diff(&without_status(live), &without_status(changed)).map(|mut patch| {
        if let (Some(p), Some(version)) = (
            patch.as_object_mut(),
            live.pointer("/metadata/resourceVersion"),
        ) {
            let meta = p
                .entry("metadata")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Some(m) = meta.as_object_mut() {
                m.insert("resourceVersion".into(), version.clone());
            }
        }
        patch
    });
    let status = match (live.get("status"), changed.get("status")) {
        (a, b) if a == b => None,
        (Some(a), Some(b)) => merge_diff(a, b).map(|d| serde_json::json!({"status": d})),
        (_, b) => Some(serde_json::json!({"status": b.cloned().unwrap_or(Value::Null)})),
    };
    (spec, status)
}

/// An RFC 7386 merge patch from `old` to `new`, or `None` when they are
/// equal: changed fields of objects recursively, removed fields as null,
/// anything else whole.
fn merge_diff(old: &Value, new: &Value) -> Option<Value> {
    match (old, new) {
        (Value::Object(o), Value::Object(n)) => {
            let mut patch = Map::new();
            for (k, nv) in n {
                match o.get(k) {
                    Some(ov) => {
                        if let Some(d) = merge_diff(ov, nv) {
                            patch.insert(k.clone(), d);
                        }
                    }
                    None => {
                        patch.insert(k.clone(), nv.clone());
                    }
                }
            }
            for k in o.keys().filter(|k| !n.contains_key(*k)) {
                patch.insert(k.clone(), Value::Null);
            }
            (!patch.is_empty()).then_some(Value::Object(patch))
        }
        _ if old == new => None,
        _ => Some(new.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_patch_carries_only_what_changed_and_the_live_resource_version() {
        let live = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "resourceVersion": "7", "labels": {"a": "1", "b": "2"}},
            "spec": {"paused": true, "replicas": 2},
            "status": {"replicas": 2}});
        let mut changed = live.clone();
        changed["spec"].as_object_mut().unwrap().remove("paused");
        changed["metadata"]["labels"]["a"] = json!("9");
        let (spec, status) = patches(&live, &changed);
        assert_eq!(
            spec,
            Some(json!({"spec": {"paused": null},
                "metadata": {"labels": {"a": "9"}, "resourceVersion": "7"}}))
        );
        assert_eq!(status, None);
        changed["status"]["abort"] = json!(true);
        assert_eq!(
            patches(&live, &changed).1,
            Some(json!({"status": {"abort": true}}))
        );
        assert_eq!(patches(&live, &live), (None, None));
    }

    #[test]
    fn a_selector_matches_on_the_fields_it_sets() {
        let key = ObjectKey::of(&json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop"}}));
        assert!(Selector::default().matches(&key));
        let by = |kind: &str, name: Option<&str>| Selector {
            kind: Some(kind.into()),
            name: name.map(str::to_owned),
            ..Selector::default()
        };
        assert!(by("Deployment", Some("web")).matches(&key));
        assert!(!by("Deployment", Some("api")).matches(&key));
        assert!(!by("StatefulSet", None).matches(&key));
    }
}
