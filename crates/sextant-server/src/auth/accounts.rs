//! Local accounts, as Argo CD keeps them: names and capabilities in the
//! ConfigMap `sextant-cm` (`accounts.<name>: apiKey, login`,
//! `accounts.<name>.enabled: "false"`, `admin.enabled`), password hashes,
//! their change times and the API tokens' ids in the Secret
//! `sextant-secret` (`admin.password`, `admin.passwordMtime`,
//! `accounts.<name>.password`, `accounts.<name>.passwordMtime`,
//! `accounts.<name>.tokens`), and the signing key `server.secretkey`.
//! Argo CD's `argocd-cm` / `argocd-secret` use the same keys.
//!
//! Passwords are hashed with argon2id (PHC string); nothing here ever
//! holds a plain password longer than a call.

use std::collections::BTreeMap;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use serde::{Deserialize, Serialize};

/// The ConfigMap with accounts and general settings (`sextant-cm`, or
/// Argo CD's `argocd-cm` under its group).
pub fn settings_configmap() -> &'static str {
    sextant_model::group::selected().settings_config_map()
}
/// The Secret with password hashes, token ids and the signing key
/// (`sextant-secret` or `argocd-secret`).
pub fn settings_secret() -> &'static str {
    sextant_model::group::selected().settings_secret()
}
/// The Secret holding the generated first admin password.
pub fn initial_admin_secret() -> &'static str {
    sextant_model::group::selected().initial_admin_secret()
}
/// The signing key's field in [`settings_secret()`].
pub const SECRET_KEY_FIELD: &str = "server.secretkey";
/// The built-in administrator.
pub const ADMIN: &str = "admin";

/// One API token's record (the token itself is never stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TokenRecord {
    /// Its id (the token's `jti`).
    pub id: String,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Expires at, Unix seconds (absent: never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
}

/// One account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Its name.
    pub name: String,
    /// False when `accounts.<name>.enabled` (or `admin.enabled`) is "false".
    pub enabled: bool,
    /// May log in with a password.
    pub login: bool,
    /// May have API tokens.
    pub api_key: bool,
    /// The argon2id hash, when a password is set.
    pub password_hash: Option<String>,
    /// When the password last changed (Unix seconds): sessions issued
    /// before it are no longer valid.
    pub password_mtime: Option<i64>,
    /// Its API tokens.
    pub tokens: Vec<TokenRecord>,
}

/// Every account, from the settings ConfigMap and Secret as last seen.
#[derive(Debug, Clone, Default)]
pub struct Accounts {
    accounts: BTreeMap<String, Account>,
}

fn mtime(text: Option<&String>) -> Option<i64> {
    let t = text?;
    chrono::DateTime::parse_from_rfc3339(t)
        .map(|d| d.timestamp())
        .ok()
        .or_else(|| t.parse().ok())
}

impl Accounts {
    /// Read accounts from the ConfigMap's and Secret's data (the Secret's
    /// values already decoded).
    pub fn from_settings(cm: &BTreeMap<String, String>, secret: &BTreeMap<String, String>) -> Self {
        let mut accounts = BTreeMap::new();
        let admin_enabled = cm.get("admin.enabled").is_none_or(|v| v.trim() != "false");
        let admin_caps = cm
            .get("accounts.admin")
            .map(|s| capabilities(s))
            .unwrap_or((true, false));
        accounts.insert(
            ADMIN.to_owned(),
            Account {
                name: ADMIN.to_owned(),
                enabled: admin_enabled,
                login: admin_caps.0,
                api_key: admin_caps.1,
                password_hash: secret.get("admin.password").cloned(),
                password_mtime: mtime(secret.get("admin.passwordMtime")),
                tokens: tokens(secret.get("accounts.admin.tokens")),
            },
        );
        for (key, value) in cm {
            let Some(name) = key.strip_prefix("accounts.") else {
                continue;
            };
            if name.contains('.') || name == ADMIN || name.is_empty() {
                continue;
            }
            let (login, api_key) = capabilities(value);
            let enabled = cm
                .get(&format!("accounts.{name}.enabled"))
                .is_none_or(|v| v.trim() != "false");
            accounts.insert(
                name.to_owned(),
                Account {
                    name: name.to_owned(),
                    enabled,
                    login,
                    api_key,
                    password_hash: secret.get(&format!("accounts.{name}.password")).cloned(),
                    password_mtime: mtime(secret.get(&format!("accounts.{name}.passwordMtime"))),
                    tokens: tokens(secret.get(&format!("accounts.{name}.tokens"))),
                },
            );
        }
        Accounts { accounts }
    }

    /// The account called `name`.
    pub fn get(&self, name: &str) -> Option<&Account> {
        self.accounts.get(name)
    }

    /// Every account, by name.
    pub fn all(&self) -> impl Iterator<Item = &Account> {
        self.accounts.values()
    }
}

/// `apiKey, login` -> (login, apiKey).
fn capabilities(text: &str) -> (bool, bool) {
    let caps: Vec<&str> = text.split(',').map(str::trim).collect();
    (caps.contains(&"login"), caps.contains(&"apiKey"))
}

fn tokens(text: Option<&String>) -> Vec<TokenRecord> {
    text.and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or_default()
}

/// The Secret keys of an account's password, its change time and tokens.
pub fn secret_keys(name: &str) -> (String, String, String) {
    if name == ADMIN {
        (
            "admin.password".into(),
            "admin.passwordMtime".into(),
            "accounts.admin.tokens".into(),
        )
    } else {
        (
            format!("accounts.{name}.password"),
            format!("accounts.{name}.passwordMtime"),
            format!("accounts.{name}.tokens"),
        )
    }
}

/// Hash a password with argon2id and a fresh salt.
pub fn hash_password(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    rand::Rng::fill(&mut rand::rng(), &mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("could not hash the password: {e}"))
}

/// True when `password` matches the stored PHC `hash` (false for a hash
/// that does not parse).
pub fn verify_password(hash: &str, password: &str) -> bool {
    // Argo CD stores bcrypt hashes (`$2a$`, `$2b$`, `$2y$`): a password set
    // there keeps working until it is changed here (then argon2id).
    if hash.starts_with("$2") {
        return bcrypt::verify(password, hash).unwrap_or(false);
    }
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A new random password: 24 characters, letters and digits.
pub fn generate_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..24)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Rules a new password must meet (said to the user when not met).
pub fn check_new_password(password: &str) -> Result<(), String> {
    if password.chars().count() < 8 {
        return Err("the new password must have at least 8 characters".into());
    }
    if password.len() > 256 {
        return Err("the new password must have at most 256 characters".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn argo_cd_bcrypt_hashes_verify_as_argon2_hashes_do() {
        let argo = bcrypt::hash("hunter2-but-longer", 4).unwrap();
        assert!(argo.starts_with("$2"));
        assert!(verify_password(&argo, "hunter2-but-longer"));
        assert!(!verify_password(&argo, "wrong"));
        let ours = hash_password("hunter2-but-longer").unwrap();
        assert!(verify_password(&ours, "hunter2-but-longer"));
        assert!(
            !verify_password("$2b$garbage", "x"),
            "a broken hash is no match"
        );
    }

    #[test]
    fn accounts_read_argo_cd_keys() {
        let cm = map(&[
            ("accounts.alice", "apiKey, login"),
            ("accounts.ci", "apiKey"),
            ("accounts.ci.enabled", "false"),
            ("accounts.alice.enabled", "true"),
            ("url", "https://sextant.example"),
        ]);
        let secret = map(&[
            ("admin.password", "$argon2id$x"),
            ("accounts.alice.tokens", r#"[{"id":"t1","iat":5}]"#),
            ("accounts.alice.passwordMtime", "2026-01-01T00:00:00Z"),
        ]);
        let a = Accounts::from_settings(&cm, &secret);
        let alice = a.get("alice").cloned();
        assert!(
            alice
                .as_ref()
                .is_some_and(|a| a.login && a.api_key && a.enabled)
        );
        assert_eq!(alice.as_ref().map(|a| a.tokens.len()), Some(1));
        assert_eq!(alice.and_then(|a| a.password_mtime), Some(1_767_225_600));
        assert!(
            a.get("ci")
                .is_some_and(|c| !c.enabled && !c.login && c.api_key)
        );
        assert!(
            a.get("admin")
                .is_some_and(|c| c.enabled && c.login && !c.api_key)
        );
        assert!(a.get("url").is_none());
    }

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("correct horse").unwrap_or_default();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password(&h, "correct horse"));
        assert!(!verify_password(&h, "wrong"));
        assert!(!verify_password("not a hash", "x"));
        assert_eq!(generate_password().len(), 24);
        assert!(check_new_password("short").is_err());
    }
}
