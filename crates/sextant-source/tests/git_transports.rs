//! The Git layer against real servers: a local path and `file://`,
//! `git daemon` (git://) and `git http-backend` (smart HTTP) with and
//! without a token; every kind of revision; snapshots; concurrency.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is a failure report"
)]

mod support;

use sextant_source::{Credentials, GitCache, GitOptions, RepoUrl, Secret, SourceError};
use support::{Fixture, GitDaemon, HttpGitServer, SshGitServer, git};

fn cache() -> (tempfile::TempDir, GitCache) {
    let dir = tempfile::tempdir().unwrap();
    let cache = GitCache::open(dir.path(), GitOptions::default()).unwrap();
    (dir, cache)
}

fn read_cm(cache: &GitCache, repo: &RepoUrl, rev: &str) -> (String, String) {
    let commit = cache.resolve(repo, rev, None).unwrap();
    let snapshot = cache.snapshot(repo, &commit, None).unwrap();
    let text = std::fs::read_to_string(snapshot.dir().join("app/cm.yaml")).unwrap();
    (commit.to_string(), text)
}

/// Every revision form resolves to the commit git itself reports.
fn check_revisions(url: &str, fx: &Fixture) {
    let (_dir, cache) = cache();
    let repo = RepoUrl::parse(url).unwrap();
    let cases = [
        ("HEAD", &fx.second, "two"),
        ("", &fx.second, "two"),
        ("main", &fx.second, "two"),
        ("refs/heads/main", &fx.second, "two"),
        ("v1", &fx.first, "one"),
        ("feature", &fx.first, "one"),
        (fx.first.as_str(), &fx.first, "one"),
        (&fx.second[..7], &fx.second, "two"),
        ("HEAD~1", &fx.first, "one"),
        ("main^", &fx.first, "one"),
        ("main~0", &fx.second, "two"),
        ("v1^{}", &fx.first, "one"),
        ("origin/main", &fx.second, "two"),
    ];
    for (rev, want, value) in cases {
        let (commit, text) = read_cm(&cache, &repo, rev);
        assert_eq!(&commit, want, "{url} at {rev:?}");
        assert!(text.contains(&format!("value: {value}")), "{rev}: {text}");
    }
    let missing = cache.resolve(&repo, "no-such-branch", None).unwrap_err();
    assert!(matches!(missing, SourceError::NotFound { .. }), "{missing}");
    let info = cache
        .commit_info(
            &repo,
            &sextant_source::CommitId::from_hex(&fx.second).unwrap(),
        )
        .unwrap();
    assert_eq!(info.message, "two");
    assert!(
        info.author.contains('<') && info.seconds.is_some(),
        "{info:?}"
    );
    let too_far = cache.resolve(&repo, "HEAD~2", None).unwrap_err();
    assert!(
        error_chain(&too_far).contains("has no parent number 1"),
        "{}",
        error_chain(&too_far)
    );
}

/// A forge's pull-request ref, which no branch or tag points to, resolves
/// over a server (a local work tree has no such ref).
fn check_pull_ref(url: &str, fx: &Fixture) {
    let (_dir, cache) = cache();
    let repo = RepoUrl::parse(url).unwrap();
    let (commit, _) = read_cm(&cache, &repo, "refs/pull/7/head");
    assert_eq!(commit, fx.first, "{url}");
}

#[test]
fn every_revision_form_resolves_over_a_local_path_and_file_url() {
    let fx = Fixture::new();
    check_revisions(fx.work().to_str().unwrap(), &fx);
    let file_url = format!("file://{}", fx.served().join("repo.git").display());
    check_revisions(&file_url, &fx);
    check_pull_ref(&file_url, &fx);
}

#[test]
fn every_revision_form_resolves_over_git_daemon() {
    let fx = Fixture::new();
    let daemon = GitDaemon::start(&fx.served());
    check_revisions(&daemon.url("repo.git"), &fx);
    check_pull_ref(&daemon.url("repo.git"), &fx);
}

#[test]
fn every_revision_form_resolves_over_smart_http_without_a_token() {
    let fx = Fixture::new();
    let server = HttpGitServer::start(&fx.served(), None);
    check_revisions(&server.url("repo.git"), &fx);
    check_pull_ref(&server.url("repo.git"), &fx);
}

#[test]
fn smart_http_with_a_token_accepts_the_right_one_and_names_the_repo_not_the_token_on_a_wrong_one() {
    let fx = Fixture::new();
    let server = HttpGitServer::start(&fx.served(), Some("right-token-123"));
    let repo = RepoUrl::parse(&server.url("repo.git")).unwrap();
    let (_dir, cache) = cache();

    let good = Credentials::Token(Secret::new("right-token-123"));
    let commit = cache.resolve(&repo, "main", Some(&good)).unwrap();
    assert_eq!(commit.to_string(), fx.second);
    let snapshot = cache.snapshot(&repo, &commit, Some(&good)).unwrap();
    assert!(snapshot.dir().join("app/cm.yaml").is_file());

    let bad = Credentials::Token(Secret::new("wrong-token-456"));
    let err = cache.resolve(&repo, "feature", Some(&bad)).unwrap_err();
    let chain = error_chain(&err);
    assert!(
        matches!(
            err,
            SourceError::Fetch(sextant_source::FetchError::Auth { .. })
        ),
        "{chain}"
    );
    assert!(chain.contains(&server.url("repo.git")), "{chain}");
    assert!(!chain.contains("wrong-token-456"), "{chain}");
    assert!(!format!("{err:?}").contains("wrong-token-456"));

    let none = cache.resolve(&repo, "feature", None).unwrap_err();
    assert!(
        matches!(
            none,
            SourceError::Fetch(sextant_source::FetchError::AuthRequired { .. })
        ),
        "{none}"
    );

    // A token embedded in the URL is used, and never shown.
    let embedded = RepoUrl::parse(&format!(
        "http://x-access-token:right-token-123@127.0.0.1:{}/repo.git",
        server.port
    ))
    .unwrap();
    assert!(!embedded.as_str().contains("right-token-123"));
    assert_eq!(
        cache.resolve(&embedded, "v1", None).unwrap().to_string(),
        fx.first
    );
}

#[test]
fn credentials_are_not_sent_over_plain_http_to_another_host() {
    let (_dir, cache) = cache();
    let repo = RepoUrl::parse("http://git.example.invalid/repo.git").unwrap();
    let creds = Credentials::Token(Secret::new("tok"));
    let err = cache.resolve(&repo, "main", Some(&creds)).unwrap_err();
    assert!(error_chain(&err).contains("plain HTTP"), "{err}");
}

#[test]
fn a_mirrored_full_commit_is_resolved_without_the_remote() {
    let fx = Fixture::new();
    let (_dir, cache) = cache();
    let served = fx.served().join("repo.git");
    let repo = RepoUrl::parse(served.to_str().unwrap()).unwrap();
    let commit = cache.resolve(&repo, "main", None).unwrap();
    std::fs::rename(&served, fx.dir.path().join("gone.git")).unwrap();
    assert_eq!(cache.resolve(&repo, &fx.second, None).unwrap(), commit);
    assert!(
        cache.resolve(&repo, "main", None).is_err(),
        "a branch still asks the remote"
    );
}

#[test]
fn a_new_commit_on_a_branch_is_fetched_into_the_same_mirror() {
    let fx = Fixture::new();
    let (dir, cache) = cache();
    let repo = RepoUrl::parse(fx.work().to_str().unwrap()).unwrap();
    assert_eq!(
        cache.resolve(&repo, "main", None).unwrap().to_string(),
        fx.second
    );
    support::write_files(
        &fx.work(),
        &[("app/cm.yaml", &support::config_map("three"))],
    );
    git(&fx.work(), &["commit", "-q", "-am", "three"]);
    let third = git(&fx.work(), &["rev-parse", "HEAD"]);
    let (commit, text) = read_cm(&cache, &repo, "main");
    assert_eq!(commit, third);
    assert!(text.contains("three"));
    let mirrors = std::fs::read_dir(dir.path().join("repos"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "git")
        })
        .count();
    assert_eq!(mirrors, 1);
}

#[test]
fn concurrent_requests_for_one_repository_share_a_mirror_without_corrupting_it() {
    let fx = Fixture::new();
    let dir = tempfile::tempdir().unwrap();
    let url = fx.work().to_str().unwrap().to_owned();
    let threads: Vec<_> = (0..6)
        .map(|i| {
            let root = dir.path().to_owned();
            let url = url.clone();
            std::thread::spawn(move || {
                let cache = GitCache::open(&root, GitOptions::default()).unwrap();
                let repo = RepoUrl::parse(&url).unwrap();
                let rev = if i % 2 == 0 { "main" } else { "v1" };
                let commit = cache.resolve(&repo, rev, None).unwrap();
                let snapshot = cache.snapshot(&repo, &commit, None).unwrap();
                std::fs::read_to_string(snapshot.dir().join("app/cm.yaml")).unwrap()
            })
        })
        .collect();
    for (i, t) in threads.into_iter().enumerate() {
        let text = t.join().unwrap();
        let want = if i % 2 == 0 { "two" } else { "one" };
        assert!(text.contains(want), "{i}: {text}");
    }
}

#[test]
fn snapshots_beyond_the_limit_are_evicted_least_recently_used_first() {
    let fx = Fixture::new();
    let dir = tempfile::tempdir().unwrap();
    let options = GitOptions {
        max_snapshots: 1,
        ..GitOptions::default()
    };
    let cache = GitCache::open(dir.path(), options).unwrap();
    let repo = RepoUrl::parse(fx.work().to_str().unwrap()).unwrap();
    let first = cache.resolve(&repo, "v1", None).unwrap();
    drop(cache.snapshot(&repo, &first, None).unwrap());
    let second = cache.resolve(&repo, "main", None).unwrap();
    let held = cache.snapshot(&repo, &second, None).unwrap();
    assert!(cache.existing_snapshot(&first).unwrap().is_none());
    assert!(held.dir().join("app/cm.yaml").is_file());
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut next = e.source();
    while let Some(s) = next {
        parts.push(s.to_string());
        next = s.source();
    }
    parts.join(": ")
}

#[test]
fn a_hostile_tree_entry_that_would_escape_the_snapshot_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("evil");
    std::fs::create_dir(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    let blob = support::git_stdin(&repo, &["hash-object", "-w", "--stdin"], "pwned\n");
    for name in ["..", ".git"] {
        let tree = support::git_stdin(&repo, &["mktree"], &format!("100644 blob {blob}\t{name}\n"));
        let commit = git(&repo, &["commit-tree", &tree, "-m", "evil"]);
        git(&repo, &["update-ref", "refs/heads/main", &commit]);
        let (_cache_dir, cache) = cache();
        let url = RepoUrl::parse(repo.to_str().unwrap()).unwrap();
        let commit = cache.resolve(&url, "main", None).unwrap();
        let err = cache.snapshot(&url, &commit, None).unwrap_err();
        let chain = error_chain(&err);
        assert!(
            chain.contains(&format!("contains the unsafe path `{name}`")),
            "{chain}"
        );
    }
    assert!(!dir.path().join("pwned").exists());
}

/// SSH with a key and known hosts of our own (OpenSSH's sshd on a loopback
/// port): the right key fetches; a host not in the known hosts is refused
/// with the line to add and its fingerprint; a wrong key is an
/// authentication failure; no key at all says where to put one; the key
/// never shows in a message.
#[test]
fn ssh_fetches_with_a_key_and_refuses_unknown_hosts_and_wrong_keys() {
    let fx = Fixture::new();
    let server = SshGitServer::start();
    let path = fx.served().join("repo.git");
    let repo = RepoUrl::parse(&server.url(&path)).unwrap();
    assert_eq!(repo.scheme(), sextant_source::Scheme::Ssh);
    let (_dir, cache) = cache();
    let key = server.client_key();
    let good = Credentials::Ssh {
        private_key: Secret::new(key.clone()),
        known_hosts: server.known_hosts(),
    };
    let commit = cache.resolve(&repo, "main", Some(&good)).unwrap();
    assert_eq!(commit.to_string(), fx.second);
    let snapshot = cache.snapshot(&repo, &commit, Some(&good)).unwrap();
    assert!(snapshot.dir().join("app/cm.yaml").is_file());

    let (_dir, fresh) = self::cache();
    let unknown = Credentials::Ssh {
        private_key: Secret::new(key.clone()),
        known_hosts: String::new(),
    };
    let err = fresh.resolve(&repo, "main", Some(&unknown)).unwrap_err();
    let chain = error_chain(&err);
    assert!(
        matches!(
            err,
            SourceError::Fetch(sextant_source::FetchError::UnknownHost { .. })
        ),
        "{chain}"
    );
    let line = server.known_hosts();
    let offered = line.split_whitespace().nth(2).unwrap();
    assert!(
        chain.contains(offered) && chain.contains("SHA256:"),
        "{chain}"
    );
    assert!(chain.contains("sextant-ssh-known-hosts-cm"), "{chain}");

    let other_dir = tempfile::tempdir().unwrap();
    let other_key = other_dir.path().join("k");
    let status = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&other_key)
        .status()
        .unwrap();
    assert!(status.success());
    let wrong_key = std::fs::read_to_string(&other_key).unwrap();
    let wrong = Credentials::Ssh {
        private_key: Secret::new(wrong_key.clone()),
        known_hosts: server.known_hosts(),
    };
    let err = fresh.resolve(&repo, "main", Some(&wrong)).unwrap_err();
    let chain = error_chain(&err);
    assert!(
        matches!(
            err,
            SourceError::Fetch(sextant_source::FetchError::Auth { .. })
        ),
        "{chain}"
    );
    let body = wrong_key.lines().nth(1).unwrap();
    assert!(
        !chain.contains(body) && !format!("{err:?}").contains(body),
        "{chain}"
    );

    let err = fresh.resolve(&repo, "main", None).unwrap_err();
    assert!(
        error_chain(&err).contains("sshPrivateKey"),
        "{}",
        error_chain(&err)
    );
}
