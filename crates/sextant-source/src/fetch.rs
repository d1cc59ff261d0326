//! Fetching into a bare mirror with gix: exactly the refspecs asked for,
//! shallow when possible, credentials supplied by us (never by the user's
//! Git configuration), and errors scrubbed of secrets.
//!
//! SSH goes through the `ssh` program, told to use only the key and the
//! known hosts we give it (written to a private temporary folder for the
//! length of the fetch) and nothing of the user's: no agent, no
//! `~/.ssh/config`, no prompts, and a host not in the known hosts refused.

use std::num::NonZeroU32;
use std::sync::atomic::AtomicBool;

use gix::credentials::helper::Action;
use gix::credentials::protocol::Outcome;
use gix::remote::Direction;
use gix::remote::fetch::Shallow;

use crate::credentials::Credentials;
use crate::url::{RepoUrl, Scheme};

mod ssh;

/// Errors from talking to a remote repository. Messages name the
/// repository by its redacted URL and never contain credentials.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The server refused the credentials, or wanted some and got none.
    #[error("authentication to `{repo}` failed (check the token or password)")]
    Auth {
        /// The repository, without credentials.
        repo: String,
        /// What the Git library reported, scrubbed.
        #[source]
        source: GitFailure,
    },
    /// The server wants credentials and none were given.
    #[error("`{repo}` requires authentication and no credentials were given")]
    AuthRequired {
        /// The repository, without credentials.
        repo: String,
        /// What the Git library reported, scrubbed.
        #[source]
        source: GitFailure,
    },
    /// Credentials would travel in clear text.
    #[error(
        "refusing to send credentials to `{repo}` over plain HTTP; use HTTPS or allow insecure HTTP credentials"
    )]
    InsecureCredentials {
        /// The repository, without credentials.
        repo: String,
    },
    /// Connecting or listing the remote's refs failed.
    #[error("could not list the references of `{repo}`")]
    ListRefs {
        /// The repository, without credentials.
        repo: String,
        /// What the Git library reported, scrubbed.
        #[source]
        source: GitFailure,
    },
    /// An SSH repository, and no key for it.
    #[error(
        "`{repo}` is reached over SSH and no private key is saved for it: add `sshPrivateKey` to its repository Secret"
    )]
    SshKeyRequired {
        /// The repository.
        repo: String,
    },
    /// The SSH server's host key is not among the known hosts.
    #[error(
        "the SSH host key of `{repo}` is not known, so the server is not trusted{found}; if it is the server's, add the line to the `ssh_known_hosts` key of ConfigMap sextant-ssh-known-hosts-cm (or argocd-ssh-known-hosts-cm)"
    )]
    UnknownHost {
        /// The repository.
        repo: String,
        /// What the server offers (`: it offers KEY-LINE (FINGERPRINT)`), when it could be read.
        found: String,
    },
    /// The SSH key or its files could not be prepared.
    #[error("could not prepare the SSH key for `{repo}`: {why}")]
    SshSetup {
        /// The repository.
        repo: String,
        /// What failed.
        why: String,
    },
    /// Receiving objects failed.
    #[error("could not fetch from `{repo}`")]
    Fetch {
        /// The repository, without credentials.
        repo: String,
        /// What the Git library reported, scrubbed.
        #[source]
        source: GitFailure,
    },
}

/// A message from the Git library with every secret removed. It keeps the
/// text of the library's error chain, not the error values, so nothing
/// unscrubbed can be reached through `source()`.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct GitFailure(String);

impl GitFailure {
    fn new(error: &(dyn std::error::Error + 'static), creds: Option<&Credentials>) -> Self {
        let mut parts: Vec<String> = Vec::new();
        let mut next = Some(error);
        while let Some(e) = next {
            let text = e.to_string();
            if parts.last() != Some(&text) && !text.is_empty() {
                parts.push(text);
            }
            next = e.source();
        }
        let joined = parts.join(": ");
        Self(match creds {
            Some(c) => c.scrub(&joined),
            None => joined,
        })
    }
}

/// How much history to fetch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Depth {
    /// Only the wanted commits (`--depth 1`).
    Shallow,
    /// Full history (deepening a shallow mirror).
    Full,
}

/// What a fetch did.
pub(crate) struct Fetched {
    /// How many refspecs matched a ref (or object) on the remote.
    pub matched: usize,
}

/// Settings that apply to every fetch.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct FetchPolicy {
    /// Allow credentials over `http://` to hosts other than loopback.
    pub insecure_http_credentials: bool,
}

/// Fetch `refspecs` (`src:dst` pairs) from `url` into `repo`.
pub(crate) fn fetch(
    repo: &gix::Repository,
    url: &RepoUrl,
    refspecs: &[(String, String)],
    depth: Depth,
    creds: Option<&Credentials>,
    policy: FetchPolicy,
) -> Result<Fetched, FetchError> {
    let name = url.as_str().to_owned();
    // SSH: the repository handle this fetch uses carries the ssh command.
    let ssh_repo;
    let mut ssh_files = None;
    let repo = if url.scheme() == Scheme::Ssh {
        let (configured, files) = ssh::prepare(repo, url, creds)?;
        ssh_repo = configured;
        ssh_files = Some(files);
        &ssh_repo
    } else {
        repo
    };
    let ssh_creds = creds.filter(|_| url.scheme() == Scheme::Ssh);
    let creds = creds
        .filter(|c| matches!(url.scheme(), Scheme::Http | Scheme::Https) && c.account().is_some());
    if creds.is_some()
        && url.scheme() == Scheme::Http
        && !url.is_loopback()
        && !policy.insecure_http_credentials
    {
        return Err(FetchError::InsecureCredentials { repo: name });
    }
    let list_err = |e: &(dyn std::error::Error + 'static)| {
        ssh::classify(e, url, ssh_creds, ssh_files.as_ref())
            .unwrap_or_else(|| classify(e, &name, creds.or(ssh_creds), false))
    };
    let specs: Vec<String> = refspecs
        .iter()
        .map(|(src, dst)| format!("+{src}:{dst}"))
        .collect();
    let remote = repo
        .remote_at(url.gix_url().clone())
        .map_err(|e| list_err(&e))?
        .with_fetch_tags(gix::remote::fetch::Tags::None)
        .with_refspecs(specs.iter().map(String::as_str), Direction::Fetch)
        .map_err(|e| list_err(&e))?;
    let owned = creds.cloned();
    let connection = remote
        .connect(Direction::Fetch)
        .map_err(|e| list_err(&e))?
        .with_credentials(move |action| match (action, owned.as_ref()) {
            (Action::Get(ctx), Some(c)) => {
                let Some((username, password)) = c.account() else {
                    return Ok(None);
                };
                Ok(Some(Outcome {
                    identity: gix::sec::identity::Account {
                        username: username.to_owned(),
                        password: password.to_owned(),
                        oauth_refresh_token: None,
                    },
                    next: ctx.into(),
                }))
            }
            _ => Ok(None),
        });
    let prepare = connection
        .prepare_fetch(gix::progress::Discard, Default::default())
        .map_err(|e| list_err(&e))?;
    let matched = prepare.ref_map().mappings.len();
    if matched == 0 {
        return Ok(Fetched { matched });
    }
    let shallow = match depth {
        Depth::Shallow => Shallow::DepthAtRemote(NonZeroU32::MIN),
        Depth::Full if repo.is_shallow().unwrap_or(true) => Shallow::undo(),
        Depth::Full => Shallow::NoChange,
    };
    prepare
        .with_shallow(shallow)
        .receive(gix::progress::Discard, &AtomicBool::new(false))
        .map_err(|e| {
            ssh::classify(&e, url, ssh_creds, ssh_files.as_ref())
                .unwrap_or_else(|| classify(&e, &name, creds.or(ssh_creds), true))
        })?;
    Ok(Fetched { matched })
}

fn classify(
    error: &(dyn std::error::Error + 'static),
    repo: &str,
    creds: Option<&Credentials>,
    receiving: bool,
) -> FetchError {
    let auth = error
        .downcast_ref::<gix::Error>()
        .is_some_and(|e| e.is_unauthenticated() || e.is_permission_denied());
    let source = GitFailure::new(error, creds);
    let repo = repo.to_owned();
    if auth && creds.is_none() {
        FetchError::AuthRequired { repo, source }
    } else if auth {
        FetchError::Auth { repo, source }
    } else if receiving {
        FetchError::Fetch { repo, source }
    } else {
        FetchError::ListRefs { repo, source }
    }
}
