//! The order of kinds within a wave: Namespaces, then
//! CustomResourceDefinitions (so their custom resources can follow), then the kinds others depend on before the
//! kinds that use them (accounts and configuration before workloads,
//! workloads before what routes to them); kinds not listed go last, by
//! name. Pruning goes in the reverse order.

use crate::diff::ObjectKey;

const ORDER: &[&str] = &[
    "Namespace",
    "CustomResourceDefinition",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
];

/// The rank of a kind: lower goes first. Only built-in kinds are ranked
/// (a custom kind named `Deployment` is not a Deployment).
pub fn rank(key: &ObjectKey) -> usize {
    let builtin = key.group.is_empty()
        || key.group.ends_with(".k8s.io")
        || matches!(
            key.group.as_str(),
            "apps" | "batch" | "autoscaling" | "policy" | "extensions"
        );
    ORDER
        .iter()
        .position(|k| *k == key.kind && builtin)
        .unwrap_or(ORDER.len())
}

/// Sort keys for applying: rank, then kind, namespace, name.
pub fn apply_order(a: &ObjectKey, b: &ObjectKey) -> std::cmp::Ordering {
    (rank(a), &a.kind, &a.group, &a.namespace, &a.name).cmp(&(
        rank(b),
        &b.kind,
        &b.group,
        &b.namespace,
        &b.name,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(api: &str, kind: &str, name: &str) -> ObjectKey {
        ObjectKey::of(
            &serde_json::json!({"apiVersion": api, "kind": kind, "metadata": {"name": name}}),
        )
    }

    #[test]
    fn namespaces_then_crds_then_config_then_workloads_then_custom_kinds() {
        let mut keys = [
            key("example.com/v1", "Widget", "w"),
            key("apps/v1", "Deployment", "web"),
            key("v1", "ConfigMap", "cfg"),
            key(
                "apiextensions.k8s.io/v1",
                "CustomResourceDefinition",
                "widgets.example.com",
            ),
            key("v1", "Service", "web"),
            key("v1", "Namespace", "shop"),
        ];
        keys.sort_by(apply_order);
        let kinds: Vec<&str> = keys.iter().map(|k| k.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "Namespace",
                "CustomResourceDefinition",
                "ConfigMap",
                "Service",
                "Deployment",
                "Widget"
            ]
        );
        // A custom kind that shares a built-in kind's name is not built in.
        assert_eq!(rank(&key("example.com/v1", "Deployment", "x")), ORDER.len());
    }
}
