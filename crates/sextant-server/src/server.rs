//! Starting the server: bootstrap the settings it needs (the signing key,
//! the first admin password), start the watches, build the routes, listen.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use base64::Engine;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::{ApiResource, DynamicObject, Patch, PatchParams, PostParams};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

use crate::auth::accounts::{
    SECRET_KEY_FIELD, generate_password, hash_password, initial_admin_secret, settings_secret,
};
use crate::auth::ratelimit::{Limits, LoginLimiter};
use crate::config::ServerConfig;
use crate::rbac::Policy;
use crate::state::{AppState, Shared};
use crate::watch::apps::AppStore;
use crate::watch::objects::ObjectStore;
use crate::watch::settings::Settings;
use crate::watch::tree::{CHILD_KINDS, TreeCache};
use crate::watch::{self, Change};

/// Why the server did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The address could not be bound.
    #[error("could not listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// TLS could not be set up.
    #[error("could not set up TLS")]
    Tls(#[from] crate::listen::TlsError),
    /// The settings Secret could not be read or written.
    #[error("could not prepare Secret {namespace}/{name}: {message}")]
    Settings {
        /// Namespace.
        namespace: String,
        /// Name.
        name: String,
        /// What the API server said.
        message: String,
    },
    /// The renderer (Git cache) could not be set up.
    #[error("could not set up the render cache")]
    Renderer(#[from] sextant_render::ServiceError),
}

/// A running server.
pub struct Server {
    addr: SocketAddr,
    url: String,
    state: Shared,
    initial_password: Option<String>,
    certificate_pem: Option<String>,
    stop: tokio::sync::watch::Sender<bool>,
    task: JoinHandle<()>,
    background: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("url", &self.url).finish()
    }
}

fn settings_error(ns: &str, name: &str, e: &kube::Error) -> StartError {
    StartError::Settings {
        namespace: ns.to_owned(),
        name: name.to_owned(),
        message: sextant_cluster::words(e),
    }
}

/// Make sure the settings Secret has a signing key and the admin a
/// password; returns the admin password when this call generated it.
/// Safe when several servers start at once: every write is a create or a
/// patch conditional on what was read, and a loser reads again.
async fn bootstrap(client: &kube::Client, ns: &str) -> Result<Option<String>, StartError> {
    let secrets: Api<Secret> = Api::namespaced(client.clone(), ns);
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    for _ in 0..5 {
        let current = secrets
            .get_opt(settings_secret())
            .await
            .map_err(|e| settings_error(ns, settings_secret(), &e))?;
        let data: BTreeMap<String, Vec<u8>> = current
            .as_ref()
            .and_then(|s| s.data.clone())
            .map(|d| d.into_iter().map(|(k, v)| (k, v.0)).collect())
            .unwrap_or_default();
        let mut add = serde_json::Map::new();
        if data.get(SECRET_KEY_FIELD).is_none_or(|k| k.len() < 32) {
            add.insert(
                SECRET_KEY_FIELD.into(),
                json!(b64(&generate_password().repeat(2))),
            );
        }
        let mut generated = None;
        if !data.contains_key("admin.password") {
            let password = generate_password();
            let hash = hash_password(&password).map_err(|message| StartError::Settings {
                namespace: ns.to_owned(),
                name: settings_secret().to_owned(),
                message,
            })?;
            add.insert("admin.password".into(), json!(b64(&hash)));
            add.insert(
                "admin.passwordMtime".into(),
                json!(b64(&chrono::Utc::now().to_rfc3339())),
            );
            generated = Some(password);
        }
        if add.is_empty() {
            return Ok(None);
        }
        let written = match &current {
            None => {
                let secret: Secret = serde_json::from_value(json!({
                    "apiVersion": "v1", "kind": "Secret",
                    "metadata": {"name": settings_secret(), "namespace": ns,
                                 "labels": {"app.kubernetes.io/part-of": "sextant"}},
                    "type": "Opaque",
                    "data": add,
                }))
                .map_err(|e| StartError::Settings {
                    namespace: ns.to_owned(),
                    name: settings_secret().to_owned(),
                    message: e.to_string(),
                })?;
                secrets
                    .create(&PostParams::default(), &secret)
                    .await
                    .map(|_| ())
            }
            Some(s) => {
                let patch = json!({
                    "metadata": {"resourceVersion": s.metadata.resource_version},
                    "data": add,
                });
                secrets
                    .patch(
                        settings_secret(),
                        &PatchParams::default(),
                        &Patch::Merge(&patch),
                    )
                    .await
                    .map(|_| ())
            }
        };
        match written {
            Ok(()) => {
                if let Some(password) = &generated {
                    write_initial_password(&secrets, ns, password).await?;
                }
                return Ok(generated);
            }
            Err(kube::Error::Api(s)) if s.code == 409 => continue,
            Err(e) => return Err(settings_error(ns, settings_secret(), &e)),
        }
    }
    Err(StartError::Settings {
        namespace: ns.to_owned(),
        name: settings_secret().to_owned(),
        message:
            "it kept changing while the server wrote it (another server starting?); start again"
                .into(),
    })
}

/// Keep the generated admin password where an admin can read it once
/// (`kubectl get secret sextant-initial-admin-secret`), as Argo CD does.
async fn write_initial_password(
    secrets: &Api<Secret>,
    ns: &str,
    password: &str,
) -> Result<(), StartError> {
    let secret: Secret = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": initial_admin_secret(), "namespace": ns,
                     "labels": {"app.kubernetes.io/part-of": "sextant"}},
        "type": "Opaque",
        "stringData": {"password": password},
    }))
    .map_err(|e| StartError::Settings {
        namespace: ns.to_owned(),
        name: initial_admin_secret().to_owned(),
        message: e.to_string(),
    })?;
    let params = PatchParams::apply("sextant-server").force();
    secrets
        .patch(initial_admin_secret(), &params, &Patch::Apply(&secret))
        .await
        .map(|_| ())
        .map_err(|e| settings_error(ns, initial_admin_secret(), &e))
}

fn namespaced(
    client: &kube::Client,
    ns: &str,
    group: &str,
    version: &str,
    kind: &str,
    plural: &str,
) -> Api<DynamicObject> {
    let gvk = kube::core::GroupVersionKind::gvk(group, version, kind);
    let ar = ApiResource::from_gvk_with_plural(&gvk, plural);
    Api::namespaced_with(client.clone(), ns, &ar)
}

impl Server {
    /// Start serving with `client`'s cluster.
    pub async fn start(client: kube::Client, config: ServerConfig) -> Result<Server, StartError> {
        let ns = config.namespace.clone();
        let initial_password = bootstrap(&client, &ns).await?;

        let apps = Arc::new(AppStore::new());
        let settings = Arc::new(Settings::new(&ns));
        let projects = Arc::new(ObjectStore::default());
        let appsets = Arc::new(ObjectStore::default());
        let kinds = Arc::new(sextant_cluster::Kinds::new(client.clone()));
        // The settings ConfigMap's health checks and tracking, as the
        // controller reads them (at start; a change needs a restart here).
        let cm = sextant_controller::settings::read_once(&client, &ns).await;
        let tree = Arc::new(TreeCache::new(
            kinds,
            cm.health.clone(),
            cm.tracking.clone(),
        ));
        let mut background = Vec::new();
        let mut readiness = Vec::new();
        let cfg = kube::runtime::watcher::Config::default;

        let group = sextant_model::group::selected().name();
        let version = sextant_model::VERSION;
        let (t, r) = watch::spawn_with(
            namespaced(&client, &ns, group, version, "Application", "applications"),
            cfg(),
            "Applications".into(),
            crate::watch::apps::parse,
            {
                let apps = apps.clone();
                move |c| apps.apply(c)
            },
        );
        background.push(t);
        readiness.push(r);
        let (t, r) = watch::spawn(
            namespaced(&client, &ns, "", "v1", "ConfigMap", "configmaps"),
            cfg(),
            "ConfigMaps".into(),
            {
                let s = settings.clone();
                move |c| s.apply_configmaps(c)
            },
        );
        background.push(t);
        readiness.push(r);
        let (t, r) = watch::spawn(
            namespaced(&client, &ns, "", "v1", "Secret", "secrets"),
            cfg(),
            "Secrets".into(),
            {
                let s = settings.clone();
                move |c| s.apply_secrets(c)
            },
        );
        background.push(t);
        readiness.push(r);
        for (kind, plural, store) in [
            ("AppProject", "appprojects", projects.clone()),
            ("ApplicationSet", "applicationsets", appsets.clone()),
        ] {
            let (t, r) = watch::spawn(
                namespaced(&client, &ns, group, version, kind, plural),
                cfg(),
                format!("{kind}s"),
                move |c: Change| store.apply(c),
            );
            background.push(t);
            readiness.push(r);
        }
        background.push(tokio::spawn(build_policies(settings.clone())));
        // Ready only once the trees of the apps listed are filled: a
        // client asking right after /readyz must not see an empty tree.
        let (trees_ready, r) = tokio::sync::watch::channel(None);
        background.push(tokio::spawn(follow_kinds(
            apps.clone(),
            tree.clone(),
            readiness[0].clone(),
            trees_ready,
        )));
        readiness.push(r);

        let renderer = sextant_render::Renderer::new(sextant_render::RendererConfig {
            cache_dir: config.cache_dir.clone(),
            tools: config.tools.clone(),
            ..Default::default()
        })?;

        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| StartError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: config.listen,
            source,
        })?;
        let hosts = vec!["localhost".to_owned(), addr.ip().to_string()];
        let tls = crate::listen::tls_config(&config.tls, &hosts)?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let url = format!("{scheme}://{addr}{}", config.prefix());
        let (tls, certificate_pem) = match tls {
            Some(t) => (Some(t.config), t.generated_pem),
            None => (None, None),
        };

        let state: Shared = Arc::new(AppState {
            config,
            client,
            apps,
            settings,
            projects,
            appsets,
            tree,
            renderer: Arc::new(renderer),
            limiter: LoginLimiter::new(Limits::default()),
            revoked: Default::default(),
            hashing: Semaphore::new(2),
            readiness,
        });
        let router = crate::api::router(state.clone());
        let (stop, stop_rx) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(crate::listen::serve(listener, router, tls, stop_rx));
        Ok(Server {
            addr,
            url,
            state,
            initial_password,
            certificate_pem,
            stop,
            task,
            background,
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its base URL (scheme, address, prefix).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The admin password this start generated (first start only).
    pub fn initial_admin_password(&self) -> Option<&str> {
        self.initial_password.as_deref()
    }

    /// The generated certificate (PEM), with `TlsMode::SelfSigned`.
    pub fn certificate_pem(&self) -> Option<&str> {
        self.certificate_pem.as_deref()
    }

    /// Wait until every watch has listed once and the policy is built.
    pub async fn ready(&self) {
        for r in &self.state.readiness {
            let _ = watch::listed(r.clone()).await;
        }
        while !self.state.ready() {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// How many apps and tree objects are in memory.
    pub fn cache_size(&self) -> (usize, usize) {
        (self.state.apps.len(), self.state.tree.size().1)
    }

    /// Stop listening and stop the watches.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
        for t in self.background {
            t.abort();
        }
    }
}

/// Rebuild the RBAC policy whenever the RBAC ConfigMap changes (and once
/// at start); a policy that does not load keeps the previous one.
async fn build_policies(settings: Arc<Settings>) {
    loop {
        if let Some(source) = settings.policy_source_if_changed() {
            match Policy::from_configmap(&source).await {
                Ok(policy) => {
                    for p in &policy.problems {
                        tracing::warn!(problem = %p, "RBAC policy");
                    }
                    settings.set_policy(policy, source);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "RBAC policy does not load; keeping the previous one");
                    if settings.policy().is_none()
                        && let Ok(p) = Policy::new("", None).await
                    {
                        settings.set_policy(p, BTreeMap::new());
                    }
                }
            }
        }
        settings.policy_changed.notified().await;
    }
}

/// Watch, for resource trees, every kind the apps report in their status.
async fn follow_kinds(
    apps: Arc<AppStore>,
    tree: Arc<TreeCache>,
    apps_listed: watch::Readiness,
    trees_ready: tokio::sync::watch::Sender<Option<Result<(), String>>>,
) {
    for (api_version, kind) in CHILD_KINDS {
        tree.ensure(api_version, kind).await;
    }
    let (_, mut rx) = apps.follow(None);
    if let Err(e) = watch::listed(apps_listed).await {
        let _ = trees_ready.send(Some(Err(e)));
        return;
    }
    let mut seen = std::collections::HashSet::new();
    let check = async |app: &sextant_model::Application,
                       seen: &mut std::collections::HashSet<(String, String)>| {
        for r in app
            .status
            .as_ref()
            .and_then(|s| s.resources.as_ref())
            .into_iter()
            .flatten()
        {
            let api_version = if r.group.is_empty() {
                r.version.clone()
            } else {
                format!("{}/{}", r.group, r.version)
            };
            if seen.insert((api_version.clone(), r.kind.clone())) {
                tree.ensure(&api_version, &r.kind).await;
            }
        }
    };
    let (all, _) = apps.snapshot();
    for app in all {
        check(&app, &mut seen).await;
    }
    tree.settled().await;
    let _ = trees_ready.send(Some(Ok(())));
    loop {
        match rx.recv().await {
            // The change carries a summary; the kinds are in the app.
            Ok(change) => {
                if let Some(app) = apps.get(&change.name) {
                    check(&app, &mut seen).await;
                }
            }
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                let (all, _) = apps.snapshot();
                for app in all {
                    check(&app, &mut seen).await;
                }
            }
            Err(_) => return,
        }
    }
}
