//! The ApplicationSet controller: for each ApplicationSet of the
//! namespace, run its generators, render its Applications, and create,
//! update and delete them as its policy says; report what happened in its
//! status. It runs inside [`crate::Controller`] (same Lease, same Git
//! cache and credentials).
//!
//! - `mod.rs`: wiring (the set watcher, the store of Applications, the
//!   worker).
//! - `reconcile.rs`: one pass over one set.
//! - `repos.rs`: Git for the generators (the controller's cache) and the
//!   clusters of cluster Secrets.

mod reconcile;
mod repos;

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use kube::Api;
use kube::runtime::WatchStreamExt;
use kube::runtime::reflector::{self, Store};
use kube::runtime::watcher::{self, Event};
use serde_json::json;
use sextant_model::{Application, ApplicationSet};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::controller::Shared;
use crate::queue::Queue;

/// What the ApplicationSet tasks share.
pub(crate) struct AppSets {
    queue: Queue,
    /// Every Application of the namespace (the sets' own among them).
    apps: Store<Application>,
    /// A fingerprint per set of what calls for a new pass (not status).
    seen: Mutex<HashMap<String, u64>>,
    /// Failed passes in a row per set (their backoff).
    failures: Mutex<HashMap<String, u32>>,
    /// When each set last asked Git afresh.
    asked: Mutex<HashMap<String, std::time::Instant>>,
    /// Sets queued (after [`NUDGE`]) because one of their Applications
    /// changed and not run since: a fleet syncing at once brings one pass
    /// per set per [`NUDGE`], not one per Application change.
    nudged: Mutex<std::collections::HashSet<String>>,
}

/// How long a change of a set's Application waits before the set's pass
/// (so that many changes share one).
const NUDGE: Duration = Duration::from_secs(1);

fn fingerprint(set: &ApplicationSet) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    json!({
        "spec": set.spec,
        "uid": set.metadata.uid,
        "deleting": set.metadata.deletion_timestamp.is_some(),
        "annotations": set.metadata.annotations,
    })
    .to_string()
    .hash(&mut h);
    h.finish()
}

/// The ApplicationSet that owns `app`, if any.
fn owner(app: &Application) -> Option<String> {
    app.metadata
        .owner_references
        .iter()
        .flatten()
        .find(|o| o.kind == "ApplicationSet")
        .map(|o| o.name.clone())
}

/// Start the watchers and the worker; returns their tasks (the worker
/// last). The worker stops between passes when `stop` turns true.
pub(crate) fn start(shared: Arc<Shared>, stop: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    let (reader, writer) = reflector::store::<Application>();
    let sets = Arc::new(AppSets {
        queue: Queue::default(),
        apps: reader,
        seen: Mutex::new(HashMap::new()),
        failures: Mutex::new(HashMap::new()),
        asked: Mutex::new(HashMap::new()),
        nudged: Mutex::new(Default::default()),
    });
    let ns = shared.config.namespace.clone();
    let mut tasks = Vec::new();

    // ApplicationSets: a change that matters queues the set.
    {
        let sets = sets.clone();
        let api: Api<ApplicationSet> = Api::namespaced(shared.client.clone(), &ns);
        tasks.push(tokio::spawn(async move {
            let mut stream = watcher::watcher(api, watcher::Config::default())
                .default_backoff()
                .boxed();
            while let Some(event) = stream.next().await {
                match event {
                    Ok(Event::InitApply(set)) | Ok(Event::Apply(set)) => {
                        let name = set.metadata.name.clone().unwrap_or_default();
                        let fp = fingerprint(&set);
                        let changed = sets
                            .seen
                            .lock()
                            .map(|mut s| s.insert(name.clone(), fp) != Some(fp))
                            .unwrap_or(true);
                        if changed {
                            sets.queue.add(&name);
                        }
                    }
                    Ok(Event::Delete(set)) => {
                        let name = set.metadata.name.clone().unwrap_or_default();
                        if let Ok(mut s) = sets.seen.lock() {
                            s.remove(&name);
                        }
                        if let Ok(mut f) = sets.failures.lock() {
                            f.remove(&name);
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::debug!(error = %e, "watching ApplicationSets failed; retrying")
                    }
                }
            }
        }));
    }

    // Applications: kept in a store; a change to a set's Application
    // queues the set (its status lists their sync and health, and a set
    // puts back what someone changed or deleted).
    {
        let sets = sets.clone();
        let api: Api<Application> = Api::namespaced(shared.client.clone(), &ns);
        tasks.push(tokio::spawn(async move {
            let mut stream = watcher::watcher(api, watcher::Config::default())
                .default_backoff()
                .modify(slim)
                .reflect(writer)
                .boxed();
            while let Some(event) = stream.next().await {
                match event {
                    Ok(Event::Apply(app)) | Ok(Event::Delete(app)) | Ok(Event::InitApply(app)) => {
                        if let Some(set) = owner(&app) {
                            let first = sets
                                .nudged
                                .lock()
                                .map(|mut n| n.insert(set.clone()))
                                .unwrap_or(true);
                            if first {
                                sets.queue.add_after(&set, NUDGE);
                            }
                        }
                    }
                    Ok(_) => {}
                    Err(e) => tracing::debug!(error = %e, "watching Applications failed; retrying"),
                }
            }
        }));
    }

    // The worker.
    {
        let mut stop = stop;
        tasks.push(tokio::spawn(async move {
            // Plans need the Applications as they are: wait for the list.
            if sets.apps.wait_until_ready().await.is_err() {
                return;
            }
            loop {
                let name = tokio::select! {
                    biased;
                    _ = stop.wait_for(|s| *s) => return,
                    name = sets.queue.next() => name,
                };
                if *stop.borrow() {
                    return;
                }
                let next = reconcile::reconcile(&shared, &sets, &name).await;
                sets.queue.done(&name);
                if let Some(after) = next {
                    sets.queue.add_after(&name, after);
                }
            }
        }));
    }
    tasks
}

/// What the store keeps of an Application: metadata (without
/// managedFields), spec, and of the status only sync and health (what the
/// set's plan and status read), so a set of thousands of apps costs little
/// memory.
fn slim(app: &mut Application) {
    app.metadata.managed_fields = None;
    if let Some(status) = app.status.take() {
        app.status = Some(sextant_model::ApplicationStatus {
            sync: status.sync,
            health: status.health,
            ..Default::default()
        });
    }
}

/// The backoff after `n` failed passes in a row: 5 s doubling to 3 min.
fn backoff(n: u32) -> Duration {
    Duration::from_secs(5u64.saturating_mul(1 << n.min(6)).min(180))
}
