//! Field ownership from `metadata.managedFields`: the FieldsV1 sets of each
//! manager (`f:` fields, `k:` keyed list items, `v:` set values, `i:`
//! indices, `.` for an item itself), and removing the fields a set names
//! from an object.

use serde_json::{Map, Value};

/// One entry of `metadata.managedFields`.
#[derive(Clone, Debug, PartialEq)]
pub struct ManagedEntry<'a> {
    /// The field manager (`sextant`, `kubectl`, `kube-controller-manager`).
    pub manager: &'a str,
    /// `Apply` or `Update`.
    pub operation: &'a str,
    /// The subresource written through (`status`, `scale`), if any.
    pub subresource: &'a str,
    /// The FieldsV1 set.
    pub fields: &'a Map<String, Value>,
}

/// The managedFields entries of an object (malformed entries are skipped).
pub fn managed_fields(obj: &Value) -> Vec<ManagedEntry<'_>> {
    let Some(entries) = obj
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    entries
        .iter()
        .filter_map(|e| {
            let text = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or_default();
            Some(ManagedEntry {
                manager: text("manager"),
                operation: text("operation"),
                subresource: text("subresource"),
                fields: e.get("fieldsV1")?.as_object()?,
            })
        })
        .collect()
}

/// Remove from `target` every field and list item that `fields` names.
/// Maps and lists emptied by the removal go too.
pub fn remove_owned(target: &mut Value, fields: &Map<String, Value>) {
    remove(target, None, fields, false);
}

/// Remove from `target` the fields and list items that `fields` names and
/// `reference` does not have (Sextant-owned fields that Git dropped).
pub fn remove_owned_unset(target: &mut Value, reference: &Value, fields: &Map<String, Value>) {
    remove(target, Some(reference), fields, true);
}

/// The walk behind both removals: with `only_unset`, a field is removed
/// only where `reference` lacks it.
fn remove(
    target: &mut Value,
    reference: Option<&Value>,
    fields: &Map<String, Value>,
    only_unset: bool,
) {
    match target {
        Value::Object(map) => {
            for (k, sub) in fields {
                let Some(name) = k.strip_prefix("f:") else {
                    continue;
                };
                let ref_child = reference.and_then(|r| r.get(name));
                if only_unset && ref_child.is_none() {
                    map.remove(name);
                    continue;
                }
                match (sub.as_object().filter(|s| !s.is_empty()), map.get_mut(name)) {
                    (None, Some(_)) if !only_unset => {
                        map.remove(name);
                    }
                    (Some(sub), Some(child)) => {
                        let was_empty = is_empty_container(child);
                        remove(child, ref_child, sub, only_unset);
                        if !was_empty && is_empty_container(child) {
                            map.remove(name);
                        }
                    }
                    _ => {}
                }
            }
        }
        Value::Array(items) => {
            let mut drop = Vec::new();
            for (k, sub) in fields {
                let Some(i) = find_item(items, k, false) else {
                    continue;
                };
                // Git may leave out key fields the server defaults (a
                // port's protocol), so the reference is matched loosely.
                let ref_item = match reference.and_then(Value::as_array) {
                    Some(r) => find_item(r, k, true).and_then(|j| r.get(j)),
                    None => None,
                };
                let sub = sub.as_object().filter(|s| !s.is_empty());
                if only_unset {
                    match (ref_item, sub) {
                        (None, _) => drop.push(i),
                        (Some(r), Some(sub)) => remove(&mut items[i], Some(r), sub, true),
                        (Some(_), None) => {}
                    }
                } else {
                    match sub {
                        Some(sub) if !sub.contains_key(".") => {
                            remove(&mut items[i], None, sub, false);
                        }
                        _ => drop.push(i),
                    }
                }
            }
            drop.sort_unstable();
            drop.dedup();
            for i in drop.into_iter().rev() {
                items.remove(i);
            }
        }
        _ => {}
    }
}

fn is_empty_container(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// The index of the list item a FieldsV1 key (`k:{...}`, `v:...`, `i:N`)
/// names. With `loose`, key fields the item lacks are not compared (at
/// least one must match).
fn find_item(items: &[Value], key: &str, loose: bool) -> Option<usize> {
    if let Some(json) = key.strip_prefix("k:") {
        let wanted: Map<String, Value> = serde_json::from_str(json).ok()?;
        items.iter().position(|item| {
            let mut matched = false;
            let all = wanted.iter().all(|(k, v)| match item.get(k) {
                Some(x) => {
                    matched = true;
                    loose_eq(x, v)
                }
                None => loose,
            });
            all && matched
        })
    } else if let Some(json) = key.strip_prefix("v:") {
        let wanted: Value = serde_json::from_str(json).ok()?;
        items.iter().position(|item| loose_eq(item, &wanted))
    } else if let Some(n) = key.strip_prefix("i:") {
        n.parse::<usize>().ok().filter(|i| *i < items.len())
    } else {
        None
    }
}

/// Equality where 80 and 80.0 are the same number.
fn loose_eq(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::{managed_fields, remove_owned, remove_owned_unset};

    fn fields(v: Value) -> serde_json::Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn owned_fields_and_keyed_items_are_removed_and_emptied_maps_go_too() {
        let mut obj = json!({"spec": {"replicas": 3, "template": {"spec": {"containers": [
            {"name": "web", "image": "a"}, {"name": "sidecar", "image": "b"}]}}},
            "metadata": {"labels": {"team": "x"}}});
        let owned = fields(
            json!({"f:spec": {"f:replicas": {}, "f:template": {"f:spec": {
            "f:containers": {"k:{\"name\":\"sidecar\"}": {".": {}, "f:image": {}}}}}},
            "f:metadata": {"f:labels": {"f:team": {}}}}),
        );
        remove_owned(&mut obj, &owned);
        assert_eq!(
            obj,
            json!({"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "a"}]}}}})
        );
    }

    #[test]
    fn only_fields_missing_from_the_reference_are_removed_as_unset() {
        let mut target = json!({"spec": {"replicas": 3, "paused": true}});
        let reference = json!({"spec": {"paused": false}});
        let owned = fields(json!({"f:spec": {"f:replicas": {}, "f:paused": {}}}));
        remove_owned_unset(&mut target, &reference, &owned);
        assert_eq!(target, json!({"spec": {"paused": true}}));
    }

    #[test]
    fn managed_fields_entries_are_read_with_their_manager_and_operation() {
        let obj = json!({"metadata": {"managedFields": [
            {"manager": "kubectl", "operation": "Update", "fieldsType": "FieldsV1",
             "fieldsV1": {"f:spec": {"f:replicas": {}}}, "subresource": "scale"},
            {"manager": "broken"}]}});
        let entries = managed_fields(&obj);
        assert_eq!(entries.len(), 1);
        assert_eq!(
            (
                entries[0].manager,
                entries[0].operation,
                entries[0].subresource
            ),
            ("kubectl", "Update", "scale")
        );
    }
}
