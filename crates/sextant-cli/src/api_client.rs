//! Talking to `sextant server`: where the CLI keeps what `sextant login`
//! got (a file only its owner can read), and an HTTP client that sends
//! the token. `SEXTANT_SERVER` and `SEXTANT_AUTH_TOKEN` override the file
//! (for CI, with an API token).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One server the CLI has logged in to.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Saved {
    /// The bearer token.
    pub token: String,
    /// The account.
    pub user: String,
    /// Accept any certificate (a self-signed one).
    #[serde(default)]
    pub insecure: bool,
    /// A CA file to trust.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
}

/// The CLI's file.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Config {
    /// The server used when none is named.
    pub current: Option<String>,
    /// By URL.
    pub servers: BTreeMap<String, Saved>,
}

/// `$SEXTANT_CONFIG`, else `$XDG_CONFIG_HOME/sextant/config.json`, else
/// `~/.config/sextant/config.json`.
pub fn config_path() -> anyhow::Result<PathBuf> {
    if let Some(p) = std::env::var_os("SEXTANT_CONFIG").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    if let Some(x) = std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(x).join("sextant").join("config.json"));
    }
    match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        Some(home) => Ok(PathBuf::from(home).join(".config/sextant/config.json")),
        None => anyhow::bail!("no place for the CLI's settings: set SEXTANT_CONFIG or HOME"),
    }
}

impl Config {
    /// Read the file (empty when it does not exist).
    pub fn load(path: &Path) -> anyhow::Result<Config> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).with_context(|| {
                format!(
                    "{} is not valid JSON; remove it and log in again",
                    path.display()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(e).with_context(|| format!("could not read {}", path.display())),
        }
    }

    /// Write the file, readable by its owner only.
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("could not create {}", dir.display()))?;
        }
        let text = serde_json::to_string_pretty(self).context("could not write the settings")?;
        let tmp = path.with_extension("tmp");
        {
            use std::io::Write;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut f = options
                .open(&tmp)
                .with_context(|| format!("could not write {}", tmp.display()))?;
            f.write_all(text.as_bytes())
                .with_context(|| format!("could not write {}", tmp.display()))?;
        }
        std::fs::rename(&tmp, path).with_context(|| format!("could not write {}", path.display()))
    }
}

/// `host:port` or a URL, as a URL without a trailing slash (https when
/// no scheme is given).
pub fn normalise_server(server: &str) -> String {
    let s = server.trim().trim_end_matches('/');
    if s.contains("://") {
        s.to_owned()
    } else {
        format!("https://{s}")
    }
}

/// An HTTP client for a server.
pub fn http_client(insecure: bool, ca_file: Option<&Path>) -> anyhow::Result<reqwest::Client> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(120))
        .danger_accept_invalid_certs(insecure);
    if let Some(ca) = ca_file {
        let pem = std::fs::read(ca).with_context(|| format!("could not read {}", ca.display()))?;
        let cert = reqwest::Certificate::from_pem(&pem)
            .with_context(|| format!("{} is not a PEM certificate", ca.display()))?;
        builder = builder.add_root_certificate(cert);
    }
    builder.build().context("could not set up the HTTP client")
}

/// A logged-in connection.
pub struct Api {
    /// Base URL.
    pub server: String,
    /// The HTTP client.
    pub http: reqwest::Client,
    token: String,
}

impl Api {
    /// The server named (else `SEXTANT_SERVER`, else the current one),
    /// with its saved token (or `SEXTANT_AUTH_TOKEN`).
    pub fn connect(server: Option<&str>) -> anyhow::Result<Api> {
        let path = config_path()?;
        let config = Config::load(&path)?;
        let env_server = std::env::var("SEXTANT_SERVER")
            .ok()
            .filter(|s| !s.is_empty());
        let Some(server) = server
            .map(normalise_server)
            .or(env_server.map(|s| normalise_server(&s)))
            .or(config.current.clone())
        else {
            anyhow::bail!(
                "not logged in to any server: run `sextant login SERVER` (or set SEXTANT_SERVER and SEXTANT_AUTH_TOKEN)"
            );
        };
        let saved = config.servers.get(&server).cloned().unwrap_or_default();
        let token = std::env::var("SEXTANT_AUTH_TOKEN")
            .ok()
            .filter(|t| !t.is_empty())
            .unwrap_or(saved.token.clone());
        if token.is_empty() {
            anyhow::bail!("not logged in to {server}: run `sextant login {server}`");
        }
        let insecure = saved.insecure
            || std::env::var("SEXTANT_INSECURE_SKIP_TLS_VERIFY").is_ok_and(|v| v == "true");
        Ok(Api {
            http: http_client(insecure, saved.ca_file.as_deref())?,
            server,
            token,
        })
    }

    /// Send a request to `path` (under the server URL) with the token;
    /// the body as JSON on success, the server's message on failure.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.server);
        let mut req = self
            .http
            .request(method.clone(), &url)
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req
            .send()
            .await
            .with_context(|| format!("could not reach {}", self.server))?;
        read(resp, &format!("{method} {path}")).await
    }
}

/// The JSON of a response, or an error with the server's message.
pub async fn read(resp: reqwest::Response, what: &str) -> anyhow::Result<Value> {
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    let json: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    if status.is_success() {
        return Ok(json);
    }
    let message = json
        .get("message")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| text.chars().take(300).collect());
    let hint = if status == reqwest::StatusCode::UNAUTHORIZED {
        "; log in again with `sextant login`"
    } else {
        ""
    };
    anyhow::bail!("{what}: the server answered {status}: {message}{hint}")
}

/// Read a secret: a prompt without echo on a terminal, else a line of
/// standard input.
pub fn read_secret(prompt: &str) -> anyhow::Result<String> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        rpassword::prompt_password(prompt).context("could not read the password")
    } else {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("could not read the password from standard input")?;
        Ok(line.trim_end_matches(['\n', '\r']).to_owned())
    }
}
