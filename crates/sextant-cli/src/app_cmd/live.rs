//! The app's objects as they are in the cluster, read once: the objects
//! `status.resources` names and everything they own through
//! ownerReferences among the kinds workloads own (ReplicaSet, Pod, Job,
//! EndpointSlice), for `app get -o tree`, `app resources --tree` and
//! `app manifests --source live`. One list per kind and namespace, not
//! one request per object.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use kube::Api;
use kube::api::{DynamicObject, ListParams};
use serde_json::Value;
use sextant_controller::actions::status_key;
use sextant_engine::diff::ObjectKey;
use sextant_engine::health::{HealthCustomizations, assess};
use sextant_model::Application;
use sextant_model::application::ResourceStatus;

use super::client::{Apps, words};

/// Kinds the app's objects usually own, looked for in the app's
/// namespaces.
const CHILD_KINDS: &[(&str, &str, &str)] = &[
    ("apps", "v1", "ReplicaSet"),
    ("", "v1", "Pod"),
    ("batch", "v1", "Job"),
    ("discovery.k8s.io", "v1", "EndpointSlice"),
];

/// One object of the tree.
pub struct LiveNode {
    /// Its identity.
    pub key: ObjectKey,
    /// How deep it is: 0 for the app's own objects.
    pub depth: usize,
    /// Whether it is the last child of its parent (for drawing).
    pub last: Vec<bool>,
    /// Sync status (the app's own objects only).
    pub status: String,
    /// Health status and message.
    pub health: (String, String),
    /// The live object; `None` when the app's object is missing.
    pub object: Option<Value>,
}

/// What was read, and what could not be.
pub struct LiveTree {
    /// Depth-first, each object before what it owns, siblings sorted.
    pub nodes: Vec<LiveNode>,
    /// Kinds or namespaces that could not be listed, in words.
    pub errors: Vec<String>,
}

/// Read the app's objects and what they own.
pub async fn read(apps: &Apps, app: &Application) -> LiveTree {
    let managed: Vec<ResourceStatus> = app
        .status
        .as_ref()
        .and_then(|s| s.resources.clone())
        .unwrap_or_default();
    let namespaces: BTreeSet<String> = managed
        .iter()
        .filter_map(|r| r.namespace.clone().filter(|n| !n.is_empty()))
        .collect();
    let mut kinds: BTreeMap<(String, String), String> = managed
        .iter()
        .map(|r| ((r.group.clone(), r.kind.clone()), r.version.clone()))
        .collect();
    for (group, version, kind) in CHILD_KINDS {
        kinds
            .entry(((*group).to_owned(), (*kind).to_owned()))
            .or_insert_with(|| (*version).to_owned());
    }
    let mut objects: Vec<Value> = Vec::new();
    let mut errors = Vec::new();
    for ((group, kind), version) in &kinds {
        let resource = match super::diff::resolve(&apps.client, group, version, kind).await {
            Ok(Some(r)) => r,
            Ok(None) => continue,
            Err(e) => {
                errors.push(format!("{kind}: {e}"));
                continue;
            }
        };
        let cluster_scoped = managed
            .iter()
            .any(|r| &r.kind == kind && &r.group == group && r.namespace.is_none());
        let apis: Vec<Api<DynamicObject>> = if cluster_scoped {
            vec![Api::all_with(apps.client.clone(), &resource)]
        } else {
            namespaces
                .iter()
                .map(|ns| Api::namespaced_with(apps.client.clone(), ns, &resource))
                .collect()
        };
        for api in apis {
            match api.list(&ListParams::default()).await {
                Ok(list) => objects.extend(list.items.into_iter().filter_map(|o| {
                    let mut v = serde_json::to_value(o).ok()?;
                    v["apiVersion"] = Value::String(resource.api_version.clone());
                    v["kind"] = Value::String(resource.kind.clone());
                    Some(v)
                })),
                Err(e) => errors.push(format!("could not list {kind}: {}", words(&e))),
            }
        }
    }
    LiveTree {
        nodes: arrange(&managed, objects),
        errors,
    }
}

fn same(a: &ObjectKey, b: &ObjectKey) -> bool {
    a.group == b.group && a.kind == b.kind && a.namespace == b.namespace && a.name == b.name
}

/// The app's objects (live or missing) as roots, then what each owns,
/// depth first.
fn arrange(managed: &[ResourceStatus], objects: Vec<Value>) -> Vec<LiveNode> {
    let uid = |o: &Value| {
        o.pointer("/metadata/uid")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let mut children: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, o) in objects.iter().enumerate() {
        for owner in o
            .pointer("/metadata/ownerReferences")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(u) = owner.get("uid").and_then(Value::as_str) {
                children.entry(u.to_owned()).or_default().push(i);
            }
        }
    }
    for kids in children.values_mut() {
        kids.sort_by_key(|i| ObjectKey::of(&objects[*i]));
    }
    let custom = HealthCustomizations::default();
    let mut roots: Vec<&ResourceStatus> = managed.iter().collect();
    roots.sort_by_key(|r| status_key(r));
    let mut out = Vec::new();
    let count = roots.len();
    for (n, r) in roots.into_iter().enumerate() {
        let key = status_key(r);
        let live = objects.iter().position(|o| same(&ObjectKey::of(o), &key));
        let health = r
            .health
            .as_ref()
            .map(|h| (h.status.clone(), h.message.clone().unwrap_or_default()))
            .unwrap_or_default();
        let last = vec![n + 1 == count];
        out.push(LiveNode {
            key,
            depth: 0,
            last: last.clone(),
            status: r.status.clone().unwrap_or_default(),
            health,
            object: live.map(|i| objects[i].clone()),
        });
        if let Some(i) = live {
            let mut seen = BTreeSet::from([i]);
            descend(
                &objects,
                &children,
                &uid(&objects[i]),
                &last,
                &custom,
                &mut seen,
                &mut out,
            );
        }
    }
    out
}

fn descend(
    objects: &[Value],
    children: &HashMap<String, Vec<usize>>,
    parent_uid: &str,
    last: &[bool],
    custom: &HealthCustomizations,
    seen: &mut BTreeSet<usize>,
    out: &mut Vec<LiveNode>,
) {
    let Some(kids) = children.get(parent_uid) else {
        return;
    };
    let kids: Vec<usize> = kids.iter().copied().filter(|k| !seen.contains(k)).collect();
    let count = kids.len();
    for (n, i) in kids.into_iter().enumerate() {
        // An ownerReference cycle is a cluster bug; draw each object once.
        if !seen.insert(i) {
            continue;
        }
        let o = &objects[i];
        let h = assess(o, custom);
        let mut mine = last.to_vec();
        mine.push(n + 1 == count);
        out.push(LiveNode {
            key: ObjectKey::of(o),
            depth: last.len(),
            last: mine.clone(),
            status: String::new(),
            health: (h.status.as_str().to_owned(), h.message),
            object: Some(o.clone()),
        });
        let uid = o
            .pointer("/metadata/uid")
            .and_then(Value::as_str)
            .unwrap_or_default();
        descend(objects, children, uid, &mine, custom, seen, out);
    }
}

/// `├─ `, `│  └─ `, ...: the drawing in front of a node's name.
pub fn branch(node: &LiveNode) -> String {
    let mut s = String::new();
    if node.depth == 0 {
        return s;
    }
    for &ended in &node.last[1..node.last.len() - 1] {
        s.push_str(if ended { "   " } else { "│  " });
    }
    s.push_str(if node.last.last() == Some(&true) {
        "└─ "
    } else {
        "├─ "
    });
    s
}

/// `Kind/name`, with the group for non-core kinds (`apps/Deployment/web`
/// reads ambiguously, so `Deployment.apps/web`).
pub fn label(key: &ObjectKey) -> String {
    if key.group.is_empty() {
        format!("{}/{}", key.kind, key.name)
    } else {
        format!("{}.{}/{}", key.kind, key.group, key.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(kind: &str, name: &str, uid: &str, owner: Option<&str>) -> Value {
        let api = match kind {
            "Deployment" | "ReplicaSet" => "apps/v1",
            _ => "v1",
        };
        let mut o = json!({"apiVersion": api, "kind": kind,
            "metadata": {"name": name, "namespace": "shop", "uid": uid}});
        if let Some(owner) = owner {
            o["metadata"]["ownerReferences"] =
                json!([{"uid": owner, "kind": "x", "name": "x", "apiVersion": "v1"}]);
        }
        o
    }

    #[test]
    fn owned_objects_hang_under_their_owner_depth_first_and_sorted() {
        let managed: Vec<ResourceStatus> = serde_json::from_value(json!([
            {"group": "apps", "version": "v1", "kind": "Deployment", "namespace": "shop", "name": "web", "status": "Synced"},
            {"group": "", "version": "v1", "kind": "Service", "namespace": "shop", "name": "gone", "status": "OutOfSync", "health": {"status": "Missing"}},
        ]))
        .unwrap();
        let objects = vec![
            obj("Pod", "web-1-b", "p2", Some("rs1")),
            obj("Deployment", "web", "d1", None),
            obj("Pod", "web-1-a", "p1", Some("rs1")),
            obj("ReplicaSet", "web-1", "rs1", Some("d1")),
            obj("Pod", "stray", "p9", None),
        ];
        let nodes = arrange(&managed, objects);
        let drawn: Vec<String> = nodes
            .iter()
            .map(|n| format!("{}{}", branch(n), label(&n.key)))
            .collect();
        assert_eq!(
            drawn,
            [
                "Service/gone",
                "Deployment.apps/web",
                "└─ ReplicaSet.apps/web-1",
                "   ├─ Pod/web-1-a",
                "   └─ Pod/web-1-b",
            ],
            "roots in the order of their identity (core group first)"
        );
        assert!(
            nodes[0].object.is_none(),
            "a missing object is still listed"
        );
        assert_eq!(nodes[0].health.0, "Missing");
    }
}
