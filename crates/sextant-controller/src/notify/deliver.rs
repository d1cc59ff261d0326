//! One notification on its way: render, send, retry with backoff (1 s,
//! 2 s, 4 s), count, and say so on the app when it could not be sent.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use sextant_model::Application;
use sextant_notify::Config;
use sextant_notify::render::{self, Extra};
use sextant_notify::subscribe::Destination;

use super::Notifier;
use crate::events::{self, Reason};

/// Attempts in all (the first and the retries).
const ATTEMPTS: u32 = 4;

/// Send in the background.
pub(super) fn spawn(
    n: Arc<Notifier>,
    config: Arc<Config>,
    app: Application,
    app_json: Value,
    dest: Destination,
    template: String,
) {
    tokio::spawn(async move {
        let name = app.metadata.name.clone().unwrap_or_default();
        let outcome = attempt_all(&n, &config, &app_json, &dest, &template).await;
        let result = if outcome.is_ok() { "sent" } else { "failed" };
        metrics::counter!(
            sextant_metrics::names::NOTIFICATIONS,
            "service" => dest.service.clone(),
            "trigger" => dest.trigger.clone(),
            "result" => result
        )
        .increment(1);
        match outcome {
            Ok(()) => {
                tracing::info!(app = %name, trigger = %dest.trigger, service = %dest.service, recipient = %dest.recipient, "notification sent")
            }
            Err(why) => {
                tracing::warn!(app = %name, trigger = %dest.trigger, service = %dest.service, error = %why, "notification not sent");
                events::record(
                    &n.shared.client,
                    &app,
                    Reason::NotificationFailed,
                    &format!(
                        "{} notification to {}{} not sent: {why}",
                        dest.trigger,
                        dest.service,
                        if dest.recipient.is_empty() {
                            String::new()
                        } else {
                            format!(":{}", dest.recipient)
                        }
                    ),
                )
                .await;
            }
        }
    });
}

async fn attempt_all(
    n: &Notifier,
    config: &Config,
    app: &Value,
    dest: &Destination,
    template: &str,
) -> Result<(), String> {
    let service = config.services.get(&dest.service).ok_or_else(|| {
        format!(
            "no service `{}` in the notifications ConfigMap (service.<type>[.{}])",
            dest.service, dest.service
        )
    })?;
    let body = config
        .templates
        .get(template)
        .ok_or_else(|| format!("no template `{template}` in the notifications ConfigMap"))?;
    let mut extra = Extra::for_app(config, app);
    // `.commit.message`, `.commit.author`, `.commit.date` from the mirror.
    let repo = app.pointer("/spec/source/repoURL").and_then(Value::as_str);
    let sha = extra
        .commit
        .as_ref()
        .and_then(|c| c.get("sha"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    if let (Some(repo), Some(sha)) = (repo, sha)
        && let Some(info) = n.shared.sources.commit_info(repo, &sha).await
    {
        extra.commit = Some(info);
    }
    let message = render::render(template, body, app, &extra, &service.kind)?;
    let mut wait = Duration::from_secs(1);
    let mut last = String::new();
    for attempt in 1..=ATTEMPTS {
        match sextant_notify::send::send(&n.http, service, &dest.recipient, &message, app).await {
            Ok(()) => return Ok(()),
            Err(e) => last = e,
        }
        if attempt < ATTEMPTS {
            tokio::time::sleep(wait).await;
            wait *= 2;
        }
    }
    Err(format!("{last} (after {ATTEMPTS} attempts)"))
}
