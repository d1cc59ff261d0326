//! Sextant's Git layer: fetch revisions of a repository into a local
//! mirror and hand out read-only snapshots keyed by commit.
//!
//! Everything goes through gix: `file://`, `git://` and smart HTTP(S) with
//! token or basic auth. One bare mirror per repository URL; fetches are as
//! small as the revision allows (one ref, depth 1); a full commit already
//! mirrored costs no network at all. Credentials never appear in messages.
//!
//! ```no_run
//! use sextant_source::{GitCache, GitOptions, RepoUrl};
//! let cache = GitCache::open("/var/cache/sextant/git", GitOptions::default())?;
//! let repo = RepoUrl::parse("https://git.example.com/team/deploy.git")?;
//! let commit = cache.resolve(&repo, "main", None)?;
//! let snapshot = cache.snapshot(&repo, &commit, None)?;
//! println!("{} at {}", commit, snapshot.dir().display());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod cache;
mod checkout;
mod credentials;
mod fetch;
mod revision;
mod url;

use std::fmt;

pub use cache::{CommitInfo, GitCache, GitOptions, Snapshot, SourceError};
pub use checkout::CheckoutError;
pub use credentials::{Credentials, Secret};
pub use fetch::{FetchError, GitFailure};
pub use revision::{Revision, RevisionError, split_ancestry};
pub use url::{RepoUrl, Scheme, UrlError};

/// A commit id (40 lowercase hex digits when printed).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CommitId(gix::ObjectId);

impl CommitId {
    /// Parse a full hex commit id.
    pub fn from_hex(hex: &str) -> Option<Self> {
        (hex.len() == 40)
            .then(|| gix::ObjectId::from_hex(hex.as_bytes()).ok())
            .flatten()
            .map(Self)
    }
}

impl fmt::Display for CommitId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
