//! APIService (apiregistration.k8s.io/v1): Healthy once Available; until
//! then Progressing, as its backing service usually comes up in the same
//! sync.

use serde_json::Value;

use super::Health;
use super::object::condition;

pub(super) fn assess(obj: &Value) -> Health {
    match condition(obj, "Available") {
        Some(available) if available.is_true() => {
            Health::healthy(available.describe("API service is available"))
        }
        Some(available) => {
            Health::progressing(available.describe("API service is not available yet"))
        }
        None => Health::progressing("Waiting for the API service to become available"),
    }
}
