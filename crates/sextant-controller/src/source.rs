//! From an Application's source to objects: the render options its fields
//! set, the revision resolved in Git (re-asked at most once per poll
//! interval per repository and revision, at once on refresh), and the
//! render itself (blocking work, run off the async threads).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use sextant_model::application::{Application, ApplicationSource};
use sextant_render::{
    BuildEnv, ChartError, HelmParameter, JsonnetOptions, JsonnetVar, Outcome, RenderOptions,
    Renderer, Request, ServiceError,
};
use sextant_source::{CommitId, FetchError, RepoUrl, Snapshot, SourceError};

use crate::repo_creds::{Found, RepoCredentials, SECRET_TYPE_LABEL};

/// The render options `source` of the Application `app` sets, with
/// `namespace` for namespaced objects that set none, and what the settings
/// add (`extras`). A Helm release is named after the app unless the
/// source names it (as in Argo CD).
pub fn render_options(
    app: AppRef<'_>,
    source: &ApplicationSource,
    namespace: &str,
    extras: &RenderExtras,
) -> Result<RenderOptions, String> {
    let (app_name, project) = (app.name, app.project);
    let mut o = RenderOptions {
        namespace: namespace.to_owned(),
        application_group: Some(sextant_model::group::selected().name().to_owned()),
        build_env: Some(BuildEnv {
            app_name: app_name.to_owned(),
            app_namespace: namespace.to_owned(),
            source_path: source.path.clone().unwrap_or_default(),
            repo_url: source.repo_url.clone(),
            target_revision: source.target_revision.clone().unwrap_or_default(),
            kube_version: None,
            project: project.to_owned(),
            revision: String::new(),
        }),
        plugin: source.plugin.as_ref().map(crate::plugins::plugin_source),
        ..RenderOptions::default()
    };
    if let Some(d) = &source.directory {
        o.directory.recurse = d.recurse.unwrap_or(false);
        o.directory.include = d.include.clone();
        o.directory.exclude = d.exclude.clone();
        if let Some(j) = &d.jsonnet {
            let vars = |list: &Option<Vec<sextant_model::application::JsonnetVar>>| {
                list.iter()
                    .flatten()
                    .map(|v| JsonnetVar {
                        name: v.name.clone(),
                        value: v.value.clone(),
                        code: v.code.unwrap_or(false),
                    })
                    .collect()
            };
            o.directory.jsonnet = JsonnetOptions {
                libs: j.libs.clone().unwrap_or_default(),
                ext_vars: vars(&j.ext_vars),
                tlas: vars(&j.tlas),
            };
        }
    }
    if !app_name.is_empty() {
        o.helm.release_name = Some(app_name.to_owned());
    }
    if let Some(h) = &source.helm {
        if let Some(name) = h.release_name.as_ref().filter(|n| !n.is_empty()) {
            o.helm.release_name = Some(name.clone());
        }
        o.helm.value_files = h.value_files.clone().unwrap_or_default();
        o.helm.values = match (&h.values, &h.values_object) {
            (Some(v), _) => Some(v.clone()),
            (None, Some(obj)) => {
                Some(serde_yaml_ng::to_string(obj).map_err(|e| format!("valuesObject: {e}"))?)
            }
            (None, None) => None,
        };
        o.helm.parameters = h
            .parameters
            .iter()
            .flatten()
            .map(|p| HelmParameter {
                name: p.name.clone(),
                value: p.value.clone(),
                force_string: p.force_string.unwrap_or(false),
            })
            .collect();
        o.helm.skip_crds = h.skip_crds.unwrap_or(false);
        o.helm.api_versions = h.api_versions.clone().unwrap_or_default();
        o.helm.kube_version = h.kube_version.clone();
    }
    if let Some(k) = &source.kustomize {
        o.kustomize.name_prefix = k.name_prefix.clone();
        o.kustomize.name_suffix = k.name_suffix.clone();
        o.kustomize.images = k.images.clone().unwrap_or_default();
        o.kustomize.common_labels = k.common_labels.clone().unwrap_or_default();
        o.kustomize.common_annotations = k.common_annotations.clone().unwrap_or_default();
        o.kustomize.common_annotations_envsubst = k.common_annotations_envsubst.unwrap_or(false);
        o.kustomize.namespace = k.namespace.clone();
    }
    extras.add_to(source, &mut o);
    if !sextant_render::build_env::needed(&o) {
        o.build_env = None;
    }
    Ok(o)
}

/// Whose render it is: the app's name and project (the build
/// environment's `ARGOCD_APP_NAME` and `ARGOCD_APP_PROJECT_NAME`).
#[derive(Clone, Copy, Debug)]
pub struct AppRef<'a> {
    /// The app's name.
    pub name: &'a str,
    /// Its project.
    pub project: &'a str,
}

impl<'a> AppRef<'a> {
    /// The name and project of `app`.
    pub fn of(app: &'a Application) -> Self {
        Self {
            name: app.metadata.name.as_deref().unwrap_or_default(),
            project: app.spec.project.as_str(),
        }
    }
}

/// What the settings add to the render options of every source: the
/// extra `kustomize build` flags and the declared config management
/// plugins.
#[derive(Clone, Debug, Default)]
pub struct RenderExtras {
    /// `kustomize.buildOptions`.
    pub kustomize_build_options: Vec<String>,
    /// The plugins of `sextant-cmp-cm` / `argocd-cmp-cm`.
    pub plugins: Arc<Vec<sextant_render::Plugin>>,
}

impl RenderExtras {
    /// Add them to `options`, the render options of `source`. Plugins go
    /// only where one may render: the one a source names (all, when it
    /// names an unknown one, so the error lists them), else the
    /// discoverable ones, for `plugin: {}` and for a source that sets no
    /// type of its own (Argo CD tries discovery before detection there).
    fn add_to(&self, source: &ApplicationSource, options: &mut RenderOptions) {
        options.kustomize.build_options = self.kustomize_build_options.clone();
        let named = source
            .plugin
            .as_ref()
            .and_then(|p| p.name.as_deref())
            .filter(|n| !n.is_empty());
        let untyped = source.helm.is_none()
            && source.kustomize.is_none()
            && source.directory.is_none()
            && chart_of(source).is_none();
        options.plugins = match named {
            Some(name) => {
                let one: Vec<_> = self
                    .plugins
                    .iter()
                    .filter(|p| p.name == name)
                    .cloned()
                    .collect();
                if one.is_empty() {
                    self.plugins.to_vec()
                } else {
                    one
                }
            }
            None if source.plugin.is_some() || untyped => self
                .plugins
                .iter()
                .filter(|p| p.discoverable())
                .cloned()
                .collect(),
            None => Vec::new(),
        };
    }
}

/// The Application's `spec.ignoreDifferences` as engine rules.
pub fn ignore_rules(app: &Application) -> Result<Vec<sextant_engine::diff::IgnoreRule>, String> {
    match &app.spec.ignore_differences {
        Some(rules) => serde_json::to_value(rules)
            .and_then(serde_json::from_value)
            .map_err(|e| format!("its ignoreDifferences are invalid: {e}")),
        None => Ok(Vec::new()),
    }
}

pub use crate::multi_source::{
    AppSources, SourcesError, Target, app_sources, render_sources, sources_of, wanted_revisions,
};

/// The destination namespace (`default` when unset).
pub fn destination_namespace(app: &Application) -> String {
    app.spec
        .destination
        .namespace
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "default".to_owned())
}

/// The namespace a sync of `app` creates although its manifests hold no
/// Namespace (`CreateNamespace=true`): its destination namespace; none
/// otherwise. A diff treats objects there as a dry-run of the sync does.
pub fn namespaces_a_sync_creates(app: &Application) -> Vec<String> {
    let creates = app
        .spec
        .sync_policy
        .iter()
        .flat_map(|p| p.sync_options.iter().flatten())
        .any(|o| o.trim().eq_ignore_ascii_case("CreateNamespace=true"));
    if creates {
        vec![destination_namespace(app)]
    } else {
        Vec::new()
    }
}

/// A render of an app's source at a commit (or a chart version), or of
/// its several sources.
#[derive(Clone, Debug)]
pub struct Fetched {
    /// The commit (`None` for a plain folder that is not a Git
    /// repository, for a chart of a chart repository, and for several
    /// sources).
    pub commit: Option<CommitId>,
    /// What was rendered.
    pub outcome: Outcome,
    /// Each source's revision, for an app with several sources.
    pub revisions: Option<Vec<String>>,
    /// Objects several sources render (the later copy is used).
    pub repeated: Vec<String>,
    /// Each source's kind, for an app with several sources (a source that
    /// only lends its files counts as a directory).
    pub kinds: Option<Vec<sextant_render::SourceKind>>,
}

impl Fetched {
    /// One source's render.
    pub fn single(commit: Option<CommitId>, outcome: Outcome) -> Self {
        Self {
            commit,
            outcome,
            revisions: None,
            repeated: Vec::new(),
            kinds: None,
        }
    }

    /// The app revision: the commit or chart version (`""` for a plain
    /// folder); for several sources, theirs joined with commas.
    pub fn revision(&self) -> String {
        if let Some(revisions) = &self.revisions {
            return crate::multi_source::join_revisions(revisions);
        }
        match &self.commit {
            Some(c) => c.to_string(),
            None => self.outcome.version.clone().unwrap_or_default(),
        }
    }
}

/// The chart of a source from a chart repository (`source.chart`).
pub fn chart_of(source: &ApplicationSource) -> Option<&str> {
    source
        .chart
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
}

/// The (repository, revision) a source follows, as Git is asked for it
/// (`file://` dropped for local paths, `HEAD` when no revision is set).
pub fn watched(source: &ApplicationSource) -> (String, String) {
    let repo = source.repo_url.trim();
    let repo = repo
        .strip_prefix("file://")
        .filter(|p| p.starts_with('/'))
        .unwrap_or(repo);
    let revision = source
        .target_revision
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .unwrap_or("HEAD");
    (repo.to_owned(), revision.to_owned())
}

type Slot = Arc<tokio::sync::Mutex<Option<(CommitId, Instant)>>>;

/// Rendering with revision resolution remembered per (repository,
/// revision): many apps on one branch cost one Git round trip per poll.
pub struct Sources {
    renderer: Arc<Renderer>,
    credentials: Arc<RepoCredentials>,
    /// How long a resolved revision is trusted (the poll interval; the
    /// settings may change it while the controller runs).
    poll: RwLock<Duration>,
    /// What the settings add to every render (kustomize flags, plugins).
    extras: RwLock<RenderExtras>,
    resolved: Mutex<HashMap<(String, String), Slot>>,
    /// The commit each (repository, revision) had at its last poll.
    polled: Mutex<HashMap<(String, String), CommitId>>,
    /// The (repository, revision) pairs that are chart repositories, not
    /// Git: a poll re-renders them (the listing is read again once per
    /// poll interval, a version once fetched is kept).
    charts: Mutex<std::collections::HashSet<(String, String)>>,
}

impl std::fmt::Debug for Sources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sources")
            .field("poll", &self.poll_interval())
            .finish_non_exhaustive()
    }
}

impl Sources {
    /// Sources rendered by `renderer`, revisions re-resolved after `poll`,
    /// private repositories read with `credentials`.
    pub fn new(renderer: Arc<Renderer>, credentials: Arc<RepoCredentials>, poll: Duration) -> Self {
        Self {
            renderer,
            credentials,
            poll: RwLock::new(poll),
            extras: RwLock::new(RenderExtras::default()),
            resolved: Mutex::new(HashMap::new()),
            polled: Mutex::new(HashMap::new()),
            charts: Mutex::new(std::collections::HashSet::new()),
        }
    }

    /// How long a resolved revision is trusted.
    pub fn poll_interval(&self) -> Duration {
        self.poll.read().map_or(Duration::from_secs(180), |p| *p)
    }

    /// Trust resolved revisions for `poll` from now on.
    pub fn set_poll_interval(&self, poll: Duration) {
        if let Ok(mut p) = self.poll.write() {
            *p = poll;
        }
    }

    /// What the settings add to every render, as they are now.
    pub fn render_extras(&self) -> RenderExtras {
        self.extras.read().map(|e| e.clone()).unwrap_or_default()
    }

    /// Pass `options` to every `kustomize build` from now on.
    pub fn set_kustomize_build_options(&self, options: Vec<String>) {
        if let Ok(mut e) = self.extras.write() {
            e.kustomize_build_options = options;
        }
    }

    /// Render with `plugins` from now on; whether they changed.
    pub fn set_plugins(&self, plugins: Vec<sextant_render::Plugin>) -> bool {
        match self.extras.write() {
            Ok(mut e) if *e.plugins != plugins => {
                e.plugins = Arc::new(plugins);
                true
            }
            _ => false,
        }
    }

    /// Resolve `revision` of `repo` to a commit; asks Git when the last
    /// answer is older than the poll interval or `fresh` is set.
    pub(crate) async fn resolve(
        &self,
        repo: &str,
        revision: &str,
        fresh: bool,
    ) -> Result<Option<CommitId>, SourceProblem> {
        let local = std::path::Path::new(repo);
        if !repo.contains("://") && local.is_dir() && !sextant_render::is_git_repository(local) {
            return Ok(None);
        }
        if let Some(commit) = CommitId::from_hex(revision.trim()) {
            return Ok(Some(commit));
        }
        let slot = {
            let mut map = self
                .resolved
                .lock()
                .map_err(|_| "revision cache poisoned".to_owned())?;
            map.entry((repo.to_owned(), revision.to_owned()))
                .or_default()
                .clone()
        };
        let asked_at = Instant::now();
        let mut slot = slot.lock().await;
        if let Some((commit, at)) = slot.as_ref() {
            // Fresh enough, or someone started asking Git after we were
            // asked (a query that started before might predate the commit
            // we are asked about).
            if (!fresh && at.elapsed() < self.poll_interval()) || *at >= asked_at {
                return Ok(Some(commit.clone()));
            }
        }
        let url = RepoUrl::parse(repo).map_err(|e| e.to_string())?;
        let renderer = self.renderer.clone();
        let rev = revision.to_owned();
        let started = Instant::now();
        let found = self.credentials.lookup(repo);
        let creds = found.as_ref().map(|f| f.credentials.clone());
        let commit =
            tokio::task::spawn_blocking(move || renderer.git().resolve(&url, &rev, creds.as_ref()))
                .await
                .map_err(|e| format!("the Git task failed: {e}"))?
                .map_err(|e| self.explain(&e, found.as_ref()))?;
        *slot = Some((commit.clone(), started));
        Ok(Some(commit))
    }

    /// Message, author and date of a commit the mirror of `repo` has, as
    /// notification templates read them (`.commit`).
    pub(crate) async fn commit_info(&self, repo: &str, sha: &str) -> Option<serde_json::Value> {
        let url = RepoUrl::parse(repo).ok()?;
        let commit = CommitId::from_hex(sha)?;
        let renderer = self.renderer.clone();
        let info = tokio::task::spawn_blocking(move || renderer.git().commit_info(&url, &commit))
            .await
            .ok()??;
        let date = info
            .seconds
            .and_then(|s| k8s_openapi::jiff::Timestamp::from_second(s).ok())
            .map(|t| t.to_string());
        Some(serde_json::json!({
            "sha": sha,
            "message": info.message,
            "author": info.author,
            "date": date,
        }))
    }

    /// Ask Git for `revision` of `repo` now; `true` when the commit is not
    /// the one the previous poll of this pair saw (the first poll of a pair
    /// counts as a change). Plain folders (not Git) always count.
    pub async fn poll(&self, repo: &str, revision: &str) -> Result<bool, SourceProblem> {
        if self
            .charts
            .lock()
            .is_ok_and(|c| c.contains(&(repo.to_owned(), revision.to_owned())))
        {
            return Ok(true);
        }
        let Some(commit) = self.resolve(repo, revision, true).await? else {
            return Ok(true);
        };
        let mut polled = self
            .polled
            .lock()
            .map_err(|_| "revision cache poisoned".to_owned())?;
        Ok(polled.insert((repo.to_owned(), revision.to_owned()), commit.clone()) != Some(commit))
    }

    /// Resolve and render `source` (at `revision`, default its
    /// targetRevision) for the app `app_name` deploying to `namespace`.
    pub(crate) async fn fetch_source(
        &self,
        app: AppRef<'_>,
        source: &ApplicationSource,
        revision: Option<&str>,
        namespace: &str,
        fresh: bool,
    ) -> Result<Fetched, SourceProblem> {
        let mut options = render_options(app, source, namespace, &self.render_extras())?;
        // An app-of-apps' children go where this controller reconciles them.
        options.applications_namespace = Some(self.credentials.namespace().to_owned());
        let (repo, default_revision) = watched(source);
        if let Some(chart) = chart_of(source) {
            self.note_chart(source);
            return self
                .fetch_chart(&repo, chart, source, revision, options, fresh)
                .await;
        }
        let repo = repo.as_str();
        let revision = revision
            .filter(|r| !r.is_empty())
            .unwrap_or(&default_revision);
        let commit = self.resolve(repo, revision, fresh).await?;
        let path = source.path.clone().unwrap_or_else(|| ".".to_owned());
        let renderer = self.renderer.clone();
        let repo_owned = repo.to_owned();
        let rev = commit.as_ref().map(ToString::to_string).unwrap_or_default();
        let found = self.credentials.lookup(repo);
        let creds = found.as_ref().map(|f| f.credentials.clone());
        let outcome = tokio::task::spawn_blocking(move || {
            renderer.render(&Request {
                repo: &repo_owned,
                revision: &rev,
                path: &path,
                options: &options,
                credentials: creds.as_ref(),
                chart: None,
            })
        })
        .await
        .map_err(|e| format!("the render task failed: {e}"))?
        .map_err(|e| self.explain(&e, found.as_ref()))?;
        Ok(Fetched::single(outcome.commit.clone().or(commit), outcome))
    }

    /// Pull and render `chart` of the chart repository `repo` at
    /// `revision` (a version, e.g. from history) or the source's
    /// targetRevision (a version or a range).
    async fn fetch_chart(
        &self,
        repo: &str,
        chart: &str,
        source: &ApplicationSource,
        revision: Option<&str>,
        options: RenderOptions,
        fresh: bool,
    ) -> Result<Fetched, SourceProblem> {
        let wanted = revision
            .filter(|r| !r.is_empty())
            .or(source.target_revision.as_deref())
            .unwrap_or("")
            .trim()
            .to_owned();
        let (secret, access) = self.credentials.chart_access(repo);
        let renderer = self.renderer.clone();
        let (repo_owned, chart_owned) = (repo.to_owned(), chart.to_owned());
        let outcome = tokio::task::spawn_blocking(move || {
            renderer.render(&Request {
                repo: &repo_owned,
                revision: &wanted,
                path: "",
                options: &options,
                credentials: None,
                chart: Some(sextant_render::ChartSpec {
                    name: &chart_owned,
                    access: &access,
                    fresh,
                }),
            })
        })
        .await
        .map_err(|e| format!("the render task failed: {e}"))?
        .map_err(|e| self.explain_chart(&e, secret.as_deref()))?;
        Ok(Fetched::single(None, outcome))
    }

    /// A chart error in words, naming where credentials go.
    fn explain_chart(&self, e: &ServiceError, secret: Option<&str>) -> SourceProblem {
        let mut text = error_chain(e);
        let ns = self.credentials.namespace();
        let transient = matches!(e, ServiceError::Chart(ChartError::Http { .. }));
        if let ServiceError::Chart(ChartError::Denied { .. }) = e {
            match secret {
                Some(s) => text.push_str(&format!(" (Secret {ns}/{s})")),
                None => text.push_str(&format!(
                    " (in namespace {ns}, labelled {SECRET_TYPE_LABEL}=repository, with type: helm)"
                )),
            }
        }
        if text.contains("certificate") && !text.contains("client certificate") {
            text.push_str(&format!(
                "; if a private CA signed the server's certificate, put the CA's PEM in ConfigMap {ns}/{} under the server's host name",
                crate::repo_creds::TLS_CERTS_CONFIG_MAPS[0]
            ));
        }
        SourceProblem {
            message: text,
            transient,
            condition: COMPARISON_ERROR,
        }
    }
}

/// A repository's files at a commit, for the ApplicationSet generators:
/// the snapshot folder (kept from garbage collection while this lives) or
/// a plain local folder.
#[derive(Debug)]
pub struct Checkout {
    /// The folder.
    pub dir: std::path::PathBuf,
    /// The commit (`None` for a plain folder).
    pub commit: Option<CommitId>,
    _snapshot: Option<Snapshot>,
}

impl Sources {
    /// The files of `repo` at `revision`, resolved as the apps' sources
    /// are (Git asked at most once per poll interval).
    /// With `fresh`, Git is asked now.
    pub async fn checkout(
        &self,
        repo: &str,
        revision: &str,
        fresh: bool,
    ) -> Result<Checkout, SourceProblem> {
        let repo = repo
            .strip_prefix("file://")
            .filter(|p| p.starts_with('/'))
            .unwrap_or(repo);
        let Some(commit) = self.resolve(repo, revision, fresh).await? else {
            return Ok(Checkout {
                dir: repo.into(),
                commit: None,
                _snapshot: None,
            });
        };
        let url = RepoUrl::parse(repo).map_err(|e| e.to_string())?;
        let renderer = self.renderer.clone();
        let found = self.credentials.lookup(repo);
        let creds = found.as_ref().map(|f| f.credentials.clone());
        let c = commit.clone();
        let snapshot =
            tokio::task::spawn_blocking(move || renderer.git().snapshot(&url, &c, creds.as_ref()))
                .await
                .map_err(|e| format!("the Git task failed: {e}"))?
                .map_err(|e| self.explain(&e, found.as_ref()))?;
        Ok(Checkout {
            dir: snapshot.dir().to_path_buf(),
            commit: Some(commit),
            _snapshot: Some(snapshot),
        })
    }
}

impl Sources {
    /// Remember that `source`, a chart of a chart repository, is followed:
    /// a poll re-renders it instead of asking Git about that URL.
    pub(crate) fn note_chart(&self, source: &ApplicationSource) {
        if let Ok(mut c) = self.charts.lock() {
            c.insert(watched(source));
        }
    }

    /// The renderer, for blocking work off the async threads.
    pub(crate) fn renderer_handle(&self) -> Arc<Renderer> {
        self.renderer.clone()
    }

    /// The repository credentials, for blocking work.
    pub(crate) fn credentials_handle(&self) -> Arc<RepoCredentials> {
        self.credentials.clone()
    }

    /// A render error of a Git source of `repo` in words.
    pub(crate) fn explain_of(&self, repo: &str, e: &ServiceError) -> SourceProblem {
        self.explain(e, self.credentials.lookup(repo).as_ref())
    }

    /// A render error of a chart of the chart repository `repo` in words.
    pub(crate) fn explain_chart_of(&self, repo: &str, e: &ServiceError) -> SourceProblem {
        let secret = self.credentials.lookup_chart(repo).map(|(s, _)| s);
        self.explain_chart(e, secret.as_deref())
    }

    /// `e` in words, with what to do when the Git server wanted other
    /// credentials than it got.
    fn explain(
        &self,
        e: &(dyn std::error::Error + 'static),
        found: Option<&Found>,
    ) -> SourceProblem {
        let mut text = error_chain(e);
        // Reaching the server or receiving from it may work next time;
        // refused credentials or a missing revision wait for a change.
        let transient = matches!(
            fetch_error(e),
            Some(FetchError::ListRefs { .. } | FetchError::Fetch { .. })
        );
        let ns = self.credentials.namespace();
        match (fetch_error(e), found) {
            (Some(FetchError::AuthRequired { .. }), _) => text.push_str(&format!(
                "; no Secret holds credentials for this repository: create one in namespace {ns} labelled {SECRET_TYPE_LABEL}=repository with keys url, username and password (see docs/controller.md, Private repositories)"
            )),
            (Some(FetchError::Auth { .. }), Some(f)) => text.push_str(&format!(
                "; the credentials come from Secret {ns}/{}: correct its username or password",
                f.secret
            )),
            _ => {}
        }
        SourceProblem {
            message: text,
            transient,
            condition: COMPARISON_ERROR,
        }
    }
}

/// The condition of a source that could not be read or compared.
pub const COMPARISON_ERROR: &str = "ComparisonError";
/// The condition of an app its project refuses.
pub const INVALID_SPEC_ERROR: &str = "InvalidSpecError";

/// Why an app's source could not be read, rendered or compared, and
/// whether trying again soon may help (Git or the API server unreachable)
/// or only a change will (a bad manifest, a missing path, refused
/// credentials).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceProblem {
    /// What went wrong, for the ComparisonError condition.
    pub message: String,
    /// Whether it is worth retrying without a change.
    pub transient: bool,
    /// The condition it is reported as: ComparisonError, or
    /// InvalidSpecError when the app's project refuses the app.
    pub condition: &'static str,
}

impl SourceProblem {
    /// A problem that may go away by itself.
    pub fn transient(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            transient: true,
            condition: COMPARISON_ERROR,
        }
    }

    /// The app's spec is refused by its project: only a change helps.
    pub fn spec(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            transient: false,
            condition: INVALID_SPEC_ERROR,
        }
    }
}

impl SourceProblem {
    /// The same problem, said to be of `what` (one source of several).
    pub fn within(mut self, what: &str) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }
}

impl From<String> for SourceProblem {
    fn from(message: String) -> Self {
        Self {
            message,
            transient: false,
            condition: COMPARISON_ERROR,
        }
    }
}

impl From<&str> for SourceProblem {
    fn from(message: &str) -> Self {
        message.to_owned().into()
    }
}

impl std::fmt::Display for SourceProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The Git transport error inside a resolve or render error (they wrap it
/// transparently, so it is not in the `source()` chain).
fn fetch_error<'e>(e: &'e (dyn std::error::Error + 'static)) -> Option<&'e FetchError> {
    let source =
        e.downcast_ref::<SourceError>()
            .or_else(|| match e.downcast_ref::<ServiceError>()? {
                ServiceError::Source(s) => Some(s),
                _ => None,
            })?;
    match source {
        SourceError::Fetch(f) => Some(f),
        _ => None,
    }
}

/// An error with its causes, `outer: inner: root`.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let s = c.to_string();
        if !text.contains(&s) {
            text.push_str(": ");
            text.push_str(&s);
        }
        cause = c.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use sextant_model::application::{ApplicationSourceHelm, HelmParameter as ModelParam};
    use sextant_render::HelmParameter;

    const WEB: AppRef<'static> = AppRef {
        name: "web",
        project: "retail",
    };

    #[test]
    fn plugins_are_offered_only_to_sources_they_may_render() {
        let plugin = |name: &str, discover: bool| {
            let rule = if discover {
                "\n  discover: {fileName: '*.cue'}"
            } else {
                ""
            };
            sextant_render::Plugin::parse(
                &format!(
                    "kind: ConfigManagementPlugin\nmetadata: {{name: {name}}}\nspec:\n  generate: {{command: [x]}}{rule}"
                ),
                "t",
            )
            .unwrap()
            .0
        };
        let extras = RenderExtras {
            kustomize_build_options: vec!["--enable-helm".into()],
            plugins: Arc::new(vec![plugin("cue", true), plugin("tmpl", false)]),
        };
        let offered = |source: serde_json::Value| {
            let source: ApplicationSource = serde_json::from_value(source).unwrap();
            let o = render_options(WEB, &source, "shop", &extras).unwrap();
            let names: Vec<String> = o.plugins.iter().map(|p| p.name.clone()).collect();
            (names, o)
        };
        let (names, o) = offered(serde_json::json!({"repoURL": "r", "plugin": {"name": "tmpl"}}));
        assert_eq!(names, ["tmpl"]);
        let env = o.build_env.unwrap();
        assert_eq!(
            (env.app_name.as_str(), env.project.as_str()),
            ("web", "retail")
        );
        assert_eq!(o.kustomize.build_options, ["--enable-helm"]);
        let (names, _) = offered(serde_json::json!({"repoURL": "r", "plugin": {"name": "nope"}}));
        assert_eq!(names, ["cue", "tmpl"], "all, so the error lists them");
        let (names, _) = offered(serde_json::json!({"repoURL": "r", "plugin": {}}));
        assert_eq!(names, ["cue"], "discovery: only those with a rule");
        let (names, o) = offered(serde_json::json!({"repoURL": "r", "path": "app"}));
        assert_eq!(names, ["cue"], "an untyped source may be discovered");
        assert!(o.build_env.is_some(), "a plugin may read the environment");
        let (names, o) =
            offered(serde_json::json!({"repoURL": "r", "directory": {"recurse": true}}));
        assert!(names.is_empty(), "a typed source is not");
        assert!(o.build_env.is_none(), "nor does it need the environment");
        let (names, _) = offered(serde_json::json!({"repoURL": "r", "chart": "web"}));
        assert!(names.is_empty());
    }

    #[test]
    fn a_helm_release_is_named_after_the_app_unless_the_source_names_it() {
        let mut source = ApplicationSource {
            repo_url: "https://git.example.invalid/r.git".into(),
            path: Some("chart".into()),
            ..ApplicationSource::default()
        };
        let o = render_options(WEB, &source, "shop", &RenderExtras::default()).unwrap_or_default();
        assert_eq!(o.helm.release_name.as_deref(), Some("web"));
        assert_eq!(o.namespace, "shop");
        source.helm = Some(ApplicationSourceHelm {
            release_name: Some("prod-web".into()),
            parameters: Some(vec![ModelParam {
                name: "image.tag".into(),
                value: "1.2".into(),
                force_string: Some(true),
            }]),
            ..ApplicationSourceHelm::default()
        });
        let o = render_options(WEB, &source, "shop", &RenderExtras::default()).unwrap_or_default();
        assert_eq!(o.helm.release_name.as_deref(), Some("prod-web"));
        assert_eq!(
            o.helm.parameters,
            vec![HelmParameter {
                name: "image.tag".into(),
                value: "1.2".into(),
                force_string: true
            }]
        );
    }
}
