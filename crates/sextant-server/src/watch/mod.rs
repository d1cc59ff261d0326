//! What the server keeps in memory, each kept current by a watch: the
//! Applications (with an event log for the live stream), the settings
//! (accounts, RBAC policy, repositories, clusters), AppProjects and
//! ApplicationSets, and the objects the apps own (for resource trees).
//!
//! Every watch goes through [`spawn`]: one kube-runtime watcher with
//! backoff, whose (re)lists arrive whole as [`Change::Reset`], so a store
//! never shows half a list.

pub mod apps;
pub mod objects;
pub mod settings;
pub mod tree;

use futures::StreamExt;
use kube::Api;
use kube::api::DynamicObject;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use tokio::sync::watch as tokio_watch;
use tokio::task::JoinHandle;

/// One thing a watch saw: objects as they came (`T` = `DynamicObject`),
/// or as a [`spawn_with`] conversion made them.
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "one per watch event, moved once; with T = DynamicObject the variants are alike"
)]
pub enum Change<T = DynamicObject> {
    /// A complete (re)list: everything that exists now.
    Reset(Vec<T>),
    /// Created or changed.
    Apply(T),
    /// Deleted (as it came, so a deletion is never lost to a conversion
    /// that fails).
    Delete(DynamicObject),
}

/// Whether a watch has listed once (or why it cannot).
pub type Readiness = tokio_watch::Receiver<Option<Result<(), String>>>;

/// Watch `api` with `config`, handing each change to `on`; the returned
/// receiver turns `Some(Ok)` after the first complete list (`Some(Err)`
/// while the first list keeps failing).
pub fn spawn(
    api: Api<DynamicObject>,
    config: watcher::Config,
    what: String,
    on: impl FnMut(Change) + Send + 'static,
) -> (JoinHandle<()>, Readiness) {
    spawn_with(api, config, what, Some, on)
}

/// [`spawn`], with every created or changed object passed through
/// `convert` as it arrives (`None` skips it), so that a (re)list is
/// collected in the converted form. For the Applications this is what
/// keeps the server's peak memory down: 10,000 apps held as JSON values
/// until the list ends took ~45 KB each (450 MiB), typed ~12 KB.
pub fn spawn_with<T: Send + 'static>(
    api: Api<DynamicObject>,
    config: watcher::Config,
    what: String,
    mut convert: impl FnMut(DynamicObject) -> Option<T> + Send + 'static,
    mut on: impl FnMut(Change<T>) + Send + 'static,
) -> (JoinHandle<()>, Readiness) {
    let (ready_tx, ready_rx) = tokio_watch::channel(None);
    let task = tokio::spawn(async move {
        let mut stream = watcher::watcher(api, config).default_backoff().boxed();
        let mut pending: Option<Vec<T>> = None;
        while let Some(event) = stream.next().await {
            match event {
                Ok(Event::Init) => pending = Some(Vec::new()),
                Ok(Event::InitApply(obj)) => {
                    if let Some(p) = pending.as_mut()
                        && let Some(t) = convert(obj)
                    {
                        p.push(t);
                    }
                }
                Ok(Event::InitDone) => {
                    on(Change::Reset(pending.take().unwrap_or_default()));
                    ready_tx.send_replace(Some(Ok(())));
                }
                Ok(Event::Apply(obj)) => {
                    if let Some(t) = convert(obj) {
                        on(Change::Apply(t));
                    }
                }
                Ok(Event::Delete(obj)) => on(Change::Delete(obj)),
                Err(e) => {
                    let missing = matches!(&e, watcher::Error::InitialListFailed(kube::Error::Api(s)) if s.code == 404);
                    if missing {
                        // The kind is not served (its CRD is not
                        // installed): nothing exists, and we are ready.
                        on(Change::Reset(Vec::new()));
                        ready_tx.send_replace(Some(Ok(())));
                    } else {
                        tracing::warn!(what = %what, error = %e, "watch failed; retrying");
                        if ready_tx.borrow().as_ref().is_none_or(Result::is_err) {
                            ready_tx.send_replace(Some(Err(format!("could not list {what}: {e}"))));
                        }
                    }
                }
            }
        }
    });
    (task, ready_rx)
}

/// Wait until `ready` says the first list is done.
pub async fn listed(mut ready: Readiness) -> Result<(), String> {
    loop {
        if let Some(Ok(())) = &*ready.borrow() {
            return Ok(());
        }
        if ready.changed().await.is_err() {
            return Err("the watch stopped".into());
        }
    }
}

/// True once `ready` has listed.
pub fn is_listed(ready: &Readiness) -> bool {
    matches!(&*ready.borrow(), Some(Ok(())))
}
