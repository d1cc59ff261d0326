//! Test helpers: a Git fixture repository made with the real `git`; the
//! servers (smart HTTP, `git daemon`) come from `sextant-testkit`.

#![allow(dead_code, reason = "each test file uses a different subset")]

use std::path::PathBuf;

pub use sextant_testkit::{GitDaemon, HttpGitServer, SshGitServer, git, git_stdin, write_files};

/// A work tree with history: commit 1 (tagged `v1`, annotated, and
/// branch `feature`), then commit 2 on `main`. The served copy also has
/// `refs/pull/7/head` at commit 1, as a forge keeps a pull request's head.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub first: String,
    pub second: String,
}

impl Fixture {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let work = dir.path().join("work");
        std::fs::create_dir(&work).unwrap();
        git(&work, &["init", "-q", "-b", "main"]);
        write_files(&work, &[("app/cm.yaml", &config_map("one"))]);
        git(&work, &["add", "."]);
        git(&work, &["commit", "-q", "-m", "one"]);
        let first = git(&work, &["rev-parse", "HEAD"]);
        git(&work, &["tag", "-a", "v1", "-m", "release v1"]);
        git(&work, &["branch", "feature"]);
        write_files(&work, &[("app/cm.yaml", &config_map("two"))]);
        git(&work, &["commit", "-q", "-am", "two"]);
        let second = git(&work, &["rev-parse", "HEAD"]);
        let bare = dir.path().join("served").join("repo.git");
        std::fs::create_dir_all(bare.parent().unwrap()).unwrap();
        git(
            dir.path(),
            &[
                "clone",
                "-q",
                "--bare",
                work.to_str().unwrap(),
                bare.to_str().unwrap(),
            ],
        );
        git(&bare, &["update-ref", "refs/pull/7/head", &first]);
        Self { dir, first, second }
    }

    pub fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    /// The folder served by the HTTP server and git daemon.
    pub fn served(&self) -> PathBuf {
        self.dir.path().join("served")
    }
}

pub fn config_map(value: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  value: {value}\n")
}
