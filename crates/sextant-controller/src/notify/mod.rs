//! Notifications (see `sextant-notify`): the controller watches the
//! notifications ConfigMap and Secret in its namespace (`sextant-notifications-cm`
//! and `sextant-notifications-secret`, and Argo CD's `argocd-notifications-cm`
//! and `argocd-notifications-secret` as they are; ours win key by key), the
//! AppProjects (for their subscriptions) and the Applications. Each change
//! of an app evaluates the triggers it is subscribed to; what fires is
//! recorded on the app (`notified.notifications.sextant.dev`) before it is
//! sent, then delivered by its own task with retries, so a slow or failing
//! receiver never holds up reconciliation. A delivery that still fails is
//! an Event on the app and counted in `sextant_notifications_deliveries_total`.
//! Only the controller holding the Lease runs this.

mod deliver;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, RwLock};

use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::Api;
use kube::api::{DynamicObject, Patch, PatchParams};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use serde_json::json;
use sextant_model::Application;
use sextant_notify::config::Config;
use sextant_notify::state::{ANNOTATION, Notified};
use sextant_notify::subscribe::destinations;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::controller::Shared;

/// The ConfigMaps and Secrets read, weakest first.
const CONFIG_MAPS: [&str; 2] = ["argocd-notifications-cm", "sextant-notifications-cm"];
const SECRETS: [&str; 2] = [
    "argocd-notifications-secret",
    "sextant-notifications-secret",
];

/// What the notifier holds.
pub(crate) struct Notifier {
    shared: Arc<Shared>,
    config_maps: Mutex<BTreeMap<String, BTreeMap<String, String>>>,
    secrets: Mutex<BTreeMap<String, BTreeMap<String, String>>>,
    config: RwLock<Arc<Config>>,
    projects: Mutex<HashMap<String, BTreeMap<String, String>>>,
    /// What was sent, per app (by uid), as this process last recorded it.
    /// The watch may still deliver a version of the app from before the
    /// annotation was written; this copy keeps such an event from sending
    /// again.
    sent: Mutex<HashMap<String, Notified>>,
    http: sextant_notify::send::HttpClient,
}

impl Notifier {
    fn rebuild(&self) {
        let merged = |m: &Mutex<BTreeMap<String, BTreeMap<String, String>>>, names: [&str; 2]| {
            let mut out = BTreeMap::new();
            if let Ok(m) = m.lock() {
                for name in names {
                    if let Some(data) = m.get(name) {
                        out.extend(data.clone());
                    }
                }
            }
            out
        };
        let data = merged(&self.config_maps, CONFIG_MAPS);
        let secrets = merged(&self.secrets, SECRETS);
        let config = Config::parse(&data, &secrets);
        for p in &config.problems {
            tracing::warn!(problem = %p, "notifications configuration: a key was not used");
        }
        if let Ok(mut c) = self.config.write() {
            *c = Arc::new(config);
        }
    }

    fn current(&self) -> Arc<Config> {
        self.config
            .read()
            .map(|c| c.clone())
            .unwrap_or_else(|_| Arc::new(Config::default()))
    }
}

/// Start the watches.
pub(crate) fn start(shared: Arc<Shared>, stop: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    let http = sextant_notify::send::client();
    let notifier = Arc::new(Notifier {
        shared: shared.clone(),
        config_maps: Mutex::new(BTreeMap::new()),
        secrets: Mutex::new(BTreeMap::new()),
        config: RwLock::new(Arc::new(Config::default())),
        projects: Mutex::new(HashMap::new()),
        sent: Mutex::new(HashMap::new()),
        http,
    });
    let ns = shared.config.namespace.clone();
    let client = shared.client.clone();
    let mut tasks = Vec::new();
    {
        let n = notifier.clone();
        let api: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
        tasks.push(tokio::spawn(follow(api, stop.clone(), move |name, cm| {
            if !CONFIG_MAPS.contains(&name) {
                return;
            }
            if let Ok(mut m) = n.config_maps.lock() {
                match cm.and_then(|c| c.data) {
                    Some(data) => m.insert(name.to_owned(), data.into_iter().collect()),
                    None => m.remove(name),
                };
            }
            n.rebuild();
        })));
    }
    {
        let n = notifier.clone();
        let api: Api<Secret> = Api::namespaced(client.clone(), &ns);
        tasks.push(tokio::spawn(follow(
            api,
            stop.clone(),
            move |name, secret| {
                if !SECRETS.contains(&name) {
                    return;
                }
                if let Ok(mut m) = n.secrets.lock() {
                    match secret.and_then(|s| s.data) {
                        Some(data) => m.insert(
                            name.to_owned(),
                            data.into_iter()
                                .map(|(k, v)| (k, String::from_utf8_lossy(&v.0).into_owned()))
                                .collect(),
                        ),
                        None => m.remove(name),
                    };
                }
                n.rebuild();
            },
        )));
    }
    {
        let n = notifier.clone();
        let gvk = kube::core::GroupVersionKind::gvk(
            sextant_model::group::selected().name(),
            sextant_model::VERSION,
            "AppProject",
        );
        let resource = kube::discovery::ApiResource::from_gvk_with_plural(&gvk, "appprojects");
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &resource);
        tasks.push(tokio::spawn(follow(
            api,
            stop.clone(),
            move |name, project| {
                if let Ok(mut p) = n.projects.lock() {
                    match project.and_then(|p| p.metadata.annotations) {
                        Some(a) => p.insert(name.to_owned(), a.into_iter().collect()),
                        None => p.remove(name),
                    };
                }
            },
        )));
    }
    {
        let n = notifier;
        let api: Api<Application> = Api::namespaced(client, &ns);
        let mut stop = stop;
        tasks.push(tokio::spawn(async move {
            let mut stream = watcher::watcher(api.clone(), watcher::Config::default())
                .default_backoff()
                .boxed();
            loop {
                let event = tokio::select! {
                    _ = stop.wait_for(|s| *s) => return,
                    e = stream.next() => e,
                };
                match event {
                    None => return,
                    Some(Ok(Event::Apply(app) | Event::InitApply(app))) => {
                        evaluate(&n, &api, &app).await;
                    }
                    Some(Ok(Event::Delete(mut app))) => {
                        // Seen gone without a deletionTimestamp (no
                        // finalizer): it was deleted all the same.
                        if app.metadata.deletion_timestamp.is_none() {
                            app.metadata.deletion_timestamp = Some(
                                k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                                    k8s_openapi::jiff::Timestamp::now(),
                                ),
                            );
                        }
                        evaluate(&n, &api, &app).await;
                        if let (Some(uid), Ok(mut sent)) = (app.metadata.uid.as_ref(), n.sent.lock()) {
                            sent.remove(uid);
                        }
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => {
                        tracing::debug!(error = %e, "notifications: watching Applications failed; retrying");
                    }
                }
            }
        }));
    }
    tasks
}

/// Follow the objects of one kind in the namespace, calling `on` with
/// each change (`None`: deleted).
async fn follow<K>(
    api: Api<K>,
    mut stop: watch::Receiver<bool>,
    mut on: impl FnMut(&str, Option<K>) + Send + 'static,
) where
    K: kube::Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned + Send + 'static,
{
    let mut stream = watcher::watcher(api, watcher::Config::default())
        .default_backoff()
        .boxed();
    loop {
        let event = tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            e = stream.next() => e,
        };
        match event {
            None => return,
            Some(Ok(Event::Apply(o) | Event::InitApply(o))) => {
                let name = o.meta().name.clone().unwrap_or_default();
                on(&name, Some(o));
            }
            Some(Ok(Event::Delete(o))) => {
                let name = o.meta().name.clone().unwrap_or_default();
                on(&name, None);
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => tracing::debug!(error = %e, "notifications: a watch failed; retrying"),
        }
    }
}

/// Evaluate the triggers `app` is subscribed to; record and send what
/// fires.
async fn evaluate(n: &Arc<Notifier>, api: &Api<Application>, app: &Application) {
    let config = n.current();
    let annotations: BTreeMap<String, String> = app
        .metadata
        .annotations
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    let labels: BTreeMap<String, String> = app
        .metadata
        .labels
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    let project = n
        .projects
        .lock()
        .ok()
        .and_then(|p| p.get(&app.spec.project).cloned())
        .unwrap_or_default();
    let dests = destinations(&config, &annotations, &project, &labels);
    if dests.is_empty() {
        return;
    }
    let name = app.metadata.name.clone().unwrap_or_default();
    let Ok(app_json) = serde_json::to_value(app) else {
        return;
    };
    let uid = app.metadata.uid.clone().unwrap_or_default();
    let recorded = Notified::parse(annotations.get(ANNOTATION).map(String::as_str));
    // This process's copy is at least as new as the annotation it wrote.
    let mut notified = n
        .sent
        .lock()
        .ok()
        .and_then(|s| s.get(&uid).cloned())
        .unwrap_or_else(|| recorded.clone());
    let now = k8s_openapi::jiff::Timestamp::now().as_second();
    let triggers: BTreeSet<&str> = dests.iter().map(|d| d.trigger.as_str()).collect();
    let mut due = Vec::new();
    for trigger in triggers {
        let Some(conditions) = config.triggers.get(trigger) else {
            tracing::warn!(app = %name, trigger, "notifications: a subscription names a trigger that is not defined");
            continue;
        };
        let verdict = sextant_notify::trigger::evaluate(conditions, &app_json);
        for e in &verdict.errors {
            tracing::warn!(app = %name, trigger, error = %e, "notifications: a trigger condition could not be evaluated");
        }
        for d in dests.iter().filter(|d| d.trigger == trigger) {
            for &index in &verdict.quiet {
                notified.release(d, index);
            }
            for fired in &verdict.fired {
                if notified.claim(d, fired.index, fired.once_per.as_deref(), now) {
                    for template in &fired.send {
                        due.push((d.clone(), template.clone()));
                    }
                }
            }
        }
    }
    // Recorded before it is sent: a restart in between loses a message
    // rather than sending it twice. A deleted app keeps no record.
    if let Ok(mut sent) = n.sent.lock() {
        sent.insert(uid, notified.clone());
    }
    if notified != recorded && app.metadata.deletion_timestamp.is_none() {
        let patch = json!({"metadata": {"annotations": {ANNOTATION: notified.to_text()}}});
        if let Err(e) = api
            .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            tracing::debug!(app = %name, error = %e, "notifications: could not record what was sent");
        }
    }
    for (dest, template) in due {
        deliver::spawn(
            n.clone(),
            config.clone(),
            app.clone(),
            app_json.clone(),
            dest,
            template,
        );
    }
}
