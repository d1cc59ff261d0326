//! The live state: one watch per kind the apps use (all namespaces), kept
//! in memory, so comparing an app costs no API calls. Only objects an app
//! tracks (by annotation or label, per [`Tracking`]) are kept whole; of the
//! others only the identity is kept, which is enough to refuse adopting
//! them. A change of tracking method lists everything again.
//!
//! Every change is turned into the names of the apps it touches (the app
//! in the object's tracking id, and the apps whose Git state wants an
//! object of that identity) and sent on the notice channel, so the
//! controller re-evaluates only those apps.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};

use futures::StreamExt;
use kube::api::{ApiResource, DynamicObject, TypeMeta};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use serde_json::Value;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::kinds::{KindInfo, Kinds};
use crate::tracking::{Tracking, app_of};

/// Identity of a live object: group, kind, namespace (`""` when
/// cluster-scoped), name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LiveKey {
    /// API group (`""` for core).
    pub group: String,
    /// Kind.
    pub kind: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl LiveKey {
    /// The key of an object (JSON with apiVersion, kind, metadata).
    pub fn of(obj: &Value) -> Self {
        let k = sextant_engine::diff::ObjectKey::of(obj);
        Self {
            group: k.group,
            kind: k.kind,
            namespace: k.namespace,
            name: k.name,
        }
    }
}

/// What is known about one live object.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Its tracking id, if it has one (per the tracking method).
    pub tracking: Option<String>,
    /// The object, when it is tracked.
    pub object: Option<Arc<Value>>,
    /// Whether it has owner references (made by a controller, so never an
    /// orphan).
    pub owned: bool,
}

#[derive(Default)]
struct State {
    objects: HashMap<LiveKey, Entry>,
    by_app: HashMap<String, HashSet<LiveKey>>,
    wanted: HashMap<LiveKey, HashSet<String>>,
    wanted_by_app: HashMap<String, Vec<LiveKey>>,
    /// The apps that look for orphaned objects in a namespace.
    orphan_watch: HashMap<String, HashSet<String>>,
    orphan_watch_by_app: HashMap<String, String>,
}

impl State {
    /// Store (or, with `None`, remove) an entry; returns the apps touched.
    fn put(&mut self, key: LiveKey, entry: Option<Entry>) -> HashSet<String> {
        let mut touched = HashSet::new();
        // An object that appears, goes, or changes hands concerns the
        // apps looking for orphans in its namespace (not every status
        // update does).
        let before = self.objects.get(&key).map(|e| e.tracking.clone());
        let after = entry.as_ref().map(|e| e.tracking.clone());
        if before != after
            && let Some(apps) = self.orphan_watch.get(&key.namespace)
        {
            touched.extend(apps.iter().cloned());
        }
        let old = match entry {
            Some(e) => {
                if let Some(app) = e.tracking.as_deref().and_then(app_of) {
                    touched.insert(app.to_owned());
                    self.by_app
                        .entry(app.to_owned())
                        .or_default()
                        .insert(key.clone());
                }
                self.objects.insert(key.clone(), e)
            }
            None => self.objects.remove(&key),
        };
        if let Some(app) = old
            .as_ref()
            .and_then(|o| o.tracking.as_deref().and_then(app_of))
        {
            touched.insert(app.to_owned());
            let still = self
                .objects
                .get(&key)
                .and_then(|e| e.tracking.as_deref().and_then(app_of))
                == Some(app);
            if !still && let Some(set) = self.by_app.get_mut(app) {
                set.remove(&key);
            }
        }
        if let Some(apps) = self.wanted.get(&key) {
            touched.extend(apps.iter().cloned());
        }
        touched
    }
}

struct KindWatch {
    ready: watch::Receiver<Option<Result<(), String>>>,
    task: JoinHandle<()>,
}

/// Watches and what they saw.
pub struct LiveCache {
    kinds: Arc<Kinds>,
    tracking: RwLock<Arc<Tracking>>,
    state: Arc<RwLock<State>>,
    watches: Mutex<HashMap<(String, String), KindWatch>>,
    notices: mpsc::UnboundedSender<String>,
}

impl std::fmt::Debug for LiveCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveCache")
            .field("tracking", &self.tracking())
            .finish_non_exhaustive()
    }
}

impl LiveCache {
    /// A cache whose objects are tracked as `tracking` says; the names of
    /// the apps touched by each change are sent to `notices`.
    pub fn new(
        kinds: Arc<Kinds>,
        tracking: Arc<Tracking>,
        notices: mpsc::UnboundedSender<String>,
    ) -> Self {
        Self {
            kinds,
            tracking: RwLock::new(tracking),
            state: Arc::new(RwLock::new(State::default())),
            watches: Mutex::new(HashMap::new()),
            notices,
        }
    }

    /// The tracking in force.
    pub fn tracking(&self) -> Arc<Tracking> {
        match self.tracking.read() {
            Ok(t) => t.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Track objects as `tracking` says from now on. When it differs from
    /// the tracking in force, every watch stops and what they saw is
    /// forgotten: the next use of each kind lists it again under the new
    /// method (which apps want what stays). Returns whether it differed.
    pub fn set_tracking(&self, tracking: Arc<Tracking>) -> bool {
        if *self.tracking() == *tracking {
            return false;
        }
        if let Ok(mut t) = self.tracking.write() {
            *t = tracking;
        }
        if let Ok(mut watches) = self.watches.lock() {
            for (_, w) in watches.drain() {
                w.task.abort();
            }
        }
        if let Ok(mut state) = self.state.write() {
            state.objects.clear();
            state.by_app.clear();
        }
        true
    }

    /// Discovery in use.
    pub fn kinds(&self) -> &Arc<Kinds> {
        &self.kinds
    }

    /// Make sure `kind` of `api_version` is watched and its first listing
    /// is in. `Ok(false)` when the kind is not served (yet).
    pub async fn watch_kind(&self, api_version: &str, kind: &str) -> Result<bool, String> {
        let group = api_version
            .rsplit_once('/')
            .map_or("", |(g, _)| g)
            .to_owned();
        let gk = (group, kind.to_owned());
        let existing = self
            .watches
            .lock()
            .ok()
            .and_then(|w| w.get(&gk).map(|k| k.ready.clone()));
        let mut ready = match existing {
            Some(r) => r,
            None => {
                let Some(info) = self.kinds.lookup(api_version, kind).await? else {
                    return Ok(false);
                };
                let mut watches = self
                    .watches
                    .lock()
                    .map_err(|_| "the live cache is unusable after a crash".to_owned())?;
                match watches.get(&gk) {
                    Some(w) => w.ready.clone(),
                    None => {
                        let (tx, rx) = watch::channel(None);
                        let task = tokio::spawn(run_watch(
                            self.kinds.clone(),
                            info,
                            gk.clone(),
                            self.tracking(),
                            self.state.clone(),
                            self.notices.clone(),
                            tx,
                        ));
                        watches.insert(
                            gk,
                            KindWatch {
                                ready: rx.clone(),
                                task,
                            },
                        );
                        rx
                    }
                }
            }
        };
        let outcome = ready
            .wait_for(Option::is_some)
            .await
            .map_err(|_| format!("the watch of {kind} in {api_version} stopped"))?
            .clone();
        match outcome {
            Some(Ok(())) | None => Ok(true),
            Some(Err(e)) => Err(e),
        }
    }

    /// What is known about the object `key` names.
    pub fn get(&self, key: &LiveKey) -> Option<Entry> {
        self.state.read().ok()?.objects.get(key).cloned()
    }

    /// The live objects whose tracking id names `app`.
    pub fn tracked_by(&self, app: &str) -> Vec<Arc<Value>> {
        let Ok(state) = self.state.read() else {
            return Vec::new();
        };
        let mut out: Vec<(LiveKey, Arc<Value>)> = state
            .by_app
            .get(app)
            .into_iter()
            .flatten()
            .filter_map(|k| {
                let e = state.objects.get(k)?;
                Some((k.clone(), e.object.clone()?))
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out.into_iter().map(|(_, o)| o).collect()
    }

    /// Record which objects `app` wants (its Git state), so changes to
    /// them notify it even when they are not tracked (yet).
    pub fn set_wanted(&self, app: &str, keys: Vec<LiveKey>) {
        let Ok(mut state) = self.state.write() else {
            return;
        };
        if let Some(old) = state.wanted_by_app.remove(app) {
            for k in old {
                if let Some(set) = state.wanted.get_mut(&k) {
                    set.remove(app);
                    if set.is_empty() {
                        state.wanted.remove(&k);
                    }
                }
            }
        }
        for k in &keys {
            state
                .wanted
                .entry(k.clone())
                .or_default()
                .insert(app.to_owned());
        }
        state.wanted_by_app.insert(app.to_owned(), keys);
    }

    /// Have `app` told when an object appears in or leaves `namespace`
    /// (`None`: stop), for orphaned-resource monitoring.
    pub fn watch_namespace(&self, app: &str, namespace: Option<&str>) {
        let Ok(mut state) = self.state.write() else {
            return;
        };
        if state.orphan_watch_by_app.get(app).map(String::as_str) == namespace {
            return;
        }
        if let Some(old) = state.orphan_watch_by_app.remove(app)
            && let Some(set) = state.orphan_watch.get_mut(&old)
        {
            set.remove(app);
            if set.is_empty() {
                state.orphan_watch.remove(&old);
            }
        }
        if let Some(ns) = namespace {
            state
                .orphan_watch
                .entry(ns.to_owned())
                .or_default()
                .insert(app.to_owned());
            state
                .orphan_watch_by_app
                .insert(app.to_owned(), ns.to_owned());
        }
    }

    /// The objects of `namespace` (of the kinds watched) that no app
    /// tracks and no owner made, sorted.
    pub fn untracked_in(&self, namespace: &str) -> Vec<LiveKey> {
        let Ok(state) = self.state.read() else {
            return Vec::new();
        };
        let mut out: Vec<LiveKey> = state
            .objects
            .iter()
            .filter(|(k, e)| k.namespace == namespace && e.tracking.is_none() && !e.owned)
            .map(|(k, _)| k.clone())
            .collect();
        out.sort();
        out
    }

    /// Forget what `app` wanted (the app is gone).
    pub fn forget_app(&self, app: &str) {
        self.watch_namespace(app, None);
        self.set_wanted(app, Vec::new());
        if let Ok(mut state) = self.state.write() {
            state.wanted_by_app.remove(app);
        }
    }

    /// How many objects are held whole, and how many by identity only.
    pub fn size(&self) -> (usize, usize) {
        self.state.read().map_or((0, 0), |s| {
            let whole = s.objects.values().filter(|e| e.object.is_some()).count();
            (whole, s.objects.len() - whole)
        })
    }
}

impl Drop for LiveCache {
    fn drop(&mut self) {
        if let Ok(watches) = self.watches.lock() {
            for w in watches.values() {
                w.task.abort();
            }
        }
    }
}

fn entry_of(
    mut obj: DynamicObject,
    resource: &ApiResource,
    tracking: &Tracking,
) -> Option<(LiveKey, Entry)> {
    // kube-apiserver sends the items of a list of built-in kinds without
    // apiVersion and kind (watch events have them); the key needs them.
    obj.types.get_or_insert_with(|| TypeMeta {
        api_version: resource.api_version.clone(),
        kind: resource.kind.clone(),
    });
    let owned = obj
        .metadata
        .owner_references
        .as_ref()
        .is_some_and(|o| !o.is_empty());
    let value = serde_json::to_value(obj).ok()?;
    let key = LiveKey::of(&value);
    let tracking = tracking.id_of(&value);
    let object = tracking.as_ref().map(|_| Arc::new(value));
    Some((
        key,
        Entry {
            tracking,
            object,
            owned,
        },
    ))
}

async fn run_watch(
    kinds: Arc<Kinds>,
    info: KindInfo,
    gk: (String, String),
    tracking: Arc<Tracking>,
    state: Arc<RwLock<State>>,
    notices: mpsc::UnboundedSender<String>,
    ready: watch::Sender<Option<Result<(), String>>>,
) {
    // All namespaces for a namespaced kind; the whole kind otherwise.
    let api: kube::Api<DynamicObject> = kube::Api::all_with(kinds.client().clone(), &info.resource);
    // The first list must be current: with the default (resourceVersion=0,
    // "any") kube-apiserver may answer from a watch cache that has not yet
    // seen a write made just before, and a comparison made then would miss
    // an existing object (found by the real-control-plane profile: an
    // object created just before its app was "created", i.e. adopted
    // without the shared-resource check).
    let config = watcher::Config::default().list_semantic(watcher::ListSemantic::MostRecent);
    let mut stream = watcher::watcher(api, config).default_backoff().boxed();
    let mut pending: Option<HashMap<LiveKey, Entry>> = None;
    let notify = |apps: HashSet<String>| {
        for app in apps {
            let _ = notices.send(app);
        }
    };
    while let Some(event) = stream.next().await {
        match event {
            Ok(Event::Init) => pending = Some(HashMap::new()),
            Ok(Event::InitApply(obj)) => {
                if let (Some(p), Some((k, e))) =
                    (pending.as_mut(), entry_of(obj, &info.resource, &tracking))
                {
                    p.insert(k, e);
                }
            }
            Ok(Event::InitDone) => {
                let fresh = pending.take().unwrap_or_default();
                let mut touched = HashSet::new();
                if let Ok(mut s) = state.write() {
                    let stale: Vec<LiveKey> = s
                        .objects
                        .keys()
                        .filter(|k| k.group == gk.0 && k.kind == gk.1 && !fresh.contains_key(k))
                        .cloned()
                        .collect();
                    for k in stale {
                        touched.extend(s.put(k, None));
                    }
                    for (k, e) in fresh {
                        touched.extend(s.put(k, Some(e)));
                    }
                }
                notify(touched);
                ready.send_replace(Some(Ok(())));
            }
            Ok(Event::Apply(obj)) => {
                if let Some((k, e)) = entry_of(obj, &info.resource, &tracking) {
                    let touched = state.write().map(|mut s| s.put(k, Some(e)));
                    notify(touched.unwrap_or_default());
                }
            }
            Ok(Event::Delete(obj)) => {
                if let Some((k, _)) = entry_of(obj, &info.resource, &tracking) {
                    let touched = state.write().map(|mut s| s.put(k, None));
                    notify(touched.unwrap_or_default());
                }
            }
            Err(e) => {
                tracing::warn!(kind = %gk.1, group = %gk.0, error = %e, "watch failed; retrying");
                if ready.borrow().is_none() {
                    ready.send_replace(Some(Err(format!("could not list {} objects: {e}", gk.1))));
                }
            }
        }
    }
}
