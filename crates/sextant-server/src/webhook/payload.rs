//! Git push webhooks as GitHub, GitLab, Gitea/Forgejo and Bitbucket (Cloud
//! and Server) send them: which provider, whether the request is signed
//! with the shared secret, and what was pushed (repository URLs, the ref,
//! the default branch, the files touched). Pure: no IO.

use hmac::{Hmac, Mac};
use http::HeaderMap;
use serde_json::Value;
use sha2::Sha256;

/// Who sent the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    GitHub,
    GitLab,
    Gitea,
    BitbucketCloud,
    BitbucketServer,
}

impl Provider {
    /// From the request's headers; `None` when no known provider's event
    /// header is there.
    pub fn detect(headers: &HeaderMap) -> Option<Self> {
        let has = |h: &str| headers.contains_key(h);
        if has("x-gitea-event") || has("x-forgejo-event") || has("x-gogs-event") {
            Some(Provider::Gitea)
        } else if has("x-github-event") {
            Some(Provider::GitHub)
        } else if has("x-gitlab-event") {
            Some(Provider::GitLab)
        } else if let Some(key) = header(headers, "x-event-key") {
            if key.starts_with("repo:refs_changed") || key.starts_with("pr:") && has("x-request-id")
            {
                Some(Provider::BitbucketServer)
            } else {
                Some(Provider::BitbucketCloud)
            }
        } else {
            None
        }
    }

    /// The provider's name in messages and secret keys.
    pub fn name(self) -> &'static str {
        match self {
            Provider::GitHub => "github",
            Provider::GitLab => "gitlab",
            Provider::Gitea => "gitea",
            Provider::BitbucketCloud => "bitbucket",
            Provider::BitbucketServer => "bitbucketserver",
        }
    }

    /// Whether the request is a push (other events are answered and
    /// ignored).
    pub fn is_push(self, headers: &HeaderMap) -> bool {
        let event = match self {
            Provider::GitHub => header(headers, "x-github-event"),
            Provider::GitLab => header(headers, "x-gitlab-event"),
            Provider::Gitea => header(headers, "x-gitea-event")
                .or_else(|| header(headers, "x-forgejo-event"))
                .or_else(|| header(headers, "x-gogs-event")),
            Provider::BitbucketCloud | Provider::BitbucketServer => header(headers, "x-event-key"),
        };
        matches!(
            event.as_deref(),
            Some("push" | "Push Hook" | "Tag Push Hook" | "repo:push" | "repo:refs_changed")
        )
    }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_owned())
}

/// Check the request against the provider's shared secret. `Ok` when it
/// matches (or no secret is configured); `Err` says why not.
pub fn verify(
    provider: Provider,
    headers: &HeaderMap,
    body: &[u8],
    secret: Option<&str>,
) -> Result<(), String> {
    let Some(secret) = secret.filter(|s| !s.is_empty()) else {
        return Ok(());
    };
    match provider {
        Provider::GitHub | Provider::Gitea | Provider::BitbucketServer => {
            let (name, prefix) = match provider {
                Provider::GitHub => ("X-Hub-Signature-256", "sha256="),
                Provider::Gitea => ("X-Gitea-Signature", ""),
                _ => ("X-Hub-Signature", "sha256="),
            };
            let given = header(headers, &name.to_ascii_lowercase())
                .or_else(|| {
                    (provider == Provider::Gitea)
                        .then(|| header(headers, "x-forgejo-signature"))
                        .flatten()
                })
                .ok_or_else(|| {
                    format!(
                        "the request has no {name} header, and a {} secret is set",
                        provider.name()
                    )
                })?;
            let hex = given.strip_prefix(prefix).unwrap_or(&given);
            let sig = decode_hex(hex).ok_or_else(|| format!("{name} is not a hex signature"))?;
            let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
                .map_err(|e| format!("the {} secret cannot key HMAC: {e}", provider.name()))?;
            mac.update(body);
            // Constant time.
            mac.verify_slice(&sig).map_err(|_| {
                format!(
                    "{name} does not match the body signed with the {} secret",
                    provider.name()
                )
            })
        }
        Provider::GitLab => {
            let given = header(headers, "x-gitlab-token")
                .ok_or("the request has no X-Gitlab-Token header, and a gitlab secret is set")?;
            if constant_time_eq(given.as_bytes(), secret.as_bytes()) {
                Ok(())
            } else {
                Err("X-Gitlab-Token is not the gitlab secret".into())
            }
        }
        Provider::BitbucketCloud => {
            let given = header(headers, "x-hook-uuid")
                .ok_or("the request has no X-Hook-UUID header, and a bitbucket uuid is set")?;
            if constant_time_eq(given.as_bytes(), secret.as_bytes()) {
                Ok(())
            } else {
                Err("X-Hook-UUID is not the bitbucket uuid".into())
            }
        }
    }
}

/// Equal bytes, in a time that depends on the lengths only.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// What a push says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Push {
    /// Every URL the repository is known by (web, HTTPS, SSH).
    pub urls: Vec<String>,
    /// The refs pushed (`refs/heads/main`, `refs/tags/v1`).
    pub refs: Vec<String>,
    /// The repository's default branch, when the payload says.
    pub default_branch: Option<String>,
    /// The files the pushed commits touched, when the payload lists them
    /// (`None`: unknown, so every app of the repository counts).
    pub changed: Option<Vec<String>>,
}

/// Read a push payload.
pub fn parse(provider: Provider, body: &[u8]) -> Result<Push, String> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    let s = |p: &str| v.pointer(p).and_then(Value::as_str).map(str::to_owned);
    let mut push = Push::default();
    match provider {
        Provider::GitHub | Provider::Gitea => {
            for p in [
                "/repository/html_url",
                "/repository/clone_url",
                "/repository/ssh_url",
                "/repository/git_url",
            ] {
                push.urls.extend(s(p));
            }
            push.refs.extend(s("/ref"));
            push.default_branch = s("/repository/default_branch");
            push.changed = changed_files(&v);
        }
        Provider::GitLab => {
            for p in [
                "/project/web_url",
                "/project/git_http_url",
                "/project/git_ssh_url",
                "/repository/homepage",
            ] {
                push.urls.extend(s(p));
            }
            push.refs.extend(s("/ref"));
            push.default_branch = s("/project/default_branch");
            push.changed = changed_files(&v);
        }
        Provider::BitbucketCloud => {
            push.urls.extend(s("/repository/links/html/href"));
            if let Some(full) = s("/repository/full_name") {
                push.urls.push(format!("https://bitbucket.org/{full}"));
            }
            for change in v
                .pointer("/push/changes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let new = &change["new"];
                if let Some(name) = new["name"].as_str() {
                    let kind = if new["type"] == "tag" {
                        "tags"
                    } else {
                        "heads"
                    };
                    push.refs.push(format!("refs/{kind}/{name}"));
                }
            }
        }
        Provider::BitbucketServer => {
            for link in v
                .pointer("/repository/links/clone")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                push.urls.extend(link["href"].as_str().map(str::to_owned));
            }
            for change in v
                .pointer("/changes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                push.refs.extend(
                    change
                        .pointer("/ref/id")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                );
            }
        }
    }
    if push.urls.is_empty() {
        return Err(format!(
            "the {} push names no repository URL",
            provider.name()
        ));
    }
    Ok(push)
}

/// The files added, modified or removed by a push's commits (GitHub,
/// GitLab, Gitea all list them per commit).
fn changed_files(v: &Value) -> Option<Vec<String>> {
    let commits = v.get("commits")?.as_array()?;
    let mut out = Vec::new();
    for c in commits {
        for key in ["added", "modified", "removed"] {
            for f in c.get(key).and_then(Value::as_array).into_iter().flatten() {
                if let Some(f) = f.as_str() {
                    out.push(f.to_owned());
                }
            }
        }
    }
    // A push that lists no commits (a new branch, a force push) says
    // nothing about files.
    (!commits.is_empty()).then_some(out)
}

/// A repository URL reduced to host and path, so the HTTPS, SSH and web
/// forms of one repository compare equal: `git@github.com:acme/gitops.git`
/// and `https://github.com/Acme/gitops` are both `github.com/acme/gitops`.
pub fn repo_key(url: &str) -> String {
    let mut u = url.trim().to_lowercase();
    for scheme in [
        "https://",
        "http://",
        "ssh://",
        "git://",
        "git+ssh://",
        "file://",
    ] {
        if let Some(rest) = u.strip_prefix(scheme) {
            u = rest.to_owned();
            break;
        }
    }
    // user@host
    if let Some((user, rest)) = u.split_once('@')
        && !user.contains('/')
    {
        u = rest.to_owned();
    }
    // scp-like host:path, or host:port/path
    if let Some((host, rest)) = u.split_once(':')
        && !host.contains('/')
    {
        let rest = rest.trim_start_matches(|c: char| c.is_ascii_digit());
        u = format!("{host}/{}", rest.trim_start_matches('/'));
    }
    u.trim_end_matches('/').trim_end_matches(".git").to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                *k,
                HeaderValue::from_str(v).unwrap_or(HeaderValue::from_static("")),
            );
        }
        h
    }

    fn sign(secret: &str, body: &[u8]) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!());
        mac.update(body);
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    #[test]
    fn repo_keys_of_one_repository_agree() {
        for url in [
            "https://github.com/Acme/gitops.git",
            "https://github.com/acme/gitops",
            "git@github.com:acme/gitops.git",
            "ssh://git@github.com/acme/gitops.git",
            "ssh://git@github.com:22/acme/gitops.git",
            "https://github.com/acme/gitops/",
        ] {
            assert_eq!(repo_key(url), "github.com/acme/gitops", "{url}");
        }
        assert_ne!(
            repo_key("https://github.com/acme/other"),
            "github.com/acme/gitops"
        );
    }

    #[test]
    fn providers_and_push_events_are_told_apart() {
        let gh = headers(&[("x-github-event", "push")]);
        assert_eq!(Provider::detect(&gh), Some(Provider::GitHub));
        assert!(Provider::GitHub.is_push(&gh));
        assert!(!Provider::GitHub.is_push(&headers(&[("x-github-event", "ping")])));
        assert_eq!(
            Provider::detect(&headers(&[("x-gitlab-event", "Push Hook")])),
            Some(Provider::GitLab)
        );
        assert_eq!(
            Provider::detect(&headers(&[
                ("x-github-event", "push"),
                ("x-gitea-event", "push")
            ])),
            Some(Provider::Gitea)
        );
        assert_eq!(
            Provider::detect(&headers(&[("x-event-key", "repo:push")])),
            Some(Provider::BitbucketCloud)
        );
        assert_eq!(
            Provider::detect(&headers(&[("x-event-key", "repo:refs_changed")])),
            Some(Provider::BitbucketServer)
        );
        assert_eq!(Provider::detect(&headers(&[])), None);
    }

    #[test]
    fn signatures_table() {
        let body = br#"{"ref":"refs/heads/main"}"#;
        let good = format!("sha256={}", sign("s3cret", body));
        let bad = format!("sha256={}", sign("other", body));
        for (provider, h, secret, ok) in [
            (
                Provider::GitHub,
                headers(&[("x-hub-signature-256", &good)]),
                Some("s3cret"),
                true,
            ),
            (
                Provider::GitHub,
                headers(&[("x-hub-signature-256", &bad)]),
                Some("s3cret"),
                false,
            ),
            (Provider::GitHub, headers(&[]), Some("s3cret"), false),
            (
                Provider::GitHub,
                headers(&[("x-hub-signature-256", "sha256=zz")]),
                Some("s3cret"),
                false,
            ),
            (Provider::GitHub, headers(&[]), None, true),
            (
                Provider::Gitea,
                headers(&[("x-gitea-signature", &sign("s3cret", body))]),
                Some("s3cret"),
                true,
            ),
            (
                Provider::BitbucketServer,
                headers(&[("x-hub-signature", &good)]),
                Some("s3cret"),
                true,
            ),
            (
                Provider::GitLab,
                headers(&[("x-gitlab-token", "s3cret")]),
                Some("s3cret"),
                true,
            ),
            (
                Provider::GitLab,
                headers(&[("x-gitlab-token", "s3cre")]),
                Some("s3cret"),
                false,
            ),
            (
                Provider::BitbucketCloud,
                headers(&[("x-hook-uuid", "{u-1}")]),
                Some("{u-1}"),
                true,
            ),
            (
                Provider::BitbucketCloud,
                headers(&[("x-hook-uuid", "{u-2}")]),
                Some("{u-1}"),
                false,
            ),
        ] {
            assert_eq!(
                verify(provider, &h, body, secret).is_ok(),
                ok,
                "{provider:?} {h:?} {secret:?}"
            );
        }
    }

    #[test]
    fn payloads_table() {
        let github = br#"{"ref":"refs/heads/main","repository":{"html_url":"https://github.com/acme/gitops","clone_url":"https://github.com/acme/gitops.git","ssh_url":"git@github.com:acme/gitops.git","default_branch":"main"},
            "commits":[{"added":["apps/web/a.yaml"],"modified":["apps/api/b.yaml"],"removed":[]}]}"#;
        let p = parse(Provider::GitHub, github).unwrap_or_default();
        assert_eq!(p.refs, ["refs/heads/main"]);
        assert_eq!(p.default_branch.as_deref(), Some("main"));
        assert_eq!(
            p.changed,
            Some(vec![
                "apps/web/a.yaml".to_owned(),
                "apps/api/b.yaml".to_owned()
            ])
        );
        assert_eq!(p.urls.len(), 3);

        let gitlab = br#"{"ref":"refs/heads/dev","project":{"web_url":"https://gitlab.example/acme/gitops","git_ssh_url":"git@gitlab.example:acme/gitops.git","default_branch":"main"},"commits":[]}"#;
        let p = parse(Provider::GitLab, gitlab).unwrap_or_default();
        assert_eq!(p.refs, ["refs/heads/dev"]);
        assert_eq!(p.changed, None, "no commits listed: unknown files");

        let cloud = br#"{"repository":{"full_name":"acme/gitops","links":{"html":{"href":"https://bitbucket.org/acme/gitops"}}},"push":{"changes":[{"new":{"type":"branch","name":"main"}},{"new":{"type":"tag","name":"v1"}}]}}"#;
        let p = parse(Provider::BitbucketCloud, cloud).unwrap_or_default();
        assert_eq!(p.refs, ["refs/heads/main", "refs/tags/v1"]);

        let server = br#"{"repository":{"links":{"clone":[{"href":"ssh://git@bb.example:7999/acme/gitops.git"},{"href":"https://bb.example/scm/acme/gitops.git"}]}},"changes":[{"ref":{"id":"refs/heads/main"}}]}"#;
        let p = parse(Provider::BitbucketServer, server).unwrap_or_default();
        assert_eq!(p.refs, ["refs/heads/main"]);
        assert_eq!(repo_key(&p.urls[0]), "bb.example/acme/gitops");

        assert!(
            parse(Provider::GitHub, b"not json")
                .unwrap_err()
                .contains("not JSON")
        );
        assert!(
            parse(Provider::GitHub, b"{}")
                .unwrap_err()
                .contains("no repository URL")
        );
    }
}
