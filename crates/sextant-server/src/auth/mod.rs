//! Who is asking: a bearer token (`Authorization: Bearer ...`, for the
//! CLI and CI) or a session cookie (`sextant.token`, for browsers; HttpOnly,
//! Secure unless the server runs `--insecure`, SameSite=Strict). A request
//! that changes something and authenticates by cookie must also carry the
//! session's CSRF token in `X-Sextant-CSRF` (returned by login and
//! `/api/v1/session/userinfo`): a page on another origin can make the
//! browser send the cookie, never read the token.
//!
//! A token is valid while its signature matches the server's key, it has
//! not expired, its account exists, is enabled and has the capability
//! (`login` for sessions, `apiKey` for API tokens), a session was issued
//! after the account's last password change and was not logged out, and
//! an API token's id is still listed under the account.

pub mod accounts;
pub mod ratelimit;
pub mod tokens;

use axum::http::{HeaderMap, Method, header};

use crate::error::ApiError;
use crate::watch::settings::Settings;
use tokens::{Claims, TokenKind};

/// The cookie a browser session lives in.
pub const SESSION_COOKIE: &str = "sextant.token";
/// The header that carries a session's CSRF token.
pub const CSRF_HEADER: &str = "x-sextant-csrf";

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The account.
    pub name: String,
    /// Session or API token.
    pub kind: TokenKind,
    /// The token's id.
    pub token_id: String,
    /// When the token expires (Unix seconds).
    pub expires: Option<i64>,
    /// Authenticated by cookie (so CSRF applies).
    pub by_cookie: bool,
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// The bearer token of a request, if any.
fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// Methods that change nothing (no CSRF check).
fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The CSRF token of a session.
pub fn csrf_token(key: &[u8], session_id: &str) -> String {
    tokens::digest(key, &format!("csrf:{session_id}"))
}

/// Authenticate a request: `Ok(principal)`, or 401 with what is wrong,
/// or 403 for a missing CSRF token.
pub fn authenticate(
    settings: &Settings,
    revoked: &dyn Fn(&str) -> bool,
    method: &Method,
    headers: &HeaderMap,
    now: i64,
) -> Result<Principal, ApiError> {
    let (token, by_cookie) = match (bearer(headers), cookie(headers, SESSION_COOKIE)) {
        (Some(t), _) => (t, false),
        (None, Some(c)) if !c.is_empty() => (c, true),
        _ => {
            return Err(ApiError::Unauthenticated(
                "no credentials: log in (POST /api/v1/session, or `sextant login SERVER`) or send `Authorization: Bearer <token>`".into(),
            ));
        }
    };
    let Some(key) = settings.secret_key() else {
        return Err(ApiError::Unavailable(format!(
            "the server has no signing key yet (Secret {}, key server.secretkey); it creates one at start, try again in a moment",
            crate::auth::accounts::settings_secret()
        )));
    };
    let claims =
        tokens::verify(&key, &token, now).map_err(|e| ApiError::Unauthenticated(format!("{e}")))?;
    check_account(settings, &claims, revoked)?;
    if by_cookie && !is_safe(method) {
        let sent = headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !tokens::constant_time_eq(sent, &csrf_token(&key, &claims.jti)) {
            return Err(ApiError::Forbidden(format!(
                "missing or wrong CSRF token: a request authenticated by the session cookie that changes something must send the header {CSRF_HEADER} (its value comes with the login response and /api/v1/session/userinfo)"
            )));
        }
    }
    Ok(Principal {
        name: claims.sub,
        kind: claims.typ,
        token_id: claims.jti,
        expires: claims.exp,
        by_cookie,
    })
}

fn check_account(
    settings: &Settings,
    claims: &Claims,
    revoked: &dyn Fn(&str) -> bool,
) -> Result<(), ApiError> {
    let accounts = settings.accounts();
    let Some(account) = accounts.get(&claims.sub) else {
        return Err(ApiError::Unauthenticated(format!(
            "account {} no longer exists",
            claims.sub
        )));
    };
    if !account.enabled {
        return Err(ApiError::Unauthenticated(format!(
            "account {} is disabled",
            claims.sub
        )));
    }
    match claims.typ {
        TokenKind::Session => {
            if !account.login {
                return Err(ApiError::Unauthenticated(format!(
                    "account {} may not log in (its capabilities lack `login`)",
                    claims.sub
                )));
            }
            if account.password_mtime.is_some_and(|m| claims.iat < m) {
                return Err(ApiError::Unauthenticated(
                    "the password was changed after this session began; log in again".into(),
                ));
            }
            if revoked(&claims.jti) {
                return Err(ApiError::Unauthenticated(
                    "this session was logged out; log in again".into(),
                ));
            }
        }
        TokenKind::ApiKey => {
            if !account.api_key {
                return Err(ApiError::Unauthenticated(format!(
                    "account {} may not use API tokens (its capabilities lack `apiKey`)",
                    claims.sub
                )));
            }
            if !account.tokens.iter().any(|t| t.id == claims.jti) {
                return Err(ApiError::Unauthenticated(format!(
                    "API token {} of account {} was revoked",
                    claims.jti, claims.sub
                )));
            }
        }
    }
    Ok(())
}
