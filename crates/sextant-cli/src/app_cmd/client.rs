//! The Applications of one namespace, through the typed
//! `Api<Application>` (and an untyped twin for printing objects as the
//! server has them), with errors in words: a missing app, missing CRDs and
//! conflicting writes each say what to do.

use anyhow::Context;
use kube::api::{ApiResource, DynamicObject, Patch, PatchParams};
use kube::{Api, Client};
use serde_json::Value;
use sextant_model::Application;

use super::ConnArgs;

/// How to install the CRDs, said whenever they are missing.
pub fn install_crds() -> &'static str {
    match sextant_model::group::selected() {
        sextant_model::ApiGroup::Sextant => "install them with `sextant crds | kubectl apply -f -`",
        sextant_model::ApiGroup::ArgoCd => {
            "install them with `sextant crds --api-group argoproj.io | kubectl apply -f -` (or keep Argo CD's)"
        }
    }
}

/// A connection to the Applications of one namespace.
pub struct Apps {
    /// The client.
    pub client: Client,
    /// Typed access.
    pub api: Api<Application>,
    /// The namespace.
    pub namespace: String,
}

impl Apps {
    /// Connect as `conn` says.
    pub async fn connect(conn: &ConnArgs) -> anyhow::Result<Self> {
        let client =
            sextant_cluster::connect_inferred(conn.kubeconfig.as_deref(), conn.context.as_deref())
                .await?;
        Ok(Self {
            api: Api::namespaced(client.clone(), &conn.namespace()),
            client,
            namespace: conn.namespace(),
        })
    }

    /// Untyped access, for printing objects with every field the server
    /// has (the typed model drops fields it does not know).
    pub fn raw(&self) -> Api<DynamicObject> {
        let resource = ApiResource::erase::<Application>(&());
        Api::namespaced_with(self.client.clone(), &self.namespace, &resource)
    }

    /// The app, or an error that says it does not exist (or that the CRDs
    /// are not installed).
    pub async fn get(&self, name: &str) -> anyhow::Result<Application> {
        match self.get_opt(name).await? {
            Some(app) => Ok(app),
            None => Err(self.missing(name).await),
        }
    }

    /// The app if it exists.
    pub async fn get_opt(&self, name: &str) -> anyhow::Result<Option<Application>> {
        match self.api.get_opt(name).await {
            Ok(app) => Ok(app),
            Err(e) => Err(self.failed(e, name, "read").await),
        }
    }

    /// Apply a JSON merge patch to the app (its main resource, not status).
    /// A `metadata.resourceVersion` in the patch makes it conditional.
    pub async fn merge_patch(&self, name: &str, patch: &Value) -> anyhow::Result<Application> {
        match self
            .api
            .patch(name, &PatchParams::default(), &Patch::Merge(patch))
            .await
        {
            Ok(app) => Ok(app),
            Err(e) => Err(self.failed(e, name, "update").await),
        }
    }

    /// The error for a request on `name` that failed: a 404 is a missing
    /// app or missing CRDs, a 409 a concurrent change, anything else the
    /// server's words.
    pub async fn failed(&self, e: kube::Error, name: &str, verb: &str) -> anyhow::Error {
        match &e {
            kube::Error::Api(status) if status.code == 404 => self.missing(name).await,
            kube::Error::Api(status) if status.code == 409 => anyhow::Error::new(Conflict {
                name: name.to_owned(),
                message: status.message.clone(),
            }),
            _ => anyhow::anyhow!(words(&e)).context(format!(
                "could not {verb} application {name} in namespace {}",
                self.namespace
            )),
        }
    }

    /// Why `name` was not found: no CRDs, or no such app.
    pub async fn missing(&self, name: &str) -> anyhow::Error {
        match crds_installed(&self.client).await {
            Ok(false) => anyhow::anyhow!(
                "the cluster does not serve Applications ({}): the CRDs are not installed; {}",
                sextant_model::group::selected().api_version(),
                install_crds()
            ),
            _ => anyhow::anyhow!(
                "application {name} not found in namespace {}",
                self.namespace
            ),
        }
    }
}

/// A write that lost a race: the app changed between our read and our
/// conditional write (the controller writes status and annotations all the
/// time, and each write moves the resourceVersion).
#[derive(Debug)]
pub struct Conflict {
    name: String,
    message: String,
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "application {} kept changing while it was being written ({}); run the command again",
            self.name, self.message
        )
    }
}

impl std::error::Error for Conflict {}

/// How many times a read-check-write is tried before a conflict is given
/// to the user.
const CONFLICT_ATTEMPTS: u32 = 8;

/// Run `attempt` (read the app, check it, write conditionally on what was
/// read) again while it fails with a [`Conflict`], with a short growing
/// pause. Each attempt re-reads, so the checks see the current app: a
/// conflict never overwrites a change we did not look at.
pub async fn retry_on_conflict<T>(
    mut attempt: impl AsyncFnMut() -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let mut tries = 1;
    loop {
        match attempt().await {
            Err(e) if e.is::<Conflict>() && tries < CONFLICT_ATTEMPTS => {
                tokio::time::sleep(std::time::Duration::from_millis(25 * u64::from(tries))).await;
                tries += 1;
            }
            outcome => return outcome,
        }
    }
}

/// Whether the cluster serves `applications` in `sextant.dev/v1alpha1`.
pub async fn crds_installed(client: &Client) -> anyhow::Result<bool> {
    match client
        .list_api_group_resources(sextant_model::group::selected().api_version())
        .await
    {
        Ok(list) => Ok(list.resources.iter().any(|r| r.name == "applications")),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(false),
        Err(e) => Err(anyhow::anyhow!(words(&e)))
            .context("could not ask the API server which resources it serves"),
    }
}

pub use sextant_cluster::words;

/// The credentials saved for `repo` in the cluster (as the controller
/// reads them, see `sextant repo`), when the user may read the namespace's
/// Secrets; without them the flags (or none) are used.
pub async fn saved_credentials(apps: &Apps, repo: &str) -> Option<sextant_source::Credentials> {
    saved_repositories(apps)
        .await?
        .lookup(repo)
        .map(|f| f.credentials)
}

/// The repository Secrets of the namespace, read as the controller reads
/// them (none when they cannot be listed).
pub async fn saved_repositories(
    apps: &Apps,
) -> Option<sextant_controller::repo_creds::RepoCredentials> {
    let secrets: Api<k8s_openapi::api::core::v1::Secret> =
        Api::namespaced(apps.client.clone(), &apps.namespace);
    let list = match secrets.list(&kube::api::ListParams::default()).await {
        Ok(list) => list,
        Err(e) => {
            tracing::debug!("not using saved repository credentials: {e}");
            return None;
        }
    };
    let saved = sextant_controller::repo_creds::RepoCredentials::new(&apps.namespace);
    for s in &list.items {
        saved.upsert(s);
    }
    // The SSH known hosts and TLS certificates, from their ConfigMaps.
    let configmaps: Api<k8s_openapi::api::core::v1::ConfigMap> =
        Api::namespaced(apps.client.clone(), &apps.namespace);
    let mut found = std::collections::BTreeMap::new();
    for name in sextant_controller::repo_creds::REPO_CONFIG_MAPS {
        if let Ok(Some(cm)) = configmaps.get_opt(name).await {
            found.insert(name, cm.data.unwrap_or_default());
        }
    }
    saved.set_config_maps(|n| found.get(n));
    Some(saved)
}
