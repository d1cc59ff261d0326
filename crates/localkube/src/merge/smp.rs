//! Strategic merge patch (`application/strategic-merge-patch+json`) for built-in kinds.
//!
//! Semantics, following Kubernetes' documented behaviour:
//!
//! * objects merge recursively; a `null` value deletes the key;
//! * list-maps (see [`schema::list_type`]) merge element-wise on their
//!   `patchMergeKey` (the first list-map key): matching elements are merged,
//!   new elements are appended;
//! * sets of scalars are unioned; every other list is replaced;
//! * directives: `$patch: replace|delete|merge` on objects and list elements
//!   (an element `{"$patch": "replace"}` replaces the whole list, an element with
//!   `$patch: delete` removes the element with that key), `$retainKeys`,
//!   `$setElementOrder/<field>` and `$deleteFromPrimitiveList/<field>`.
//!
//! Directive keys (anything starting with `$`) are never stored in the result.
//!
//! The directive-free structural merge used by server-side apply
//! ([`apply_merge`]) lives here too.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde_json::{Map, Value};

use super::fieldset::{PathElement, element_pe};
use super::schema::{self, ListType};

/// Why a strategic merge patch could not be applied.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    /// The patch document was not a JSON object.
    #[error("strategic merge patch must be a JSON object")]
    NotAnObject,
    /// A `$patch` directive had an unknown value.
    #[error("unknown $patch directive {directive} at {path}")]
    UnknownDirective {
        /// Where the directive appeared.
        path: String,
        /// The directive's (JSON) value.
        directive: String,
    },
    /// A list-map element in the patch lacks the merge key.
    #[error("element of {path} does not contain the merge key {key:?}")]
    MissingMergeKey {
        /// The list's path.
        path: String,
        /// The merge key.
        key: String,
    },
    /// Any other malformed patch.
    #[error("invalid strategic merge patch at {path}: {message}")]
    Invalid {
        /// Where the problem is.
        path: String,
        /// What is wrong.
        message: String,
    },
}

const DIRECTIVE: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const SET_ORDER: &str = "$setElementOrder/";
const DELETE_PRIMITIVES: &str = "$deleteFromPrimitiveList/";

/// Applies the strategic merge patch `patch` to `original` (an object of `kind`).
pub fn strategic_merge(kind: &str, original: &Value, patch: &Value) -> Result<Value, PatchError> {
    let Value::Object(patch) = patch else {
        return Err(PatchError::NotAnObject);
    };
    let original = original.as_object().cloned().unwrap_or_default();
    let mut smp = Smp {
        kind,
        names: Vec::new(),
    };
    match smp.merge_map(original, patch)? {
        Some(map) => Ok(Value::Object(map)),
        None => Err(smp.invalid("$patch: delete cannot delete the whole object")),
    }
}

struct Smp<'a> {
    kind: &'a str,
    names: Vec<&'a str>,
}

impl<'a> Smp<'a> {
    fn path(&self) -> String {
        if self.names.is_empty() {
            ".".to_owned()
        } else {
            format!(".{}", self.names.join("."))
        }
    }

    fn invalid(&self, message: &str) -> PatchError {
        PatchError::Invalid {
            path: self.path(),
            message: message.to_owned(),
        }
    }

    /// Merges `patch` into `orig`; `None` means "delete this object".
    fn merge_map(
        &mut self,
        mut orig: Map<String, Value>,
        patch: &'a Map<String, Value>,
    ) -> Result<Option<Map<String, Value>>, PatchError> {
        match patch.get(DIRECTIVE) {
            None => {}
            Some(Value::String(d)) if d == "merge" => {}
            Some(Value::String(d)) if d == "delete" => return Ok(None),
            Some(Value::String(d)) if d == "replace" => orig = Map::new(),
            Some(other) => {
                return Err(PatchError::UnknownDirective {
                    path: self.path(),
                    directive: other.to_string(),
                });
            }
        }

        if let Some(retain) = patch.get(RETAIN_KEYS) {
            let keys = self.string_list(retain, RETAIN_KEYS)?;
            orig.retain(|k, _| keys.contains(&k.as_str()));
        }

        for (key, value) in patch {
            if let Some(field) = key.strip_prefix(DELETE_PRIMITIVES) {
                let Value::Array(doomed) = value else {
                    return Err(self.invalid("$deleteFromPrimitiveList needs a list"));
                };
                if let Some(Value::Array(items)) = orig.get_mut(field) {
                    items.retain(|item| !doomed.contains(item));
                }
            }
        }

        // The order the server had, for `$setElementOrder` below.
        let mut server_orders: Vec<(&str, Vec<Value>)> = Vec::new();
        for key in patch.keys() {
            if let Some(field) = key.strip_prefix(SET_ORDER) {
                self.names.push(field);
                let list = schema::list_type(self.kind, &self.names);
                self.names.pop();
                let ids = match orig.get(field) {
                    Some(Value::Array(items)) => {
                        items.iter().filter_map(|v| identity(&list, v)).collect()
                    }
                    _ => Vec::new(),
                };
                server_orders.push((field, ids));
            }
        }

        for (key, value) in patch {
            if key.starts_with('$') {
                continue;
            }
            self.names.push(key);
            let merged = match value {
                Value::Null => None,
                Value::Object(p) => {
                    let base = match orig.get_mut(key).map(Value::take) {
                        Some(Value::Object(m)) => m,
                        _ => Map::new(),
                    };
                    self.merge_map(base, p)?.map(Value::Object)
                }
                Value::Array(p) => {
                    let base = orig.get_mut(key).map(Value::take);
                    Some(self.merge_list(base, p)?)
                }
                scalar => Some(scalar.clone()),
            };
            self.names.pop();
            match merged {
                Some(v) => {
                    orig.insert(key.clone(), v);
                }
                None => {
                    orig.remove(key);
                }
            }
        }

        for (key, value) in patch {
            if let Some(field) = key.strip_prefix(SET_ORDER) {
                let Value::Array(order) = value else {
                    return Err(self.invalid("$setElementOrder needs a list"));
                };
                self.names.push(field);
                let list = schema::list_type(self.kind, &self.names);
                self.names.pop();
                if let Some(Value::Array(items)) = orig.get_mut(field) {
                    let order: Vec<Value> =
                        order.iter().filter_map(|v| identity(&list, v)).collect();
                    let server = server_orders
                        .iter()
                        .find(|(f, _)| *f == field)
                        .map(|(_, ids)| ids.as_slice())
                        .unwrap_or_default();
                    normalize_order(items, &list, &order, server);
                }
            }
        }
        Ok(Some(orig))
    }

    /// Merges the patch list `patch` into the current value `base` of the field.
    fn merge_list(&mut self, base: Option<Value>, patch: &'a [Value]) -> Result<Value, PatchError> {
        let list = schema::list_type(self.kind, &self.names);
        let replace_all = patch.iter().any(|item| {
            item.get(DIRECTIVE)
                .is_some_and(|d| d.as_str() == Some("replace"))
        });
        let mut items = match base {
            Some(Value::Array(items)) if !replace_all => items,
            _ => Vec::new(),
        };
        let merge_key = match &list {
            ListType::Map(keys) if !replace_all => keys.first().copied(),
            _ => None,
        };
        let server_order: Vec<Value> = items.iter().filter_map(|v| identity(&list, v)).collect();
        let patch_order: Vec<Value> = patch
            .iter()
            .filter(|v| v.get(DIRECTIVE).is_none())
            .filter_map(|v| identity(&list, v))
            .collect();
        let Some(merge_key) = merge_key else {
            // Atomic lists and whole-list replacement take the patch's elements;
            // sets add the ones they do not have yet.
            let union = list == ListType::Set && !replace_all;
            if !union {
                items.clear();
            }
            for item in patch {
                if item.get(DIRECTIVE).is_some() {
                    continue;
                }
                let fresh = self.fresh(item)?;
                if let Some(fresh) = fresh.filter(|f| !union || !items.contains(f)) {
                    items.push(fresh);
                }
            }
            return Ok(Value::Array(items));
        };

        for item in patch {
            let Value::Object(element) = item else {
                return Err(self.invalid("elements of a merged list must be objects"));
            };
            let Some(key_value) = element.get(merge_key) else {
                return Err(PatchError::MissingMergeKey {
                    path: self.path(),
                    key: merge_key.to_owned(),
                });
            };
            let matches = |e: &Value| e.get(merge_key) == Some(key_value);
            if element.get(DIRECTIVE).and_then(Value::as_str) == Some("delete") {
                items.retain(|e| !matches(e));
                continue;
            }
            match items.iter().position(matches) {
                Some(pos) => {
                    let current = match items[pos].take() {
                        Value::Object(m) => m,
                        _ => Map::new(),
                    };
                    match self.merge_map(current, element)? {
                        Some(m) => items[pos] = Value::Object(m),
                        None => {
                            items.remove(pos);
                        }
                    }
                }
                None => {
                    if let Some(m) = self.merge_map(Map::new(), element)? {
                        items.push(Value::Object(m));
                    }
                }
            }
        }
        normalize_order(&mut items, &list, &patch_order, &server_order);
        Ok(Value::Array(items))
    }

    /// A patch value stored where nothing is merged into (new elements, replaced
    /// lists): directives are interpreted against an empty original. `None` when
    /// the value deletes itself.
    fn fresh(&mut self, value: &'a Value) -> Result<Option<Value>, PatchError> {
        Ok(match value {
            Value::Object(m) => self.merge_map(Map::new(), m)?.map(Value::Object),
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.extend(self.fresh(item)?);
                }
                Some(Value::Array(out))
            }
            scalar => Some(scalar.clone()),
        })
    }

    fn string_list(&self, value: &'a Value, what: &str) -> Result<Vec<&'a str>, PatchError> {
        let items = value
            .as_array()
            .ok_or_else(|| self.invalid(&format!("{what} needs a list of strings")))?;
        items
            .iter()
            .map(|v| {
                v.as_str()
                    .ok_or_else(|| self.invalid(&format!("{what} needs a list of strings")))
            })
            .collect()
    }
}

/// What identifies a list element: its merge key's value, or itself.
fn identity(list: &ListType, v: &Value) -> Option<Value> {
    match list {
        ListType::Map(keys) => v.get(*keys.first()?).cloned(),
        _ => Some(v.clone()),
    }
}

/// The order of a merged list, as the API server makes it: the elements
/// the patch names (in `patch_order`: the patch's own order or its
/// `$setElementOrder`) merged with the ones only the server had (in
/// `server_order`, the list before the patch). Where both are known to the
/// server their server positions decide; an element new to the server
/// comes before the server-only one it is compared with.
fn normalize_order(
    items: &mut Vec<Value>,
    list: &ListType,
    patch_order: &[Value],
    server_order: &[Value],
) {
    let pos = |order: &[Value], v: &Value| {
        let id = identity(list, v)?;
        order.iter().position(|o| *o == id)
    };
    let (mut named, server_only): (Vec<Value>, Vec<Value>) =
        items.drain(..).partition(|v| pos(patch_order, v).is_some());
    named.sort_by_key(|v| pos(patch_order, v));
    let (mut left, mut right) = (
        named.into_iter().peekable(),
        server_only.into_iter().peekable(),
    );
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(l), Some(r)) => match (pos(server_order, l), pos(server_order, r)) {
                (Some(li), Some(ri)) => li < ri,
                _ => true,
            },
        };
        items.extend(if take_left { left.next() } else { right.next() });
    }
}

/// Server-side apply's merge of an applied configuration into a live object:
/// objects merge recursively (atomic maps are replaced), list-maps merge
/// element-wise by key, sets are unioned, atomic lists and scalars are replaced,
/// and `null` removes a field.
pub(crate) fn apply_merge(
    kind: &str,
    target: &mut Map<String, Value>,
    applied: &Map<String, Value>,
) {
    ApplyMerge {
        kind,
        names: Vec::new(),
    }
    .merge_fields(target, applied);
}

struct ApplyMerge<'a> {
    kind: &'a str,
    names: Vec<&'a str>,
}

impl<'a> ApplyMerge<'a> {
    fn list_type(&self) -> ListType {
        schema::list_type(self.kind, &self.names)
    }

    /// Merges the applied fields `applied` into the object `target`.
    fn merge_fields(&mut self, target: &mut Map<String, Value>, applied: &'a Map<String, Value>) {
        for (key, value) in applied {
            if value.is_null() {
                target.remove(key);
                continue;
            }
            self.names.push(key);
            match target.get_mut(key) {
                Some(slot) => self.merge(slot, value),
                None => {
                    target.insert(key.clone(), without_nulls(value));
                }
            }
            self.names.pop();
        }
    }

    /// Merges `applied` into `live` (both at the current path).
    fn merge(&mut self, live: &mut Value, applied: &'a Value) {
        match (live, applied) {
            (Value::Object(l), Value::Object(a))
                if !schema::is_atomic_map(self.kind, &self.names) =>
            {
                self.merge_fields(l, a);
            }
            (Value::Array(l), Value::Array(a)) if self.list_type() != ListType::Atomic => {
                let list = self.list_type();
                let merged = self.merge_list(std::mem::take(l), a, &list);
                *l = merged;
            }
            (live, applied) => *live = without_nulls(applied),
        }
    }

    /// Merges associative lists: applied elements appear in the applied order,
    /// live-only elements keep their place relative to the others (as in
    /// structured-merge-diff). Matching list-map elements are merged.
    fn merge_list(
        &mut self,
        live: Vec<Value>,
        applied: &'a [Value],
        list: &ListType,
    ) -> Vec<Value> {
        let lk: Vec<Option<PathElement>> = live.iter().map(|v| element_pe(list, v)).collect();
        let rk: Vec<Option<PathElement>> = applied.iter().map(|v| element_pe(list, v)).collect();
        let mut live_by_pe: BTreeMap<&PathElement, usize> = BTreeMap::new();
        for (i, pe) in lk.iter().enumerate() {
            if let Some(pe) = pe {
                live_by_pe.entry(pe).or_insert(i);
            }
        }
        let applied_pes: BTreeSet<&PathElement> = rk.iter().flatten().collect();
        let mut shared: VecDeque<&PathElement> = rk
            .iter()
            .flatten()
            .filter(|pe| live_by_pe.contains_key(pe))
            .collect();
        let mut done: BTreeSet<&PathElement> = BTreeSet::new();
        let mut out = Vec::with_capacity(live.len() + applied.len());
        let (mut li, mut ri) = (0, 0);
        while li < live.len() || ri < applied.len() {
            if li < live.len() {
                match &lk[li] {
                    None => {
                        out.push(live[li].clone());
                        li += 1;
                        continue;
                    }
                    Some(pe) if !applied_pes.contains(pe) => {
                        out.push(live[li].clone());
                        li += 1;
                        continue;
                    }
                    Some(pe) if done.contains(pe) || shared.front() != Some(&pe) => {
                        // Emitted (or to be emitted) when the applied side reaches it.
                        li += 1;
                        continue;
                    }
                    Some(_) => {}
                }
            }
            let Some(item) = applied.get(ri) else {
                li += 1;
                continue;
            };
            ri += 1;
            let Some(pe) = &rk[ri - 1] else {
                // No key to match on: keep it unless the live list already has it.
                let fresh = without_nulls(item);
                if !live
                    .iter()
                    .zip(&lk)
                    .any(|(l, k)| k.is_none() && *l == fresh)
                {
                    out.push(fresh);
                }
                continue;
            };
            if !done.insert(pe) {
                continue; // duplicate key in the applied list
            }
            if shared.front() == Some(&pe) {
                shared.pop_front();
            }
            let mut merged = match live_by_pe.get(pe) {
                Some(&i) if matches!(list, ListType::Map(_)) => live[i].clone(),
                _ => Value::Null,
            };
            self.merge(&mut merged, item);
            out.push(merged);
        }
        out
    }
}

/// `v` with null-valued object fields dropped (nulls in applied configurations
/// mean "unset").
fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde_json::{Value, json};

    use super::{PatchError, strategic_merge};

    fn deployment(containers: Value) -> Value {
        json!({
            "metadata": {"name": "web", "labels": {"app": "web", "tier": "front"}},
            "spec": {"template": {"spec": {"containers": containers}}}
        })
    }

    #[test]
    fn an_element_new_to_the_server_comes_before_the_ones_only_the_server_had() {
        // As kube-apiserver orders it (found by the real-cluster profile):
        // `kubectl patch` adding a container puts it first.
        let orig = deployment(json!([{"name": "a", "image": "x"}, {"name": "b", "image": "x"}]));
        let patch = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "new", "image": "y"}, {"name": "b", "image": "z"}
        ]}}}});
        let out = strategic_merge("Deployment", &orig, &patch).unwrap();
        let names: Vec<&str> = out["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["new", "a", "b"]);
    }

    #[test]
    fn smp_merges_containers_by_name() {
        let orig = deployment(json!([
            {"name": "web", "image": "nginx:1", "ports": [{"containerPort": 80}]}
        ]));
        let patch = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "web", "image": "nginx:2"},
            {"name": "sidecar", "image": "busybox"}
        ]}}}});
        let out = strategic_merge("Deployment", &orig, &patch).unwrap();
        let containers = &out["spec"]["template"]["spec"]["containers"];
        assert_eq!(containers.as_array().unwrap().len(), 2);
        assert_eq!(containers[0]["image"], "nginx:2");
        assert_eq!(
            containers[0]["ports"][0]["containerPort"], 80,
            "kept unpatched fields"
        );
        assert_eq!(containers[1]["name"], "sidecar");
    }

    #[test]
    fn smp_delete_directive_and_null() {
        let orig = deployment(json!([{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]));
        let patch = json!({
            "metadata": {"labels": {"tier": null}},
            "spec": {"template": {"spec": {"containers": [{"name": "a", "$patch": "delete"}]}}}
        });
        let out = strategic_merge("Deployment", &orig, &patch).unwrap();
        assert_eq!(out["metadata"]["labels"], json!({"app": "web"}));
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"],
            json!([{"name": "b", "image": "y"}])
        );
        // $patch: delete on a map removes it.
        let out = strategic_merge(
            "Deployment",
            &orig,
            &json!({"metadata": {"labels": {"$patch": "delete"}}}),
        )
        .unwrap();
        assert!(out["metadata"].get("labels").is_none());
    }

    #[test]
    fn smp_set_element_order_is_applied_not_leaked() {
        let orig = deployment(json!([{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]));
        let patch = json!({"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
            "containers": [{"name": "a", "image": "z"}]
        }}}});
        let out = strategic_merge("Deployment", &orig, &patch).unwrap();
        let spec = &out["spec"]["template"]["spec"];
        assert_eq!(
            spec["containers"],
            json!([{"name": "b", "image": "y"}, {"name": "a", "image": "z"}])
        );
        assert_eq!(
            spec.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["containers"]
        );
        assert!(!out.to_string().contains('$'), "{out}");
    }

    #[test]
    fn smp_other_directives() {
        let orig = json!({
            "metadata": {"name": "p", "finalizers": ["a", "b"], "labels": {"x": "1", "y": "2"}},
            "spec": {
                "containers": [{"name": "c", "image": "i", "args": ["1", "2"]}],
                "volumes": [{"name": "v", "emptyDir": {}}],
                "tolerations": [{"key": "k"}]
            }
        });
        let patch = json!({
            "metadata": {
                "finalizers": ["c"],
                "$deleteFromPrimitiveList/finalizers": ["a"],
                "labels": {"$patch": "replace", "z": "3"},
                "$unknown": 1
            },
            "spec": {
                "containers": [{"name": "c", "args": ["3"]}],
                "volumes": [{"name": "v", "$retainKeys": ["name", "configMap"], "configMap": {"name": "cm"}}],
                "tolerations": [{"key": "other"}]
            }
        });
        let out = strategic_merge("Pod", &orig, &patch).unwrap();
        assert_eq!(out["metadata"]["finalizers"], json!(["b", "c"]));
        assert_eq!(out["metadata"]["labels"], json!({"z": "3"}));
        assert!(out["metadata"].get("$unknown").is_none());
        assert_eq!(
            out["spec"]["containers"][0]["args"],
            json!(["3"]),
            "atomic list replaced"
        );
        assert_eq!(
            out["spec"]["volumes"],
            json!([{"name": "v", "configMap": {"name": "cm"}}])
        );
        assert_eq!(out["spec"]["tolerations"], json!([{"key": "other"}]));

        // An explicit `$patch: merge` is the default behaviour.
        let merge = json!({"metadata": {"labels": {"$patch": "merge", "w": "4"}}});
        let out = strategic_merge("Pod", &orig, &merge).unwrap();
        assert_eq!(
            out["metadata"]["labels"],
            json!({"x": "1", "y": "2", "w": "4"})
        );

        // Whole-list replacement.
        let patch =
            json!({"spec": {"containers": [{"$patch": "replace"}, {"name": "n", "image": "j"}]}});
        let out = strategic_merge("Pod", &orig, &patch).unwrap();
        assert_eq!(
            out["spec"]["containers"],
            json!([{"name": "n", "image": "j"}])
        );

        // Errors.
        let missing_key = json!({"spec": {"containers": [{"image": "j"}]}});
        assert!(matches!(
            strategic_merge("Pod", &orig, &missing_key),
            Err(PatchError::MissingMergeKey { .. })
        ));
        let bad = json!({"spec": {"$patch": "explode"}});
        assert!(matches!(
            strategic_merge("Pod", &orig, &bad),
            Err(PatchError::UnknownDirective { .. })
        ));
        assert!(strategic_merge("Pod", &orig, &json!([1])).is_err());
    }
}
