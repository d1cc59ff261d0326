//! Health assessment: how healthy one Kubernetes object is, and how healthy
//! an application is given its objects.
//!
//! [`assess`] decides in this order: an object being deleted is Progressing;
//! a Lua script for the object's group and kind (see [`lua`] and
//! [`HealthCustomizations`]) decides unless it returns nil; then the
//! built-in rule for the kind (one file per kind in this folder); then the
//! generic condition rules ([`generic`]). Outcomes are values: a broken
//! script or a malformed object yields `Unknown` with a message, never an
//! error or a panic.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

mod apiservice;
mod application;
mod crd;
mod cronjob;
mod customizations;
mod daemonset;
mod deployment;
pub mod generic;
mod hpa;
mod ingress;
mod job;
pub mod lua;
mod namespace;
pub mod object;
mod pod;
mod pvc;
mod replicaset;
mod service;
mod statefulset;
mod workflow;

pub use customizations::{CustomizationError, HealthCustomizations, Script};
pub use object::ObjectRef;

/// A health status. The order of the variants is the order from best to
/// worst, so `max` picks the worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum HealthStatus {
    /// Running as intended.
    Healthy,
    /// Paused or suspended on purpose (a paused Deployment, a suspended
    /// CronJob).
    Suspended,
    /// Not there yet, and may get there by itself (a rollout, a pending
    /// load balancer).
    Progressing,
    /// Expected but absent from the cluster.
    Missing,
    /// Failed, or stuck in a way that needs a person.
    Degraded,
    /// Could not be assessed.
    Unknown,
}

impl HealthStatus {
    /// Every status, best first.
    pub const ALL: [HealthStatus; 6] = [
        HealthStatus::Healthy,
        HealthStatus::Suspended,
        HealthStatus::Progressing,
        HealthStatus::Missing,
        HealthStatus::Degraded,
        HealthStatus::Unknown,
    ];

    /// The status as written in status fields and scripts, e.g. `Healthy`.
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Healthy => "Healthy",
            HealthStatus::Suspended => "Suspended",
            HealthStatus::Progressing => "Progressing",
            HealthStatus::Missing => "Missing",
            HealthStatus::Degraded => "Degraded",
            HealthStatus::Unknown => "Unknown",
        }
    }
}

impl fmt::Display for HealthStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not one of the six statuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a health status (expected Healthy, Suspended, Progressing, Missing, Degraded or Unknown)"
)]
pub struct UnknownStatus(pub String);

impl FromStr for HealthStatus {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        HealthStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}

/// A status with a human message saying why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// The status.
    pub status: HealthStatus,
    /// Why, in words for a person; may be empty for a plain Healthy.
    pub message: String,
}

impl Health {
    /// A health with this status and message.
    pub fn new(status: HealthStatus, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// Healthy, because `message`.
    pub fn healthy(message: impl Into<String>) -> Self {
        Self::new(HealthStatus::Healthy, message)
    }

    /// Suspended, because `message`.
    pub fn suspended(message: impl Into<String>) -> Self {
        Self::new(HealthStatus::Suspended, message)
    }

    /// Progressing, because `message`.
    pub fn progressing(message: impl Into<String>) -> Self {
        Self::new(HealthStatus::Progressing, message)
    }

    /// Degraded, because `message`.
    pub fn degraded(message: impl Into<String>) -> Self {
        Self::new(HealthStatus::Degraded, message)
    }

    /// Unknown, because `message`.
    pub fn unknown(message: impl Into<String>) -> Self {
        Self::new(HealthStatus::Unknown, message)
    }

    /// The health of an object that should exist but does not.
    pub fn missing() -> Self {
        Self::new(HealthStatus::Missing, "Resource does not exist")
    }
}

/// Assess one live object: deletion, then a custom script, then the
/// built-in rule for its kind, then the generic condition rules.
pub fn assess(obj: &Value, custom: &HealthCustomizations) -> Health {
    if !obj.is_object() {
        return Health::unknown("Object is not a JSON object");
    }
    let id = ObjectRef::of(obj);
    if id.kind.is_empty() {
        return Health::unknown("Object has no kind");
    }
    if object::at(obj, "/metadata/deletionTimestamp").is_some_and(|t| !t.is_null()) {
        return Health::progressing("Pending deletion");
    }
    if let Some(script) = custom.script_for(id.group, id.kind) {
        match lua::evaluate(script, obj, custom.limits()) {
            Ok(Some(health)) => return health,
            Ok(None) => {}
            Err(e) => return Health::unknown(lua::describe_error(&e)),
        }
    }
    assess_builtin(obj)
}

/// Assess with the built-in rule for the object's kind, or the generic rules
/// when there is none; no scripts, no deletion check.
pub fn assess_builtin(obj: &Value) -> Health {
    let id = ObjectRef::of(obj);
    match (id.group, id.kind) {
        ("apps" | "extensions", "Deployment") => deployment::assess(obj),
        ("apps", "StatefulSet") => statefulset::assess(obj),
        ("apps" | "extensions", "DaemonSet") => daemonset::assess(obj),
        ("apps" | "extensions", "ReplicaSet") => replicaset::assess(obj),
        ("", "Pod") => pod::assess(obj),
        ("batch", "Job") => job::assess(obj),
        ("batch", "CronJob") => cronjob::assess(obj),
        ("", "Service") => service::assess(obj),
        ("networking.k8s.io" | "extensions", "Ingress") => ingress::assess(obj),
        ("", "PersistentVolumeClaim") => pvc::assess(obj),
        ("autoscaling", "HorizontalPodAutoscaler") => hpa::assess(obj),
        ("apiregistration.k8s.io", "APIService") => apiservice::assess(obj),
        ("", "Namespace") => namespace::assess(obj),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => crd::assess(obj),
        ("sextant.dev" | "argoproj.io", "Application") => application::assess(obj),
        ("argoproj.io", "Workflow") => workflow::assess(obj),
        _ => generic::assess(obj),
    }
}

/// The health of an application from the health of its own objects (the
/// ones it tracks, not what they own: a Deployment counts, its ReplicaSets
/// and Pods do not). Each item is a label for messages, such as
/// `Deployment shop/web`, and that object's health.
///
/// The status is the worst one; the message names the first object with
/// it. No objects at all is Healthy.
pub fn aggregate<'a, I>(resources: I) -> Health
where
    I: IntoIterator<Item = (&'a str, &'a Health)>,
{
    let mut total = 0usize;
    let mut worst: Option<(&str, &Health)> = None;
    let mut worst_count = 0usize;
    for (label, health) in resources {
        total += 1;
        match worst {
            Some((_, w)) if health.status < w.status => {}
            Some((_, w)) if health.status == w.status => worst_count += 1,
            _ => {
                worst = Some((label, health));
                worst_count = 1;
            }
        }
    }
    let Some((label, health)) = worst else {
        return Health::healthy("No resources");
    };
    if health.status == HealthStatus::Healthy {
        let noun = if total == 1 {
            "resource is"
        } else {
            "resources are"
        };
        return Health::healthy(format!("{total} {noun} healthy"));
    }
    let mut message = if health.message.is_empty() {
        format!("{label} is {}", health.status)
    } else {
        format!("{label}: {}", health.message)
    };
    if worst_count > 1 {
        message.push_str(&format!(
            " (and {} more {})",
            worst_count - 1,
            health.status
        ));
    }
    Health::new(health.status, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_ordered_from_best_to_worst() {
        let mut shuffled = [
            HealthStatus::Unknown,
            HealthStatus::Missing,
            HealthStatus::Healthy,
            HealthStatus::Degraded,
            HealthStatus::Progressing,
            HealthStatus::Suspended,
        ];
        shuffled.sort();
        assert_eq!(shuffled, HealthStatus::ALL);
    }

    #[test]
    fn statuses_round_trip_through_their_names() {
        for status in HealthStatus::ALL {
            assert_eq!(status.as_str().parse::<HealthStatus>(), Ok(status));
        }
        assert!("healthy".parse::<HealthStatus>().is_err());
    }

    #[test]
    fn aggregate_picks_the_worst_status_and_names_the_object() {
        let ok = Health::healthy("");
        let rolling = Health::progressing("1 of 3 updated");
        let paused = Health::suspended("paused");
        let app = aggregate([
            ("Deployment a", &ok),
            ("Deployment b", &rolling),
            ("CronJob c", &paused),
        ]);
        assert_eq!(app.status, HealthStatus::Progressing);
        assert_eq!(app.message, "Deployment b: 1 of 3 updated");
    }

    #[test]
    fn aggregate_counts_further_objects_with_the_worst_status() {
        let bad = Health::degraded("");
        let app = aggregate([("Pod a", &bad), ("Pod b", &bad), ("Pod c", &bad)]);
        assert_eq!(app.message, "Pod a is Degraded (and 2 more Degraded)");
    }

    #[test]
    fn aggregate_of_nothing_or_only_healthy_objects_is_healthy() {
        assert_eq!(aggregate([]).status, HealthStatus::Healthy);
        let ok = Health::healthy("fine");
        let app = aggregate([("a", &ok), ("b", &ok)]);
        assert_eq!(app, Health::healthy("2 resources are healthy"));
    }

    #[test]
    fn missing_sorts_between_progressing_and_degraded() {
        let missing = Health::missing();
        let rolling = Health::progressing("");
        let broken = Health::degraded("");
        assert_eq!(
            aggregate([("a", &missing), ("b", &rolling)]).status,
            HealthStatus::Missing
        );
        assert_eq!(
            aggregate([("a", &missing), ("b", &broken)]).status,
            HealthStatus::Degraded
        );
    }
}
