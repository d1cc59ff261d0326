//! Job (batch/v1): its terminal conditions (Complete, Failed, and the
//! FailureTarget that precedes Failed), suspension, else still running.

use serde_json::Value;

use super::Health;
use super::object::{bool_at, conditions, int_at};

pub(super) fn assess(obj: &Value) -> Health {
    let conditions = conditions(obj);
    let holds = |type_: &str| conditions.iter().find(|c| c.type_ == type_ && c.is_true());
    if let Some(failed) = holds("Failed").or_else(|| holds("FailureTarget")) {
        return Health::degraded(failed.describe("Job failed"));
    }
    if let Some(complete) = holds("Complete") {
        return Health::healthy(complete.describe("Job completed"));
    }
    if let Some(suspended) = holds("Suspended") {
        return Health::suspended(suspended.describe("Job is suspended"));
    }
    if bool_at(obj, "/spec/suspend") == Some(true) {
        return Health::suspended("Job is suspended");
    }
    let active = int_at(obj, "/status/active").unwrap_or(0);
    let succeeded = int_at(obj, "/status/succeeded").unwrap_or(0);
    let failed = int_at(obj, "/status/failed").unwrap_or(0);
    let mut message = format!("Job is running: {active} active, {succeeded} succeeded");
    if let Some(completions) = int_at(obj, "/spec/completions") {
        message.push_str(&format!(" of {completions}"));
    }
    if failed > 0 {
        message.push_str(&format!(", {failed} failed"));
    }
    Health::progressing(message)
}
