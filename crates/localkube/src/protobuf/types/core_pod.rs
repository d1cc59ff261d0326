//! Field tables for core/v1 pod scheduling and security messages: tag, JSON name and kind of each field (format in `super`).

use super::{Field, Kind::*, f, k};

/// `core.v1.Affinity`
pub(crate) const AFFINITY: &[Field] = &[
    f(1, "nodeAffinity", Msg(NODE_AFFINITY)),
    f(2, "podAffinity", Msg(POD_AFFINITY)),
    f(3, "podAntiAffinity", Msg(POD_ANTI_AFFINITY)),
];

/// `core.v1.AppArmorProfile`
pub(crate) const APP_ARMOR_PROFILE: &[Field] = &[k(1, "type", Str), f(2, "localhostProfile", Str)];

/// `core.v1.HostAlias`
pub(crate) const HOST_ALIAS: &[Field] = &[k(1, "ip", Str), f(2, "hostnames", ListStr)];

/// `core.v1.NodeAffinity`
pub(crate) const NODE_AFFINITY: &[Field] = &[
    f(
        1,
        "requiredDuringSchedulingIgnoredDuringExecution",
        Msg(NODE_SELECTOR),
    ),
    f(
        2,
        "preferredDuringSchedulingIgnoredDuringExecution",
        ListMsg(PREFERRED_SCHEDULING_TERM),
    ),
];

/// `core.v1.NodeSelector`
pub(crate) const NODE_SELECTOR: &[Field] =
    &[f(1, "nodeSelectorTerms", ListMsg(NODE_SELECTOR_TERM))];

/// `core.v1.NodeSelectorRequirement`
pub(crate) const NODE_SELECTOR_REQUIREMENT: &[Field] = &[
    k(1, "key", Str),
    k(2, "operator", Str),
    f(3, "values", ListStr),
];

/// `core.v1.NodeSelectorTerm`
pub(crate) const NODE_SELECTOR_TERM: &[Field] = &[
    f(1, "matchExpressions", ListMsg(NODE_SELECTOR_REQUIREMENT)),
    f(2, "matchFields", ListMsg(NODE_SELECTOR_REQUIREMENT)),
];

/// `core.v1.PodAffinity`
pub(crate) const POD_AFFINITY: &[Field] = &[
    f(
        1,
        "requiredDuringSchedulingIgnoredDuringExecution",
        ListMsg(POD_AFFINITY_TERM),
    ),
    f(
        2,
        "preferredDuringSchedulingIgnoredDuringExecution",
        ListMsg(WEIGHTED_POD_AFFINITY_TERM),
    ),
];

/// `core.v1.PodAffinityTerm`
pub(crate) const POD_AFFINITY_TERM: &[Field] = &[
    f(1, "labelSelector", Msg(super::meta::LABEL_SELECTOR)),
    f(2, "namespaces", ListStr),
    k(3, "topologyKey", Str),
    f(4, "namespaceSelector", Msg(super::meta::LABEL_SELECTOR)),
    f(5, "matchLabelKeys", ListStr),
    f(6, "mismatchLabelKeys", ListStr),
];

/// `core.v1.PodAntiAffinity`
pub(crate) const POD_ANTI_AFFINITY: &[Field] = &[
    f(
        1,
        "requiredDuringSchedulingIgnoredDuringExecution",
        ListMsg(POD_AFFINITY_TERM),
    ),
    f(
        2,
        "preferredDuringSchedulingIgnoredDuringExecution",
        ListMsg(WEIGHTED_POD_AFFINITY_TERM),
    ),
];

/// `core.v1.PodDNSConfig`
pub(crate) const POD_DNS_CONFIG: &[Field] = &[
    f(1, "nameservers", ListStr),
    f(2, "searches", ListStr),
    f(3, "options", ListMsg(POD_DNS_CONFIG_OPTION)),
];

/// `core.v1.PodDNSConfigOption`
pub(crate) const POD_DNS_CONFIG_OPTION: &[Field] = &[k(1, "name", Str), f(2, "value", Str)];

/// `core.v1.PodOS`
pub(crate) const POD_OS: &[Field] = &[k(1, "name", Str)];

/// `core.v1.PodReadinessGate`
pub(crate) const POD_READINESS_GATE: &[Field] = &[k(1, "conditionType", Str)];

/// `core.v1.PodResourceClaim`
pub(crate) const POD_RESOURCE_CLAIM: &[Field] = &[
    k(1, "name", Str),
    k(3, "resourceClaimName", Str),
    k(4, "resourceClaimTemplateName", Str),
];

/// `core.v1.PodSchedulingGate`
pub(crate) const POD_SCHEDULING_GATE: &[Field] = &[k(1, "name", Str)];

/// `core.v1.PodSecurityContext`
pub(crate) const POD_SECURITY_CONTEXT: &[Field] = &[
    f(1, "seLinuxOptions", Msg(SE_LINUX_OPTIONS)),
    k(2, "runAsUser", I64),
    k(3, "runAsNonRoot", Bool),
    f(4, "supplementalGroups", ListI64),
    k(5, "fsGroup", I64),
    k(6, "runAsGroup", I64),
    f(7, "sysctls", ListMsg(SYSCTL)),
    f(8, "windowsOptions", Msg(WINDOWS_SECURITY_CONTEXT_OPTIONS)),
    f(9, "fsGroupChangePolicy", Str),
    f(10, "seccompProfile", Msg(SECCOMP_PROFILE)),
    f(11, "appArmorProfile", Msg(APP_ARMOR_PROFILE)),
    f(12, "supplementalGroupsPolicy", Str),
    f(13, "seLinuxChangePolicy", Str),
];

/// `core.v1.PreferredSchedulingTerm`
pub(crate) const PREFERRED_SCHEDULING_TERM: &[Field] = &[
    k(1, "weight", I32),
    f(2, "preference", Msg(NODE_SELECTOR_TERM)),
];

/// `core.v1.SELinuxOptions`
pub(crate) const SE_LINUX_OPTIONS: &[Field] = &[
    f(1, "user", Str),
    f(2, "role", Str),
    f(3, "type", Str),
    f(4, "level", Str),
];

/// `core.v1.SeccompProfile`
pub(crate) const SECCOMP_PROFILE: &[Field] = &[k(1, "type", Str), f(2, "localhostProfile", Str)];

/// `core.v1.Sysctl`
pub(crate) const SYSCTL: &[Field] = &[k(1, "name", Str), k(2, "value", Str)];

/// `core.v1.Toleration`
pub(crate) const TOLERATION: &[Field] = &[
    f(1, "key", Str),
    f(2, "operator", Str),
    f(3, "value", Str),
    f(4, "effect", Str),
    k(5, "tolerationSeconds", I64),
];

/// `core.v1.TopologySpreadConstraint`
pub(crate) const TOPOLOGY_SPREAD_CONSTRAINT: &[Field] = &[
    k(1, "maxSkew", I32),
    k(2, "topologyKey", Str),
    k(3, "whenUnsatisfiable", Str),
    f(4, "labelSelector", Msg(super::meta::LABEL_SELECTOR)),
    k(5, "minDomains", I32),
    f(6, "nodeAffinityPolicy", Str),
    f(7, "nodeTaintsPolicy", Str),
    f(8, "matchLabelKeys", ListStr),
];

/// `core.v1.WeightedPodAffinityTerm`
pub(crate) const WEIGHTED_POD_AFFINITY_TERM: &[Field] = &[
    k(1, "weight", I32),
    f(2, "podAffinityTerm", Msg(POD_AFFINITY_TERM)),
];

/// `core.v1.WindowsSecurityContextOptions`
pub(crate) const WINDOWS_SECURITY_CONTEXT_OPTIONS: &[Field] = &[
    f(1, "gmsaCredentialSpecName", Str),
    f(2, "gmsaCredentialSpec", Str),
    f(3, "runAsUserName", Str),
    k(4, "hostProcess", Bool),
];

/// `core.v1.WorkloadReference`
pub(crate) const WORKLOAD_REFERENCE: &[Field] = &[
    k(1, "name", Str),
    k(2, "podGroup", Str),
    f(3, "podGroupReplicaKey", Str),
];
