//! Field tables for batch/v1 messages: tag, JSON name and kind of each field (format in `super`).

use super::{Field, Kind::*, f, k};

/// `batch.v1.CronJob`
pub(crate) const CRON_JOB: &[Field] = &[
    f(1, "metadata", Msg(super::meta::OBJECT_META)),
    f(2, "spec", Msg(CRON_JOB_SPEC)),
    f(3, "status", Msg(CRON_JOB_STATUS)),
];

/// `batch.v1.CronJobSpec`
pub(crate) const CRON_JOB_SPEC: &[Field] = &[
    k(1, "schedule", Str),
    k(2, "startingDeadlineSeconds", I64),
    f(3, "concurrencyPolicy", Str),
    k(4, "suspend", Bool),
    f(5, "jobTemplate", Msg(JOB_TEMPLATE_SPEC)),
    k(6, "successfulJobsHistoryLimit", I32),
    k(7, "failedJobsHistoryLimit", I32),
    f(8, "timeZone", Str),
];

/// `batch.v1.CronJobStatus`
pub(crate) const CRON_JOB_STATUS: &[Field] = &[
    f(1, "active", ListMsg(super::core::OBJECT_REFERENCE)),
    f(4, "lastScheduleTime", Time),
    f(5, "lastSuccessfulTime", Time),
];

/// `batch.v1.Job`
pub(crate) const JOB: &[Field] = &[
    f(1, "metadata", Msg(super::meta::OBJECT_META)),
    f(2, "spec", Msg(JOB_SPEC)),
    f(3, "status", Msg(JOB_STATUS)),
];

/// `batch.v1.JobCondition`
pub(crate) const JOB_CONDITION: &[Field] = &[
    k(1, "type", Str),
    k(2, "status", Str),
    f(3, "lastProbeTime", Time),
    f(4, "lastTransitionTime", Time),
    f(5, "reason", Str),
    f(6, "message", Str),
];

/// `batch.v1.JobSpec`
pub(crate) const JOB_SPEC: &[Field] = &[
    k(1, "parallelism", I32),
    k(2, "completions", I32),
    k(3, "activeDeadlineSeconds", I64),
    f(4, "selector", Msg(super::meta::LABEL_SELECTOR)),
    k(5, "manualSelector", Bool),
    f(6, "template", Msg(super::core::POD_TEMPLATE_SPEC)),
    k(7, "backoffLimit", I32),
    k(8, "ttlSecondsAfterFinished", I32),
    f(9, "completionMode", Str),
    k(10, "suspend", Bool),
    f(11, "podFailurePolicy", Msg(POD_FAILURE_POLICY)),
    k(12, "backoffLimitPerIndex", I32),
    k(13, "maxFailedIndexes", I32),
    f(14, "podReplacementPolicy", Str),
    f(15, "managedBy", Str),
    f(16, "successPolicy", Msg(SUCCESS_POLICY)),
];

/// `batch.v1.JobStatus`
pub(crate) const JOB_STATUS: &[Field] = &[
    f(1, "conditions", ListMsg(JOB_CONDITION)),
    f(2, "startTime", Time),
    f(3, "completionTime", Time),
    f(4, "active", I32),
    f(5, "succeeded", I32),
    f(6, "failed", I32),
    f(7, "completedIndexes", Str),
    f(8, "uncountedTerminatedPods", Msg(UNCOUNTED_TERMINATED_PODS)),
    k(9, "ready", I32),
    f(10, "failedIndexes", Str),
    k(11, "terminating", I32),
];

/// `batch.v1.JobTemplateSpec`
pub(crate) const JOB_TEMPLATE_SPEC: &[Field] = &[
    f(1, "metadata", Msg(super::meta::OBJECT_META)),
    f(2, "spec", Msg(JOB_SPEC)),
];

/// `batch.v1.PodFailurePolicy`
pub(crate) const POD_FAILURE_POLICY: &[Field] = &[f(1, "rules", ListMsg(POD_FAILURE_POLICY_RULE))];

/// `batch.v1.PodFailurePolicyOnExitCodesRequirement`
pub(crate) const POD_FAILURE_POLICY_ON_EXIT_CODES_REQUIREMENT: &[Field] = &[
    f(1, "containerName", Str),
    k(2, "operator", Str),
    f(3, "values", ListI32),
];

/// `batch.v1.PodFailurePolicyOnPodConditionsPattern`
pub(crate) const POD_FAILURE_POLICY_ON_POD_CONDITIONS_PATTERN: &[Field] =
    &[k(1, "type", Str), f(2, "status", Str)];

/// `batch.v1.PodFailurePolicyRule`
pub(crate) const POD_FAILURE_POLICY_RULE: &[Field] = &[
    k(1, "action", Str),
    f(
        2,
        "onExitCodes",
        Msg(POD_FAILURE_POLICY_ON_EXIT_CODES_REQUIREMENT),
    ),
    f(
        3,
        "onPodConditions",
        ListMsg(POD_FAILURE_POLICY_ON_POD_CONDITIONS_PATTERN),
    ),
];

/// `batch.v1.SuccessPolicy`
pub(crate) const SUCCESS_POLICY: &[Field] = &[f(1, "rules", ListMsg(SUCCESS_POLICY_RULE))];

/// `batch.v1.SuccessPolicyRule`
pub(crate) const SUCCESS_POLICY_RULE: &[Field] =
    &[f(1, "succeededIndexes", Str), k(2, "succeededCount", I32)];

/// `batch.v1.UncountedTerminatedPods`
pub(crate) const UNCOUNTED_TERMINATED_PODS: &[Field] =
    &[f(1, "succeeded", ListStr), f(2, "failed", ListStr)];
