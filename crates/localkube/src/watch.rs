//! Watch streams: replay from a resourceVersion, then live events, with
//! selector transitions, bookmarks and timeouts.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};

use crate::cluster::{Cluster, ListOptions, Target};
use crate::error::ApiError;
use crate::store::{EventType, StoreEvent};

/// Parameters of one watch request.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// Selectors.
    pub list: ListOptions,
    /// Start after this resourceVersion; `None`/"0" sends the current state first.
    pub resource_version: Option<String>,
    /// Send BOOKMARK events.
    pub bookmarks: bool,
    /// Close after this long.
    pub timeout: Duration,
    /// `sendInitialEvents=true` (streaming list): end the initial state with a
    /// bookmark annotated `k8s.io/initial-events-end`.
    pub send_initial_events: bool,
    /// How often bookmarks go out.
    pub bookmark_interval: Duration,
}

fn line(kind: &str, object: &Value) -> Bytes {
    // Written by hand to avoid copying the object into a wrapper value.
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(b"{\"type\":\"");
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(b"\",\"object\":");
    // Writing a Value into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut out, object);
    out.extend_from_slice(b"}\n");
    Bytes::from(out)
}

fn matches(target: &Target, opts: &ListOptions, ev: &StoreEvent, obj: &Value) -> bool {
    if ev.key != target.rt.storage_key() {
        return false;
    }
    if !target.namespace.is_empty() && ev.namespace != target.namespace {
        return false;
    }
    opts.labels.matches(obj) && opts.fields.matches(obj)
}

/// Translate a store event into what this watcher sees (selector moves
/// become ADDED/DELETED), or nothing.
fn translate(target: &Target, opts: &ListOptions, ev: &StoreEvent) -> Option<Bytes> {
    let now_in = matches(target, opts, ev, &ev.object);
    let was_in = ev
        .previous
        .as_ref()
        .is_some_and(|p| matches(target, opts, ev, p));
    match ev.kind {
        EventType::Added if now_in => {
            Some(line("ADDED", &Cluster::present_cow(&target.rt, &ev.object)))
        }
        EventType::Modified if now_in && was_in => Some(line(
            "MODIFIED",
            &Cluster::present_cow(&target.rt, &ev.object),
        )),
        EventType::Modified if now_in => {
            Some(line("ADDED", &Cluster::present_cow(&target.rt, &ev.object)))
        }
        EventType::Modified if was_in => Some(line(
            "DELETED",
            &Cluster::present_cow(&target.rt, &ev.object),
        )),
        EventType::Deleted if was_in || now_in => Some(line(
            "DELETED",
            &Cluster::present_cow(&target.rt, &ev.object),
        )),
        _ => None,
    }
}

fn bookmark(target: &Target, rv: u64, initial_end: bool) -> Bytes {
    let mut meta = json!({"resourceVersion": rv.to_string()});
    if initial_end {
        meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    line(
        "BOOKMARK",
        &json!({"kind": target.rt.kind, "apiVersion": target.rt.api_version(), "metadata": meta}),
    )
}

/// Start a watch; the returned stream yields newline-delimited JSON events.
pub fn start(
    cluster: Arc<Cluster>,
    target: Target,
    opts: WatchOptions,
) -> Result<impl Stream<Item = Result<Bytes, std::convert::Infallible>>, ApiError> {
    let (tx, rx) = mpsc::channel::<Bytes>(256);
    let mut initial = Vec::new();
    let (mut receiver, mut last_rv) = {
        let s = cluster.store.read();
        let rv = opts
            .resource_version
            .as_deref()
            .filter(|v| !v.is_empty() && *v != "0")
            .map(|v| {
                v.parse::<u64>()
                    .map_err(|_| ApiError::bad_request(format!("invalid resource version: {v}")))
            })
            .transpose()?;
        let rv = if opts.send_initial_events { None } else { rv };
        match rv {
            None => {
                let ns = (!target.namespace.is_empty()).then_some(target.namespace.as_str());
                for (_, obj) in s.range(&target.rt.storage_key(), ns, None) {
                    if opts.list.labels.matches(obj) && opts.list.fields.matches(obj) {
                        initial.push(line("ADDED", &Cluster::present(&target.rt, obj)));
                    }
                }
                let current = s.current_rv();
                if opts.send_initial_events {
                    initial.push(bookmark(&target, current, true));
                }
                (s.subscribe(), current)
            }
            Some(rv) => match s.events_since(rv) {
                None => {
                    let status = ApiError::gone(format!(
                        "too old resource version: {rv} ({})",
                        s.compacted_rv() + 1
                    ))
                    .to_status();
                    initial.push(line("ERROR", &status));
                    drop(s);
                    let (etx, erx) = mpsc::channel::<Bytes>(initial.len().max(1));
                    for b in initial {
                        let _ = etx.try_send(b);
                    }
                    drop(etx);
                    return Ok(futures::future::Either::Left(into_stream(erx)));
                }
                Some(events) => {
                    for ev in &events {
                        if let Some(b) = translate(&target, &opts.list, ev) {
                            initial.push(b);
                        }
                    }
                    let last = events.last().map_or(rv, |e| e.rv);
                    (s.subscribe(), last)
                }
            },
        }
    };
    tokio::spawn(async move {
        for b in initial {
            if tx.send(b).await.is_err() {
                return;
            }
        }
        let deadline = tokio::time::sleep(opts.timeout);
        tokio::pin!(deadline);
        let mut ticker = tokio::time::interval(opts.bookmark_interval);
        ticker.tick().await;
        loop {
            tokio::select! {
                _ = &mut deadline => return,
                _ = tx.closed() => return,
                _ = ticker.tick(), if opts.bookmarks => {
                    // The store's version is reached only once every event
                    // up to it has been delivered (events are broadcast
                    // under the store's lock, so any not yet received is
                    // queued here); a client resuming from a bookmark must
                    // not skip one.
                    let current = cluster.store.read().current_rv();
                    let reached = if receiver.is_empty() { last_rv.max(current) } else { last_rv };
                    if tx.send(bookmark(&target, reached, false)).await.is_err() {
                        return;
                    }
                }
                ev = receiver.recv() => match ev {
                    Ok(ev) => {
                        if ev.rv <= last_rv {
                            continue;
                        }
                        last_rv = ev.rv;
                        if let Some(b) = translate(&target, &opts.list, &ev)
                            && tx.send(b).await.is_err()
                        {
                            return;
                        }
                    }
                    // A watcher that fell behind is closed; the client
                    // re-watches from its last resourceVersion.
                    Err(broadcast::error::RecvError::Lagged(_)) | Err(broadcast::error::RecvError::Closed) => return,
                },
            }
        }
    });
    Ok(futures::future::Either::Right(into_stream(rx)))
}

fn into_stream(
    rx: mpsc::Receiver<Bytes>,
) -> impl Stream<Item = Result<Bytes, std::convert::Infallible>> {
    futures::stream::unfold(
        rx,
        |mut rx| async move { rx.recv().await.map(|b| (Ok(b), rx)) },
    )
}
