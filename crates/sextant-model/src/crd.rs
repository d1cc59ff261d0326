//! CustomResourceDefinitions of Sextant's resources, generated from the Rust
//! types (structural OpenAPI v3 schemas). `deploy/crds.yaml` holds the
//! committed output; a test fails if regenerating it changes anything.

use schemars::JsonSchema;
use serde_json::{Value, json};

use crate::ApiGroup;

use crate::application::{ApplicationSpec, ApplicationStatus, Operation};
use crate::project::AppProjectSpec;

fn schema_of<T: JsonSchema>() -> Value {
    let generator = schemars::generate::SchemaSettings::openapi3()
        .with(|s| {
            s.inline_subschemas = true;
            s.meta_schema = None;
        })
        .with_transform(kube_core::schema::StructuralSchemaRewriter)
        .into_generator();
    let mut v = generator.into_root_schema_for::<T>().to_value();
    if let Some(m) = v.as_object_mut() {
        m.remove("title");
        m.remove("$schema");
    }
    v
}

fn crd(
    group: ApiGroup,
    kind: &str,
    plural: &str,
    short: &[&str],
    properties: Value,
    columns: Value,
    status: bool,
) -> Value {
    let mut version = json!({
        "name": crate::VERSION,
        "served": true,
        "storage": true,
        "schema": {"openAPIV3Schema": {
            "type": "object",
            "required": ["metadata", "spec"],
            "properties": properties,
        }},
        "additionalPrinterColumns": columns,
    });
    if status {
        version["subresources"] = json!({"status": {}});
    }
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{plural}.{}", group.name())},
        "spec": {
            "group": group.name(),
            "names": {
                "kind": kind,
                "listKind": format!("{kind}List"),
                "plural": plural,
                "singular": kind.to_lowercase(),
                "shortNames": short,
                "categories": ["sextant"],
            },
            "scope": "Namespaced",
            "versions": [version],
        }
    })
}

fn common() -> serde_json::Map<String, Value> {
    let mut p = serde_json::Map::new();
    p.insert("apiVersion".into(), json!({"type": "string"}));
    p.insert("kind".into(), json!({"type": "string"}));
    p.insert("metadata".into(), json!({"type": "object"}));
    p
}

/// The Application CRD of `group`.
pub fn application(group: ApiGroup) -> Value {
    let mut p = common();
    p.insert("spec".into(), schema_of::<ApplicationSpec>());
    p.insert("status".into(), schema_of::<ApplicationStatus>());
    p.insert("operation".into(), schema_of::<Operation>());
    crd(
        group,
        "Application",
        "applications",
        &["app", "apps"],
        Value::Object(p),
        json!([
            {"name": "Sync Status", "type": "string", "jsonPath": ".status.sync.status"},
            {"name": "Health Status", "type": "string", "jsonPath": ".status.health.status"},
            {"name": "Revision", "type": "string", "jsonPath": ".status.sync.revision", "priority": 10},
            {"name": "Project", "type": "string", "jsonPath": ".spec.project", "priority": 10},
        ]),
        true,
    )
}

/// The AppProject CRD of `group`.
pub fn app_project(group: ApiGroup) -> Value {
    let mut p = common();
    p.insert("spec".into(), schema_of::<AppProjectSpec>());
    p.insert(
        "status".into(),
        json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
    );
    crd(
        group,
        "AppProject",
        "appprojects",
        &["appproj", "appprojs"],
        Value::Object(p),
        json!([]),
        true,
    )
}

/// The ApplicationSet CRD. Generators and the template are free-form (a
/// template's fields may be template strings where an Application has
/// numbers or booleans); every spec field the controller reads is listed,
/// so the API server does not prune it.
pub fn application_set(group: ApiGroup) -> Value {
    let mut p = common();
    p.insert(
        "spec".into(),
        json!({
            "type": "object",
            "required": ["generators", "template"],
            "properties": {
                "generators": {"type": "array", "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
                "template": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                "goTemplate": {"type": "boolean"},
                "goTemplateOptions": {"type": "array", "items": {"type": "string"}},
                "syncPolicy": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                "templatePatch": {"type": "string"},
                "ignoreApplicationDifferences": {"type": "array", "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
                "preservedFields": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                "strategy": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                "applyNestedSelectors": {"type": "boolean"},
            },
        }),
    );
    p.insert(
        "status".into(),
        json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
    );
    crd(
        group,
        "ApplicationSet",
        "applicationsets",
        &["appset", "appsets"],
        Value::Object(p),
        json!([]),
        true,
    )
}

/// All CRDs of the process's group (see [`crate::group`]), Application
/// first.
pub fn all() -> Vec<Value> {
    all_for(crate::group::selected())
}

/// All CRDs of `group`, Application first: the same schemas under either
/// name.
pub fn all_for(group: ApiGroup) -> Vec<Value> {
    vec![
        application(group),
        application_set(group),
        app_project(group),
    ]
}

/// All CRDs of `group` as one multi-document YAML text.
pub fn all_yaml(group: ApiGroup) -> Result<String, serde_yaml_ng::Error> {
    let mut out = match group {
        ApiGroup::Sextant => {
            String::from("# Generated by `sextant crds` from crates/sextant-model; do not edit.\n")
        }
        ApiGroup::ArgoCd => String::from(
            "# Generated by `sextant crds --api-group argoproj.io` from crates/sextant-model:\n\
             # Sextant's schemas under Argo CD's group; do not edit.\n",
        ),
    };
    for c in all_for(group) {
        out.push_str("---\n");
        out.push_str(&serde_yaml_ng::to_string(&c)?);
    }
    Ok(out)
}
