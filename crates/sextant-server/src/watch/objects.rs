//! A watched kind of the namespace kept whole by name (AppProjects,
//! ApplicationSets): few objects, read as JSON.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use serde_json::Value;

use super::Change;

/// Objects by name.
#[derive(Debug, Default)]
pub struct ObjectStore {
    objects: RwLock<BTreeMap<String, Arc<Value>>>,
}

impl ObjectStore {
    /// Apply what a watch saw.
    pub fn apply(&self, change: Change) {
        let mut objects = self
            .objects
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = |o: kube::api::DynamicObject| {
            let name = o.metadata.name.clone().unwrap_or_default();
            (
                name,
                Arc::new(serde_json::to_value(&o).unwrap_or(Value::Null)),
            )
        };
        match change {
            Change::Reset(objs) => *objects = objs.into_iter().map(entry).collect(),
            Change::Apply(o) => {
                let (k, v) = entry(o);
                objects.insert(k, v);
            }
            Change::Delete(o) => {
                objects.remove(&o.metadata.name.unwrap_or_default());
            }
        }
    }

    /// Every object, by name.
    pub fn all(&self) -> Vec<Arc<Value>> {
        self.objects
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .values()
            .cloned()
            .collect()
    }

    /// One object.
    pub fn get(&self, name: &str) -> Option<Arc<Value>> {
        self.objects
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(name)
            .cloned()
    }
}
