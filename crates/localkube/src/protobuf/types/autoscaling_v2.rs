//! Field tables for autoscaling/v2 messages: tag, JSON name and kind of each field (format in `super`).

use super::{Field, Kind::*, f, k};

/// `autoscaling.v2.ContainerResourceMetricSource`
pub(crate) const CONTAINER_RESOURCE_METRIC_SOURCE: &[Field] = &[
    k(1, "name", Str),
    f(2, "target", Msg(METRIC_TARGET)),
    k(3, "container", Str),
];

/// `autoscaling.v2.ContainerResourceMetricStatus`
pub(crate) const CONTAINER_RESOURCE_METRIC_STATUS: &[Field] = &[
    k(1, "name", Str),
    f(2, "current", Msg(METRIC_VALUE_STATUS)),
    k(3, "container", Str),
];

/// `autoscaling.v2.CrossVersionObjectReference`
pub(crate) const CROSS_VERSION_OBJECT_REFERENCE: &[Field] = &[
    k(1, "kind", Str),
    k(2, "name", Str),
    f(3, "apiVersion", Str),
];

/// `autoscaling.v2.ExternalMetricSource`
pub(crate) const EXTERNAL_METRIC_SOURCE: &[Field] = &[
    f(1, "metric", Msg(METRIC_IDENTIFIER)),
    f(2, "target", Msg(METRIC_TARGET)),
];

/// `autoscaling.v2.ExternalMetricStatus`
pub(crate) const EXTERNAL_METRIC_STATUS: &[Field] = &[
    f(1, "metric", Msg(METRIC_IDENTIFIER)),
    f(2, "current", Msg(METRIC_VALUE_STATUS)),
];

/// `autoscaling.v2.HorizontalPodAutoscaler`
pub(crate) const HORIZONTAL_POD_AUTOSCALER: &[Field] = &[
    f(1, "metadata", Msg(super::meta::OBJECT_META)),
    f(2, "spec", Msg(HORIZONTAL_POD_AUTOSCALER_SPEC)),
    f(3, "status", Msg(HORIZONTAL_POD_AUTOSCALER_STATUS)),
];

/// `autoscaling.v2.HorizontalPodAutoscalerBehavior`
pub(crate) const HORIZONTAL_POD_AUTOSCALER_BEHAVIOR: &[Field] = &[
    f(1, "scaleUp", Msg(HPA_SCALING_RULES)),
    f(2, "scaleDown", Msg(HPA_SCALING_RULES)),
];

/// `autoscaling.v2.HorizontalPodAutoscalerCondition`
pub(crate) const HORIZONTAL_POD_AUTOSCALER_CONDITION: &[Field] = &[
    k(1, "type", Str),
    k(2, "status", Str),
    f(3, "lastTransitionTime", Time),
    f(4, "reason", Str),
    f(5, "message", Str),
];

/// `autoscaling.v2.HorizontalPodAutoscalerSpec`
pub(crate) const HORIZONTAL_POD_AUTOSCALER_SPEC: &[Field] = &[
    f(1, "scaleTargetRef", Msg(CROSS_VERSION_OBJECT_REFERENCE)),
    k(2, "minReplicas", I32),
    k(3, "maxReplicas", I32),
    f(4, "metrics", ListMsg(METRIC_SPEC)),
    f(5, "behavior", Msg(HORIZONTAL_POD_AUTOSCALER_BEHAVIOR)),
];

/// `autoscaling.v2.HorizontalPodAutoscalerStatus`
pub(crate) const HORIZONTAL_POD_AUTOSCALER_STATUS: &[Field] = &[
    k(1, "observedGeneration", I64),
    f(2, "lastScaleTime", Time),
    f(3, "currentReplicas", I32),
    k(4, "desiredReplicas", I32),
    f(5, "currentMetrics", ListMsg(METRIC_STATUS)),
    f(
        6,
        "conditions",
        ListMsg(HORIZONTAL_POD_AUTOSCALER_CONDITION),
    ),
];

/// `autoscaling.v2.HPAScalingPolicy`
pub(crate) const HPA_SCALING_POLICY: &[Field] = &[
    k(1, "type", Str),
    k(2, "value", I32),
    k(3, "periodSeconds", I32),
];

/// `autoscaling.v2.HPAScalingRules`
pub(crate) const HPA_SCALING_RULES: &[Field] = &[
    f(1, "selectPolicy", Str),
    f(2, "policies", ListMsg(HPA_SCALING_POLICY)),
    k(3, "stabilizationWindowSeconds", I32),
    f(4, "tolerance", Quantity),
];

/// `autoscaling.v2.MetricIdentifier`
pub(crate) const METRIC_IDENTIFIER: &[Field] = &[
    k(1, "name", Str),
    f(2, "selector", Msg(super::meta::LABEL_SELECTOR)),
];

/// `autoscaling.v2.MetricSpec`
pub(crate) const METRIC_SPEC: &[Field] = &[
    k(1, "type", Str),
    f(2, "object", Msg(OBJECT_METRIC_SOURCE)),
    f(3, "pods", Msg(PODS_METRIC_SOURCE)),
    f(4, "resource", Msg(RESOURCE_METRIC_SOURCE)),
    f(5, "external", Msg(EXTERNAL_METRIC_SOURCE)),
    f(
        7,
        "containerResource",
        Msg(CONTAINER_RESOURCE_METRIC_SOURCE),
    ),
];

/// `autoscaling.v2.MetricStatus`
pub(crate) const METRIC_STATUS: &[Field] = &[
    k(1, "type", Str),
    f(2, "object", Msg(OBJECT_METRIC_STATUS)),
    f(3, "pods", Msg(PODS_METRIC_STATUS)),
    f(4, "resource", Msg(RESOURCE_METRIC_STATUS)),
    f(5, "external", Msg(EXTERNAL_METRIC_STATUS)),
    f(
        7,
        "containerResource",
        Msg(CONTAINER_RESOURCE_METRIC_STATUS),
    ),
];

/// `autoscaling.v2.MetricTarget`
pub(crate) const METRIC_TARGET: &[Field] = &[
    k(1, "type", Str),
    f(2, "value", Quantity),
    f(3, "averageValue", Quantity),
    k(4, "averageUtilization", I32),
];

/// `autoscaling.v2.MetricValueStatus`
pub(crate) const METRIC_VALUE_STATUS: &[Field] = &[
    f(1, "value", Quantity),
    f(2, "averageValue", Quantity),
    k(3, "averageUtilization", I32),
];

/// `autoscaling.v2.ObjectMetricSource`
pub(crate) const OBJECT_METRIC_SOURCE: &[Field] = &[
    f(1, "describedObject", Msg(CROSS_VERSION_OBJECT_REFERENCE)),
    f(2, "target", Msg(METRIC_TARGET)),
    f(3, "metric", Msg(METRIC_IDENTIFIER)),
];

/// `autoscaling.v2.ObjectMetricStatus`
pub(crate) const OBJECT_METRIC_STATUS: &[Field] = &[
    f(1, "metric", Msg(METRIC_IDENTIFIER)),
    f(2, "current", Msg(METRIC_VALUE_STATUS)),
    f(3, "describedObject", Msg(CROSS_VERSION_OBJECT_REFERENCE)),
];

/// `autoscaling.v2.PodsMetricSource`
pub(crate) const PODS_METRIC_SOURCE: &[Field] = &[
    f(1, "metric", Msg(METRIC_IDENTIFIER)),
    f(2, "target", Msg(METRIC_TARGET)),
];

/// `autoscaling.v2.PodsMetricStatus`
pub(crate) const PODS_METRIC_STATUS: &[Field] = &[
    f(1, "metric", Msg(METRIC_IDENTIFIER)),
    f(2, "current", Msg(METRIC_VALUE_STATUS)),
];

/// `autoscaling.v2.ResourceMetricSource`
pub(crate) const RESOURCE_METRIC_SOURCE: &[Field] =
    &[k(1, "name", Str), f(2, "target", Msg(METRIC_TARGET))];

/// `autoscaling.v2.ResourceMetricStatus`
pub(crate) const RESOURCE_METRIC_STATUS: &[Field] =
    &[k(1, "name", Str), f(2, "current", Msg(METRIC_VALUE_STATUS))];
