//! DaemonSet (apps/v1): generation observed, then updated and available
//! pods against the number the controller wants scheduled.

use serde_json::Value;

use super::Health;
use super::object::{int_at, str_at, workload_generation_behind};

pub(super) fn assess(obj: &Value) -> Health {
    if let Some((generation, observed)) = workload_generation_behind(obj) {
        return Health::progressing(format!(
            "Waiting for the daemonset controller to observe generation {generation} (observed {observed})"
        ));
    }
    let desired = int_at(obj, "/status/desiredNumberScheduled").unwrap_or(0);
    let available = int_at(obj, "/status/numberAvailable").unwrap_or(0);
    if str_at(obj, "/spec/updateStrategy/type") == Some("OnDelete") {
        return Health::healthy(format!(
            "{available} of {desired} pods available (OnDelete strategy: pods update when deleted)"
        ));
    }
    let updated = int_at(obj, "/status/updatedNumberScheduled").unwrap_or(0);
    if updated < desired {
        return Health::progressing(format!(
            "Waiting for rollout to finish: {updated} of {desired} pods updated"
        ));
    }
    if available < desired {
        return Health::progressing(format!(
            "Waiting for rollout to finish: {available} of {desired} updated pods available"
        ));
    }
    if desired == 0 {
        return Health::healthy("No nodes match the daemonset");
    }
    Health::healthy(format!("{available} of {desired} pods available"))
}
