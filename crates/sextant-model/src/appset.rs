//! The `ApplicationSet` resource: generators that produce parameter sets,
//! and a template that turns each set into an Application. Field names are
//! Argo CD's.

use std::borrow::Cow;
use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// An ApplicationSet.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationSet {
    /// `sextant.dev/v1alpha1` (or Argo CD's group, read the same way).
    #[serde(default)]
    pub api_version: String,
    /// `ApplicationSet`.
    #[serde(default)]
    pub kind: String,
    /// Standard object metadata.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// Generators, template and policies.
    pub spec: ApplicationSetSpec,
    /// What the ApplicationSet controller observed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ApplicationSetStatus>,
}

impl kube::Resource for ApplicationSet {
    type DynamicType = ();
    type Scope = k8s_openapi::NamespaceResourceScope;

    fn kind(_: &()) -> Cow<'_, str> {
        "ApplicationSet".into()
    }
    fn group(_: &()) -> Cow<'_, str> {
        crate::group::selected().name().into()
    }
    fn version(_: &()) -> Cow<'_, str> {
        crate::VERSION.into()
    }
    fn plural(_: &()) -> Cow<'_, str> {
        "applicationsets".into()
    }
    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

/// The spec of an ApplicationSet.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationSetSpec {
    /// Render the template as a Go template (`{{ .path.basename }}`)
    /// instead of plain substitution (`{{path.basename}}`).
    #[serde(default)]
    pub go_template: bool,
    /// Go template options; `missingkey=error` makes a missing key an error.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub go_template_options: Vec<String>,
    /// Where the parameter sets come from.
    #[serde(default)]
    pub generators: Vec<Generator>,
    /// The Application each parameter set becomes: `metadata` and `spec`,
    /// with template expressions in any string (kept free-form: a field
    /// that is a number or boolean in an Application may be a template
    /// string here).
    #[serde(default)]
    pub template: Value,
    /// A Go template of YAML merged over the rendered template (Go mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_patch: Option<String>,
    /// What the set may do to its Applications.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_policy: Option<ApplicationSetSyncPolicy>,
    /// Fields of the generated Applications that the set leaves as they are
    /// once the Application exists.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore_application_differences: Vec<ApplicationMatchExpression>,
    /// Labels and annotations kept from the live Application on update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preserved_fields: Option<PreservedFields>,
}

/// One generator: exactly one of its kinds is set, plus an optional
/// selector on the parameter sets it produces.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Generator {
    /// Fixed elements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list: Option<ListGenerator>,
    /// The clusters Sextant knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clusters: Option<ClusterGenerator>,
    /// Directories or files of a Git repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git: Option<GitGenerator>,
    /// Every combination of two generators' sets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matrix: Option<CombiningGenerator>,
    /// The sets of several generators merged by keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merge: Option<CombiningGenerator>,
    /// Keep only the parameter sets matching these labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<LabelSelector>,
}

/// The list generator.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListGenerator {
    /// The parameter sets.
    #[serde(default)]
    pub elements: Vec<Value>,
    /// The parameter sets as a YAML (or JSON) list in a string, which may
    /// be a template (in a matrix).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elements_yaml: Option<String>,
}

/// The clusters generator.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterGenerator {
    /// Only the cluster Secrets with these labels (the local cluster is
    /// left out when a selector is given, as it has no Secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<LabelSelector>,
    /// Extra parameters, `values.<key>`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub values: BTreeMap<String, String>,
}

/// The git generator: directories or files.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GitGenerator {
    /// The repository.
    #[serde(rename = "repoURL", default)]
    pub repo_url: String,
    /// Branch, tag or commit (default `HEAD`).
    #[serde(default)]
    pub revision: String,
    /// Directory patterns (each directory matching one becomes a set).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub directories: Vec<GitPathPattern>,
    /// File patterns (each file's content becomes one set, or one per
    /// element if it holds a list).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<GitPathPattern>,
    /// A prefix for the `path` parameters (`{{prefix.path}}`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path_param_prefix: String,
    /// Extra parameters, `values.<key>`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub values: BTreeMap<String, String>,
    /// How often to look at the repository again, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requeue_after_seconds: Option<u64>,
}

/// A path pattern of the git generator (`*`, `**`, `?`, `[...]`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GitPathPattern {
    /// The pattern, relative to the repository's root.
    pub path: String,
    /// Leave out what matches instead of taking it in.
    #[serde(default)]
    pub exclude: bool,
}

/// The matrix and merge generators: child generators, and for merge the
/// parameters that identify a set across them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CombiningGenerator {
    /// The children.
    #[serde(default)]
    pub generators: Vec<Generator>,
    /// Merge only: the keys a set is matched by.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merge_keys: Vec<String>,
}

/// What an ApplicationSet may do to its Applications.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationSetSyncPolicy {
    /// `sync` (default), `create-only`, `create-update` or `create-delete`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applications_sync: Option<String>,
    /// Keep the Applications' deployed objects when an Application is
    /// deleted by the set or with it.
    #[serde(default)]
    pub preserve_resources_on_deletion: bool,
}

/// Fields to leave alone, for every Application or the one named.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationMatchExpression {
    /// Only this Application (all when empty).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// JSON pointers into the Application (`/spec/source/targetRevision`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub json_pointers: Vec<String>,
    /// jq path expressions (`.spec.source.helm.values`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub jq_path_expressions: Vec<String>,
}

/// Labels and annotations of live Applications the set keeps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PreservedFields {
    /// Annotation keys.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub annotations: Vec<String>,
    /// Label keys.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
}

/// What the controller observed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationSetStatus {
    /// ErrorOccurred, ParametersGenerated, ResourcesUpToDate.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<ApplicationSetCondition>,
    /// The Applications the set made, with their sync and health.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<ApplicationSetResource>,
}

/// A condition of an ApplicationSet.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationSetCondition {
    /// The condition's type.
    #[serde(rename = "type")]
    pub type_: String,
    /// `True` or `False`.
    pub status: String,
    /// A CamelCase reason.
    #[serde(default)]
    pub reason: String,
    /// What happened, in words.
    #[serde(default)]
    pub message: String,
    /// When the status last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<String>,
}

/// A generated Application as the set's status lists it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationSetResource {
    /// `sextant.dev`.
    #[serde(default)]
    pub group: String,
    /// `v1alpha1`.
    #[serde(default)]
    pub version: String,
    /// `Application`.
    #[serde(default)]
    pub kind: String,
    /// The Application's name.
    pub name: String,
    /// Its namespace.
    #[serde(default)]
    pub namespace: String,
    /// Its sync status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Its health.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<crate::application::HealthStatus>,
}
