//! The Application controller: keeps a cluster equal to what Git says.
//!
//! [`Controller::start`] watches the Applications of one namespace and the
//! objects they manage; for each app it resolves the revision, renders,
//! compares with the live state, assesses health and writes the status;
//! it runs the syncs that are asked for (an `operation` on the
//! Application) or that the sync policy calls for (automated, self-heal),
//! prunes, and deletes an app's objects when a finalizer asks for it.
//!
//! - `controller.rs`: wiring (watchers, queue, workers, Git poll timer).
//! - `reconcile.rs`: one pass over one app; `decide.rs`: what is due (pure).
//! - `prepare.rs`: render + compare; `report.rs`: a comparison as status.
//! - `operation.rs`: running a sync operation; `finalize.rs`: deletion.
//! - `source.rs`: the app's source to objects (revision cache, render).
//! - `compare.rs`: Git vs live per object, health, pruning, ownership.
//! - `sync.rs`: one pass of a running sync (the engine's plan; preflight,
//!   then step by step); `tasks.rs`: starting one task and telling how far
//!   it got.
//! - `depends.rs`: `spec.dependsOn` (an automated sync waits for the
//!   apps it names).
//! - `fight.rs`: self-heal streaks, backoff, and who the other writer is.
//! - `status.rs`, `events.rs`: what the controller writes back.
//! - `queue.rs`, `tracking.rs`: the work queue; tracking ids.
//! - `words.rs`: what a pass asks next, short revisions, durations.
//! - `leader.rs`: leader election on a Lease (one controller acts).
//! - `repo_creds.rs`: Git credentials from labelled Secrets.
//! - `actions.rs`: resource actions on an app's objects (for the CLI and
//!   the API server; the scripts are `sextant-engine`'s).
//! - `appset/`: the ApplicationSet controller (generators and templates
//!   are `sextant-appset`'s; this is the cluster side: watch, apply,
//!   delete, status).

pub mod actions;
mod appset;
mod clusters;
mod compare;
mod config;
mod config_maps;
mod controller;
mod decide;
mod depends;
pub mod events;
mod fight;
mod finalize;
pub mod leader;
mod metrics;
mod multi_source;
mod notify;
mod operation;
pub mod plugins;
mod prepare;
mod projects;
mod queue;
mod reconcile;
pub mod repo_creds;
mod report;
pub mod settings;
pub mod source;
mod status;
mod sync;
mod tasks;
pub mod tracking;
mod words;

pub use config::ControllerConfig;
pub use controller::{Controller, ControllerError};
pub use words::parse_duration;
