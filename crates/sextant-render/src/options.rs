//! What a render is asked to do: the source kind (detected or forced), the
//! destination namespace, and the options of each kind, modelled on Argo
//! CD's Application `source.directory`, `source.kustomize` and
//! `source.helm`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The kind of source at a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// Plain YAML/JSON manifests.
    Directory,
    /// A Kustomize overlay (`kustomization.yaml`).
    Kustomize,
    /// A Helm chart (`Chart.yaml`).
    Helm,
    /// A config management plugin (see [`crate::plugin`]).
    Plugin,
}

impl SourceKind {
    /// The lowercase name (`directory`, `kustomize`, `helm`).
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Directory => "directory",
            SourceKind::Kustomize => "kustomize",
            SourceKind::Helm => "helm",
            SourceKind::Plugin => "plugin",
        }
    }
}

impl std::str::FromStr for SourceKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "directory" | "plain" => Ok(SourceKind::Directory),
            "kustomize" => Ok(SourceKind::Kustomize),
            "helm" => Ok(SourceKind::Helm),
            other => Err(format!(
                "unknown source kind `{other}` (expected directory, kustomize or helm)"
            )),
        }
    }
}

/// Everything that changes the rendered objects (and so is part of the
/// cache key).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RenderOptions {
    /// Force a kind instead of detecting it.
    pub kind: Option<SourceKind>,
    /// Namespace given to namespaced objects that have none (`default` when
    /// empty).
    pub namespace: String,
    /// Extra cluster-scoped kinds, as `Kind` or `Kind.group`.
    pub cluster_scoped_kinds: Vec<String>,
    /// Namespace given to Applications and ApplicationSets (Sextant's or
    /// Argo CD's) that have none, instead of `namespace`: the controller's,
    /// where an app-of-apps' children must live to be reconciled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applications_namespace: Option<String>,
    /// The API group Applications, ApplicationSets and AppProjects are
    /// served under: rendered ones of the other group (Argo CD's, under
    /// Sextant's) are rewritten to it, in `applications_namespace`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_group: Option<String>,
    /// Plain-directory options.
    pub directory: DirectoryOptions,
    /// Kustomize options.
    pub kustomize: KustomizeOptions,
    /// Helm options.
    pub helm: HelmOptions,
    /// Files of the other sources of a multi-source app, by `ref` name,
    /// for Helm value files written `$name/path`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub refs: BTreeMap<String, SourceRef>,
    /// Argo CD's build environment (`$ARGOCD_APP_NAME`, ...), substituted
    /// once the revision is known (see [`crate::build_env`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_env: Option<crate::build_env::BuildEnv>,
    /// The app's `source.plugin`: render with a config management plugin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin: Option<crate::plugin::PluginSource>,
    /// The declared plugins that may render this source: the one it names,
    /// or those found by discovery (offered only to sources that force no
    /// kind). Part of the cache key, so a changed plugin renders again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plugins: Vec<crate::plugin::Plugin>,
}

/// A source that lends its files (`ref` in a multi-source app).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceRef {
    /// What the files are: repository and commit. Part of the cache key,
    /// so a new commit of the values renders again.
    pub identity: String,
    /// The checkout holding them, kept on disk by the caller (a held
    /// `sextant_source::Snapshot`) for the length of the render.
    #[serde(skip)]
    pub dir: std::path::PathBuf,
}

impl RenderOptions {
    /// The destination namespace (`default` when unset).
    pub fn namespace(&self) -> &str {
        if self.namespace.is_empty() {
            "default"
        } else {
            &self.namespace
        }
    }
}

/// Options of a plain directory (Argo CD's `source.directory`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DirectoryOptions {
    /// Descend into sub-folders.
    pub recurse: bool,
    /// Only files matching this glob (relative to the source path).
    pub include: Option<String>,
    /// Skip files matching this glob.
    pub exclude: Option<String>,
    /// How `.jsonnet` files are evaluated.
    #[serde(default, skip_serializing_if = "JsonnetOptions::is_empty")]
    pub jsonnet: JsonnetOptions,
}

/// Jsonnet options of a plain directory (Argo CD's
/// `source.directory.jsonnet`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct JsonnetOptions {
    /// Library folders searched by imports, relative to the repository
    /// root.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub libs: Vec<String>,
    /// External variables (`std.extVar`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ext_vars: Vec<JsonnetVar>,
    /// Top-level arguments, passed when a file is a function.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tlas: Vec<JsonnetVar>,
}

impl JsonnetOptions {
    /// No libs, variables or arguments.
    pub fn is_empty(&self) -> bool {
        self.libs.is_empty() && self.ext_vars.is_empty() && self.tlas.is_empty()
    }
}

/// A Jsonnet external variable or top-level argument.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsonnetVar {
    /// Its name.
    pub name: String,
    /// Its value: a string, or Jsonnet code when `code` is set.
    pub value: String,
    /// Evaluate `value` as Jsonnet code instead of taking it as a string.
    #[serde(default)]
    pub code: bool,
}

/// Options of a Kustomize source (Argo CD's `source.kustomize`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct KustomizeOptions {
    /// Prefix for every resource name.
    pub name_prefix: Option<String>,
    /// Suffix for every resource name.
    pub name_suffix: Option<String>,
    /// Image overrides: `name=newName:tag`, `name:tag`, `name@digest`.
    pub images: Vec<String>,
    /// Labels added to every resource and selector.
    pub common_labels: BTreeMap<String, String>,
    /// Annotations added to every resource.
    pub common_annotations: BTreeMap<String, String>,
    /// Substitute the build environment in the annotations' values too
    /// (Argo CD's `commonAnnotationsEnvsubst`).
    #[serde(default)]
    pub common_annotations_envsubst: bool,
    /// Namespace set on every namespaced resource by Kustomize.
    pub namespace: Option<String>,
    /// Allow remote bases (URLs in `resources`); off by default.
    pub allow_remote_bases: bool,
    /// Extra flags for `kustomize build`, after Sextant's own (the
    /// settings' `kustomize.buildOptions`, e.g. `--enable-helm` or
    /// `--load-restrictor LoadRestrictionsNone`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub build_options: Vec<String>,
}

impl KustomizeOptions {
    /// Whether any override needs a wrapping kustomization.
    pub fn has_overrides(&self) -> bool {
        self.name_prefix.is_some()
            || self.name_suffix.is_some()
            || !self.images.is_empty()
            || !self.common_labels.is_empty()
            || !self.common_annotations.is_empty()
            || self.namespace.is_some()
    }
}

/// A Helm parameter (`--set` or `--set-string`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelmParameter {
    /// The value path, e.g. `image.tag`.
    pub name: String,
    /// The value.
    pub value: String,
    /// Pass with `--set-string` (always a string).
    pub force_string: bool,
}

/// Options of a Helm source (Argo CD's `source.helm`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HelmOptions {
    /// Release name (defaults to the chart folder's name).
    pub release_name: Option<String>,
    /// Value files, relative to the chart folder, inside the repository.
    pub value_files: Vec<String>,
    /// Inline values (YAML), applied after the value files.
    pub values: Option<String>,
    /// Parameters, applied last.
    pub parameters: Vec<HelmParameter>,
    /// Leave out the chart's `crds/` folder.
    pub skip_crds: bool,
    /// `Capabilities.APIVersions` for the templates.
    pub api_versions: Vec<String>,
    /// `Capabilities.KubeVersion` for the templates.
    pub kube_version: Option<String>,
}
