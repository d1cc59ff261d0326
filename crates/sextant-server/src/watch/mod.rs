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

/// One thing a watch saw.
#[derive(Debug)]
pub enum Change {
    /// A complete (re)list: everything that exists now.
    Reset(Vec<DynamicObject>),
    /// Created or changed.
    Apply(DynamicObject),
    /// Deleted.
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
    mut on: impl FnMut(Change) + Send + 'static,
) -> (JoinHandle<()>, Readiness) {
    let (ready_tx, ready_rx) = tokio_watch::channel(None);
    let task = tokio::spawn(async move {
        let mut stream = watcher::watcher(api, config).default_backoff().boxed();
        let mut pending: Option<Vec<DynamicObject>> = None;
        while let Some(event) = stream.next().await {
            match event {
                Ok(Event::Init) => pending = Some(Vec::new()),
                Ok(Event::InitApply(obj)) => {
                    if let Some(p) = pending.as_mut() {
                        p.push(obj);
                    }
                }
                Ok(Event::InitDone) => {
                    on(Change::Reset(pending.take().unwrap_or_default()));
                    ready_tx.send_replace(Some(Ok(())));
                }
                Ok(Event::Apply(obj)) => on(Change::Apply(obj)),
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
