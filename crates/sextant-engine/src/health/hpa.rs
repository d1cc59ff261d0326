//! HorizontalPodAutoscaler (autoscaling/v2, and v1 with its conditions in
//! the `autoscaling.alpha.kubernetes.io/conditions` annotation), as Argo CD
//! judges it: failing to read or update the target's scale, or to read
//! metrics, is Degraded (whatever the order of the conditions); able to
//! scale, at a limit, or scaling disabled because the target is at zero is
//! Healthy; anything else, and no conditions yet, is Progressing.

use serde_json::Value;

use super::Health;
use super::object::{Condition, conditions, conditions_in, has_no_status, str_at};

/// The annotation where autoscaling/v1 carries the v2 conditions as JSON.
const V1_CONDITIONS: &str = "/metadata/annotations/autoscaling.alpha.kubernetes.io~1conditions";

pub(super) fn assess(obj: &Value) -> Health {
    let mut all = conditions(obj);
    let from_annotation = match str_at(obj, V1_CONDITIONS).map(serde_json::from_str::<Value>) {
        Some(Ok(v)) => Some(v),
        Some(Err(e)) => {
            return Health::unknown(format!(
                "The autoscaler's conditions annotation is not JSON: {e}"
            ));
        }
        None => None,
    };
    if all.is_empty()
        && let Some(Value::Array(items)) = &from_annotation
    {
        all = conditions_in(items);
    }
    if let Some(failing) = all.iter().find(|c| is_failing(c)) {
        let fallback = if failing.type_ == "AbleToScale" {
            "Autoscaler cannot scale its target"
        } else {
            "Autoscaler cannot compute a replica count"
        };
        return Health::degraded(failing.describe(fallback));
    }
    let find = |type_: &str, true_: bool| {
        all.iter()
            .find(|c| c.type_ == type_ && c.is_true() == true_)
            .copied()
    };
    // The most telling healthy condition first: at a limit, scaled to zero
    // on purpose, scaling, able to scale.
    let healthy = find("ScalingLimited", true)
        .or_else(|| find("ScalingActive", false).filter(|c| c.reason == "ScalingDisabled"))
        .or_else(|| find("ScalingActive", true).filter(|_| find("AbleToScale", true).is_some()))
        .or_else(|| find("AbleToScale", true));
    match healthy {
        Some(c) => Health::healthy(c.describe("")),
        None if all.is_empty() && has_no_status(obj) => {
            Health::progressing("Waiting for the autoscaler to observe its target")
        }
        None => Health::progressing("Waiting to autoscale"),
    }
}

/// Argo CD's failing conditions: the target's scale cannot be read or
/// updated, or metrics cannot be read or the selector is invalid.
fn is_failing(c: &Condition<'_>) -> bool {
    if !c.is_false() {
        return false;
    }
    match c.type_ {
        "AbleToScale" => matches!(c.reason, "FailedGetScale" | "FailedUpdateScale"),
        "ScalingActive" => {
            (c.reason.starts_with("FailedGet") && c.reason.ends_with("Metric"))
                || c.reason == "InvalidSelector"
        }
        _ => false,
    }
}
