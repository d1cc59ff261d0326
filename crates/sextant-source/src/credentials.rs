//! Credentials for Git over HTTP(S) and SSH, kept out of every `Debug`,
//! `Display`, log line and error message.

use std::fmt;

/// A secret string (password or token). Its `Debug` and `Display` print
/// `***`; only [`Secret::expose`] gives the value, and only the transport
/// calls it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wrap a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret value itself. Call only to hand it to the transport.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// How to authenticate to a Git server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credentials {
    /// An access token, sent as HTTP basic auth with the user name
    /// [`Credentials::TOKEN_USERNAME`] (what GitHub, GitLab and Gitea accept
    /// for personal and app tokens).
    Token(Secret),
    /// A user name and password (or token) sent as HTTP basic auth.
    Basic {
        /// The user name.
        username: String,
        /// The password or token.
        password: Secret,
    },
    /// An SSH private key (`sshPrivateKey` of a repository Secret) and the
    /// host keys to trust, as `known_hosts` lines: a server whose key is
    /// not among them is refused.
    Ssh {
        /// The private key, as OpenSSH writes it.
        private_key: Secret,
        /// `known_hosts` lines.
        known_hosts: String,
    },
}

impl Credentials {
    /// The user name sent with a bare token.
    pub const TOKEN_USERNAME: &'static str = "x-access-token";

    /// The user name and password to send over HTTP(S) (none for SSH).
    pub(crate) fn account(&self) -> Option<(&str, &str)> {
        match self {
            Credentials::Token(token) => Some((Self::TOKEN_USERNAME, token.expose())),
            Credentials::Basic { username, password } => Some((username, password.expose())),
            Credentials::Ssh { .. } => None,
        }
    }

    /// Remove every trace of these credentials from `text` (the secret, and
    /// the user name when it is not a well-known placeholder).
    pub(crate) fn scrub(&self, text: &str) -> String {
        let secret = match self {
            Credentials::Ssh { private_key, .. } => private_key.expose().trim(),
            other => other.account().map_or("", |(_, password)| password),
        };
        if secret.is_empty() {
            return text.to_owned();
        }
        text.replace(secret, "***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_show_in_debug_or_display() {
        let creds = Credentials::Basic {
            username: "bob".into(),
            password: Secret::new("hunter2"),
        };
        assert!(!format!("{creds:?}").contains("hunter2"));
        assert_eq!(Secret::new("hunter2").to_string(), "***");
    }

    #[test]
    fn scrubbing_removes_the_secret_from_a_message() {
        let creds = Credentials::Token(Secret::new("tok-123"));
        assert_eq!(
            creds.scrub("GET https://x:tok-123@h/r failed"),
            "GET https://x:***@h/r failed"
        );
    }
}
