//! Generic rules for kinds with no built-in rule (custom resources above
//! all), from the standard conditions and `observedGeneration`.
//!
//! In order: no status is Healthy; `Stalled=True` is Degraded; a stale
//! `status.observedGeneration` is Progressing; `Reconciling=True` is
//! Progressing; then the `Ready` condition, or else `Available`, decides:
//! True is Healthy (unless the condition's own observedGeneration is stale),
//! Unknown is Progressing, False is Degraded when its reason names a failure
//! and Progressing otherwise. A status with none of these is Healthy.

use serde_json::Value;

use super::Health;
use super::object::{Condition, conditions, generation_behind, has_no_status, int_at};

/// Words that, found in a condition's reason, mark a failure rather than a
/// step on the way (`ReconciliationFailed`, `InstallFailed`, `ReconcileError`,
/// `InvalidSpec`), compared case-insensitively.
const FAILURE_WORDS: &[&str] = &["fail", "error", "invalid"];

/// Assess an object by the generic rules.
pub fn assess(obj: &Value) -> Health {
    if has_no_status(obj) {
        return Health::healthy("");
    }
    let conditions = conditions(obj);
    let find = |type_: &str| conditions.iter().find(|c| c.type_ == type_).copied();
    if let Some(stalled) = find("Stalled")
        && stalled.is_true()
    {
        return Health::degraded(stalled.describe("Reconciliation is stalled"));
    }
    if let Some((generation, observed)) = generation_behind(obj) {
        return Health::progressing(format!(
            "Waiting for the controller to observe generation {generation} (observed {observed})"
        ));
    }
    if let Some(reconciling) = find("Reconciling")
        && reconciling.is_true()
    {
        return Health::progressing(reconciling.describe("Reconciling"));
    }
    if let Some(ready) = find("Ready").or_else(|| find("Available")) {
        return from_condition(obj, ready);
    }
    Health::healthy("")
}

fn from_condition(obj: &Value, condition: Condition<'_>) -> Health {
    let type_ = condition.type_;
    match condition.status {
        "True" => {
            let generation = int_at(obj, "/metadata/generation");
            match (generation, condition.observed_generation) {
                (Some(generation), Some(observed)) if observed < generation => {
                    Health::progressing(format!(
                        "Waiting for the {type_} condition to reflect generation {generation} (observed {observed})"
                    ))
                }
                _ => Health::healthy(condition.describe("")),
            }
        }
        "False" if names_a_failure(condition.reason) => {
            Health::degraded(condition.describe(&format!("{type_} is False")))
        }
        "False" => Health::progressing(condition.describe(&format!("{type_} is False"))),
        _ => Health::progressing(condition.describe(&format!("{type_} is Unknown"))),
    }
}

fn names_a_failure(reason: &str) -> bool {
    let reason = reason.to_ascii_lowercase();
    FAILURE_WORDS.iter().any(|word| reason.contains(word))
}
