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
}

impl SourceKind {
    /// The lowercase name (`directory`, `kustomize`, `helm`).
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Directory => "directory",
            SourceKind::Kustomize => "kustomize",
            SourceKind::Helm => "helm",
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
    /// Plain-directory options.
    pub directory: DirectoryOptions,
    /// Kustomize options.
    pub kustomize: KustomizeOptions,
    /// Helm options.
    pub helm: HelmOptions,
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
    /// Namespace set on every namespaced resource by Kustomize.
    pub namespace: Option<String>,
    /// Allow remote bases (URLs in `resources`); off by default.
    pub allow_remote_bases: bool,
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
