//! The clusters apps deploy to: the one the controller runs against
//! (`in-cluster`, `https://kubernetes.default.svc`) and the ones cluster
//! Secrets name. Each has its own client, discovery, live cache, dry-run
//! memory, connection state and share of the workers, so an unreachable
//! or slow cluster costs its own apps time, never the others'. A Secret
//! changed (rotated credentials) replaces its cluster's client at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use sextant_cluster::{
    ClusterCredentials, IN_CLUSTER_NAME, IN_CLUSTER_SERVER, Kinds, LiveCache, Tracking,
};
use sextant_model::Application;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

use crate::compare::Predictions;
use crate::repo_creds::{ARGOCD_SECRET_TYPE_LABEL, SECRET_TYPE_LABEL};
use crate::source::SourceProblem;

/// How long connecting to a cluster may take before it counts as down.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a successful check of a cluster is trusted.
const TRUSTED_FOR: Duration = Duration::from_secs(30);

/// One cluster and what the controller keeps of it.
pub(crate) struct Cluster {
    pub(crate) name: String,
    pub(crate) server: String,
    pub(crate) client: kube::Client,
    pub(crate) kinds: Arc<Kinds>,
    pub(crate) live: LiveCache,
    pub(crate) predictions: Predictions,
    /// Workers busy with this cluster's apps at most (a slow cluster
    /// cannot take them all).
    permits: Arc<Semaphore>,
    state: Mutex<Connection>,
    local: bool,
}

/// What is known of a cluster's API server.
#[derive(Default)]
struct Connection {
    /// Last seen answering.
    ok_at: Option<Instant>,
    /// Down: why, since how many tries, and when to try again.
    down: Option<(String, u32, Instant)>,
}

impl Cluster {
    fn new(
        name: &str,
        server: &str,
        client: kube::Client,
        tracking: Arc<Tracking>,
        notices: mpsc::UnboundedSender<String>,
        share: usize,
        local: bool,
    ) -> Self {
        let kinds = Arc::new(Kinds::new(client.clone()));
        Self {
            name: name.to_owned(),
            server: server.to_owned(),
            client,
            live: LiveCache::new(kinds.clone(), tracking, notices),
            kinds,
            predictions: Predictions::default(),
            permits: Arc::new(Semaphore::new(share.max(1))),
            state: Mutex::new(Connection::default()),
            local,
        }
    }

    /// Whether it is the cluster the controller runs against.
    pub(crate) fn is_local(&self) -> bool {
        self.local
    }

    /// A worker's place on this cluster, if one is free.
    pub(crate) fn permit(&self) -> Option<OwnedSemaphorePermit> {
        self.permits.clone().try_acquire_owned().ok()
    }

    /// Whether the cluster answers: asked at most every `TRUSTED_FOR`
    /// while up; while down, refused at once until its backoff ends.
    pub(crate) async fn reachable(&self) -> Result<(), SourceProblem> {
        if self.local {
            return Ok(());
        }
        let now = Instant::now();
        if let Ok(s) = self.state.lock() {
            if let Some((why, _, retry_at)) = &s.down
                && now < *retry_at
            {
                return Err(SourceProblem::transient(format!(
                    "cluster {} ({}) is unreachable: {why}",
                    self.name, self.server
                )));
            }
            if s.down.is_none() && s.ok_at.is_some_and(|t| now.duration_since(t) < TRUSTED_FOR) {
                return Ok(());
            }
        }
        let answer =
            tokio::time::timeout(CONNECT_TIMEOUT * 2, self.client.apiserver_version()).await;
        match answer {
            Ok(Ok(_)) => {
                self.up();
                Ok(())
            }
            Ok(Err(e)) => Err(self.down(&sextant_cluster::words(&e))),
            Err(_) => Err(self.down(&format!(
                "no answer within {}s",
                (CONNECT_TIMEOUT * 2).as_secs()
            ))),
        }
    }

    fn up(&self) {
        if let Ok(mut s) = self.state.lock() {
            if s.down.take().is_some() {
                tracing::info!(cluster = %self.name, server = %self.server, "cluster reachable again");
            }
            s.ok_at = Some(Instant::now());
        }
    }

    /// Record a failure; the next try waits 2 s, doubling up to a minute.
    pub(crate) fn down(&self, why: &str) -> SourceProblem {
        if self.local {
            return SourceProblem::transient(why.to_owned());
        }
        let tries = match self.state.lock() {
            Ok(mut s) => {
                let tries = s.down.as_ref().map_or(0, |d| d.1) + 1;
                let wait = Duration::from_secs(2)
                    .saturating_mul(2u32.saturating_pow((tries - 1).min(5)))
                    .min(Duration::from_secs(60));
                s.down = Some((why.to_owned(), tries, Instant::now() + wait));
                s.ok_at = None;
                tries
            }
            Err(_) => 1,
        };
        if tries == 1 {
            tracing::warn!(cluster = %self.name, server = %self.server, error = why, "cluster unreachable");
        }
        SourceProblem::transient(format!(
            "cluster {} ({}) is unreachable: {why}",
            self.name, self.server
        ))
    }
}

/// Every cluster the controller deploys to.
pub(crate) struct Clusters {
    local: Arc<Cluster>,
    /// By the name of the Secret that describes it.
    remote: RwLock<HashMap<String, (ClusterCredentials, Arc<Cluster>)>>,
    notices: mpsc::UnboundedSender<String>,
    share: usize,
    namespace: String,
    /// How objects are tracked (the settings ConfigMap's choice), for
    /// clusters added later.
    tracking: RwLock<Arc<Tracking>>,
}

/// Where an app deploys: (server, name) as its destination says.
pub(crate) fn destination_of(app: &Application) -> (String, String) {
    let d = &app.spec.destination;
    (
        d.server
            .as_deref()
            .unwrap_or_default()
            .trim_end_matches('/')
            .to_owned(),
        d.name.clone().unwrap_or_default(),
    )
}

impl Clusters {
    /// The local cluster alone; `share` is how many workers one cluster
    /// may hold.
    pub(crate) fn new(
        client: kube::Client,
        tracking: Arc<Tracking>,
        notices: mpsc::UnboundedSender<String>,
        share: usize,
        namespace: &str,
    ) -> Self {
        Self {
            local: Arc::new(Cluster::new(
                IN_CLUSTER_NAME,
                IN_CLUSTER_SERVER,
                client,
                tracking.clone(),
                notices.clone(),
                share,
                true,
            )),
            remote: RwLock::new(HashMap::new()),
            notices,
            share,
            namespace: namespace.to_owned(),
            tracking: RwLock::new(tracking),
        }
    }

    /// Track objects as `tracking` says on every cluster. Returns whether
    /// it changed anything (the live caches then list everything again).
    pub(crate) fn set_tracking(&self, tracking: Arc<Tracking>) -> bool {
        if let Ok(mut t) = self.tracking.write() {
            *t = tracking.clone();
        }
        let mut changed = false;
        for cluster in self.all() {
            changed |= cluster.live.set_tracking(tracking.clone());
        }
        changed
    }

    /// Every cluster, the local one first.
    pub(crate) fn all(&self) -> Vec<Arc<Cluster>> {
        let mut out = vec![self.local.clone()];
        if let Ok(r) = self.remote.read() {
            let mut remote: Vec<&Arc<Cluster>> = r.values().map(|(_, c)| c).collect();
            remote.sort_by(|a, b| a.name.cmp(&b.name));
            out.extend(remote.into_iter().cloned());
        }
        out
    }

    /// The cluster an app's destination names, or why there is none.
    pub(crate) fn for_app(&self, app: &Application) -> Result<Arc<Cluster>, String> {
        let (server, name) = destination_of(app);
        self.resolve(&server, &name)
    }

    /// The cluster of `server` (or, when it is empty, `name`).
    pub(crate) fn resolve(&self, server: &str, name: &str) -> Result<Arc<Cluster>, String> {
        let remote = self
            .remote
            .read()
            .map_err(|_| "the cluster list is unusable after a crash".to_owned())?;
        let found = if !server.is_empty() {
            remote
                .values()
                .map(|(_, c)| c)
                .find(|c| c.server == server)
                .cloned()
                .or_else(|| (server == IN_CLUSTER_SERVER).then(|| self.local.clone()))
        } else if !name.is_empty() {
            remote
                .values()
                .map(|(_, c)| c)
                .find(|c| c.name == name)
                .cloned()
                .or_else(|| (name == IN_CLUSTER_NAME).then(|| self.local.clone()))
        } else {
            Some(self.local.clone())
        };
        let Some(cluster) = found else {
            let what = if server.is_empty() {
                format!("named {name}")
            } else {
                format!("at {server}")
            };
            return Err(format!(
                "there is no cluster {what}: add it with `sextant cluster add CONTEXT` (a Secret in namespace {} labelled {SECRET_TYPE_LABEL}=cluster)",
                self.namespace
            ));
        };
        if !server.is_empty() && !name.is_empty() && cluster.name != name {
            return Err(format!(
                "the destination names server {server} and cluster {name}, but {server} is cluster {}: give one of them",
                cluster.name
            ));
        }
        Ok(cluster)
    }

    /// Take in a cluster Secret (added or changed); returns the cluster's
    /// (server, name) before and after, for queueing its apps.
    async fn upsert(&self, secret: &Secret) -> Vec<(String, String)> {
        let id = secret.metadata.name.clone().unwrap_or_default();
        let creds = match ClusterCredentials::from_secret(secret) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(secret = %id, error = %e, "cluster Secret ignored");
                return self.remove(&id);
            }
        };
        let same = self
            .remote
            .read()
            .ok()
            .and_then(|r| r.get(&id).map(|(c, _)| *c == creds))
            .unwrap_or(false);
        if same {
            return Vec::new();
        }
        let client = match creds.client(CONNECT_TIMEOUT).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(secret = %id, error = %e, "cluster Secret ignored");
                return self.remove(&id);
            }
        };
        let tracking = match self.tracking.read() {
            Ok(t) => t.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        let cluster = Arc::new(Cluster::new(
            &creds.name,
            &creds.server,
            client,
            tracking,
            self.notices.clone(),
            self.share,
            false,
        ));
        tracing::info!(cluster = %creds.name, server = %creds.server, auth = creds.auth_kind(), "cluster added or updated");
        let mut touched = vec![(creds.server.clone(), creds.name.clone())];
        if let Ok(mut r) = self.remote.write()
            && let Some((old, _)) = r.insert(id, (creds, cluster))
        {
            touched.push((old.server, old.name));
        }
        touched
    }

    fn remove(&self, id: &str) -> Vec<(String, String)> {
        self.remote
            .write()
            .ok()
            .and_then(|mut r| r.remove(id))
            .map(|(c, _)| vec![(c.server, c.name)])
            .unwrap_or_default()
    }
}

fn is_cluster_secret(s: &Secret) -> bool {
    s.metadata.labels.as_ref().is_some_and(|l| {
        [SECRET_TYPE_LABEL, ARGOCD_SECRET_TYPE_LABEL]
            .iter()
            .any(|k| l.get(*k).map(String::as_str) == Some(sextant_cluster::CLUSTER_SECRET_TYPE))
    })
}

/// Keep `clusters` equal to the cluster Secrets of the namespace; `changed`
/// gets each (server, name) whose cluster came, changed or went.
pub(crate) async fn follow(
    api: Api<Secret>,
    clusters: Arc<Clusters>,
    changed: impl Fn(&[(String, String)]),
) {
    let mut stream = watcher::watcher(api, watcher::Config::default())
        .default_backoff()
        .boxed();
    let mut listing: Option<Vec<String>> = None;
    while let Some(event) = stream.next().await {
        match event {
            Ok(Event::Init) => listing = Some(Vec::new()),
            Ok(Event::InitApply(s)) | Ok(Event::Apply(s)) => {
                let id = s.metadata.name.clone().unwrap_or_default();
                if let Some(l) = listing.as_mut() {
                    l.push(id.clone());
                }
                let touched = if is_cluster_secret(&s) {
                    clusters.upsert(&s).await
                } else {
                    clusters.remove(&id)
                };
                changed(&touched);
            }
            Ok(Event::InitDone) => {
                let seen = listing.take().unwrap_or_default();
                let gone: Vec<String> = clusters
                    .remote
                    .read()
                    .map(|r| r.keys().filter(|k| !seen.contains(k)).cloned().collect())
                    .unwrap_or_default();
                for id in gone {
                    changed(&clusters.remove(&id));
                }
            }
            Ok(Event::Delete(s)) => {
                let id = s.metadata.name.clone().unwrap_or_default();
                changed(&clusters.remove(&id));
            }
            Err(e) => tracing::warn!(error = %e, "watching cluster Secrets failed; retrying"),
        }
    }
}
