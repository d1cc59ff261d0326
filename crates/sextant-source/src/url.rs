//! Repository URLs: the schemes Sextant fetches over, credentials taken out
//! of the URL, the redacted form used in every message, and the key that
//! names a repository's local mirror.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::credentials::{Credentials, Secret};

/// Errors from reading a repository URL or path.
#[derive(Debug, thiserror::Error)]
pub enum UrlError {
    /// The URL is not one Git understands.
    #[error("repository URL `{0}` could not be parsed")]
    Parse(String),
    /// An SSH URL with a password in it.
    #[error(
        "repository `{0}` has a password in its SSH URL; SSH authenticates with a private key (`sshPrivateKey` in the repository Secret)"
    )]
    SshPassword(String),
    /// A scheme other than file, git, http and https.
    #[error("repository `{url}` uses the unsupported scheme `{scheme}`")]
    Scheme {
        /// The redacted URL.
        url: String,
        /// The scheme found.
        scheme: String,
    },
    /// A local path that does not exist or cannot be read.
    #[error("local repository `{path}` could not be found")]
    LocalPath {
        /// The path as given.
        path: PathBuf,
        /// Why it could not be resolved.
        #[source]
        source: std::io::Error,
    },
}

/// How Sextant talks to a repository.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// A repository on the local file system (`file://` or a path).
    File,
    /// The anonymous `git://` protocol.
    Git,
    /// Smart HTTP.
    Http,
    /// Smart HTTP over TLS.
    Https,
    /// SSH (`ssh://user@host[:port]/path` or `user@host:path`), through
    /// the `ssh` program with a key and known hosts of our own.
    Ssh,
}

/// A repository location without credentials, plus any credentials that
/// were embedded in it.
#[derive(Clone, Debug)]
pub struct RepoUrl {
    url: gix::Url,
    display: String,
    scheme: Scheme,
    embedded: Option<Credentials>,
}

impl RepoUrl {
    /// Parse a URL (`file://`, `git://`, `http://`, `https://`, `ssh://`
    /// or `user@host:path`) or a local path. User info in an HTTP(S) URL
    /// becomes basic-auth credentials and is removed from the URL; an SSH
    /// URL keeps its user (the login name).
    pub fn parse(input: &str) -> Result<Self, UrlError> {
        let Some((scheme, rest)) = input.split_once("://") else {
            if looks_like_scp(input) {
                return Self::ssh(input);
            }
            return Self::local(Path::new(input));
        };
        let scheme_lc = scheme.to_ascii_lowercase();
        let scheme = match scheme_lc.as_str() {
            "file" => {
                let path = &input["file://".len()..];
                return Self::local(Path::new(path));
            }
            "git" => Scheme::Git,
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            "ssh" | "git+ssh" | "ssh+git" => return Self::ssh(&format!("ssh://{rest}")),
            other => {
                return Err(UrlError::Scheme {
                    url: redact(input),
                    scheme: other.to_owned(),
                });
            }
        };
        let mut url =
            gix::Url::from_bytes(input.into()).map_err(|_| UrlError::Parse(redact(input)))?;
        let embedded = match (url.user(), url.password()) {
            (Some(user), Some(password)) => Some(Credentials::Basic {
                username: user.to_owned(),
                password: Secret::new(password),
            }),
            (Some(user), None) if !user.is_empty() => Some(Credentials::Token(Secret::new(user))),
            _ => None,
        };
        url.set_user(None);
        url.set_password(None);
        let display = url.to_bstring().to_string();
        Ok(Self {
            url,
            display,
            scheme,
            embedded,
        })
    }

    fn ssh(input: &str) -> Result<Self, UrlError> {
        let url = gix::Url::from_bytes(input.into()).map_err(|_| UrlError::Parse(redact(input)))?;
        if url.password().is_some() {
            return Err(UrlError::SshPassword(redact(input)));
        }
        Ok(Self {
            display: url.to_bstring().to_string(),
            url,
            scheme: Scheme::Ssh,
            embedded: None,
        })
    }

    fn local(path: &Path) -> Result<Self, UrlError> {
        let canonical = path.canonicalize().map_err(|source| UrlError::LocalPath {
            path: path.to_owned(),
            source,
        })?;
        let unparseable = || UrlError::Parse(canonical.display().to_string());
        let path = gix::path::into_bstr(canonical.as_path())
            .map_err(|_| unparseable())?
            .into_owned();
        let url = gix::Url::from_parts(gix::url::Scheme::File, None, None, None, None, path, false)
            .map_err(|_| unparseable())?;
        Ok(Self {
            display: format!("file://{}", canonical.display()),
            url,
            scheme: Scheme::File,
            embedded: None,
        })
    }

    /// The URL without credentials, as shown in messages.
    pub fn as_str(&self) -> &str {
        &self.display
    }

    /// The scheme.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// Credentials that were embedded in the URL, if any.
    pub fn embedded_credentials(&self) -> Option<&Credentials> {
        self.embedded.as_ref()
    }

    /// The URL handed to gix (never contains credentials).
    pub(crate) fn gix_url(&self) -> &gix::Url {
        &self.url
    }

    /// Whether the server is on this machine (plain-HTTP credentials are
    /// allowed there).
    pub fn is_loopback(&self) -> bool {
        match self.url.host() {
            Some(host) => {
                let host = host.trim_start_matches('[').trim_end_matches(']');
                host.eq_ignore_ascii_case("localhost")
                    || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
            }
            None => self.scheme == Scheme::File,
        }
    }

    /// A file-name-safe key naming this repository's mirror: a readable
    /// tail plus a hash of the whole URL.
    pub fn mirror_key(&self) -> String {
        let digest = Sha256::digest(self.display.as_bytes());
        let hash: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        let tail: String = self
            .display
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or("repo")
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            .take(40)
            .collect();
        let tail = tail.trim_start_matches('.');
        if tail.is_empty() {
            hash
        } else {
            format!("{tail}-{hash}")
        }
    }
}

/// `user@host:path` or `host:path` (no slash before the colon).
fn looks_like_scp(input: &str) -> bool {
    match input.split_once(':') {
        Some((before, _)) => !before.is_empty() && !before.contains('/') && !before.contains('\\'),
        None => false,
    }
}

/// The input with any `user:password@` part replaced, for error messages
/// about URLs that could not be parsed.
pub(crate) fn redact(input: &str) -> String {
    if let Some((scheme, rest)) = input.split_once("://") {
        let authority_end = rest.find('/').unwrap_or(rest.len());
        if let Some(at) = rest[..authority_end].rfind('@') {
            return format!("{scheme}://***@{}", &rest[at + 1..]);
        }
        return input.to_owned();
    }
    match input.split_once('@') {
        Some((_, host)) => format!("***@{host}"),
        None => input.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_an_https_url_are_taken_out_of_it() {
        let url = RepoUrl::parse("https://bob:s3cret@git.example.com/team/app.git").unwrap();
        assert_eq!(url.as_str(), "https://git.example.com/team/app.git");
        assert!(!format!("{url:?}").contains("s3cret"));
        assert_eq!(
            url.embedded_credentials().and_then(|c| c.account()),
            Some(("bob", "s3cret"))
        );
        assert_eq!(url.scheme(), Scheme::Https);
        assert!(url.mirror_key().starts_with("app.git-"));
    }

    #[test]
    fn ssh_urls_in_both_forms_keep_their_user_and_refuse_a_password() {
        for (input, shown) in [
            ("ssh://git@h:2222/r.git", "ssh://git@h:2222/r.git"),
            ("git+ssh://git@h/r.git", "ssh://git@h/r.git"),
            ("git@github.com:org/repo.git", "git@github.com:org/repo.git"),
        ] {
            let url = RepoUrl::parse(input).unwrap();
            assert_eq!(url.scheme(), Scheme::Ssh, "{input}");
            assert_eq!(url.as_str(), shown);
            assert!(url.embedded_credentials().is_none());
        }
        let err = RepoUrl::parse("ssh://git:pw@h/r.git").unwrap_err();
        assert!(matches!(err, UrlError::SshPassword(_)), "{err}");
        assert!(!err.to_string().contains("pw@"), "{err}");
    }

    #[test]
    fn unparseable_urls_do_not_echo_their_password() {
        let err = RepoUrl::parse("ftp://u:pw@h/r").unwrap_err();
        assert!(!err.to_string().contains("pw@"), "{err}");
    }

    #[test]
    fn local_paths_become_file_urls() {
        let dir = tempfile::tempdir().unwrap();
        let url = RepoUrl::parse(dir.path().to_str().unwrap()).unwrap();
        assert_eq!(url.scheme(), Scheme::File);
        assert!(url.as_str().starts_with("file:///"));
        assert!(url.is_loopback());
        let missing = RepoUrl::parse("/definitely/not/here").unwrap_err();
        assert!(matches!(missing, UrlError::LocalPath { .. }));
    }

    #[test]
    fn loopback_hosts_are_recognised() {
        assert!(
            RepoUrl::parse("http://127.0.0.1:8080/r")
                .unwrap()
                .is_loopback()
        );
        assert!(RepoUrl::parse("http://localhost/r").unwrap().is_loopback());
        assert!(
            !RepoUrl::parse("http://example.com/r")
                .unwrap()
                .is_loopback()
        );
    }
}
