//! Accounts: list and read them (never a hash), change a password, and
//! generate, list and revoke API tokens. A caller may always change its
//! own password (giving the current one) and manage its own tokens;
//! doing so for another account needs `accounts, update, NAME`.

use std::collections::BTreeMap;

use axum::extract::State;
use base64::Engine;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::{Patch, PatchParams};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::{Body, PathArgs};
use crate::auth::Principal;
use crate::auth::accounts::{
    Account, TokenRecord, check_new_password, hash_password, secret_keys, settings_configmap,
    settings_secret, verify_password,
};
use crate::auth::tokens::{self, Claims, TokenKind};
use crate::error::{ApiError, ApiResult};
use crate::state::{Shared, now};

/// An account as shown.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountInfo {
    /// Name.
    pub name: String,
    /// Enabled.
    pub enabled: bool,
    /// `login`, `apiKey`.
    pub capabilities: Vec<String>,
    /// Its API tokens (ids and times; never the tokens).
    pub tokens: Vec<TokenRecord>,
}

fn info(a: &Account) -> AccountInfo {
    let mut capabilities = Vec::new();
    if a.login {
        capabilities.push("login".to_owned());
    }
    if a.api_key {
        capabilities.push("apiKey".to_owned());
    }
    AccountInfo {
        name: a.name.clone(),
        enabled: a.enabled,
        capabilities,
        tokens: a.tokens.clone(),
    }
}

/// Every account the caller may see.
#[utoipa::path(get, path = "/api/v1/account", tag = "accounts",
    responses((status = 200, body = Vec<AccountInfo>), (status = 401, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<Shared>,
    who: Principal,
) -> ApiResult<axum::Json<Vec<AccountInfo>>> {
    let accounts = state.settings.accounts();
    Ok(axum::Json(
        accounts
            .all()
            .filter(|a| a.name == who.name || state.can(&who, "accounts", "get", &a.name))
            .map(info)
            .collect(),
    ))
}

/// One account.
#[utoipa::path(get, path = "/api/v1/account/{name}", tag = "accounts",
    params(("name" = String, Path, description = "Account name")),
    responses((status = 200, body = AccountInfo), (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get(
    State(state): State<Shared>,
    who: Principal,
    PathArgs(name): PathArgs<String>,
) -> ApiResult<axum::Json<AccountInfo>> {
    if name != who.name {
        state.authorize(&who, "accounts", "get", &name)?;
    }
    let accounts = state.settings.accounts();
    let a = accounts
        .get(&name)
        .ok_or_else(|| ApiError::NotFound(format!("no account {name}")))?;
    Ok(axum::Json(info(a)))
}

/// A password change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PasswordChange {
    /// The caller's current password.
    pub current_password: String,
    /// The new password (8 to 256 characters).
    pub new_password: String,
    /// Whose password (default: the caller's).
    #[serde(default)]
    pub name: Option<String>,
}

/// Read-modify-write the settings Secret: `change` gets the current data
/// (decoded) and returns the keys to set; conditional on the
/// resourceVersion read, retried when another write came between.
async fn update_settings_secret(
    state: &Shared,
    mut change: impl FnMut(&BTreeMap<String, String>) -> Result<BTreeMap<String, String>, ApiError>,
) -> ApiResult<()> {
    let api: Api<Secret> = Api::namespaced(state.client.clone(), &state.config.namespace);
    for _ in 0..5 {
        let secret = api.get(settings_secret()).await.map_err(|e| {
            ApiError::from_kube(&format!("reading Secret {}", settings_secret()), &e)
        })?;
        let data: BTreeMap<String, String> = secret
            .data
            .clone()
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(k, v)| String::from_utf8(v.0).ok().map(|s| (k, s)))
            .collect();
        let set = change(&data)?;
        let encoded: serde_json::Map<String, serde_json::Value> = set
            .into_iter()
            .map(|(k, v)| {
                (
                    k,
                    json!(base64::engine::general_purpose::STANDARD.encode(v)),
                )
            })
            .collect();
        let patch = json!({
            "metadata": {"resourceVersion": secret.metadata.resource_version},
            "data": encoded,
        });
        match api
            .patch(
                settings_secret(),
                &PatchParams::default(),
                &Patch::Merge(&patch),
            )
            .await
        {
            Ok(written) => {
                // Seen at once by this server, not only when the watch
                // delivers it: a token just generated works right away.
                if let Ok(obj) = serde_json::to_value(&written).and_then(serde_json::from_value) {
                    state
                        .settings
                        .apply_secrets(crate::watch::Change::Apply(obj));
                }
                return Ok(());
            }
            Err(kube::Error::Api(s)) if s.code == 409 => continue,
            Err(e) => {
                return Err(ApiError::from_kube(
                    &format!("writing Secret {}", settings_secret()),
                    &e,
                ));
            }
        }
    }
    Err(ApiError::Conflict(format!(
        "Secret {} kept changing while it was written; try again",
        settings_secret()
    )))
}

/// Check a password in a blocking task, a few at a time.
async fn password_matches(state: &Shared, hash: Option<String>, password: String) -> bool {
    let Some(hash) = hash else { return false };
    let Ok(_permit) = state.hashing.acquire().await else {
        return false;
    };
    tokio::task::spawn_blocking(move || verify_password(&hash, &password))
        .await
        .unwrap_or(false)
}

/// Change a password. Sessions begun before it end.
#[utoipa::path(put, path = "/api/v1/account/password", tag = "accounts",
    request_body = PasswordChange,
    responses((status = 200, body = Object), (status = 400, body = crate::error::ErrorBody),
              (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn update_password(
    State(state): State<Shared>,
    who: Principal,
    Body(req): Body<PasswordChange>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let target = req.name.clone().unwrap_or_else(|| who.name.clone());
    if target != who.name {
        state.authorize(&who, "accounts", "update", &target)?;
    }
    check_new_password(&req.new_password).map_err(ApiError::BadRequest)?;
    let accounts = state.settings.accounts();
    let caller_hash = accounts
        .get(&who.name)
        .and_then(|a| a.password_hash.clone());
    if !password_matches(&state, caller_hash, req.current_password.clone()).await {
        return Err(ApiError::BadRequest(format!(
            "the current password of {} is not correct",
            who.name
        )));
    }
    if accounts.get(&target).is_none() {
        return Err(ApiError::NotFound(format!("no account {target}")));
    }
    let new = req.new_password.clone();
    let hash = tokio::task::spawn_blocking(move || hash_password(&new))
        .await
        .map_err(|e| ApiError::Internal(format!("hashing stopped: {e}")))?
        .map_err(ApiError::Internal)?;
    let (password_key, mtime_key, _) = secret_keys(&target);
    let mtime = chrono::Utc::now().to_rfc3339();
    update_settings_secret(&state, |_| {
        Ok(BTreeMap::from([
            (password_key.clone(), hash.clone()),
            (mtime_key.clone(), mtime.clone()),
        ]))
    })
    .await?;
    tracing::info!(account = %target, by = %who.name, "password changed");
    Ok(axum::Json(json!({"updated": target})))
}

/// A token request.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TokenRequest {
    /// How long it lasts (`24h`, `30d` as `720h`, `90m`); absent: until
    /// revoked.
    #[serde(default)]
    pub expires_in: Option<String>,
    /// Its id (default: a new UUID).
    #[serde(default)]
    pub id: Option<String>,
}

/// A new token, shown once.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenResponse {
    /// The bearer token.
    pub token: String,
    /// Its id (to revoke it).
    pub id: String,
    /// When it expires (RFC 3339), if it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

fn may_manage_tokens(state: &Shared, who: &Principal, name: &str) -> ApiResult<()> {
    if name == who.name {
        Ok(())
    } else {
        state.authorize(who, "accounts", "update", name)
    }
}

/// Generate an API token for an account with the `apiKey` capability.
#[utoipa::path(post, path = "/api/v1/account/{name}/token", tag = "accounts",
    params(("name" = String, Path, description = "Account name")),
    request_body = TokenRequest,
    responses((status = 200, body = TokenResponse), (status = 400, body = crate::error::ErrorBody),
              (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn create_token(
    State(state): State<Shared>,
    who: Principal,
    PathArgs(name): PathArgs<String>,
    Body(req): Body<TokenRequest>,
) -> ApiResult<axum::Json<TokenResponse>> {
    may_manage_tokens(&state, &who, &name)?;
    let accounts = state.settings.accounts();
    let account = accounts
        .get(&name)
        .ok_or_else(|| ApiError::NotFound(format!("no account {name}")))?;
    if !account.api_key {
        return Err(ApiError::BadRequest(format!(
            "account {name} may not have API tokens: add the capability in ConfigMap {} (`accounts.{name}: apiKey, login`)",
            settings_configmap()
        )));
    }
    let lifetime = match req.expires_in.as_deref().filter(|s| !s.is_empty()) {
        Some(text) => Some(
            sextant_model::duration::parse(text)
                .map_err(|e| ApiError::BadRequest(format!("expiresIn `{text}`: {e}")))?,
        ),
        None => None,
    };
    let id = req
        .id
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    if id.len() > 128
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return Err(ApiError::BadRequest(
            "a token id has at most 128 letters, digits, `-`, `_` or `.`".into(),
        ));
    }
    let Some(key) = state.settings.secret_key() else {
        return Err(ApiError::Unavailable(
            "the server has no signing key yet".into(),
        ));
    };
    let iat = now();
    let exp = lifetime.map(|d| iat + d.as_secs() as i64);
    let (_, _, tokens_key) = secret_keys(&name);
    update_settings_secret(&state, |data| {
        let mut list: Vec<TokenRecord> = data
            .get(&tokens_key)
            .and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or_default();
        if list.iter().any(|t| t.id == id) {
            return Err(ApiError::Conflict(format!(
                "account {name} already has a token {id}; pick another id or revoke that one"
            )));
        }
        list.push(TokenRecord {
            id: id.clone(),
            iat,
            exp,
        });
        let text = serde_json::to_string(&list).map_err(|e| ApiError::Internal(e.to_string()))?;
        Ok(BTreeMap::from([(tokens_key.clone(), text)]))
    })
    .await?;
    let token = tokens::sign(
        &key,
        &Claims {
            sub: name.clone(),
            iat,
            exp,
            jti: id.clone(),
            iss: "sextant".into(),
            typ: TokenKind::ApiKey,
        },
    );
    tracing::info!(account = %name, token = %id, by = %who.name, "API token generated");
    Ok(axum::Json(TokenResponse {
        token,
        id,
        expires_at: exp
            .and_then(|e| chrono::DateTime::from_timestamp(e, 0))
            .map(|d| d.to_rfc3339()),
    }))
}

/// Revoke an API token.
#[utoipa::path(delete, path = "/api/v1/account/{name}/token/{id}", tag = "accounts",
    params(("name" = String, Path, description = "Account name"), ("id" = String, Path, description = "Token id")),
    responses((status = 200, body = Object), (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete_token(
    State(state): State<Shared>,
    who: Principal,
    PathArgs((name, id)): PathArgs<(String, String)>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    may_manage_tokens(&state, &who, &name)?;
    if state.settings.accounts().get(&name).is_none() {
        return Err(ApiError::NotFound(format!("no account {name}")));
    }
    let (_, _, tokens_key) = secret_keys(&name);
    update_settings_secret(&state, |data| {
        let mut list: Vec<TokenRecord> = data
            .get(&tokens_key)
            .and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or_default();
        let before = list.len();
        list.retain(|t| t.id != id);
        if list.len() == before {
            return Err(ApiError::NotFound(format!(
                "account {name} has no token {id}"
            )));
        }
        let text = serde_json::to_string(&list).map_err(|e| ApiError::Internal(e.to_string()))?;
        Ok(BTreeMap::from([(tokens_key.clone(), text)]))
    })
    .await?;
    tracing::info!(account = %name, token = %id, by = %who.name, "API token revoked");
    Ok(axum::Json(json!({"revoked": id})))
}
