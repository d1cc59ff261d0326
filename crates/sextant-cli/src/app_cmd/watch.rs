//! Follow one Application until a condition holds: read it, then watch it
//! (field selector on its name) from that resourceVersion, so no change is
//! missed; when a watch ends or fails (410 Gone, a dropped connection) read
//! it again and watch anew. Every version seen goes to `check`, which says
//! whether we are done; `None` means the app does not exist (any more).

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use kube::api::{WatchEvent, WatchParams};
use sextant_model::Application;
use tokio::time::Instant;

use super::client::Apps;

/// How a wait ended.
#[derive(Debug)]
pub enum Watched<T> {
    /// `check` said so.
    Done(T),
    /// The deadline passed first.
    TimedOut,
}

/// The longest single watch request (the server ends it; we start another).
const WATCH_SECONDS: u64 = 60;
/// Pause before reading again after a watch failed.
const RETRY: Duration = Duration::from_millis(500);

/// Call `check` with each version of app `name` until it returns
/// `Some` (or an error), or `deadline` passes.
pub async fn watch_app<T>(
    apps: &Apps,
    name: &str,
    deadline: Instant,
    mut check: impl FnMut(Option<&Application>) -> anyhow::Result<Option<T>>,
) -> anyhow::Result<Watched<T>> {
    let mut first = true;
    loop {
        // The first read is always made, so even a zero timeout reports
        // what was seen.
        let current = if std::mem::take(&mut first) {
            apps.get_opt(name).await?
        } else {
            match tokio::time::timeout_at(deadline, apps.get_opt(name)).await {
                Ok(result) => result?,
                Err(_) => return Ok(Watched::TimedOut),
            }
        };
        if let Some(done) = check(current.as_ref())? {
            return Ok(Watched::Done(done));
        }
        let Some(version) = current.and_then(|a| a.metadata.resource_version) else {
            // Absent and `check` wants more: look again shortly.
            if sleep_until_or(deadline, RETRY).await {
                return Ok(Watched::TimedOut);
            }
            continue;
        };
        let left = deadline.saturating_duration_since(Instant::now());
        let seconds = left.as_secs().clamp(1, WATCH_SECONDS);
        let params = WatchParams::default()
            .fields(&format!("metadata.name={name}"))
            .timeout(u32::try_from(seconds).unwrap_or(60));
        let stream =
            match tokio::time::timeout_at(deadline, apps.api.watch(&params, &version)).await {
                Err(_) => return Ok(Watched::TimedOut),
                Ok(Err(e)) => {
                    tracing::debug!("watch of {name} failed: {e}; reading again");
                    if sleep_until_or(deadline, RETRY).await {
                        return Ok(Watched::TimedOut);
                    }
                    continue;
                }
                Ok(Ok(stream)) => stream,
            };
        let mut stream = stream.boxed();
        loop {
            let event = match tokio::time::timeout_at(deadline, stream.try_next()).await {
                Err(_) => return Ok(Watched::TimedOut),
                Ok(Ok(Some(event))) => event,
                Ok(Ok(None)) => break,
                Ok(Err(e)) => {
                    tracing::debug!("watch of {name} broke: {e}; reading again");
                    if sleep_until_or(deadline, RETRY).await {
                        return Ok(Watched::TimedOut);
                    }
                    break;
                }
            };
            let done = match &event {
                WatchEvent::Added(app) | WatchEvent::Modified(app) => check(Some(app))?,
                WatchEvent::Deleted(_) => check(None)?,
                WatchEvent::Bookmark(_) => None,
                WatchEvent::Error(status) => {
                    tracing::debug!("watch of {name} ended: {}", status.message);
                    break;
                }
            };
            if let Some(done) = done {
                return Ok(Watched::Done(done));
            }
        }
    }
}

/// Sleep `pause`, or until `deadline`; true when the deadline has passed.
async fn sleep_until_or(deadline: Instant, pause: Duration) -> bool {
    let wake = (Instant::now() + pause).min(deadline);
    tokio::time::sleep_until(wake).await;
    Instant::now() >= deadline
}
