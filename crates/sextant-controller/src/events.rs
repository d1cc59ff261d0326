//! Kubernetes Events on Applications (core/v1, so `kubectl describe` and
//! `kubectl get events` show them): sync started, succeeded, failed, drift
//! detected, self-heal applied. Failing to record an Event is logged and
//! never fails a reconcile.

use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, Time};
use kube::api::{Api, PostParams};
use sextant_model::Application;

/// Why an Event was recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// A sync began.
    SyncStarted,
    /// A sync finished well.
    SyncSucceeded,
    /// A sync failed.
    SyncFailed,
    /// Live objects differ from Git at the synced revision.
    DriftDetected,
    /// Self-heal re-applied Git over drift.
    SelfHealApplied,
    /// The app's resources were deleted with it.
    ResourcesDeleted,
    /// Self-heal keeps reverting fields another writer keeps changing.
    FightDetected,
    /// An automatic rollback to the last healthy revision.
    RolledBack,
    /// Someone asked for a sync (through the API server).
    SyncRequested,
    /// Someone asked for a rollback (through the API server).
    RollbackRequested,
    /// Someone asked to stop a running sync (through the API server).
    TerminateRequested,
    /// Someone asked for the app's deletion (through the API server).
    DeleteRequested,
    /// A notification could not be delivered after its retries.
    NotificationFailed,
    /// Someone ran a resource action on one of the app's objects.
    ResourceActionRan,
}

impl Reason {
    /// The reason as Events spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::SyncStarted => "SyncStarted",
            Reason::SyncSucceeded => "SyncSucceeded",
            Reason::SyncFailed => "SyncFailed",
            Reason::DriftDetected => "DriftDetected",
            Reason::SelfHealApplied => "SelfHealApplied",
            Reason::ResourcesDeleted => "ResourcesDeleted",
            Reason::FightDetected => "FightDetected",
            Reason::RolledBack => "RolledBack",
            Reason::SyncRequested => "SyncRequested",
            Reason::RollbackRequested => "RollbackRequested",
            Reason::TerminateRequested => "TerminateRequested",
            Reason::DeleteRequested => "DeleteRequested",
            Reason::NotificationFailed => "NotificationFailed",
            Reason::ResourceActionRan => "ResourceActionRan",
        }
    }

    fn warning(self) -> bool {
        matches!(
            self,
            Reason::SyncFailed
                | Reason::DriftDetected
                | Reason::FightDetected
                | Reason::RolledBack
                | Reason::NotificationFailed
        )
    }
}

/// Record an Event about `app`.
pub async fn record(client: &kube::Client, app: &Application, reason: Reason, message: &str) {
    record_from(client, app, reason, message, "sextant-controller").await;
}

/// Record an Event about `app` as `component` (`sextant-server` for
/// what users ask through the API).
pub async fn record_from(
    client: &kube::Client,
    app: &Application,
    reason: Reason,
    message: &str,
    component: &str,
) {
    let namespace = app.metadata.namespace.clone().unwrap_or_default();
    let name = app.metadata.name.clone().unwrap_or_default();
    let now = k8s_openapi::jiff::Timestamp::now();
    let event = Event {
        metadata: ObjectMeta {
            generate_name: Some(format!("{name}.")),
            namespace: Some(namespace.clone()),
            ..ObjectMeta::default()
        },
        involved_object: ObjectReference {
            api_version: Some(sextant_model::group::selected().api_version().to_owned()),
            kind: Some("Application".to_owned()),
            name: Some(name.clone()),
            namespace: Some(namespace.clone()),
            uid: app.metadata.uid.clone(),
            resource_version: app.metadata.resource_version.clone(),
            ..ObjectReference::default()
        },
        reason: Some(reason.as_str().to_owned()),
        message: Some(message.chars().take(1024).collect()),
        type_: Some(
            if reason.warning() {
                "Warning"
            } else {
                "Normal"
            }
            .to_owned(),
        ),
        source: Some(EventSource {
            component: Some(component.to_owned()),
            host: None,
        }),
        reporting_component: Some(format!(
            "sextant.dev/{}",
            component.trim_start_matches("sextant-")
        )),
        reporting_instance: Some(component.to_owned()),
        action: Some(reason.as_str().to_owned()),
        first_timestamp: Some(Time(now)),
        last_timestamp: Some(Time(now)),
        event_time: Some(MicroTime(now)),
        count: Some(1),
        ..Event::default()
    };
    let api: Api<Event> = Api::namespaced(client.clone(), &namespace);
    if let Err(e) = api.create(&PostParams::default(), &event).await {
        tracing::warn!(app = %name, reason = reason.as_str(), error = %e, "could not record an Event");
    }
}
