//! HorizontalPodAutoscaler (autoscaling/v2, and v1 with its conditions in
//! the `autoscaling.alpha.kubernetes.io/conditions` annotation): failing to
//! read the target's scale or metrics is Degraded; a target scaled to zero
//! is Suspended.

use serde_json::Value;

use super::Health;
use super::object::{Condition, conditions, conditions_in, has_no_status, str_at};

/// The annotation where autoscaling/v1 carries the v2 conditions as JSON.
const V1_CONDITIONS: &str = "/metadata/annotations/autoscaling.alpha.kubernetes.io~1conditions";

pub(super) fn assess(obj: &Value) -> Health {
    let from_annotation: Option<Value> =
        str_at(obj, V1_CONDITIONS).and_then(|text| serde_json::from_str(text).ok());
    let mut all = conditions(obj);
    if all.is_empty()
        && let Some(Value::Array(items)) = &from_annotation
    {
        all = conditions_in(items);
    }
    let find = |type_: &str| all.iter().find(|c| c.type_ == type_).copied();
    if let Some(able) = find("AbleToScale")
        && able.is_false()
    {
        return Health::degraded(able.describe("Autoscaler cannot scale its target"));
    }
    if let Some(active) = find("ScalingActive")
        && active.is_false()
    {
        if active.reason == "ScalingDisabled" {
            return Health::suspended(active.describe("Scaling is disabled"));
        }
        return Health::degraded(active.describe("Autoscaler cannot compute a replica count"));
    }
    if all.is_empty() {
        if has_no_status(obj) {
            return Health::progressing("Waiting for the autoscaler to observe its target");
        }
        return Health::healthy("");
    }
    match find("ScalingLimited").filter(Condition::is_true) {
        Some(limited) => Health::healthy(limited.describe("Replica count is at a limit")),
        None => Health::healthy(
            find("ScalingActive")
                .map(|c| c.describe(""))
                .unwrap_or_default(),
        ),
    }
}
