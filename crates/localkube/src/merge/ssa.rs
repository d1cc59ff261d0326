//! Server-side apply and field ownership tracking (`metadata.managedFields`).
//!
//! Model (after Kubernetes' structured-merge-diff):
//!
//! * Each managed-fields entry is identified by (manager, operation, subresource)
//!   and owns a [`FieldSet`]. Ownership of `status` is tracked only for the
//!   `status` subresource, which in turn tracks nothing else.
//! * [`apply`] merges the applied configuration into the live object, removes
//!   what the applier stopped setting (unless someone else still owns it), then
//!   compares live and result: changed fields owned by other entries (including
//!   the applier's own `Update` entry, as in Kubernetes) are conflicts unless
//!   forced, in which case they move to the applier. Removal details: a map field
//!   is kept while anyone owns it or anything below it, and a map emptied by the
//!   removal goes too; a list element (list-map or set) is kept only if someone
//!   else owns the element itself, and then keeps its key fields.
//! * [`record_update`] gives every changed field to the writer's `Update` entry and
//!   takes changed/removed fields away from all other entries.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};

use super::fieldset::{self, FieldSet, FieldSetError, PathElement, element_pe};
use super::schema::{self, ListType, Scope, tracked, tracked_metadata_key, tracked_root_key};
use super::smp;

/// The kind of write that produced a managed-fields entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    /// Server-side apply.
    Apply,
    /// Any other write (create, update, patch).
    Update,
}

impl Operation {
    /// The name used in `managedFields[].operation`.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Apply => "Apply",
            Operation::Update => "Update",
        }
    }
}

/// One `metadata.managedFields` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct ManagedEntry {
    /// Field manager name.
    pub manager: String,
    /// Apply or Update.
    pub operation: Operation,
    /// API version the fields were written with.
    pub api_version: String,
    /// RFC 3339 timestamp of the last change to this entry.
    pub time: String,
    /// The subresource written through (`status`, `scale`), if any.
    pub subresource: Option<String>,
    /// The owned fields.
    pub fields: FieldSet,
}

impl ManagedEntry {
    fn is(&self, manager: &str, operation: Operation, subresource: Option<&str>) -> bool {
        self.manager == manager
            && self.operation == operation
            && self.subresource.as_deref() == subresource
    }
}

/// A field that an apply would change although another manager owns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    /// The manager owning the field.
    pub manager: String,
    /// Human-readable path, e.g. `.spec.replicas`.
    pub path: String,
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "conflict with {:?}: {}", self.manager, self.path)
    }
}

/// The message of the 409 Conflict status returned for a failed apply, in the
/// shape Kubernetes uses: `Apply failed with 1 conflict: conflict with "m": .a`, or
/// for several, `Apply failed with 2 conflicts: conflicts with "m":\n- .a\n- .b`.
pub fn conflicts_message(conflicts: &[Conflict]) -> String {
    if let [only] = conflicts {
        return format!("Apply failed with 1 conflict: {only}");
    }
    let mut by_manager: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for c in conflicts {
        by_manager.entry(&c.manager).or_default().push(&c.path);
    }
    let mut lines = Vec::new();
    for (manager, paths) in by_manager {
        lines.push(format!("conflicts with {manager:?}:"));
        lines.extend(paths.into_iter().map(|p| format!("- {p}")));
    }
    format!(
        "Apply failed with {} conflicts: {}",
        conflicts.len(),
        lines.join("\n")
    )
}

/// The result of a successful apply.
#[derive(Clone, Debug, PartialEq)]
pub struct ApplyOutcome {
    /// The new object, with `metadata.managedFields` already written.
    pub object: Value,
    /// The new managed-fields entries (also written into `object`).
    pub managed: Vec<ManagedEntry>,
}

/// Reads `metadata.managedFields` (absent or null means no entries).
pub fn parse_managed_fields(obj: &Value) -> Result<Vec<ManagedEntry>, FieldSetError> {
    let invalid = |msg: String| FieldSetError::InvalidManagedFields(msg);
    let items = match obj.pointer("/metadata/managedFields") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(invalid("must be a list".to_owned())),
    };
    let mut entries = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let Value::Object(m) = item else {
            return Err(invalid(format!("entry {i} is not an object")));
        };
        let text = |key: &str| m.get(key).and_then(Value::as_str).unwrap_or_default();
        let operation = match text("operation") {
            "Apply" => Operation::Apply,
            "Update" => Operation::Update,
            other => return Err(invalid(format!("entry {i}: invalid operation {other:?}"))),
        };
        if !matches!(text("fieldsType"), "" | "FieldsV1") {
            return Err(invalid(format!("entry {i}: unsupported fieldsType")));
        }
        let fields = match m.get("fieldsV1") {
            None | Some(Value::Null) => FieldSet::default(),
            Some(v) => FieldSet::from_fields_v1(v)?,
        };
        entries.push(ManagedEntry {
            manager: text("manager").to_owned(),
            operation,
            api_version: text("apiVersion").to_owned(),
            time: text("time").to_owned(),
            subresource: Some(text("subresource"))
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            fields,
        });
    }
    Ok(entries)
}

/// Writes `entries` to `metadata.managedFields` (removing the field when empty).
pub fn write_managed_fields(obj: &mut Value, entries: &[ManagedEntry]) {
    let Some(root) = obj.as_object_mut() else {
        return;
    };
    let meta = root
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if !meta.is_object() {
        *meta = Value::Object(Map::new());
    }
    let Some(meta) = meta.as_object_mut() else {
        return;
    };
    if entries.is_empty() {
        meta.remove("managedFields");
        return;
    }
    let list = entries
        .iter()
        .map(|e| {
            let mut m = Map::new();
            m.insert("manager".into(), e.manager.clone().into());
            m.insert("operation".into(), e.operation.as_str().into());
            m.insert("apiVersion".into(), e.api_version.clone().into());
            m.insert("time".into(), e.time.clone().into());
            m.insert("fieldsType".into(), "FieldsV1".into());
            m.insert("fieldsV1".into(), e.fields.to_fields_v1());
            if let Some(sub) = &e.subresource {
                m.insert("subresource".into(), sub.clone().into());
            }
            Value::Object(m)
        })
        .collect();
    meta.insert("managedFields".into(), Value::Array(list));
}

fn scope_of(subresource: Option<&str>) -> Scope {
    if subresource == Some("status") {
        Scope::Status
    } else {
        Scope::Main
    }
}

/// Metadata the server owns; never merged from an applied configuration.
const SYSTEM_METADATA: &[&str] = &[
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];

/// The part of an applied configuration that is merged in `scope`.
fn config_view(applied: &Value, scope: Scope) -> Map<String, Value> {
    let mut out = Map::new();
    let Some(map) = applied.as_object() else {
        return out;
    };
    for (key, value) in map {
        match (scope, key.as_str()) {
            (Scope::Status, "status") => {}
            (Scope::Status, _) | (_, "status") => continue,
            _ => {}
        }
        let mut value = value.clone();
        if let ("metadata", Some(meta)) = (key.as_str(), value.as_object_mut()) {
            meta.retain(|k, _| !SYSTEM_METADATA.contains(&k.as_str()));
        }
        out.insert(key.clone(), value);
    }
    out
}

/// Server-side apply of `applied` by `manager` onto `live` (`None` creates).
///
/// Returns every conflict (manager and path) unless `force`.
#[allow(clippy::too_many_arguments)]
pub fn apply(
    kind: &str,
    live: Option<&Value>,
    applied: &Value,
    manager: &str,
    api_version: &str,
    now: &str,
    force: bool,
    subresource: Option<&str>,
) -> Result<ApplyOutcome, Vec<Conflict>> {
    let scope = scope_of(subresource);
    let empty = Value::Object(Map::new());
    let live = live.filter(|v| v.is_object()).unwrap_or(&empty);
    let managed = parse_managed_fields(live).unwrap_or_default();
    let config = config_view(applied, scope);
    let new_set = FieldSet::from_tracked(kind, &tracked(&Value::Object(config.clone()), scope));

    let mut object = live.clone();
    if let Value::Object(target) = &mut object {
        smp::apply_merge(kind, target, &config);
    }

    let own = managed
        .iter()
        .position(|e| e.is(manager, Operation::Apply, subresource));
    let others = managed
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != own)
        .fold(FieldSet::default(), |acc, (_, e)| acc.union(&e.fields));
    let keep = new_set.union(&others);
    if let Some(last) = own.map(|i| &managed[i].fields) {
        let remove = last.difference(&keep);
        if let Value::Object(target) = &mut object {
            Walk::prune_root(kind, target, &remove, &keep, scope);
        }
    }

    let cmp = fieldset::compare(kind, &tracked(live, scope), &tracked(&object, scope));
    let mut conflicts = Vec::new();
    for (i, entry) in managed.iter().enumerate() {
        if Some(i) == own {
            continue;
        }
        for path in entry.fields.intersection(&cmp.changed).leaf_paths() {
            conflicts.push(Conflict {
                manager: entry.manager.clone(),
                path,
            });
        }
    }
    if !force && !conflicts.is_empty() {
        return Err(conflicts);
    }

    let mine = ManagedEntry {
        manager: manager.to_owned(),
        operation: Operation::Apply,
        api_version: api_version.to_owned(),
        time: now.to_owned(),
        subresource: subresource.map(str::to_owned),
        fields: new_set,
    };
    let mut mine = Some(mine);
    let mut entries = Vec::with_capacity(managed.len() + 1);
    for (i, mut entry) in managed.into_iter().enumerate() {
        if Some(i) == own {
            entries.extend(mine.take());
        } else {
            entry.fields = entry
                .fields
                .difference(&cmp.changed)
                .difference(&cmp.removed);
            entries.push(entry);
        }
    }
    entries.extend(mine);
    entries.retain(|e| !e.fields.is_empty());
    write_managed_fields(&mut object, &entries);
    Ok(ApplyOutcome {
        object,
        managed: entries,
    })
}

/// Records a non-apply write by `manager`: fields new or changed between `old`
/// (`None` for a create) and `new` move to `manager`'s `Update` entry; changed and
/// removed fields leave every other entry. Returns the new entry list.
#[allow(clippy::too_many_arguments)]
pub fn record_update(
    kind: &str,
    old: Option<&Value>,
    new: &Value,
    managed: Vec<ManagedEntry>,
    manager: &str,
    api_version: &str,
    now: &str,
    subresource: Option<&str>,
) -> Vec<ManagedEntry> {
    let scope = scope_of(subresource);
    let old = old.map(|o| tracked(o, scope)).unwrap_or_default();
    let cmp = fieldset::compare(kind, &old, &tracked(new, scope));
    if cmp.changed.is_empty() && cmp.removed.is_empty() {
        return managed;
    }
    let mut entries = Vec::with_capacity(managed.len() + 1);
    let mut found = false;
    for mut entry in managed {
        if entry.is(manager, Operation::Update, subresource) {
            found = true;
            entry.fields = entry.fields.union(&cmp.changed).difference(&cmp.removed);
            entry.api_version = api_version.to_owned();
            entry.time = now.to_owned();
        } else {
            entry.fields = entry
                .fields
                .difference(&cmp.changed)
                .difference(&cmp.removed);
        }
        entries.push(entry);
    }
    if !found {
        entries.push(ManagedEntry {
            manager: manager.to_owned(),
            operation: Operation::Update,
            api_version: api_version.to_owned(),
            time: now.to_owned(),
            subresource: subresource.map(str::to_owned),
            fields: cmp.changed.difference(&cmp.removed),
        });
    }
    entries.retain(|e| !e.fields.is_empty());
    entries
}

/// Walks objects with the schema path (list elements add no name).
struct Walk<'a> {
    kind: &'a str,
    names: Vec<&'a str>,
}

impl<'a> Walk<'a> {
    fn new(kind: &'a str) -> Self {
        Walk {
            kind,
            names: Vec::new(),
        }
    }

    fn list_type(&self) -> ListType {
        schema::list_type(self.kind, &self.names)
    }

    /// Removes the fields in `remove` that nobody in `keep` owns, from the root
    /// (never touching untracked fields, whatever `remove` says).
    fn prune_root(
        kind: &str,
        target: &mut Map<String, Value>,
        remove: &FieldSet,
        keep: &FieldSet,
        scope: Scope,
    ) {
        let mut allowed = FieldSet::default();
        for (pe, member, children) in remove.iter() {
            let PathElement::Field(name) = pe else {
                continue;
            };
            if !tracked_root_key(name, scope) {
                continue;
            }
            let mut part = FieldSet::default();
            if name == "metadata" {
                for (child, child_member, grand) in children.iter() {
                    if matches!(child, PathElement::Field(n) if !tracked_metadata_key(n)) {
                        continue;
                    }
                    part = part.union(&FieldSet::single(&[pe, child], child_member, grand));
                }
            } else {
                part = FieldSet::single(&[pe], member, children);
            }
            allowed = allowed.union(&part);
        }
        Walk::new(kind).prune_fields(target, &allowed, keep, &[]);
    }

    /// Removes fields of the object `target` listed in `remove` and not protected by
    /// `keep` (which holds everyone's current fields at this node). `key_fields`
    /// (list-map keys of an element that stays) are never removed.
    fn prune_fields(
        &mut self,
        target: &mut Map<String, Value>,
        remove: &'a FieldSet,
        keep: &'a FieldSet,
        key_fields: &[&str],
    ) {
        let nothing = FieldSet::empty();
        for (pe, member, children) in remove.iter() {
            let PathElement::Field(name) = pe else {
                continue;
            };
            if key_fields.contains(&name.as_str()) {
                continue;
            }
            let kept = keep.get(pe);
            let Some(child) = target.get_mut(name) else {
                continue;
            };
            if member && kept.is_none() {
                target.remove(name);
                continue;
            }
            if children.is_empty() {
                continue;
            }
            let was_empty = is_empty_container(child);
            self.names.push(name);
            self.prune_value(child, children, kept.map_or(nothing, |(_, k)| k));
            self.names.pop();
            if !was_empty && is_empty_container(child) && kept.is_none() {
                target.remove(name);
            }
        }
    }

    fn prune_value(&mut self, value: &mut Value, remove: &'a FieldSet, keep: &'a FieldSet) {
        match value {
            Value::Object(map) => self.prune_fields(map, remove, keep, &[]),
            Value::Array(items) => {
                let list = self.list_type();
                let keys: Vec<&str> = match &list {
                    ListType::Map(keys) => keys.clone(),
                    _ => Vec::new(),
                };
                let mut i = 0;
                while i < items.len() {
                    let Some(pe) = element_pe(&list, &items[i]) else {
                        i += 1;
                        continue;
                    };
                    let Some((member, _)) = remove.get(&pe) else {
                        i += 1;
                        continue;
                    };
                    let kept = keep.get(&pe);
                    if member && !kept.is_some_and(|(m, _)| m) {
                        items.remove(i);
                        continue;
                    }
                    if let (Some((_, children)), Value::Object(map)) =
                        (remove.get(&pe), &mut items[i])
                    {
                        let keep_children = kept.map_or(FieldSet::empty(), |(_, k)| k);
                        self.prune_fields(map, children, keep_children, &keys);
                    }
                    i += 1;
                }
            }
            _ => {}
        }
    }
}

fn is_empty_container(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}
