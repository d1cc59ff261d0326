//! Sextant's cluster IO: a kube-rs client from a kubeconfig ([`connect`]),
//! and the server-side diff ([`diff_objects`]): each desired object's kind
//! is found through discovery, its live copy read, and a server-side apply
//! dry-run (`dryRun=All`, field manager `sextant`, force) asked for; the
//! comparison itself is `sextant_engine::diff`, which does no IO.
//!
//! Talks to any Kubernetes API server through kube-rs; the tests use
//! `localkube`.

mod connect;
mod diff;

pub use connect::{ConnectError, connect, connect_inferred};
pub use diff::{DiffSettings, diff_objects};
