//! The table of resource types the server serves: the built-in types
//! (derived from k8s-openapi's type metadata) plus kinds added by CRDs.

use std::any::TypeId;
use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::{NamespaceResourceScope, Resource};
use serde_json::Value;

/// The standard verbs of a full read-write resource.
pub const ALL_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// Checks an object against its typed schema and returns the normalised form
/// (unknown fields dropped) plus the paths of unknown fields.
pub type Validator = fn(&Value) -> Result<(Value, Vec<String>), String>;

/// Produces the OpenAPI schema of a built-in kind (registering the schemas
/// it references in the generator).
pub type SchemaFn = fn(&mut schemars::SchemaGenerator) -> schemars::Schema;

/// What the server knows about one served resource (one group/version/plural).
#[derive(Debug, Clone)]
pub struct ResourceType {
    /// API group; empty for core.
    pub group: String,
    /// Version, e.g. `v1`.
    pub version: String,
    /// Kind, e.g. `Deployment`.
    pub kind: String,
    /// List kind, e.g. `DeploymentList`.
    pub list_kind: String,
    /// URL segment, e.g. `deployments`.
    pub plural: String,
    /// Lower-case singular name.
    pub singular: String,
    /// Short names (`deploy`).
    pub short_names: Vec<String>,
    /// Categories (`all`).
    pub categories: Vec<String>,
    /// Namespaced or cluster-scoped.
    pub namespaced: bool,
    /// Verbs supported on the main resource.
    pub verbs: Vec<&'static str>,
    /// Has a `/status` subresource.
    pub status_subresource: bool,
    /// Has a `/scale` subresource: path to replicas in spec, status, and label selector path.
    pub scale: Option<ScaleSpec>,
    /// Whether `metadata.generation` is maintained.
    pub generation: bool,
    /// Typed validation for built-in types; `None` for custom resources.
    pub validator: Option<Validator>,
    /// OpenAPI schema of built-in kinds; custom resources use their CRD's.
    pub schema: Option<SchemaFn>,
    /// For custom resources: the CRD's name and this version's schema.
    pub custom: Option<CustomInfo>,
}

/// Where the scale subresource reads and writes.
#[derive(Debug, Clone)]
pub struct ScaleSpec {
    /// JSON pointer to the desired replicas, e.g. `/spec/replicas`.
    pub spec_replicas: String,
    /// JSON pointer to observed replicas.
    pub status_replicas: String,
    /// JSON pointer to the label selector (string form) in status, if any.
    pub label_selector: Option<String>,
}

/// Information about a CRD-backed resource version.
#[derive(Debug, Clone)]
pub struct CustomInfo {
    /// Name of the CRD (`plural.group`).
    pub crd_name: String,
    /// `openAPIV3Schema` of this version, if given.
    pub schema: Option<Value>,
    /// Whether this is the storage version.
    pub storage: bool,
    /// additionalPrinterColumns of this version.
    pub printer_columns: Vec<Value>,
}

impl ResourceType {
    /// `apps/v1` or `v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Key of the storage this resource's objects live in; shared by all
    /// versions of the same group and resource.
    pub fn storage_key(&self) -> String {
        format!("{}/{}", self.group, self.plural)
    }
}

fn typed_validator<T>(v: &Value) -> Result<(Value, Vec<String>), String>
where
    T: serde::de::DeserializeOwned + serde::Serialize,
{
    let typed: T = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
    let back = serde_json::to_value(&typed).map_err(|e| e.to_string())?;
    let mut unknown = Vec::new();
    unknown_fields(v, &back, String::new(), &mut unknown);
    Ok((back, unknown))
}

/// Paths present in `input` but absent from the typed round trip `output`.
fn unknown_fields(input: &Value, output: &Value, path: String, out: &mut Vec<String>) {
    match (input, output) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match b.get(k) {
                    Some(bv) => unknown_fields(v, bv, p, out),
                    None => {
                        let empty = match v {
                            Value::Null => true,
                            Value::Object(m) => m.is_empty(),
                            Value::Array(a) => a.is_empty(),
                            _ => false,
                        };
                        if !empty {
                            out.push(p);
                        }
                    }
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                unknown_fields(x, y, format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

struct Extra {
    short: &'static [&'static str],
    categories: &'static [&'static str],
    status: bool,
    scale: bool,
    generation: bool,
}

fn schema_of<T: schemars::JsonSchema>(
    generator: &mut schemars::SchemaGenerator,
) -> schemars::Schema {
    generator.subschema_for::<T>()
}

fn builtin<T>(extra: Extra) -> ResourceType
where
    T: Resource + serde::de::DeserializeOwned + serde::Serialize + schemars::JsonSchema + 'static,
    T::Scope: 'static,
{
    let namespaced = TypeId::of::<T::Scope>() == TypeId::of::<NamespaceResourceScope>();
    let scale = extra.scale.then(|| ScaleSpec {
        spec_replicas: "/spec/replicas".into(),
        status_replicas: "/status/replicas".into(),
        label_selector: Some("/status/selector".into()),
    });
    ResourceType {
        group: T::GROUP.to_string(),
        version: T::VERSION.to_string(),
        kind: T::KIND.to_string(),
        list_kind: format!("{}List", T::KIND),
        plural: T::URL_PATH_SEGMENT.to_string(),
        singular: T::KIND.to_lowercase(),
        short_names: extra.short.iter().map(|s| s.to_string()).collect(),
        categories: extra.categories.iter().map(|s| s.to_string()).collect(),
        namespaced,
        verbs: ALL_VERBS.to_vec(),
        status_subresource: extra.status,
        scale,
        generation: extra.generation,
        validator: Some(typed_validator::<T>),
        schema: Some(schema_of::<T>),
        custom: None,
    }
}

macro_rules! builtins {
    ($( $ty:ty { short: [$($s:literal),*], cat: [$($c:literal),*], status: $st:literal, scale: $sc:literal, gen: $g:literal } ),* $(,)?) => {
        vec![$(
            builtin::<$ty>(Extra {
                short: &[$($s),*],
                categories: &[$($c),*],
                status: $st,
                scale: $sc,
                generation: $g,
            })
        ),*]
    };
}

/// All built-in resource types, from k8s-openapi's metadata plus the short
/// names, categories and subresources a real API server advertises.
pub fn builtin_types() -> Vec<ResourceType> {
    use k8s_openapi::api::{
        admissionregistration::v1 as admission, apps::v1 as apps, autoscaling::v2 as autoscaling,
        batch::v1 as batch, certificates::v1 as certificates, coordination::v1 as coordination,
        core::v1 as core, discovery::v1 as discovery, events::v1 as events,
        networking::v1 as networking, node::v1 as node, policy::v1 as policy, rbac::v1 as rbac,
        scheduling::v1 as scheduling, storage::v1 as storage,
    };
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as apiextensions;
    use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1 as apiregistration;
    let mut types = builtins![
        core::Namespace { short: ["ns"], cat: [], status: true, scale: false, gen: false },
        core::Pod { short: ["po"], cat: ["all"], status: true, scale: false, gen: false },
        core::Service { short: ["svc"], cat: ["all"], status: true, scale: false, gen: false },
        core::ConfigMap { short: ["cm"], cat: [], status: false, scale: false, gen: false },
        core::Secret { short: [], cat: [], status: false, scale: false, gen: false },
        core::ServiceAccount { short: ["sa"], cat: [], status: false, scale: false, gen: false },
        core::Endpoints { short: ["ep"], cat: [], status: false, scale: false, gen: false },
        core::Event { short: ["ev"], cat: [], status: false, scale: false, gen: false },
        core::Node { short: ["no"], cat: [], status: true, scale: false, gen: false },
        core::PersistentVolume { short: ["pv"], cat: [], status: true, scale: false, gen: false },
        core::PersistentVolumeClaim { short: ["pvc"], cat: [], status: true, scale: false, gen: false },
        core::ReplicationController { short: ["rc"], cat: ["all"], status: true, scale: true, gen: true },
        core::LimitRange { short: ["limits"], cat: [], status: false, scale: false, gen: false },
        core::ResourceQuota { short: ["quota"], cat: [], status: true, scale: false, gen: false },
        core::PodTemplate { short: [], cat: [], status: false, scale: false, gen: false },
        apps::Deployment { short: ["deploy"], cat: ["all"], status: true, scale: true, gen: true },
        apps::ReplicaSet { short: ["rs"], cat: ["all"], status: true, scale: true, gen: true },
        apps::StatefulSet { short: ["sts"], cat: ["all"], status: true, scale: true, gen: true },
        apps::DaemonSet { short: ["ds"], cat: ["all"], status: true, scale: false, gen: true },
        apps::ControllerRevision { short: [], cat: [], status: false, scale: false, gen: false },
        batch::Job { short: [], cat: ["all"], status: true, scale: false, gen: true },
        batch::CronJob { short: ["cj"], cat: ["all"], status: true, scale: false, gen: true },
        networking::Ingress { short: ["ing"], cat: [], status: true, scale: false, gen: true },
        networking::IngressClass { short: [], cat: [], status: false, scale: false, gen: false },
        networking::NetworkPolicy { short: ["netpol"], cat: [], status: false, scale: false, gen: true },
        rbac::Role { short: [], cat: [], status: false, scale: false, gen: false },
        rbac::RoleBinding { short: [], cat: [], status: false, scale: false, gen: false },
        rbac::ClusterRole { short: [], cat: [], status: false, scale: false, gen: false },
        rbac::ClusterRoleBinding { short: [], cat: [], status: false, scale: false, gen: false },
        policy::PodDisruptionBudget { short: ["pdb"], cat: [], status: true, scale: false, gen: true },
        autoscaling::HorizontalPodAutoscaler { short: ["hpa"], cat: ["all"], status: true, scale: false, gen: true },
        coordination::Lease { short: [], cat: [], status: false, scale: false, gen: false },
        apiextensions::CustomResourceDefinition { short: ["crd", "crds"], cat: ["api-extensions"], status: true, scale: false, gen: true },
        apiregistration::APIService { short: [], cat: ["api-extensions"], status: true, scale: false, gen: false },
        storage::StorageClass { short: ["sc"], cat: [], status: false, scale: false, gen: false },
        storage::VolumeAttachment { short: [], cat: [], status: true, scale: false, gen: false },
        storage::CSIDriver { short: [], cat: [], status: false, scale: false, gen: false },
        storage::CSINode { short: [], cat: [], status: false, scale: false, gen: false },
        storage::CSIStorageCapacity { short: [], cat: [], status: false, scale: false, gen: false },
        scheduling::PriorityClass { short: ["pc"], cat: [], status: false, scale: false, gen: false },
        events::Event { short: ["ev"], cat: [], status: false, scale: false, gen: false },
        admission::ValidatingWebhookConfiguration { short: [], cat: ["api-extensions"], status: false, scale: false, gen: true },
        admission::MutatingWebhookConfiguration { short: [], cat: ["api-extensions"], status: false, scale: false, gen: true },
        admission::ValidatingAdmissionPolicy { short: [], cat: ["api-extensions"], status: true, scale: false, gen: true },
        admission::ValidatingAdmissionPolicyBinding { short: [], cat: ["api-extensions"], status: false, scale: false, gen: true },
        discovery::EndpointSlice { short: [], cat: [], status: false, scale: false, gen: false },
        node::RuntimeClass { short: [], cat: [], status: false, scale: false, gen: false },
        certificates::CertificateSigningRequest { short: ["csr"], cat: [], status: true, scale: false, gen: false },
    ];
    // StatefulSet and ReplicationController report selectors differently;
    // the scale subresource reads the same pointers for all of them here.
    for t in &mut types {
        if t.kind == "ReplicationController" {
            t.scale = Some(ScaleSpec {
                spec_replicas: "/spec/replicas".into(),
                status_replicas: "/status/replicas".into(),
                label_selector: None,
            });
        }
    }
    types
}

/// The live table of served resources. Cheap to clone (shared).
#[derive(Debug, Clone, Default)]
pub struct Registry {
    /// group -> version -> plural -> type
    by_gv: BTreeMap<String, BTreeMap<String, BTreeMap<String, Arc<ResourceType>>>>,
}

impl Registry {
    /// A registry holding the built-in types.
    pub fn with_builtins() -> Self {
        let mut r = Registry::default();
        for t in builtin_types() {
            r.insert(t);
        }
        r
    }

    /// Add or replace a resource type.
    pub fn insert(&mut self, t: ResourceType) {
        self.by_gv
            .entry(t.group.clone())
            .or_default()
            .entry(t.version.clone())
            .or_default()
            .insert(t.plural.clone(), Arc::new(t));
    }

    /// Remove every version of the resources a CRD defined.
    pub fn remove_crd(&mut self, crd_name: &str) {
        for versions in self.by_gv.values_mut() {
            for resources in versions.values_mut() {
                resources.retain(|_, t| {
                    t.custom.as_ref().map(|c| c.crd_name.as_str()) != Some(crd_name)
                });
            }
            versions.retain(|_, r| !r.is_empty());
        }
        self.by_gv.retain(|_, v| !v.is_empty());
    }

    /// Look up a resource by group, version and plural.
    pub fn get(&self, group: &str, version: &str, plural: &str) -> Option<Arc<ResourceType>> {
        self.by_gv.get(group)?.get(version)?.get(plural).cloned()
    }

    /// Whether a group/version is served.
    pub fn has_group_version(&self, group: &str, version: &str) -> bool {
        self.by_gv
            .get(group)
            .is_some_and(|v| v.contains_key(version))
    }

    /// All groups (core first as ""), each with its versions, most preferred first.
    pub fn groups(&self) -> Vec<(String, Vec<String>)> {
        self.by_gv
            .iter()
            .map(|(g, versions)| {
                let mut vs: Vec<String> = versions.keys().cloned().collect();
                vs.sort_by_key(|v| std::cmp::Reverse(version_priority(v)));
                (g.clone(), vs)
            })
            .collect()
    }

    /// Resources served under one group/version.
    pub fn resources(&self, group: &str, version: &str) -> Vec<Arc<ResourceType>> {
        self.by_gv
            .get(group)
            .and_then(|v| v.get(version))
            .map(|r| r.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Every served resource type.
    pub fn all(&self) -> Vec<Arc<ResourceType>> {
        self.by_gv
            .values()
            .flat_map(|v| v.values())
            .flat_map(|r| r.values().cloned())
            .collect()
    }

    /// Find the served type for an apiVersion + kind (used when an object
    /// names its own kind, e.g. in ownerReferences or CRD conversion).
    pub fn by_kind(&self, api_version: &str, kind: &str) -> Option<Arc<ResourceType>> {
        let (group, version) = split_api_version(api_version);
        self.by_gv
            .get(group)?
            .get(version)?
            .values()
            .find(|t| t.kind == kind)
            .cloned()
    }
}

/// `apps/v1` -> (`apps`, `v1`); `v1` -> (``, `v1`).
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    }
}

/// Kubernetes version priority: GA > beta > alpha, higher numbers first.
pub fn version_priority(v: &str) -> (u8, u32, u32) {
    let Some(rest) = v.strip_prefix('v') else {
        return (0, 0, 0);
    };
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    let major: u32 = digits.parse().unwrap_or(0);
    let tail = &rest[digits.len()..];
    if tail.is_empty() {
        return (3, major, 0);
    }
    let (level, num) = if let Some(n) = tail.strip_prefix("beta") {
        (2, n)
    } else if let Some(n) = tail.strip_prefix("alpha") {
        (1, n)
    } else {
        return (0, major, 0);
    };
    (level, major, num.parse().unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_carry_scope_and_names_from_k8s_openapi() {
        let r = Registry::with_builtins();
        let d = r.get("apps", "v1", "deployments").unwrap();
        assert_eq!(d.kind, "Deployment");
        assert!(d.namespaced);
        assert_eq!(d.short_names, vec!["deploy"]);
        let ns = r.get("", "v1", "namespaces").unwrap();
        assert!(!ns.namespaced);
        let crb = r
            .get("rbac.authorization.k8s.io", "v1", "clusterrolebindings")
            .unwrap();
        assert!(!crb.namespaced);
        assert!(
            r.get("apiextensions.k8s.io", "v1", "customresourcedefinitions")
                .is_some()
        );
    }

    #[test]
    fn typed_validation_reports_unknown_fields() {
        let r = Registry::with_builtins();
        let cm = r.get("", "v1", "configmaps").unwrap();
        let obj = serde_json::json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","creationTimestamp":null},"data":{"k":"v"},"bogus":1});
        let (norm, unknown) = (cm.validator.unwrap())(&obj).unwrap();
        assert_eq!(unknown, vec!["bogus".to_string()]);
        assert!(norm.get("bogus").is_none());
        assert_eq!(norm["data"]["k"], "v");
    }

    #[test]
    fn versions_sort_like_kubernetes() {
        let mut v = vec!["v1alpha1", "v2", "v1beta2", "v1", "v1beta1"];
        v.sort_by_key(|x| std::cmp::Reverse(version_priority(x)));
        assert_eq!(v, vec!["v2", "v1", "v1beta2", "v1beta1", "v1alpha1"]);
    }
}
