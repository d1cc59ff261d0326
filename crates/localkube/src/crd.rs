//! CustomResourceDefinitions: validating them, their status, the resource
//! types they serve, and structural-schema handling of their objects
//! (pruning unknown fields, defaults, basic type checks).

use serde_json::{Value, json};

use crate::cluster::now;
use crate::error::Cause;
use crate::resources::{ALL_VERBS, CustomInfo, ResourceType, ScaleSpec};

fn s<'a>(v: &'a Value, p: &str) -> &'a str {
    v.pointer(p).and_then(Value::as_str).unwrap_or("")
}

fn cause(field: &str, message: String) -> Cause {
    Cause {
        reason: "FieldValueInvalid".into(),
        message,
        field: field.into(),
    }
}

/// Check a CRD's names, scope and versions.
pub fn validate(crd: &Value) -> Result<(), Vec<Cause>> {
    let mut causes = Vec::new();
    let group = s(crd, "/spec/group");
    let plural = s(crd, "/spec/names/plural");
    let name = s(crd, "/metadata/name");
    if group.is_empty() {
        causes.push(Cause {
            reason: "FieldValueRequired".into(),
            message: "Required value".into(),
            field: "spec.group".into(),
        });
    } else if !group.contains('.') {
        causes.push(cause(
            "spec.group",
            format!("Invalid value: \"{group}\": should be a domain with at least one dot"),
        ));
    }
    if plural.is_empty() || plural != plural.to_lowercase() {
        causes.push(cause(
            "spec.names.plural",
            format!("Invalid value: \"{plural}\": a lowercase RFC 1123 label is required"),
        ));
    }
    if s(crd, "/spec/names/kind").is_empty() {
        causes.push(Cause {
            reason: "FieldValueRequired".into(),
            message: "Required value".into(),
            field: "spec.names.kind".into(),
        });
    }
    if name != format!("{plural}.{group}") {
        causes.push(cause(
            "metadata.name",
            format!("Invalid value: \"{name}\": must be spec.names.plural+\".\"+spec.group"),
        ));
    }
    match s(crd, "/spec/scope") {
        "Namespaced" | "Cluster" => {}
        other => causes.push(cause(
            "spec.scope",
            format!(
                "Unsupported value: \"{other}\": supported values: \"Cluster\", \"Namespaced\""
            ),
        )),
    }
    let versions = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if versions.is_empty() {
        causes.push(Cause {
            reason: "FieldValueRequired".into(),
            message: "Required value: must have exactly one version marked as storage version"
                .into(),
            field: "spec.versions".into(),
        });
    } else {
        let storage = versions
            .iter()
            .filter(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
            .count();
        if storage != 1 {
            causes.push(cause(
                "spec.versions",
                "Invalid value: must have exactly one version marked as storage version".into(),
            ));
        }
    }
    if causes.is_empty() {
        Ok(())
    } else {
        Err(causes)
    }
}

/// What the apiextensions controller writes into a CRD's status.
pub fn set_status(crd: &mut Value) {
    let t = now();
    let names = crd.pointer("/spec/names").cloned().unwrap_or(json!({}));
    let mut accepted = names.clone();
    if accepted.get("singular").is_none() {
        accepted["singular"] = json!(s(crd, "/spec/names/kind").to_lowercase());
    }
    if accepted.get("listKind").is_none() {
        accepted["listKind"] = json!(format!("{}List", s(crd, "/spec/names/kind")));
    }
    let mut stored: Vec<Value> = crd
        .pointer("/status/storedVersions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if let Some(v) = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .and_then(|vs| {
            vs.iter()
                .find(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
        })
        .and_then(|v| v.get("name").cloned())
        && !stored.contains(&v)
    {
        stored.push(v);
    }
    crd["status"] = json!({
        "acceptedNames": accepted,
        "conditions": [
            {"type": "NamesAccepted", "status": "True", "lastTransitionTime": t, "reason": "NoConflicts", "message": "no conflicts found"},
            {"type": "Established", "status": "True", "lastTransitionTime": t, "reason": "InitialNamesAccepted", "message": "the initial names have been accepted"},
        ],
        "storedVersions": stored,
    });
}

fn pointer_from_json_path(path: &str) -> String {
    path.trim_start_matches('.')
        .split('.')
        .fold(String::new(), |mut acc, p| {
            acc.push('/');
            acc.push_str(p);
            acc
        })
}

/// The resource types a CRD serves, one per served version.
pub fn resource_types(crd: &Value) -> Vec<ResourceType> {
    let group = s(crd, "/spec/group").to_string();
    let kind = s(crd, "/spec/names/kind").to_string();
    let plural = s(crd, "/spec/names/plural").to_string();
    let singular = match s(crd, "/spec/names/singular") {
        "" => kind.to_lowercase(),
        x => x.to_string(),
    };
    let list_kind = match s(crd, "/spec/names/listKind") {
        "" => format!("{kind}List"),
        x => x.to_string(),
    };
    let strings = |p: &str| -> Vec<String> {
        crd.pointer(p)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let short_names = strings("/spec/names/shortNames");
    let categories = strings("/spec/names/categories");
    let namespaced = s(crd, "/spec/scope") == "Namespaced";
    let crd_name = s(crd, "/metadata/name").to_string();
    crd.pointer("/spec/versions")
        .and_then(Value::as_array)
        .map(|vs| {
            vs.iter()
                .filter(|v| v.get("served").and_then(Value::as_bool).unwrap_or(false))
                .map(|v| {
                    let scale = v.pointer("/subresources/scale").map(|sc| ScaleSpec {
                        spec_replicas: pointer_from_json_path(
                            sc.get("specReplicasPath")
                                .and_then(Value::as_str)
                                .unwrap_or(".spec.replicas"),
                        ),
                        status_replicas: pointer_from_json_path(
                            sc.get("statusReplicasPath")
                                .and_then(Value::as_str)
                                .unwrap_or(".status.replicas"),
                        ),
                        label_selector: sc
                            .get("labelSelectorPath")
                            .and_then(Value::as_str)
                            .map(pointer_from_json_path),
                    });
                    ResourceType {
                        group: group.clone(),
                        version: s(v, "/name").to_string(),
                        kind: kind.clone(),
                        list_kind: list_kind.clone(),
                        plural: plural.clone(),
                        singular: singular.clone(),
                        short_names: short_names.clone(),
                        categories: categories.clone(),
                        namespaced,
                        verbs: ALL_VERBS.to_vec(),
                        status_subresource: v.pointer("/subresources/status").is_some(),
                        scale,
                        generation: true,
                        validator: None,
                        schema: None,
                        custom: Some(CustomInfo {
                            crd_name: crd_name.clone(),
                            schema: v.pointer("/schema/openAPIV3Schema").cloned(),
                            storage: v.get("storage").and_then(Value::as_bool).unwrap_or(false),
                            printer_columns: v
                                .get("additionalPrinterColumns")
                                .and_then(Value::as_array)
                                .cloned()
                                .unwrap_or_default(),
                        }),
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

fn type_ok(ty: &str, v: &Value) -> bool {
    match ty {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        _ => true,
    }
}

fn preserves(schema: &Value) -> bool {
    schema
        .get("x-kubernetes-preserve-unknown-fields")
        .and_then(Value::as_bool)
        == Some(true)
}

/// Walk a value with its schema: default, prune, type-check.
fn walk(
    schema: &Value,
    v: &mut Value,
    path: &str,
    unknown: &mut Vec<String>,
    causes: &mut Vec<Cause>,
) {
    if schema
        .get("x-kubernetes-int-or-string")
        .and_then(Value::as_bool)
        == Some(true)
    {
        if !(v.is_string() || v.is_i64() || v.is_u64()) {
            causes.push(cause(
                path,
                format!("Invalid value: {v}: must be an integer or a string"),
            ));
        }
        return;
    }
    if let Some(ty) = schema.get("type").and_then(Value::as_str)
        && !(v.is_null() && schema.get("nullable").and_then(Value::as_bool) == Some(true))
        && !type_ok(ty, v)
    {
        let found = match v {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_f64() => "number",
            Value::Number(_) => "integer",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        causes.push(cause(
            path,
            format!("Invalid value: \"{found}\": {path} in body must be of type {ty}: \"{found}\""),
        ));
        return;
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(v)
    {
        let list = allowed
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        causes.push(Cause {
            reason: "FieldValueNotSupported".into(),
            message: format!("Unsupported value: {v}: supported values: {list}"),
            field: path.into(),
        });
    }
    bounds(schema, v, path, causes);
    match v {
        Value::Object(map) => {
            let props = schema.get("properties").and_then(Value::as_object);
            if let Some(props) = props {
                for (k, sub) in props {
                    if !map.contains_key(k)
                        && let Some(d) = sub.get("default")
                    {
                        map.insert(k.clone(), d.clone());
                    }
                }
                if let Some(req) = schema.get("required").and_then(Value::as_array) {
                    for r in req.iter().filter_map(Value::as_str) {
                        if !map.contains_key(r) {
                            causes.push(Cause {
                                reason: "FieldValueRequired".into(),
                                message: "Required value".into(),
                                field: join(path, r),
                            });
                        }
                    }
                }
            }
            let additional = schema.get("additionalProperties").filter(|a| a.is_object());
            let keys: Vec<String> = map.keys().cloned().collect();
            for k in keys {
                let sub = props.and_then(|p| p.get(&k)).or(additional);
                match sub {
                    Some(sub) => {
                        if let Some(child) = map.get_mut(&k) {
                            walk(sub, child, &join(path, &k), unknown, causes);
                        }
                    }
                    None => {
                        // Known properties or an object type without
                        // properties: anything else is unknown.
                        let typed_object = props.is_some()
                            || (additional.is_none()
                                && schema.get("type").and_then(Value::as_str) == Some("object"));
                        if typed_object && !preserves(schema) {
                            map.remove(&k);
                            unknown.push(join(path, &k));
                        }
                    }
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter_mut().enumerate() {
                    walk(item_schema, item, &format!("{path}[{i}]"), unknown, causes);
                }
            }
        }
        _ => {}
    }
}

/// The schema's bounds: minimum/maximum (exclusive or not) on numbers,
/// minLength/maxLength on strings (in characters), minItems/maxItems on
/// arrays, minProperties/maxProperties on objects.
fn bounds(schema: &Value, v: &Value, path: &str, causes: &mut Vec<Cause>) {
    let limit = |key: &str| schema.get(key).and_then(Value::as_f64);
    let invalid = |reason: &str, message: String| Cause {
        reason: reason.into(),
        message,
        field: path.into(),
    };
    if let Some(n) = v.as_f64() {
        let exclusive = |key: &str| schema.get(key).and_then(Value::as_bool) == Some(true);
        if let Some(min) = limit("minimum") {
            let (bad, words) = if exclusive("exclusiveMinimum") {
                (n <= min, "greater than")
            } else {
                (n < min, "greater than or equal to")
            };
            if bad {
                causes.push(invalid(
                    "FieldValueInvalid",
                    format!("Invalid value: {v}: {path} in body should be {words} {min}"),
                ));
            }
        }
        if let Some(max) = limit("maximum") {
            let (bad, words) = if exclusive("exclusiveMaximum") {
                (n >= max, "less than")
            } else {
                (n > max, "less than or equal to")
            };
            if bad {
                causes.push(invalid(
                    "FieldValueInvalid",
                    format!("Invalid value: {v}: {path} in body should be {words} {max}"),
                ));
            }
        }
    }
    let size = match v {
        Value::String(t) => Some(("Length", t.chars().count())),
        Value::Array(a) => Some(("Items", a.len())),
        Value::Object(m) => Some(("Properties", m.len())),
        _ => None,
    };
    if let Some((what, len)) = size {
        let len_f = len as f64;
        if let Some(max) = limit(&format!("max{what}"))
            && len_f > max
        {
            causes.push(invalid(
                "FieldValueTooLong",
                format!("Too long: may not be more than {max}"),
            ));
        }
        if let Some(min) = limit(&format!("min{what}"))
            && len_f < min
        {
            causes.push(invalid(
                "FieldValueInvalid",
                format!(
                    "Invalid value: {len}: {path} in body should have at least {min} {}",
                    what.to_lowercase()
                ),
            ));
        }
    }
}

fn join(path: &str, k: &str) -> String {
    if path.is_empty() {
        k.to_string()
    } else {
        format!("{path}.{k}")
    }
}

/// Admit a custom resource: apply its version's structural schema. Unknown
/// fields are pruned (and rejected when `strict`).
pub fn admit_custom(
    info: &CustomInfo,
    obj: &mut Value,
    strict: bool,
    warnings: &mut Vec<String>,
) -> Result<(), Vec<Cause>> {
    let Some(schema) = &info.schema else {
        return Ok(());
    };
    let Some(map) = obj.as_object_mut() else {
        return Ok(());
    };
    let mut unknown = Vec::new();
    let mut causes = Vec::new();
    let props = schema
        .get("properties")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let keys: Vec<String> = map.keys().cloned().collect();
    for k in keys {
        if matches!(k.as_str(), "apiVersion" | "kind" | "metadata") {
            continue;
        }
        match props.get(&k) {
            Some(sub) => {
                if let Some(child) = map.get_mut(&k) {
                    walk(sub, child, &k, &mut unknown, &mut causes);
                }
            }
            None if !preserves(schema) => {
                map.remove(&k);
                unknown.push(k);
            }
            None => {}
        }
    }
    for (k, sub) in &props {
        if !map.contains_key(k)
            && let Some(d) = sub.get("default")
        {
            map.insert(k.clone(), d.clone());
            if let Some(child) = map.get_mut(k) {
                walk(sub, child, k, &mut unknown, &mut causes);
            }
        }
    }
    if let Some(req) = schema.get("required").and_then(Value::as_array) {
        for r in req.iter().filter_map(Value::as_str) {
            if !map.contains_key(r) {
                causes.push(Cause {
                    reason: "FieldValueRequired".into(),
                    message: "Required value".into(),
                    field: r.into(),
                });
            }
        }
    }
    if !unknown.is_empty() {
        if strict {
            causes.extend(unknown.iter().map(|f| Cause {
                reason: "FieldValueInvalid".into(),
                message: format!("unknown field \"{f}\""),
                field: f.clone(),
            }));
        } else {
            warnings.extend(unknown.iter().map(|f| format!("unknown field \"{f}\"")));
        }
    }
    if causes.is_empty() {
        Ok(())
    } else {
        Err(causes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crd() -> Value {
        json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com"},
            "spec": {"group": "example.com", "scope": "Namespaced",
                "names": {"plural": "widgets", "kind": "Widget", "shortNames": ["wd"]},
                "versions": [{"name": "v1", "served": true, "storage": true,
                    "subresources": {"status": {}},
                    "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                        "spec": {"type": "object", "properties": {
                            "size": {"type": "integer", "default": 3},
                            "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
                        }}}}}}]}
        })
    }

    #[test]
    fn crd_serves_each_version_with_its_names() {
        assert!(validate(&crd()).is_ok());
        let types = resource_types(&crd());
        assert_eq!(types.len(), 1);
        assert_eq!(types[0].plural, "widgets");
        assert_eq!(types[0].singular, "widget");
        assert!(types[0].status_subresource);
        assert_eq!(types[0].short_names, vec!["wd"]);
    }

    #[test]
    fn crd_name_must_be_plural_dot_group() {
        let mut c = crd();
        c["metadata"]["name"] = json!("wrong.example.com");
        let causes = validate(&c).unwrap_err();
        assert_eq!(causes[0].field, "metadata.name");
    }

    #[test]
    fn schema_defaults_and_prunes() {
        let info = resource_types(&crd()).remove(0).custom.unwrap();
        let mut obj = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
            "spec": {"junk": 1, "free": {"anything": true}}, "top": 1});
        let mut warnings = Vec::new();
        admit_custom(&info, &mut obj, false, &mut warnings).unwrap();
        assert_eq!(obj["spec"]["size"], 3);
        assert!(obj["spec"].get("junk").is_none());
        assert!(obj.get("top").is_none());
        assert_eq!(obj["spec"]["free"]["anything"], true);
        assert_eq!(warnings.len(), 2);
        let mut bad = json!({"spec": {"size": "big"}});
        assert!(admit_custom(&info, &mut bad, false, &mut Vec::new()).is_err());
    }
}
