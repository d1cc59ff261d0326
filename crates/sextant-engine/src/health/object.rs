//! Read-only accessors over a Kubernetes object held as JSON: identity,
//! typed fields by JSON pointer, status conditions and generations.
//!
//! Every accessor tolerates missing or mistyped fields (it returns `None`):
//! the objects come from users and clusters, never from a schema we trust.

use serde_json::Value;

/// Who an object is: its apiVersion split into group and version, kind,
/// namespace and name. Missing fields are empty strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef<'a> {
    /// `apiVersion` as written, e.g. `apps/v1` or `v1`.
    pub api_version: &'a str,
    /// The API group, empty for the core group.
    pub group: &'a str,
    /// The kind, e.g. `Deployment`.
    pub kind: &'a str,
    /// `metadata.namespace`, if set.
    pub namespace: Option<&'a str>,
    /// `metadata.name` (or `metadata.generateName` when there is no name).
    pub name: &'a str,
}

impl<'a> ObjectRef<'a> {
    /// Read an object's identity.
    pub fn of(obj: &'a Value) -> Self {
        let api_version = str_at(obj, "/apiVersion").unwrap_or("");
        let group = match api_version.rsplit_once('/') {
            Some((group, _version)) => group,
            None => "",
        };
        Self {
            api_version,
            group,
            kind: str_at(obj, "/kind").unwrap_or(""),
            namespace: str_at(obj, "/metadata/namespace").filter(|ns| !ns.is_empty()),
            name: str_at(obj, "/metadata/name")
                .or_else(|| str_at(obj, "/metadata/generateName"))
                .unwrap_or(""),
        }
    }
}

/// The value at JSON pointer `pointer` (RFC 6901), if there is one. Walks
/// without allocating unless the pointer has escapes (`~0`, `~1`).
pub fn at<'a>(obj: &'a Value, pointer: &str) -> Option<&'a Value> {
    if pointer.is_empty() {
        return Some(obj);
    }
    if pointer.contains('~') {
        return obj.pointer(pointer);
    }
    let rest = pointer.strip_prefix('/')?;
    rest.split('/').try_fold(obj, |value, token| match value {
        Value::Object(map) => map.get(token),
        Value::Array(items) => token.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

/// The string at `pointer`, if there is one.
pub fn str_at<'a>(obj: &'a Value, pointer: &str) -> Option<&'a str> {
    at(obj, pointer).and_then(Value::as_str)
}

/// The whole number at `pointer`, if there is one (a float with no
/// fractional part counts, as YAML and JSON writers differ).
pub fn int_at(obj: &Value, pointer: &str) -> Option<i64> {
    let value = at(obj, pointer)?;
    if let Some(i) = value.as_i64() {
        return Some(i);
    }
    let f = value.as_f64()?;
    // Whole floats within i64's range convert exactly; anything else is not
    // a count.
    (f.fract() == 0.0 && f.abs() < 9.0e18).then_some(f as i64)
}

/// The boolean at `pointer`, if there is one.
pub fn bool_at(obj: &Value, pointer: &str) -> Option<bool> {
    at(obj, pointer).and_then(Value::as_bool)
}

/// The array at `pointer`, or an empty slice.
pub fn array_at<'a>(obj: &'a Value, pointer: &str) -> &'a [Value] {
    at(obj, pointer)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// Whether `status` is absent, null or an empty object.
pub fn has_no_status(obj: &Value) -> bool {
    match obj.get("status") {
        None | Some(Value::Null) => true,
        Some(Value::Object(map)) => map.is_empty(),
        Some(_) => false,
    }
}

/// One entry of `status.conditions`.
#[derive(Debug, Clone, Copy)]
pub struct Condition<'a> {
    /// `type`, e.g. `Ready`.
    pub type_: &'a str,
    /// `status`: `True`, `False` or `Unknown`.
    pub status: &'a str,
    /// `reason`, empty when absent.
    pub reason: &'a str,
    /// `message`, empty when absent.
    pub message: &'a str,
    /// `observedGeneration`, when the condition carries one.
    pub observed_generation: Option<i64>,
}

impl<'a> Condition<'a> {
    fn from_value(value: &'a Value) -> Option<Self> {
        Some(Self {
            type_: value.get("type")?.as_str()?,
            status: value.get("status").and_then(Value::as_str).unwrap_or(""),
            reason: value.get("reason").and_then(Value::as_str).unwrap_or(""),
            message: value.get("message").and_then(Value::as_str).unwrap_or(""),
            observed_generation: int_at(value, "/observedGeneration"),
        })
    }

    /// Whether the condition's status is `True`.
    pub fn is_true(&self) -> bool {
        self.status == "True"
    }

    /// Whether the condition's status is `False`.
    pub fn is_false(&self) -> bool {
        self.status == "False"
    }

    /// `reason: message`, or whichever of the two is present, or `fallback`.
    pub fn describe(&self, fallback: &str) -> String {
        join_reason(self.reason, self.message, fallback)
    }
}

/// `reason: message`, or whichever of the two is present, or `fallback`.
pub fn join_reason(reason: &str, message: &str, fallback: &str) -> String {
    match (reason.is_empty(), message.is_empty()) {
        (false, false) => format!("{reason}: {message}"),
        (false, true) => reason.to_owned(),
        (true, false) => message.to_owned(),
        (true, true) => fallback.to_owned(),
    }
}

/// The entries of `status.conditions` that have a type.
pub fn conditions(obj: &Value) -> Vec<Condition<'_>> {
    conditions_in(array_at(obj, "/status/conditions"))
}

/// Conditions read from a JSON array of condition objects.
pub fn conditions_in(values: &[Value]) -> Vec<Condition<'_>> {
    values.iter().filter_map(Condition::from_value).collect()
}

/// The condition of type `type_`, if the object has one.
pub fn condition<'a>(obj: &'a Value, type_: &str) -> Option<Condition<'a>> {
    conditions(obj).into_iter().find(|c| c.type_ == type_)
}

/// When the object's controller has not yet seen its latest spec:
/// `Some((generation, observed))` if `status.observedGeneration` is behind
/// `metadata.generation`. Objects without either field (a manifest never
/// applied, a kind whose controller does not report it) are not behind.
pub fn generation_behind(obj: &Value) -> Option<(i64, i64)> {
    let generation = int_at(obj, "/metadata/generation")?;
    let observed = int_at(obj, "/status/observedGeneration")?;
    (observed < generation).then_some((generation, observed))
}

/// Like [`generation_behind`], but a missing `status.observedGeneration`
/// counts as 0: for built-in workload controllers, which always report it,
/// an object with a generation and no observed one has not been seen yet.
pub fn workload_generation_behind(obj: &Value) -> Option<(i64, i64)> {
    let generation = int_at(obj, "/metadata/generation")?;
    let observed = int_at(obj, "/status/observedGeneration").unwrap_or(0);
    (observed < generation).then_some((generation, observed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn object_ref_splits_the_group_from_the_version() {
        let obj = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop"}});
        let r = ObjectRef::of(&obj);
        assert_eq!(
            (r.group, r.kind, r.namespace, r.name),
            ("apps", "Deployment", Some("shop"), "web")
        );
        let core = json!({"apiVersion": "v1", "kind": "Pod"});
        assert_eq!(ObjectRef::of(&core).group, "");
    }

    #[test]
    fn pointers_walk_objects_and_arrays_and_honour_escapes() {
        let obj = json!({"a": [{"b": 1}], "x/y": {"m~n": 2}});
        assert_eq!(at(&obj, "/a/0/b"), Some(&json!(1)));
        assert_eq!(at(&obj, "/a/1/b"), None);
        assert_eq!(at(&obj, "/x~1y/m~0n"), Some(&json!(2)));
        assert_eq!(at(&obj, ""), Some(&obj));
    }

    #[test]
    fn int_at_accepts_whole_floats_and_refuses_fractions() {
        let obj = json!({"a": 3, "b": 3.0, "c": 2.5, "d": "3"});
        assert_eq!(int_at(&obj, "/a"), Some(3));
        assert_eq!(int_at(&obj, "/b"), Some(3));
        assert_eq!(int_at(&obj, "/c"), None);
        assert_eq!(int_at(&obj, "/d"), None);
    }

    #[test]
    fn conditions_without_a_type_are_skipped() {
        let obj = json!({"status": {"conditions": [
            {"status": "True"},
            {"type": "Ready", "status": "True", "observedGeneration": 4}
        ]}});
        let all = conditions(&obj);
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].observed_generation, Some(4));
    }

    #[test]
    fn generation_is_behind_only_when_both_fields_say_so() {
        let behind = json!({"metadata": {"generation": 3}, "status": {"observedGeneration": 2}});
        let unknown = json!({"metadata": {"generation": 3}, "status": {}});
        assert_eq!(generation_behind(&behind), Some((3, 2)));
        assert_eq!(generation_behind(&unknown), None);
        assert_eq!(workload_generation_behind(&unknown), Some((3, 0)));
    }
}
