//! The integration tests of `sextant-render`, built as one binary: one link
//! instead of one per file keeps a clean build's disk and time in check.
//! Each module is one former test file; run one with
//! `cargo test -p sextant-render --test integration <module>::`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is a failure report"
)]

mod support;

mod chart_repo;
mod helm_parity;
mod jsonnet;
mod kustomize_parity;
mod plugin;
mod repo_server;
mod safety;
