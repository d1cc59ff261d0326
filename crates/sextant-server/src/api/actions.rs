//! Resource actions, as Argo CD's API serves them: the actions one of an
//! app's objects offers (`GET .../resource/actions`) and running one
//! (`POST .../resource/actions`, the action's name as the body, a JSON
//! string or `{"action": ...}`; `POST .../resource/actions/v2` with the
//! object named in the body). Running `ACTION` on an object of kind `KIND`
//! in group `GROUP` takes the RBAC permission
//! `applications, action/GROUP/KIND/ACTION` on the app (`action/*` for all).

use axum::body::Bytes;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sextant_controller::actions::{self, Caller, Selector};
use sextant_engine::actions::{ActionInfo, ResourceActions};
use utoipa::{IntoParams, ToSchema};

use super::apps::find;
use super::{Params, PathArgs};
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::state::{AppState, Shared};

/// Which object of the app (Argo CD's query parameters).
#[derive(Debug, Default, Deserialize, IntoParams, ToSchema)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ResourceQuery {
    /// The object's namespace (empty for a cluster-scoped object).
    #[serde(default)]
    pub namespace: Option<String>,
    /// The object's name.
    #[serde(default)]
    pub resource_name: Option<String>,
    /// API version (accepted; the app's status names it).
    #[serde(default)]
    pub version: Option<String>,
    /// API group (empty for core).
    #[serde(default)]
    pub group: Option<String>,
    /// Kind.
    #[serde(default)]
    pub kind: Option<String>,
    /// The app's namespace (accepted, must be the server's).
    #[serde(default)]
    pub app_namespace: Option<String>,
    /// The app's project (accepted).
    #[serde(default)]
    pub project: Option<String>,
}

/// The actions an object offers.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActionsList {
    /// Each action, with whether it can run now.
    pub actions: Vec<ActionDoc>,
}

/// One action.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActionDoc {
    /// Its name.
    pub name: String,
    /// Whether it cannot run now.
    pub disabled: bool,
    /// A name for people.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// An icon class.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icon_class: Option<String>,
}

impl From<ActionInfo> for ActionDoc {
    fn from(a: ActionInfo) -> Self {
        ActionDoc {
            name: a.name,
            disabled: a.disabled,
            display_name: a.display_name,
            icon_class: a.icon_class,
        }
    }
}

/// What running an action changed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActionRun {
    /// One line per object patched or created.
    pub changes: Vec<String>,
}

/// The actions in force: the built-in ones and the settings ConfigMap's.
fn resource_actions(state: &AppState) -> ResourceActions {
    let read = sextant_controller::settings::config_map::read(&state.settings.general());
    let mut actions = ResourceActions::new();
    for (key, yaml) in &read.actions {
        if let Err(e) = actions.insert_definition(key, yaml) {
            tracing::warn!(error = %e, "a custom resource action is left out");
        }
    }
    actions
}

/// The one live object of `app` the query names.
async fn target(
    state: &AppState,
    app: &sextant_model::Application,
    name: &str,
    q: &ResourceQuery,
) -> ApiResult<Value> {
    let (Some(kind), Some(resource_name)) = (&q.kind, &q.resource_name) else {
        return Err(ApiError::BadRequest(
            "name the object with kind and resourceName (and group, namespace)".into(),
        ));
    };
    let selector = Selector {
        group: Some(q.group.clone().unwrap_or_default()),
        kind: Some(kind.clone()),
        namespace: Some(q.namespace.clone().unwrap_or_default()),
        name: Some(resource_name.clone()),
    };
    let found = actions::live_objects(&state.client, state.tree.tracking(), app, &selector)
        .await
        .map_err(|e| ApiError::Internal(format!("application {name}: {e}")))?;
    found.into_iter().next().ok_or_else(|| {
        ApiError::NotFound(format!(
            "application {name} tracks no live {kind} {resource_name} in namespace {:?}",
            q.namespace.as_deref().unwrap_or_default()
        ))
    })
}

/// The actions an object of the app offers.
#[utoipa::path(get, path = "/api/v1/applications/{name}/resource/actions", tag = "resources",
    params(("name" = String, Path, description = "Application name"), ResourceQuery),
    responses((status = 200, body = ActionsList), (status = 400, body = crate::error::ErrorBody),
              (status = 401, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<Shared>,
    who: Principal,
    PathArgs(name): PathArgs<String>,
    Params(q): Params<ResourceQuery>,
) -> ApiResult<axum::Json<ActionsList>> {
    let app = find(&state, &who, &name, "get")?;
    let obj = target(&state, &app, &name, &q).await?;
    let offered = actions::offered(&resource_actions(&state), vec![obj])
        .await
        .map_err(|e| ApiError::BadRequest(format!("application {name}: {e}")))?;
    let listed = offered
        .into_iter()
        .next()
        .map(|o| o.actions)
        .unwrap_or_default();
    Ok(axum::Json(ActionsList {
        actions: listed.into_iter().map(ActionDoc::from).collect(),
    }))
}

/// The body of a run: the action's name (a JSON string), or an object with
/// `action` and, for v2, the object's fields.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunBody {
    /// The action.
    pub action: String,
    /// The object's namespace (v2).
    #[serde(default)]
    pub namespace: Option<String>,
    /// The object's name (v2).
    #[serde(default)]
    pub resource_name: Option<String>,
    /// API version (v2; accepted).
    #[serde(default)]
    pub version: Option<String>,
    /// API group (v2).
    #[serde(default)]
    pub group: Option<String>,
    /// Kind (v2).
    #[serde(default)]
    pub kind: Option<String>,
}

fn run_body(bytes: &Bytes) -> ApiResult<RunBody> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::BadRequest(format!(
            "the body must be the action's name as a JSON string, or {{\"action\": ...}}: {e}"
        ))
    })?;
    match value {
        Value::String(action) => Ok(RunBody {
            action,
            ..RunBody::default()
        }),
        Value::Object(_) => serde_json::from_value(value)
            .map_err(|e| ApiError::BadRequest(format!("the body is not {{\"action\": ...}}: {e}"))),
        _ => Err(ApiError::BadRequest(
            "the body must be the action's name as a JSON string, or {\"action\": ...}".into(),
        )),
    }
}

async fn run_on(
    state: &AppState,
    who: &Principal,
    name: &str,
    q: ResourceQuery,
    action: &str,
) -> ApiResult<axum::Json<ActionRun>> {
    if action.is_empty() {
        return Err(ApiError::BadRequest(
            "which action? The body names none".into(),
        ));
    }
    let rbac_action = format!(
        "action/{}/{}/{action}",
        q.group.as_deref().unwrap_or_default(),
        q.kind.as_deref().unwrap_or_default()
    );
    let app = find(state, who, name, &rbac_action)?;
    let obj = target(state, &app, name, &q).await?;
    let caller = Caller {
        who: &who.name,
        component: "sextant-server",
    };
    let ran = actions::run(
        &state.client,
        &resource_actions(state),
        &app,
        &obj,
        action,
        caller,
    )
    .await
    .map_err(|e| ApiError::BadRequest(format!("application {name}: {e}")))?;
    Ok(axum::Json(ActionRun {
        changes: ran.changes,
    }))
}

/// Run an action on an object of the app (the object in the query).
#[utoipa::path(post, path = "/api/v1/applications/{name}/resource/actions", tag = "resources",
    params(("name" = String, Path, description = "Application name"), ResourceQuery),
    request_body(content = String, description = "The action's name, as a JSON string (or {\"action\": ...})"),
    responses((status = 200, body = ActionRun), (status = 400, body = crate::error::ErrorBody),
              (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn run(
    State(state): State<Shared>,
    who: Principal,
    PathArgs(name): PathArgs<String>,
    Params(q): Params<ResourceQuery>,
    bytes: Bytes,
) -> ApiResult<axum::Json<ActionRun>> {
    let body = run_body(&bytes)?;
    run_on(&state, &who, &name, q, &body.action).await
}

/// Run an action on an object of the app (the object in the body).
#[utoipa::path(post, path = "/api/v1/applications/{name}/resource/actions/v2", tag = "resources",
    params(("name" = String, Path, description = "Application name")),
    request_body = RunBody,
    responses((status = 200, body = ActionRun), (status = 400, body = crate::error::ErrorBody),
              (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn run_v2(
    State(state): State<Shared>,
    who: Principal,
    PathArgs(name): PathArgs<String>,
    bytes: Bytes,
) -> ApiResult<axum::Json<ActionRun>> {
    let body = run_body(&bytes)?;
    let q = ResourceQuery {
        namespace: body.namespace,
        resource_name: body.resource_name,
        version: body.version,
        group: body.group,
        kind: body.kind,
        ..ResourceQuery::default()
    };
    run_on(&state, &who, &name, q, &body.action).await
}
