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

mod admit;
mod delete;
mod write;

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
    /// Shared, copied on write: readers take an `Arc`, CRD changes swap it.
    registry: RwLock<Arc<Registry>>,
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

/// Whether `rt` is the CustomResourceDefinition kind itself.
fn is_crd(rt: &ResourceType) -> bool {
    rt.kind == "CustomResourceDefinition" && rt.group == "apiextensions.k8s.io"
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
            registry: RwLock::new(Arc::new(Registry::with_builtins())),
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
            registry: RwLock::new(Arc::new(Registry::with_builtins())),
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

    /// A snapshot of the served resource table (cheap: shared).
    pub fn registry(&self) -> Arc<Registry> {
        self.registry
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Change the resource table (copy on write).
    fn update_registry(&self, change: impl FnOnce(&mut Registry)) {
        let mut guard = self.registry.write().unwrap_or_else(|e| e.into_inner());
        change(Arc::make_mut(&mut guard));
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

    fn register_crd(&self, crd_obj: &Value) {
        let crd_name = name_of(crd_obj).to_string();
        self.update_registry(|reg| {
            reg.remove_crd(&crd_name);
            for t in crd::resource_types(crd_obj) {
                reg.insert(t);
            }
        });
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
