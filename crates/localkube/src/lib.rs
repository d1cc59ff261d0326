//! localkube: a Kubernetes-API-compatible server for Sextant's tests and
//! demo. It keeps objects in memory and speaks the Kubernetes REST API
//! (discovery, OpenAPI, CRUD, watch, patch in all four flavours including
//! server-side apply, CRDs) closely enough that kubectl and kube-rs work
//! against it unchanged.
//!
//! Start it in-process with [`LocalKube::start`], or from the `sextant
//! localkube` command.

pub mod cluster;
pub mod controllers;
mod crd;
mod defaults;
mod discovery;
pub mod error;
pub mod faults;
mod http;
pub mod merge;
mod openapi;
mod partial;
pub mod persist;
mod protobuf;
pub mod resources;
mod scale;
pub mod selectors;
mod semantic;
mod server;
pub mod store;
mod table;
mod tls;
mod validation;
mod watch;

pub use cluster::Cluster;
pub use server::{ClientError, Config, LocalKube, StartError, kubeconfig_yaml};

/// The Kubernetes version localkube reports (that of its k8s-openapi types).
pub const KUBERNETES_VERSION: &str = "v1.33.0";

/// The `/version` document.
pub fn version_info() -> serde_json::Value {
    serde_json::json!({
        "major": "1",
        "minor": "33",
        "gitVersion": format!("{KUBERNETES_VERSION}+localkube"),
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.24.0",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}
