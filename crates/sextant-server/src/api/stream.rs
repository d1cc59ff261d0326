//! Live updates as Server-Sent Events, so a page never polls.
//!
//! `/api/v1/stream/applications` sends `application` events (`type`
//! ADDED / MODIFIED / DELETED and the app's summary), each with an id; a
//! client that reconnects with `Last-Event-ID` (browsers do it by
//! themselves) gets exactly what it missed, or a `reset` event when that
//! is no longer possible (then it lists again). The list endpoint's
//! `eventId` is where a fresh list is current to; since `EventSource`
//! cannot set `Last-Event-ID` on its first connection, the `lastEventId`
//! query parameter is read when the header is absent. The same filters as the
//! list apply, and only apps the caller may see are sent.
//!
//! `/api/v1/stream/applications/{name}/resource-tree` sends the app's
//! tree (`tree` events) at once and again whenever it changes, at most
//! every 250 ms.
//!
//! A stream re-checks its caller's credentials every 30 s and ends when
//! they are no longer valid (logout, revoked token, password change).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, Method};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use utoipa::ToSchema;

use super::apps::{AppSummary, ListParams, find};
use super::resources::app_tree;
use super::{Params, PathArgs};
use crate::auth::Principal;
use crate::error::ApiResult;
use crate::state::Shared;
use crate::watch::apps::{AppChange, ChangeKind, Resume};

/// One `application` event's data.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppEventData {
    /// What happened.
    #[serde(rename = "type")]
    pub kind: ChangeKind,
    /// The app after it (before it, when deleted).
    pub application: AppSummary,
}

/// Where to resume when the `Last-Event-ID` header is absent.
#[derive(Debug, Default, Deserialize)]
pub struct ResumeParams {
    /// The list's `eventId` or the id of the last event seen.
    #[serde(rename = "lastEventId")]
    pub last_event_id: Option<String>,
}

/// [`AppEventData`] as sent: the summary borrowed from the change (the
/// same JSON).
#[derive(Serialize)]
struct AppEventRef<'a> {
    #[serde(rename = "type")]
    kind: ChangeKind,
    application: &'a AppSummary,
}

const RECHECK: Duration = Duration::from_secs(30);

fn event(name: &str, id: Option<String>, data: &impl Serialize) -> Event {
    let mut e = Event::default().event(name);
    if let Some(id) = id {
        e = e.id(id);
    }
    e.json_data(data)
        .unwrap_or_else(|_| Event::default().comment("unserializable"))
}

fn still_valid(state: &Shared, headers: &HeaderMap) -> bool {
    state.principal(&Method::GET, headers).is_ok()
}

/// Follow app changes.
#[utoipa::path(get, path = "/api/v1/stream/applications", tag = "applications",
    params(ListParams,
           ("Last-Event-ID" = Option<String>, Header, description = "The id of the last event seen (resume)"),
           ("lastEventId" = Option<String>, Query, description = "Used when the Last-Event-ID header is absent: the list's `eventId` (EventSource cannot set the header on its first connection)")),
    responses((status = 200, description = "text/event-stream of `application` (AppEventData) and `reset` events", content_type = "text/event-stream", body = String),
              (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody)))]
pub async fn applications(
    State(state): State<Shared>,
    who: Principal,
    headers: HeaderMap,
    Params(params): Params<ListParams>,
    Params(resume): Params<ResumeParams>,
) -> ApiResult<Response> {
    let filter = super::apps::stream_filter(&params)?;
    let last = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or(resume.last_event_id.filter(|id| !id.is_empty()));
    let (tx, rx) = mpsc::channel::<Result<Event, Infallible>>(256);
    let (resume, mut changes) = state.apps.follow(last.as_deref());
    tokio::spawn(async move {
        // What this stream shows: apps the caller may see that match the
        // filters. An app that starts matching is ADDED, one that stops
        // (or is deleted) DELETED, so a filtered view stays right.
        let shown = |s: &AppSummary| {
            // `PROJECT/NAME`, as `rbac_object` makes it of the app.
            state.can(
                &who,
                "applications",
                "get",
                &format!("{}/{}", s.project, s.name),
            ) && filter(s)
        };
        let render = |change: &AppChange| {
            let was = change.previous.as_deref().is_some_and(&shown);
            let is = change.kind != ChangeKind::Deleted && shown(&change.summary);
            let kind = match (was, is) {
                (_, true) if !was => ChangeKind::Added,
                (_, true) => ChangeKind::Modified,
                (true, false) => ChangeKind::Deleted,
                (false, false) => return None,
            };
            Some(event(
                "application",
                Some(state.apps.event_id(change.seq)),
                &AppEventRef {
                    kind,
                    application: &change.summary,
                },
            ))
        };
        match resume {
            Resume::Reset => {
                let _ = tx
                    .send(Ok(event(
                        "reset",
                        None,
                        &serde_json::json!({"reason": "the last event id is unknown or too old; list the applications again"}),
                    )))
                    .await;
            }
            Resume::From(missed) => {
                for change in missed {
                    if let Some(e) = render(&change)
                        && tx.send(Ok(e)).await.is_err()
                    {
                        return;
                    }
                }
            }
        }
        let mut recheck = tokio::time::interval(RECHECK);
        recheck.tick().await;
        loop {
            tokio::select! {
                got = changes.recv() => match got {
                    Ok(change) => {
                        if let Some(e) = render(&change)
                            && tx.send(Ok(e)).await.is_err()
                        {
                            return;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        let _ = tx.send(Ok(event("reset", None, &serde_json::json!({"reason": "this client fell behind; list the applications again"})))).await;
                        return;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = recheck.tick() => {
                    if !still_valid(&state, &headers) {
                        return;
                    }
                }
                () = tx.closed() => return,
            }
        }
    });
    Ok(Sse::new(ReceiverStream::new(rx))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}

/// Follow an app's resource tree.
#[utoipa::path(get, path = "/api/v1/stream/applications/{name}/resource-tree", tag = "resources",
    params(("name" = String, Path, description = "Application name")),
    responses((status = 200, description = "text/event-stream of `tree` events (ResourceTree)", content_type = "text/event-stream", body = String),
              (status = 401, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn resource_tree(
    State(state): State<Shared>,
    who: Principal,
    headers: HeaderMap,
    PathArgs(name): PathArgs<String>,
) -> ApiResult<Response> {
    find(&state, &who, &name, "get")?;
    let (tx, rx) = mpsc::channel::<Result<Event, Infallible>>(16);
    let mut tree_changes = state.tree.subscribe();
    let (_, mut app_changes) = state.apps.follow(None);
    let name: Arc<str> = Arc::from(name.as_str());
    tokio::spawn(async move {
        let mut recheck = tokio::time::interval(RECHECK);
        recheck.tick().await;
        let mut dirty = true;
        loop {
            if dirty {
                let Some(app) = state.apps.get(&name) else {
                    let _ = tx
                        .send(Ok(event(
                            "deleted",
                            None,
                            &serde_json::json!({"application": &*name}),
                        )))
                        .await;
                    return;
                };
                let tree = app_tree(&state, &app);
                if tx.send(Ok(event("tree", None, &tree))).await.is_err() {
                    return;
                }
                dirty = false;
                // Coalesce bursts (a rollout touches many Pods at once).
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            tokio::select! {
                got = tree_changes.recv() => match got {
                    Ok(app) if *app == *name => dirty = true,
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => dirty = true,
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                got = app_changes.recv() => match got {
                    Ok(change) if *change.name == *name => dirty = true,
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => dirty = true,
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = recheck.tick() => {
                    if !still_valid(&state, &headers) {
                        return;
                    }
                }
                () = tx.closed() => return,
            }
        }
    });
    Ok(Sse::new(ReceiverStream::new(rx))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}
