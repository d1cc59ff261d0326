//! Sextant's repo layer: from a checkout (or a repository, a revision and
//! a path) to the list of Kubernetes objects it describes.
//!
//! - [`render_path`] renders one folder of a checkout: plain YAML/JSON,
//!   Kustomize or Helm, detected as Argo CD does or forced, with every
//!   object normalised (apiVersion, kind, name, namespace when namespaced)
//!   and sorted stably.
//!   Plain directories evaluate their `.jsonnet` files ([`jsonnet`]).
//! - [`Renderer`] adds Git ([`sextant_source`]) and a bounded render cache
//!   keyed by (commit, path, options, tool fingerprint).
//!
//! Safety: nothing outside the checkout is read (symlinks, `..`, absolute
//! value files and kustomize references that escape are refused, naming
//! the file); helm and kustomize run through [`runner`] only, with a
//! timeout, an output cap, a clean environment and no network unless
//! allowed.

pub mod build_env;
mod cache;
pub mod chart;
mod directory;
mod glob;
mod helm;
pub mod jsonnet;
mod kustomize;
pub mod manifest;
mod normalize;
mod options;
pub mod paths;
pub mod plugin;
mod render;
pub mod runner;
mod service;
mod tools;

pub use build_env::BuildEnv;
pub use cache::{CacheKey, CacheLimits, RenderCache};
pub use chart::{ChartAccess, ChartError};
pub use directory::DirectoryError;
pub use glob::{Glob, GlobError};
pub use helm::HelmError;
pub use jsonnet::JsonnetError;
pub use kustomize::{KUSTOMIZATION_FILES, KustomizeError};
pub use normalize::{NormalizeError, Scope, group_of, identity, normalize};
pub use options::{
    DirectoryOptions, HelmOptions, HelmParameter, JsonnetOptions, JsonnetVar, KustomizeOptions,
    RenderOptions, SourceKind, SourceRef,
};
pub use plugin::{Plugin, PluginError, PluginSource};
pub use render::{RenderError, Rendered, Skipped, detect, render_path, source_folder};
pub use service::{
    ChartSpec, Outcome, Renderer, RendererConfig, Request, ServiceError, is_git_repository,
};
pub use tools::{DEFAULT_JSONNET_MAX_MEMORY, Kustomize, ToolConfig, ToolError, Tools, which};
