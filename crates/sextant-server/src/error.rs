//! The API's one error type and the one place it becomes a response:
//! `{"error": "<code>", "message": "<what failed and what to do>"}` with
//! the matching HTTP status. Messages never carry a credential or a
//! Secret value: they are written by us, and Kubernetes errors are passed
//! through `mask::scrub` first.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// What went wrong, as the client is told.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed or names something invalid.
    #[error("{0}")]
    BadRequest(String),
    /// 401: no credentials, or ones that are not (or no longer) valid.
    #[error("{0}")]
    Unauthenticated(String),
    /// 403: the caller may not do this; names the action and object.
    #[error("{0}")]
    Forbidden(String),
    /// 404: no such thing.
    #[error("{0}")]
    NotFound(String),
    /// 409: the state does not allow it now (an operation is running, a
    /// write lost a race).
    #[error("{0}")]
    Conflict(String),
    /// 413: the request body is larger than the server takes.
    #[error("{0}")]
    TooLarge(String),
    /// 429: too many attempts; `retry_after` seconds.
    #[error("{message}")]
    TooMany {
        /// What to tell.
        message: String,
        /// Seconds to wait.
        retry_after: u64,
    },
    /// 502: the cluster or Git answered with an error we cannot fix here.
    #[error("{0}")]
    Upstream(String),
    /// 503: the server is not ready (caches still loading).
    #[error("{0}")]
    Unavailable(String),
    /// 500: a bug or an unexpected state; the message says what.
    #[error("{0}")]
    Internal(String),
}

/// The error body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// A stable code: `bad_request`, `unauthenticated`, `forbidden`,
    /// `not_found`, `conflict`, `too_large`, `too_many_requests`, `upstream`,
    /// `unavailable`, `internal`.
    pub error: String,
    /// What failed and what to do.
    pub message: String,
}

impl ApiError {
    fn status(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            ApiError::TooMany { .. } => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"),
            ApiError::Upstream(_) => (StatusCode::BAD_GATEWAY, "upstream"),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    /// A Kubernetes API error, in the server's words; a 404 or 409 from
    /// the cluster keeps its meaning.
    pub fn from_kube(what: &str, e: &kube::Error) -> Self {
        let words = crate::mask::scrub(&sextant_cluster::words(e));
        match e {
            kube::Error::Api(s) if s.code == 404 => ApiError::NotFound(format!("{what}: {words}")),
            kube::Error::Api(s) if s.code == 409 => {
                ApiError::Conflict(format!("{what}: {words}; read it again and retry"))
            }
            kube::Error::Api(s) if s.code == 422 || s.code == 400 => {
                ApiError::BadRequest(format!("{what}: {words}"))
            }
            kube::Error::Api(s) if s.code == 403 => ApiError::Upstream(format!(
                "{what}: the API server refused the server's own service account ({words}); grant it the Role in deploy/server-rbac.yaml"
            )),
            _ => ApiError::Upstream(format!("{what}: {words}")),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status();
        let retry_after = match &self {
            ApiError::TooMany { retry_after, .. } => Some(*retry_after),
            _ => None,
        };
        let body = ErrorBody {
            error: code.to_owned(),
            message: self.to_string(),
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(secs) = retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"sextant\""),
            );
        }
        response
    }
}

/// A route's result.
pub type ApiResult<T> = Result<T, ApiError>;
