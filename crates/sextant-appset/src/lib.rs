//! ApplicationSets: generators make parameter sets; a template turns each
//! set into an Application; a policy says what the set may create, update
//! and delete. No cluster IO: Git comes through [`generate::Repos`] and
//! clusters as data, so the controller and `sextant appset generate` run
//! the same code.
//!
//! Field names, parameter names and template behaviour follow Argo CD's
//! ApplicationSets, so existing sets work unchanged.

pub mod apps;
pub mod generate;
pub mod params;
pub mod plan;
pub mod template;

pub use generate::{Cluster, Context, Repos, generate_all, requeue_after};
pub use params::{Mode, Params};
pub use plan::{Plan, Policy, plan};
