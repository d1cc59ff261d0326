//! The writing verbs: create, update (PUT), patch in its four flavours
//! (JSON, merge, strategic, apply) and the scale subresource.

use super::*;

impl Cluster {
    /// POST to a collection.
    pub fn create(
        &self,
        target: &Target,
        mut body: Value,
        opts: &WriteOptions,
    ) -> ApiResult<Written> {
        let rt = target.rt.clone();
        if target.subresource.is_some() {
            return Err(ApiError::method_not_allowed());
        }
        Self::normalise_identity(target, &mut body)?;
        let meta = meta_mut(&mut body);
        let has_name = meta
            .get("name")
            .and_then(Value::as_str)
            .is_some_and(|n| !n.is_empty());
        if !has_name {
            match meta.get("generateName").and_then(Value::as_str) {
                Some(prefix) if !prefix.is_empty() => {
                    let name = format!("{prefix}{}", random_suffix());
                    meta.insert("name".into(), Value::String(name));
                }
                _ => {
                    return Err(ApiError::invalid(
                        &rt.group,
                        &rt.kind,
                        "",
                        vec![Cause {
                            reason: "FieldValueRequired".into(),
                            message: "Required value: name or generateName is required".into(),
                            field: "metadata.name".into(),
                        }],
                    ));
                }
            }
        }
        let name = name_of(&body).to_string();
        let mut s = self.store.write();
        self.check_namespace(&s, &rt, &target.namespace)?;
        if s.get(&rt.storage_key(), &target.namespace, &name).is_some() {
            // kube-apiserver validates before it stores: an invalid object
            // is Invalid even when its name is taken.
            self.admit(target, None, body, opts, None, &mut Vec::new())?;
            return Err(ApiError::already_exists(&rt.group, &rt.plural, &name));
        }
        self.finish_create(&mut s, target, &name, body, opts, None)
    }

    /// Admit and store a new object (create, or an apply that creates).
    fn finish_create(
        &self,
        s: &mut Inner,
        target: &Target,
        name: &str,
        body: Value,
        opts: &WriteOptions,
        managed: Option<Vec<ssa::ManagedEntry>>,
    ) -> ApiResult<Written> {
        let rt = target.rt.clone();
        let mut warnings = Vec::new();
        let mut obj = self.admit(target, None, body, opts, managed, &mut warnings)?;
        if is_crd(&rt) {
            crd::validate(&obj).map_err(|c| ApiError::invalid(&rt.group, &rt.kind, name, c))?;
            crd::set_status(&mut obj);
        }
        if opts.dry_run {
            return Ok(Written {
                object: Self::present(&rt, &obj),
                warnings,
                created: true,
            });
        }
        let stored = self.store_object(s, &rt, &target.namespace, name, obj);
        if is_crd(&rt) {
            self.register_crd(&stored);
        }
        Ok(Written {
            object: Self::present(&rt, &stored),
            warnings,
            created: true,
        })
    }

    pub(super) fn store_object(
        &self,
        s: &mut Inner,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        mut obj: Value,
    ) -> Value {
        let rv = s.next_rv();
        meta_mut(&mut obj).insert("resourceVersion".into(), Value::String(rv.to_string()));
        let stored = s.put(&rt.storage_key(), ns, name, rv, obj);
        (*stored).clone()
    }

    /// PUT an object (or its status/scale).
    pub fn update(
        &self,
        target: &Target,
        mut body: Value,
        opts: &WriteOptions,
    ) -> ApiResult<Written> {
        let rt = target.rt.clone();
        let name = target.name.clone().unwrap_or_default();
        if target.subresource.as_deref() == Some("scale") {
            return self.update_scale(target, body, opts);
        }
        Self::normalise_identity(target, &mut body)?;
        match name_of(&body) {
            "" => {
                meta_mut(&mut body).insert("name".into(), Value::String(name.clone()));
            }
            n if n != name => {
                return Err(ApiError::bad_request(format!(
                    "the name of the object ({n}) does not match the name on the URL ({name})"
                )));
            }
            _ => {}
        }
        let mut s = self.store.write();
        let old = s
            .get(&rt.storage_key(), &target.namespace, &name)
            .ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, &name))?;
        check_resource_version(&rt, &name, &body, &old)?;
        self.finish_update(&mut s, target, &old, body, opts, None)
    }

    pub(super) fn finish_update(
        &self,
        s: &mut Inner,
        target: &Target,
        old: &Value,
        body: Value,
        opts: &WriteOptions,
        managed: Option<Vec<ssa::ManagedEntry>>,
    ) -> ApiResult<Written> {
        let rt = target.rt.clone();
        let name = target.name.clone().unwrap_or_default();
        let mut warnings = Vec::new();
        let mut obj = self.admit(target, Some(old), body, opts, managed, &mut warnings)?;
        let is_crd = is_crd(&rt);
        if is_crd {
            crd::validate(&obj).map_err(|c| ApiError::invalid(&rt.group, &rt.kind, &name, c))?;
            if target.subresource.is_none() {
                crd::set_status(&mut obj);
            }
        }
        // Unchanged objects keep their resourceVersion and send no event.
        let mut comparable_old = old.clone();
        let mut comparable_new = obj.clone();
        for o in [&mut comparable_old, &mut comparable_new] {
            let m = meta_mut(o);
            m.remove("resourceVersion");
            if let Some(Value::Array(entries)) = m.get_mut("managedFields") {
                for e in entries {
                    if let Some(e) = e.as_object_mut() {
                        e.remove("time");
                    }
                }
            }
        }
        if comparable_old == comparable_new {
            return Ok(Written {
                object: Self::present(&rt, old),
                warnings,
                created: false,
            });
        }
        if opts.dry_run {
            return Ok(Written {
                object: Self::present(&rt, &obj),
                warnings,
                created: false,
            });
        }
        let deleting = obj.pointer("/metadata/deletionTimestamp").is_some();
        let stored = self.store_object(s, &rt, &target.namespace, &name, obj);
        if deleting && finalizers(&stored).is_empty() {
            self.remove_and_cascade(s, &rt, &target.namespace, &name, "Background");
        }
        if is_crd {
            self.register_crd(&stored);
        }
        Ok(Written {
            object: Self::present(&rt, &stored),
            warnings,
            created: false,
        })
    }

    /// PATCH an object (or its status/scale); apply may create.
    pub fn patch(
        &self,
        target: &Target,
        kind: PatchType,
        body: &[u8],
        opts: &WriteOptions,
    ) -> ApiResult<Written> {
        let rt = target.rt.clone();
        let name = target.name.clone().unwrap_or_default();
        if target.subresource.as_deref() == Some("scale") {
            let current = self.get(target)?;
            let patched = patch_value("Scale", &current, kind, body)?;
            return self.update_scale(target, patched, opts);
        }
        if kind == PatchType::Apply {
            return self.apply(target, body, opts);
        }
        if kind == PatchType::Strategic && rt.custom.is_some() {
            return Err(ApiError::unsupported_media_type(
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
            ));
        }
        let mut s = self.store.write();
        let old = s
            .get(&rt.storage_key(), &target.namespace, &name)
            .ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, &name))?;
        let mut new = patch_value(&rt.kind, &old, kind, body)?;
        check_resource_version(&rt, &name, &new, &old)?;
        if name_of(&new) != name {
            return Err(ApiError::bad_request(
                "metadata.name: the name of an object cannot be changed by a patch",
            ));
        }
        Self::normalise_identity(target, &mut new)?;
        self.finish_update(&mut s, target, &old, new, opts, None)
    }

    pub(super) fn apply(
        &self,
        target: &Target,
        body: &[u8],
        opts: &WriteOptions,
    ) -> ApiResult<Written> {
        let rt = target.rt.clone();
        let name = target.name.clone().unwrap_or_default();
        if opts.field_manager.is_empty() {
            return Err(ApiError::field_manager_required());
        }
        let mut applied = parse_body(body)?;
        Self::normalise_identity(target, &mut applied)?;
        match name_of(&applied) {
            n if n == name => {}
            "" => {
                return Err(ApiError::bad_request(
                    "metadata.name: Required value: name is required for apply requests",
                ));
            }
            n => {
                return Err(ApiError::bad_request(format!(
                    "the name of the object ({n}) does not match the name on the URL ({name})"
                )));
            }
        }
        let mut s = self.store.write();
        let old = s.get(&rt.storage_key(), &target.namespace, &name);
        if let Some(o) = &old {
            check_resource_version(&rt, &name, &applied, o)?;
        }
        let sub = target.subresource.as_deref();
        if old.is_none() && sub.is_some() {
            return Err(ApiError::not_found(&rt.group, &rt.plural, &name));
        }
        let outcome = ssa::apply(
            &rt.kind,
            old.as_deref(),
            &applied,
            &opts.field_manager,
            &rt.api_version(),
            &now(),
            opts.force,
            sub,
        )
        .map_err(|conflicts| {
            let api_version = rt.api_version();
            ApiError::apply_conflicts(
                conflicts
                    .into_iter()
                    .map(|c| (c.manager, api_version.clone(), c.path))
                    .collect(),
            )
        })?;
        match old {
            Some(old) => self.finish_update(
                &mut s,
                target,
                &old,
                outcome.object,
                opts,
                Some(outcome.managed),
            ),
            None => {
                self.check_namespace(&s, &rt, &target.namespace)?;
                self.finish_create(
                    &mut s,
                    target,
                    &name,
                    outcome.object,
                    opts,
                    Some(outcome.managed),
                )
            }
        }
    }

    pub(super) fn update_scale(
        &self,
        target: &Target,
        scale: Value,
        opts: &WriteOptions,
    ) -> ApiResult<Written> {
        let rt = target.rt.clone();
        let name = target.name.clone().unwrap_or_default();
        let spec = rt.scale.clone().ok_or_else(ApiError::path_not_found)?;
        let replicas = scale
            .pointer("/spec/replicas")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let mut s = self.store.write();
        let old = s
            .get(&rt.storage_key(), &target.namespace, &name)
            .ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, &name))?;
        check_resource_version(&rt, &name, &scale, &old)?;
        let mut new = (*old).clone();
        crate::scale::set_pointer(&mut new, &spec.spec_replicas, json!(replicas));
        let parent = Target {
            subresource: Some("scale".into()),
            ..target.clone()
        };
        // The parent is written with only its replicas changed, recorded
        // as an update through the scale subresource.
        let written = self.finish_update(&mut s, &parent, &old, new, opts, None)?;
        let obj = written.object.clone();
        Ok(Written {
            object: crate::scale::to_scale(&rt, &obj)?,
            ..written
        })
    }
}

/// 409 when `body` names a resourceVersion other than the stored one.
fn check_resource_version(
    rt: &ResourceType,
    name: &str,
    body: &Value,
    old: &Value,
) -> ApiResult<()> {
    let wanted = body
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str);
    let have = old
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str);
    match wanted {
        Some(rv) if !rv.is_empty() && Some(rv) != have => {
            Err(ApiError::stale(&rt.group, &rt.plural, name))
        }
        _ => Ok(()),
    }
}

fn patch_value(
    kind: &str,
    current: &Value,
    patch_type: PatchType,
    body: &[u8],
) -> ApiResult<Value> {
    match patch_type {
        PatchType::Json => {
            let patch: json_patch::Patch = serde_json::from_slice(body)
                .map_err(|e| ApiError::bad_request(format!("error decoding JSON patch: {e}")))?;
            let mut doc = current.clone();
            json_patch::patch(&mut doc, &patch)
                .map_err(|e| ApiError::patch_rejected(e.to_string()))?;
            Ok(doc)
        }
        PatchType::Merge => {
            let patch = parse_body(body)?;
            let mut doc = current.clone();
            json_patch::merge(&mut doc, &patch);
            Ok(doc)
        }
        PatchType::Strategic => {
            let patch = parse_body(body)?;
            merge::smp::strategic_merge(kind, current, &patch).map_err(|e| {
                ApiError::bad_request(format!("error applying strategic merge patch: {e}"))
            })
        }
        PatchType::Apply => Err(ApiError::unsupported_media_type(
            "apply patches are not supported here",
        )),
    }
}
