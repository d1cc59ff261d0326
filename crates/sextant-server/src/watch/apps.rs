//! The Applications of the namespace, watched, with a bounded log of
//! their changes that the live stream replays from.
//!
//! Every change gets an id `<epoch>-<seq>`: the epoch is drawn at start,
//! the sequence counts up. A stream resumed with an id of this epoch that
//! is still in the log gets exactly the changes after it; any other id (a
//! restart, another replica, a gap too old) gets a `reset`, telling the
//! client to list again.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, RwLock};

use kube::api::DynamicObject;
use sextant_model::Application;
use tokio::sync::broadcast;

use super::Change;
use crate::api::apps::{AppSummary, summary};

/// How many changes the log keeps for resumption.
pub const LOG_SIZE: usize = 10_000;

/// What happened to an app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum ChangeKind {
    /// It appeared.
    Added,
    /// It changed.
    Modified,
    /// It was deleted.
    Deleted,
}

/// One change of one app.
///
/// It carries the app's summaries, not the app: the log keeps
/// [`LOG_SIZE`] changes and the broadcast channel up to 4,096, and with
/// whole apps in them every version a busy fleet had superseded stayed in
/// memory (one status write to each of 10,000 apps took the server from
/// 250 to 350 MiB, `cargo bench -p sextant-cli --bench api`). A summary
/// is also what a stream sends, so it is built once per change instead
/// of once per stream. Whoever needs the whole app reads it from the
/// store ([`AppStore::get`]).
#[derive(Debug, Clone)]
pub struct AppChange {
    /// Its sequence number.
    pub seq: u64,
    /// What happened.
    pub kind: ChangeKind,
    /// The app's name.
    pub name: String,
    /// The app after the change (before it, for a deletion).
    pub summary: Arc<AppSummary>,
    /// The app before the change (`None` when it was added), so a
    /// filtered stream can tell an app that stopped matching.
    pub previous: Option<Arc<AppSummary>>,
}

#[derive(Default)]
struct Inner {
    apps: BTreeMap<String, Arc<Application>>,
    log: VecDeque<Arc<AppChange>>,
    next: u64,
}

/// Where a resumed stream starts.
#[derive(Debug)]
pub enum Resume {
    /// Replay these, then follow live.
    From(Vec<Arc<AppChange>>),
    /// The id is unknown or too old: list again.
    Reset,
}

/// The watched apps.
pub struct AppStore {
    epoch: String,
    inner: RwLock<Inner>,
    tx: broadcast::Sender<Arc<AppChange>>,
}

impl std::fmt::Debug for AppStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppStore")
            .field("epoch", &self.epoch)
            .finish()
    }
}

/// An Application as the store keeps it: typed, without its
/// `metadata.managedFields` (nothing in the server reads them, and they
/// were about half of what an app took in memory), boxed once here so a
/// (re)list of thousands never moves the ~5 KB structs around.
/// `None` (and a warning) when it does not parse.
pub fn parse(obj: DynamicObject) -> Option<Arc<Application>> {
    let DynamicObject {
        types,
        mut metadata,
        data,
    } = obj;
    let name = metadata.name.clone().unwrap_or_default();
    metadata.managed_fields = None;
    // The object's JSON is moved into the typed app, not copied (the
    // strings of an owned `Value` move).
    let value = match (data, serde_json::to_value(&metadata)) {
        (serde_json::Value::Object(mut fields), Ok(meta)) => {
            if let Some(t) = types {
                fields.insert("apiVersion".into(), t.api_version.into());
                fields.insert("kind".into(), t.kind.into());
            }
            fields.insert("metadata".into(), meta);
            Ok(serde_json::Value::Object(fields))
        }
        (_, Err(e)) => Err(e),
        (other, Ok(_)) => Err(serde::de::Error::custom(format!("not an object: {other}"))),
    };
    match value.and_then(serde_json::from_value::<Application>) {
        Ok(app) => Some(Arc::new(app)),
        Err(e) => {
            tracing::warn!(app = %name, error = %e, "skipping an Application that does not parse");
            None
        }
    }
}

impl Default for AppStore {
    fn default() -> Self {
        Self::new()
    }
}

impl AppStore {
    /// An empty store.
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(4096);
        AppStore {
            epoch: uuid::Uuid::new_v4().simple().to_string()[..8].to_owned(),
            inner: RwLock::new(Inner {
                next: 1,
                ..Inner::default()
            }),
            tx,
        }
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The id of change `seq`.
    pub fn event_id(&self, seq: u64) -> String {
        format!("{}-{seq}", self.epoch)
    }

    /// Apply what a watch saw (its objects converted by [`parse`]).
    pub fn apply(&self, change: Change<Arc<Application>>) {
        match change {
            Change::Reset(apps) => {
                let fresh: BTreeMap<String, Arc<Application>> = apps
                    .into_iter()
                    .map(|a| (a.metadata.name.clone().unwrap_or_default(), a))
                    .collect();
                let gone: Vec<String> = self
                    .read()
                    .apps
                    .keys()
                    .filter(|k| !fresh.contains_key(*k))
                    .cloned()
                    .collect();
                for name in gone {
                    self.remove(&name);
                }
                for (_, app) in fresh {
                    self.upsert(app);
                }
            }
            Change::Apply(app) => self.upsert(app),
            Change::Delete(obj) => {
                if let Some(name) = obj.metadata.name {
                    self.remove(&name);
                }
            }
        }
    }

    fn record(
        &self,
        inner: &mut Inner,
        kind: ChangeKind,
        name: String,
        app: &Application,
        previous: Option<&Application>,
    ) {
        let change = Arc::new(AppChange {
            seq: inner.next,
            kind,
            name,
            summary: Arc::new(summary(app)),
            previous: previous.map(|p| Arc::new(summary(p))),
        });
        inner.next += 1;
        inner.log.push_back(change.clone());
        while inner.log.len() > LOG_SIZE {
            inner.log.pop_front();
        }
        // Sent under the lock so subscribers see changes in order.
        let _ = self.tx.send(change);
    }

    /// Store an app; records a change only when its resourceVersion moved.
    pub fn upsert(&self, app: impl Into<Arc<Application>>) {
        let app: Arc<Application> = app.into();
        let name = app.metadata.name.clone().unwrap_or_default();
        let mut inner = self.write();
        let (kind, previous) = match inner.apps.get(&name) {
            Some(old) if old.metadata.resource_version == app.metadata.resource_version => return,
            Some(old) => (ChangeKind::Modified, Some(old.clone())),
            None => (ChangeKind::Added, None),
        };
        inner.apps.insert(name.clone(), app.clone());
        self.record(&mut inner, kind, name, &app, previous.as_deref());
    }

    fn remove(&self, name: &str) {
        let mut inner = self.write();
        if let Some(old) = inner.apps.remove(name) {
            self.record(
                &mut inner,
                ChangeKind::Deleted,
                name.to_owned(),
                &old,
                Some(&old),
            );
        }
    }

    /// One app.
    pub fn get(&self, name: &str) -> Option<Arc<Application>> {
        self.read().apps.get(name).cloned()
    }

    /// Every app, by name, and the sequence number they are current to.
    pub fn snapshot(&self) -> (Vec<Arc<Application>>, u64) {
        let inner = self.read();
        (inner.apps.values().cloned().collect(), inner.next - 1)
    }

    /// How many apps there are.
    pub fn len(&self) -> usize {
        self.read().apps.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Follow changes from the id a client last saw (`None`: from now).
    /// Subscribing and reading the log happen under one lock, so nothing
    /// falls between the replay and the live part.
    pub fn follow(&self, last_id: Option<&str>) -> (Resume, broadcast::Receiver<Arc<AppChange>>) {
        let inner = self.read();
        let rx = self.tx.subscribe();
        let resume = match last_id {
            None => Resume::From(Vec::new()),
            Some(id) => match id.split_once('-') {
                Some((epoch, seq)) if epoch == self.epoch => match seq.parse::<u64>() {
                    Ok(seq) if seq + 1 >= inner.next => Resume::From(Vec::new()),
                    Ok(seq) => {
                        let oldest = inner.log.front().map_or(inner.next, |c| c.seq);
                        if seq + 1 < oldest {
                            Resume::Reset
                        } else {
                            Resume::From(
                                inner.log.iter().filter(|c| c.seq > seq).cloned().collect(),
                            )
                        }
                    }
                    Err(_) => Resume::Reset,
                },
                _ => Resume::Reset,
            },
        };
        (resume, rx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sextant_model::ApplicationSpec;

    fn app(name: &str, rv: &str) -> Application {
        let mut a = Application::new(name, ApplicationSpec::default());
        a.metadata.resource_version = Some(rv.into());
        a
    }

    #[test]
    fn changes_are_logged_once_per_resource_version() {
        let s = AppStore::new();
        s.upsert(app("a", "1"));
        let (_, mut rx) = s.follow(None);
        s.upsert(app("a", "1"));
        s.upsert(app("a", "2"));
        s.upsert(app("b", "3"));
        let (apps, seq) = s.snapshot();
        assert_eq!(apps.len(), 2);
        assert_eq!(seq, 3);
        // A change carries the summaries before and after it.
        let change = rx.try_recv().map(|c| {
            (
                c.kind,
                c.summary.resource_version.clone(),
                c.previous.as_ref().map(|p| p.resource_version.clone()),
            )
        });
        assert_eq!(
            change.ok(),
            Some((ChangeKind::Modified, "2".to_owned(), Some("1".to_owned())))
        );
    }

    #[test]
    fn a_stream_resumes_after_the_last_id_it_saw() {
        let s = AppStore::new();
        s.upsert(app("a", "1"));
        let id = s.event_id(1);
        s.upsert(app("b", "2"));
        s.upsert(app("a", "3"));
        let (resume, _) = s.follow(Some(&id));
        match resume {
            Resume::From(changes) => {
                let names: Vec<_> = changes
                    .iter()
                    .map(|c| (c.seq, c.name.as_str(), c.kind))
                    .collect();
                assert_eq!(
                    names,
                    vec![(2, "b", ChangeKind::Added), (3, "a", ChangeKind::Modified)]
                );
            }
            Resume::Reset => panic!("expected a replay"),
        }
        assert!(matches!(s.follow(Some("other-1")).0, Resume::Reset));
        assert!(matches!(s.follow(Some("garbage")).0, Resume::Reset));
    }

    #[test]
    fn the_store_keeps_apps_without_managed_fields() {
        let mut a = serde_json::to_value(app("a", "1")).unwrap_or_default();
        a["status"] = serde_json::json!({"sync": {"status": "Synced"}});
        a["metadata"]["managedFields"] = serde_json::json!([{
            "manager": "sextant-controller", "operation": "Update", "apiVersion": "sextant.dev/v1alpha1",
            "fieldsType": "FieldsV1", "fieldsV1": {"f:status": {"f:sync": {"f:status": {}}}},
        }]);
        let obj = serde_json::from_value::<DynamicObject>(a);
        let Ok(obj) = obj else { panic!("fixture") };
        assert!(obj.metadata.managed_fields.is_some());
        let parsed = parse(obj);
        assert!(parsed.is_some_and(|p| {
            p.metadata.managed_fields.is_none()
                && p.metadata.name.as_deref() == Some("a")
                && p.metadata.resource_version.as_deref() == Some("1")
                && p.api_version == "sextant.dev/v1alpha1"
                && p.kind == "Application"
                && p.status
                    .as_ref()
                    .and_then(|s| s.sync.as_ref())
                    .map(|s| s.status.as_str())
                    == Some("Synced")
        }));
    }

    #[test]
    fn a_reset_list_deletes_what_is_gone() {
        let s = AppStore::new();
        s.upsert(app("a", "1"));
        s.upsert(app("b", "2"));
        let (_, mut rx) = s.follow(None);
        s.apply(Change::Reset(vec![Arc::new(app("b", "2"))]));
        assert!(s.get("a").is_none());
        assert!(s.get("b").is_some());
        let change = rx.try_recv().map(|c| (c.name.clone(), c.kind));
        assert_eq!(change.ok(), Some(("a".to_owned(), ChangeKind::Deleted)));
    }
}
