//! Every metric's name, with its help text and labels (see also
//! `docs/metrics.md`). Counters end in `_total`, durations are histograms
//! in seconds ending in `_seconds`.

use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};

/// Gauge, one series per Application, value 1: `name`, `namespace`,
/// `project`, `repo`, `dest_server`, `dest_namespace`, `sync_status`,
/// `health_status`, `operation` (the running operation's phase, or empty).
pub const APP_INFO: &str = "sextant_app_info";
/// Counter: operations that ended, by `name`, `namespace`, `project` and
/// `phase` (Succeeded, Failed, Error) and `dry_run`.
pub const APP_SYNC: &str = "sextant_app_sync_total";
/// Histogram: how long an operation ran, start to end, by `phase`.
pub const APP_SYNC_DURATION: &str = "sextant_app_sync_duration_seconds";
/// Histogram: how long one reconcile of an app took, by `result` (`ok`,
/// `error`).
pub const APP_RECONCILE: &str = "sextant_app_reconcile_seconds";
/// Counter: Git fetches, by `repo` and `result` (`ok`, `error`).
pub const GIT_REQUESTS: &str = "sextant_git_requests_total";
/// Histogram: how long a Git fetch took, by `repo`.
pub const GIT_REQUEST_DURATION: &str = "sextant_git_request_duration_seconds";
/// Histogram: how long rendering took, by `tool` (`directory`,
/// `kustomize`, `helm`) and `cache` (`hit`, `miss`).
pub const RENDER_DURATION: &str = "sextant_render_duration_seconds";
/// Counter: requests to a Kubernetes API server, by `verb` (HTTP method)
/// and `code` (status code, or `error` when no answer came).
pub const KUBE_REQUESTS: &str = "sextant_kube_requests_total";
/// Gauge: apps waiting in the controller's work queue (now or later).
pub const WORKQUEUE_DEPTH: &str = "sextant_workqueue_depth";
/// Histogram: how long an app waited in the queue before a worker took it.
pub const WORKQUEUE_WAIT: &str = "sextant_workqueue_wait_seconds";
/// Gauge: objects in the controller's live cache, by `server`.
pub const CLUSTER_CACHE_OBJECTS: &str = "sextant_cluster_cache_objects";
/// Counter: notification deliveries, by `service`, `trigger` and
/// `result` (`sent`, `failed`).
pub const NOTIFICATIONS: &str = "sextant_notifications_deliveries_total";
/// Counter: Git webhook requests, by `provider` and `result` (`accepted`,
/// `ignored`, `unauthorized`, `malformed`, `too_large`).
pub const WEBHOOK_REQUESTS: &str = "sextant_webhook_requests_total";

/// Register the help texts with the recorder.
pub(crate) fn describe() {
    describe_counter!(
        APP_SYNC,
        "Operations (syncs, rollbacks) that ended, by phase."
    );
    describe_histogram!(
        APP_SYNC_DURATION,
        Unit::Seconds,
        "How long an operation ran, from start to its end."
    );
    describe_histogram!(
        APP_RECONCILE,
        Unit::Seconds,
        "How long one reconcile of an application took."
    );
    describe_counter!(GIT_REQUESTS, "Git fetches, by repository and result.");
    describe_histogram!(
        GIT_REQUEST_DURATION,
        Unit::Seconds,
        "How long a Git fetch took."
    );
    describe_histogram!(
        RENDER_DURATION,
        Unit::Seconds,
        "How long rendering a source took, by tool and render-cache outcome."
    );
    describe_counter!(
        KUBE_REQUESTS,
        "Requests to Kubernetes API servers, by verb and status code."
    );
    describe_gauge!(
        WORKQUEUE_DEPTH,
        "Applications waiting in the controller's work queue."
    );
    describe_histogram!(
        WORKQUEUE_WAIT,
        Unit::Seconds,
        "How long an application waited in the queue before a worker took it."
    );
    describe_counter!(
        NOTIFICATIONS,
        "Notification deliveries, by service, trigger and result."
    );
    describe_counter!(
        WEBHOOK_REQUESTS,
        "Git webhook requests, by provider and result."
    );
}
