//! The integration tests of `sextant-server`, built as one binary: one link
//! instead of one per file keeps a clean build's disk and time in check.
//! Each module is one former test file; run one with
//! `cargo test -p sextant-server --test integration <module>::`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is a failure report"
)]

mod support;

mod api;
mod live;
mod rbac_e2e;
mod schemathesis;
mod webhook;
