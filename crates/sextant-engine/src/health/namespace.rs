//! Namespace (v1): Active is Healthy; Terminating is Progressing, or
//! Degraded when the namespace controller reports its deletion is stuck.

use serde_json::Value;

use super::Health;
use super::object::{conditions, str_at};

/// Conditions the namespace controller sets when it cannot finish deleting.
const DELETION_FAILURES: &[&str] = &[
    "NamespaceDeletionDiscoveryFailure",
    "NamespaceDeletionGroupVersionParsingFailure",
    "NamespaceDeletionContentFailure",
];

pub(super) fn assess(obj: &Value) -> Health {
    match str_at(obj, "/status/phase") {
        Some("Terminating") => {
            let conditions = conditions(obj);
            if let Some(failure) = conditions
                .iter()
                .find(|c| c.is_true() && DELETION_FAILURES.contains(&c.type_))
            {
                return Health::degraded(failure.describe("Namespace deletion is stuck"));
            }
            let remaining = conditions.iter().find(|c| {
                c.is_true()
                    && matches!(
                        c.type_,
                        "NamespaceContentRemaining" | "NamespaceFinalizersRemaining"
                    )
            });
            Health::progressing(match remaining {
                Some(c) => c.describe("Namespace is terminating"),
                None => "Namespace is terminating".to_owned(),
            })
        }
        // The API server sets Active on creation; a manifest has no status.
        Some("Active") | None => Health::healthy(""),
        Some(other) => Health::unknown(format!("Namespace is in unexpected phase {other}")),
    }
}
