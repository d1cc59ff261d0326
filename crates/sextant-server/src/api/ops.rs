//! Asking the controller to act: sync, rollback, terminate, refresh.
//!
//! These write what `sextant app` and `kubectl` write — an `operation` on
//! the Application (with the caller as `initiatedBy.username` and a fresh
//! request id), `status.operationState.phase: Terminating`, or the refresh
//! annotation — and the controller does the work. Each write is
//! conditional on the resourceVersion the check was made on, so a sync is
//! never requested over an operation that started meanwhile.

use axum::extract::State;
use kube::Api;
use kube::api::{Patch, PatchParams};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sextant_controller::events::{Reason, record_from};
use sextant_model::Application;
use sextant_model::annotations::{REFRESH, REQUEST_ID_INFO};
use utoipa::{IntoParams, ToSchema};

use super::apps::find;
use super::{Body, Params, PathArgs};
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::state::{AppState, Shared};

/// One object of a partial sync.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncResource {
    /// API group (`""` for core).
    #[serde(default)]
    pub group: String,
    /// Kind.
    pub kind: String,
    /// Namespace (absent for cluster-scoped objects).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
}

/// A sync request.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SyncRequest {
    /// Branch, tag or commit (default: the app's targetRevision, resolved
    /// when the sync starts).
    #[serde(default)]
    pub revision: Option<String>,
    /// Delete what Git no longer has.
    #[serde(default)]
    pub prune: bool,
    /// Run everything as a server-side dry-run; change nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// Sync only these objects (empty: all).
    #[serde(default)]
    pub resources: Vec<SyncResource>,
    /// Sync options for this sync only (`ApplyOutOfSyncOnly=true`, ...).
    #[serde(default)]
    pub sync_options: Vec<String>,
}

/// What was asked.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OperationResponse {
    /// The app.
    pub application: String,
    /// The request id; `status.operationState.operation.info` carries it
    /// once the controller runs it.
    pub request_id: String,
    /// What was asked, in words.
    pub message: String,
}

fn busy(app: &Application, name: &str) -> ApiResult<()> {
    let running = app
        .status
        .as_ref()
        .and_then(|s| s.operation_state.as_ref())
        .is_some_and(|o| matches!(o.phase.as_str(), "Running" | "Terminating"));
    if app.operation.is_some() || running {
        return Err(ApiError::Conflict(format!(
            "application {name} already has an operation running; wait for it to finish or terminate it"
        )));
    }
    Ok(())
}

/// Write an operation on the app, conditional on the resourceVersion its
/// checks were made on. `build` checks the app (busy, automated, ...) and
/// returns the `sync` to ask for with a description; when the write loses
/// a race (the controller wrote the app meanwhile), the app is read again,
/// checked again and the write retried, as the CLI does.
async fn write_operation(
    state: &AppState,
    first: &Application,
    name: &str,
    who: &Principal,
    build: impl Fn(&Application) -> ApiResult<(Value, String)>,
) -> ApiResult<(String, String, Application)> {
    let api: Api<Application> = Api::namespaced(state.client.clone(), &state.config.namespace);
    let what = format!("requesting an operation on application {name}");
    let mut app = first.clone();
    for attempt in 0.. {
        let (sync, message) = build(&app)?;
        let id = uuid::Uuid::new_v4().to_string();
        let patch = json!({
            "metadata": {"resourceVersion": app.metadata.resource_version},
            "operation": {
                "sync": sync,
                "initiatedBy": {"username": who.name},
                "info": [{"name": REQUEST_ID_INFO, "value": id}],
            },
        });
        match api
            .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            Ok(_) => return Ok((id, message, app)),
            Err(kube::Error::Api(s)) if s.code == 409 && attempt < 5 => {
                app = api
                    .get(name)
                    .await
                    .map_err(|e| ApiError::from_kube(&what, &e))?;
            }
            Err(e) => return Err(ApiError::from_kube(&what, &e)),
        }
    }
    Err(ApiError::Conflict(format!(
        "{what}: it kept changing; try again"
    )))
}

/// Ask for a sync.
#[utoipa::path(post, path = "/api/v1/applications/{name}/sync", tag = "operations",
    params(("name" = String, Path, description = "Application name")),
    request_body = SyncRequest,
    responses((status = 200, body = OperationResponse), (status = 400, body = crate::error::ErrorBody),
              (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn sync(
    State(state): State<Shared>,
    who: Principal,
    PathArgs(name): PathArgs<String>,
    Body(req): Body<SyncRequest>,
) -> ApiResult<axum::Json<OperationResponse>> {
    let app = find(&state, &who, &name, "sync")?;
    sextant_engine::sync::SyncOptions::parse_app(req.sync_options.iter().map(String::as_str))
        .map_err(|e| ApiError::BadRequest(format!("syncOptions: {e}")))?;
    for r in &req.resources {
        if r.kind.is_empty() || r.name.is_empty() {
            return Err(ApiError::BadRequest(
                "each of resources needs a kind and a name".into(),
            ));
        }
    }
    let mut sync = json!({"prune": req.prune, "dryRun": req.dry_run});
    if let Some(revision) = req
        .revision
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        sync["revision"] = json!(revision);
    }
    if !req.resources.is_empty() {
        sync["resources"] = json!(req.resources);
    }
    if !req.sync_options.is_empty() {
        sync["syncOptions"] = json!(req.sync_options);
    }
    let message = format!(
        "sync of {name} to {} requested by {}{}{}",
        req.revision.as_deref().unwrap_or("its targetRevision"),
        who.name,
        if req.prune { ", with prune" } else { "" },
        if req.dry_run { ", dry run" } else { "" }
    );
    let (id, message, app) = write_operation(&state, &app, &name, &who, |app| {
        busy(app, &name)?;
        Ok((sync.clone(), message.clone()))
    })
    .await?;
    record_from(
        &state.client,
        &app,
        Reason::SyncRequested,
        &message,
        "sextant-server",
    )
    .await;
    tracing::info!(app = %name, by = %who.name, request = %id, "sync requested");
    Ok(axum::Json(OperationResponse {
        application: name,
        request_id: id,
        message,
    }))
}

/// A rollback request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RollbackRequest {
    /// The history entry to go back to.
    pub id: i64,
    /// Delete what that revision does not have.
    #[serde(default)]
    pub prune: bool,
    /// Change nothing; report what would be done.
    #[serde(default)]
    pub dry_run: bool,
}

/// The operation that rolls `app` back to history entry `req.id`, and
/// what to say of it; refused while the app syncs automatically or is
/// busy, or when there is no such entry.
fn rollback_operation(
    app: &Application,
    name: &str,
    who: &str,
    req: &RollbackRequest,
) -> ApiResult<(Value, String)> {
    let automated = app
        .spec
        .sync_policy
        .as_ref()
        .and_then(|p| p.automated.as_ref())
        .is_some_and(|a| a.enabled != Some(false));
    if automated {
        return Err(ApiError::Conflict(format!(
            "application {name} syncs automatically, which would undo a rollback at once; turn auto-sync off first (spec.syncPolicy.automated)"
        )));
    }
    busy(app, name)?;
    let history = app
        .status
        .as_ref()
        .and_then(|s| s.history.clone())
        .unwrap_or_default();
    let Some(entry) = history.iter().find(|h| h.id == req.id) else {
        let ids: Vec<String> = history.iter().map(|h| h.id.to_string()).collect();
        return Err(ApiError::BadRequest(format!(
            "application {name} has no history entry {} (it has {})",
            req.id,
            if ids.is_empty() {
                "none".into()
            } else {
                ids.join(", ")
            }
        )));
    };
    let mut sync = json!({"prune": req.prune, "dryRun": req.dry_run, "revision": entry.revision});
    if let Some(source) = &entry.source {
        sync["source"] = json!(source);
    }
    // Several sources: each one's revision, and the sources as synced.
    if let Some(revisions) = &entry.revisions {
        sync["revisions"] = json!(revisions);
    }
    if let Some(sources) = &entry.sources {
        sync["sources"] = json!(sources);
    }
    let message = format!(
        "rollback of {name} to history entry {} ({}) requested by {who}",
        entry.id,
        entry.revision.chars().take(7).collect::<String>(),
    );
    Ok((sync, message))
}

/// Roll back to a history entry (its revision and source).
#[utoipa::path(post, path = "/api/v1/applications/{name}/rollback", tag = "operations",
    params(("name" = String, Path, description = "Application name")),
    request_body = RollbackRequest,
    responses((status = 200, body = OperationResponse), (status = 400, body = crate::error::ErrorBody),
              (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn rollback(
    State(state): State<Shared>,
    who: Principal,
    PathArgs(name): PathArgs<String>,
    Body(req): Body<RollbackRequest>,
) -> ApiResult<axum::Json<OperationResponse>> {
    let app = find(&state, &who, &name, "sync")?;
    let (id, message, app) = write_operation(&state, &app, &name, &who, |app| {
        rollback_operation(app, &name, &who.name, &req)
    })
    .await?;
    record_from(
        &state.client,
        &app,
        Reason::RollbackRequested,
        &message,
        "sextant-server",
    )
    .await;
    tracing::info!(app = %name, by = %who.name, request = %id, "rollback requested");
    Ok(axum::Json(OperationResponse {
        application: name,
        request_id: id,
        message,
    }))
}

/// Stop the running sync between two steps (it ends Failed).
#[utoipa::path(delete, path = "/api/v1/applications/{name}/operation", tag = "operations",
    params(("name" = String, Path, description = "Application name")),
    responses((status = 200, body = Object), (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
              (status = 409, body = crate::error::ErrorBody)))]
pub async fn terminate(
    State(state): State<Shared>,
    who: Principal,
    PathArgs(name): PathArgs<String>,
) -> ApiResult<axum::Json<Value>> {
    let app = find(&state, &who, &name, "sync")?;
    let phase = app
        .status
        .as_ref()
        .and_then(|s| s.operation_state.as_ref())
        .map(|o| o.phase.clone());
    if !matches!(phase.as_deref(), Some("Running" | "Terminating")) {
        return Err(ApiError::Conflict(format!(
            "application {name} has no sync running; nothing to terminate"
        )));
    }
    let patch = json!({"status": {"operationState": {
        "phase": "Terminating",
        "message": format!("terminated by {}", who.name),
    }}});
    let api: Api<Application> = Api::namespaced(state.client.clone(), &state.config.namespace);
    api.patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(|e| ApiError::from_kube(&format!("terminating the operation of {name}"), &e))?;
    record_from(
        &state.client,
        &app,
        Reason::TerminateRequested,
        &format!("termination of the running sync requested by {}", who.name),
        "sextant-server",
    )
    .await;
    Ok(axum::Json(json!({"terminating": name})))
}

/// Refresh parameters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RefreshParams {
    /// `normal` (compare again, asking Git for the revision) or `hard`
    /// (also render again, bypassing the manifest cache).
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// Ask the controller to compare the app again now. Seeing the app is
/// enough; by cookie, the session's CSRF token is needed (403 without).
#[utoipa::path(post, path = "/api/v1/applications/{name}/refresh", tag = "operations",
    params(("name" = String, Path, description = "Application name"), RefreshParams),
    responses((status = 200, body = Object), (status = 400, body = crate::error::ErrorBody),
              (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn refresh(
    State(state): State<Shared>,
    who: Principal,
    PathArgs(name): PathArgs<String>,
    Params(p): Params<RefreshParams>,
) -> ApiResult<axum::Json<Value>> {
    let _app = find(&state, &who, &name, "get")?;
    let kind = match p.kind.as_deref() {
        None | Some("") | Some("normal") => "normal",
        Some("hard") => "hard",
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "refresh type `{other}` is not normal or hard"
            )));
        }
    };
    let patch = json!({"metadata": {"annotations": {REFRESH: kind}}});
    let api: Api<Application> = Api::namespaced(state.client.clone(), &state.config.namespace);
    api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(|e| ApiError::from_kube(&format!("refreshing application {name}"), &e))?;
    Ok(axum::Json(json!({"refresh": kind, "application": name})))
}
