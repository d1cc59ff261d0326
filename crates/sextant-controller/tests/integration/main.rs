//! The integration tests of `sextant-controller`, built as one binary: one link
//! instead of one per file keeps a clean build's disk and time in check.
//! Each module is one former test file; run one with
//! `cargo test -p sextant-controller --test integration <module>::`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is a failure report"
)]

mod support;

mod app_of_apps_e2e;
mod appset_e2e;
mod charts_e2e;
mod clusters_e2e;
mod crash_trials_e2e;
mod leader_e2e;
mod multi_source_e2e;
mod notify_e2e;
mod operations_e2e;
mod plugins_e2e;
mod projects_e2e;
mod repo_credentials_e2e;
mod settings_e2e;
mod sync_e2e;
mod sync_revision_e2e;
mod sync_waves_e2e;
