//! Field tables for policy/v1 messages: tag, JSON name and kind of each field (format in `super`).

use super::{Field, Kind::*, f, k};

/// `policy.v1.Eviction`
pub(crate) const EVICTION: &[Field] = &[
    f(1, "metadata", Msg(super::meta::OBJECT_META)),
    f(2, "deleteOptions", Msg(super::meta::DELETE_OPTIONS)),
];

/// `policy.v1.PodDisruptionBudget`
pub(crate) const POD_DISRUPTION_BUDGET: &[Field] = &[
    f(1, "metadata", Msg(super::meta::OBJECT_META)),
    f(2, "spec", Msg(POD_DISRUPTION_BUDGET_SPEC)),
    f(3, "status", Msg(POD_DISRUPTION_BUDGET_STATUS)),
];

/// `policy.v1.PodDisruptionBudgetSpec`
pub(crate) const POD_DISRUPTION_BUDGET_SPEC: &[Field] = &[
    k(1, "minAvailable", IntOrString),
    f(2, "selector", Msg(super::meta::LABEL_SELECTOR)),
    k(3, "maxUnavailable", IntOrString),
    f(4, "unhealthyPodEvictionPolicy", Str),
];

/// `policy.v1.PodDisruptionBudgetStatus`
pub(crate) const POD_DISRUPTION_BUDGET_STATUS: &[Field] = &[
    f(1, "observedGeneration", I64),
    f(2, "disruptedPods", MapTime),
    k(3, "disruptionsAllowed", I32),
    k(4, "currentHealthy", I32),
    k(5, "desiredHealthy", I32),
    k(6, "expectedPods", I32),
    f(7, "conditions", ListMsg(super::meta::CONDITION)),
];
