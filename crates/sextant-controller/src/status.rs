//! Writing what the controller observed: the status (server-side apply on
//! the status subresource, as field manager `sextant-controller`, so
//! fields it stops reporting go away), and the small metadata writes on
//! the Application itself (clearing a finished operation, removing the
//! refresh annotation, releasing the finalizer).

use std::future::Future;
use std::time::Duration;

use kube::api::{Api, Patch, PatchParams};
use serde_json::{Value, json};
use sextant_model::Application;
use sextant_model::annotations;
use sextant_model::application::{ApplicationCondition, ApplicationStatus, Operation};

/// The field manager of status writes.
pub const STATUS_MANAGER: &str = "sextant-controller";

/// Now, as the API's timestamps are written (RFC 3339, seconds, UTC).
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Seconds since an RFC 3339 time (`None` when it does not parse).
pub fn age(time: &str) -> Option<std::time::Duration> {
    let t = chrono::DateTime::parse_from_rfc3339(time).ok()?;
    (chrono::Utc::now() - t.with_timezone(&chrono::Utc))
        .to_std()
        .ok()
}

/// Write the whole status of `name`.
pub async fn write(
    api: &Api<Application>,
    name: &str,
    status: &ApplicationStatus,
) -> Result<(), kube::Error> {
    let body = json!({"apiVersion": sextant_model::group::selected().api_version(), "kind": "Application", "metadata": {"name": name}, "status": status});
    let params = PatchParams::apply(STATUS_MANAGER).force();
    api.patch_status(name, &params, &Patch::Apply(&body))
        .await?;
    Ok(())
}

/// How many times a conditional metadata write re-reads the app after
/// losing a race (a user or another client wrote it in between).
const CONFLICT_ATTEMPTS: usize = 5;

/// Write a JSON merge patch to the app's main resource, computed from the
/// app as it is now and conditional on that read (its resourceVersion), so
/// a concurrent change is never overwritten unseen: on a conflict the app
/// is read again and `patch_for` asked again. `patch_for` returns `None`
/// when there is nothing (left) to write. A missing app is not an error.
async fn write_conditionally(
    api: &Api<Application>,
    name: &str,
    patch_for: impl Fn(&Application) -> Option<Value>,
) -> Result<(), kube::Error> {
    let mut attempt = 1;
    loop {
        let Some(app) = api.get_opt(name).await? else {
            return Ok(());
        };
        let Some(mut patch) = patch_for(&app) else {
            return Ok(());
        };
        patch["metadata"]["resourceVersion"] = json!(app.metadata.resource_version);
        match api
            .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            Err(kube::Error::Api(s)) if s.code == 409 && attempt < CONFLICT_ATTEMPTS => {
                attempt += 1;
            }
            Err(kube::Error::Api(s)) if s.code == 404 => return Ok(()),
            other => return other.map(drop),
        }
    }
}

/// Clear the `operation` an app carries once `ran` has been run, unless
/// it has been replaced by another one meanwhile.
pub async fn clear_operation(
    api: &Api<Application>,
    name: &str,
    ran: &Operation,
) -> Result<(), kube::Error> {
    write_conditionally(api, name, |app| {
        (app.operation.as_ref() == Some(ran)).then(|| json!({"operation": null}))
    })
    .await
}

/// Remove the refresh annotation (both spellings) once the refresh is
/// done; a refresh asked with another value meanwhile is left for the next
/// pass.
pub async fn clear_refresh(api: &Api<Application>, app: &Application) -> Result<(), kube::Error> {
    let keys = [annotations::REFRESH, "argocd.argoproj.io/refresh"];
    let seen = |a: &Application, key: &str| {
        a.metadata
            .annotations
            .as_ref()
            .and_then(|m| m.get(key))
            .cloned()
    };
    let handled: Vec<(&str, Option<String>)> = keys.iter().map(|k| (*k, seen(app, k))).collect();
    if handled.iter().all(|(_, v)| v.is_none()) {
        return Ok(());
    }
    let name = app.metadata.name.as_deref().unwrap_or_default();
    write_conditionally(api, name, |now| {
        let mut nulls = serde_json::Map::new();
        for (key, value) in &handled {
            if value.is_some() && seen(now, key) == *value {
                nulls.insert((*key).to_owned(), Value::Null);
            }
        }
        (!nulls.is_empty()).then(|| json!({"metadata": {"annotations": nulls}}))
    })
    .await
}

/// Whether the app asks for a refresh.
pub fn refresh_requested(app: &Application) -> bool {
    annotations::get(app.metadata.annotations.as_ref(), annotations::REFRESH).is_some()
}

/// The propagation a resources finalizer asks for: the plain name and
/// `/foreground` delete the app's objects in the foreground,
/// `/background` in the background (Argo CD's three forms, in either
/// spelling); `None` for any other finalizer.
pub fn resources_finalizer(f: &str) -> Option<sextant_cluster::Propagation> {
    use sextant_cluster::Propagation;
    [
        annotations::RESOURCES_FINALIZER,
        annotations::ARGOCD_RESOURCES_FINALIZER,
    ]
    .iter()
    .find_map(|base| match f.strip_prefix(base) {
        Some("") | Some("/foreground") => Some(Propagation::Foreground),
        Some("/background") => Some(Propagation::Background),
        _ => None,
    })
}

/// Whether the app carries a resources finalizer (any form).
pub fn has_resources_finalizer(app: &Application) -> bool {
    app.metadata
        .finalizers
        .iter()
        .flatten()
        .any(|f| resources_finalizer(f).is_some())
}

/// How the app's objects are deleted with it (foreground unless its
/// finalizer says background).
pub fn deletion_propagation(app: &Application) -> sextant_cluster::Propagation {
    app.metadata
        .finalizers
        .iter()
        .flatten()
        .find_map(|f| resources_finalizer(f))
        .unwrap_or(sextant_cluster::Propagation::Foreground)
}

/// Remove the resources finalizers (conditionally on the app as read just
/// before, so another client's change of the list is never lost).
pub async fn release_finalizer(api: &Api<Application>, name: &str) -> Result<(), kube::Error> {
    write_conditionally(api, name, |app| {
        let all = app.metadata.finalizers.clone().unwrap_or_default();
        let kept: Vec<&String> = all
            .iter()
            .filter(|f| resources_finalizer(f).is_none())
            .collect();
        (kept.len() != all.len()).then(|| json!({"metadata": {"finalizers": kept}}))
    })
    .await
}

/// Set (or, with `None`, remove) the condition of `type_`, keeping its
/// transition time when the message is unchanged.
pub fn set_condition(status: &mut ApplicationStatus, type_: &str, message: Option<String>) {
    let mut list = status.conditions.take().unwrap_or_default();
    let existing = list.iter().position(|c| c.type_ == type_);
    match (message, existing) {
        (None, Some(i)) => {
            list.remove(i);
        }
        (None, None) => {}
        (Some(m), Some(i)) => {
            if list[i].message != m {
                list[i].message = m;
                list[i].last_transition_time = Some(now());
            }
        }
        (Some(m), None) => list.push(ApplicationCondition {
            type_: type_.to_owned(),
            message: m,
            last_transition_time: Some(now()),
        }),
    }
    status.conditions = (!list.is_empty()).then_some(list);
}

/// Whether two statuses differ in anything but `reconciledAt`.
pub fn differs(a: &ApplicationStatus, b: &ApplicationStatus) -> bool {
    let mut a = a.clone();
    let mut b = b.clone();
    a.reconciled_at = None;
    b.reconciled_at = None;
    a != b
}

/// Writes the latest of a stream of values (sync progress) on a side
/// task, at most once per pause. [`Throttled::finish`] stops it at once: a
/// write in flight completes first (so it cannot land after what the
/// caller writes next), but the pause after it is not waited out, and a
/// value still waiting is dropped (the caller's final write supersedes it).
pub struct Throttled<T> {
    tx: tokio::sync::watch::Sender<Option<T>>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl<T: Clone + Send + Sync + 'static> Throttled<T> {
    /// Start a writer that calls `write` with the newest value, then
    /// pauses for `pause`.
    pub fn spawn<F, Fut>(pause: Duration, mut write: F) -> Self
    where
        F: FnMut(T) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send,
    {
        let (tx, mut rx) = tokio::sync::watch::channel(None::<T>);
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            while rx.changed().await.is_ok() {
                let value = rx.borrow_and_update().clone();
                if let Some(v) = value {
                    write(v).await;
                }
                tokio::select! {
                    () = tokio::time::sleep(pause) => {}
                    _ = &mut stopped => return,
                }
            }
        });
        Self { tx, stop, task }
    }

    /// Hand over a newer value.
    pub fn send(&self, value: T) {
        let _ = self.tx.send(Some(value));
    }

    /// Stop, once a write in flight is done.
    pub async fn finish(self) {
        let _ = self.stop.send(());
        drop(self.tx);
        let _ = self.task.await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[test]
    fn the_resources_finalizer_is_read_in_all_of_argo_cds_forms() {
        use sextant_cluster::Propagation::{Background, Foreground};
        assert_eq!(
            resources_finalizer("resources-finalizer.sextant.dev"),
            Some(Foreground)
        );
        assert_eq!(
            resources_finalizer("resources-finalizer.sextant.dev/foreground"),
            Some(Foreground)
        );
        assert_eq!(
            resources_finalizer("resources-finalizer.argocd.argoproj.io/background"),
            Some(Background)
        );
        assert_eq!(
            resources_finalizer("resources-finalizer.argocd.argoproj.io/sideways"),
            None
        );
        assert_eq!(resources_finalizer("kubernetes"), None);
        let mut app = Application::new("web", Default::default());
        app.metadata.finalizers = Some(vec![
            "other".into(),
            "resources-finalizer.sextant.dev/background".into(),
        ]);
        assert!(has_resources_finalizer(&app));
        assert_eq!(deletion_propagation(&app), Background);
    }

    fn recorder() -> (
        Arc<Mutex<Vec<u32>>>,
        impl FnMut(u32) -> std::future::Ready<()> + Send + 'static,
    ) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        (seen, move |v| {
            if let Ok(mut s) = s.lock() {
                s.push(v);
            }
            std::future::ready(())
        })
    }

    fn written(seen: &Arc<Mutex<Vec<u32>>>) -> Vec<u32> {
        seen.lock().map(|s| s.clone()).unwrap_or_default()
    }

    #[tokio::test(start_paused = true)]
    async fn values_sent_during_a_pause_are_coalesced_into_the_newest() {
        let (seen, write) = recorder();
        let w = Throttled::spawn(Duration::from_millis(250), write);
        w.send(1);
        tokio::time::sleep(Duration::from_millis(1)).await;
        w.send(2);
        w.send(3);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(written(&seen), vec![1, 3]);
        w.finish().await;
    }

    #[tokio::test(start_paused = true)]
    async fn finishing_does_not_wait_out_the_pause() {
        // A sync's worker waits for `finish`; waiting out the pause held
        // every worker 250-500 ms per sync after its work was done.
        let (seen, write) = recorder();
        let w = Throttled::spawn(Duration::from_millis(250), write);
        w.send(1);
        tokio::time::sleep(Duration::from_millis(1)).await;
        w.send(2);
        let start = tokio::time::Instant::now();
        w.finish().await;
        assert!(
            start.elapsed() < Duration::from_millis(250),
            "finish waited {:?}",
            start.elapsed()
        );
        assert_eq!(written(&seen), vec![1]);
    }
}
