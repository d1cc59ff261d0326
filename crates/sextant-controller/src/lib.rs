//! The Application controller: keeps a cluster equal to what Git says.
//!
//! [`Controller::start`] watches the Applications of one namespace and the
//! objects they manage; for each app it resolves the revision, renders,
//! compares with the live state, assesses health and writes the status;
//! it runs the syncs that are asked for (an `operation` on the
//! Application) or that the sync policy calls for (automated, self-heal),
//! prunes, and deletes an app's objects when a finalizer asks for it.

mod config;
mod controller;

pub use config::ControllerConfig;
pub use controller::{Controller, ControllerError};
