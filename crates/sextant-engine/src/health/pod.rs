//! Pod (v1): its phase, containers stuck waiting for a reason that will not
//! fix itself (CrashLoopBackOff, ImagePullBackOff, ...), and readiness.

use serde_json::Value;

use super::Health;
use super::object::{array_at, at, condition, join_reason, str_at};

/// Waiting reasons the kubelet reports when a container cannot start and
/// retrying alone will not help.
const STUCK_REASONS: &[&str] = &[
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "ErrImageNeverPull",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
    "PreStartHookError",
    "PostStartHookError",
];

pub(super) fn assess(obj: &Value) -> Health {
    let phase = str_at(obj, "/status/phase").unwrap_or("");
    match phase {
        "Succeeded" => Health::healthy(non_empty(
            str_at(obj, "/status/message"),
            "Pod completed successfully",
        )),
        "Failed" => Health::degraded(failure_message(obj)),
        "Pending" => match stuck_container(obj) {
            Some(message) => Health::degraded(message),
            None => Health::progressing(pending_message(obj)),
        },
        "Running" => running(obj),
        "" => Health::progressing("Waiting for the pod to be scheduled"),
        other => Health::unknown(join_reason(
            str_at(obj, "/status/reason").unwrap_or(""),
            str_at(obj, "/status/message").unwrap_or(""),
            &format!("Pod phase is {other}"),
        )),
    }
}

fn running(obj: &Value) -> Health {
    if let Some(message) = stuck_container(obj) {
        return Health::degraded(message);
    }
    // A pod that restarts only on failure (or never) runs to completion: it
    // is on its way, not at rest, while it runs.
    let restart = str_at(obj, "/spec/restartPolicy").unwrap_or("Always");
    if restart != "Always" {
        return Health::progressing("Pod is running to completion");
    }
    match condition(obj, "Ready") {
        Some(ready) if ready.is_true() => Health::healthy("Pod is running and ready"),
        Some(ready) => Health::progressing(ready.describe("Waiting for the pod to be ready")),
        None => Health::progressing("Waiting for the pod to be ready"),
    }
}

/// The first init or app container waiting for a reason that will not fix
/// itself, as `container NAME: REASON: MESSAGE`.
fn stuck_container(obj: &Value) -> Option<String> {
    let statuses = array_at(obj, "/status/initContainerStatuses")
        .iter()
        .chain(array_at(obj, "/status/containerStatuses"));
    for status in statuses {
        let Some(waiting) = at(status, "/state/waiting") else {
            continue;
        };
        let reason = str_at(waiting, "/reason").unwrap_or("");
        if STUCK_REASONS.contains(&reason) {
            let name = str_at(status, "/name").unwrap_or("?");
            let message = str_at(waiting, "/message").unwrap_or("");
            return Some(format!(
                "container {name}: {}",
                join_reason(reason, message, reason)
            ));
        }
    }
    None
}

fn failure_message(obj: &Value) -> String {
    let reason = str_at(obj, "/status/reason").unwrap_or("");
    let message = str_at(obj, "/status/message").unwrap_or("");
    if !reason.is_empty() || !message.is_empty() {
        return join_reason(reason, message, "");
    }
    // No pod-level reason: report the first container that failed.
    let statuses = array_at(obj, "/status/initContainerStatuses")
        .iter()
        .chain(array_at(obj, "/status/containerStatuses"));
    for status in statuses {
        let Some(terminated) = at(status, "/state/terminated") else {
            continue;
        };
        let code = terminated
            .get("exitCode")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        if code != 0 {
            let name = str_at(status, "/name").unwrap_or("?");
            let reason = str_at(terminated, "/reason").unwrap_or("Error");
            return format!("container {name} exited with code {code} ({reason})");
        }
    }
    "Pod failed".to_owned()
}

fn pending_message(obj: &Value) -> String {
    if let Some(scheduled) = condition(obj, "PodScheduled")
        && scheduled.is_false()
    {
        return scheduled.describe("Waiting for the pod to be scheduled");
    }
    "Waiting for the pod's containers to start".to_owned()
}

fn non_empty(value: Option<&str>, fallback: &str) -> String {
    value
        .filter(|v| !v.is_empty())
        .unwrap_or(fallback)
        .to_owned()
}
