//! The repo server: from (repository, revision, path, options) to objects,
//! through the Git cache and the render cache. A full commit whose render
//! is cached costs no Git and no tool work; a branch costs one ref
//! listing, then the cache answers.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use sextant_source::{CommitId, Credentials, GitCache, GitOptions, RepoUrl, SourceError, UrlError};

use crate::cache::{CacheKey, CacheLimits, RenderCache};
use crate::chart::{ChartAccess, ChartError, Charts};
use crate::options::RenderOptions;
use crate::paths;
use crate::render::{self, RenderError, Rendered};
use crate::tools::{ToolConfig, ToolError, Tools};

/// Errors from the repo server, each naming its step.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The repository URL is not usable.
    #[error(transparent)]
    Url(#[from] UrlError),
    /// Git failed.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// Rendering failed.
    #[error("could not render `{path}` at {at}")]
    Render {
        /// The path.
        path: String,
        /// The commit, or the folder for a plain folder.
        at: String,
        /// Why.
        #[source]
        source: Box<RenderError>,
    },
    /// The tools could not be prepared.
    #[error(transparent)]
    Tools(#[from] ToolError),
    /// A chart could not be had from its repository.
    #[error(transparent)]
    Chart(#[from] ChartError),
    /// A revision was given for a folder that is not a Git repository.
    #[error("`{0}` is not a Git repository, so a revision cannot be chosen")]
    NotGit(String),
}

/// How to set up a [`Renderer`].
#[derive(Clone, Debug, Default)]
pub struct RendererConfig {
    /// Where mirrors, snapshots and (if enabled) cached renders live.
    pub cache_dir: PathBuf,
    /// Git settings.
    pub git: GitOptions,
    /// Tool locations and limits.
    pub tools: ToolConfig,
    /// Cache bounds.
    pub cache: CacheLimits,
    /// Also keep rendered output on disk (survives restarts; the CLI uses
    /// it so a second `sextant render` of a commit is instant).
    pub disk_cache: bool,
    /// How long a chart repository's listing (index or tags) is used
    /// before it is read again (default 3 minutes).
    pub chart_listing_ttl: Option<std::time::Duration>,
}

/// A chart from a Helm chart repository or an OCI registry: the
/// request's `repo` is then that repository and its `revision` the
/// version or range.
#[derive(Clone, Copy, Debug)]
pub struct ChartSpec<'a> {
    /// The chart's name.
    pub name: &'a str,
    /// Credentials and TLS for the repository.
    pub access: &'a ChartAccess,
    /// Read the repository's listing again now (a hard refresh).
    pub fresh: bool,
}

/// One render request.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// A URL or a local path (a Git repository, or a plain folder).
    pub repo: &'a str,
    /// Branch, tag, commit or `HEAD` (empty means `HEAD`).
    pub revision: &'a str,
    /// The folder inside the repository.
    pub path: &'a str,
    /// Rendering options.
    pub options: &'a RenderOptions,
    /// HTTP(S) credentials.
    pub credentials: Option<&'a Credentials>,
    /// A chart from a chart repository instead of a folder of Git.
    pub chart: Option<ChartSpec<'a>>,
}

/// The answer to a request.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The commit rendered (`None` for a plain folder).
    pub commit: Option<CommitId>,
    /// The output.
    pub rendered: Arc<Rendered>,
    /// Whether the render cache answered.
    pub cache_hit: bool,
    /// The chart version rendered (chart-repository sources).
    pub version: Option<String>,
}

impl Outcome {
    /// What was rendered, as status and history record it: the commit,
    /// or the chart version (`""` for a plain folder).
    pub fn revision(&self) -> String {
        match (&self.commit, &self.version) {
            (Some(c), _) => c.to_string(),
            (None, Some(v)) => v.clone(),
            (None, None) => String::new(),
        }
    }
}

/// Git cache + render cache + tools.
#[derive(Debug)]
pub struct Renderer {
    git: GitCache,
    cache: RenderCache,
    tools: Tools,
    charts: Charts,
    /// Commits whose snapshot passed the symlink scan (snapshots are
    /// immutable, so once is enough).
    scanned: Mutex<HashSet<CommitId>>,
    /// (repository, commit) pairs known to belong together, so a snapshot
    /// on disk can be used without opening the mirror again.
    verified: Mutex<HashSet<(String, CommitId)>>,
}

impl Renderer {
    /// Set up the caches under `config.cache_dir` and locate the tools.
    pub fn new(config: RendererConfig) -> Result<Self, ServiceError> {
        let git = GitCache::open(config.cache_dir.join("git"), config.git)?;
        let disk = config.disk_cache.then(|| config.cache_dir.join("render"));
        Ok(Self {
            git,
            cache: RenderCache::new(disk, config.cache),
            tools: Tools::new(config.tools)?,
            charts: Charts::new(
                config.cache_dir.join("charts"),
                config
                    .chart_listing_ttl
                    .unwrap_or(std::time::Duration::from_secs(180)),
                std::time::Duration::from_secs(60),
            ),
            scanned: Mutex::new(HashSet::new()),
            verified: Mutex::new(HashSet::new()),
        })
    }

    /// The tools in use.
    pub fn tools(&self) -> &Tools {
        &self.tools
    }

    /// The Git cache in use.
    pub fn git(&self) -> &GitCache {
        &self.git
    }

    /// Render `path` of the folder `root` as its files are on disk (a work
    /// tree's uncommitted changes included; Git is not read), with the
    /// same checks as a snapshot: no symbolic link may leave `root`.
    pub fn render_local(
        &self,
        root: &Path,
        path: &str,
        options: &RenderOptions,
    ) -> Result<Outcome, ServiceError> {
        let options = &crate::build_env::apply(options, "");
        let rendered = render::render_path(root, path, options, &self.tools).map_err(|source| {
            ServiceError::Render {
                path: path.to_owned(),
                at: root.display().to_string(),
                source: Box::new(source),
            }
        })?;
        Ok(Outcome {
            commit: None,
            rendered: Arc::new(rendered),
            cache_hit: false,
            version: None,
        })
    }

    /// Render a request (timed: `sextant_render_duration_seconds` by tool
    /// and render-cache outcome).
    pub fn render(&self, request: &Request<'_>) -> Result<Outcome, ServiceError> {
        let started = std::time::Instant::now();
        let outcome = self.render_untimed(request);
        if let Ok(o) = &outcome {
            metrics::histogram!(
                "sextant_render_duration_seconds",
                "tool" => o.rendered.kind.as_str(),
                "cache" => if o.cache_hit { "hit" } else { "miss" }
            )
            .record(started.elapsed().as_secs_f64());
        }
        outcome
    }

    fn render_untimed(&self, request: &Request<'_>) -> Result<Outcome, ServiceError> {
        if let Some(chart) = &request.chart {
            return self.render_chart(request, chart);
        }
        let local = Path::new(request.repo);
        if !request.repo.contains("://") && local.is_dir() && !is_git_repository(local) {
            if !request.revision.is_empty() && request.revision != "HEAD" {
                return Err(ServiceError::NotGit(request.repo.to_owned()));
            }
            return self.render_local(local, request.path, request.options);
        }
        let repo_id = repo_identity(request.repo);
        let key = |commit: &CommitId| {
            CacheKey::new(
                &repo_id,
                &commit.to_string(),
                request.path,
                request.options,
                self.tools.fingerprint(),
            )
        };
        // A full commit names its content: look in the cache before Git.
        let full = CommitId::from_hex(request.revision.trim());
        if let Some(commit) = &full
            && let Some(rendered) = self.cache.get(&key(commit))
        {
            return Ok(Outcome {
                commit: Some(commit.clone()),
                rendered,
                cache_hit: true,
                version: None,
            });
        }
        // A snapshot on disk of a full commit already verified to belong
        // to this repository: no Git work.
        let verified = |commit: &CommitId| {
            self.verified
                .lock()
                .is_ok_and(|v| v.contains(&(repo_id.clone(), commit.clone())))
        };
        let existing = match &full {
            Some(commit) if verified(commit) => self.git.existing_snapshot(commit)?,
            _ => None,
        };
        let snapshot = match existing {
            Some(snapshot) => snapshot,
            None => {
                let repo = RepoUrl::parse(request.repo)?;
                let commit = self
                    .git
                    .resolve(&repo, request.revision, request.credentials)?;
                if let Ok(mut v) = self.verified.lock() {
                    v.insert((repo_id.clone(), commit.clone()));
                }
                if full.is_none()
                    && let Some(rendered) = self.cache.get(&key(&commit))
                {
                    return Ok(Outcome {
                        commit: Some(commit),
                        rendered,
                        cache_hit: true,
                        version: None,
                    });
                }
                self.git.snapshot(&repo, &commit, request.credentials)?
            }
        };
        let commit = snapshot.commit().clone();
        let render_err = |source| ServiceError::Render {
            path: request.path.to_owned(),
            at: format!("commit {commit}"),
            source: Box::new(source),
        };
        let known_safe = self.scanned.lock().is_ok_and(|s| s.contains(&commit));
        if !known_safe {
            paths::check_symlinks(snapshot.dir()).map_err(|e| render_err(e.into()))?;
            if let Ok(mut scanned) = self.scanned.lock() {
                scanned.insert(commit.clone());
            }
        }
        let options = crate::build_env::apply(request.options, &commit.to_string());
        let rendered = render::render_checked(snapshot.dir(), request.path, &options, &self.tools)
            .map_err(render_err)?;
        let key = key(&commit);
        let rendered = Arc::new(rendered);
        self.cache.put(&key, rendered.clone());
        Ok(Outcome {
            commit: Some(commit),
            rendered,
            cache_hit: false,
            version: None,
        })
    }
}

impl Renderer {
    /// A chart of a chart repository: pulled (or found in the store),
    /// then rendered as a Helm source, through the render cache keyed by
    /// the chart's version and digest.
    fn render_chart(
        &self,
        request: &Request<'_>,
        chart: &ChartSpec<'_>,
    ) -> Result<Outcome, ServiceError> {
        let pulled = self.charts.pull(
            request.repo,
            chart.name,
            request.revision,
            chart.access,
            chart.fresh,
        )?;
        let mut options = request.options.clone();
        options.kind = Some(crate::options::SourceKind::Helm);
        let key = CacheKey::new(
            &repo_identity(request.repo),
            &format!("chart:{}@{}#{}", chart.name, pulled.version, pulled.digest),
            "",
            &options,
            self.tools.fingerprint(),
        );
        let version = Some(pulled.version.clone());
        if let Some(rendered) = self.cache.get(&key) {
            return Ok(Outcome {
                commit: None,
                rendered,
                cache_hit: true,
                version,
            });
        }
        let options = crate::build_env::apply(&options, &pulled.version);
        let rendered = render::render_checked(&pulled.root, &pulled.folder, &options, &self.tools)
            .map_err(|source| ServiceError::Render {
                path: chart.name.to_owned(),
                at: format!("chart version {}", pulled.version),
                source: Box::new(source),
            })?;
        let rendered = Arc::new(rendered);
        self.cache.put(&key, rendered.clone());
        Ok(Outcome {
            commit: None,
            rendered,
            cache_hit: false,
            version,
        })
    }
}

/// The repository as it goes into cache keys: its redacted URL.
fn repo_identity(repo: &str) -> String {
    match RepoUrl::parse(repo) {
        Ok(url) => url.as_str().to_owned(),
        Err(_) if !repo.contains("://") => format!("file://{}", repo.trim_end_matches('/')),
        Err(_) => repo.to_owned(),
    }
}

/// A work tree (`.git` inside) or a bare repository.
pub fn is_git_repository(dir: &Path) -> bool {
    dir.join(".git").exists()
        || (dir.join("HEAD").is_file() && dir.join("objects").is_dir() && dir.join("refs").is_dir())
}
