//! The OpenAPI v3 documents kubectl reads: an index of group-versions and,
//! per group-version, the paths and operations of each resource (with the
//! `x-kubernetes-group-version-kind` and `x-kubernetes-action` extensions
//! and the query parameters the server supports, which is how kubectl learns
//! that server-side field validation is available), plus a schema per kind.

use serde_json::{Map, Value, json};

use crate::resources::{Registry, ResourceType};

/// `group/version` path key as the index names it: `api/v1`, `apis/apps/v1`.
pub fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

fn hash_of(v: &Value) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    v.to_string().hash(&mut h);
    format!("{:016X}", h.finish())
}

/// `/openapi/v3`.
pub fn index(reg: &Registry) -> Value {
    let mut paths = Map::new();
    for (group, versions) in reg.groups() {
        for v in versions {
            // The hash only has to change when the document does; the
            // document is a function of the resources served here.
            let fingerprint: Vec<Value> = reg
                .resources(&group, &v)
                .iter()
                .map(|rt| {
                    json!([
                        rt.plural,
                        rt.kind,
                        rt.custom.as_ref().map(|c| c.schema.clone())
                    ])
                })
                .collect();
            let key = gv_path(&group, &v);
            let url = format!(
                "/openapi/v3/{key}?hash={}",
                hash_of(&Value::Array(fingerprint))
            );
            paths.insert(key, json!({"serverRelativeURL": url}));
        }
    }
    json!({"paths": paths})
}

fn param(name: &str, location: &str, description: &str) -> Value {
    json!({"name": name, "in": location, "description": description, "schema": {"type": "string", "uniqueItems": true}})
}

fn write_params() -> Vec<Value> {
    vec![
        param(
            "dryRun",
            "query",
            "When present, indicates that modifications should not be persisted.",
        ),
        param(
            "fieldManager",
            "query",
            "fieldManager is a name associated with the actor or entity that is making these changes.",
        ),
        param(
            "fieldValidation",
            "query",
            "fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields: Ignore, Warn or Strict.",
        ),
    ]
}

fn gvk(rt: &ResourceType) -> Value {
    json!({"group": rt.group, "version": rt.version, "kind": rt.kind})
}

fn schema_ref(rt: &ResourceType) -> String {
    format!("#/components/schemas/{}", schema_name(rt))
}

/// Component name of a kind's schema, in Kubernetes' reverse-DNS style.
pub fn schema_name(rt: &ResourceType) -> String {
    if rt.custom.is_some() {
        let rev: Vec<&str> = rt.group.split('.').rev().collect();
        format!("{}.{}.{}", rev.join("."), rt.version, rt.kind)
    } else {
        let pkg = match rt.group.as_str() {
            "" => "core".to_string(),
            "apiextensions.k8s.io" => {
                return format!(
                    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.{}.{}",
                    rt.version, rt.kind
                );
            }
            "apiregistration.k8s.io" => {
                return format!(
                    "io.k8s.kube-aggregator.pkg.apis.apiregistration.{}.{}",
                    rt.version, rt.kind
                );
            }
            g => g.split('.').next().unwrap_or(g).to_string(),
        };
        format!("io.k8s.api.{pkg}.{}.{}", rt.version, rt.kind)
    }
}

fn operation(
    rt: &ResourceType,
    action: &str,
    id: &str,
    mut params: Vec<Value>,
    body: bool,
) -> Value {
    let content = json!({"application/json": {"schema": {"$ref": schema_ref(rt)}}});
    let mut op = json!({
        "operationId": id,
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": gvk(rt),
        "responses": {"200": {"description": "OK", "content": content}},
    });
    if action == "patch" {
        params.push(param(
            "force",
            "query",
            "Force is going to \"force\" Apply requests.",
        ));
        op["requestBody"] = json!({"content": {
            "application/json-patch+json": {"schema": {"type": "object"}},
            "application/merge-patch+json": {"schema": {"type": "object"}},
            "application/strategic-merge-patch+json": {"schema": {"type": "object"}},
            "application/apply-patch+yaml": {"schema": {"type": "object"}},
        }, "required": true});
    } else if body {
        op["requestBody"] =
            json!({"content": {"*/*": {"schema": {"$ref": schema_ref(rt)}}}, "required": true});
    }
    op["parameters"] = Value::Array(params);
    op
}

fn resource_paths(rt: &ResourceType, paths: &mut Map<String, Value>) {
    let base = if rt.group.is_empty() {
        format!("/api/{}", rt.version)
    } else {
        format!("/apis/{}/{}", rt.group, rt.version)
    };
    let (collection, ns_param) = if rt.namespaced {
        (
            format!("{base}/namespaces/{{namespace}}/{}", rt.plural),
            true,
        )
    } else {
        (format!("{base}/{}", rt.plural), false)
    };
    let id = format!("{}{}", rt.kind, rt.version);
    let mut common = vec![];
    if ns_param {
        common.push(json!({"name": "namespace", "in": "path", "required": true, "schema": {"type": "string"}}));
    }
    let list_params = vec![
        param(
            "labelSelector",
            "query",
            "A selector to restrict the list of returned objects by their labels.",
        ),
        param(
            "fieldSelector",
            "query",
            "A selector to restrict the list of returned objects by their fields.",
        ),
        param(
            "limit",
            "query",
            "limit is a maximum number of responses to return for a list call.",
        ),
        param(
            "continue",
            "query",
            "The continue option should be set when retrieving more results from the server.",
        ),
        param(
            "resourceVersion",
            "query",
            "resourceVersion sets a constraint on what resource versions a request may be served from.",
        ),
        param(
            "watch",
            "query",
            "Watch for changes to the described resources.",
        ),
    ];
    paths.insert(
        collection.clone(),
        json!({
            "get": operation(rt, "list", &format!("list{id}"), list_params, false),
            "post": operation(rt, "post", &format!("create{id}"), write_params(), true),
            "delete": operation(rt, "deletecollection", &format!("deletecollection{id}"), vec![], false),
            "parameters": common.clone(),
        }),
    );
    let mut item_common = common.clone();
    item_common.push(
        json!({"name": "name", "in": "path", "required": true, "schema": {"type": "string"}}),
    );
    paths.insert(
        format!("{collection}/{{name}}"),
        json!({
            "get": operation(rt, "get", &format!("read{id}"), vec![], false),
            "put": operation(rt, "put", &format!("replace{id}"), write_params(), true),
            "patch": operation(rt, "patch", &format!("patch{id}"), write_params(), true),
            "delete": operation(rt, "delete", &format!("delete{id}"), vec![param("propagationPolicy", "query", "Whether and how garbage collection will be performed.")], false),
            "parameters": item_common.clone(),
        }),
    );
    if rt.status_subresource {
        paths.insert(
            format!("{collection}/{{name}}/status"),
            json!({
                "get": operation(rt, "get", &format!("read{id}Status"), vec![], false),
                "put": operation(rt, "put", &format!("replace{id}Status"), write_params(), true),
                "patch": operation(rt, "patch", &format!("patch{id}Status"), write_params(), true),
                "parameters": item_common,
            }),
        );
    }
}

/// Strategic-merge metadata for list fields, as `(component, property,
/// merge key, strategy)`. It must agree with `merge::schema::list_type`, so
/// that patches kubectl computes from these documents mean the same to the
/// server.
const PATCH_META: &[(&str, &str, Option<&str>, &str)] = &[
    (
        "io.k8s.api.core.v1.PodSpec",
        "containers",
        Some("name"),
        "merge",
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "initContainers",
        Some("name"),
        "merge",
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "ephemeralContainers",
        Some("name"),
        "merge",
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "volumes",
        Some("name"),
        "merge,retainKeys",
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "imagePullSecrets",
        Some("name"),
        "merge",
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "hostAliases",
        Some("ip"),
        "merge",
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "topologySpreadConstraints",
        Some("topologyKey"),
        "merge",
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "resourceClaims",
        Some("name"),
        "merge,retainKeys",
    ),
    (
        "io.k8s.api.core.v1.Container",
        "ports",
        Some("containerPort"),
        "merge",
    ),
    ("io.k8s.api.core.v1.Container", "env", Some("name"), "merge"),
    (
        "io.k8s.api.core.v1.Container",
        "volumeMounts",
        Some("mountPath"),
        "merge",
    ),
    (
        "io.k8s.api.core.v1.Container",
        "volumeDevices",
        Some("devicePath"),
        "merge",
    ),
    (
        "io.k8s.api.core.v1.EphemeralContainer",
        "ports",
        Some("containerPort"),
        "merge",
    ),
    (
        "io.k8s.api.core.v1.EphemeralContainer",
        "env",
        Some("name"),
        "merge",
    ),
    (
        "io.k8s.api.core.v1.EphemeralContainer",
        "volumeMounts",
        Some("mountPath"),
        "merge",
    ),
    (
        "io.k8s.api.core.v1.ServiceSpec",
        "ports",
        Some("port"),
        "merge",
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        "finalizers",
        None,
        "merge",
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        "ownerReferences",
        Some("uid"),
        "merge",
    ),
];

fn add_patch_meta(schemas: &mut Map<String, Value>) {
    for (component, property, key, strategy) in PATCH_META {
        if let Some(prop) = schemas
            .get_mut(*component)
            .and_then(|c| c.pointer_mut(&format!("/properties/{property}")))
            .and_then(Value::as_object_mut)
        {
            prop.insert("x-kubernetes-patch-strategy".into(), json!(strategy));
            if let Some(k) = key {
                prop.insert("x-kubernetes-patch-merge-key".into(), json!(k));
            }
        }
    }
}

/// A CRD kind's schema (or a permissive one), tagged with its GVK.
fn custom_schema(rt: &ResourceType) -> Value {
    let mut s = match rt.custom.as_ref().and_then(|c| c.schema.clone()) {
        Some(s) => s,
        None => json!({
            "type": "object",
            "description": format!("{} is a {} resource.", rt.kind, rt.api_version()),
            "x-kubernetes-preserve-unknown-fields": true,
        }),
    };
    s["x-kubernetes-group-version-kind"] = json!([gvk(rt)]);
    s
}

/// `/openapi/v3/api/v1` or `/openapi/v3/apis/GROUP/VERSION`.
pub fn document(reg: &Registry, group: &str, version: &str) -> Value {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    let mut generator = schemars::generate::SchemaSettings::openapi3().into_generator();
    let mut builtin_kinds = Vec::new();
    for rt in reg.resources(group, version) {
        resource_paths(&rt, &mut paths);
        match rt.schema {
            Some(schema_fn) => {
                schema_fn(&mut generator);
                builtin_kinds.push(rt.clone());
            }
            None => {
                schemas.insert(schema_name(&rt), custom_schema(&rt));
            }
        }
    }
    for (name, schema) in generator.take_definitions(true) {
        schemas.insert(name, schema);
    }
    for rt in builtin_kinds {
        if let Some(obj) = schemas
            .get_mut(&schema_name(&rt))
            .and_then(Value::as_object_mut)
        {
            obj.insert("x-kubernetes-group-version-kind".into(), json!([gvk(&rt)]));
        }
    }
    add_patch_meta(&mut schemas);
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": crate::KUBERNETES_VERSION},
        "paths": paths,
        "components": {"schemas": schemas},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_operations_advertise_field_validation() {
        let reg = Registry::with_builtins();
        let doc = document(&reg, "apps", "v1");
        let op = &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
        assert_eq!(op["x-kubernetes-group-version-kind"]["kind"], "Deployment");
        assert!(
            op["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == "fieldValidation")
        );
        let deployment = &doc["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"];
        assert_eq!(
            deployment["x-kubernetes-group-version-kind"][0]["kind"],
            "Deployment"
        );
        let containers =
            &doc["components"]["schemas"]["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"];
        assert_eq!(containers["x-kubernetes-patch-merge-key"], "name");
        assert!(idx_has(&reg));
    }

    fn idx_has(reg: &Registry) -> bool {
        let idx = index(reg);
        idx["paths"]["apis/apps/v1"]["serverRelativeURL"]
            .as_str()
            .unwrap()
            .starts_with("/openapi/v3/apis/apps/v1?hash=")
    }

    #[test]
    fn index_links_each_group_version() {
        let reg = Registry::with_builtins();
        let idx = index(&reg);
        assert!(idx["paths"]["api/v1"].is_object());
        assert!(
            idx["paths"]["apis/apps/v1"]["serverRelativeURL"]
                .as_str()
                .unwrap()
                .starts_with("/openapi/v3/apis/apps/v1?hash=")
        );
    }
}
