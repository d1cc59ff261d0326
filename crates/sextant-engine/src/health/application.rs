//! Application (sextant.dev/v1alpha1), for app-of-apps: the child's own
//! reported `status.health`, as its controller wrote it.

use serde_json::Value;

use super::object::str_at;
use super::{Health, HealthStatus};

pub(super) fn assess(obj: &Value) -> Health {
    let Some(reported) = str_at(obj, "/status/health/status") else {
        return Health::progressing("Waiting for the application to report its health");
    };
    let message = str_at(obj, "/status/health/message").unwrap_or("");
    match reported.parse::<HealthStatus>() {
        Ok(status) => Health::new(status, message),
        Err(e) => Health::unknown(format!("Application reports an invalid health: {e}")),
    }
}
