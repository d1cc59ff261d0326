//! The integration tests of `sextant-cli`, built as one binary: one link
//! instead of one per file keeps a clean build's disk and time in check.
//! Each module is one former test file; run one with
//! `cargo test -p sextant-cli --test integration <module>::`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is a failure report"
)]

mod app_env;

mod actions_cli;
mod app_cli;
mod app_controller_cli;
mod app_verbs_cli;
mod appset_cli;
mod argocd_dropin_cli;
mod cluster_cli;
mod completion_cli;
mod crds_cli;
mod demo_cli;
mod diff_cli;
mod health_cli;
mod localkube_cli;
mod localkube_faults_cli;
mod preview_cli;
mod proj_cli;
mod render_cli;
mod repo_cli;
