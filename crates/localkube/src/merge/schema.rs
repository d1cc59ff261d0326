//! Merge schema for built-in Kubernetes kinds: how each list (and a few maps) merges.
//!
//! Kubernetes describes list merging with `x-kubernetes-list-type` /
//! `x-kubernetes-list-map-keys` (server-side apply) and `patchStrategy` /
//! `patchMergeKey` (strategic merge patch). We do not carry the OpenAPI schema,
//! so this module hard-codes the facts for the built-in kinds that matter.
//!
//! Lookup works on the chain of object field names from the root of the object
//! down to the field (list elements add no segment, so a container's ports are
//! `["spec", "template", "spec", "containers", "ports"]` in a Deployment). The
//! matching is done by:
//!
//! 1. `metadata.*` lists at the root of every kind (and inside pod/job templates
//!    of built-in kinds), matched on the last two segments;
//! 2. "are we inside a pod spec" — a per-kind prefix (`spec` for a Pod,
//!    `spec.template.spec` for workloads, ...), then a match on the remaining
//!    (short) suffix, which covers pod-level and container-level lists;
//! 3. a few per-kind exact paths (Service ports, StatefulSet claim templates, RBAC
//!    rules, ...);
//! 4. `status....conditions` of built-in kinds (list-map keyed by `type`).
//!
//! Everything else is atomic, which is also Kubernetes' default for lists.
//!
//! It also says which fields field ownership is tracked for ([`tracked`]).

use serde_json::{Map, Value};

/// How a list merges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListType {
    /// Replaced as a whole (one leaf in the field set).
    Atomic,
    /// A set of scalars; merge is a union, elements are `v:<json>` in the field set.
    Set,
    /// A list of objects identified by these key fields (`k:{...}` in the field set).
    /// Strategic merge patch uses only the first key (its `patchMergeKey`).
    Map(Vec<&'static str>),
}

/// Built-in kinds this module knows; conditions and template metadata are only
/// interpreted for these (custom resources default to atomic, as in Kubernetes
/// without schema hints).
const BUILTIN_KINDS: &[&str] = &[
    "APIService",
    "CertificateSigningRequest",
    "ClusterRole",
    "ClusterRoleBinding",
    "ConfigMap",
    "ControllerRevision",
    "CronJob",
    "CustomResourceDefinition",
    "DaemonSet",
    "Deployment",
    "EndpointSlice",
    "Endpoints",
    "Event",
    "HorizontalPodAutoscaler",
    "Ingress",
    "IngressClass",
    "Job",
    "Lease",
    "LimitRange",
    "MutatingWebhookConfiguration",
    "Namespace",
    "NetworkPolicy",
    "Node",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Pod",
    "PodDisruptionBudget",
    "PodTemplate",
    "PriorityClass",
    "ReplicaSet",
    "ReplicationController",
    "ResourceQuota",
    "Role",
    "RoleBinding",
    "Secret",
    "Service",
    "ServiceAccount",
    "StatefulSet",
    "StorageClass",
    "ValidatingWebhookConfiguration",
];

/// Kinds whose pod template lives at `spec.template`.
const TEMPLATE_WORKLOADS: &[&str] = &[
    "DaemonSet",
    "Deployment",
    "Job",
    "ReplicaSet",
    "ReplicationController",
    "StatefulSet",
];

/// Kinds whose `spec.selector` is a `LabelSelector` (an atomic struct).
const LABEL_SELECTOR_KINDS: &[&str] = &[
    "DaemonSet",
    "Deployment",
    "Job",
    "PodDisruptionBudget",
    "ReplicaSet",
    "StatefulSet",
];

const CONTAINER_LISTS: &[&str] = &["containers", "initContainers", "ephemeralContainers"];

/// Whether `kind` is one of the built-in kinds described here.
pub fn is_builtin(kind: &str) -> bool {
    BUILTIN_KINDS.contains(&kind)
}

/// The list type of the list field at `path` in an object of `kind`.
pub fn list_type(kind: &str, path: &[&str]) -> ListType {
    use ListType::{Atomic, Map, Set};
    let builtin = is_builtin(kind);

    // 1. Object metadata: at the root for every kind, anywhere for built-ins
    //    (pod templates, job templates).
    if let [prefix @ .., "metadata", field] = path
        && (prefix.is_empty() || builtin)
    {
        match *field {
            "finalizers" => return Set,
            "ownerReferences" => return Map(vec!["uid"]),
            "managedFields" => return Atomic,
            _ => {}
        }
    }

    // 2. Inside a pod spec.
    if let Some(rest) = pod_spec_rest(kind, path) {
        return pod_spec_list(rest);
    }

    // 3. Per-kind paths.
    match (kind, path) {
        ("Service", ["spec", "ports"]) => return Map(vec!["port", "protocol"]),
        ("Namespace", ["spec", "finalizers"]) => return Atomic,
        ("Node", ["spec", "podCIDRs"]) => return Set,
        _ => {}
    }

    // 4. Conditions anywhere under status.
    if builtin && path.first() == Some(&"status") && path.last() == Some(&"conditions") {
        return Map(vec!["type"]);
    }

    // Everything else, including Service ipFamilies/clusterIPs, StatefulSet
    // volumeClaimTemplates, RBAC rules/subjects and Ingress rules, is atomic.
    Atomic
}

/// Whether the object field at `path` is an atomic map/struct (replaced as a whole by
/// server-side apply and owned as a single leaf), e.g. `LabelSelector`s and
/// `nodeSelector`. Strategic merge patch still merges these recursively, as
/// Kubernetes does.
pub fn is_atomic_map(kind: &str, path: &[&str]) -> bool {
    if !is_builtin(kind) {
        return false;
    }
    if let Some(rest) = pod_spec_rest(kind, path) {
        return matches!(rest, ["nodeSelector"])
            || matches!(rest.last(), Some(&("labelSelector" | "namespaceSelector")));
    }
    match (kind, path) {
        (k, ["spec", "selector"]) if LABEL_SELECTOR_KINDS.contains(&k) => true,
        ("Service" | "ReplicationController", ["spec", "selector"]) => true,
        ("CronJob", ["spec", "jobTemplate", "spec", "selector"]) => true,
        ("NetworkPolicy", ["spec", "podSelector"]) => true,
        _ => false,
    }
}

/// If `path` lies inside the pod spec of `kind`, the part of `path` below the pod spec.
fn pod_spec_rest<'p>(kind: &str, path: &'p [&'p str]) -> Option<&'p [&'p str]> {
    let prefix: &[&str] = match kind {
        "Pod" => &["spec"],
        "PodTemplate" => &["template", "spec"],
        "CronJob" => &["spec", "jobTemplate", "spec", "template", "spec"],
        k if TEMPLATE_WORKLOADS.contains(&k) => &["spec", "template", "spec"],
        _ => return None,
    };
    path.strip_prefix(prefix)
}

/// List types below a `PodSpec` (`rest` is the path relative to the pod spec).
fn pod_spec_list(rest: &[&str]) -> ListType {
    use ListType::{Atomic, Map};
    match rest {
        [c] if CONTAINER_LISTS.contains(c) => Map(vec!["name"]),
        ["volumes" | "imagePullSecrets" | "resourceClaims" | "schedulingGates"] => {
            Map(vec!["name"])
        }
        ["hostAliases"] => Map(vec!["ip"]),
        ["topologySpreadConstraints"] => Map(vec!["topologyKey", "whenUnsatisfiable"]),
        [c, field] if CONTAINER_LISTS.contains(c) => match *field {
            "ports" => Map(vec!["containerPort", "protocol"]),
            "env" => Map(vec!["name"]),
            "volumeMounts" => Map(vec!["mountPath"]),
            "volumeDevices" => Map(vec!["devicePath"]),
            // envFrom, args, command, resizePolicy, ...
            _ => Atomic,
        },
        [c, "resources", "claims"] if CONTAINER_LISTS.contains(c) => Map(vec!["name"]),
        // tolerations, readinessGates, affinity terms, dnsConfig lists, ...
        _ => Atomic,
    }
}

/// Defaults that Kubernetes applies to list-map key fields when they are omitted
/// (so `{"containerPort": 80}` and `{"containerPort": 80, "protocol": "TCP"}` are
/// the same element).
pub fn default_key_value(key: &str) -> Option<Value> {
    match key {
        "protocol" => Some(Value::String("TCP".to_owned())),
        _ => None,
    }
}

/// Which top-level parts of an object ownership is tracked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scope {
    /// Everything but `status`.
    Main,
    /// Only `status` (the status subresource).
    Status,
    /// Everything, `status` included.
    All,
}

/// Metadata fields owned by the system, never tracked.
const UNTRACKED_METADATA: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];

/// Whether ownership of the top-level field `key` is tracked in `scope`.
pub(crate) fn tracked_root_key(key: &str, scope: Scope) -> bool {
    match key {
        "apiVersion" | "kind" => false,
        "status" => scope != Scope::Main,
        _ => scope != Scope::Status,
    }
}

/// Whether ownership of `metadata.<key>` is tracked.
pub(crate) fn tracked_metadata_key(key: &str) -> bool {
    !UNTRACKED_METADATA.contains(&key)
}

/// A copy of `obj` restricted to the fields whose ownership is tracked in `scope`.
pub(crate) fn tracked(obj: &Value, scope: Scope) -> Map<String, Value> {
    let mut out = Map::new();
    let Some(map) = obj.as_object() else {
        return out;
    };
    for (key, value) in map {
        if !tracked_root_key(key, scope) {
            continue;
        }
        if let ("metadata", Value::Object(meta)) = (key.as_str(), value) {
            let meta: Map<String, Value> = meta
                .iter()
                .filter(|(k, _)| tracked_metadata_key(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            if !meta.is_empty() {
                out.insert(key.clone(), Value::Object(meta));
            }
            continue;
        }
        out.insert(key.clone(), value.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{ListType, list_type};

    #[test]
    fn schema_knows_builtin_lists() {
        let c = ["spec", "template", "spec", "containers"];
        assert_eq!(list_type("Deployment", &c), ListType::Map(vec!["name"]));
        assert_eq!(
            list_type(
                "Deployment",
                &["spec", "template", "spec", "containers", "ports"]
            ),
            ListType::Map(vec!["containerPort", "protocol"])
        );
        assert_eq!(
            list_type(
                "CronJob",
                &["spec", "jobTemplate", "spec", "template", "spec", "volumes"]
            ),
            ListType::Map(vec!["name"])
        );
        assert_eq!(
            list_type("Pod", &["spec", "initContainers", "env"]),
            ListType::Map(vec!["name"])
        );
        assert_eq!(
            list_type("Pod", &["spec", "containers", "args"]),
            ListType::Atomic
        );
        assert_eq!(list_type("Pod", &["spec", "tolerations"]), ListType::Atomic);
        assert_eq!(
            list_type("Service", &["spec", "ports"]),
            ListType::Map(vec!["port", "protocol"])
        );
        assert_eq!(
            list_type("Service", &["spec", "clusterIPs"]),
            ListType::Atomic
        );
        assert_eq!(
            list_type("Deployment", &["status", "conditions"]),
            ListType::Map(vec!["type"])
        );
        assert_eq!(
            list_type("Widget", &["metadata", "finalizers"]),
            ListType::Set
        );
        assert_eq!(
            list_type("Widget", &["status", "conditions"]),
            ListType::Atomic
        );
        assert_eq!(
            list_type("ConfigMap", &["metadata", "ownerReferences"]),
            ListType::Map(vec!["uid"])
        );
        assert_eq!(list_type("Role", &["rules"]), ListType::Atomic);
    }
}
