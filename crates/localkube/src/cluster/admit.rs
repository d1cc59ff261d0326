//! Admission of every write: identity checked against the URL, the status
//! subresource rules, immutable metadata, defaulting, typed and semantic
//! validation, generation and Update managed fields.

use super::*;

impl Cluster {
    pub(super) fn check_namespace(
        &self,
        s: &Inner,
        rt: &ResourceType,
        namespace: &str,
    ) -> ApiResult<()> {
        if !rt.namespaced {
            return Ok(());
        }
        match s.get("/namespaces", "", namespace) {
            None => Err(ApiError::not_found("", "namespaces", namespace)),
            Some(ns) if ns.pointer("/metadata/deletionTimestamp").is_some() => {
                let mut e = ApiError::bad_request(format!(
                    "unable to create new content in namespace {namespace} because it is being terminated"
                ));
                e.code = 403;
                e.reason = "Forbidden";
                Err(e)
            }
            Some(_) => Ok(()),
        }
    }

    /// Fill in and check apiVersion, kind and namespace against the URL.
    pub(super) fn normalise_identity(target: &Target, body: &mut Value) -> ApiResult<()> {
        let rt = &target.rt;
        if !body.is_object() {
            return Err(ApiError::bad_request(
                "the request body must be a JSON or YAML object",
            ));
        }
        match body.get("apiVersion").and_then(Value::as_str) {
            None | Some("") => body["apiVersion"] = Value::String(rt.api_version()),
            Some(v) if v == rt.api_version() => {}
            Some(v) => {
                return Err(ApiError::bad_request(format!(
                    "the API version in the data ({v}) does not match the expected API version ({})",
                    rt.api_version()
                )));
            }
        }
        match body.get("kind").and_then(Value::as_str) {
            None | Some("") => body["kind"] = Value::String(rt.kind.clone()),
            Some(k) if k == rt.kind => {}
            Some(k) => {
                return Err(ApiError::bad_request(format!(
                    "{k} in version \"{}\" cannot be handled as a {}: the kind in the data ({k}) does not match the kind of the resource ({})",
                    rt.version, rt.kind, rt.kind
                )));
            }
        }
        let meta = meta_mut(body);
        if rt.namespaced {
            match meta.get("namespace").and_then(Value::as_str) {
                Some(ns) if !ns.is_empty() && ns != target.namespace => {
                    return Err(ApiError::bad_request(
                        "the namespace of the provided object does not match the namespace sent on the request",
                    ));
                }
                _ => {
                    meta.insert("namespace".into(), Value::String(target.namespace.clone()));
                }
            }
        } else {
            meta.remove("namespace");
        }
        Ok(())
    }

    /// Typed validation, metadata validation, status handling, immutable
    /// metadata, generation and Update managed fields. `managed` is `Some`
    /// for apply, which computed ownership itself.
    #[allow(
        clippy::too_many_arguments,
        reason = "one place that admits every write"
    )]
    pub(super) fn admit(
        &self,
        target: &Target,
        old: Option<&Value>,
        mut new: Value,
        opts: &WriteOptions,
        managed: Option<Vec<ssa::ManagedEntry>>,
        warnings: &mut Vec<String>,
    ) -> ApiResult<Value> {
        let rt = &target.rt;
        let sub = target.subresource.as_deref();
        // Subresource semantics: the main resource ignores status when a
        // status subresource exists; /status changes only status.
        match (sub, old) {
            (Some("status"), Some(old)) => {
                let status = new.get("status").cloned();
                let mut merged = old.clone();
                match status {
                    Some(s) => merged["status"] = s,
                    None => {
                        if let Some(m) = merged.as_object_mut() {
                            m.remove("status");
                        }
                    }
                }
                new = merged;
            }
            (None, _) if rt.status_subresource => {
                let kept = match old {
                    Some(o) => o.get("status").cloned(),
                    None => crate::defaults::initial_status(rt),
                };
                match kept {
                    Some(s) => new["status"] = s,
                    None => {
                        if let Some(m) = new.as_object_mut() {
                            m.remove("status");
                        }
                    }
                }
            }
            _ => {}
        }
        // Metadata the client cannot change.
        let now = now();
        {
            let meta = meta_mut(&mut new);
            meta.remove("selfLink");
            if meta.get("creationTimestamp").is_some_and(Value::is_null) {
                meta.remove("creationTimestamp");
            }
            meta.remove("managedFields");
            match old {
                Some(old) => {
                    for k in [
                        "uid",
                        "creationTimestamp",
                        "generation",
                        "deletionTimestamp",
                        "deletionGracePeriodSeconds",
                    ] {
                        match old.pointer(&format!("/metadata/{k}")) {
                            Some(v) => {
                                meta.insert(k.into(), v.clone());
                            }
                            None => {
                                meta.remove(k);
                            }
                        }
                    }
                }
                None => {
                    meta.insert(
                        "uid".into(),
                        Value::String(uuid::Uuid::new_v4().to_string()),
                    );
                    meta.insert("creationTimestamp".into(), Value::String(now.clone()));
                    for k in [
                        "deletionTimestamp",
                        "deletionGracePeriodSeconds",
                        "generation",
                    ] {
                        meta.remove(k);
                    }
                    if rt.generation {
                        meta.insert("generation".into(), json!(1));
                    }
                }
            }
        }
        crate::defaults::apply(rt, &mut new, old, &self.allocators);
        // Typed validation for built-in types.
        if let Some(validate) = rt.validator {
            let (normalised, unknown) = validate(&new).map_err(|e| {
                if e.contains("missing field") {
                    ApiError::invalid(
                        &rt.group,
                        &rt.kind,
                        name_of(&new),
                        vec![Cause {
                            reason: "FieldValueRequired".into(),
                            message: format!("Required value: {e}"),
                            field: String::new(),
                        }],
                    )
                } else {
                    ApiError::bad_request(format!(
                        "{} in version \"{}\" cannot be handled as a {}: {e}",
                        rt.kind, rt.version, rt.kind
                    ))
                }
            })?;
            if !unknown.is_empty() {
                match opts.validation {
                    FieldValidation::Strict => {
                        let list = unknown
                            .iter()
                            .map(|f| format!("unknown field \"{f}\""))
                            .collect::<Vec<_>>()
                            .join(", ");
                        return Err(ApiError::bad_request(format!(
                            "strict decoding error: {list}"
                        )));
                    }
                    FieldValidation::Warn => {
                        warnings.extend(unknown.iter().map(|f| format!("unknown field \"{f}\"")));
                    }
                    FieldValidation::Ignore => {}
                }
            }
            new = normalised;
        } else if let Some(custom) = &rt.custom {
            crd::admit_custom(
                custom,
                &mut new,
                opts.validation == FieldValidation::Strict,
                warnings,
            )
            .map_err(|causes| ApiError::invalid(&rt.group, &rt.kind, name_of(&new), causes))?;
        }
        let mut causes = validation::metadata_causes(&rt.kind, &new);
        causes.extend(crate::semantic::causes(rt, old, &new));
        if !causes.is_empty() {
            return Err(ApiError::invalid(
                &rt.group,
                &rt.kind,
                name_of(&new),
                causes,
            ));
        }
        // Generation follows spec changes only.
        if rt.generation
            && let Some(old) = old
            && spec_part(old) != spec_part(&new)
        {
            let g = old
                .pointer("/metadata/generation")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            meta_mut(&mut new).insert("generation".into(), json!(g + 1));
        }
        // Managed fields.
        let entries = match managed {
            Some(m) => m,
            None => {
                let previous = match old {
                    Some(o) => ssa::parse_managed_fields(o).unwrap_or_default(),
                    None => Vec::new(),
                };
                ssa::record_update(
                    &rt.kind,
                    old,
                    &new,
                    previous,
                    &opts.field_manager,
                    &rt.api_version(),
                    &now,
                    sub,
                )
            }
        };
        ssa::write_managed_fields(&mut new, &entries);
        Ok(new)
    }
}
