//! The object store: every object by storage key and `namespace/name`, a
//! global resourceVersion counter, and the bounded event log that watches
//! replay from.
//!
//! Architecture Invariant: every mutation happens under the write lock and
//! publishes its watch event before the lock is released, so events reach
//! watchers in resourceVersion order and none is lost between a list and a
//! watch started from the list's resourceVersion.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use serde_json::Value;
use tokio::sync::broadcast;

/// Kind of a watch event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// Object created.
    Added,
    /// Object changed.
    Modified,
    /// Object removed.
    Deleted,
}

impl EventType {
    /// The wire name (`ADDED`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One change, as kept in the log and sent to watchers.
#[derive(Debug)]
pub struct StoreEvent {
    /// resourceVersion of the change.
    pub rv: u64,
    /// Storage key (`group/plural`).
    pub key: String,
    /// Namespace ("" for cluster-scoped).
    pub namespace: String,
    /// What happened.
    pub kind: EventType,
    /// The object after the change (for deletes, the last state).
    pub object: Arc<Value>,
    /// The object before the change, for selector transitions.
    pub previous: Option<Arc<Value>>,
}

/// `namespace/name` key within a table.
pub fn object_key(namespace: &str, name: &str) -> String {
    format!("{namespace}/{name}")
}

/// Mutable state behind the lock.
#[derive(Debug)]
pub struct Inner {
    rv: u64,
    tables: HashMap<String, BTreeMap<String, Arc<Value>>>,
    /// owner uid -> (storage key, object key) of dependents.
    dependents: HashMap<String, BTreeSet<(String, String)>>,
    log: VecDeque<Arc<StoreEvent>>,
    log_capacity: usize,
    /// Highest resourceVersion no longer in the log.
    compacted_rv: u64,
    tx: broadcast::Sender<Arc<StoreEvent>>,
}

/// The shared store.
#[derive(Debug)]
pub struct Store {
    inner: RwLock<Inner>,
}

fn owner_uids(obj: &Value) -> Vec<String> {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .map(|refs| {
            refs.iter()
                .filter_map(|r| r.get("uid").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

impl Store {
    /// An empty store whose event log keeps `log_capacity` events.
    pub fn new(log_capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(16 * 1024);
        Store {
            inner: RwLock::new(Inner {
                rv: 1,
                tables: HashMap::new(),
                dependents: HashMap::new(),
                log: VecDeque::new(),
                log_capacity: log_capacity.max(16),
                compacted_rv: 0,
                tx,
            }),
        }
    }

    /// Shared access.
    pub fn read(&self) -> RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Exclusive access.
    pub fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }
}

impl Inner {
    /// The latest resourceVersion handed out.
    pub fn current_rv(&self) -> u64 {
        self.rv
    }

    /// Highest resourceVersion that is no longer replayable.
    pub fn compacted_rv(&self) -> u64 {
        self.compacted_rv
    }

    /// One object.
    pub fn get(&self, key: &str, namespace: &str, name: &str) -> Option<Arc<Value>> {
        self.tables
            .get(key)?
            .get(&object_key(namespace, name))
            .cloned()
    }

    /// Objects of a table in key order, optionally within one namespace,
    /// starting strictly after `after`.
    pub fn range<'a>(
        &'a self,
        key: &str,
        namespace: Option<&'a str>,
        after: Option<&'a str>,
    ) -> impl Iterator<Item = (&'a String, &'a Arc<Value>)> + 'a {
        let table = self.tables.get(key);
        let prefix = namespace.map(|ns| format!("{ns}/"));
        table
            .into_iter()
            .flat_map(move |t| {
                let start = match (after, &prefix) {
                    (Some(a), _) => std::ops::Bound::Excluded(a.to_string()),
                    (None, Some(p)) => std::ops::Bound::Included(p.clone()),
                    (None, None) => std::ops::Bound::Unbounded,
                };
                t.range((start, std::ops::Bound::Unbounded))
            })
            .take_while(move |(k, _)| match &namespace {
                Some(ns) => k.starts_with(&format!("{ns}/")),
                None => true,
            })
    }

    /// Number of objects in a table (optionally in one namespace).
    pub fn count(&self, key: &str, namespace: Option<&str>) -> usize {
        match namespace {
            None => self.tables.get(key).map_or(0, BTreeMap::len),
            Some(ns) => self.range(key, Some(ns), None).count(),
        }
    }

    /// Storage keys that hold at least one object in `namespace`.
    pub fn keys_with_objects_in(&self, namespace: &str) -> Vec<(String, Vec<String>)> {
        let prefix = format!("{namespace}/");
        self.tables
            .iter()
            .filter_map(|(key, t)| {
                let names: Vec<String> = t
                    .range(prefix.clone()..)
                    .take_while(|(k, _)| k.starts_with(&prefix))
                    .map(|(k, _)| k[prefix.len()..].to_string())
                    .collect();
                (!names.is_empty()).then(|| (key.clone(), names))
            })
            .collect()
    }

    /// Dependents (by ownerReference uid) of an object.
    pub fn dependents_of(&self, uid: &str) -> Vec<(String, String)> {
        self.dependents
            .get(uid)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Take the next resourceVersion.
    pub fn next_rv(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }

    /// Store `obj` (whose metadata.resourceVersion the caller has set to
    /// `rv` from [`Inner::next_rv`]) and publish the event.
    pub fn put(
        &mut self,
        key: &str,
        namespace: &str,
        name: &str,
        rv: u64,
        obj: Value,
    ) -> Arc<Value> {
        let okey = object_key(namespace, name);
        let obj = Arc::new(obj);
        let table = self.tables.entry(key.to_string()).or_default();
        let previous = table.insert(okey.clone(), obj.clone());
        if let Some(prev) = &previous {
            for uid in owner_uids(prev) {
                if let Some(set) = self.dependents.get_mut(&uid) {
                    set.remove(&(key.to_string(), okey.clone()));
                }
            }
        }
        for uid in owner_uids(&obj) {
            self.dependents
                .entry(uid)
                .or_default()
                .insert((key.to_string(), okey.clone()));
        }
        let kind = if previous.is_some() {
            EventType::Modified
        } else {
            EventType::Added
        };
        self.publish(StoreEvent {
            rv,
            key: key.to_string(),
            namespace: namespace.to_string(),
            kind,
            object: obj.clone(),
            previous,
        });
        obj
    }

    /// Remove an object; the DELETED event carries a fresh resourceVersion.
    pub fn remove(&mut self, key: &str, namespace: &str, name: &str) -> Option<Arc<Value>> {
        let okey = object_key(namespace, name);
        let removed = self.tables.get_mut(key)?.remove(&okey)?;
        for uid in owner_uids(&removed) {
            if let Some(set) = self.dependents.get_mut(&uid) {
                set.remove(&(key.to_string(), okey.clone()));
                if set.is_empty() {
                    self.dependents.remove(&uid);
                }
            }
        }
        let rv = self.next_rv();
        let mut last = (*removed).clone();
        if let Some(meta) = last.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("resourceVersion".into(), Value::String(rv.to_string()));
        }
        let last = Arc::new(last);
        self.publish(StoreEvent {
            rv,
            key: key.to_string(),
            namespace: namespace.to_string(),
            kind: EventType::Deleted,
            object: last.clone(),
            previous: Some(removed),
        });
        Some(last)
    }

    /// Drop a whole table (used when a CRD goes away), publishing deletions.
    pub fn drop_table(&mut self, key: &str) -> usize {
        let names: Vec<String> = self
            .tables
            .get(key)
            .map(|t| t.keys().cloned().collect())
            .unwrap_or_default();
        let n = names.len();
        for okey in names {
            if let Some((ns, name)) = okey.split_once('/') {
                let (ns, name) = (ns.to_string(), name.to_string());
                self.remove(key, &ns, &name);
            }
        }
        self.tables.remove(key);
        n
    }

    fn publish(&mut self, event: StoreEvent) {
        let event = Arc::new(event);
        self.log.push_back(event.clone());
        while self.log.len() > self.log_capacity {
            if let Some(old) = self.log.pop_front() {
                self.compacted_rv = old.rv;
            }
        }
        // No receivers is fine: nobody is watching.
        let _ = self.tx.send(event);
    }

    /// Forget the whole event log, as after an etcd compaction: watches
    /// from any older resourceVersion get 410 Gone.
    pub fn compact(&mut self) {
        self.compacted_rv = self.rv;
        self.log.clear();
    }

    /// Events after `rv` still in the log, or `None` if `rv` was compacted.
    pub fn events_since(&self, rv: u64) -> Option<Vec<Arc<StoreEvent>>> {
        if rv < self.compacted_rv {
            return None;
        }
        let start = self.log.partition_point(|e| e.rv <= rv);
        Some(self.log.range(start..).cloned().collect())
    }

    /// A receiver for events published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<StoreEvent>> {
        self.tx.subscribe()
    }

    /// Put back an object read from disk: no event, no new resourceVersion.
    pub fn restore(&mut self, key: &str, obj: Value) {
        let ns = obj
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let name = obj
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let okey = object_key(&ns, &name);
        for uid in owner_uids(&obj) {
            self.dependents
                .entry(uid)
                .or_default()
                .insert((key.to_string(), okey.clone()));
        }
        self.tables
            .entry(key.to_string())
            .or_default()
            .insert(okey, Arc::new(obj));
    }

    /// Continue counting from a restored resourceVersion; older versions
    /// are not replayable (the log starts empty).
    pub fn restore_rv(&mut self, rv: u64) {
        self.rv = self.rv.max(rv);
        self.compacted_rv = self.rv;
    }

    /// Every (storage key, object) pair; used for persistence and tests.
    pub fn all_objects(&self) -> Vec<(String, Arc<Value>)> {
        self.tables
            .iter()
            .flat_map(|(k, t)| t.values().map(move |v| (k.clone(), v.clone())))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(name: &str, rv: u64) -> Value {
        json!({"metadata": {"name": name, "resourceVersion": rv.to_string()}})
    }

    #[test]
    fn events_replay_after_a_resource_version_in_order() {
        let store = Store::new(100);
        let mut s = store.write();
        for name in ["a", "b", "c"] {
            let rv = s.next_rv();
            s.put("/configmaps", "default", name, rv, obj(name, rv));
        }
        let first = s.events_since(0).unwrap();
        assert_eq!(first.len(), 3);
        let after_first = s.events_since(first[0].rv).unwrap();
        assert_eq!(after_first.len(), 2);
        assert!(after_first[0].rv < after_first[1].rv);
    }

    #[test]
    fn compacted_versions_are_reported_gone() {
        let store = Store::new(16);
        let mut s = store.write();
        for i in 0..40 {
            let rv = s.next_rv();
            s.put("/configmaps", "default", &format!("o{i}"), rv, obj("x", rv));
        }
        assert!(s.events_since(2).is_none());
        assert!(s.events_since(s.current_rv()).unwrap().is_empty());
    }

    #[test]
    fn namespace_range_does_not_leak_into_neighbours() {
        let store = Store::new(100);
        let mut s = store.write();
        for (ns, name) in [("a", "1"), ("ab", "2"), ("a", "3"), ("b", "4")] {
            let rv = s.next_rv();
            s.put("/configmaps", ns, name, rv, obj(name, rv));
        }
        let names: Vec<_> = s
            .range("/configmaps", Some("a"), None)
            .map(|(k, _)| k.clone())
            .collect();
        assert_eq!(names, vec!["a/1", "a/3"]);
        assert_eq!(s.count("/configmaps", None), 4);
    }

    #[test]
    fn dependents_are_indexed_by_owner_uid() {
        let store = Store::new(100);
        let mut s = store.write();
        let rv = s.next_rv();
        let child = json!({"metadata": {"name": "c", "ownerReferences": [{"uid": "u1"}]}});
        s.put("apps/replicasets", "default", "c", rv, child);
        assert_eq!(
            s.dependents_of("u1"),
            vec![("apps/replicasets".to_string(), "default/c".to_string())]
        );
        s.remove("apps/replicasets", "default", "c");
        assert!(s.dependents_of("u1").is_empty());
    }
}
