//! Helpers for the workspace's tests (a dev-dependency only): Git
//! repositories made with the real `git` and no user or system config,
//! `git http-backend` behind a small HTTP/1.1 server (optionally asking for
//! basic auth), `git daemon`, and a real Kubernetes control plane (etcd,
//! kube-apiserver, kube-controller-manager: `control_plane`); every server
//! on a loopback port picked at run time. Also a static file server (a
//! Helm chart repository), charts packaged with `helm`, and an OCI
//! registry (`docker-registry`).
//!
//! A helper that cannot do its job panics with what went wrong: these are
//! test fixtures, and a panic is the test's failure report.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::missing_panics_doc,
    reason = "test fixtures: a panic is the failure report"
)]

pub mod control_plane;
mod git;
mod git_daemon;
mod helm_charts;
mod http_git;
mod ssh_git;
mod static_http;

pub use control_plane::ControlPlane;
pub use git::{git, git_command, git_stdin, write_files};
pub use git_daemon::GitDaemon;
pub use helm_charts::{OciRegistry, helm, index_repo, package_chart};
pub use http_git::{HttpGitServer, base64};
pub use ssh_git::SshGitServer;
pub use static_http::StaticHttpServer;
