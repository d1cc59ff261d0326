//! StatefulSet (apps/v1): generation observed, pods ready, then the update
//! revision (honouring a rolling update's partition and the OnDelete
//! strategy), as `kubectl rollout status` reads them.

use serde_json::Value;

use super::Health;
use super::object::{int_at, str_at, workload_generation_behind};

pub(super) fn assess(obj: &Value) -> Health {
    if let Some((generation, observed)) = workload_generation_behind(obj) {
        return Health::progressing(format!(
            "Waiting for the statefulset controller to observe generation {generation} (observed {observed})"
        ));
    }
    let desired = int_at(obj, "/spec/replicas").unwrap_or(1);
    // With minReadySeconds a pod counts once it has been ready that long,
    // which the controller reports as available.
    let ready = if int_at(obj, "/spec/minReadySeconds").unwrap_or(0) > 0 {
        int_at(obj, "/status/availableReplicas")
    } else {
        None
    }
    .or_else(|| int_at(obj, "/status/readyReplicas"))
    .unwrap_or(0);
    if ready < desired {
        return Health::progressing(format!(
            "Waiting for pods to be ready: {ready} of {desired} ready"
        ));
    }
    if str_at(obj, "/spec/updateStrategy/type") == Some("OnDelete") {
        return Health::healthy(format!(
            "{ready} of {desired} pods ready (OnDelete strategy: pods update when deleted)"
        ));
    }
    let updated = int_at(obj, "/status/updatedReplicas").unwrap_or(0);
    let partition = int_at(obj, "/spec/updateStrategy/rollingUpdate/partition").unwrap_or(0);
    if partition > 0 {
        let target = (desired - partition).max(0);
        if updated < target {
            return Health::progressing(format!(
                "Waiting for partitioned rollout to finish: {updated} of {target} pods updated"
            ));
        }
        return Health::healthy(format!(
            "Partitioned rollout complete: {updated} of {target} pods updated"
        ));
    }
    let current = str_at(obj, "/status/currentRevision");
    let update = str_at(obj, "/status/updateRevision");
    if let (Some(current), Some(update)) = (current, update)
        && current != update
    {
        return Health::progressing(format!(
            "Waiting for rolling update to finish: {updated} of {desired} pods at revision {update}"
        ));
    }
    match update {
        Some(revision) => Health::healthy(format!(
            "Rolling update complete: {ready} pods at revision {revision}"
        )),
        None => Health::healthy(format!("{ready} of {desired} pods ready")),
    }
}
