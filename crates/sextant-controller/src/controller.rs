//! Wiring: the Application watcher, the live-state cache, the work queue
//! and its workers, the Git poll timer, and shutdown.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::Api;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use serde_json::json;
use sextant_model::Application;
use sextant_render::{Renderer, RendererConfig};
use sextant_source::GitOptions;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::config::ControllerConfig;
use crate::leader::{self, LeaseConfig};
use crate::queue::Queue;
use crate::reconcile;
use crate::repo_creds::{self, RepoCredentials};
use crate::source::Sources;

/// Why a controller could not start.
#[derive(Debug, thiserror::Error)]
pub enum ControllerError {
    /// The render cache or tools could not be set up.
    #[error("could not set up rendering")]
    Render(#[from] sextant_render::ServiceError),
}

/// What every worker shares.
pub struct Shared {
    /// The cluster the controller runs against: Applications, projects,
    /// Secrets and Events live there.
    pub(crate) client: kube::Client,
    pub(crate) config: ControllerConfig,
    /// The clusters apps deploy to (the local one and the cluster
    /// Secrets'), each with its own live cache.
    pub(crate) clusters: Arc<crate::clusters::Clusters>,
    pub(crate) sources: Sources,
    /// What the syncs under way wrote (see `tasks::Memory`).
    pub(crate) memory: crate::tasks::Memory,
    /// Self-heal streaks (see `fight.rs`).
    pub(crate) fights: crate::fight::Fights,
    /// Transient source problems in a row, per app (their backoff).
    pub(crate) transient: Mutex<HashMap<String, u32>>,
    /// The namespace's AppProjects.
    pub(crate) projects: crate::projects::Projects,
    /// Health scripts and ignore rules: the flags', with the settings
    /// ConfigMap's over them.
    pub(crate) settings: crate::settings::Current,
    queue: Queue,
    /// The apps seen by the watcher.
    apps: Mutex<HashMap<String, Known>>,
    /// Reconciles per app since start (for tests and, later, metrics).
    reconciles: Mutex<HashMap<String, u64>>,
}

/// What the watcher remembers of an app: a fingerprint of what makes it
/// worth another look (not its status), and the (repository, revision)
/// it follows, so a Git poll queues only the apps whose commit moved.
struct Known {
    fingerprint: u64,
    follows: Vec<(String, String)>,
    /// The apps it waits for (`spec.dependsOn`).
    depends_on: Vec<String>,
    /// Its project (a change of the project queues it).
    project: String,
    /// Its destination (server, name): a change of that cluster queues it.
    dest: (String, String),
    /// Its labels in `sextant_app_info`.
    info: crate::metrics::AppInfo,
}

/// The series made at scrape time from what the controller holds.
/// How often the Git poll loop looks whether its interval has passed (so a
/// new `timeout.reconciliation` applies within a second).
const POLL_CHECK: Duration = Duration::from_secs(1);
/// The poll interval that means no polling (`timeout.reconciliation: 0s`):
/// a resolved revision is then trusted until a refresh.
const POLLING_OFF: Duration = Duration::MAX;

/// Put the settings in force where they act outside a reconcile: the
/// tracking of the live caches (a new method lists them again), the Git
/// poll interval and the kustomize flags of renders.
fn apply_settings(shared: &Shared) {
    let settings = shared.settings.get();
    if shared.clusters.set_tracking(settings.tracking.clone()) {
        tracing::info!(
            method = %settings.tracking.method,
            "tracking changed; the live state is listed again"
        );
    }
    let poll = match settings
        .reconciliation
        .unwrap_or(shared.config.repo_poll_interval)
    {
        d if d.is_zero() => POLLING_OFF,
        d => d,
    };
    shared.sources.set_poll_interval(poll);
    shared
        .sources
        .set_kustomize_build_options(settings.kustomize_build_options.clone());
}

/// Queue every known app (a change that may concern any of them).
fn queue_all(shared: &Shared) {
    let names: Vec<String> = shared
        .apps
        .lock()
        .map(|apps| apps.keys().cloned().collect())
        .unwrap_or_default();
    for name in names {
        shared.queue.add(&name);
    }
}

fn collector(shared: std::sync::Weak<Shared>) -> sextant_metrics::Collector {
    Arc::new(move || {
        let Some(shared) = shared.upgrade() else {
            return String::new();
        };
        let mut text = match shared.apps.lock() {
            Ok(apps) => {
                let mut sorted: Vec<(&String, &crate::metrics::AppInfo)> =
                    apps.iter().map(|(n, k)| (n, &k.info)).collect();
                sorted.sort_by(|a, b| a.0.cmp(b.0));
                crate::metrics::app_info_family(&shared.config.namespace, sorted.into_iter())
            }
            Err(_) => String::new(),
        };
        for cluster in shared.clusters.all() {
            text.push_str(&crate::metrics::cache_family(
                &cluster.server,
                cluster.live.size(),
            ));
        }
        text
    })
}

/// A running controller; call [`Controller::shutdown`] (or drop it) to stop.
pub struct Controller {
    stop: Arc<watch::Sender<bool>>,
    tasks: Vec<JoinHandle<()>>,
    shared: Arc<Shared>,
    /// The Lease held and its renewing task, with leader election.
    lease: Option<(Api<Lease>, LeaseConfig, JoinHandle<()>)>,
    /// Set when the Lease was lost.
    lost: watch::Receiver<bool>,
}

impl std::fmt::Debug for Controller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Controller")
            .field("namespace", &self.shared.config.namespace)
            .finish_non_exhaustive()
    }
}

/// The parts of an Application that call for a reconcile when they change.
fn fingerprint(app: &Application) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    json!({
        "spec": app.spec,
        "operation": app.operation,
        "annotations": app.metadata.annotations,
        "finalizers": app.metadata.finalizers,
        "deleting": app.metadata.deletion_timestamp.is_some(),
        "uid": app.metadata.uid,
    })
    .to_string()
    .hash(&mut h);
    h.finish()
}

impl Shared {
    /// Drop what the live caches keep for an app that is gone.
    pub(crate) fn forget_app(&self, name: &str) {
        for cluster in self.clusters.all() {
            cluster.live.forget_app(name);
        }
    }
}

/// Queue the apps whose `dependsOn` names `name`.
fn queue_dependents(shared: &Shared, name: &str) {
    let waiting: Vec<String> = shared
        .apps
        .lock()
        .map(|apps| {
            apps.iter()
                .filter(|(_, k)| k.depends_on.iter().any(|d| d == name))
                .map(|(n, _)| n.clone())
                .collect()
        })
        .unwrap_or_default();
    for app in waiting {
        shared.queue.add(&app);
    }
}

impl Controller {
    /// Start reconciling the Applications in `config.namespace`.
    pub async fn start(
        client: kube::Client,
        config: ControllerConfig,
    ) -> Result<Self, ControllerError> {
        let renderer = Renderer::new(RendererConfig {
            cache_dir: config.cache_dir.clone(),
            git: GitOptions::default(),
            tools: config.tools.clone(),
            // A chart range is resolved again once per poll, as Git is.
            chart_listing_ttl: Some(config.repo_poll_interval),
            ..RendererConfig::default()
        })?;
        let credentials = Arc::new(RepoCredentials::new(&config.namespace));
        let (notice_tx, mut notice_rx) = mpsc::unbounded_channel::<String>();
        crate::projects::ensure_default(client.clone(), &config.namespace).await;
        let clusters = Arc::new(crate::clusters::Clusters::new(
            client.clone(),
            Arc::new(crate::tracking::default_tracking()),
            notice_tx,
            config.workers.div_ceil(2),
            &config.namespace,
        ));
        let (project_tx, mut project_rx) = mpsc::unbounded_channel::<String>();
        let (projects, project_watch) = crate::projects::Projects::start(
            client.clone(),
            &config.namespace,
            clusters.clone(),
            move |name| {
                let _ = project_tx.send(name.to_owned());
            },
        );
        let shared = Arc::new(Shared {
            client: client.clone(),
            clusters,
            sources: Sources::new(
                Arc::new(renderer),
                credentials.clone(),
                config.repo_poll_interval,
            ),
            memory: crate::tasks::Memory::default(),
            fights: crate::fight::Fights::default(),
            transient: Mutex::new(HashMap::new()),
            projects,
            settings: crate::settings::Current::new(crate::settings::Settings {
                health: config.health.clone(),
                system_ignore: config.system_ignore.clone(),
                ..Default::default()
            }),
            queue: Queue::default(),
            apps: Mutex::new(HashMap::new()),
            reconciles: Mutex::new(HashMap::new()),
            config,
        });
        let (stop, stop_rx) = watch::channel(false);
        let stop = Arc::new(stop);
        let (lost_tx, lost) = watch::channel(false);
        // With leader election, nothing starts before the Lease is ours;
        // losing it stops the workers (see `leader.rs`).
        let lease = match &shared.config.leader_election {
            Some(cfg) => {
                let api: Api<Lease> = Api::namespaced(client.clone(), &shared.config.namespace);
                leader::acquire(&api, cfg).await;
                let stop = stop.clone();
                let keeper = leader::keep(api.clone(), cfg.clone(), move || {
                    let _ = stop.send(true);
                    let _ = lost_tx.send(true);
                });
                Some((api, cfg.clone(), keeper))
            }
            None => None,
        };
        let mut tasks = vec![project_watch];
        // A project added, changed or removed queues its apps.
        {
            let shared = shared.clone();
            tasks.push(tokio::spawn(async move {
                while let Some(project) = project_rx.recv().await {
                    let names: Vec<String> = shared
                        .apps
                        .lock()
                        .map(|apps| {
                            apps.iter()
                                .filter(|(_, k)| k.project == project)
                                .map(|(n, _)| n.clone())
                                .collect()
                        })
                        .unwrap_or_default();
                    for name in names {
                        shared.queue.add(&name);
                    }
                }
            }));
        }
        sextant_metrics::add_collector("controller", collector(Arc::downgrade(&shared)));

        // The settings ConfigMap: read before the first comparison, then
        // followed; a change queues every app.
        {
            let api: Api<ConfigMap> = Api::namespaced(client.clone(), &shared.config.namespace);
            crate::settings::load(&api, &shared.settings).await;
            apply_settings(&shared);
            let shared = shared.clone();
            tasks.push(tokio::spawn(async move {
                crate::settings::follow(api, &shared.settings, || {
                    apply_settings(&shared);
                    queue_all(&shared);
                })
                .await;
            }));
        }

        // Applications: a change that matters queues the app.
        {
            let shared = shared.clone();
            let api: Api<Application> = Api::namespaced(client.clone(), &shared.config.namespace);
            tasks.push(tokio::spawn(async move {
                let mut stream = watcher::watcher(api, watcher::Config::default())
                    .default_backoff()
                    .boxed();
                let mut listing: Option<HashSet<String>> = None;
                while let Some(event) = stream.next().await {
                    match event {
                        Ok(Event::Init) => listing = Some(HashSet::new()),
                        Ok(Event::InitApply(app)) | Ok(Event::Apply(app)) => {
                            let name = app.metadata.name.clone().unwrap_or_default();
                            if let Some(l) = listing.as_mut() {
                                l.insert(name.clone());
                            }
                            let known = Known {
                                fingerprint: fingerprint(&app),
                                follows: crate::source::app_sources(&app)
                                    .map(|s| s.list().iter().map(crate::source::watched).collect())
                                    .unwrap_or_default(),
                                depends_on: crate::depends::names(&app),
                                project: crate::projects::project_name(&app).to_owned(),
                                dest: crate::clusters::destination_of(&app),
                                info: crate::metrics::AppInfo::of(&app),
                            };
                            let fp = known.fingerprint;
                            let changed = shared
                                .apps
                                .lock()
                                .map(|mut a| {
                                    a.insert(name.clone(), known).map(|k| k.fingerprint) != Some(fp)
                                })
                                .unwrap_or(true);
                            if changed {
                                shared.queue.add(&name);
                            }
                            // Its sync or health may be what others wait for.
                            queue_dependents(&shared, &name);
                        }
                        Ok(Event::InitDone) => {
                            // Apps deleted while the watch was down.
                            if let Some(seen) = listing.take()
                                && let Ok(mut apps) = shared.apps.lock()
                            {
                                let gone: Vec<String> = apps
                                    .keys()
                                    .filter(|n| !seen.contains(*n))
                                    .cloned()
                                    .collect();
                                for name in gone {
                                    apps.remove(&name);
                                    shared.queue.add(&name);
                                }
                            }
                        }
                        Ok(Event::Delete(app)) => {
                            let name = app.metadata.name.clone().unwrap_or_default();
                            if let Ok(mut apps) = shared.apps.lock() {
                                apps.remove(&name);
                            }
                            shared.queue.add(&name);
                            queue_dependents(&shared, &name);
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "watching Applications failed; retrying")
                        }
                    }
                }
            }));
        }

        // SSH known hosts and TLS certificates: a change queues every app
        // (one that failed on an unknown host or certificate may work now).
        {
            let shared = shared.clone();
            let credentials = credentials.clone();
            let api: Api<ConfigMap> = Api::namespaced(client.clone(), &shared.config.namespace);
            tasks.push(tokio::spawn(async move {
                repo_creds::follow_config_maps(api, &credentials, || {
                    queue_all(&shared);
                })
                .await;
            }));
        }

        // Config management plugins: a change renders every app again
        // (one may name the plugin, or be found by its discovery rule).
        {
            let shared = shared.clone();
            let namespace = shared.config.namespace.clone();
            let api: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
            tasks.push(tokio::spawn(async move {
                crate::plugins::follow(api, &namespace, &shared.sources, || {
                    queue_all(&shared);
                })
                .await;
            }));
        }

        // Repository credentials: a Secret added, changed or removed
        // queues the apps on the repositories it covers.
        {
            let shared = shared.clone();
            let api: Api<Secret> = Api::namespaced(client.clone(), &shared.config.namespace);
            tasks.push(tokio::spawn(async move {
                repo_creds::follow(api, &credentials, |urls| {
                    let names: Vec<String> = shared
                        .apps
                        .lock()
                        .map(|apps| {
                            apps.iter()
                                .filter(|(_, k)| {
                                    k.follows.iter().any(|(repo, _)| {
                                        urls.iter().any(|u| repo_creds::matches(u, repo))
                                    })
                                })
                                .map(|(n, _)| n.clone())
                                .collect()
                        })
                        .unwrap_or_default();
                    for name in names {
                        shared.queue.add(&name);
                    }
                })
                .await;
            }));
        }

        // Cluster Secrets: a cluster added, changed (rotated credentials)
        // or removed queues the apps deploying to it.
        {
            let shared = shared.clone();
            let api: Api<Secret> = Api::namespaced(client.clone(), &shared.config.namespace);
            tasks.push(tokio::spawn(async move {
                let clusters = shared.clusters.clone();
                crate::clusters::follow(api, clusters, |touched| {
                    let names: Vec<String> = shared
                        .apps
                        .lock()
                        .map(|apps| {
                            apps.iter()
                                .filter(|(_, k)| {
                                    touched.iter().any(|(server, name)| {
                                        (!k.dest.0.is_empty() && k.dest.0 == *server)
                                            || (k.dest.0.is_empty() && k.dest.1 == *name)
                                    })
                                })
                                .map(|(n, _)| n.clone())
                                .collect()
                        })
                        .unwrap_or_default();
                    for name in names {
                        shared.queue.add(&name);
                    }
                })
                .await;
            }));
        }

        // Live changes: queue the apps they touch.
        {
            let shared = shared.clone();
            tasks.push(tokio::spawn(async move {
                while let Some(app) = notice_rx.recv().await {
                    let known = shared
                        .apps
                        .lock()
                        .map(|a| a.contains_key(&app))
                        .unwrap_or(false);
                    if known {
                        shared.queue.add(&app);
                    }
                }
            }));
        }

        // Git: each (repository, revision) the apps follow is asked once
        // per poll interval (the settings' `timeout.reconciliation` over
        // the flag, followed while running; 0 turns polling off); only the
        // apps whose commit moved are queued.
        {
            let shared = shared.clone();
            tasks.push(tokio::spawn(async move {
                let mut last = tokio::time::Instant::now();
                loop {
                    tokio::time::sleep(POLL_CHECK).await;
                    let period = shared.sources.poll_interval();
                    if period == POLLING_OFF || last.elapsed() < period.max(Duration::from_secs(1))
                    {
                        continue;
                    }
                    last = tokio::time::Instant::now();
                    let mut by_pair: HashMap<(String, String), Vec<String>> = HashMap::new();
                    if let Ok(apps) = shared.apps.lock() {
                        for (name, known) in apps.iter() {
                            for pair in &known.follows {
                                by_pair.entry(pair.clone()).or_default().push(name.clone());
                            }
                        }
                    }
                    for ((repo, revision), names) in by_pair {
                        match shared.sources.poll(&repo, &revision).await {
                            Ok(false) => {}
                            Ok(true) => names.iter().for_each(|n| shared.queue.add(n)),
                            // The apps report the error in their status.
                            Err(_) => names.iter().for_each(|n| shared.queue.add(n)),
                        }
                    }
                }
            }));
        }

        // Every app is looked at again each resync interval, whatever
        // happened (a safety net; reconciledAt advances).
        {
            let shared = shared.clone();
            tasks.push(tokio::spawn(async move {
                let period = shared.config.resync_interval.max(Duration::from_secs(1));
                let mut tick =
                    tokio::time::interval_at(tokio::time::Instant::now() + period, period);
                loop {
                    tick.tick().await;
                    let names: Vec<String> = shared
                        .apps
                        .lock()
                        .map(|a| a.keys().cloned().collect())
                        .unwrap_or_default();
                    for name in names {
                        shared.queue.add(&name);
                    }
                }
            }));
        }

        // ApplicationSets (their worker stops with `stop`, between passes).
        tasks.extend(crate::appset::start(shared.clone(), stop_rx.clone()));
        // Notifications (under the same Lease: only the leader sends).
        tasks.extend(crate::notify::start(shared.clone(), stop_rx.clone()));

        // Workers, once the projects are known.
        shared.projects.ready(Duration::from_secs(10)).await;
        for _ in 0..shared.config.workers.max(1) {
            let shared = shared.clone();
            let mut stop_rx = stop_rx.clone();
            tasks.push(tokio::spawn(async move {
                loop {
                    let name = tokio::select! {
                        biased;
                        _ = stop_rx.wait_for(|s| *s) => return,
                        name = shared.queue.next() => name,
                    };
                    if *stop_rx.borrow() {
                        return;
                    }
                    if let Ok(mut counts) = shared.reconciles.lock() {
                        *counts.entry(name.clone()).or_default() += 1;
                    }
                    let started = std::time::Instant::now();
                    let outcome = reconcile::reconcile(&shared, &name).await;
                    metrics::histogram!(
                        sextant_metrics::names::APP_RECONCILE,
                        "result" => if outcome.is_ok() { "ok" } else { "error" }
                    )
                    .record(started.elapsed().as_secs_f64());
                    shared.queue.done(&name);
                    match outcome {
                        Ok(next) => {
                            if let Some(after) = next.requeue_after {
                                shared.queue.add_after(&name, after);
                            }
                        }
                        Err(e) => {
                            tracing::warn!(app = %name, error = %e, "reconcile failed; retrying in 5 s");
                            shared.queue.add_after(&name, Duration::from_secs(5));
                        }
                    }
                    if *stop_rx.borrow() {
                        return;
                    }
                }
            }));
        }
        // A lost Lease stops the workers at once, in the middle of a sync if
        // need be (as a crash would: the next leader finds it Running and
        // runs it again), so two controllers never act together.
        if lease.is_some() {
            let workers: Vec<_> = tasks
                .iter()
                .rev()
                .take(shared.config.workers.max(1))
                .map(JoinHandle::abort_handle)
                .collect();
            let mut lost = lost.clone();
            tasks.insert(
                0,
                tokio::spawn(async move {
                    if lost.wait_for(|l| *l).await.is_ok() {
                        workers.iter().for_each(tokio::task::AbortHandle::abort);
                    }
                }),
            );
        }
        Ok(Self {
            stop,
            tasks,
            shared,
            lease,
            lost,
        })
    }

    /// Resolves when this controller lost its Lease (never without leader
    /// election). Its workers are aborted at that moment; the process
    /// should exit so it can be started again as a candidate.
    pub async fn lost(&self) {
        let mut lost = self.lost.clone();
        if lost.wait_for(|l| *l).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// How many times the app `name` has been reconciled since start.
    pub fn reconciles(&self, name: &str) -> u64 {
        self.shared
            .reconciles
            .lock()
            .map_or(0, |c| c.get(name).copied().unwrap_or(0))
    }

    /// How many objects the live caches hold whole and by identity only.
    pub fn cache_size(&self) -> (usize, usize) {
        self.shared
            .clusters
            .all()
            .iter()
            .map(|c| c.live.size())
            .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    }

    /// Stop: workers finish the app they are on, watches end, and the
    /// Lease (with leader election) is released for the next leader.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        let lease = self.lease.take();
        let tasks = std::mem::take(&mut self.tasks);
        // Workers are the tasks that listen to `stop`; the rest never end
        // on their own.
        let n = tasks.len();
        let workers = self.shared.config.workers.max(1);
        for (i, task) in tasks.into_iter().enumerate() {
            if i < n - workers {
                task.abort();
            } else {
                // A worker that does not finish in time is aborted, not
                // left running: the Lease is released just below.
                let abort = task.abort_handle();
                if tokio::time::timeout(Duration::from_secs(30), task)
                    .await
                    .is_err()
                {
                    abort.abort();
                }
            }
        }
        if let Some((api, cfg, keeper)) = lease {
            keeper.abort();
            if !*self.lost.borrow() {
                leader::release(&api, &cfg).await;
            }
        }
    }
}

impl Drop for Controller {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        for t in &self.tasks {
            t.abort();
        }
        if let Some((_, _, keeper)) = &self.lease {
            keeper.abort();
        }
    }
}
