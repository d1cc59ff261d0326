//! The Git cache: one bare mirror per repository URL, revision resolution
//! with the least fetching that answers it, and read-only snapshots of
//! commits on disk, bounded in number and guarded by file locks so that
//! threads and processes can share one cache directory.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use gix::ObjectId;

use crate::credentials::Credentials;
use crate::fetch::{self, Depth, FetchError, FetchPolicy};
use crate::revision::{self, Revision, RevisionError};
use crate::url::RepoUrl;
use crate::{CheckoutError, CommitId};

/// Errors from the Git layer, each naming the repository (without
/// credentials) and the step that failed.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The cache directory could not be prepared or locked.
    #[error("could not use the Git cache at `{path}`")]
    Cache {
        /// The file or directory.
        path: PathBuf,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
    /// The local mirror could not be created or opened.
    #[error("could not open the local mirror of `{repo}`")]
    Mirror {
        /// The repository.
        repo: String,
        /// The library's message.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Talking to the remote failed.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The revision is malformed or names no commit.
    #[error("could not resolve revision `{revision}` of `{repo}`")]
    Revision {
        /// The repository.
        repo: String,
        /// The revision as given.
        revision: String,
        /// Why.
        #[source]
        source: RevisionError,
    },
    /// No branch, tag or commit of that name exists.
    #[error("revision `{revision}` was not found in `{repo}`")]
    NotFound {
        /// The repository.
        repo: String,
        /// The revision as given.
        revision: String,
    },
    /// Writing the snapshot failed.
    #[error("could not check out {commit} of `{repo}`")]
    Checkout {
        /// The repository.
        repo: String,
        /// The commit.
        commit: String,
        /// Why.
        #[source]
        source: CheckoutError,
    },
}

/// Settings of a [`GitCache`].
#[derive(Clone, Debug)]
pub struct GitOptions {
    /// Allow credentials over `http://` to hosts other than loopback.
    pub insecure_http_credentials: bool,
    /// How long a branch, tag or `HEAD` resolution is reused without asking
    /// the remote again (zero: always ask).
    pub revision_ttl: Duration,
    /// How many commit snapshots to keep on disk.
    pub max_snapshots: usize,
    /// The largest snapshot, in bytes of file content.
    pub max_snapshot_bytes: u64,
}

impl Default for GitOptions {
    fn default() -> Self {
        Self {
            insecure_http_credentials: false,
            revision_ttl: Duration::ZERO,
            max_snapshots: 32,
            max_snapshot_bytes: 1 << 30,
        }
    }
}

/// What a commit says of itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitInfo {
    /// The whole message.
    pub message: String,
    /// `Name <email>`.
    pub author: String,
    /// When it was authored (Unix seconds).
    pub seconds: Option<i64>,
}

/// A commit checked out on disk. The directory stays until the snapshot is
/// dropped (a shared lock keeps eviction away).
#[derive(Debug)]
pub struct Snapshot {
    dir: PathBuf,
    commit: CommitId,
    _lock: File,
}

impl Snapshot {
    /// The root of the checked-out tree.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The commit it holds.
    pub fn commit(&self) -> &CommitId {
        &self.commit
    }
}

/// Mirrors and snapshots under one directory:
/// `repos/<key>.git` (bare mirrors), `snapshots/<commit>` (trees).
#[derive(Debug)]
pub struct GitCache {
    root: PathBuf,
    options: GitOptions,
    resolved: Mutex<HashMap<(String, String), (ObjectId, Instant)>>,
}

const FULL_FETCH: [(&str, &str); 2] = [
    ("refs/heads/*", "refs/heads/*"),
    ("refs/tags/*", "refs/tags/*"),
];

impl GitCache {
    /// Use (and create) the cache directory `root`.
    pub fn open(root: impl Into<PathBuf>, options: GitOptions) -> Result<Self, SourceError> {
        let root = root.into();
        for sub in ["repos", "snapshots"] {
            let dir = root.join(sub);
            std::fs::create_dir_all(&dir)
                .map_err(|source| SourceError::Cache { path: dir, source })?;
        }
        // reqwest (through gix) needs a process-wide TLS provider; ours is
        // ring, like the rest of the workspace. Installing twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        Ok(Self {
            root,
            options,
            resolved: Mutex::new(HashMap::new()),
        })
    }

    /// Resolve `revision` of `repo` to a commit, fetching only what is
    /// needed: nothing for a full commit already mirrored, the one ref
    /// (shallow) for a branch, tag or `HEAD`, full history only for a short
    /// commit or a commit no ref points to.
    pub fn resolve(
        &self,
        repo: &RepoUrl,
        revision: &str,
        creds: Option<&Credentials>,
    ) -> Result<CommitId, SourceError> {
        let creds = creds.or(repo.embedded_credentials());
        let rev_err = |source| SourceError::Revision {
            repo: repo.as_str().to_owned(),
            revision: revision.to_owned(),
            source,
        };
        let (base, steps) = revision::split_ancestry(revision).map_err(rev_err)?;
        if base != revision.trim() {
            let start = self.resolve(repo, base, creds)?;
            return self.ancestor(repo, start.0, &steps, revision, creds);
        }
        let rev = Revision::parse(revision).map_err(rev_err)?;
        let ttl_key = (repo.mirror_key(), revision.to_owned());
        if !matches!(rev, Revision::Commit(_))
            && !self.options.revision_ttl.is_zero()
            && let Some(id) = self.fresh_resolution(&ttl_key)
        {
            return Ok(CommitId(id));
        }
        let (mirror, _lock) = self.lock_mirror(repo)?;
        let found = match &rev {
            Revision::Commit(id) => self.ensure_commit(&mirror, repo, *id, creds)?,
            _ => self.resolve_ref(&mirror, repo, &rev, revision, creds)?,
        };
        let Some(id) = found else {
            return Err(SourceError::NotFound {
                repo: repo.as_str().to_owned(),
                revision: revision.to_owned(),
            });
        };
        if !matches!(rev, Revision::Commit(_))
            && let Ok(mut map) = self.resolved.lock()
        {
            map.insert(ttl_key, (id, Instant::now()));
        }
        Ok(CommitId(id))
    }

    /// The commit `steps` parents away from `start`: from the mirror when
    /// it has them, else after fetching full history (a shallow fetch of
    /// the branch stopped at its tip).
    fn ancestor(
        &self,
        repo: &RepoUrl,
        start: ObjectId,
        steps: &[usize],
        revision: &str,
        creds: Option<&Credentials>,
    ) -> Result<CommitId, SourceError> {
        let rev_err = |source| SourceError::Revision {
            repo: repo.as_str().to_owned(),
            revision: revision.to_owned(),
            source,
        };
        let (mirror, _lock) = self.lock_mirror(repo)?;
        if let Some(id) =
            revision::walk_ancestry(&mirror, start, steps, revision).map_err(rev_err)?
        {
            return Ok(CommitId(id));
        }
        self.fetch(&mirror, repo, &owned(&FULL_FETCH), Depth::Full, creds)?;
        let mirror = reopen(&mirror, repo)?;
        revision::walk_ancestry(&mirror, start, steps, revision)
            .map_err(rev_err)?
            .map(CommitId)
            .ok_or_else(|| SourceError::NotFound {
                repo: repo.as_str().to_owned(),
                revision: revision.to_owned(),
            })
    }

    /// What a commit already in the mirror says of itself (no Git
    /// traffic): `None` when the mirror does not have it.
    pub fn commit_info(&self, repo: &RepoUrl, commit: &CommitId) -> Option<CommitInfo> {
        let (mirror, _lock) = self.lock_mirror(repo).ok()?;
        let object = mirror.find_object(commit.0).ok()?;
        let c = object.try_into_commit().ok()?;
        let message = c.message_raw().ok()?.to_string();
        let author = c.author().ok()?;
        let seconds = author.time().ok().map(|t| t.seconds);
        Some(CommitInfo {
            message: message.trim_end().to_owned(),
            author: format!("{} <{}>", author.name, author.email),
            seconds,
        })
    }

    /// The snapshot of `commit` if one is already on disk (no Git work).
    pub fn existing_snapshot(&self, commit: &CommitId) -> Result<Option<Snapshot>, SourceError> {
        let dir = self.snapshot_dir(commit);
        let lock = self.open_lock(&self.snapshot_lock(commit))?;
        lock.lock_shared()
            .map_err(|source| self.cache_err(&dir, source))?;
        Ok(dir.is_dir().then(|| {
            touch(&lock);
            Snapshot {
                dir,
                commit: commit.clone(),
                _lock: lock,
            }
        }))
    }

    /// A snapshot of `commit` of `repo`, written on first use.
    pub fn snapshot(
        &self,
        repo: &RepoUrl,
        commit: &CommitId,
        creds: Option<&Credentials>,
    ) -> Result<Snapshot, SourceError> {
        if let Some(snapshot) = self.existing_snapshot(commit)? {
            return Ok(snapshot);
        }
        let creds = creds.or(repo.embedded_credentials());
        let dir = self.snapshot_dir(commit);
        {
            let lock = self.open_lock(&self.snapshot_lock(commit))?;
            lock.lock().map_err(|source| self.cache_err(&dir, source))?;
            if !dir.is_dir() {
                let (mirror, _mirror_lock) = self.lock_mirror(repo)?;
                if self
                    .ensure_commit(&mirror, repo, commit.0, creds)?
                    .is_none()
                {
                    return Err(SourceError::NotFound {
                        repo: repo.as_str().to_owned(),
                        revision: commit.to_string(),
                    });
                }
                self.write_snapshot(&mirror, repo, commit, &dir)?;
            }
        }
        self.evict_snapshots(commit);
        self.existing_snapshot(commit)?
            .ok_or_else(|| SourceError::NotFound {
                repo: repo.as_str().to_owned(),
                revision: commit.to_string(),
            })
    }

    fn write_snapshot(
        &self,
        mirror: &gix::Repository,
        repo: &RepoUrl,
        commit: &CommitId,
        dir: &Path,
    ) -> Result<(), SourceError> {
        let parent = self.root.join("snapshots");
        let tmp = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempdir_in(&parent)
            .map_err(|source| self.cache_err(&parent, source))?;
        crate::checkout::write_tree(
            mirror,
            commit.0,
            tmp.path(),
            self.options.max_snapshot_bytes,
        )
        .map_err(|source| SourceError::Checkout {
            repo: repo.as_str().to_owned(),
            commit: commit.to_string(),
            source,
        })?;
        let tmp = tmp.keep();
        std::fs::rename(&tmp, dir).map_err(|source| {
            let _ = std::fs::remove_dir_all(&tmp);
            self.cache_err(dir, source)
        })
    }

    /// Remove the least recently used snapshots beyond the limit, skipping
    /// any in use and the one just written.
    fn evict_snapshots(&self, keep: &CommitId) {
        let parent = self.root.join("snapshots");
        let Ok(entries) = std::fs::read_dir(&parent) else {
            return;
        };
        let mut dirs: Vec<(SystemTime, String)> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name().to_str()?.to_owned();
                let is_commit = name.len() == 40 && name.bytes().all(|b| b.is_ascii_hexdigit());
                (is_commit && name != keep.to_string()).then_some(name)
            })
            .map(|name| {
                let used = std::fs::metadata(parent.join(format!("{name}.lock")))
                    .and_then(|m| m.modified())
                    .unwrap_or(SystemTime::UNIX_EPOCH);
                (used, name)
            })
            .collect();
        let max = self.options.max_snapshots.max(1) - 1;
        if dirs.len() <= max {
            return;
        }
        dirs.sort();
        let excess = dirs.len() - max;
        for (_, name) in dirs.into_iter().take(excess) {
            let lock_path = parent.join(format!("{name}.lock"));
            let Ok(lock) = self.open_lock(&lock_path) else {
                continue;
            };
            if lock.try_lock().is_ok() {
                let _ = std::fs::remove_dir_all(parent.join(&name));
                let _ = std::fs::remove_file(&lock_path);
            }
        }
    }

    /// Make sure the mirror has commit `id`, fetching it (or everything) if
    /// not. `None` when the remote does not have it either.
    fn ensure_commit(
        &self,
        mirror: &gix::Repository,
        repo: &RepoUrl,
        id: ObjectId,
        creds: Option<&Credentials>,
    ) -> Result<Option<ObjectId>, SourceError> {
        if revision::has_commit(mirror, id) {
            return Ok(Some(id));
        }
        let hex = id.to_string();
        let direct = [(hex.clone(), format!("refs/sextant/commits/{hex}"))];
        // Servers that do not allow fetching unadvertised commits refuse
        // this; full history is the fallback.
        let direct_ok = self.fetch(mirror, repo, &direct, Depth::Shallow, creds);
        let mirror = reopen(mirror, repo)?;
        if direct_ok.is_ok() && revision::has_commit(&mirror, id) {
            return Ok(Some(id));
        }
        self.fetch(&mirror, repo, &owned(&FULL_FETCH), Depth::Full, creds)?;
        let mirror = reopen(&mirror, repo)?;
        Ok(revision::has_commit(&mirror, id).then_some(id))
    }

    fn resolve_ref(
        &self,
        mirror: &gix::Repository,
        repo: &RepoUrl,
        rev: &Revision,
        revision: &str,
        creds: Option<&Credentials>,
    ) -> Result<Option<ObjectId>, SourceError> {
        let rev_err = |source| SourceError::Revision {
            repo: repo.as_str().to_owned(),
            revision: revision.to_owned(),
            source,
        };
        let specs = rev.refspecs();
        let fetched = self.fetch(mirror, repo, &specs, Depth::Shallow, creds)?;
        let mirror = reopen(mirror, repo)?;
        if fetched.matched > 0 {
            for (_, local) in &specs {
                if let Some(id) = revision::local_ref(&mirror, local, revision).map_err(rev_err)? {
                    return Ok(Some(id));
                }
            }
        }
        let Some(short) = rev.short_commit() else {
            return Ok(None);
        };
        if let Some(id) = revision::lookup_short(&mirror, short).map_err(rev_err)? {
            return Ok(Some(id));
        }
        self.fetch(&mirror, repo, &owned(&FULL_FETCH), Depth::Full, creds)?;
        let mirror = reopen(&mirror, repo)?;
        revision::lookup_short(&mirror, short).map_err(rev_err)
    }

    fn fetch(
        &self,
        mirror: &gix::Repository,
        repo: &RepoUrl,
        specs: &[(String, String)],
        depth: Depth,
        creds: Option<&Credentials>,
    ) -> Result<fetch::Fetched, SourceError> {
        let policy = FetchPolicy {
            insecure_http_credentials: self.options.insecure_http_credentials,
        };
        tracing::debug!(
            repo = repo.as_str(),
            ?depth,
            refspecs = specs.len(),
            "fetching"
        );
        let started = Instant::now();
        let fetched = fetch::fetch(mirror, repo, specs, depth, creds, policy);
        // Metric names as sextant-metrics documents them.
        let result = if fetched.is_ok() { "ok" } else { "error" };
        metrics::counter!("sextant_git_requests_total", "repo" => repo.as_str().to_owned(), "result" => result)
            .increment(1);
        metrics::histogram!("sextant_git_request_duration_seconds", "repo" => repo.as_str().to_owned())
            .record(started.elapsed().as_secs_f64());
        Ok(fetched?)
    }

    fn fresh_resolution(&self, key: &(String, String)) -> Option<ObjectId> {
        let map = self.resolved.lock().ok()?;
        let (id, at) = map.get(key)?;
        (at.elapsed() < self.options.revision_ttl).then_some(*id)
    }

    /// Open (creating if needed) the mirror of `repo`, holding its lock.
    fn lock_mirror(&self, repo: &RepoUrl) -> Result<(gix::Repository, File), SourceError> {
        let key = repo.mirror_key();
        let path = self.root.join("repos").join(format!("{key}.git"));
        let lock = self.open_lock(&self.root.join("repos").join(format!("{key}.lock")))?;
        lock.lock()
            .map_err(|source| self.cache_err(&path, source))?;
        let mirror_err = |e: gix::Error| SourceError::Mirror {
            repo: repo.as_str().to_owned(),
            source: Box::new(e),
        };
        if !path.join("HEAD").is_file() {
            gix::ThreadSafeRepository::init_opts(
                &path,
                gix::create::Kind::Bare,
                gix::create::Options::default(),
                gix::open::Options::isolated(),
            )
            .map_err(mirror_err)?;
        }
        let mirror = gix::open_opts(&path, gix::open::Options::isolated()).map_err(mirror_err)?;
        Ok((mirror, lock))
    }

    fn open_lock(&self, path: &Path) -> Result<File, SourceError> {
        OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|source| self.cache_err(path, source))
    }

    fn snapshot_dir(&self, commit: &CommitId) -> PathBuf {
        self.root.join("snapshots").join(commit.to_string())
    }

    fn snapshot_lock(&self, commit: &CommitId) -> PathBuf {
        self.root.join("snapshots").join(format!("{commit}.lock"))
    }

    fn cache_err(&self, path: &Path, source: std::io::Error) -> SourceError {
        SourceError::Cache {
            path: path.to_owned(),
            source,
        }
    }
}

/// A fresh handle, so objects and refs written by a fetch are seen.
fn reopen(mirror: &gix::Repository, repo: &RepoUrl) -> Result<gix::Repository, SourceError> {
    gix::open_opts(mirror.path(), gix::open::Options::isolated()).map_err(|e| SourceError::Mirror {
        repo: repo.as_str().to_owned(),
        source: Box::new(e),
    })
}

fn owned(specs: &[(&str, &str)]) -> Vec<(String, String)> {
    specs
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

/// Record a use of a snapshot (eviction removes the least recently used).
fn touch(lock: &File) {
    let _ = lock.set_modified(SystemTime::now());
}
