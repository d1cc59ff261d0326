//! `sextant demo --clusters N`: more localkube clusters beside the demo's
//! own, laid out as a fleet is in Git (`clusters/<cluster>/apps/<app>/`),
//! registered through cluster Secrets made from their kubeconfigs (what
//! `sextant cluster add` writes), and an ApplicationSet that makes one app
//! per folder, deployed to the cluster its path names.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::{DynamicObject, Patch, PatchParams};
use serde_json::json;
use sextant_cluster::ClusterCredentials;

use super::apps::{self, NAMESPACE};
use super::repo::{self, Repo};

/// The fleet's ApplicationSet.
pub const SET_NAME: &str = "fleet";
/// The app every extra cluster runs (a copy of the demo's `payments`).
const SERVICE: &str = "payments";

/// The names of the clusters beyond the demo's own, as the field report
/// has them, then numbered.
pub fn names(clusters: u16) -> Vec<String> {
    const KNOWN: &[&str] = &["staging", "prod-eu", "prod-us", "prod-ap", "dev"];
    (1..usize::from(clusters))
        .map(|i| {
            KNOWN
                .get(i - 1)
                .map_or_else(|| format!("cluster-{}", i + 1), |n| (*n).to_owned())
        })
        .collect()
}

/// The extra clusters, running.
pub struct Fleet {
    pub clusters: Vec<(String, localkube::LocalKube)>,
}

/// Start one localkube (TLS, a bearer token, simulated workloads) per
/// name, each with its kubeconfig under `dir`.
pub async fn start(names: &[String], dir: &Path) -> anyhow::Result<Fleet> {
    let mut clusters = Vec::new();
    for name in names {
        let config = localkube::Config {
            listen: "127.0.0.1:0".parse().context("the loopback address")?,
            kubeconfig: Some(dir.join(format!("kubeconfig-{name}"))),
            tls: true,
            simulation: localkube::controllers::SimulationConfig {
                pod_start_delay: Duration::from_secs(1),
                pod_ready_delay: Duration::from_secs(1),
                ..Default::default()
            },
            ..Default::default()
        };
        let server = localkube::LocalKube::start(config)
            .await
            .with_context(|| format!("could not start localkube for cluster {name}"))?;
        clusters.push((name.clone(), server));
    }
    Ok(Fleet { clusters })
}

impl Fleet {
    /// Stop every cluster.
    pub async fn shutdown(self) {
        for (_, c) in self.clusters {
            c.shutdown().await;
        }
    }

    /// The apps the fleet's set makes.
    pub fn app_names(&self) -> Vec<String> {
        self.clusters
            .iter()
            .map(|(n, _)| format!("{n}-{SERVICE}"))
            .collect()
    }

    /// Add `clusters/<name>/apps/payments/` for each cluster to the
    /// repository (committed once; a repository kept from an earlier run
    /// that has them is left as it is).
    pub fn add_to_repo(&self, git: &Path, repo: &mut Repo) -> anyhow::Result<()> {
        let service: Vec<(&str, &str)> = repo::FILES
            .iter()
            .filter_map(|(p, text)| Some((p.strip_prefix("clusters/demo/apps/payments/")?, *text)))
            .collect();
        let mut added = false;
        for (name, _) in &self.clusters {
            let folder = repo.path.join(format!("clusters/{name}/apps/{SERVICE}"));
            if folder.exists() {
                continue;
            }
            std::fs::create_dir_all(&folder)
                .with_context(|| format!("could not create {}", folder.display()))?;
            for (file, text) in &service {
                std::fs::write(folder.join(file), text)
                    .with_context(|| format!("could not write {}/{file}", folder.display()))?;
            }
            added = true;
        }
        if added {
            repo::run_git(git, &repo.path, &["add", "--all", "clusters"])?;
            repo::run_git(
                git,
                &repo.path,
                &[
                    "commit",
                    "--quiet",
                    "--no-verify",
                    "-m",
                    "The fleet: one folder per cluster",
                ],
            )?;
            repo.head = repo::run_git(git, &repo.path, &["rev-parse", "HEAD"])?
                .trim()
                .to_owned();
        }
        Ok(())
    }

    /// Register each cluster (a cluster Secret in the controller's
    /// namespace) and apply the fleet's ApplicationSet.
    pub async fn install(&self, client: &kube::Client, repo: &Repo) -> anyhow::Result<()> {
        let apply = PatchParams::apply("sextant-demo").force();
        let secrets: Api<Secret> = Api::namespaced(client.clone(), NAMESPACE);
        for (name, server) in &self.clusters {
            let text = std::fs::read_to_string(server.kubeconfig_path())
                .with_context(|| format!("could not read the kubeconfig of cluster {name}"))?;
            let creds = ClusterCredentials::from_kubeconfig(&text, None, Some(name))
                .map_err(|e| anyhow::anyhow!("cluster {name}: {e}"))?;
            let secret = json!({
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": format!("cluster-{name}"), "namespace": NAMESPACE,
                             "labels": {"sextant.dev/secret-type": "cluster"}},
                "type": "Opaque",
                "stringData": creds.secret_data(),
            });
            secrets
                .patch(&format!("cluster-{name}"), &apply, &Patch::Apply(&secret))
                .await
                .with_context(|| format!("could not register cluster {name}"))?;
        }
        let mut template = apps::application(
            &apps::DemoApp {
                name: "{{path[1]}}-{{path.basename}}",
                path: "{{path}}",
                namespace: "{{path.basename}}",
                recurse: false,
                needs: apps::Needs::Nothing,
                deployment: "",
            },
            &repo.url,
            repo::BRANCH,
        );
        template.spec.destination.server = None;
        template.spec.destination.name = Some("{{path[1]}}".to_owned());
        let set = json!({
            "apiVersion": sextant_model::group::selected().api_version(),
            "kind": "ApplicationSet",
            "metadata": {"name": SET_NAME, "namespace": NAMESPACE},
            "spec": {
                "generators": [{"git": {
                    "repoURL": repo.url,
                    "revision": repo::BRANCH,
                    "directories": [
                        {"path": "clusters/*/apps/*"},
                        {"path": format!("{}/*", apps::SERVICES), "exclude": true},
                    ],
                }}],
                "template": {
                    "metadata": {"name": "{{path[1]}}-{{path.basename}}"},
                    "spec": template.spec,
                },
            },
        });
        let sets: Api<DynamicObject> = Api::namespaced_with(
            client.clone(),
            NAMESPACE,
            &kube::api::ApiResource::from_gvk_with_plural(
                &kube::core::GroupVersionKind::gvk(
                    sextant_model::group::selected().name(),
                    sextant_model::VERSION,
                    "ApplicationSet",
                ),
                "applicationsets",
            ),
        );
        sets.patch(SET_NAME, &apply, &Patch::Apply(&set))
            .await
            .context("could not install the fleet's ApplicationSet")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn clusters_are_named_as_a_fleet_is() {
        assert_eq!(super::names(1), Vec::<String>::new());
        assert_eq!(super::names(3), vec!["staging", "prod-eu"]);
        assert_eq!(
            super::names(7).last().map(String::as_str),
            Some("cluster-7")
        );
    }
}
