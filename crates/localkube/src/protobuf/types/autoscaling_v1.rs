//! Field tables for autoscaling/v1 messages: tag, JSON name and kind of each field (format in `super`).

use super::{Field, Kind::*, f, k};

/// `autoscaling.v1.CrossVersionObjectReference`
pub(crate) const CROSS_VERSION_OBJECT_REFERENCE: &[Field] = &[
    k(1, "kind", Str),
    k(2, "name", Str),
    f(3, "apiVersion", Str),
];

/// `autoscaling.v1.HorizontalPodAutoscaler`
pub(crate) const HORIZONTAL_POD_AUTOSCALER: &[Field] = &[
    f(1, "metadata", Msg(super::meta::OBJECT_META)),
    f(2, "spec", Msg(HORIZONTAL_POD_AUTOSCALER_SPEC)),
    f(3, "status", Msg(HORIZONTAL_POD_AUTOSCALER_STATUS)),
];

/// `autoscaling.v1.HorizontalPodAutoscalerSpec`
pub(crate) const HORIZONTAL_POD_AUTOSCALER_SPEC: &[Field] = &[
    f(1, "scaleTargetRef", Msg(CROSS_VERSION_OBJECT_REFERENCE)),
    k(2, "minReplicas", I32),
    k(3, "maxReplicas", I32),
    k(4, "targetCPUUtilizationPercentage", I32),
];

/// `autoscaling.v1.HorizontalPodAutoscalerStatus`
pub(crate) const HORIZONTAL_POD_AUTOSCALER_STATUS: &[Field] = &[
    k(1, "observedGeneration", I64),
    f(2, "lastScaleTime", Time),
    k(3, "currentReplicas", I32),
    k(4, "desiredReplicas", I32),
    k(5, "currentCPUUtilizationPercentage", I32),
];

/// `autoscaling.v1.Scale`
pub(crate) const SCALE: &[Field] = &[
    f(1, "metadata", Msg(super::meta::OBJECT_META)),
    f(2, "spec", Msg(SCALE_SPEC)),
    f(3, "status", Msg(SCALE_STATUS)),
];

/// `autoscaling.v1.ScaleSpec`
pub(crate) const SCALE_SPEC: &[Field] = &[f(1, "replicas", I32)];

/// `autoscaling.v1.ScaleStatus`
pub(crate) const SCALE_STATUS: &[Field] = &[k(1, "replicas", I32), f(2, "selector", Str)];
