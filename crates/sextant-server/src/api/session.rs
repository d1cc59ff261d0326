//! Login, logout, who am I.
//!
//! A login checks the password against the account's argon2id hash (in a
//! blocking task, a few at a time), counts failures per account and per
//! address (a locked-out client is told for how long), and answers with a
//! session: an HttpOnly, SameSite=Strict cookie (Secure under TLS) and the
//! CSRF token the browser must echo on writes. The CLI asks for the token
//! in the body (`"token": true`) and sends it as a bearer token instead.

use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Body;
use crate::auth::accounts::verify_password;
use crate::auth::ratelimit::Locked;
use crate::auth::tokens::{self, Claims, TokenKind};
use crate::auth::{Principal, SESSION_COOKIE, csrf_token};
use crate::config::TlsMode;
use crate::error::{ApiError, ApiResult};
use crate::state::{Shared, now};

/// A login.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Account name.
    pub username: String,
    /// Its password.
    pub password: String,
    /// Also return the session token in the body (for the CLI; browsers
    /// keep it in the HttpOnly cookie only).
    #[serde(default)]
    pub token: bool,
}

/// A session.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionResponse {
    /// The account.
    pub username: String,
    /// Send it as `X-Sextant-CSRF` with every write made with the cookie.
    pub csrf_token: String,
    /// When the session ends (RFC 3339).
    pub expires_at: String,
    /// The bearer token, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// Who is asking.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserInfo {
    /// Always true (an unauthenticated request gets 401).
    pub logged_in: bool,
    /// The account.
    pub username: String,
    /// `session` or `apiKey`.
    pub token_kind: String,
    /// The roles the account has (directly, through roles, or by default).
    pub roles: Vec<String>,
    /// The CSRF token, for a session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csrf_token: Option<String>,
    /// When the credential ends (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

/// A well-formed argon2id hash of a password nobody has, so an unknown
/// account costs the same time as a known one.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2V4dGFudHNleHRhbnQ$0w6ppSCHjaHzR0JhUUZGyxRF+qVaVnfdqQ6vJpR3Hk0";

fn rfc3339(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|d| d.to_rfc3339())
        .unwrap_or_default()
}

fn session_cookie(state: &Shared, value: &str, max_age: i64) -> Option<HeaderValue> {
    let secure = if matches!(state.config.tls, TlsMode::Insecure) {
        ""
    } else {
        "; Secure"
    };
    let path = match state.config.prefix() {
        p if p.is_empty() => "/".to_owned(),
        p => p,
    };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; Path={path}; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .ok()
}

/// Log in.
#[utoipa::path(post, path = "/api/v1/session", tag = "session",
    request_body = LoginRequest,
    responses((status = 200, body = SessionResponse), (status = 400, body = crate::error::ErrorBody),
              (status = 401, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)),
    security(()))]
pub async fn login(State(state): State<Shared>, request: Request) -> ApiResult<Response> {
    let peer = crate::listen::peer(request.extensions()).ip();
    let Body(login): Body<LoginRequest> = Body::from_request_inner(request, &state).await?;
    let start = Instant::now();
    if let Err(locked) = state.limiter.check(&login.username, peer, start) {
        let (message, secs) = match locked {
            Locked::Account(d) => (
                format!(
                    "account {} is locked after too many failed logins; try again in {} s",
                    login.username,
                    d.as_secs() + 1
                ),
                d.as_secs() + 1,
            ),
            Locked::Address(d) => (
                format!(
                    "too many failed logins from {peer}; try again in {} s",
                    d.as_secs() + 1
                ),
                d.as_secs() + 1,
            ),
        };
        return Err(ApiError::TooMany {
            message,
            retry_after: secs,
        });
    }
    let accounts = state.settings.accounts();
    let account = accounts
        .get(&login.username)
        .filter(|a| a.enabled && a.login)
        .cloned();
    let hash = account
        .as_ref()
        .and_then(|a| a.password_hash.clone())
        .unwrap_or_else(|| DUMMY_HASH.to_owned());
    let permit = state
        .hashing
        .acquire()
        .await
        .map_err(|_| ApiError::Unavailable("the server is stopping".into()))?;
    let password = login.password;
    let matches = tokio::task::spawn_blocking(move || verify_password(&hash, &password))
        .await
        .unwrap_or(false);
    drop(permit);
    let Some(account) = account.filter(|_| matches) else {
        state.limiter.failed(&login.username, peer, Instant::now());
        tracing::info!(user = %login.username, address = %peer, "failed login");
        return Err(ApiError::Unauthenticated(
            "invalid username or password".into(),
        ));
    };
    state.limiter.succeeded(&account.name);
    let Some(key) = state.settings.secret_key() else {
        return Err(ApiError::Unavailable(
            "the server has no signing key yet; try again in a moment".into(),
        ));
    };
    let now = now();
    let lifetime = state.config.session_lifetime.as_secs() as i64;
    let claims = Claims {
        sub: account.name.clone(),
        iat: now,
        exp: Some(now + lifetime),
        jti: uuid::Uuid::new_v4().to_string(),
        iss: "sextant".into(),
        typ: TokenKind::Session,
    };
    let token = tokens::sign(&key, &claims);
    tracing::info!(user = %account.name, address = %peer, "logged in");
    let body = SessionResponse {
        username: account.name,
        csrf_token: csrf_token(&key, &claims.jti),
        expires_at: rfc3339(now + lifetime),
        token: login.token.then(|| token.clone()),
    };
    let mut response = axum::Json(body).into_response();
    if let Some(cookie) = session_cookie(&state, &token, lifetime) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

impl<T: serde::de::DeserializeOwned> Body<T> {
    /// Parse a body from a request already taken apart for its
    /// extensions.
    async fn from_request_inner(request: Request, state: &Shared) -> ApiResult<Body<T>> {
        <Body<T> as axum::extract::FromRequest<Shared>>::from_request(request, state).await
    }
}

/// Log out: the session ends (on this server, and on every replica once
/// its lifetime ends) and the cookie is cleared. Like every write, a
/// logout by cookie must carry the session's CSRF token (403 without).
#[utoipa::path(delete, path = "/api/v1/session", tag = "session",
    responses((status = 200, body = Object), (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody)))]
pub async fn logout(State(state): State<Shared>, who: Principal) -> ApiResult<Response> {
    if who.kind == TokenKind::Session {
        state.revoke(&who.token_id, who.expires);
    }
    let mut response = axum::Json(serde_json::json!({"loggedOut": who.name})).into_response();
    if let Some(cookie) = session_cookie(&state, "", 0) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// Who is asking, their roles and (for a session) its CSRF token.
#[utoipa::path(get, path = "/api/v1/session/userinfo", tag = "session",
    responses((status = 200, body = UserInfo), (status = 401, body = crate::error::ErrorBody)))]
pub async fn userinfo(
    State(state): State<Shared>,
    who: Principal,
) -> ApiResult<axum::Json<UserInfo>> {
    let roles = state
        .settings
        .policy()
        .map(|p| p.roles_of(&who.name))
        .unwrap_or_default();
    let csrf = match (who.kind, state.settings.secret_key()) {
        (TokenKind::Session, Some(key)) => Some(csrf_token(&key, &who.token_id)),
        _ => None,
    };
    Ok(axum::Json(UserInfo {
        logged_in: true,
        username: who.name,
        token_kind: match who.kind {
            TokenKind::Session => "session".into(),
            TokenKind::ApiKey => "apiKey".into(),
        },
        roles,
        csrf_token: csrf,
        expires_at: who.expires.map(rfc3339),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dummy_hash_parses_so_unknown_accounts_cost_a_real_verification() {
        assert!(argon2::password_hash::PasswordHash::new(DUMMY_HASH).is_ok());
        assert!(!verify_password(DUMMY_HASH, "anything"));
    }
}
