//! Following a few ConfigMaps of the controller's namespace by name (the
//! SSH known hosts, the plugin declarations): one watch, the data of those
//! present handed over after the first listing and after every change.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;

/// The data of the ConfigMaps followed, by name (absent ones left out).
pub(crate) type Followed = BTreeMap<String, BTreeMap<String, String>>;

/// Call `changed` with the data of the ConfigMaps `names` of `api`'s
/// namespace once they are listed and after each change to one of them,
/// for as long as the watch runs. `what` names them in log lines.
pub(crate) async fn follow_named(
    api: kube::Api<ConfigMap>,
    names: &[&str],
    what: &str,
    mut changed: impl FnMut(&Followed),
) {
    use futures::StreamExt;
    use kube::runtime::WatchStreamExt;
    use kube::runtime::watcher::{self, Event};

    let mut stream = watcher::watcher(api, watcher::Config::default())
        .default_backoff()
        .boxed();
    let mut seen = Followed::new();
    let mut listing: Option<Followed> = None;
    let ours = |cm: &ConfigMap| {
        cm.metadata
            .name
            .clone()
            .filter(|n| names.contains(&n.as_str()))
    };
    while let Some(event) = stream.next().await {
        match event {
            Ok(Event::Init) => listing = Some(Followed::new()),
            Ok(Event::InitApply(cm)) => {
                if let (Some(l), Some(name)) = (listing.as_mut(), ours(&cm)) {
                    l.insert(name, cm.data.unwrap_or_default());
                }
                continue;
            }
            Ok(Event::InitDone) => seen = listing.take().unwrap_or_default(),
            Ok(Event::Apply(cm)) => {
                let Some(name) = ours(&cm) else { continue };
                seen.insert(name, cm.data.unwrap_or_default());
            }
            Ok(Event::Delete(cm)) => {
                let Some(name) = ours(&cm) else { continue };
                seen.remove(&name);
            }
            Err(e) => {
                tracing::warn!(error = %e, "watching {what} failed; retrying");
                continue;
            }
        }
        changed(&seen);
    }
}
