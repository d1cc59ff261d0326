//! The objects the apps manage and what those own, watched, for resource
//! trees: Deployment -> ReplicaSet -> Pod, Job -> Pod, Service ->
//! EndpointSlice, and any other ownerReference chain among watched kinds.
//!
//! Watched kinds: every kind an app's `status.resources` names (added as
//! apps report them) plus the kinds objects are usually owned through
//! (ReplicaSet, Pod, Job, EndpointSlice), across all namespaces. An object
//! carrying a tracking id is kept whole (its live state is served); every
//! other object of those kinds is kept only as a small node (identity,
//! owners, health, a few lines of info), so a large cluster costs a few
//! hundred bytes per object, not its full JSON.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};

use kube::api::DynamicObject;
use serde::Serialize;
use serde_json::Value;
use sextant_cluster::{Kinds, Tracking};
use sextant_engine::health::{HealthCustomizations, assess};
use tokio::sync::broadcast;

use super::{Change, Readiness};

/// Kinds watched from the start: what managed objects own.
pub const CHILD_KINDS: &[(&str, &str)] = &[
    ("apps/v1", "ReplicaSet"),
    ("v1", "Pod"),
    ("batch/v1", "Job"),
    ("discovery.k8s.io/v1", "EndpointSlice"),
];

/// Identity of an object.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
pub struct NodeKey {
    /// API group (`""` for core).
    pub group: String,
    /// Kind.
    pub kind: String,
    /// Namespace (`""` when cluster-scoped).
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl NodeKey {
    /// The key of an object (JSON with apiVersion, kind, metadata).
    pub fn of(obj: &Value) -> Self {
        let k = sextant_engine::diff::ObjectKey::of(obj);
        NodeKey {
            group: k.group,
            kind: k.kind,
            namespace: k.namespace,
            name: k.name,
        }
    }

    /// The key of a node of a tree.
    pub fn of_node(n: &TreeNode) -> Self {
        NodeKey {
            group: n.group.clone(),
            kind: n.kind.clone(),
            namespace: n.namespace.clone(),
            name: n.name.clone(),
        }
    }
}

/// One object as the tree cache keeps it.
#[derive(Debug, Clone)]
pub struct Node {
    /// Identity.
    pub key: NodeKey,
    /// apiVersion's version.
    pub version: String,
    /// Its uid.
    pub uid: String,
    /// uids of its owners.
    pub owners: Vec<String>,
    /// The app its tracking id names.
    pub app: Option<String>,
    /// Health as the engine assesses it.
    pub health: String,
    /// Why, for a person.
    pub health_message: String,
    /// A short line: Pod phase and restarts, images.
    pub info: Vec<(String, String)>,
    /// When created.
    pub created: Option<String>,
    /// resourceVersion.
    pub resource_version: String,
    /// The whole object, for tracked ones.
    pub object: Option<Arc<Value>>,
}

#[derive(Default)]
struct Inner {
    nodes: HashMap<NodeKey, Node>,
    by_uid: HashMap<String, NodeKey>,
    children: HashMap<String, HashSet<NodeKey>>,
    by_app: HashMap<String, HashSet<NodeKey>>,
}

impl Inner {
    fn remove(&mut self, key: &NodeKey) -> Option<Node> {
        let old = self.nodes.remove(key)?;
        self.by_uid.remove(&old.uid);
        for owner in &old.owners {
            if let Some(set) = self.children.get_mut(owner) {
                set.remove(key);
                if set.is_empty() {
                    self.children.remove(owner);
                }
            }
        }
        if let Some(app) = &old.app
            && let Some(set) = self.by_app.get_mut(app)
        {
            set.remove(key);
        }
        Some(old)
    }

    fn insert(&mut self, node: Node) {
        self.remove(&node.key);
        self.by_uid.insert(node.uid.clone(), node.key.clone());
        for owner in &node.owners {
            self.children
                .entry(owner.clone())
                .or_default()
                .insert(node.key.clone());
        }
        if let Some(app) = &node.app {
            self.by_app
                .entry(app.clone())
                .or_default()
                .insert(node.key.clone());
        }
        self.nodes.insert(node.key.clone(), node);
    }

    /// The apps whose tree holds `key` (walking owners up to a tracked
    /// root).
    fn apps_of(&self, key: &NodeKey) -> HashSet<String> {
        let mut out = HashSet::new();
        let mut todo = vec![key.clone()];
        let mut seen = HashSet::new();
        while let Some(k) = todo.pop() {
            if !seen.insert(k.clone()) {
                continue;
            }
            let Some(n) = self.nodes.get(&k) else {
                continue;
            };
            if let Some(app) = &n.app {
                out.insert(app.clone());
            }
            for owner in &n.owners {
                if let Some(ok) = self.by_uid.get(owner) {
                    todo.push(ok.clone());
                }
            }
        }
        out
    }
}

fn node_of(
    obj: &DynamicObject,
    health: &HealthCustomizations,
    tracking: &Tracking,
) -> Option<Node> {
    let value = serde_json::to_value(obj).ok()?;
    let api_version = value.get("apiVersion").and_then(Value::as_str)?.to_owned();
    let kind = value.get("kind").and_then(Value::as_str)?.to_owned();
    let (group, version) = match api_version.rsplit_once('/') {
        Some((g, v)) => (g.to_owned(), v.to_owned()),
        None => (String::new(), api_version.clone()),
    };
    let meta = &obj.metadata;
    // An object is an app's only when its tracking id is the one the app
    // gives that very object: kube-controller-manager copies a
    // Deployment's annotations to its ReplicaSets, whose (copied) id then
    // names the Deployment.
    let app = tracking.owner_of(&value);
    let h = assess(&value, health);
    let mut info = Vec::new();
    if kind == "Pod" && group.is_empty() {
        if let Some(phase) = value.pointer("/status/phase").and_then(Value::as_str) {
            info.push(("Status".to_owned(), phase.to_owned()));
        }
        let restarts: i64 = value
            .pointer("/status/containerStatuses")
            .and_then(Value::as_array)
            .map(|cs| {
                cs.iter()
                    .filter_map(|c| c.get("restartCount").and_then(Value::as_i64))
                    .sum()
            })
            .unwrap_or(0);
        info.push(("Restarts".to_owned(), restarts.to_string()));
    }
    if let Some(containers) = value
        .pointer("/spec/template/spec/containers")
        .or_else(|| value.pointer("/spec/containers"))
        .and_then(Value::as_array)
    {
        for c in containers {
            if let Some(image) = c.get("image").and_then(Value::as_str) {
                info.push(("Image".to_owned(), image.to_owned()));
            }
        }
    }
    let tracked = app.is_some();
    Some(Node {
        key: NodeKey {
            group,
            kind,
            namespace: meta.namespace.clone().unwrap_or_default(),
            name: meta.name.clone().unwrap_or_default(),
        },
        version,
        uid: meta.uid.clone().unwrap_or_default(),
        owners: meta
            .owner_references
            .as_ref()
            .map(|o| o.iter().map(|r| r.uid.clone()).collect())
            .unwrap_or_default(),
        app,
        health: h.status.as_str().to_owned(),
        health_message: h.message,
        info,
        created: meta.creation_timestamp.as_ref().map(|t| t.0.to_string()),
        resource_version: meta.resource_version.clone().unwrap_or_default(),
        object: tracked.then(|| Arc::new(value)),
    })
}

/// The watched objects.
pub struct TreeCache {
    kinds: Arc<Kinds>,
    health: HealthCustomizations,
    tracking: Arc<Tracking>,
    inner: Arc<RwLock<Inner>>,
    watched: Mutex<HashMap<(String, String), Readiness>>,
    /// Names of apps whose tree changed.
    tx: broadcast::Sender<Arc<str>>,
}

impl std::fmt::Debug for TreeCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TreeCache").finish_non_exhaustive()
    }
}

/// One node of an app's tree, as served.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TreeNode {
    /// API group.
    pub group: String,
    /// Version.
    pub version: String,
    /// Kind.
    pub kind: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// uid.
    pub uid: String,
    /// Owners, as `parentRefs` (their identity).
    pub parent_refs: Vec<NodeKey>,
    /// Health.
    pub health: TreeHealth,
    /// Label/value pairs for a person (status, images, restarts).
    pub info: Vec<TreeInfo>,
    /// When created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// resourceVersion.
    pub resource_version: String,
    /// Whether the app tracks it (a root of the tree).
    pub tracked: bool,
}

/// Health of a node.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TreeHealth {
    /// Healthy, Progressing, ...
    pub status: String,
    /// Why.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
}

/// One label/value line.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TreeInfo {
    /// Label.
    pub name: String,
    /// Value.
    pub value: String,
}

impl TreeCache {
    /// A cache using discovery `kinds`, Lua `health` checks and
    /// `tracking` to tell which app an object is.
    pub fn new(kinds: Arc<Kinds>, health: HealthCustomizations, tracking: Arc<Tracking>) -> Self {
        let (tx, _) = broadcast::channel(4096);
        TreeCache {
            kinds,
            health,
            tracking,
            inner: Arc::default(),
            watched: Mutex::default(),
            tx,
        }
    }

    /// Changes: names of apps whose tree changed.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<str>> {
        self.tx.subscribe()
    }

    /// Watch `kind` of `api_version` (all namespaces) unless already
    /// watched; false when it is not served.
    pub async fn ensure(&self, api_version: &str, kind: &str) -> bool {
        let group = api_version
            .rsplit_once('/')
            .map_or("", |(g, _)| g)
            .to_owned();
        let gk = (group, kind.to_owned());
        if self
            .watched
            .lock()
            .map(|w| w.contains_key(&gk))
            .unwrap_or(true)
        {
            return true;
        }
        let info = match self.kinds.lookup(api_version, kind).await {
            Ok(Some(info)) => info,
            Ok(None) => return false,
            Err(e) => {
                tracing::warn!(kind = %kind, error = %e, "cannot watch kind for resource trees");
                return false;
            }
        };
        let Ok(mut watched) = self.watched.lock() else {
            return false;
        };
        if watched.contains_key(&gk) {
            return true;
        }
        let api: kube::Api<DynamicObject> =
            kube::Api::all_with(self.kinds.client().clone(), &info.resource);
        let inner = self.inner.clone();
        let health = self.health.clone();
        let tracking = self.tracking.clone();
        let tx = self.tx.clone();
        let gk2 = gk.clone();
        let (_task, ready) = super::spawn(
            api,
            kube::runtime::watcher::Config::default(),
            format!("{} objects", gk.1),
            move |change| {
                let mut touched = HashSet::new();
                let Ok(mut inner) = inner.write() else { return };
                let put =
                    |inner: &mut Inner, obj: &DynamicObject, touched: &mut HashSet<String>| {
                        if let Some(node) = node_of(obj, &health, &tracking) {
                            let key = node.key.clone();
                            touched.extend(inner.apps_of(&key));
                            inner.insert(node);
                            touched.extend(inner.apps_of(&key));
                        }
                    };
                match change {
                    Change::Reset(objs) => {
                        let fresh: HashSet<(String, String)> = objs
                            .iter()
                            .map(|o| {
                                (
                                    o.metadata.namespace.clone().unwrap_or_default(),
                                    o.metadata.name.clone().unwrap_or_default(),
                                )
                            })
                            .collect();
                        let stale: Vec<NodeKey> = inner
                            .nodes
                            .keys()
                            .filter(|k| {
                                k.group == gk2.0
                                    && k.kind == gk2.1
                                    && !fresh.contains(&(k.namespace.clone(), k.name.clone()))
                            })
                            .cloned()
                            .collect();
                        for k in stale {
                            touched.extend(inner.apps_of(&k));
                            inner.remove(&k);
                        }
                        for o in &objs {
                            put(&mut inner, o, &mut touched);
                        }
                    }
                    Change::Apply(o) => put(&mut inner, &o, &mut touched),
                    Change::Delete(o) => {
                        if let Some(node) = node_of(&o, &health, &tracking) {
                            touched.extend(inner.apps_of(&node.key));
                            inner.remove(&node.key);
                        }
                    }
                }
                drop(inner);
                for app in touched {
                    let _ = tx.send(Arc::from(app.as_str()));
                }
            },
        );
        watched.insert(gk, ready);
        true
    }

    /// Wait until every kind watched so far has listed once.
    pub async fn settled(&self) {
        let all: Vec<Readiness> = self
            .watched
            .lock()
            .map(|w| w.values().cloned().collect())
            .unwrap_or_default();
        for r in all {
            let _ =
                tokio::time::timeout(std::time::Duration::from_secs(10), super::listed(r)).await;
        }
    }

    /// How objects are known as an app's.
    pub fn tracking(&self) -> &Tracking {
        &self.tracking
    }

    /// The live object `key`, when it is tracked.
    pub fn live(&self, key: &NodeKey) -> Option<Arc<Value>> {
        self.inner
            .read()
            .ok()?
            .nodes
            .get(key)
            .and_then(|n| n.object.clone())
    }

    /// The tree of `app`: its tracked objects and everything they own,
    /// transitively, sorted by identity.
    pub fn tree(&self, app: &str) -> Vec<TreeNode> {
        let Ok(inner) = self.inner.read() else {
            return Vec::new();
        };
        let mut out: BTreeMap<NodeKey, TreeNode> = BTreeMap::new();
        let mut todo: Vec<NodeKey> = inner
            .by_app
            .get(app)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default();
        while let Some(key) = todo.pop() {
            if out.contains_key(&key) {
                continue;
            }
            let Some(n) = inner.nodes.get(&key) else {
                continue;
            };
            if let Some(kids) = inner.children.get(&n.uid) {
                todo.extend(kids.iter().cloned());
            }
            let parent_refs = n
                .owners
                .iter()
                .filter_map(|u| inner.by_uid.get(u).cloned())
                .collect();
            out.insert(
                key.clone(),
                TreeNode {
                    group: n.key.group.clone(),
                    version: n.version.clone(),
                    kind: n.key.kind.clone(),
                    namespace: n.key.namespace.clone(),
                    name: n.key.name.clone(),
                    uid: n.uid.clone(),
                    parent_refs,
                    health: TreeHealth {
                        status: n.health.clone(),
                        message: n.health_message.clone(),
                    },
                    info: n
                        .info
                        .iter()
                        .map(|(name, value)| TreeInfo {
                            name: name.clone(),
                            value: value.clone(),
                        })
                        .collect(),
                    created_at: n.created.clone(),
                    resource_version: n.resource_version.clone(),
                    tracked: n.app.as_deref() == Some(app),
                },
            );
        }
        out.into_values().collect()
    }

    /// How many objects are kept (whole ones, all).
    pub fn size(&self) -> (usize, usize) {
        self.inner
            .read()
            .map(|i| {
                (
                    i.nodes.values().filter(|n| n.object.is_some()).count(),
                    i.nodes.len(),
                )
            })
            .unwrap_or_default()
    }
}
