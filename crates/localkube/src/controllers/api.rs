//! The verbs the simulated controllers use, over two back ends: the
//! in-process [`Cluster`] (localkube's own simulation) and any API server
//! through a kube-rs client (`remote.rs`, the kubelet stand-in).
//!
//! Reads return whole objects as JSON with `apiVersion` and `kind` set;
//! writes return what the server stored, or an error text the caller logs
//! (the next pass retries).

use std::sync::Arc;

use serde_json::Value;

use crate::cluster::{Cluster, DeleteOptions, Target, WriteOptions};

/// What a controller pass may do to the cluster.
pub(crate) trait SimApi: Send + Sync {
    /// All objects of a resource, all namespaces.
    fn list(&self, group: &str, plural: &str) -> Vec<Arc<Value>>;
    /// One object (`ns` empty for cluster-scoped ones).
    fn get(&self, group: &str, plural: &str, ns: &str, name: &str) -> Option<Arc<Value>>;
    /// Objects of one resource whose ownerReferences name `owner_uid`.
    fn owned(&self, owner_uid: &str, group: &str, plural: &str) -> Vec<Arc<Value>>;
    /// Create an object in `ns` as `manager`.
    fn create(&self, r: &Res<'_>, ns: &str, body: Value, manager: &str) -> Result<Value, String>;
    /// Replace an object (or its subresource `sub`) as `manager`.
    fn update(
        &self,
        r: &Res<'_>,
        obj: &Value,
        sub: Option<&str>,
        manager: &str,
    ) -> Result<Value, String>;
    /// Delete an object; `now` skips the grace period (what a kubelet does
    /// once a terminating Pod's containers stopped).
    fn delete(&self, r: &Res<'_>, ns: &str, name: &str, now: bool) -> Result<(), String>;
    /// Bind a Pod to a Node as the scheduler does.
    fn bind(&self, pod: &Value, node: &str, manager: &str) -> Result<(), String>;
}

/// A resource by group, version and plural.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Res<'a> {
    pub group: &'a str,
    pub version: &'a str,
    pub plural: &'a str,
}

/// The in-process back end: `Cluster`'s verbs and its store.
pub(crate) struct LocalApi(pub Arc<Cluster>);

impl LocalApi {
    fn target(
        &self,
        r: &Res<'_>,
        ns: &str,
        name: Option<&str>,
        sub: Option<&str>,
    ) -> Result<Target, String> {
        let rt = self
            .0
            .registry()
            .get(r.group, r.version, r.plural)
            .ok_or_else(|| format!("{}/{} {} is not served", r.group, r.version, r.plural))?;
        Ok(Target {
            rt,
            namespace: ns.to_string(),
            name: name.map(str::to_string),
            subresource: sub.map(str::to_string),
        })
    }
}

fn opts(manager: &str) -> WriteOptions {
    WriteOptions {
        field_manager: manager.into(),
        ..Default::default()
    }
}

impl SimApi for LocalApi {
    fn list(&self, group: &str, plural: &str) -> Vec<Arc<Value>> {
        let s = self.0.store.read();
        s.range(&format!("{group}/{plural}"), None, None)
            .map(|(_, v)| v.clone())
            .collect()
    }

    fn get(&self, group: &str, plural: &str, ns: &str, name: &str) -> Option<Arc<Value>> {
        self.0
            .store
            .read()
            .get(&format!("{group}/{plural}"), ns, name)
    }

    fn owned(&self, owner_uid: &str, group: &str, plural: &str) -> Vec<Arc<Value>> {
        let key = format!("{group}/{plural}");
        let st = self.0.store.read();
        st.dependents_of(owner_uid)
            .into_iter()
            .filter(|(k, _)| *k == key)
            .filter_map(|(k, okey)| {
                let (ns, name) = okey.split_once('/')?;
                st.get(&k, ns, name)
            })
            .collect()
    }

    fn create(&self, r: &Res<'_>, ns: &str, body: Value, manager: &str) -> Result<Value, String> {
        let t = self.target(r, ns, None, None)?;
        self.0
            .create(&t, body, &opts(manager))
            .map(|w| w.object)
            .map_err(|e| e.to_string())
    }

    fn update(
        &self,
        r: &Res<'_>,
        obj: &Value,
        sub: Option<&str>,
        manager: &str,
    ) -> Result<Value, String> {
        let ns = super::s(obj, "/metadata/namespace");
        let name = super::s(obj, "/metadata/name");
        let t = self.target(r, ns, Some(name), sub)?;
        self.0
            .update(&t, obj.clone(), &opts(manager))
            .map(|w| w.object)
            .map_err(|e| e.to_string())
    }

    fn delete(&self, r: &Res<'_>, ns: &str, name: &str, _now: bool) -> Result<(), String> {
        // localkube removes objects without a grace period anyway.
        let t = self.target(r, ns, Some(name), None)?;
        self.0
            .delete(&t, &DeleteOptions::default())
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    fn bind(&self, pod: &Value, node: &str, manager: &str) -> Result<(), String> {
        // localkube has no binding subresource; setting spec.nodeName is
        // what it means.
        let mut p = pod.clone();
        p["spec"]["nodeName"] = Value::from(node);
        let r = Res {
            group: "",
            version: "v1",
            plural: "pods",
        };
        self.update(&r, &p, None, manager).map(|_| ())
    }
}
