//! What the controller reports to Prometheus (names in sextant-metrics):
//! one `sextant_app_info` series per Application, made at scrape time from
//! what the watcher last saw (so a deleted app's series goes with it), the
//! live cache's size, and operations as they end.

use std::time::Duration;

use sextant_metrics::{Family, names};
use sextant_model::Application;

/// The labels of an app's info series.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct AppInfo {
    project: String,
    repo: String,
    dest_server: String,
    dest_namespace: String,
    sync: String,
    health: String,
    operation: String,
}

impl AppInfo {
    /// What an app's spec and status say.
    pub(crate) fn of(app: &Application) -> Self {
        let status = app.status.as_ref();
        let d = &app.spec.destination;
        let running = status
            .and_then(|s| s.operation_state.as_ref())
            .map(|o| o.phase.clone())
            .filter(|p| matches!(p.as_str(), "Running" | "Terminating"));
        Self {
            project: app.spec.project.clone(),
            repo: app
                .spec
                .source
                .as_ref()
                .map(|s| s.repo_url.clone())
                .or_else(|| {
                    app.spec
                        .sources
                        .as_ref()
                        .and_then(|s| s.first())
                        .map(|s| s.repo_url.clone())
                })
                .unwrap_or_default(),
            dest_server: d
                .server
                .clone()
                .filter(|s| !s.is_empty())
                .or_else(|| d.name.clone())
                .unwrap_or_default(),
            dest_namespace: d.namespace.clone().unwrap_or_default(),
            sync: status
                .and_then(|s| s.sync.as_ref())
                .map(|s| s.status.clone())
                .unwrap_or_default(),
            health: status
                .and_then(|s| s.health.as_ref())
                .map(|h| h.status.clone())
                .unwrap_or_default(),
            operation: running.unwrap_or_default(),
        }
    }
}

/// The `sextant_app_info` family for `apps` (name, info), in `namespace`.
pub(crate) fn app_info_family<'a>(
    namespace: &str,
    apps: impl Iterator<Item = (&'a String, &'a AppInfo)>,
) -> String {
    let mut family = Family::gauge(
        names::APP_INFO,
        "One series per Application, value 1, with its project, repository, destination, sync and health status.",
    );
    for (name, i) in apps {
        family.series(
            &[
                ("name", name),
                ("namespace", namespace),
                ("project", &i.project),
                ("repo", &i.repo),
                ("dest_server", &i.dest_server),
                ("dest_namespace", &i.dest_namespace),
                ("sync_status", &i.sync),
                ("health_status", &i.health),
                ("operation", &i.operation),
            ],
            1.0,
        );
    }
    family.finish()
}

/// The live cache's size: objects held whole and by identity.
pub(crate) fn cache_family(server: &str, (whole, identity): (usize, usize)) -> String {
    let mut family = Family::gauge(
        names::CLUSTER_CACHE_OBJECTS,
        "Objects in the controller's live cache, by cluster and how they are held.",
    );
    #[allow(
        clippy::cast_precision_loss,
        reason = "object counts are far below 2^52"
    )]
    {
        family.series(&[("server", server), ("held", "whole")], whole as f64);
        family.series(&[("server", server), ("held", "identity")], identity as f64);
    }
    family.finish()
}

/// Count an operation that ended, and how long it ran.
pub(crate) fn operation_ended(
    app: &Application,
    phase: &str,
    ran: Option<Duration>,
    dry_run: bool,
) {
    let name = app.metadata.name.clone().unwrap_or_default();
    let namespace = app.metadata.namespace.clone().unwrap_or_default();
    metrics::counter!(
        names::APP_SYNC,
        "name" => name,
        "namespace" => namespace,
        "project" => app.spec.project.clone(),
        "phase" => phase.to_owned(),
        "dry_run" => if dry_run { "true" } else { "false" }
    )
    .increment(1);
    if let Some(ran) = ran {
        metrics::histogram!(names::APP_SYNC_DURATION, "phase" => phase.to_owned())
            .record(ran.as_secs_f64());
    }
}
