//! Applications: list (server-side filters, paging, counts per status),
//! get, create, update, delete, history. Reads come from the watched
//! store; writes go to the cluster (create/update conditional on what the
//! caller read, delete through the resources finalizer when it cascades).

use sextant_model::selector::Selector;
use std::collections::BTreeMap;

use axum::extract::State;
use axum::response::Response;
use kube::Api;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sextant_controller::events::{Reason, record_from};
use sextant_model::Application;
use sextant_model::annotations::{ARGOCD_RESOURCES_FINALIZER, RESOURCES_FINALIZER};
use utoipa::{IntoParams, ToSchema};

use super::{Body, Params, PathArgs, masked, to_json};
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::state::{AppState, Shared};

/// Filters and paging of the list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Projects, comma-separated.
    pub project: Option<String>,
    /// Sync statuses (Synced, OutOfSync, Unknown), comma-separated.
    pub sync: Option<String>,
    /// Health statuses (Healthy, Progressing, ...), comma-separated.
    pub health: Option<String>,
    /// Label selector: `k=v`, `k!=v`, `k`, `!k`, comma-separated (all must hold).
    pub selector: Option<String>,
    /// Part of the name, any case.
    pub search: Option<String>,
    /// Repository URL (exact, ignoring a trailing `.git` or `/`).
    pub repo: Option<String>,
    /// Destination cluster: server URL or name.
    pub cluster: Option<String>,
    /// Destination namespace.
    pub namespace: Option<String>,
    /// Page size (1 to 1000; default 100).
    pub limit: Option<u32>,
    /// Where the previous page ended (its `continue`).
    #[serde(rename = "continue")]
    pub continue_: Option<String>,
}

/// One app in a list.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppSummary {
    /// Name.
    pub name: String,
    /// Project.
    pub project: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Source repository.
    pub repo_url: String,
    /// Path in it.
    pub path: String,
    /// The chart, when the source is a chart of a chart repository
    /// (`""` otherwise).
    pub chart: String,
    /// The revision it follows.
    pub target_revision: String,
    /// Destination server.
    pub dest_server: String,
    /// Destination cluster name.
    pub dest_name: String,
    /// Destination namespace.
    pub dest_namespace: String,
    /// Synced, OutOfSync or Unknown.
    pub sync_status: String,
    /// The commit last compared.
    pub revision: String,
    /// Healthy, Progressing, Degraded, Suspended, Missing or Unknown.
    pub health_status: String,
    /// The phase of the current or last operation.
    pub operation_phase: String,
    /// When the last sync finished (RFC 3339).
    pub last_synced_at: String,
    /// Syncs by itself.
    pub automated: bool,
    /// Managed objects.
    pub resource_count: usize,
    /// Types of the conditions it has (errors and warnings).
    pub conditions: Vec<String>,
    /// resourceVersion.
    pub resource_version: String,
    /// Links to show with the app (annotations `link.sextant.dev/<title>`
    /// or `link.argocd.argoproj.io/<title>`, and the external URLs the
    /// controller found); only http(s) URLs, anything else is dropped.
    pub links: Vec<Link>,
}

/// A link shown with an app.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Link {
    /// What it is called.
    pub title: String,
    /// Where it goes (always http or https).
    pub url: String,
}

/// `url` when it is a plain http(s) URL a browser may follow: no other
/// scheme (`javascript:`, `data:`), no control characters or spaces, no
/// credentials.
pub fn safe_url(url: &str) -> Option<String> {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let bad = url
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || matches!(c, '"' | '<' | '>' | '`' | '\\'));
    (!host.is_empty() && !host.contains('@') && !bad && url.len() <= 2048).then(|| url.to_owned())
}

/// The app's links, sanitized.
fn links(app: &Application) -> Vec<Link> {
    let mut out = Vec::new();
    for (key, value) in app.metadata.annotations.iter().flatten() {
        let title = key
            .strip_prefix("link.sextant.dev/")
            .or_else(|| key.strip_prefix("link.argocd.argoproj.io/"));
        if let (Some(title), Some(url)) = (title, safe_url(value)) {
            out.push(Link {
                title: title.chars().take(100).collect(),
                url,
            });
        }
    }
    for url in app
        .status
        .as_ref()
        .and_then(|s| s.summary.as_ref())
        .and_then(|s| s.external_urls.as_ref())
        .into_iter()
        .flatten()
    {
        if let Some(url) = safe_url(url) {
            out.push(Link {
                title: url.clone(),
                url,
            });
        }
    }
    out
}

/// Counts per status.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct Counts {
    /// By sync status.
    pub sync: BTreeMap<String, usize>,
    /// By health status.
    pub health: BTreeMap<String, usize>,
}

/// A page of apps.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppList {
    /// This page.
    pub items: Vec<AppSummary>,
    /// Apps matching the filters (all pages).
    pub total: usize,
    /// Counts over the apps matching the filters.
    pub counts: Counts,
    /// Pass as `continue` for the next page; absent on the last.
    #[serde(rename = "continue", skip_serializing_if = "Option::is_none")]
    pub continue_: Option<String>,
    /// The live stream's id these items are current to: follow
    /// `/api/v1/stream/applications` with `Last-Event-ID` set to it.
    pub event_id: String,
}

/// The summary of an app.
pub fn summary(app: &Application) -> AppSummary {
    let status = app.status.as_ref();
    let source = app
        .spec
        .source
        .as_ref()
        .or_else(|| app.spec.sources.as_ref().and_then(|s| s.first()));
    let last_synced_at = status
        .and_then(|s| s.operation_state.as_ref())
        .and_then(|o| o.finished_at.clone())
        .or_else(|| {
            status
                .and_then(|s| s.history.as_ref())
                .and_then(|h| h.last())
                .map(|h| h.deployed_at.clone())
        })
        .unwrap_or_default();
    AppSummary {
        name: app.metadata.name.clone().unwrap_or_default(),
        project: project_of(app).to_owned(),
        labels: app.metadata.labels.clone().unwrap_or_default(),
        repo_url: source.map(|s| s.repo_url.clone()).unwrap_or_default(),
        path: source.and_then(|s| s.path.clone()).unwrap_or_default(),
        chart: source.and_then(|s| s.chart.clone()).unwrap_or_default(),
        target_revision: source
            .and_then(|s| s.target_revision.clone())
            .unwrap_or_else(|| "HEAD".into()),
        dest_server: app.spec.destination.server.clone().unwrap_or_default(),
        dest_name: app.spec.destination.name.clone().unwrap_or_default(),
        dest_namespace: app.spec.destination.namespace.clone().unwrap_or_default(),
        sync_status: status
            .and_then(|s| s.sync.as_ref())
            .map(|s| s.status.clone())
            .unwrap_or_else(|| "Unknown".into()),
        revision: status
            .and_then(|s| s.sync.as_ref())
            .and_then(|s| s.revision.clone())
            .unwrap_or_default(),
        health_status: status
            .and_then(|s| s.health.as_ref())
            .map(|h| h.status.clone())
            .unwrap_or_else(|| "Unknown".into()),
        operation_phase: status
            .and_then(|s| s.operation_state.as_ref())
            .map(|o| o.phase.clone())
            .unwrap_or_default(),
        last_synced_at,
        automated: app
            .spec
            .sync_policy
            .as_ref()
            .and_then(|p| p.automated.as_ref())
            .is_some_and(|a| a.enabled != Some(false)),
        resource_count: status
            .and_then(|s| s.resources.as_ref())
            .map_or(0, Vec::len),
        conditions: status
            .and_then(|s| s.conditions.as_ref())
            .map(|c| c.iter().map(|c| c.type_.clone()).collect())
            .unwrap_or_default(),
        resource_version: app.metadata.resource_version.clone().unwrap_or_default(),
        links: links(app),
    }
}

/// The app's project (`default` when unset).
pub fn project_of(app: &Application) -> &str {
    if app.spec.project.is_empty() {
        "default"
    } else {
        &app.spec.project
    }
}

/// The RBAC object of an app: `PROJECT/NAME`.
pub fn rbac_object(app: &Application) -> String {
    format!(
        "{}/{}",
        project_of(app),
        app.metadata.name.as_deref().unwrap_or_default()
    )
}

fn list_of(text: &Option<String>) -> Vec<String> {
    text.as_deref()
        .map(|t| {
            t.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

fn normalise_repo(url: &str) -> String {
    url.trim()
        .trim_end_matches('/')
        .trim_end_matches(".git")
        .to_ascii_lowercase()
}

/// What the filters and counts look at, borrowed from an app or from its
/// summary: a list filters and counts every app but builds a summary
/// (a dozen strings and the labels, cloned) only for the page it returns.
struct Fields<'a> {
    name: &'a str,
    project: &'a str,
    labels: Option<&'a BTreeMap<String, String>>,
    repo_url: &'a str,
    dest_server: &'a str,
    dest_name: &'a str,
    dest_namespace: &'a str,
    sync_status: &'a str,
    health_status: &'a str,
}

impl<'a> Fields<'a> {
    /// The same values [`summary`] gives.
    fn of_app(app: &'a Application) -> Fields<'a> {
        let status = app.status.as_ref();
        let source = app
            .spec
            .source
            .as_ref()
            .or_else(|| app.spec.sources.as_ref().and_then(|s| s.first()));
        Fields {
            name: app.metadata.name.as_deref().unwrap_or_default(),
            project: project_of(app),
            labels: app.metadata.labels.as_ref(),
            repo_url: source.map(|s| s.repo_url.as_str()).unwrap_or_default(),
            dest_server: app.spec.destination.server.as_deref().unwrap_or_default(),
            dest_name: app.spec.destination.name.as_deref().unwrap_or_default(),
            dest_namespace: app
                .spec
                .destination
                .namespace
                .as_deref()
                .unwrap_or_default(),
            sync_status: status
                .and_then(|s| s.sync.as_ref())
                .map_or("Unknown", |s| s.status.as_str()),
            health_status: status
                .and_then(|s| s.health.as_ref())
                .map_or("Unknown", |h| h.status.as_str()),
        }
    }

    fn of_summary(s: &'a AppSummary) -> Fields<'a> {
        Fields {
            name: &s.name,
            project: &s.project,
            labels: Some(&s.labels),
            repo_url: &s.repo_url,
            dest_server: &s.dest_server,
            dest_name: &s.dest_name,
            dest_namespace: &s.dest_namespace,
            sync_status: &s.sync_status,
            health_status: &s.health_status,
        }
    }
}

/// The filters of a list request, parsed once.
struct Filter {
    projects: Vec<String>,
    sync: Vec<String>,
    health: Vec<String>,
    selector: Selector,
    search: Option<String>,
    repo: Option<String>,
    cluster: Option<String>,
    namespace: Option<String>,
}

impl Filter {
    fn new(p: &ListParams) -> Result<Filter, String> {
        Ok(Filter {
            projects: list_of(&p.project),
            sync: list_of(&p.sync),
            health: list_of(&p.health),
            selector: Selector::parse(p.selector.as_deref().unwrap_or(""))?,
            search: p
                .search
                .as_deref()
                .map(|s| s.trim().to_lowercase())
                .filter(|s| !s.is_empty()),
            repo: p
                .repo
                .as_deref()
                .map(normalise_repo)
                .filter(|s| !s.is_empty()),
            cluster: p.cluster.clone().filter(|s| !s.is_empty()),
            namespace: p.namespace.clone().filter(|s| !s.is_empty()),
        })
    }

    fn matches(&self, s: &Fields<'_>) -> bool {
        let none = BTreeMap::new();
        let any_of =
            |wanted: &[String], v: &str| wanted.is_empty() || wanted.iter().any(|w| w == v);
        any_of(&self.projects, s.project)
            && any_of(&self.sync, s.sync_status)
            && any_of(&self.health, s.health_status)
            && self.selector.matches(s.labels.unwrap_or(&none))
            && self.search.as_ref().is_none_or(|q| {
                // Names are lower-case (Kubernetes requires it); lower
                // only one that is not, rather than every name.
                if s.name.chars().any(char::is_uppercase) {
                    s.name.to_lowercase().contains(q.as_str())
                } else {
                    s.name.contains(q.as_str())
                }
            })
            && self
                .repo
                .as_ref()
                .is_none_or(|r| normalise_repo(s.repo_url) == *r)
            && self
                .cluster
                .as_ref()
                .is_none_or(|c| s.dest_server == c || s.dest_name == c)
            && self
                .namespace
                .as_ref()
                .is_none_or(|n| s.dest_namespace == n)
    }
}

/// The list's filters as a predicate, for the live stream.
pub fn stream_filter(
    p: &ListParams,
) -> ApiResult<impl Fn(&AppSummary) -> bool + Send + Sync + 'static> {
    let f = Filter::new(p).map_err(ApiError::BadRequest)?;
    Ok(move |s: &AppSummary| f.matches(&Fields::of_summary(s)))
}

/// List apps the caller may see, filtered, a page at a time, with counts.
#[utoipa::path(get, path = "/api/v1/applications", tag = "applications",
    params(ListParams),
    responses((status = 200, body = AppList), (status = 400, body = crate::error::ErrorBody),
              (status = 401, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<Shared>,
    who: Principal,
    Params(params): Params<ListParams>,
) -> ApiResult<axum::Json<AppList>> {
    let filter = Filter::new(&params).map_err(ApiError::BadRequest)?;
    let limit = params.limit.unwrap_or(100).clamp(1, 1000) as usize;
    let (apps, seq) = state.apps.snapshot();
    // Every app is checked, filtered and counted; only the page's are
    // summarised. RBAC is resolved once for the caller (`Scope`), not
    // asked of casbin per app.
    let visible = state.scope(&who, "applications", "get");
    let mut object = String::new();
    let mut sync_counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut health_counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut total = 0;
    let mut items = Vec::new();
    let mut more = false;
    let after = params.continue_.as_deref().filter(|c| !c.is_empty());
    for app in &apps {
        let f = Fields::of_app(app);
        object.clear();
        object.push_str(f.project);
        object.push('/');
        object.push_str(f.name);
        if !visible.allows(&object) || !filter.matches(&f) {
            continue;
        }
        total += 1;
        *sync_counts.entry(f.sync_status).or_default() += 1;
        *health_counts.entry(f.health_status).or_default() += 1;
        if after.is_some_and(|a| f.name <= a) {
            continue;
        }
        if items.len() < limit {
            items.push(summary(app));
        } else {
            more = true;
        }
    }
    let continue_ = more.then(|| items.last().map(|s| s.name.clone())).flatten();
    let owned = |m: BTreeMap<&str, usize>| m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    Ok(axum::Json(AppList {
        items,
        total,
        counts: Counts {
            sync: owned(sync_counts),
            health: owned(health_counts),
        },
        continue_,
        event_id: state.apps.event_id(seq),
    }))
}

/// The app `name`, if the caller may `action` it (404 before 403, so a
/// caller cannot probe names it may not see... only for `get`).
pub fn find(
    state: &AppState,
    who: &Principal,
    name: &str,
    action: &str,
) -> ApiResult<std::sync::Arc<Application>> {
    let Some(app) = state.apps.get(name) else {
        return Err(ApiError::NotFound(format!(
            "no application {name} in namespace {}",
            state.config.namespace
        )));
    };
    if !state.can(who, "applications", "get", &rbac_object(&app)) {
        return Err(ApiError::NotFound(format!(
            "no application {name} in namespace {}",
            state.config.namespace
        )));
    }
    state.authorize(who, "applications", action, &rbac_object(&app))?;
    Ok(app)
}

/// One app, whole.
#[utoipa::path(get, path = "/api/v1/applications/{name}", tag = "applications",
    params(("name" = String, Path, description = "Application name")),
    responses((status = 200, body = crate::openapi::ApplicationDoc), (status = 401, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn get(
    State(state): State<Shared>,
    who: Principal,
    PathArgs(name): PathArgs<String>,
) -> ApiResult<Response> {
    let app = find(&state, &who, &name, "get")?;
    Ok(masked(to_json(&*app)?))
}

/// One entry of history.
#[utoipa::path(get, path = "/api/v1/applications/{name}/history", tag = "applications",
    params(("name" = String, Path, description = "Application name")),
    responses((status = 200, body = Vec<Object>), (status = 401, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn history(
    State(state): State<Shared>,
    who: Principal,
    PathArgs(name): PathArgs<String>,
) -> ApiResult<Response> {
    let app = find(&state, &who, &name, "get")?;
    let history = app
        .status
        .as_ref()
        .and_then(|s| s.history.clone())
        .unwrap_or_default();
    Ok(masked(to_json(&history)?))
}

/// Create or update parameters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CreateParams {
    /// Update the app when it exists with another spec.
    pub upsert: Option<bool>,
    /// Skip checking the project and sync options.
    pub validate: Option<bool>,
}

fn check_name(name: &str) -> ApiResult<()> {
    if sextant_model::names::is_dns_subdomain(name) {
        Ok(())
    } else {
        Err(ApiError::BadRequest(format!(
            "`{name}` is not a valid application name: lower-case letters, digits, `-` and `.`, starting and ending with a letter or digit, at most 253 characters"
        )))
    }
}

/// Check what a new or changed app asks for: a source, a known project,
/// known sync options.
fn validate(state: &AppState, app: &Application, strict: bool) -> ApiResult<()> {
    let name = app.metadata.name.as_deref().unwrap_or_default();
    check_name(name)?;
    if app.spec.source.is_none() && app.spec.sources.as_ref().is_none_or(Vec::is_empty) {
        return Err(ApiError::BadRequest(format!(
            "application {name} has no source (spec.source.repoURL)"
        )));
    }
    if let Some(source) = &app.spec.source
        && source.repo_url.trim().is_empty()
    {
        return Err(ApiError::BadRequest(format!(
            "application {name}: spec.source.repoURL is empty"
        )));
    }
    if !strict {
        return Ok(());
    }
    let project = project_of(app);
    if project != "default" && state.projects.get(project).is_none() {
        return Err(ApiError::BadRequest(format!(
            "application {name} names project {project}, which does not exist in namespace {}; create it or use `default` (or pass validate=false)",
            state.config.namespace
        )));
    }
    let options = app
        .spec
        .sync_policy
        .as_ref()
        .and_then(|p| p.sync_options.clone())
        .unwrap_or_default();
    sextant_engine::sync::SyncOptions::parse_app(options.iter().map(String::as_str))
        .map_err(|e| ApiError::BadRequest(format!("application {name}: {e}")))?;
    Ok(())
}

fn apps_api(state: &AppState) -> Api<Application> {
    Api::namespaced(state.client.clone(), &state.config.namespace)
}

/// Create an app from a spec (`?upsert=true` updates one that exists).
#[utoipa::path(post, path = "/api/v1/applications", tag = "applications",
    params(CreateParams),
    request_body = crate::openapi::ApplicationDoc,
    responses((status = 200, body = crate::openapi::ApplicationDoc), (status = 400, body = crate::error::ErrorBody),
              (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
              (status = 409, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<Shared>,
    who: Principal,
    Params(params): Params<CreateParams>,
    Body(mut app): Body<Application>,
) -> ApiResult<Response> {
    app.api_version = sextant_model::group::selected().api_version().to_owned();
    app.kind = "Application".to_owned();
    app.metadata.namespace = Some(state.config.namespace.clone());
    app.status = None;
    app.operation = None;
    let name = app.metadata.name.clone().unwrap_or_default();
    state.authorize(&who, "applications", "create", &rbac_object(&app))?;
    validate(&state, &app, params.validate != Some(false))?;
    let api = apps_api(&state);
    app.metadata.resource_version = None;
    match api.create(&PostParams::default(), &app).await {
        Ok(created) => {
            tracing::info!(app = %name, by = %who.name, "application created");
            Ok(masked(to_json(&created)?))
        }
        Err(kube::Error::Api(s)) if s.code == 409 => {
            let existing = api
                .get(&name)
                .await
                .map_err(|e| ApiError::from_kube(&format!("reading application {name}"), &e))?;
            if existing.spec == app.spec {
                return Ok(masked(to_json(&existing)?));
            }
            if params.upsert != Some(true) {
                return Err(ApiError::Conflict(format!(
                    "application {name} exists with another spec; update it (PUT) or create with upsert=true"
                )));
            }
            state.authorize(&who, "applications", "update", &rbac_object(&existing))?;
            let patch = json!({
                "metadata": {"resourceVersion": existing.metadata.resource_version},
                "spec": app.spec,
            });
            let updated = api
                .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .map_err(|e| ApiError::from_kube(&format!("updating application {name}"), &e))?;
            Ok(masked(to_json(&updated)?))
        }
        Err(e) => Err(ApiError::from_kube(
            &format!("creating application {name}"),
            &e,
        )),
    }
}

/// Replace an app's spec (and labels, annotations). The body's
/// `metadata.resourceVersion`, when given, must be current (409 if not).
#[utoipa::path(put, path = "/api/v1/applications/{name}", tag = "applications",
    params(("name" = String, Path, description = "Application name"), CreateParams),
    request_body = crate::openapi::ApplicationDoc,
    responses((status = 200, body = crate::openapi::ApplicationDoc), (status = 400, body = crate::error::ErrorBody),
              (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn update(
    State(state): State<Shared>,
    who: Principal,
    PathArgs(name): PathArgs<String>,
    Params(params): Params<CreateParams>,
    Body(app): Body<Application>,
) -> ApiResult<Response> {
    let current = find(&state, &who, &name, "update")?;
    if app.metadata.name.as_deref().is_some_and(|n| n != name) {
        return Err(ApiError::BadRequest(format!(
            "the body names application {}, the path {name}; renaming is not possible",
            app.metadata.name.as_deref().unwrap_or_default()
        )));
    }
    let mut wanted = app.clone();
    wanted.metadata.name = Some(name.clone());
    if project_of(&wanted) != project_of(&current) {
        state.authorize(&who, "applications", "update", &rbac_object(&wanted))?;
    }
    validate(&state, &wanted, params.validate != Some(false))?;
    // Conditional on the caller's resourceVersion when it sends one; a
    // spec without it replaces the spec whatever the controller wrote to
    // the status meanwhile.
    let mut metadata = json!({});
    if let Some(rv) = &app.metadata.resource_version {
        metadata["resourceVersion"] = json!(rv);
    }
    if let Some(labels) = &app.metadata.labels {
        metadata["labels"] = json!(labels);
    }
    if let Some(annotations) = &app.metadata.annotations {
        metadata["annotations"] = json!(annotations);
    }
    // A merge patch of the whole spec: fields the body leaves out are
    // removed, as a replace would.
    let mut spec = to_json(&app.spec)?;
    let old = to_json(&current.spec)?;
    null_missing(&old, &mut spec);
    let patch = json!({"metadata": metadata, "spec": spec});
    let updated = apps_api(&state)
        .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(|e| ApiError::from_kube(&format!("updating application {name}"), &e))?;
    tracing::info!(app = %name, by = %who.name, "application updated");
    Ok(masked(to_json(&updated)?))
}

/// Set to null every key of `old` that `new` lacks (recursively into
/// objects), so a merge patch removes it.
fn null_missing(old: &Value, new: &mut Value) {
    if let (Value::Object(o), Value::Object(n)) = (old, new) {
        for (k, ov) in o {
            match n.get_mut(k) {
                None => {
                    n.insert(k.clone(), Value::Null);
                }
                Some(nv) => null_missing(ov, nv),
            }
        }
    }
}

/// Delete parameters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// Delete the app's resources with it (default true).
    pub cascade: Option<bool>,
    /// `foreground` or `background` for the resources.
    pub propagation_policy: Option<String>,
}

/// Delete an app; by default its resources go with it (the controller
/// deletes them before the app, through its finalizer).
#[utoipa::path(delete, path = "/api/v1/applications/{name}", tag = "applications",
    params(("name" = String, Path, description = "Application name"), DeleteQuery),
    responses((status = 200, body = Object), (status = 400, body = crate::error::ErrorBody),
              (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete(
    State(state): State<Shared>,
    who: Principal,
    PathArgs(name): PathArgs<String>,
    Params(q): Params<DeleteQuery>,
) -> ApiResult<axum::Json<Value>> {
    let app = find(&state, &who, &name, "delete")?;
    let cascade = q.cascade.unwrap_or(true);
    let finalizer = match q.propagation_policy.as_deref() {
        None | Some("") | Some("foreground") => RESOURCES_FINALIZER.to_owned(),
        Some("background") => format!("{RESOURCES_FINALIZER}/background"),
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "propagationPolicy `{other}` is not foreground or background"
            )));
        }
    };
    let api = apps_api(&state);
    let what = format!("preparing the deletion of application {name}");
    let mut current = (*app).clone();
    for attempt in 0.. {
        let mut finalizers: Vec<String> = current
            .metadata
            .finalizers
            .clone()
            .unwrap_or_default()
            .into_iter()
            .filter(|f| {
                !f.starts_with(RESOURCES_FINALIZER) && !f.starts_with(ARGOCD_RESOURCES_FINALIZER)
            })
            .collect();
        if cascade {
            finalizers.push(finalizer.clone());
        }
        let patch = json!({"metadata": {
            "resourceVersion": current.metadata.resource_version,
            "finalizers": finalizers,
        }});
        match api
            .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            Ok(_) => break,
            // The controller wrote the app meanwhile: read it again.
            Err(kube::Error::Api(s)) if s.code == 409 && attempt < 5 => {
                current = api
                    .get(&name)
                    .await
                    .map_err(|e| ApiError::from_kube(&what, &e))?;
            }
            Err(e) => return Err(ApiError::from_kube(&what, &e)),
        }
    }
    record_from(
        &state.client,
        &app,
        Reason::DeleteRequested,
        &format!(
            "deletion requested by {}{}",
            who.name,
            if cascade {
                " (with its resources)"
            } else {
                " (its resources are kept)"
            }
        ),
        "sextant-server",
    )
    .await;
    api.delete(&name, &DeleteParams::default())
        .await
        .map_err(|e| ApiError::from_kube(&format!("deleting application {name}"), &e))?;
    tracing::info!(app = %name, by = %who.name, cascade, "application deletion requested");
    Ok(axum::Json(json!({"deleted": name, "cascade": cascade})))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    #[test]
    fn label_selectors_match_as_kubectl_reads_them() {
        let l = labels(&[("team", "pay"), ("tier", "web")]);
        let sel = |t: &str| Selector::parse(t).map(|s| s.matches(&l));
        assert_eq!(sel("team=pay"), Ok(true));
        assert_eq!(sel("team==pay,tier=web"), Ok(true));
        assert_eq!(sel("team!=pay"), Ok(false));
        assert_eq!(sel("tier"), Ok(true));
        assert_eq!(sel("!tier"), Ok(false));
        assert_eq!(sel("env=prod"), Ok(false));
        assert_eq!(sel(""), Ok(true));
        assert!(sel("=x").is_err());
    }

    #[test]
    fn a_merge_patch_of_a_spec_removes_what_the_new_spec_lacks() {
        let old = json!({"a": 1, "b": {"c": 2, "d": 3}});
        let mut new = json!({"b": {"c": 5}});
        null_missing(&old, &mut new);
        assert_eq!(new, json!({"a": null, "b": {"c": 5, "d": null}}));
    }

    #[test]
    fn only_plain_web_links_are_shown() {
        assert_eq!(
            safe_url("https://grafana.example/d/1?x=2"),
            Some("https://grafana.example/d/1?x=2".into())
        );
        assert_eq!(safe_url(" http://h/ "), Some("http://h/".into()));
        for bad in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "https://user:pw@evil.example/",
            "https://h/\"onmouseover=\"alert(1)",
            "https://h/<script>",
            "//evil.example",
            "https://",
            "vbscript:x",
        ] {
            assert_eq!(safe_url(bad), None, "{bad}");
        }
        let mut app = Application::new("web", Default::default());
        app.metadata.annotations = Some(BTreeMap::from([
            (
                "link.argocd.argoproj.io/dashboard".to_owned(),
                "https://grafana.example/d/web".to_owned(),
            ),
            (
                "link.sextant.dev/xss".to_owned(),
                "javascript:alert(document.cookie)".to_owned(),
            ),
        ]));
        let l = links(&app);
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].title, "dashboard");
    }

    #[test]
    fn the_list_filters_an_app_as_the_stream_filters_its_summary() {
        let app: Application = match serde_json::from_value(json!({
            "apiVersion": "sextant.dev/v1alpha1", "kind": "Application",
            "metadata": {"name": "pay-api", "labels": {"team": "pay"}},
            "spec": {
                "project": "payments",
                "sources": [{"repoURL": "https://git.example.com/pay/deploy.git/", "path": "api"}],
                "destination": {"name": "prod", "namespace": "pay"},
            },
            "status": {"health": {"status": "Degraded"}},
        })) {
            Ok(a) => a,
            Err(e) => panic!("fixture: {e}"),
        };
        let bare = Application::new("bare", sextant_model::ApplicationSpec::default());
        let queries = [
            "",
            "project=payments",
            "project=default",
            "sync=Unknown",
            "sync=Synced",
            "health=Degraded,Healthy",
            "health=Unknown",
            "selector=team%3Dpay",
            "selector=!team",
            "search=PAY",
            "search=api",
            "repo=https://git.example.com/pay/deploy",
            "cluster=prod",
            "cluster=",
            "namespace=pay",
            "namespace=other",
        ];
        for q in queries {
            let params: ListParams = match serde_urlencoded_like(q) {
                Some(p) => p,
                None => panic!("query {q}"),
            };
            let filter = match Filter::new(&params) {
                Ok(f) => f,
                Err(e) => panic!("{q}: {e}"),
            };
            for a in [&app, &bare] {
                let s = summary(a);
                assert_eq!(
                    filter.matches(&Fields::of_app(a)),
                    filter.matches(&Fields::of_summary(&s)),
                    "{q} on {:?}",
                    a.metadata.name
                );
            }
        }
    }

    /// A query string as the list's parameters (what axum's Query does).
    fn serde_urlencoded_like(q: &str) -> Option<ListParams> {
        let mut map = serde_json::Map::new();
        for pair in q.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=')?;
            map.insert(k.to_owned(), json!(v.replace("%3D", "=")));
        }
        serde_json::from_value(Value::Object(map)).ok()
    }

    #[test]
    fn names_are_checked() {
        assert!(check_name("web-1.prod").is_ok());
        assert!(check_name("Web").is_err());
        assert!(check_name("-web").is_err());
        assert!(check_name("").is_err());
    }
}
