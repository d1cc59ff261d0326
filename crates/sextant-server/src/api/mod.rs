//! The routes. Everything under `/api/v1` needs a caller (bearer token or
//! session cookie) except `POST /api/v1/session` (login); `/healthz`,
//! `/readyz`, `/api/openapi.json` and the UI's static files are public.
//!
//! - `session.rs`: login, logout, who am I; `account.rs`: accounts,
//!   passwords, API tokens.
//! - `apps.rs`: list (filters, paging, counts), get, create, update,
//!   delete; `ops.rs`: sync, rollback, terminate, refresh.
//! - `resources.rs`: resource tree, managed resources, diff, manifests,
//!   Events; `stream.rs`: the live streams (SSE).
//! - `meta.rs`: projects, ApplicationSets, repositories, clusters,
//!   version, settings; `ui.rs`: the web UI's files.

pub mod account;
pub mod actions;
pub mod apps;
pub mod meta;
pub mod ops;
pub mod resources;
pub mod session;
pub mod stream;
pub mod ui;

use std::time::Duration;

use axum::Router;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use serde::de::DeserializeOwned;

use crate::auth::Principal;
use crate::error::ApiError;
use crate::state::Shared;

impl FromRequestParts<Shared> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Shared,
    ) -> Result<Self, Self::Rejection> {
        state.principal(&parts.method, &parts.headers)
    }
}

/// A JSON body; a malformed one is a 400 in the API's error shape.
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        // Every body this API takes is a JSON object; serde would also
        // read a struct from an array, which nobody means.
        let value = match axum::Json::<serde_json::Value>::from_request(req, state).await {
            Ok(axum::Json(v)) => v,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(ApiError::TooLarge(
                    "the request body is larger than the server takes (2 MiB by default)".into(),
                ));
            }
            Err(e) => {
                return Err(ApiError::BadRequest(format!(
                    "the request body is not what this route takes: {}",
                    e.body_text()
                )));
            }
        };
        if !value.is_object() {
            return Err(ApiError::BadRequest(
                "the request body must be a JSON object".into(),
            ));
        }
        serde_json::from_value(value).map(Body).map_err(|e| {
            ApiError::BadRequest(format!(
                "the request body is not what this route takes: {e}"
            ))
        })
    }
}

/// Query parameters; malformed ones are a 400 in the API's error shape.
#[derive(Debug)]
pub struct Params<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Params(v)),
            Err(e) => Err(ApiError::BadRequest(format!(
                "the query parameters are not what this route takes: {}",
                e.body_text()
            ))),
        }
    }
}

/// Path parameters; malformed ones are a 400 in the API's error shape.
#[derive(Debug)]
pub struct PathArgs<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for PathArgs<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(PathArgs(v)),
            Err(e) => Err(ApiError::BadRequest(format!(
                "the path is not what this route takes: {}",
                e.body_text()
            ))),
        }
    }
}

/// A JSON response whose Kubernetes objects have been masked.
pub fn masked(mut value: serde_json::Value) -> Response {
    crate::mask::mask_objects(&mut value);
    axum::Json(value).into_response()
}

/// Serialize `v` to JSON (an internal error if it cannot be).
pub fn to_json<T: serde::Serialize>(v: &T) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(v)
        .map_err(|e| ApiError::Internal(format!("could not write the response: {e}")))
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(axum::extract::State(state): axum::extract::State<Shared>) -> Response {
    if state.ready() {
        "ok".into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: the watches of Applications and settings have not listed yet",
        )
            .into_response()
    }
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such route; the API is described at /api/openapi.json".into())
}

/// Time out ordinary routes; the live streams run as long as the client
/// stays.
async fn timeout(
    axum::extract::State(limit): axum::extract::State<Duration>,
    request: Request,
    next: Next,
) -> Response {
    if request.uri().path().contains("/api/v1/stream/") {
        return next.run(request).await;
    }
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(r) => r,
        Err(_) => ApiError::Unavailable(format!(
            "the request took longer than {} s and was stopped; try again, or narrow it (a smaller page, one resource)",
            limit.as_secs()
        ))
        .into_response(),
    }
}

/// Every route, with the security headers, limits and the path prefix.
pub fn router(state: Shared) -> Router {
    let v1 = Router::new()
        .route("/session", post(session::login).delete(session::logout))
        .route("/session/userinfo", get(session::userinfo))
        .route("/account", get(account::list))
        .route("/account/password", put(account::update_password))
        .route("/account/{name}", get(account::get))
        .route("/account/{name}/token", post(account::create_token))
        .route("/account/{name}/token/{id}", delete(account::delete_token))
        .route("/applications", get(apps::list).post(apps::create))
        .route(
            "/applications/{name}",
            get(apps::get).put(apps::update).delete(apps::delete),
        )
        .route("/applications/{name}/sync", post(ops::sync))
        .route("/applications/{name}/rollback", post(ops::rollback))
        .route("/applications/{name}/operation", delete(ops::terminate))
        .route("/applications/{name}/refresh", post(ops::refresh))
        .route("/applications/{name}/history", get(apps::history))
        .route("/applications/{name}/resource-tree", get(resources::tree))
        .route(
            "/applications/{name}/managed-resources",
            get(resources::managed),
        )
        .route("/applications/{name}/diff", get(resources::diff))
        .route("/applications/{name}/manifests", get(resources::manifests))
        .route("/applications/{name}/events", get(resources::events))
        .route(
            "/applications/{name}/resource/actions",
            get(actions::list).post(actions::run),
        )
        .route(
            "/applications/{name}/resource/actions/v2",
            post(actions::run_v2),
        )
        .route("/stream/applications", get(stream::applications))
        .route(
            "/stream/applications/{name}/resource-tree",
            get(stream::resource_tree),
        )
        .route("/projects", get(meta::projects))
        .route("/projects/{name}", get(meta::project))
        .route("/applicationsets", get(meta::appsets))
        .route("/applicationsets/{name}", get(meta::appset))
        .route(
            "/repositories",
            get(meta::repositories).post(meta::add_repository),
        )
        .route("/repositories/{name}", delete(meta::remove_repository))
        .route("/clusters", get(meta::clusters))
        .route("/version", get(meta::version))
        .route("/settings", get(meta::settings))
        .fallback(not_found);
    let request_timeout = state.config.request_timeout;
    let max_body = state.config.max_body_bytes;
    let prefix = state.config.prefix();
    let inner = Router::new()
        .nest("/api/v1", v1)
        .route("/api/openapi.json", get(crate::openapi::document))
        .route("/api/webhook", post(crate::webhook::receive))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .merge(ui::routes())
        .layer(middleware::from_fn_with_state(request_timeout, timeout))
        .layer(axum::extract::DefaultBodyLimit::max(max_body))
        .with_state(state);
    let app = if prefix.is_empty() {
        inner
    } else {
        Router::new()
            .route("/healthz", get(healthz))
            .nest(&prefix, inner)
    };
    app.layer(middleware::from_fn(crate::security::headers))
}
