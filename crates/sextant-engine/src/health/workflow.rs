//! Argo Workflows' Workflow (argoproj.io/v1alpha1), often a sync hook: its
//! phase, as Argo CD maps it.

use serde_json::Value;

use super::Health;
use super::object::str_at;

pub(super) fn assess(obj: &Value) -> Health {
    let message = str_at(obj, "/status/message").unwrap_or("");
    let or = |fallback: &str| {
        if message.is_empty() {
            fallback.to_owned()
        } else {
            message.to_owned()
        }
    };
    match str_at(obj, "/status/phase").unwrap_or("") {
        "" | "Pending" | "Running" => Health::progressing(or("Workflow is running")),
        "Succeeded" => Health::healthy(or("Workflow succeeded")),
        "Failed" | "Error" => Health::degraded(or("Workflow failed")),
        other => Health::unknown(format!("Workflow phase is {other}")),
    }
}
