//! Pod (v1): its phase, app containers stuck waiting for a reason that will
//! not fix itself (CrashLoopBackOff, ImagePullBackOff, ...), restarts, and
//! readiness, as Argo CD judges them.
//!
//! Stuck containers and restarts count only for pods that restart always
//! (what a Deployment runs): a pod that runs to completion (restartPolicy
//! Never or OnFailure, e.g. a sync hook) stays Progressing until it
//! succeeds or fails, so a hook still pulling its image is not failed
//! early. Init containers are not judged: the pod waits for them.
//! `argocd.argoproj.io/ignore-restart-policy: "true"` (or
//! `sextant.dev/ignore-restart-policy`) judges a pod as if it restarted
//! always.

use serde_json::Value;

use super::Health;
use super::object::{array_at, at, condition, join_reason, str_at};

/// The annotations that judge a pod as if its restartPolicy were Always.
const IGNORE_RESTART_POLICY: &[&str] = &[
    "argocd.argoproj.io/ignore-restart-policy",
    "sextant.dev/ignore-restart-policy",
];

/// Whether the kubelet's waiting reason says the container cannot start
/// and retrying alone will not help: `Err*`, `*Error` and `*BackOff`
/// (CrashLoopBackOff, ImagePullBackOff, ErrImagePull,
/// CreateContainerConfigError, ...).
fn is_stuck(reason: &str) -> bool {
    reason.starts_with("Err") || reason.ends_with("Error") || reason.ends_with("BackOff")
}

/// Whether the pod is judged as one that restarts always.
fn restarts_always(obj: &Value) -> bool {
    str_at(obj, "/spec/restartPolicy").unwrap_or("Always") == "Always"
        || IGNORE_RESTART_POLICY.iter().any(|a| {
            str_at(
                obj,
                &format!("/metadata/annotations/{}", a.replace('/', "~1")),
            ) == Some("true")
        })
}

pub(super) fn assess(obj: &Value) -> Health {
    let always = restarts_always(obj);
    if always && let Some(message) = stuck_container(obj) {
        return Health::degraded(message);
    }
    let phase = str_at(obj, "/status/phase").unwrap_or("");
    match phase {
        "Succeeded" => Health::healthy(non_empty(
            str_at(obj, "/status/message"),
            "Pod completed successfully",
        )),
        "Failed" => Health::degraded(failure_message(obj)),
        "Pending" => Health::progressing(pending_message(obj)),
        "Running" => running(obj, always),
        "" => Health::progressing("Waiting for the pod to be scheduled"),
        other => Health::unknown(join_reason(
            str_at(obj, "/status/reason").unwrap_or(""),
            str_at(obj, "/status/message").unwrap_or(""),
            &format!("Pod phase is {other}"),
        )),
    }
}

fn running(obj: &Value, always: bool) -> Health {
    // A pod that restarts only on failure (or never) runs to completion: it
    // is on its way, not at rest, while it runs.
    if !always {
        return Health::progressing("Pod is running to completion");
    }
    match condition(obj, "Ready") {
        Some(ready) if ready.is_true() => Health::healthy("Pod is running and ready"),
        not_ready => match restarted_container(obj) {
            // Not ready after a container ended: it is failing, not starting.
            Some(message) => Health::degraded(message),
            None => Health::progressing(match not_ready {
                Some(ready) => ready.describe("Waiting for the pod to be ready"),
                None => "Waiting for the pod to be ready".to_owned(),
            }),
        },
    }
}

/// The first app container that ended before (`lastState.terminated`), as
/// `container NAME restarted: REASON: MESSAGE`.
fn restarted_container(obj: &Value) -> Option<String> {
    array_at(obj, "/status/containerStatuses")
        .iter()
        .find_map(|status| {
            let last = at(status, "/lastState/terminated")?;
            let name = str_at(status, "/name").unwrap_or("?");
            let reason = str_at(last, "/reason").unwrap_or("");
            let message = str_at(last, "/message").unwrap_or("");
            Some(format!(
                "container {name} restarted: {}",
                join_reason(reason, message, "it ended")
            ))
        })
}

/// The first app container waiting for a reason that will not fix itself,
/// as `container NAME: REASON: MESSAGE`.
fn stuck_container(obj: &Value) -> Option<String> {
    for status in array_at(obj, "/status/containerStatuses") {
        let Some(waiting) = at(status, "/state/waiting") else {
            continue;
        };
        let reason = str_at(waiting, "/reason").unwrap_or("");
        if is_stuck(reason) {
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
