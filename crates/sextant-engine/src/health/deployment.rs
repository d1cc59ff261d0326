//! Deployment (apps/v1): paused, generation observed, progress deadline,
//! then the rollout's replica counts, the way `kubectl rollout status` reads
//! them. Pods that cannot be created (`ReplicaFailure`, e.g. a quota) keep
//! the rollout Progressing, saying why, until its progress deadline makes
//! it Degraded, as Argo CD judges it.

use serde_json::Value;

use super::object::{bool_at, condition, int_at, workload_generation_behind};
use super::{Health, HealthStatus};

pub(super) fn assess(obj: &Value) -> Health {
    if bool_at(obj, "/spec/paused") == Some(true) {
        return Health::suspended("Deployment is paused");
    }
    if let Some((generation, observed)) = workload_generation_behind(obj) {
        return Health::progressing(format!(
            "Waiting for the deployment controller to observe generation {generation} (observed {observed})"
        ));
    }
    if let Some(progressing) = condition(obj, "Progressing")
        && progressing.reason == "ProgressDeadlineExceeded"
    {
        return Health::degraded(progressing.describe("Progress deadline exceeded"));
    }
    let verdict = rollout(obj);
    match condition(obj, "ReplicaFailure") {
        Some(failure) if failure.is_true() && verdict.status == HealthStatus::Progressing => {
            Health::progressing(failure.describe("Replicas could not be created"))
        }
        _ => verdict,
    }
}

fn rollout(obj: &Value) -> Health {
    let desired = int_at(obj, "/spec/replicas").unwrap_or(1);
    let total = int_at(obj, "/status/replicas").unwrap_or(0);
    let updated = int_at(obj, "/status/updatedReplicas").unwrap_or(0);
    let available = int_at(obj, "/status/availableReplicas").unwrap_or(0);
    if updated < desired {
        return Health::progressing(format!(
            "Waiting for rollout to finish: {updated} of {desired} replicas updated"
        ));
    }
    if total > updated {
        let old = total - updated;
        let noun = if old == 1 { "replica" } else { "replicas" };
        return Health::progressing(format!(
            "Waiting for rollout to finish: {old} old {noun} pending termination"
        ));
    }
    if available < updated {
        return Health::progressing(format!(
            "Waiting for rollout to finish: {available} of {updated} updated replicas available"
        ));
    }
    if desired == 0 {
        return Health::healthy("Deployment is scaled to zero");
    }
    Health::healthy(format!("{available} of {desired} replicas available"))
}
