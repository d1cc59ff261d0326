//! PersistentVolumeClaim (v1): Bound is Healthy, Lost is Degraded, Pending
//! is Progressing.

use serde_json::Value;

use super::Health;
use super::object::{condition, join_reason, str_at};

pub(super) fn assess(obj: &Value) -> Health {
    match str_at(obj, "/status/phase") {
        Some("Bound") => match condition(obj, "Resizing")
            .or_else(|| condition(obj, "FileSystemResizePending"))
            .filter(|c| c.is_true())
        {
            Some(resize) => Health::healthy(format!(
                "Claim is bound; {}",
                join_reason(resize.type_, resize.message, "")
            )),
            None => Health::healthy("Claim is bound"),
        },
        Some("Lost") => Health::degraded("Claim lost its PersistentVolume"),
        Some("Pending") => Health::progressing(
            "Waiting for a volume to be bound (with WaitForFirstConsumer this waits for a pod to use the claim)",
        ),
        Some(other) => Health::unknown(format!("Claim is in unexpected phase {other}")),
        None => Health::progressing("Waiting for the claim to be processed"),
    }
}
