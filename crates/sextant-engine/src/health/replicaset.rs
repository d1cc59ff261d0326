//! ReplicaSet (apps/v1): generation observed, pod creation failures, then
//! available replicas against the desired count.

use serde_json::Value;

use super::Health;
use super::object::{condition, int_at, workload_generation_behind};

pub(super) fn assess(obj: &Value) -> Health {
    if let Some((generation, observed)) = workload_generation_behind(obj) {
        return Health::progressing(format!(
            "Waiting for the replicaset controller to observe generation {generation} (observed {observed})"
        ));
    }
    if let Some(failure) = condition(obj, "ReplicaFailure")
        && failure.is_true()
    {
        return Health::degraded(failure.describe("Replicas could not be created"));
    }
    let desired = int_at(obj, "/spec/replicas").unwrap_or(1);
    let available = int_at(obj, "/status/availableReplicas").unwrap_or(0);
    if available < desired {
        return Health::progressing(format!(
            "Waiting for replicas to be available: {available} of {desired} available"
        ));
    }
    Health::healthy(format!("{available} of {desired} replicas available"))
}
