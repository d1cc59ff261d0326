//! Sextant's cluster IO: a kube-rs client from a kubeconfig ([`connect`]),
//! and the server-side diff ([`diff_objects`]): each desired object's kind
//! is found through discovery, its live copy read, and a server-side apply
//! dry-run (`dryRun=All`, field manager `sextant`, force) asked for; the
//! comparison itself is `sextant_engine::diff`, which does no IO.
//!
//! Talks to any Kubernetes API server through kube-rs; the tests use
//! `localkube`.

mod apply;
mod connect;
mod counted;
mod diff;
mod kinds;
mod live;
mod remote;
pub mod tracking;

pub use apply::{Propagation, WriteError};
pub use connect::{ConnectError, connect, connect_inferred};
pub use diff::{DiffSettings, diff_objects};
pub use kinds::{KindInfo, Kinds};
pub use live::{Entry, LiveCache, LiveKey};
pub use remote::{
    CLUSTER_SECRET_TYPE, ClusterConfig, ClusterCredentials, ExecProviderConfig, IN_CLUSTER_NAME,
    IN_CLUSTER_SERVER, TlsClientConfig,
};
pub use tracking::{Tracking, TrackingMethod, app_of};

/// An API error in the server's own words (`reason: message`); other
/// errors with their chain.
pub fn words(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(status) => {
            if status.reason.is_empty() {
                status.message.clone()
            } else {
                format!("{}: {}", status.reason, status.message)
            }
        }
        other => {
            let mut text = other.to_string();
            let mut cause = std::error::Error::source(other);
            while let Some(c) = cause {
                text.push_str(": ");
                text.push_str(&c.to_string());
                cause = c.source();
            }
            text
        }
    }
}
