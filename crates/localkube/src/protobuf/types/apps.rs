//! Field tables for apps/v1 messages: tag, JSON name and kind of each field (format in `super`).

use super::{Field, Kind::*, f, k};

/// `apps.v1.DaemonSet`
pub(crate) const DAEMON_SET: &[Field] = &[
    f(1, "metadata", Msg(super::meta::OBJECT_META)),
    f(2, "spec", Msg(DAEMON_SET_SPEC)),
    f(3, "status", Msg(DAEMON_SET_STATUS)),
];

/// `apps.v1.DaemonSetCondition`
pub(crate) const DAEMON_SET_CONDITION: &[Field] = &[
    k(1, "type", Str),
    k(2, "status", Str),
    f(3, "lastTransitionTime", Time),
    f(4, "reason", Str),
    f(5, "message", Str),
];

/// `apps.v1.DaemonSetSpec`
pub(crate) const DAEMON_SET_SPEC: &[Field] = &[
    f(1, "selector", Msg(super::meta::LABEL_SELECTOR)),
    f(2, "template", Msg(super::core::POD_TEMPLATE_SPEC)),
    f(3, "updateStrategy", Msg(DAEMON_SET_UPDATE_STRATEGY)),
    f(4, "minReadySeconds", I32),
    k(6, "revisionHistoryLimit", I32),
];

/// `apps.v1.DaemonSetStatus`
pub(crate) const DAEMON_SET_STATUS: &[Field] = &[
    k(1, "currentNumberScheduled", I32),
    k(2, "numberMisscheduled", I32),
    k(3, "desiredNumberScheduled", I32),
    k(4, "numberReady", I32),
    f(5, "observedGeneration", I64),
    f(6, "updatedNumberScheduled", I32),
    f(7, "numberAvailable", I32),
    f(8, "numberUnavailable", I32),
    k(9, "collisionCount", I32),
    f(10, "conditions", ListMsg(DAEMON_SET_CONDITION)),
];

/// `apps.v1.DaemonSetUpdateStrategy`
pub(crate) const DAEMON_SET_UPDATE_STRATEGY: &[Field] = &[
    f(1, "type", Str),
    f(2, "rollingUpdate", Msg(ROLLING_UPDATE_DAEMON_SET)),
];

/// `apps.v1.Deployment`
pub(crate) const DEPLOYMENT: &[Field] = &[
    f(1, "metadata", Msg(super::meta::OBJECT_META)),
    f(2, "spec", Msg(DEPLOYMENT_SPEC)),
    f(3, "status", Msg(DEPLOYMENT_STATUS)),
];

/// `apps.v1.DeploymentCondition`
pub(crate) const DEPLOYMENT_CONDITION: &[Field] = &[
    k(1, "type", Str),
    k(2, "status", Str),
    f(4, "reason", Str),
    f(5, "message", Str),
    f(6, "lastUpdateTime", Time),
    f(7, "lastTransitionTime", Time),
];

/// `apps.v1.DeploymentSpec`
pub(crate) const DEPLOYMENT_SPEC: &[Field] = &[
    k(1, "replicas", I32),
    f(2, "selector", Msg(super::meta::LABEL_SELECTOR)),
    f(3, "template", Msg(super::core::POD_TEMPLATE_SPEC)),
    f(4, "strategy", Msg(DEPLOYMENT_STRATEGY)),
    f(5, "minReadySeconds", I32),
    k(6, "revisionHistoryLimit", I32),
    f(7, "paused", Bool),
    k(9, "progressDeadlineSeconds", I32),
];

/// `apps.v1.DeploymentStatus`
pub(crate) const DEPLOYMENT_STATUS: &[Field] = &[
    f(1, "observedGeneration", I64),
    f(2, "replicas", I32),
    f(3, "updatedReplicas", I32),
    f(4, "availableReplicas", I32),
    f(5, "unavailableReplicas", I32),
    f(6, "conditions", ListMsg(DEPLOYMENT_CONDITION)),
    f(7, "readyReplicas", I32),
    k(8, "collisionCount", I32),
    k(9, "terminatingReplicas", I32),
];

/// `apps.v1.DeploymentStrategy`
pub(crate) const DEPLOYMENT_STRATEGY: &[Field] = &[
    f(1, "type", Str),
    f(2, "rollingUpdate", Msg(ROLLING_UPDATE_DEPLOYMENT)),
];

/// `apps.v1.ReplicaSet`
pub(crate) const REPLICA_SET: &[Field] = &[
    f(1, "metadata", Msg(super::meta::OBJECT_META)),
    f(2, "spec", Msg(REPLICA_SET_SPEC)),
    f(3, "status", Msg(REPLICA_SET_STATUS)),
];

/// `apps.v1.ReplicaSetCondition`
pub(crate) const REPLICA_SET_CONDITION: &[Field] = &[
    k(1, "type", Str),
    k(2, "status", Str),
    f(3, "lastTransitionTime", Time),
    f(4, "reason", Str),
    f(5, "message", Str),
];

/// `apps.v1.ReplicaSetSpec`
pub(crate) const REPLICA_SET_SPEC: &[Field] = &[
    k(1, "replicas", I32),
    f(2, "selector", Msg(super::meta::LABEL_SELECTOR)),
    f(3, "template", Msg(super::core::POD_TEMPLATE_SPEC)),
    f(4, "minReadySeconds", I32),
];

/// `apps.v1.ReplicaSetStatus`
pub(crate) const REPLICA_SET_STATUS: &[Field] = &[
    k(1, "replicas", I32),
    f(2, "fullyLabeledReplicas", I32),
    f(3, "observedGeneration", I64),
    f(4, "readyReplicas", I32),
    f(5, "availableReplicas", I32),
    f(6, "conditions", ListMsg(REPLICA_SET_CONDITION)),
    k(7, "terminatingReplicas", I32),
];

/// `apps.v1.RollingUpdateDaemonSet`
pub(crate) const ROLLING_UPDATE_DAEMON_SET: &[Field] = &[
    k(1, "maxUnavailable", IntOrString),
    k(2, "maxSurge", IntOrString),
];

/// `apps.v1.RollingUpdateDeployment`
pub(crate) const ROLLING_UPDATE_DEPLOYMENT: &[Field] = &[
    k(1, "maxUnavailable", IntOrString),
    k(2, "maxSurge", IntOrString),
];

/// `apps.v1.RollingUpdateStatefulSetStrategy`
pub(crate) const ROLLING_UPDATE_STATEFUL_SET_STRATEGY: &[Field] =
    &[k(1, "partition", I32), k(2, "maxUnavailable", IntOrString)];

/// `apps.v1.StatefulSet`
pub(crate) const STATEFUL_SET: &[Field] = &[
    f(1, "metadata", Msg(super::meta::OBJECT_META)),
    f(2, "spec", Msg(STATEFUL_SET_SPEC)),
    f(3, "status", Msg(STATEFUL_SET_STATUS)),
];

/// `apps.v1.StatefulSetCondition`
pub(crate) const STATEFUL_SET_CONDITION: &[Field] = &[
    k(1, "type", Str),
    k(2, "status", Str),
    f(3, "lastTransitionTime", Time),
    f(4, "reason", Str),
    f(5, "message", Str),
];

/// `apps.v1.StatefulSetOrdinals`
pub(crate) const STATEFUL_SET_ORDINALS: &[Field] = &[f(1, "start", I32)];

/// `apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicy`
pub(crate) const STATEFUL_SET_PERSISTENT_VOLUME_CLAIM_RETENTION_POLICY: &[Field] =
    &[f(1, "whenDeleted", Str), f(2, "whenScaled", Str)];

/// `apps.v1.StatefulSetSpec`
pub(crate) const STATEFUL_SET_SPEC: &[Field] = &[
    k(1, "replicas", I32),
    f(2, "selector", Msg(super::meta::LABEL_SELECTOR)),
    f(3, "template", Msg(super::core::POD_TEMPLATE_SPEC)),
    f(
        4,
        "volumeClaimTemplates",
        ListMsg(super::core::PERSISTENT_VOLUME_CLAIM),
    ),
    f(5, "serviceName", Str),
    f(6, "podManagementPolicy", Str),
    f(7, "updateStrategy", Msg(STATEFUL_SET_UPDATE_STRATEGY)),
    k(8, "revisionHistoryLimit", I32),
    f(9, "minReadySeconds", I32),
    f(
        10,
        "persistentVolumeClaimRetentionPolicy",
        Msg(STATEFUL_SET_PERSISTENT_VOLUME_CLAIM_RETENTION_POLICY),
    ),
    f(11, "ordinals", Msg(STATEFUL_SET_ORDINALS)),
];

/// `apps.v1.StatefulSetStatus`
pub(crate) const STATEFUL_SET_STATUS: &[Field] = &[
    f(1, "observedGeneration", I64),
    k(2, "replicas", I32),
    f(3, "readyReplicas", I32),
    f(4, "currentReplicas", I32),
    f(5, "updatedReplicas", I32),
    f(6, "currentRevision", Str),
    f(7, "updateRevision", Str),
    k(9, "collisionCount", I32),
    f(10, "conditions", ListMsg(STATEFUL_SET_CONDITION)),
    f(11, "availableReplicas", I32),
];

/// `apps.v1.StatefulSetUpdateStrategy`
pub(crate) const STATEFUL_SET_UPDATE_STRATEGY: &[Field] = &[
    f(1, "type", Str),
    f(
        2,
        "rollingUpdate",
        Msg(ROLLING_UPDATE_STATEFUL_SET_STRATEGY),
    ),
];
