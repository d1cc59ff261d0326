//! What an app is made of: its resource tree (from the watched objects),
//! its managed resources with live and desired state, the server-side
//! diff of what a sync would deploy, the manifests at a revision, and the
//! Events of the app and its objects. Desired state is rendered through
//! the same code the controller uses (render options, credentials from
//! repository Secrets, the tracking id on every object), and diffs by a
//! server-side dry-run (`sextant-cluster`). Secret values are masked in
//! every answer.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use axum::extract::State;
use axum::response::Response;
use k8s_openapi::api::core::v1::Event;
use kube::Api;
use kube::api::ListParams as KubeListParams;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sextant_cluster::{DiffSettings, diff_objects};
use sextant_controller::source::{
    AppRef, AppSources, RenderExtras, app_sources, chart_of, destination_namespace, ignore_rules,
    render_options,
};
use sextant_engine::diff::IgnoreDifferences;
use sextant_model::Application;
use sextant_render::{Outcome, Request as RenderRequest};
use utoipa::{IntoParams, ToSchema};

use super::apps::find;
use super::{Params, PathArgs, masked, to_json};
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::state::{AppState, Shared};
use crate::watch::tree::{NodeKey, TreeNode};

/// A node of the tree with the app's sync status for it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppTreeNode {
    /// The node.
    #[serde(flatten)]
    pub node: TreeNode,
    /// Synced / OutOfSync for objects the app manages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync_status: Option<String>,
    /// A hook's phase (Running, Succeeded, Failed), when it is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hook_phase: Option<String>,
}

/// An app's resource tree.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResourceTree {
    /// Every node; `parentRefs` links them.
    pub nodes: Vec<AppTreeNode>,
}

/// Sync statuses and hook phases of an app's objects, by identity.
fn statuses(app: &Application) -> (BTreeMap<NodeKey, String>, BTreeMap<NodeKey, String>) {
    let mut sync = BTreeMap::new();
    let mut hooks = BTreeMap::new();
    let status = app.status.as_ref();
    for r in status
        .and_then(|s| s.resources.as_ref())
        .into_iter()
        .flatten()
    {
        if let Some(st) = &r.status {
            sync.insert(
                NodeKey {
                    group: r.group.clone(),
                    kind: r.kind.clone(),
                    namespace: r.namespace.clone().unwrap_or_default(),
                    name: r.name.clone(),
                },
                st.clone(),
            );
        }
    }
    for r in status
        .and_then(|s| s.operation_state.as_ref())
        .and_then(|o| o.sync_result.as_ref())
        .and_then(|r| r.resources.as_ref())
        .into_iter()
        .flatten()
    {
        if let (Some(_), Some(phase)) = (&r.hook_type, &r.hook_phase) {
            hooks.insert(
                NodeKey {
                    group: r.group.clone(),
                    kind: r.kind.clone(),
                    namespace: r.namespace.clone(),
                    name: r.name.clone(),
                },
                phase.clone(),
            );
        }
    }
    (sync, hooks)
}

/// The tree of `app` as served.
pub fn app_tree(state: &AppState, app: &Application) -> ResourceTree {
    let name = app.metadata.name.as_deref().unwrap_or_default();
    let (sync, hooks) = statuses(app);
    let nodes = state
        .tree
        .tree(name)
        .into_iter()
        .map(|node| {
            let key = NodeKey::of_node(&node);
            AppTreeNode {
                sync_status: node.tracked.then(|| sync.get(&key).cloned()).flatten(),
                hook_phase: hooks.get(&key).cloned(),
                node,
            }
        })
        .collect();
    ResourceTree { nodes }
}

/// The app's objects and what they own, with health and sync on each.
#[utoipa::path(get, path = "/api/v1/applications/{name}/resource-tree", tag = "resources",
    params(("name" = String, Path, description = "Application name")),
    responses((status = 200, body = ResourceTree), (status = 401, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn tree(
    State(state): State<Shared>,
    who: Principal,
    PathArgs(name): PathArgs<String>,
) -> ApiResult<axum::Json<ResourceTree>> {
    let app = find(&state, &who, &name, "get")?;
    Ok(axum::Json(app_tree(&state, &app)))
}

/// Render `app` at `revision` as the controller would, each object with
/// the app's tracking id.
pub async fn render(
    state: &AppState,
    app: &Application,
    revision: &str,
) -> ApiResult<(Outcome, Vec<Value>)> {
    let name = app.metadata.name.clone().unwrap_or_default();
    let source = match app_sources(app)
        .map_err(|e| ApiError::BadRequest(format!("application {name}: {e}")))?
    {
        AppSources::Single(source) => source.clone(),
        AppSources::Multi(list) => return render_multi(state, &name, app, list, revision).await,
    };
    let namespace = destination_namespace(app);
    let options = render_options(AppRef::of(app), &source, &namespace, &render_extras(state))
        .map_err(|e| ApiError::BadRequest(format!("application {name}: {e}")))?;
    let credentials = state
        .settings
        .repo_creds
        .lookup(&source.repo_url)
        .map(|f| f.credentials);
    let chart = chart_of(&source).map(str::to_owned);
    let (_, access) = state.settings.repo_creds.chart_access(&source.repo_url);
    let renderer = state.renderer.clone();
    let path = source.path.clone().unwrap_or_else(|| ".".into());
    let revision = revision.to_owned();
    let repo = source.repo_url.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        renderer.render(&RenderRequest {
            repo: &repo,
            revision: &revision,
            path: &path,
            options: &options,
            credentials: credentials.as_ref(),
            chart: chart.as_deref().map(|name| sextant_render::ChartSpec {
                name,
                access: &access,
                fresh: false,
            }),
        })
    })
    .await
    .map_err(|e| ApiError::Internal(format!("the render task stopped: {e}")))?
    .map_err(|e| {
        ApiError::BadRequest(crate::mask::scrub(&format!(
            "application {name}: could not render {} at {}: {}",
            source.repo_url,
            source.target_revision.as_deref().unwrap_or("HEAD"),
            sextant_controller::source::error_chain(&e)
        )))
    })?;
    let mut desired = outcome.rendered.objects.clone();
    for obj in &mut desired {
        state.tree.tracking().mark(&name, obj);
    }
    Ok((outcome, desired))
}

/// [`render`] of an app with several sources.
async fn render_multi(
    state: &AppState,
    name: &str,
    app: &Application,
    list: &[sextant_model::application::ApplicationSource],
    revision: &str,
) -> ApiResult<(Outcome, Vec<Value>)> {
    use sextant_controller::source::{Target, render_sources, wanted_revisions};
    let bad =
        |e: String| ApiError::BadRequest(crate::mask::scrub(&format!("application {name}: {e}")));
    let wanted = wanted_revisions(list, Some(revision)).map_err(bad)?;
    let renderer = state.renderer.clone();
    let settings = state.settings.clone();
    let extras = render_extras(state);
    let (owned_name, project) = (name.to_owned(), app.spec.project.clone());
    let (namespace, list) = (destination_namespace(app), list.to_vec());
    let fetched = tokio::task::spawn_blocking(move || {
        render_sources(
            &renderer,
            &settings.repo_creds,
            &Target {
                app: AppRef {
                    name: &owned_name,
                    project: &project,
                },
                namespace: &namespace,
                applications_namespace: None,
                fresh: false,
                extras: &extras,
            },
            &list,
            &wanted,
        )
    })
    .await
    .map_err(|e| ApiError::Internal(format!("the render task stopped: {e}")))?
    .map_err(|e| bad(format!("could not render: {e}")))?;
    let mut desired = fetched.outcome.rendered.objects.clone();
    for obj in &mut desired {
        state.tree.tracking().mark(name, obj);
    }
    Ok((fetched.outcome, desired))
}

/// What the settings add to a render, as the controller reads them: the
/// settings ConfigMap's `kustomize.buildOptions` and the declared config
/// management plugins (both watched with the namespace's ConfigMaps).
fn render_extras(state: &AppState) -> RenderExtras {
    let maps: std::collections::BTreeMap<&str, _> = sextant_render::plugin::PLUGIN_CONFIG_MAPS
        .iter()
        .filter_map(|name| Some((*name, state.settings.configmap(name)?)))
        .collect();
    let (plugins, _problems) =
        sextant_controller::plugins::declared(state.settings.repo_creds.namespace(), |n| {
            maps.get(n)
        });
    RenderExtras {
        kustomize_build_options: sextant_controller::settings::config_map::read(
            &state.settings.general(),
        )
        .kustomize_build_options
        .unwrap_or_default(),
        plugins: std::sync::Arc::new(plugins),
    }
}

fn target_revision(app: &Application) -> String {
    // Several sources: each follows its own targetRevision.
    if app.spec.sources.as_ref().is_some_and(|s| !s.is_empty()) {
        return String::new();
    }
    app.spec
        .source
        .as_ref()
        .and_then(|s| s.target_revision.as_deref())
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .unwrap_or("HEAD")
        .to_owned()
}

fn synced_revision(app: &Application) -> String {
    app.status
        .as_ref()
        .and_then(|s| s.sync.as_ref())
        .and_then(|s| s.revision.clone())
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| target_revision(app))
}

/// Revision parameter.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RevisionParams {
    /// A branch, tag or commit (default: see the route).
    pub revision: Option<String>,
}

/// One managed object with its live and desired state.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ManagedResource {
    /// API group.
    pub group: String,
    /// Version.
    pub version: String,
    /// Kind.
    pub kind: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Synced / OutOfSync.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Health.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<String>,
    /// Tracked but gone from Git.
    pub requires_pruning: bool,
    /// The live object (Secret values masked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live_state: Option<Value>,
    /// What Git has for it at the compared revision (masked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_state: Option<Value>,
}

/// The app's managed objects: live state from the watch, desired state
/// rendered at the revision last compared.
#[utoipa::path(get, path = "/api/v1/applications/{name}/managed-resources", tag = "resources",
    params(("name" = String, Path, description = "Application name")),
    responses((status = 200, body = Vec<ManagedResource>), (status = 400, body = crate::error::ErrorBody),
              (status = 401, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn managed(
    State(state): State<Shared>,
    who: Principal,
    PathArgs(name): PathArgs<String>,
) -> ApiResult<Response> {
    let app = find(&state, &who, &name, "get")?;
    let desired: BTreeMap<NodeKey, Value> = match render(&state, &app, &synced_revision(&app)).await
    {
        Ok((_, objs)) => objs.into_iter().map(|o| (NodeKey::of(&o), o)).collect(),
        Err(e) => {
            tracing::debug!(app = %name, error = %e, "managed resources without desired state");
            BTreeMap::new()
        }
    };
    let items: Vec<ManagedResource> = app
        .status
        .as_ref()
        .and_then(|s| s.resources.clone())
        .unwrap_or_default()
        .into_iter()
        .map(|r| {
            let key = NodeKey {
                group: r.group.clone(),
                kind: r.kind.clone(),
                namespace: r.namespace.clone().unwrap_or_default(),
                name: r.name.clone(),
            };
            ManagedResource {
                live_state: state.tree.live(&key).map(|v| (*v).clone()),
                target_state: desired.get(&key).cloned(),
                group: r.group,
                version: r.version,
                kind: r.kind,
                namespace: key.namespace.clone(),
                name: r.name,
                status: r.status,
                health: r.health.map(|h| h.status),
                requires_pruning: r.requires_pruning.unwrap_or(false),
            }
        })
        .collect();
    Ok(masked(to_json(&items)?))
}

/// The server-side diff of what a sync would deploy (the app's target
/// revision as Git has it now, or `revision`): per object, with changed
/// paths and a unified diff, Secret values masked; plus the tracked
/// objects a sync with prune would delete.
#[utoipa::path(get, path = "/api/v1/applications/{name}/diff", tag = "resources",
    params(("name" = String, Path, description = "Application name"), RevisionParams),
    responses((status = 200, body = Object), (status = 400, body = crate::error::ErrorBody),
              (status = 401, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn diff(
    State(state): State<Shared>,
    who: Principal,
    PathArgs(name): PathArgs<String>,
    Params(p): Params<RevisionParams>,
) -> ApiResult<Response> {
    let app = find(&state, &who, &name, "get")?;
    let revision = p
        .revision
        .filter(|r| !r.trim().is_empty())
        .unwrap_or_else(|| target_revision(&app));
    let (outcome, desired) = render(&state, &app, &revision).await?;
    let rules =
        ignore_rules(&app).map_err(|e| ApiError::BadRequest(format!("application {name}: {e}")))?;
    let ignore = IgnoreDifferences::new(&rules, &[]).map_err(|e| {
        ApiError::BadRequest(format!(
            "application {name} has invalid ignoreDifferences: {e}"
        ))
    })?;
    // diff_objects' future is not provably Send (a higher-ranked closure
    // inside), so it runs on a blocking thread of its own.
    let rendered: HashSet<NodeKey> = desired.iter().map(NodeKey::of).collect();
    let client = state.client.clone();
    let handle = tokio::runtime::Handle::current();
    let created = sextant_controller::source::namespaces_a_sync_creates(&app);
    let report = tokio::task::spawn_blocking(move || {
        handle.block_on(diff_objects(
            &client,
            &desired,
            DiffSettings {
                ignore: &ignore,
                concurrency: 8,
                created_namespaces: &created,
            },
        ))
    })
    .await
    .map_err(|e| ApiError::Internal(format!("the diff task stopped: {e}")))?;
    // `tracked` nodes carry exactly this app's id for themselves (the tree
    // cache checks that), so they are the app's inventory.
    let would_be_pruned: BTreeSet<NodeKey> = state
        .tree
        .tree(&name)
        .iter()
        .filter(|n| n.tracked)
        .map(NodeKey::of_node)
        .filter(|k| !rendered.contains(k))
        .collect();
    let mut doc = report.to_json();
    doc["application"] = json!(name);
    doc["revision"] = json!(revision);
    doc["commit"] = json!(outcome.commit.as_ref().map(ToString::to_string));
    doc["chartVersion"] = json!(outcome.version);
    doc["wouldBePruned"] = json!(would_be_pruned);
    doc["differs"] = json!(report.differs() || !would_be_pruned.is_empty());
    Ok(masked(doc))
}

/// The objects the app's source renders at `revision` (default: the
/// revision last compared), as Git has them (masked).
#[utoipa::path(get, path = "/api/v1/applications/{name}/manifests", tag = "resources",
    params(("name" = String, Path, description = "Application name"), RevisionParams),
    responses((status = 200, body = Object), (status = 400, body = crate::error::ErrorBody),
              (status = 401, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn manifests(
    State(state): State<Shared>,
    who: Principal,
    PathArgs(name): PathArgs<String>,
    Params(p): Params<RevisionParams>,
) -> ApiResult<Response> {
    let app = find(&state, &who, &name, "get")?;
    let revision = p
        .revision
        .filter(|r| !r.trim().is_empty())
        .unwrap_or_else(|| synced_revision(&app));
    let (outcome, _) = render(&state, &app, &revision).await?;
    Ok(masked(json!({
        "application": name,
        "revision": revision,
        "commit": outcome.commit.as_ref().map(ToString::to_string),
        "chartVersion": outcome.version,
        "sourceType": format!("{:?}", outcome.rendered.kind).to_lowercase(),
        "manifests": outcome.rendered.objects,
    })))
}

/// One Event.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppEvent {
    /// Normal or Warning.
    #[serde(rename = "type")]
    pub type_: String,
    /// Why (SyncSucceeded, BackOff, ...).
    pub reason: String,
    /// What happened.
    pub message: String,
    /// The object it is about: `Kind/namespace/name`.
    pub object: String,
    /// How many times.
    pub count: i32,
    /// When it was last seen (RFC 3339).
    pub last_seen: String,
    /// Who reported it.
    pub source: String,
}

fn event_of(e: &Event) -> AppEvent {
    let o = &e.involved_object;
    let last = e
        .last_timestamp
        .as_ref()
        .map(|t| t.0.to_string())
        .or_else(|| e.event_time.as_ref().map(|t| t.0.to_string()))
        .or_else(|| e.first_timestamp.as_ref().map(|t| t.0.to_string()))
        .unwrap_or_default();
    AppEvent {
        type_: e.type_.clone().unwrap_or_else(|| "Normal".into()),
        reason: e.reason.clone().unwrap_or_default(),
        message: crate::mask::scrub(&e.message.clone().unwrap_or_default()),
        object: format!(
            "{}/{}{}",
            o.kind.clone().unwrap_or_default(),
            o.namespace
                .as_deref()
                .map(|n| format!("{n}/"))
                .unwrap_or_default(),
            o.name.clone().unwrap_or_default()
        ),
        count: e.count.unwrap_or(1),
        last_seen: last,
        source: e
            .source
            .as_ref()
            .and_then(|s| s.component.clone())
            .or_else(|| e.reporting_component.clone())
            .unwrap_or_default(),
    }
}

/// The Events of the app and of the objects in its tree, newest first.
#[utoipa::path(get, path = "/api/v1/applications/{name}/events", tag = "resources",
    params(("name" = String, Path, description = "Application name")),
    responses((status = 200, body = Vec<AppEvent>), (status = 401, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn events(
    State(state): State<Shared>,
    who: Principal,
    PathArgs(name): PathArgs<String>,
) -> ApiResult<axum::Json<Vec<AppEvent>>> {
    let app = find(&state, &who, &name, "get")?;
    let ns = &state.config.namespace;
    let own: Api<Event> = Api::namespaced(state.client.clone(), ns);
    let mut out: Vec<(String, AppEvent)> = Vec::new();
    let selector = format!("involvedObject.kind=Application,involvedObject.name={name}");
    match own
        .list(&KubeListParams::default().fields(&selector).limit(500))
        .await
    {
        Ok(list) => {
            for e in list.items {
                if e.involved_object.uid.is_none() || e.involved_object.uid == app.metadata.uid {
                    let ev = event_of(&e);
                    out.push((ev.last_seen.clone(), ev));
                }
            }
        }
        Err(e) => {
            return Err(ApiError::from_kube(
                &format!("listing the Events of {name}"),
                &e,
            ));
        }
    }
    let nodes = state.tree.tree(&name);
    let uids: HashSet<&str> = nodes.iter().map(|n| n.uid.as_str()).collect();
    let namespaces: BTreeSet<&str> = nodes
        .iter()
        .map(|n| n.namespace.as_str())
        .filter(|n| !n.is_empty())
        .collect();
    for namespace in namespaces.into_iter().take(20) {
        let api: Api<Event> = Api::namespaced(state.client.clone(), namespace);
        if let Ok(list) = api.list(&KubeListParams::default().limit(1000)).await {
            for e in list.items {
                if e.involved_object
                    .uid
                    .as_deref()
                    .is_some_and(|u| uids.contains(u))
                {
                    let ev = event_of(&e);
                    out.push((ev.last_seen.clone(), ev));
                }
            }
        }
    }
    out.sort_by(|a, b| b.0.cmp(&a.0));
    Ok(axum::Json(
        out.into_iter().map(|(_, e)| e).take(500).collect(),
    ))
}
