//! The integration tests of `localkube`, built as one binary: one link
//! instead of one per file keeps a clean build's disk and time in check.
//! Each module is one former test file; run one with
//! `cargo test -p localkube --test integration <module>::`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is a failure report"
)]

mod support;

mod differential;
mod faults;
mod kube_client;
mod kubectl_conformance;
mod realism;
mod stand_in;
