//! The comparison itself: the changed fields between two normalised
//! objects as JSON pointers, and the structural stand-in for a server-side
//! apply (the desired object laid over the live one, minus the fields
//! Sextant owned and Git dropped).

use serde::Serialize;
use serde_json::Value;

use super::FIELD_MANAGER;
use super::fields::{managed_fields, remove_owned_unset};

/// What happened to one field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeOp {
    /// Only in the new object.
    Add,
    /// Only in the old object.
    Remove,
    /// In both, with different values.
    Replace,
}

/// One changed field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    /// JSON pointer to the field (`/spec/replicas`).
    pub path: String,
    /// Added, removed or replaced.
    pub op: ChangeOp,
}

/// The fields that differ from `old` to `new`, sorted by path: a field
/// whose value changed type, or a list item past the common length, is one
/// change, not one per leaf.
pub fn changes(old: &Value, new: &Value) -> Vec<Change> {
    let mut out = Vec::new();
    let mut path = String::new();
    walk(old, new, &mut path, &mut out);
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

fn walk(old: &Value, new: &Value, path: &mut String, out: &mut Vec<Change>) {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a {
                let len = path.len();
                push_token(path, k);
                match b.get(k) {
                    Some(vb) => walk(va, vb, path, out),
                    None => out.push(change(path, ChangeOp::Remove)),
                }
                path.truncate(len);
            }
            for k in b.keys().filter(|k| !a.contains_key(*k)) {
                let len = path.len();
                push_token(path, k);
                out.push(change(path, ChangeOp::Add));
                path.truncate(len);
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for i in 0..a.len().max(b.len()) {
                let len = path.len();
                path.push('/');
                path.push_str(&i.to_string());
                match (a.get(i), b.get(i)) {
                    (Some(va), Some(vb)) => walk(va, vb, path, out),
                    (Some(_), None) => out.push(change(path, ChangeOp::Remove)),
                    (None, _) => out.push(change(path, ChangeOp::Add)),
                }
                path.truncate(len);
            }
        }
        (a, b) if a != b => out.push(change(path, ChangeOp::Replace)),
        _ => {}
    }
}

fn change(path: &str, op: ChangeOp) -> Change {
    Change {
        path: if path.is_empty() {
            "/".to_owned()
        } else {
            path.to_owned()
        },
        op,
    }
}

/// Append `/token` with RFC 6901 escaping.
fn push_token(path: &mut String, token: &str) {
    path.push('/');
    for c in token.chars() {
        match c {
            '~' => path.push_str("~0"),
            '/' => path.push_str("~1"),
            c => path.push(c),
        }
    }
}

/// `desired` laid over `live`: maps merge key by key, lists of named items
/// (containers, env, volumes, ports with names) merge by name with live-only
/// items kept after the desired ones, any other value or list is replaced
/// by the desired one.
pub fn overlay(live: &Value, desired: &Value) -> Value {
    match (live, desired) {
        (Value::Object(l), Value::Object(d)) => {
            let mut out = l.clone();
            for (k, dv) in d {
                let merged = match l.get(k) {
                    Some(lv) => overlay(lv, dv),
                    None => dv.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        (Value::Array(l), Value::Array(d)) if named(l) && named(d) => {
            let mut out: Vec<Value> = d
                .iter()
                .map(
                    |dv| match l.iter().find(|lv| lv.get("name") == dv.get("name")) {
                        Some(lv) => overlay(lv, dv),
                        None => dv.clone(),
                    },
                )
                .collect();
            out.extend(
                l.iter()
                    .filter(|lv| !d.iter().any(|dv| dv.get("name") == lv.get("name")))
                    .cloned(),
            );
            Value::Array(out)
        }
        (_, d) => d.clone(),
    }
}

fn named(items: &[Value]) -> bool {
    !items.is_empty()
        && items
            .iter()
            .all(|i| i.get("name").is_some_and(Value::is_string))
}

/// The structural stand-in for the server's dry-run: [`overlay`], then the
/// fields Sextant applied before and Git no longer sets are dropped (so
/// fields other managers own stay, as under server-side apply). `live_raw`
/// is the live object before normalisation (it carries managedFields).
pub(crate) fn ownership_overlay(live: &Value, desired: &Value, live_raw: &Value) -> Value {
    let mut target = overlay(live, desired);
    for entry in managed_fields(live_raw) {
        if entry.manager == FIELD_MANAGER && entry.operation == "Apply" {
            remove_owned_unset(&mut target, desired, entry.fields);
        }
    }
    target
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{ChangeOp, changes, overlay};

    #[test]
    fn changes_name_each_differing_field_by_json_pointer() {
        let old = json!({"spec": {"replicas": 1, "a/b": 1, "gone": true, "list": [1, 2]}});
        let new = json!({"spec": {"replicas": 2, "a/b": 2, "new": true, "list": [1]}});
        let found: Vec<(String, ChangeOp)> = changes(&old, &new)
            .into_iter()
            .map(|c| (c.path, c.op))
            .collect();
        assert_eq!(
            found,
            vec![
                ("/spec/a~1b".to_owned(), ChangeOp::Replace),
                ("/spec/gone".to_owned(), ChangeOp::Remove),
                ("/spec/list/1".to_owned(), ChangeOp::Remove),
                ("/spec/new".to_owned(), ChangeOp::Add),
                ("/spec/replicas".to_owned(), ChangeOp::Replace),
            ]
        );
    }

    #[test]
    fn a_value_compared_with_itself_has_no_changes() {
        let v = json!({"a": [1, {"b": null}], "c": "d"});
        assert!(changes(&v, &v).is_empty());
    }

    #[test]
    fn overlay_merges_named_items_and_keeps_live_only_fields() {
        let live = json!({"spec": {"replicas": 3, "containers": [
            {"name": "web", "image": "a", "imagePullPolicy": "Always"},
            {"name": "injected", "image": "x"}]}});
        let desired = json!({"spec": {"containers": [{"name": "web", "image": "b"}]}});
        assert_eq!(
            overlay(&live, &desired),
            json!({"spec": {"replicas": 3, "containers": [
                {"name": "web", "image": "b", "imagePullPolicy": "Always"},
                {"name": "injected", "image": "x"}]}})
        );
    }
}
