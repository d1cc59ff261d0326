//! `sextant server`: the REST API under `/api/v1` that the web UI, the CLI
//! and CI talk to.
//!
//! It is stateless: what it shows comes from watches of the controller's
//! namespace (Applications, ApplicationSets, AppProjects, the settings
//! ConfigMaps and Secrets) kept in memory, and from Git through the same
//! render and diff code the controller uses. What it writes goes to the
//! cluster: a sync is an `operation` on the Application, exactly as
//! `sextant app sync` and `kubectl` write it, and the controller runs it.
//!
//! - `listen.rs`: the listener (TLS, generated or given, or plain HTTP) and
//!   the serve loop.
//! - `security.rs`: headers (CSP, frame denial), body limits, timeouts.
//! - `auth/`: accounts and passwords, signed tokens, sessions with CSRF
//!   protection, login rate limiting; `rbac.rs`: Argo CD's policy CSV.
//! - `watch/`: the watched state (apps with an event log for the live
//!   stream, settings, the objects the apps own for the resource tree).
//! - `api/`: the routes, one file per area; `openapi.rs`: the document.
//! - `mask.rs`: Secret values never leave the server.

pub mod api;
pub mod auth;
mod config;
mod error;
mod listen;
pub mod mask;
pub mod openapi;
pub mod rbac;
mod security;
mod server;
mod state;
pub mod watch;
pub mod webhook;

pub use config::{ServerConfig, TlsMode};
pub use error::ApiError;
pub use server::{Server, StartError};
