//! What the generators read from outside: Git through the controller's
//! cache (snapshots held until generation ends), and the clusters of
//! cluster Secrets plus the local one.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::ListParams;
use sextant_appset::{Cluster, Repos};
use sextant_model::appset::Generator;

use crate::controller::Shared;
use crate::repo_creds::{ARGOCD_SECRET_TYPE_LABEL, SECRET_TYPE_LABEL};
use crate::source::Checkout;

/// Git for one generation, from a blocking thread.
pub(crate) struct GitRepos {
    pub(crate) shared: Arc<Shared>,
    pub(crate) runtime: tokio::runtime::Handle,
    /// Ask Git for each revision now rather than trust a recent answer.
    pub(crate) fresh: bool,
    /// The snapshots read so far (kept from garbage collection) and the
    /// commits they are at, by (repository, revision).
    pub(crate) held: Mutex<Vec<(String, String, Checkout)>>,
}

impl Repos for GitRepos {
    fn checkout(&self, repo: &str, revision: &str) -> Result<PathBuf, String> {
        if let Ok(held) = self.held.lock()
            && let Some((_, _, c)) = held.iter().find(|(r, v, _)| r == repo && v == revision)
        {
            return Ok(c.dir.clone());
        }
        let checkout = self
            .runtime
            .block_on(self.shared.sources.checkout(repo, revision, self.fresh))
            .map_err(|e| e.to_string())?;
        let dir = checkout.dir.clone();
        if let Ok(mut held) = self.held.lock() {
            held.push((repo.to_owned(), revision.to_owned(), checkout));
        }
        Ok(dir)
    }
}

/// Whether any generator (nested ones included) is a clusters generator.
pub(crate) fn uses_clusters(generators: &[Generator]) -> bool {
    generators.iter().any(|g| {
        g.clusters.is_some()
            || g.matrix
                .as_ref()
                .or(g.merge.as_ref())
                .is_some_and(|c| uses_clusters(&c.generators))
    })
}

/// The local cluster and every cluster Secret of the namespace (labelled
/// `sextant.dev/secret-type=cluster` or Argo CD's label).
pub(crate) async fn clusters(shared: &Shared) -> Result<Vec<Cluster>, kube::Error> {
    let api: Api<Secret> = Api::namespaced(shared.client.clone(), &shared.config.namespace);
    let mut out = vec![Cluster::local()];
    let mut seen = std::collections::BTreeSet::new();
    for label in [SECRET_TYPE_LABEL, ARGOCD_SECRET_TYPE_LABEL] {
        let list = api
            .list(&ListParams::default().labels(&format!("{label}=cluster")))
            .await?;
        for s in list.items {
            let secret = s.metadata.name.clone().unwrap_or_default();
            if !seen.insert(secret.clone()) {
                continue;
            }
            let field = |k: &str| {
                s.data
                    .as_ref()
                    .and_then(|d| d.get(k))
                    .map(|b| String::from_utf8_lossy(&b.0).into_owned())
                    .or_else(|| s.string_data.as_ref().and_then(|d| d.get(k).cloned()))
                    .unwrap_or_default()
            };
            let server = field("server");
            if server.is_empty() {
                tracing::warn!(secret = %secret, "cluster Secret has no `server`; left out of clusters generators");
                continue;
            }
            let name = match field("name") {
                n if n.is_empty() => server.clone(),
                n => n,
            };
            out.push(Cluster {
                name,
                server,
                project: field("project"),
                labels: s.metadata.labels.clone().unwrap_or_default(),
                annotations: s.metadata.annotations.clone().unwrap_or_default(),
                local: false,
            });
        }
    }
    Ok(out)
}
