//! Field tables for rbac.authorization.k8s.io/v1 messages: tag, JSON name and kind of each field (format in `super`).

use super::{Field, Kind::*, f, k};

/// `rbac.v1.AggregationRule`
pub(crate) const AGGREGATION_RULE: &[Field] = &[f(
    1,
    "clusterRoleSelectors",
    ListMsg(super::meta::LABEL_SELECTOR),
)];

/// `rbac.v1.ClusterRole`
pub(crate) const CLUSTER_ROLE: &[Field] = &[
    f(1, "metadata", Msg(super::meta::OBJECT_META)),
    f(2, "rules", ListMsg(POLICY_RULE)),
    f(3, "aggregationRule", Msg(AGGREGATION_RULE)),
];

/// `rbac.v1.ClusterRoleBinding`
pub(crate) const CLUSTER_ROLE_BINDING: &[Field] = &[
    f(1, "metadata", Msg(super::meta::OBJECT_META)),
    f(2, "subjects", ListMsg(SUBJECT)),
    f(3, "roleRef", Msg(ROLE_REF)),
];

/// `rbac.v1.PolicyRule`
pub(crate) const POLICY_RULE: &[Field] = &[
    f(1, "verbs", ListStr),
    f(2, "apiGroups", ListStr),
    f(3, "resources", ListStr),
    f(4, "resourceNames", ListStr),
    f(5, "nonResourceURLs", ListStr),
];

/// `rbac.v1.Role`
pub(crate) const ROLE: &[Field] = &[
    f(1, "metadata", Msg(super::meta::OBJECT_META)),
    f(2, "rules", ListMsg(POLICY_RULE)),
];

/// `rbac.v1.RoleBinding`
pub(crate) const ROLE_BINDING: &[Field] = &[
    f(1, "metadata", Msg(super::meta::OBJECT_META)),
    f(2, "subjects", ListMsg(SUBJECT)),
    f(3, "roleRef", Msg(ROLE_REF)),
];

/// `rbac.v1.RoleRef`
pub(crate) const ROLE_REF: &[Field] =
    &[k(1, "apiGroup", Str), k(2, "kind", Str), k(3, "name", Str)];

/// `rbac.v1.Subject`
pub(crate) const SUBJECT: &[Field] = &[
    k(1, "kind", Str),
    f(2, "apiGroup", Str),
    k(3, "name", Str),
    f(4, "namespace", Str),
];
