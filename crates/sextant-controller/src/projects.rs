//! AppProjects as the controller sees them: a watched store of the
//! namespace's projects, the `default` project created when missing, and
//! the checks a reconcile makes against its app's project (`check`,
//! `denied_kinds`, `windows`); the rules themselves are
//! `sextant_engine::project`.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use kube::Api;
use kube::api::PostParams;
use kube::runtime::WatchStreamExt;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::watcher::{self, Event};
use serde_json::Value;
use sextant_cluster::Kinds;
use sextant_engine::diff::ObjectKey;
use sextant_engine::project::{self, Destination, WindowVerdict};
use sextant_model::project::DEFAULT_PROJECT;
use sextant_model::{AppProject, Application};

/// The local cluster, by URL and by name.
use sextant_cluster::{IN_CLUSTER_NAME, IN_CLUSTER_SERVER};

/// The projects of the controller's namespace, kept by a watch.
#[derive(Clone)]
pub(crate) struct Projects {
    store: Store<AppProject>,
    namespace: String,
    clusters: Arc<crate::clusters::Clusters>,
}

/// The project an app names (`default` when it names none).
pub(crate) fn project_name(app: &Application) -> &str {
    match app.spec.project.trim() {
        "" => DEFAULT_PROJECT,
        p => p,
    }
}

/// The app's destination with its cluster known by server and name: from
/// the cluster registry when it knows the cluster, else as written.
pub(crate) fn destination(
    clusters: &crate::clusters::Clusters,
    app: &Application,
) -> (String, String, String) {
    let d = &app.spec.destination;
    if let Ok(c) = clusters.for_app(app) {
        return (
            c.server.clone(),
            c.name.clone(),
            d.namespace.clone().unwrap_or_default(),
        );
    }
    let server = d.server.clone().filter(|s| !s.is_empty());
    let name = d.name.clone().filter(|s| !s.is_empty());
    let (server, name) = match (server, name) {
        (Some(s), Some(n)) => (s, n),
        (Some(s), None) if s.trim_end_matches('/') == IN_CLUSTER_SERVER => {
            (s, IN_CLUSTER_NAME.to_owned())
        }
        (None, Some(n)) if n == IN_CLUSTER_NAME => (IN_CLUSTER_SERVER.to_owned(), n),
        (Some(s), None) => (s, String::new()),
        (None, Some(n)) => (String::new(), n),
        (None, None) => (IN_CLUSTER_SERVER.to_owned(), IN_CLUSTER_NAME.to_owned()),
    };
    (server, name, d.namespace.clone().unwrap_or_default())
}

impl Projects {
    /// Start watching the projects of `namespace`; `changed` gets the name
    /// of each project added, changed or removed.
    pub(crate) fn start(
        client: kube::Client,
        namespace: &str,
        clusters: Arc<crate::clusters::Clusters>,
        changed: impl Fn(&str) + Send + 'static,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let api: Api<AppProject> = Api::namespaced(client, namespace);
        let (store, writer) = reflector::store();
        let task = tokio::spawn(async move {
            let mut stream = reflector::reflector(
                writer,
                watcher::watcher(api, watcher::Config::default()).default_backoff(),
            )
            .boxed();
            while let Some(event) = stream.next().await {
                match event {
                    Ok(Event::Apply(p)) | Ok(Event::Delete(p)) | Ok(Event::InitApply(p)) => {
                        changed(p.metadata.name.as_deref().unwrap_or_default());
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "watching AppProjects failed; retrying"),
                }
            }
        });
        (
            Self {
                store,
                namespace: namespace.to_owned(),
                clusters,
            },
            task,
        )
    }

    /// Wait (a while) for the first list, so the first reconciles do not
    /// report projects missing that are only not read yet.
    pub(crate) async fn ready(&self, within: Duration) {
        if tokio::time::timeout(within, self.store.wait_until_ready())
            .await
            .is_err()
        {
            tracing::warn!(
                "AppProjects could not be listed yet (is the AppProject CRD installed?); apps report their project missing until they can"
            );
        }
    }

    /// The project named `name`.
    pub(crate) fn get(&self, name: &str) -> Option<Arc<AppProject>> {
        self.store
            .get(&ObjectRef::new(name).within(&self.namespace))
    }

    /// The app's project, or why the app may not use it: the project is
    /// missing, or refuses the app's repository, destination or namespace.
    pub(crate) fn check(&self, app: &Application) -> Result<Arc<AppProject>, String> {
        let name = project_name(app);
        let Some(project) = self.get(name) else {
            return Err(format!(
                "project {name} does not exist in namespace {}: create it (sextant proj create {name}) or set spec.project to an existing one",
                self.namespace
            ));
        };
        let repos: Vec<&str> = app
            .spec
            .source
            .iter()
            .chain(app.spec.sources.iter().flatten())
            .map(|s| s.repo_url.as_str())
            .collect();
        let (server, cluster, namespace) = destination(&self.clusters, app);
        let dest = Destination {
            server: &server,
            name: &cluster,
            namespace: &namespace,
        };
        let violations = project::app_violations(
            name,
            &project.spec,
            &repos,
            &dest,
            app.metadata.namespace.as_deref().unwrap_or(&self.namespace),
            &self.namespace,
        );
        if violations.is_empty() {
            Ok(project)
        } else {
            Err(violations.join("; "))
        }
    }
}

/// What the project's sync windows say about the app now.
pub(crate) fn windows(
    clusters: &crate::clusters::Clusters,
    project: &AppProject,
    app: &Application,
) -> Result<WindowVerdict, String> {
    let (server, cluster, namespace) = destination(clusters, app);
    let dest = Destination {
        server: &server,
        name: &cluster,
        namespace: &namespace,
    };
    project::window_verdict(
        project.spec.sync_windows.as_deref().unwrap_or_default(),
        app.metadata.name.as_deref().unwrap_or_default(),
        &dest,
        chrono::Utc::now(),
    )
    .map_err(|e| {
        format!(
            "project {}: {e}; syncs are refused until the window is fixed",
            project.metadata.name.as_deref().unwrap_or_default()
        )
    })
}

/// The objects of `desired` the project does not let the app deploy: a
/// kind it does not permit, or a namespace outside its destinations.
pub(crate) async fn denied_objects(
    clusters: &crate::clusters::Clusters,
    project: &AppProject,
    app: &Application,
    desired: &[Value],
    kinds: &Kinds,
) -> Vec<(ObjectKey, String)> {
    let name = project.metadata.name.as_deref().unwrap_or_default();
    let (server, cluster, _) = destination(clusters, app);
    let mut out = Vec::new();
    for obj in desired {
        let key = ObjectKey::of(obj);
        let namespaced = match kinds.lookup(&key.api_version, &key.kind).await {
            Ok(Some(info)) => info.namespaced,
            // A kind the sync itself brings: its CRD says; otherwise the
            // object does.
            _ => crd_scope(desired, &key.group, &key.kind).unwrap_or(!key.namespace.is_empty()),
        };
        let reason = project::kind_denial(&project.spec, &key.group, &key.kind, namespaced)
            .or_else(|| {
                let dest = Destination {
                    server: &server,
                    name: &cluster,
                    namespace: &key.namespace,
                };
                (namespaced
                    && !key.namespace.is_empty()
                    && !project::destination_permitted(&project.spec, &dest))
                .then(|| {
                    format!(
                        "namespace {} is not one of the project's destinations",
                        key.namespace
                    )
                })
            });
        if let Some(reason) = reason {
            out.push((key, format!("not permitted in project {name}: {reason}")));
        }
    }
    out
}

fn crd_scope(desired: &[Value], group: &str, kind: &str) -> Option<bool> {
    desired
        .iter()
        .filter(|o| o.get("kind").and_then(Value::as_str) == Some("CustomResourceDefinition"))
        .find(|o| {
            o.pointer("/spec/group").and_then(Value::as_str) == Some(group)
                && o.pointer("/spec/names/kind").and_then(Value::as_str) == Some(kind)
        })
        .and_then(|o| o.pointer("/spec/scope").and_then(Value::as_str))
        .map(|s| s == "Namespaced")
}

/// Create the `default` project, allowing everything, when it is missing
/// (an existing one is never changed).
pub(crate) async fn ensure_default(client: kube::Client, namespace: &str) {
    let api: Api<AppProject> = Api::namespaced(client, namespace);
    match api.get_opt(DEFAULT_PROJECT).await {
        Ok(Some(_)) => {}
        Ok(None) => {
            let project = AppProject::permissive(DEFAULT_PROJECT);
            match api.create(&PostParams::default(), &project).await {
                Ok(_) => tracing::info!(namespace, "created the default AppProject"),
                Err(kube::Error::Api(e)) if e.code == 409 => {}
                Err(e) => tracing::warn!(error = %e, "could not create the default AppProject"),
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not read the default AppProject"),
    }
}

/// The denied objects in one line: `what` says what becomes of them.
pub(crate) fn denied_summary(denied: &[(ObjectKey, String)], what: &str) -> Option<String> {
    if denied.is_empty() {
        return None;
    }
    let mut parts: Vec<String> = denied
        .iter()
        .take(3)
        .map(|(k, why)| format!("{k} is {why}"))
        .collect();
    if denied.len() > 3 {
        parts.push(format!("and {} more", denied.len() - 3));
    }
    Some(format!(
        "{} object(s) not permitted by the app's project; {what}: {}",
        denied.len(),
        parts.join("; ")
    ))
}

/// The kinds looked at for orphaned objects, beyond the ones the apps
/// use (those are watched anyway): the namespaced kinds teams create by
/// hand or operators create beside them.
const ORPHAN_KINDS: &[(&str, &str)] = &[
    ("v1", "ConfigMap"),
    ("v1", "Secret"),
    ("v1", "Service"),
    ("v1", "ServiceAccount"),
    ("v1", "PersistentVolumeClaim"),
    ("v1", "Pod"),
    ("apps/v1", "Deployment"),
    ("apps/v1", "StatefulSet"),
    ("apps/v1", "DaemonSet"),
    ("batch/v1", "Job"),
    ("batch/v1", "CronJob"),
    ("networking.k8s.io/v1", "Ingress"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
    ("rbac.authorization.k8s.io/v1", "Role"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"),
];

/// Objects every namespace has that are nobody's to track.
fn built_in(key: &sextant_cluster::LiveKey) -> bool {
    (key.group.is_empty() && key.kind == "ServiceAccount" && key.name == "default")
        || (key.group.is_empty() && key.kind == "ConfigMap" && key.name == "kube-root-ca.crt")
}

/// With the project's orphaned-resource monitoring on, the objects in the
/// app's destination namespace no app tracks (minus the ignore list), as
/// the OrphanedResourceWarning message; None when off, none found, or
/// `warn: false`.
pub(crate) async fn orphans(
    project: Option<&AppProject>,
    app: &Application,
    cluster: &crate::clusters::Cluster,
    filter: &crate::settings::resource_filter::ResourceFilter,
) -> Option<String> {
    let live = &cluster.live;
    let excluded = |group: &str, kind: &str| filter.excludes(group, kind, &cluster.server);
    let app_name = app.metadata.name.as_deref().unwrap_or_default();
    let namespace = app.spec.destination.namespace.clone().unwrap_or_default();
    let settings = project.and_then(|p| p.spec.orphaned_resources.as_ref());
    let Some(settings) = settings.filter(|_| !namespace.is_empty()) else {
        live.watch_namespace(app_name, None);
        return None;
    };
    for (av, kind) in ORPHAN_KINDS {
        let group = av.rsplit_once('/').map_or("", |(g, _)| g);
        if excluded(group, kind) {
            continue;
        }
        if let Err(e) = live.watch_kind(av, kind).await {
            tracing::debug!(kind, error = %e, "orphaned-resource monitoring skips a kind");
        }
    }
    live.watch_namespace(app_name, Some(&namespace));
    if settings.warn == Some(false) {
        return None;
    }
    let ignore = settings.ignore.as_deref().unwrap_or_default();
    let found: Vec<sextant_cluster::LiveKey> = live
        .untracked_in(&namespace)
        .into_iter()
        .filter(|k| !built_in(k) && !excluded(&k.group, &k.kind))
        .filter(|k| {
            !ignore.iter().any(|i| {
                sextant_model::glob::matches(&k.group, &i.group)
                    && sextant_model::glob::matches(&k.kind, or_any(&i.kind))
                    && sextant_model::glob::matches(&k.name, or_any(&i.name))
            })
        })
        .collect();
    if found.is_empty() {
        return None;
    }
    let mut names: Vec<String> = found
        .iter()
        .take(10)
        .map(|k| format!("{} {}", k.kind, k.name))
        .collect();
    if found.len() > 10 {
        names.push(format!("and {} more", found.len() - 10));
    }
    let project = project
        .and_then(|p| p.metadata.name.as_deref())
        .unwrap_or_default();
    Some(format!(
        "{} orphaned object(s) in namespace {namespace} that no app tracks: {}; put them in Git, delete them, or ignore them (sextant proj add-orphaned-ignore {project} GROUP KIND [--name NAME])",
        found.len(),
        names.join(", ")
    ))
}

/// An empty pattern matches anything (Argo CD's ignore entries leave
/// kind or name out for "all").
fn or_any(p: &str) -> &str {
    if p.is_empty() { "*" } else { p }
}
