//! Deletion: finalizers, propagation policies (background, foreground,
//! orphan), owner-reference cascades, namespace termination, CRD removal and
//! deletecollection.

use super::*;

impl Cluster {
    /// DELETE one object.
    pub fn delete(&self, target: &Target, opts: &DeleteOptions) -> ApiResult<Value> {
        let rt = target.rt.clone();
        let name = target.name.clone().unwrap_or_default();
        if target.subresource.is_some() {
            return Err(ApiError::method_not_allowed());
        }
        let mut s = self.store.write();
        let old = s
            .get(&rt.storage_key(), &target.namespace, &name)
            .ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, &name))?;
        if let Some(uid) = &opts.uid
            && Some(uid.as_str()) != old.pointer("/metadata/uid").and_then(Value::as_str)
        {
            return Err(ApiError::conflict(
                &rt.group,
                &rt.plural,
                &name,
                &format!(
                    "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                    old.pointer("/metadata/uid")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                ),
            ));
        }
        if let Some(rv) = &opts.resource_version
            && Some(rv.as_str())
                != old
                    .pointer("/metadata/resourceVersion")
                    .and_then(Value::as_str)
        {
            return Err(ApiError::conflict(
                &rt.group,
                &rt.plural,
                &name,
                &format!(
                    "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}",
                    old.pointer("/metadata/resourceVersion")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                ),
            ));
        }
        if opts.dry_run {
            return Ok(Self::present(&rt, &old));
        }
        let policy = opts
            .propagation
            .clone()
            .unwrap_or_else(|| "Background".into());
        let out = self.delete_object(&mut s, &rt, &target.namespace, &name, &policy);
        Ok(Self::present(&rt, &out))
    }

    /// Start deleting an object: mark it (finalizers, namespaces) or remove it.
    pub(super) fn delete_object(
        &self,
        s: &mut Inner,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        policy: &str,
    ) -> Value {
        let Some(old) = s.get(&rt.storage_key(), ns, name) else {
            return Value::Null;
        };
        let is_namespace = rt.kind == "Namespace" && rt.group.is_empty();
        let mut fins = finalizers(&old);
        if policy == "Orphan" && !fins.iter().any(|f| f == "orphan") && !is_namespace {
            fins.push("orphan".into());
        }
        if policy == "Foreground"
            && !fins.iter().any(|f| f == "foregroundDeletion")
            && !is_namespace
        {
            fins.push("foregroundDeletion".into());
        }
        if fins.is_empty() && !is_namespace {
            return self
                .remove_and_cascade(s, rt, ns, name, policy)
                .unwrap_or(Value::Null);
        }
        // Mark for deletion.
        let mut marked = (*old).clone();
        {
            let m = meta_mut(&mut marked);
            if !m.contains_key("deletionTimestamp") {
                m.insert("deletionTimestamp".into(), Value::String(now()));
                m.insert("deletionGracePeriodSeconds".into(), json!(0));
            }
            if !fins.is_empty() {
                m.insert("finalizers".into(), json!(fins));
            }
        }
        if is_namespace {
            marked["spec"] = json!({"finalizers": ["kubernetes"]});
            marked["status"]["phase"] = json!("Terminating");
        }
        let stored = self.store_object(s, rt, ns, name, marked);
        let uid = stored
            .pointer("/metadata/uid")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if is_namespace {
            self.empty_namespace(s, name);
            return s
                .get(&rt.storage_key(), ns, name)
                .map(|v| (*v).clone())
                .unwrap_or(stored);
        }
        // The garbage collector's part of orphan and foreground deletion.
        if fins.iter().any(|f| f == "orphan") && policy == "Orphan" {
            self.orphan_dependents(s, &uid);
            self.drop_finalizer(s, rt, ns, name, "orphan");
        } else if fins.iter().any(|f| f == "foregroundDeletion") && policy == "Foreground" {
            for (key, okey) in s.dependents_of(&uid) {
                self.delete_by_key(s, &key, &okey, "Foreground");
            }
            self.drop_finalizer(s, rt, ns, name, "foregroundDeletion");
        }
        s.get(&rt.storage_key(), ns, name)
            .map(|v| (*v).clone())
            .unwrap_or(stored)
    }

    pub(super) fn drop_finalizer(
        &self,
        s: &mut Inner,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        finalizer: &str,
    ) {
        let Some(cur) = s.get(&rt.storage_key(), ns, name) else {
            return;
        };
        let mut obj = (*cur).clone();
        let fins: Vec<String> = finalizers(&obj)
            .into_iter()
            .filter(|f| f != finalizer)
            .collect();
        let m = meta_mut(&mut obj);
        if fins.is_empty() {
            m.remove("finalizers");
        } else {
            m.insert("finalizers".into(), json!(fins));
        }
        let empty = fins.is_empty();
        self.store_object(s, rt, ns, name, obj);
        if empty {
            self.remove_and_cascade(s, rt, ns, name, "Background");
        }
    }

    pub(super) fn orphan_dependents(&self, s: &mut Inner, uid: &str) {
        for (key, okey) in s.dependents_of(uid) {
            let Some((ns, name)) = okey.split_once('/') else {
                continue;
            };
            let Some(cur) = s.get(&key, ns, name) else {
                continue;
            };
            let mut obj = (*cur).clone();
            if let Some(Value::Array(refs)) = obj.pointer_mut("/metadata/ownerReferences") {
                refs.retain(|r| r.get("uid").and_then(Value::as_str) != Some(uid));
            }
            if obj
                .pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .is_some_and(Vec::is_empty)
            {
                meta_mut(&mut obj).remove("ownerReferences");
            }
            let rv = s.next_rv();
            meta_mut(&mut obj).insert("resourceVersion".into(), Value::String(rv.to_string()));
            let (ns, name) = (ns.to_string(), name.to_string());
            s.put(&key, &ns, &name, rv, obj);
        }
    }

    pub(super) fn delete_by_key(&self, s: &mut Inner, key: &str, okey: &str, policy: &str) {
        let Some((ns, name)) = okey.split_once('/') else {
            return;
        };
        let Some(rt) = self.type_for_key(key) else {
            return;
        };
        let (ns, name) = (ns.to_string(), name.to_string());
        self.delete_object(s, &rt, &ns, &name, policy);
    }

    pub(super) fn type_for_key(&self, key: &str) -> Option<Arc<ResourceType>> {
        self.registry()
            .all()
            .into_iter()
            .find(|t| t.storage_key() == key)
    }

    /// Remove an object now and cascade to its dependents.
    pub(super) fn remove_and_cascade(
        &self,
        s: &mut Inner,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        policy: &str,
    ) -> Option<Value> {
        let removed = s.remove(&rt.storage_key(), ns, name)?;
        let uid = removed
            .pointer("/metadata/uid")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if policy == "Orphan" {
            self.orphan_dependents(s, &uid);
        } else {
            for (key, okey) in s.dependents_of(&uid) {
                self.delete_by_key(s, &key, &okey, "Background");
            }
        }
        if is_crd(rt) {
            if let (Some(group), Some(plural)) = (
                removed.pointer("/spec/group").and_then(Value::as_str),
                removed
                    .pointer("/spec/names/plural")
                    .and_then(Value::as_str),
            ) {
                s.drop_table(&format!("{group}/{plural}"));
            }
            self.update_registry(|reg| reg.remove_crd(name));
        }
        // A terminating namespace goes away with its last object.
        if !ns.is_empty()
            && let Some(nsobj) = s.get("/namespaces", "", ns)
            && nsobj.pointer("/metadata/deletionTimestamp").is_some()
            && s.keys_with_objects_in(ns).is_empty()
        {
            s.remove("/namespaces", "", ns);
        }
        Some((*removed).clone())
    }

    pub(super) fn empty_namespace(&self, s: &mut Inner, ns: &str) {
        for (key, names) in s.keys_with_objects_in(ns) {
            for name in names {
                self.delete_by_key(s, &key, &object_key(ns, &name), "Background");
            }
        }
        if s.keys_with_objects_in(ns).is_empty() {
            s.remove("/namespaces", "", ns);
        }
    }

    /// DELETE a collection (with selectors).
    pub fn delete_collection(
        &self,
        target: &Target,
        list: &ListOptions,
        opts: &DeleteOptions,
    ) -> ApiResult<Value> {
        let rt = target.rt.clone();
        let items = self.list(
            target,
            &ListOptions {
                limit: None,
                continue_token: None,
                ..list.clone()
            },
        )?;
        let policy = opts
            .propagation
            .clone()
            .unwrap_or_else(|| "Background".into());
        let mut s = self.store.write();
        let mut deleted = Vec::new();
        for item in items["items"].as_array().cloned().unwrap_or_default() {
            let name = name_of(&item).to_string();
            let ns = item
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if opts.dry_run {
                deleted.push(item);
                continue;
            }
            let out = self.delete_object(&mut s, &rt, &ns, &name, &policy);
            if !out.is_null() {
                deleted.push(Self::present(&rt, &out));
            }
        }
        Ok(json!({
            "kind": rt.list_kind,
            "apiVersion": rt.api_version(),
            "metadata": {"resourceVersion": s.current_rv().to_string()},
            "items": deleted,
        }))
    }
}
