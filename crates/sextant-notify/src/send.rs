//! Delivery of a rendered notification to one service and recipient.
//! Errors never carry a secret: no URL (a Slack incoming-webhook URL is a
//! credential), no header.

use std::time::Duration;

use serde_json::{Value, json};

use crate::config::ServiceConfig;
use crate::render::Notification;

/// The HTTP client deliveries use (TLS through rustls with ring, as the
/// rest of Sextant).
pub type HttpClient = reqwest::Client;

/// A client for [`send`].
pub fn client() -> HttpClient {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .user_agent("sextant-notifications")
        .build()
        .unwrap_or_default()
}

/// How long one delivery attempt may take.
const TIMEOUT: Duration = Duration::from_secs(15);

/// Deliver `n` to `recipient` through `service`, for `app`.
pub async fn send(
    http: &reqwest::Client,
    service: &ServiceConfig,
    recipient: &str,
    n: &Notification,
    app: &Value,
) -> Result<(), String> {
    let s = &service.settings;
    match service.kind.as_str() {
        "slack" => slack(http, s, recipient, n).await,
        "teams" => teams(http, s, recipient, n).await,
        "webhook" => webhook(http, s, &service.name, n).await,
        "email" => email(s, recipient, n).await,
        "github" => github(http, s, n, app).await,
        other => Err(format!(
            "service type `{other}` is not supported (supported: slack, teams, webhook, email, github)"
        )),
    }
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// A field that templates give as JSON text (`slack.attachments`).
fn json_field(v: &Value, key: &str) -> Result<Option<Value>, String> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => serde_json::from_str(s)
            .map(Some)
            .map_err(|e| format!("`{key}` is not JSON after rendering: {e}")),
        Some(other) => Ok(Some(other.clone())),
    }
}

async fn post(req: reqwest::RequestBuilder) -> Result<String, String> {
    let resp = req
        .timeout(TIMEOUT)
        .send()
        .await
        .map_err(|e| format!("request failed: {}", e.without_url()))?;
    let status = resp.status();
    let body = resp.text().await.unwrap_or_default();
    if !status.is_success() {
        let shown: String = body.chars().take(200).collect();
        return Err(format!("the receiver answered {status}: {shown}"));
    }
    Ok(body)
}

async fn slack(
    http: &reqwest::Client,
    s: &Value,
    channel: &str,
    n: &Notification,
) -> Result<(), String> {
    let fields = n.fields.get("slack").cloned().unwrap_or(Value::Null);
    let mut body = json!({"text": n.message});
    if !channel.is_empty() {
        body["channel"] = json!(channel);
    }
    if let Some(u) = text(s, "username") {
        body["username"] = json!(u);
    }
    if let Some(icon) = text(s, "icon") {
        let key = if icon.starts_with("http") {
            "icon_url"
        } else {
            "icon_emoji"
        };
        body[key] = json!(icon);
    }
    for key in ["attachments", "blocks"] {
        if let Some(v) = json_field(&fields, key)? {
            body[key] = v;
        }
    }
    if let Some(url) = text(s, "webhookURL").or_else(|| text(s, "url")) {
        // An incoming webhook: the URL is the credential.
        post(http.post(url).json(&body)).await?;
        return Ok(());
    }
    let token = text(s, "token").ok_or(
        "service.slack has neither `token` (a bot token) nor `webhookURL` (an incoming webhook)",
    )?;
    let api = text(s, "apiURL").unwrap_or("https://slack.com/api/");
    let url = format!("{}/chat.postMessage", api.trim_end_matches('/'));
    let answer = post(http.post(url).bearer_auth(token).json(&body)).await?;
    let parsed: Value = serde_json::from_str(&answer).unwrap_or(Value::Null);
    if parsed.get("ok") == Some(&Value::Bool(false)) {
        return Err(format!(
            "Slack refused the message: {}",
            parsed
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("no reason given")
        ));
    }
    Ok(())
}

async fn teams(
    http: &reqwest::Client,
    s: &Value,
    recipient: &str,
    n: &Notification,
) -> Result<(), String> {
    let url = s
        .get("recipientUrls")
        .and_then(|r| r.get(recipient))
        .and_then(Value::as_str)
        .ok_or_else(|| format!("service.teams has no recipientUrls entry `{recipient}`"))?;
    let fields = n.fields.get("teams").cloned().unwrap_or(Value::Null);
    let title = text(&fields, "title").unwrap_or(&n.title);
    let mut card = json!({
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        "summary": if title.is_empty() { n.message.chars().take(80).collect::<String>() } else { title.to_owned() },
        "text": text(&fields, "text").unwrap_or(&n.message),
    });
    if !title.is_empty() {
        card["title"] = json!(title);
    }
    if let Some(c) = text(&fields, "themeColor") {
        card["themeColor"] = json!(c);
    }
    for key in ["sections", "potentialAction", "facts"] {
        if let Some(v) = json_field(&fields, key)? {
            card[key] = v;
        }
    }
    post(http.post(url).json(&card)).await.map(|_| ())
}

async fn webhook(
    http: &reqwest::Client,
    s: &Value,
    name: &str,
    n: &Notification,
) -> Result<(), String> {
    let base = text(s, "url").ok_or_else(|| format!("service.webhook.{name} has no `url`"))?;
    let fields = n
        .fields
        .get("webhook")
        .and_then(|w| w.get(name))
        .cloned()
        .unwrap_or(Value::Null);
    let method = text(&fields, "method")
        .unwrap_or("GET")
        .to_ascii_uppercase();
    let method = reqwest::Method::from_bytes(method.as_bytes())
        .map_err(|_| format!("template webhook.{name}.method `{method}` is not an HTTP method"))?;
    let url = format!("{base}{}", text(&fields, "path").unwrap_or(""));
    let mut req = http.request(method, url);
    for h in s
        .get("headers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let (Some(k), Some(v)) = (text(h, "name"), h.get("value").and_then(Value::as_str)) {
            req = req.header(k, v);
        }
    }
    if let Some(auth) = s.get("basicAuth") {
        req = req.basic_auth(
            text(auth, "username").unwrap_or(""),
            auth.get("password").and_then(Value::as_str),
        );
    }
    if let Some(body) = fields.get("body").and_then(Value::as_str) {
        req = req.body(body.to_owned());
    }
    post(req).await.map(|_| ())
}

async fn email(s: &Value, to: &str, n: &Notification) -> Result<(), String> {
    use lettre::message::{Mailbox, header::ContentType};
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::transport::smtp::client::{Tls, TlsParameters};
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

    let host = text(s, "host").ok_or("service.email has no `host`")?;
    let port = s
        .get("port")
        .and_then(|p| p.as_u64().or_else(|| p.as_str()?.parse().ok()))
        .and_then(|p| u16::try_from(p).ok())
        .unwrap_or(587);
    let from: Mailbox = text(s, "from")
        .ok_or("service.email has no `from`")?
        .parse()
        .map_err(|e| format!("service.email `from` is not an address: {e}"))?;
    let to: Mailbox = to
        .parse()
        .map_err(|e| format!("recipient `{to}` is not an e-mail address: {e}"))?;
    let fields = n.fields.get("email").cloned().unwrap_or(Value::Null);
    let subject = text(&fields, "subject").unwrap_or(&n.title).to_owned();
    let html = s.get("html").and_then(Value::as_bool).unwrap_or(false);
    let message = Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .header(if html {
            ContentType::TEXT_HTML
        } else {
            ContentType::TEXT_PLAIN
        })
        .body(n.message.clone())
        .map_err(|e| format!("could not build the e-mail: {e}"))?;
    let insecure = s
        .get("insecure_skip_verify")
        .and_then(Value::as_bool)
        .unwrap_or(false)
        || s.get("insecureSkipVerify")
            .and_then(Value::as_bool)
            .unwrap_or(false);
    let tls_params = TlsParameters::builder(host.to_owned())
        .dangerous_accept_invalid_certs(insecure)
        .build()
        .map_err(|e| format!("could not set up TLS for {host}: {e}"))?;
    let plain = s.get("plaintext").and_then(Value::as_bool).unwrap_or(false);
    let tls = if plain {
        Tls::None
    } else if port == 465 {
        Tls::Wrapper(tls_params)
    } else {
        Tls::Opportunistic(tls_params)
    };
    let mut transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(port)
        .tls(tls)
        .timeout(Some(TIMEOUT));
    if let Some(user) = text(s, "username") {
        transport = transport.credentials(Credentials::new(
            user.to_owned(),
            text(s, "password").unwrap_or("").to_owned(),
        ));
    }
    transport
        .build()
        .send(message)
        .await
        .map(|_| ())
        .map_err(|e| format!("the SMTP server {host}:{port} refused or failed: {e}"))
}

/// `owner/repo` of a GitHub URL (https or ssh form).
fn github_repo(url: &str) -> Option<(String, String)> {
    let path = url
        .trim_end_matches('/')
        .trim_end_matches(".git")
        .rsplitn(3, ['/', ':'])
        .take(2)
        .collect::<Vec<_>>();
    match path.as_slice() {
        [repo, owner] if !repo.is_empty() && !owner.is_empty() => {
            Some(((*owner).to_owned(), (*repo).to_owned()))
        }
        _ => None,
    }
}

async fn github(
    http: &reqwest::Client,
    s: &Value,
    n: &Notification,
    app: &Value,
) -> Result<(), String> {
    let token = text(s, "token").ok_or(
        "service.github needs `token` (a token that may write commit statuses); GitHub App authentication (appID, installationID, privateKey) is not supported yet",
    )?;
    let status = n
        .fields
        .get("github")
        .and_then(|g| g.get("status"))
        .cloned()
        .ok_or("the template has no github.status")?;
    let repo_url = app
        .pointer("/spec/source/repoURL")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let (owner, repo) = github_repo(repo_url)
        .ok_or_else(|| format!("cannot tell the GitHub repository of `{repo_url}`"))?;
    let sha = app
        .pointer("/status/operationState/syncResult/revision")
        .or_else(|| app.pointer("/status/sync/revision"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or("the app has no synced revision to set a status on")?;
    let api = text(s, "enterpriseBaseURL")
        .or_else(|| text(s, "apiURL"))
        .unwrap_or("https://api.github.com");
    let url = format!(
        "{}/repos/{owner}/{repo}/statuses/{sha}",
        api.trim_end_matches('/')
    );
    let mut body = json!({
        "state": text(&status, "state").unwrap_or("success"),
        "context": text(&status, "label").unwrap_or("continuous-delivery/sextant"),
        "description": n.message.chars().take(140).collect::<String>(),
    });
    if let Some(t) = text(&status, "targetURL") {
        body["target_url"] = json!(t);
    }
    post(
        http.post(url)
            .header("Authorization", format!("token {token}"))
            .header("Accept", "application/vnd.github+json")
            .header("User-Agent", "sextant")
            .json(&body),
    )
    .await
    .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_repositories_are_read_from_both_url_forms() {
        for url in [
            "https://github.com/acme/deploy.git",
            "https://github.com/acme/deploy",
            "git@github.com:acme/deploy.git",
        ] {
            assert_eq!(
                github_repo(url),
                Some(("acme".into(), "deploy".into())),
                "{url}"
            );
        }
    }
}
