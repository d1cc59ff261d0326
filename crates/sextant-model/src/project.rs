//! The `AppProject` resource: which repositories, destinations and kinds
//! the Applications of a project may use, and when they may sync.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// AppProject spec (Argo CD's fields).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppProjectSpec {
    /// Human description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Allowed source repositories (globs; `*` for any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_repos: Option<Vec<String>>,
    /// Allowed destinations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destinations: Option<Vec<crate::application::ApplicationDestination>>,
    /// Cluster-scoped kinds that may be deployed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_resource_whitelist: Option<Vec<GroupKind>>,
    /// Cluster-scoped kinds that may not be deployed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_resource_blacklist: Option<Vec<GroupKind>>,
    /// Namespaced kinds that may be deployed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_resource_whitelist: Option<Vec<GroupKind>>,
    /// Namespaced kinds that may not be deployed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_resource_blacklist: Option<Vec<GroupKind>>,
    /// When syncs are allowed or denied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_windows: Option<Vec<SyncWindow>>,
}

/// A group and kind (`*` wildcards allowed).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GroupKind {
    /// Group.
    #[serde(default)]
    pub group: String,
    /// Kind.
    pub kind: String,
}

/// A window in which syncs are allowed or denied.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncWindow {
    /// `allow` or `deny`.
    pub kind: String,
    /// Cron schedule of the window's start.
    pub schedule: String,
    /// Length (`1h`).
    pub duration: String,
    /// Applications it applies to (globs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applications: Option<Vec<String>>,
    /// Namespaces it applies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespaces: Option<Vec<String>>,
    /// Clusters it applies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clusters: Option<Vec<String>>,
    /// Allow manual syncs during a deny window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manual_sync: Option<bool>,
    /// Time zone of the schedule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}
