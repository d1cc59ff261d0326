//! Signed tokens: JSON Web Tokens with HS256 (HMAC-SHA-256), keyed by the
//! server's secret key (`server.secretkey` in Secret `sextant-secret`), so
//! every replica of the server accepts what another signed and rotating
//! the key ends every session and token at once.
//!
//! Two kinds: a browser or CLI session (`typ: session`, short-lived, ended
//! by a password change) and an API token (`typ: apiKey`, valid while its
//! id is listed under the account and not expired).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// What a token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TokenKind {
    /// A login session.
    #[serde(rename = "session")]
    Session,
    /// An API token generated for an account.
    #[serde(rename = "apiKey")]
    ApiKey,
}

/// The claims we sign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The account.
    pub sub: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds); API tokens may have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// Token id: revocation and CSRF binding.
    pub jti: String,
    /// Issuer, always `sextant`.
    pub iss: String,
    /// Session or API token.
    pub typ: TokenKind,
}

/// Why a token was refused (never says more than the client needs).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    /// Not three base64url parts, or not JSON.
    #[error("the token is malformed")]
    Malformed,
    /// The signature does not match this server's key.
    #[error(
        "the token's signature is not valid (was it issued by another server, or was the key rotated?)"
    )]
    Signature,
    /// Past `exp`.
    #[error("the token has expired; log in again")]
    Expired,
}

const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

fn mac(key: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    match HmacSha256::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    }
}

/// Sign `claims` with `key`.
pub fn sign(key: &[u8], claims: &Claims) -> String {
    let header = B64.encode(HEADER);
    let payload = B64.encode(serde_json::to_vec(claims).unwrap_or_default());
    let signing_input = format!("{header}.{payload}");
    let mut m = mac(key);
    m.update(signing_input.as_bytes());
    let sig = B64.encode(m.finalize().into_bytes());
    format!("{signing_input}.{sig}")
}

/// Check `token`'s signature and expiry at `now` (Unix seconds).
pub fn verify(key: &[u8], token: &str, now: i64) -> Result<Claims, TokenError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let header_json = B64.decode(header).map_err(|_| TokenError::Malformed)?;
    let header_value: serde_json::Value =
        serde_json::from_slice(&header_json).map_err(|_| TokenError::Malformed)?;
    if header_value.get("alg").and_then(|a| a.as_str()) != Some("HS256") {
        return Err(TokenError::Signature);
    }
    let sig = B64.decode(sig).map_err(|_| TokenError::Malformed)?;
    let mut m = mac(key);
    m.update(header.as_bytes());
    m.update(b".");
    m.update(payload.as_bytes());
    m.verify_slice(&sig).map_err(|_| TokenError::Signature)?;
    let payload = B64.decode(payload).map_err(|_| TokenError::Malformed)?;
    let claims: Claims = serde_json::from_slice(&payload).map_err(|_| TokenError::Malformed)?;
    if claims.iss != "sextant" {
        return Err(TokenError::Signature);
    }
    if claims.exp.is_some_and(|exp| exp <= now) {
        return Err(TokenError::Expired);
    }
    Ok(claims)
}

/// A keyed digest of `text`, hex: the CSRF token of a session is
/// `digest(key, "csrf:" + jti)`, so it needs no storage and cannot be
/// computed without the key.
pub fn digest(key: &[u8], text: &str) -> String {
    let mut m = mac(key);
    m.update(text.as_bytes());
    m.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Compare two strings in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.bytes()
        .zip(b.bytes())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: Option<i64>) -> Claims {
        Claims {
            sub: "alice".into(),
            iat: 100,
            exp,
            jti: "id-1".into(),
            iss: "sextant".into(),
            typ: TokenKind::Session,
        }
    }

    #[test]
    fn a_signed_token_verifies_with_the_same_key_only() {
        let t = sign(b"key-one", &claims(Some(1000)));
        assert_eq!(verify(b"key-one", &t, 500), Ok(claims(Some(1000))));
        assert_eq!(verify(b"key-two", &t, 500), Err(TokenError::Signature));
    }

    #[test]
    fn expired_tampered_and_malformed_tokens_are_refused() {
        let t = sign(b"k", &claims(Some(1000)));
        assert_eq!(verify(b"k", &t, 1000), Err(TokenError::Expired));
        let mut parts: Vec<&str> = t.split('.').collect();
        let forged = B64.encode(
            serde_json::to_vec(&Claims {
                sub: "admin".into(),
                ..claims(Some(1000))
            })
            .unwrap_or_default(),
        );
        parts[1] = &forged;
        assert_eq!(
            verify(b"k", &parts.join("."), 500),
            Err(TokenError::Signature)
        );
        assert_eq!(verify(b"k", "a.b", 500), Err(TokenError::Malformed));
        let none_alg = format!("{}.{}.", B64.encode(r#"{"alg":"none"}"#), parts[1]);
        assert_eq!(verify(b"k", &none_alg, 500), Err(TokenError::Signature));
    }

    #[test]
    fn digests_depend_on_the_key() {
        assert_ne!(digest(b"a", "csrf:x"), digest(b"b", "csrf:x"));
        assert_eq!(digest(b"a", "csrf:x").len(), 64);
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
    }
}
