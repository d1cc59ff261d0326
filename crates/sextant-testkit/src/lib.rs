//! Helpers for the workspace's tests (a dev-dependency only): Git
//! repositories made with the real `git` and no user or system config,
//! `git http-backend` behind a small HTTP/1.1 server (optionally asking for
//! basic auth), and `git daemon`; every server on a loopback port picked at
//! run time.
//!
//! A helper that cannot do its job panics with what went wrong: these are
//! test fixtures, and a panic is the test's failure report.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::missing_panics_doc,
    reason = "test fixtures: a panic is the failure report"
)]

mod git;
mod git_daemon;
mod http_git;

pub use git::{git, git_command, git_stdin, write_files};
pub use git_daemon::GitDaemon;
pub use http_git::{HttpGitServer, base64};
