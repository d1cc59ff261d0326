//! Sextant's custom resources — `Application`, `ApplicationSet` and
//! `AppProject` in group `sextant.dev`, version `v1alpha1` — and the
//! vocabulary shared by every crate: annotation names, status words.
//!
//! Field names follow Argo CD's `argoproj.io/v1alpha1` types field for
//! field, so migrating a manifest is a change of `apiVersion`. No IO here.

pub mod annotations;
pub mod application;
pub mod appset;
pub mod crd;
pub mod duration;
pub mod glob;
pub mod group;
pub mod names;
pub mod project;
pub mod selector;
pub mod vocabulary;

pub use application::{Application, ApplicationSpec, ApplicationStatus};
pub use appset::{ApplicationSet, ApplicationSetSpec};
pub use project::{AppProject, AppProjectSpec};

pub use group::ApiGroup;

/// API group of Sextant's resources (the process may serve Argo CD's
/// instead: see [`group`]).
pub const SEXTANT_GROUP: &str = "sextant.dev";
/// API version of Sextant's resources.
pub const VERSION: &str = "v1alpha1";
/// `group/version`.
pub const SEXTANT_API_VERSION: &str = "sextant.dev/v1alpha1";
/// The field manager Sextant applies with.
pub const FIELD_MANAGER: &str = "sextant";
