//! The cluster's state and the API semantics of every verb, independent of
//! HTTP: create, update, patch (merge, JSON, strategic, apply), delete,
//! deletecollection, get and list, with resourceVersion, generation,
//! managedFields, finalizers, owner-reference cascades and CRD registration.

use std::sync::{Arc, RwLock};

use rand::Rng;
use serde_json::{Map, Value, json};

use crate::crd;
use crate::error::{ApiError, ApiResult, Cause};
use crate::merge::{self, ssa};
use crate::resources::{Registry, ResourceType};
use crate::selectors::{FieldSelector, LabelSelector};
use crate::store::{Inner, Store, object_key};
use crate::validation;

/// How unknown fields in a request are treated (`fieldValidation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FieldValidation {
    /// Drop silently.
    Ignore,
    /// Drop and warn (the server default).
    #[default]
    Warn,
    /// Reject the request.
    Strict,
}

/// Options common to every write.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    /// `dryRun=All`: run everything, persist nothing.
    pub dry_run: bool,
    /// `fieldManager`, or the default derived from the user agent.
    pub field_manager: String,
    /// `fieldValidation`.
    pub validation: FieldValidation,
    /// `force` (apply only).
    pub force: bool,
}

/// The body types of PATCH.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    /// `application/json-patch+json`
    Json,
    /// `application/merge-patch+json`
    Merge,
    /// `application/strategic-merge-patch+json`
    Strategic,
    /// `application/apply-patch+yaml`
    Apply,
}

/// `DeleteOptions` that matter here.
#[derive(Debug, Clone, Default)]
pub struct DeleteOptions {
    /// `Background` (default), `Foreground` or `Orphan`.
    pub propagation: Option<String>,
    /// Precondition on uid.
    pub uid: Option<String>,
    /// Precondition on resourceVersion.
    pub resource_version: Option<String>,
    /// `dryRun=All`.
    pub dry_run: bool,
}

/// What a request addresses.
#[derive(Debug, Clone)]
pub struct Target {
    /// The resource type.
    pub rt: Arc<ResourceType>,
    /// Namespace ("" for cluster-scoped or all namespaces).
    pub namespace: String,
    /// Object name, for item requests.
    pub name: Option<String>,
    /// `status` or `scale`.
    pub subresource: Option<String>,
}

/// A successful write.
#[derive(Debug, Clone)]
pub struct Written {
    /// The object as the client sees it.
    pub object: Value,
    /// Warning headers to send.
    pub warnings: Vec<String>,
    /// Whether this created the object (201 vs 200).
    pub created: bool,
}

/// List parameters.
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    /// Parsed label selector.
    pub labels: LabelSelector,
    /// Parsed field selector.
    pub fields: FieldSelector,
    /// `limit`.
    pub limit: Option<usize>,
    /// `continue`.
    pub continue_token: Option<String>,
}

/// The result of a list: shared objects plus list metadata.
#[derive(Debug, Clone)]
pub struct Listed {
    /// The listed resource.
    pub rt: Arc<ResourceType>,
    /// `ListMeta` (resourceVersion, continue, remainingItemCount).
    pub metadata: Value,
    /// The objects, as stored.
    pub items: Vec<Arc<Value>>,
}

impl Listed {
    /// The objects as a client of the listed version sees them.
    pub fn presented(&self) -> Vec<Value> {
        self.items
            .iter()
            .map(|o| Cluster::present(&self.rt, o))
            .collect()
    }

    /// The list object.
    pub fn to_value(&self) -> Value {
        json!({
            "kind": self.rt.list_kind,
            "apiVersion": self.rt.api_version(),
            "metadata": self.metadata,
            "items": self.presented(),
        })
    }

    /// The list serialised straight to JSON, without copying each object
    /// (this is the hot path of big lists).
    pub fn to_json(&self) -> Vec<u8> {
        let api_version = self.rt.api_version();
        let mut out = Vec::with_capacity(64 + self.items.len() * 512);
        let head = json!({"kind": self.rt.list_kind, "apiVersion": api_version, "metadata": self.metadata});
        let head = head.to_string();
        // `{..."metadata":{...}` + `,"items":[` ... `]}`
        out.extend_from_slice(&head.as_bytes()[..head.len() - 1]);
        out.extend_from_slice(b",\"items\":[");
        for (i, obj) in self.items.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let same_version =
                obj.get("apiVersion").and_then(Value::as_str) == Some(api_version.as_str());
            let written = if same_version {
                serde_json::to_writer(&mut out, &**obj)
            } else {
                serde_json::to_writer(&mut out, &Cluster::present(&self.rt, obj))
            };
            // Writing a Value into a Vec cannot fail.
            debug_assert!(written.is_ok());
        }
        out.extend_from_slice(b"]}");
        out
    }
}

/// The whole simulated cluster.
#[derive(Debug)]
pub struct Cluster {
    /// Objects and events.
    pub store: Store,
    registry: RwLock<Registry>,
    allocators: crate::defaults::Allocators,
}

/// Current time in the API server's format.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn name_of(obj: &Value) -> &str {
    obj.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn meta_mut(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj.get("metadata").is_some_and(Value::is_object) {
        obj["metadata"] = json!({});
    }
    match obj.get_mut("metadata") {
        Some(Value::Object(m)) => m,
        // Unreachable: ensured above; keep a harmless fallback.
        _ => unreachable_meta(),
    }
}

#[allow(clippy::panic, reason = "metadata was made an object just above")]
fn unreachable_meta() -> &'static mut Map<String, Value> {
    panic!("metadata is not an object")
}

fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut rng = rand::rng();
    (0..5)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

fn finalizers(obj: &Value) -> Vec<String> {
    obj.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn spec_part(obj: &Value) -> Value {
    let mut o = obj.clone();
    if let Some(m) = o.as_object_mut() {
        m.remove("metadata");
        m.remove("status");
    }
    o
}

impl Default for Cluster {
    fn default() -> Self {
        Self::new()
    }
}

impl Cluster {
    /// A cluster with the built-in types and the standard namespaces.
    pub fn new() -> Self {
        let c = Cluster {
            store: Store::new(200_000),
            registry: RwLock::new(Registry::with_builtins()),
            allocators: Default::default(),
        };
        c.bootstrap();
        c
    }

    /// The whole state as one JSON document (for `--data-dir`).
    pub fn snapshot(&self) -> Value {
        let s = self.store.read();
        let objects: Vec<Value> = s
            .all_objects()
            .into_iter()
            .map(|(key, obj)| json!({"key": key, "object": *obj}))
            .collect();
        json!({"resourceVersion": s.current_rv(), "objects": objects})
    }

    /// A cluster restored from [`Cluster::snapshot`]: every object, the
    /// resourceVersion counter, the kinds its CRDs serve, the addresses its
    /// Services hold.
    pub fn from_snapshot(snapshot: &Value) -> Self {
        let c = Cluster {
            store: Store::new(200_000),
            registry: RwLock::new(Registry::with_builtins()),
            allocators: Default::default(),
        };
        {
            let mut s = c.store.write();
            for entry in snapshot
                .get("objects")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let (Some(key), Some(obj)) = (
                    entry.get("key").and_then(Value::as_str),
                    entry.get("object"),
                ) else {
                    continue;
                };
                if key == "apiextensions.k8s.io/customresourcedefinitions" {
                    c.register_crd(obj);
                }
                if key == "/services" {
                    c.allocators.reserve(obj);
                }
                s.restore(key, obj.clone());
            }
            s.restore_rv(
                snapshot
                    .get("resourceVersion")
                    .and_then(Value::as_u64)
                    .unwrap_or(1),
            );
        }
        c
    }

    fn bootstrap(&self) {
        let Some(rt) = self.registry().get("", "v1", "namespaces") else {
            return;
        };
        for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            let target = Target {
                rt: rt.clone(),
                namespace: String::new(),
                name: None,
                subresource: None,
            };
            let opts = WriteOptions {
                field_manager: "localkube".into(),
                ..Default::default()
            };
            let body = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
            if let Err(e) = self.create(&target, body, &opts) {
                tracing::error!(namespace = ns, error = %e, "could not create a standard namespace");
            }
        }
    }

    /// A snapshot of the served resource table.
    pub fn registry(&self) -> Registry {
        self.registry
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn registry_mut(&self) -> std::sync::RwLockWriteGuard<'_, Registry> {
        self.registry.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Like [`Cluster::present`], copying only when the version differs.
    pub fn present_cow<'a>(rt: &ResourceType, obj: &'a Value) -> std::borrow::Cow<'a, Value> {
        if obj.get("apiVersion").and_then(Value::as_str) == Some(&rt.api_version()) {
            std::borrow::Cow::Borrowed(obj)
        } else {
            std::borrow::Cow::Owned(Self::present(rt, obj))
        }
    }

    /// The object as a client of `rt`'s version sees it.
    pub fn present(rt: &ResourceType, obj: &Value) -> Value {
        let mut o = obj.clone();
        if o.get("apiVersion").and_then(Value::as_str) != Some(&rt.api_version()) {
            o["apiVersion"] = Value::String(rt.api_version());
        }
        o
    }

    fn check_namespace(&self, s: &Inner, rt: &ResourceType, namespace: &str) -> ApiResult<()> {
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
    fn normalise_identity(target: &Target, body: &mut Value) -> ApiResult<()> {
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
    fn admit(
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
        let mut warnings = Vec::new();
        let mut s = self.store.write();
        self.check_namespace(&s, &rt, &target.namespace)?;
        if s.get(&rt.storage_key(), &target.namespace, &name).is_some() {
            return Err(ApiError::already_exists(&rt.group, &rt.plural, &name));
        }
        let mut obj = self.admit(target, None, body, opts, None, &mut warnings)?;
        if rt.kind == "CustomResourceDefinition" && rt.group == "apiextensions.k8s.io" {
            crd::validate(&obj).map_err(|c| ApiError::invalid(&rt.group, &rt.kind, &name, c))?;
            crd::set_status(&mut obj);
        }
        if opts.dry_run {
            return Ok(Written {
                object: Self::present(&rt, &obj),
                warnings,
                created: true,
            });
        }
        let stored = self.store_object(&mut s, &rt, &target.namespace, &name, obj);
        if rt.kind == "CustomResourceDefinition" && rt.group == "apiextensions.k8s.io" {
            self.register_crd(&stored);
        }
        Ok(Written {
            object: Self::present(&rt, &stored),
            warnings,
            created: true,
        })
    }

    fn store_object(
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

    fn register_crd(&self, crd_obj: &Value) {
        let mut reg = self.registry_mut();
        let crd_name = name_of(crd_obj).to_string();
        reg.remove_crd(&crd_name);
        for t in crd::resource_types(crd_obj) {
            reg.insert(t);
        }
    }

    /// GET one object.
    pub fn get(&self, target: &Target) -> ApiResult<Value> {
        let rt = &target.rt;
        let name = target.name.as_deref().unwrap_or("");
        let s = self.store.read();
        let obj = s
            .get(&rt.storage_key(), &target.namespace, name)
            .ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, name))?;
        match target.subresource.as_deref() {
            None | Some("status") => Ok(Self::present(rt, &obj)),
            Some("scale") => crate::scale::to_scale(rt, &obj),
            Some(_) => Err(ApiError::path_not_found()),
        }
    }

    /// LIST a collection.
    pub fn list(&self, target: &Target, opts: &ListOptions) -> ApiResult<Value> {
        self.list_items(target, opts).map(|l| l.to_value())
    }

    /// LIST a collection without copying the objects (they are shared).
    pub fn list_items(&self, target: &Target, opts: &ListOptions) -> ApiResult<Listed> {
        let rt = &target.rt;
        let ns = (!target.namespace.is_empty()).then_some(target.namespace.as_str());
        let s = self.store.read();
        let (list_rv, after) = match &opts.continue_token {
            Some(tok) => {
                let (rv, after) = decode_continue(tok)?;
                if rv < s.compacted_rv() {
                    return Err(ApiError::gone(
                        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
                    ));
                }
                (rv, Some(after))
            }
            None => (s.current_rv(), None),
        };
        let mut items = Vec::new();
        let mut last_key = None;
        let mut more = false;
        let limit = opts.limit.filter(|l| *l > 0);
        for (key, obj) in s.range(&rt.storage_key(), ns, after.as_deref()) {
            if !opts.labels.matches(obj) || !opts.fields.matches(obj) {
                continue;
            }
            if let Some(l) = limit
                && items.len() >= l
            {
                more = true;
                break;
            }
            items.push(obj.clone());
            last_key = Some(key.clone());
        }
        let mut metadata = json!({"resourceVersion": list_rv.to_string()});
        if more && let Some(k) = last_key {
            metadata["continue"] = Value::String(encode_continue(list_rv, &k));
            if opts.labels.is_empty() && opts.fields.0.is_empty() {
                let total = s.count(&rt.storage_key(), ns);
                let seen_before = s
                    .range(&rt.storage_key(), ns, None)
                    .take_while(|(key, _)| **key <= k)
                    .count();
                metadata["remainingItemCount"] = json!(total.saturating_sub(seen_before));
            }
        }
        Ok(Listed {
            rt: rt.clone(),
            metadata,
            items,
        })
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
        if let Some(rv) = body
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            && !rv.is_empty()
            && Some(rv)
                != old
                    .pointer("/metadata/resourceVersion")
                    .and_then(Value::as_str)
        {
            return Err(ApiError::stale(&rt.group, &rt.plural, &name));
        }
        self.finish_update(&mut s, target, &old, body, opts, None)
    }

    fn finish_update(
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
        let is_crd = rt.kind == "CustomResourceDefinition" && rt.group == "apiextensions.k8s.io";
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
        if let Some(rv) = new
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            && !rv.is_empty()
            && Some(rv)
                != old
                    .pointer("/metadata/resourceVersion")
                    .and_then(Value::as_str)
        {
            return Err(ApiError::stale(&rt.group, &rt.plural, &name));
        }
        if name_of(&new) != name {
            return Err(ApiError::bad_request(
                "metadata.name: the name of an object cannot be changed by a patch",
            ));
        }
        Self::normalise_identity(target, &mut new)?;
        self.finish_update(&mut s, target, &old, new, opts, None)
    }

    fn apply(&self, target: &Target, body: &[u8], opts: &WriteOptions) -> ApiResult<Written> {
        let rt = target.rt.clone();
        let name = target.name.clone().unwrap_or_default();
        if opts.field_manager.is_empty() {
            return Err(ApiError::bad_request(
                "PATCH, fieldManager is required for apply requests",
            ));
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
        if let Some(o) = &old
            && let Some(rv) = applied
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
            && Some(rv)
                != o.pointer("/metadata/resourceVersion")
                    .and_then(Value::as_str)
        {
            return Err(ApiError::stale(&rt.group, &rt.plural, &name));
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
                let mut warnings = Vec::new();
                let mut obj = self.admit(
                    target,
                    None,
                    outcome.object,
                    opts,
                    Some(outcome.managed),
                    &mut warnings,
                )?;
                if rt.kind == "CustomResourceDefinition" && rt.group == "apiextensions.k8s.io" {
                    crd::validate(&obj)
                        .map_err(|c| ApiError::invalid(&rt.group, &rt.kind, &name, c))?;
                    crd::set_status(&mut obj);
                }
                if opts.dry_run {
                    return Ok(Written {
                        object: Self::present(&rt, &obj),
                        warnings,
                        created: true,
                    });
                }
                let stored = self.store_object(&mut s, &rt, &target.namespace, &name, obj);
                if rt.kind == "CustomResourceDefinition" && rt.group == "apiextensions.k8s.io" {
                    self.register_crd(&stored);
                }
                Ok(Written {
                    object: Self::present(&rt, &stored),
                    warnings,
                    created: true,
                })
            }
        }
    }

    fn update_scale(
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
        if let Some(rv) = scale
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            && !rv.is_empty()
            && Some(rv)
                != old
                    .pointer("/metadata/resourceVersion")
                    .and_then(Value::as_str)
        {
            return Err(ApiError::stale(&rt.group, &rt.plural, &name));
        }
        let mut new = (*old).clone();
        crate::scale::set_pointer(&mut new, &spec.spec_replicas, json!(replicas));
        let parent = Target {
            subresource: Some("scale".into()),
            ..target.clone()
        };
        // The parent is admitted as a main-resource write with the scale
        // manager owning the replicas field.
        let written = self.finish_update_scale(&mut s, &parent, &old, new, opts)?;
        let obj = written.object.clone();
        Ok(Written {
            object: crate::scale::to_scale(&rt, &obj)?,
            ..written
        })
    }

    fn finish_update_scale(
        &self,
        s: &mut Inner,
        target: &Target,
        old: &Value,
        new: Value,
        opts: &WriteOptions,
    ) -> ApiResult<Written> {
        // admit() treats unknown subresources like the main resource except
        // for status handling, which is what scale needs: keep old status.
        let mut with_status = new;
        if let Some(st) = old.get("status") {
            with_status["status"] = st.clone();
        }
        let t = Target {
            subresource: Some("scale".into()),
            ..target.clone()
        };
        self.finish_update(s, &t, old, with_status, opts, None)
    }

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
    fn delete_object(
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

    fn drop_finalizer(
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

    fn orphan_dependents(&self, s: &mut Inner, uid: &str) {
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

    fn delete_by_key(&self, s: &mut Inner, key: &str, okey: &str, policy: &str) {
        let Some((ns, name)) = okey.split_once('/') else {
            return;
        };
        let Some(rt) = self.type_for_key(key) else {
            return;
        };
        let (ns, name) = (ns.to_string(), name.to_string());
        self.delete_object(s, &rt, &ns, &name, policy);
    }

    fn type_for_key(&self, key: &str) -> Option<Arc<ResourceType>> {
        self.registry()
            .all()
            .into_iter()
            .find(|t| t.storage_key() == key)
    }

    /// Remove an object now and cascade to its dependents.
    fn remove_and_cascade(
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
        if rt.kind == "CustomResourceDefinition" && rt.group == "apiextensions.k8s.io" {
            if let (Some(group), Some(plural)) = (
                removed.pointer("/spec/group").and_then(Value::as_str),
                removed
                    .pointer("/spec/names/plural")
                    .and_then(Value::as_str),
            ) {
                s.drop_table(&format!("{group}/{plural}"));
            }
            self.registry_mut().remove_crd(name);
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

    fn empty_namespace(&self, s: &mut Inner, ns: &str) {
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

/// Parse a JSON or YAML request body.
pub fn parse_body(body: &[u8]) -> ApiResult<Value> {
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        return Ok(v);
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::bad_request("the request body is not UTF-8"))?;
    serde_yaml_ng::from_str::<Value>(text)
        .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))
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

fn encode_continue(rv: u64, after: &str) -> String {
    use base64::Engine;
    let raw = json!({"v": "meta.k8s.io/v1", "rv": rv, "start": after}).to_string();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn decode_continue(token: &str) -> ApiResult<(u64, String)> {
    use base64::Engine;
    let bad = || ApiError::bad_request(format!("continue key is not valid: {token}"));
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| bad())?;
    let v: Value = serde_json::from_slice(&raw).map_err(|_| bad())?;
    let rv = v.get("rv").and_then(Value::as_u64).ok_or_else(bad)?;
    let start = v.get("start").and_then(Value::as_str).ok_or_else(bad)?;
    Ok((rv, start.to_string()))
}
