//! The `AppProject` resource: which repositories, destinations and kinds
//! the Applications of a project may use, and when they may sync.

use std::borrow::Cow;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The project an Application without `spec.project` belongs to; the
/// controller creates it, allowing everything, when it does not exist.
pub const DEFAULT_PROJECT: &str = "default";

/// An AppProject: the rules its Applications live by.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppProject {
    /// `sextant.dev/v1alpha1`.
    #[serde(default = "api_version")]
    pub api_version: String,
    /// `AppProject`.
    #[serde(default = "kind")]
    pub kind: String,
    /// Standard object metadata.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// The rules.
    #[serde(default)]
    pub spec: AppProjectSpec,
    /// Argo CD keeps role tokens here; carried, not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<serde_json::Value>,
}

fn api_version() -> String {
    crate::group::selected().api_version().to_string()
}

fn kind() -> String {
    "AppProject".to_string()
}

impl AppProject {
    /// A new AppProject with the given name and spec.
    pub fn new(name: &str, spec: AppProjectSpec) -> Self {
        AppProject {
            api_version: api_version(),
            kind: kind(),
            metadata: ObjectMeta {
                name: Some(name.to_string()),
                ..Default::default()
            },
            spec,
            status: None,
        }
    }

    /// The `default` project as created when missing: every repository,
    /// destination and kind.
    pub fn permissive(name: &str) -> Self {
        let any = |s: &str| Some(s.to_string());
        Self::new(
            name,
            AppProjectSpec {
                source_repos: Some(vec!["*".into()]),
                destinations: Some(vec![crate::application::ApplicationDestination {
                    server: any("*"),
                    name: any("*"),
                    namespace: any("*"),
                }]),
                cluster_resource_whitelist: Some(vec![GroupKind {
                    group: "*".into(),
                    kind: "*".into(),
                }]),
                ..Default::default()
            },
        )
    }
}

impl kube::Resource for AppProject {
    type DynamicType = ();
    type Scope = k8s_openapi::NamespaceResourceScope;

    fn kind(_: &()) -> Cow<'_, str> {
        "AppProject".into()
    }
    fn group(_: &()) -> Cow<'_, str> {
        crate::group::selected().name().into()
    }
    fn version(_: &()) -> Cow<'_, str> {
        crate::VERSION.into()
    }
    fn plural(_: &()) -> Cow<'_, str> {
        "appprojects".into()
    }
    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

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
    /// Namespaces other than the controller's whose Applications may use
    /// this project (globs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_namespaces: Option<Vec<String>>,
    /// Report objects in the project's namespaces that no app tracks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orphaned_resources: Option<OrphanedResources>,
    /// Roles for the API server's policies (Argo CD's project roles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<ProjectRole>>,
    /// GnuPG keys commits must be signed with (carried; not verified yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_keys: Option<Vec<SignatureKey>>,
    /// Only clusters scoped to this project may be destinations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permit_only_project_scoped_clusters: Option<bool>,
    /// Service accounts to impersonate per destination (carried; not used
    /// yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_service_accounts: Option<Vec<DestinationServiceAccount>>,
}

/// Orphaned-resource monitoring.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrphanedResources {
    /// Give apps a warning condition when they have orphans (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warn: Option<bool>,
    /// Objects never reported (globs on group, kind and name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore: Option<Vec<OrphanedResourceKey>>,
}

/// An object kind and name not reported as orphaned.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OrphanedResourceKey {
    /// Group (glob).
    #[serde(default)]
    pub group: String,
    /// Kind (glob).
    #[serde(default)]
    pub kind: String,
    /// Name (glob).
    #[serde(default)]
    pub name: String,
}

/// A project role (for API server policies).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProjectRole {
    /// Role name.
    pub name: String,
    /// Human description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Policy lines (`p, proj:NAME:ROLE, applications, get, NAME/*, allow`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policies: Option<Vec<String>>,
    /// SSO groups given the role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
    /// Tokens issued for the role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt_tokens: Option<Vec<JwtToken>>,
}

/// A token issued for a project role.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct JwtToken {
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// Token id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// A GnuPG key id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignatureKey {
    /// The key id.
    #[serde(rename = "keyID")]
    pub key_id: String,
}

/// The service account syncs to a destination run as.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DestinationServiceAccount {
    /// Server URL (glob).
    pub server: String,
    /// Namespace (glob).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The service account.
    pub default_service_account: String,
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
    /// Time zone of the schedule (IANA name; UTC when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// Require every selector given (applications, namespaces, clusters)
    /// to match, instead of any one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub and_operator: Option<bool>,
    /// Let a sync started before a deny window (or during an allow window)
    /// run on after the window changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_overrun: Option<bool>,
    /// Human description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}
