//! `sextant cluster add|list|get|rm`: the clusters apps deploy to, kept as
//! Secrets labelled `sextant.dev/secret-type: cluster` in the controller's
//! namespace, in Argo CD's format (`name`, `server`, `config`), which the
//! controller reads and follows (`sextant_controller`'s clusters, through
//! `sextant_cluster::ClusterCredentials`). `add` copies a kubeconfig
//! context's server and credentials; nothing secret is ever printed.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;
use sextant_cluster::{ClusterCredentials, IN_CLUSTER_NAME, IN_CLUSTER_SERVER};
use sextant_controller::repo_creds::{ARGOCD_SECRET_TYPE_LABEL, SECRET_TYPE_LABEL};

use crate::app_cmd::client::words;
use crate::app_cmd::{ConnArgs, Format};

/// Options of `sextant cluster`.
#[derive(Debug, Args)]
pub struct ClusterArgs {
    /// Where the cluster running Sextant is, and its namespace.
    #[command(flatten, next_help_heading = "Connection (every cluster command)")]
    conn: ConnArgs,
    #[command(subcommand)]
    verb: Verb,
}

#[derive(Debug, Subcommand)]
enum Verb {
    /// Register the cluster of a kubeconfig context (its server and
    /// credentials: token, client certificate or exec plugin).
    Add(AddArgs),
    /// List the registered clusters.
    List {
        /// Print them as JSON or YAML (credentials left out).
        #[arg(short, long, value_enum)]
        output: Option<Format>,
    },
    /// Show a cluster (by name or server URL), credentials left out.
    Get {
        /// The cluster's name or server URL.
        cluster: String,
        /// Print it as JSON or YAML.
        #[arg(short, long, value_enum)]
        output: Option<Format>,
    },
    /// Forget a cluster (by name or server URL); its apps report it missing.
    Rm {
        /// The cluster's name or server URL.
        cluster: String,
    },
}

#[derive(Debug, Args)]
struct AddArgs {
    /// The kubeconfig context of the cluster to add.
    target_context: String,
    /// The kubeconfig holding that context (default: the one --kubeconfig,
    /// KUBECONFIG or ~/.kube/config names).
    #[arg(long, value_name = "FILE")]
    target_kubeconfig: Option<PathBuf>,
    /// The cluster's name for destination.name (default: the context's).
    #[arg(long)]
    name: Option<String>,
    /// The namespaces Sextant may deploy to there (comma-separated;
    /// default: all).
    #[arg(long, value_delimiter = ',')]
    namespaces: Vec<String>,
    /// The project the cluster belongs to.
    #[arg(long)]
    project: Option<String>,
    /// Replace the cluster's Secret if it exists.
    #[arg(long)]
    upsert: bool,
    /// Create a ServiceAccount `sextant-manager` (cluster-admin rights)
    /// in the target and save its token instead of the context's own
    /// credentials, which then stay on this machine.
    #[arg(long)]
    service_account: bool,
    /// Where --service-account creates its ServiceAccount.
    #[arg(long, default_value = "kube-system", value_name = "NAMESPACE")]
    system_namespace: String,
    /// How long --service-account waits for the cluster to issue the
    /// token (`30s`, `1m`).
    #[arg(long, default_value = "30s", value_name = "DURATION", value_parser = crate::app_cmd::duration::parse)]
    token_wait: std::time::Duration,
}

/// Run `sextant cluster`.
pub async fn run(args: ClusterArgs) -> anyhow::Result<ExitCode> {
    let client = sextant_cluster::connect_inferred(
        args.conn.kubeconfig.as_deref(),
        args.conn.context.as_deref(),
    )
    .await?;
    let ns = &args.conn.namespace();
    let secrets: Api<Secret> = Api::namespaced(client, ns);
    match args.verb {
        Verb::Add(add) => self::add(&secrets, ns, args.conn.kubeconfig.as_deref(), add).await,
        Verb::List { output } => list(&secrets, ns, output).await,
        Verb::Get { cluster, output } => get(&secrets, ns, &cluster, output).await,
        Verb::Rm { cluster } => remove(&secrets, ns, &cluster).await,
    }
}

/// The kubeconfig file to read the target context from.
fn kubeconfig_file(explicit: Option<&std::path::Path>) -> anyhow::Result<PathBuf> {
    if let Some(p) = explicit {
        return Ok(p.to_owned());
    }
    if let Some(list) = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty())
        && let Some(first) = std::env::split_paths(&list).find(|p| p.is_file())
    {
        return Ok(first);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    Ok(home.join(".kube").join("config"))
}

/// Every cluster Secret of the namespace with what it says.
async fn all(secrets: &Api<Secret>, ns: &str) -> anyhow::Result<Vec<(String, ClusterCredentials)>> {
    let list = secrets
        .list(&ListParams::default())
        .await
        .map_err(|e| anyhow::anyhow!(words(&e)))
        .with_context(|| format!("could not list the Secrets of namespace {ns}"))?;
    Ok(list
        .items
        .iter()
        .filter(|s| {
            s.metadata.labels.as_ref().is_some_and(|l| {
                [SECRET_TYPE_LABEL, ARGOCD_SECRET_TYPE_LABEL]
                    .iter()
                    .any(|k| l.get(*k).map(String::as_str) == Some("cluster"))
            })
        })
        .filter_map(|s| {
            let c = ClusterCredentials::from_secret(s).ok()?;
            Some((s.metadata.name.clone().unwrap_or_default(), c))
        })
        .collect())
}

/// `--service-account`: a ServiceAccount in the target with a long-lived
/// token (a `kubernetes.io/service-account-token` Secret, which the
/// cluster's token controller fills) and cluster-wide rights, as Argo CD's
/// `argocd-manager`. Everything is server-side applied: running it again
/// changes nothing.
mod service_account {
    use std::time::{Duration, Instant};

    use anyhow::Context;
    use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
    use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
    use kube::Api;
    use kube::api::{Patch, PatchParams};
    use serde_json::json;

    use crate::app_cmd::client::words;

    /// The ServiceAccount, its ClusterRole and binding, and token Secret.
    pub const NAME: &str = "sextant-manager";
    const MANAGER: &str = "sextant-cluster-add";

    /// Server-side apply `body` as `name` through `api`.
    async fn apply<K>(
        api: &Api<K>,
        name: &str,
        body: serde_json::Value,
        what: &str,
    ) -> anyhow::Result<()>
    where
        K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
    {
        api.patch(
            name,
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(body),
        )
        .await
        .map_err(|e| anyhow::anyhow!(words(&e)))
        .with_context(|| format!("could not create {what}"))?;
        Ok(())
    }

    /// Make the ServiceAccount and return its token.
    pub async fn token(client: &kube::Client, ns: &str, wait: Duration) -> anyhow::Result<String> {
        let sas: Api<ServiceAccount> = Api::namespaced(client.clone(), ns);
        let sa = json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": NAME, "namespace": ns}});
        apply(&sas, NAME, sa, &format!("ServiceAccount {ns}/{NAME}")).await?;
        let role = format!("{NAME}-role");
        let roles: Api<ClusterRole> = Api::all(client.clone());
        let body = json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": role},
            "rules": [
                {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                {"nonResourceURLs": ["*"], "verbs": ["*"]},
            ],
        });
        apply(&roles, &role, body, &format!("ClusterRole {role}")).await?;
        let bindings: Api<ClusterRoleBinding> = Api::all(client.clone());
        let binding = format!("{NAME}-role-binding");
        let body = json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": binding},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": [{"kind": "ServiceAccount", "name": NAME, "namespace": ns}],
        });
        apply(
            &bindings,
            &binding,
            body,
            &format!("ClusterRoleBinding {binding}"),
        )
        .await?;
        let secret_name = format!("{NAME}-token");
        let secrets: Api<Secret> = Api::namespaced(client.clone(), ns);
        let body = json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": secret_name, "namespace": ns,
                         "annotations": {"kubernetes.io/service-account.name": NAME}},
            "type": "kubernetes.io/service-account-token",
        });
        apply(
            &secrets,
            &secret_name,
            body,
            &format!("Secret {ns}/{secret_name}"),
        )
        .await?;
        let deadline = Instant::now() + wait;
        loop {
            let s = secrets
                .get(&secret_name)
                .await
                .map_err(|e| anyhow::anyhow!(words(&e)))
                .with_context(|| format!("could not read Secret {ns}/{secret_name}"))?;
            let token = s
                .data
                .as_ref()
                .and_then(|d| d.get("token"))
                .map(|t| String::from_utf8_lossy(&t.0).trim().to_owned())
                .filter(|t| !t.is_empty());
            if let Some(token) = token {
                return Ok(token);
            }
            if Instant::now() > deadline {
                anyhow::bail!(
                    "the cluster did not put a token into Secret {ns}/{secret_name} within {} (its token controller, part of kube-controller-manager with --service-account-private-key-file, fills it); add the cluster without --service-account to save the context's own credentials",
                    sextant_model::duration::show(wait)
                );
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

/// The Secret name for a cluster: `cluster-` and its name made safe.
fn secret_name(name: &str) -> String {
    let mut out: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    out = out.trim_matches('-').to_owned();
    out.truncate(200);
    format!("cluster-{out}")
}

async fn add(
    secrets: &Api<Secret>,
    ns: &str,
    own_kubeconfig: Option<&std::path::Path>,
    args: AddArgs,
) -> anyhow::Result<ExitCode> {
    let file = kubeconfig_file(args.target_kubeconfig.as_deref().or(own_kubeconfig))?;
    let text = std::fs::read_to_string(&file)
        .with_context(|| format!("could not read the kubeconfig {}", file.display()))?;
    let mut creds = ClusterCredentials::from_kubeconfig(
        &text,
        Some(&args.target_context),
        args.name.as_deref(),
    )
    .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    if creds.name == IN_CLUSTER_NAME || creds.server == IN_CLUSTER_SERVER {
        anyhow::bail!(
            "{} ({}) is the name of the cluster Sextant runs in; choose another with --name",
            creds.name,
            creds.server
        );
    }
    if creds.auth_kind() == "none" {
        eprintln!(
            "warning: context {} carries no credentials; the cluster must accept anonymous requests",
            args.target_context
        );
    }
    creds.namespaces = args.namespaces.clone();
    creds.project = args.project.clone();
    if args.service_account {
        let admin = creds
            .client(std::time::Duration::from_secs(5))
            .await
            .map_err(|e| anyhow::anyhow!(e))?;
        let token = service_account::token(&admin, &args.system_namespace, args.token_wait)
            .await
            .with_context(|| format!("cluster {} at {}", creds.name, creds.server))?;
        let tls = creds
            .config
            .tls_client_config
            .take()
            .map(|t| sextant_cluster::TlsClientConfig {
                cert_data: None,
                key_data: None,
                ..t
            });
        creds.config = sextant_cluster::ClusterConfig {
            bearer_token: Some(token),
            tls_client_config: tls,
            ..Default::default()
        };
    }
    // Check the cluster answers with these credentials before saving them.
    let client = creds
        .client(std::time::Duration::from_secs(5))
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
    let version = client
        .apiserver_version()
        .await
        .map_err(|e| anyhow::anyhow!(words(&e)))
        .with_context(|| format!("cluster {} at {} did not answer", creds.name, creds.server))?;
    let existing = all(secrets, ns)
        .await?
        .into_iter()
        .find(|(_, c)| c.server == creds.server || c.name == creds.name);
    let name = match &existing {
        Some((secret, c)) if !args.upsert => anyhow::bail!(
            "cluster {} ({}) is already registered in Secret {ns}/{secret}; add --upsert to replace it",
            c.name,
            c.server
        ),
        Some((secret, _)) => secret.clone(),
        None => secret_name(&creds.name),
    };
    let body = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": ns, "labels": {SECRET_TYPE_LABEL: "cluster"}},
        "type": "Opaque",
        "stringData": creds.secret_data(),
    });
    let result = if existing.is_some() {
        secrets
            .patch(&name, &PatchParams::default(), &Patch::Merge(&body))
            .await
            .map(|_| "updated")
    } else {
        let secret: Secret = serde_json::from_value(body).context("could not build the Secret")?;
        secrets
            .create(&PostParams::default(), &secret)
            .await
            .map(|_| "added")
    };
    let outcome = result
        .map_err(|e| anyhow::anyhow!(words(&e)))
        .with_context(|| format!("could not write Secret {ns}/{name}"))?;
    println!(
        "cluster {} ({}, Kubernetes {}.{}, {} credentials) {outcome} in Secret {ns}/{name}",
        creds.name,
        creds.server,
        version.major,
        version.minor,
        creds.auth_kind()
    );
    Ok(ExitCode::SUCCESS)
}

fn summary(secret: &str, c: &ClusterCredentials) -> serde_json::Value {
    json!({
        "name": c.name,
        "server": c.server,
        "auth": c.auth_kind(),
        "namespaces": c.namespaces,
        "project": c.project,
        "secret": secret,
    })
}

async fn list(secrets: &Api<Secret>, ns: &str, output: Option<Format>) -> anyhow::Result<ExitCode> {
    let mut rows = all(secrets, ns).await?;
    rows.sort_by(|a, b| a.1.name.cmp(&b.1.name));
    if let Some(format) = output {
        let mut out = vec![
            json!({"name": IN_CLUSTER_NAME, "server": IN_CLUSTER_SERVER, "auth": "in-cluster"}),
        ];
        out.extend(rows.iter().map(|(s, c)| summary(s, c)));
        crate::app_cmd::print(&out, format)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut t =
        crate::app_cmd::table::Table::new(&["NAME", "SERVER", "AUTH", "NAMESPACES", "SECRET"]);
    t.row(vec![
        IN_CLUSTER_NAME.into(),
        IN_CLUSTER_SERVER.into(),
        "in-cluster".into(),
        String::new(),
        String::new(),
    ]);
    for (secret, c) in &rows {
        t.row(vec![
            c.name.clone(),
            c.server.clone(),
            c.auth_kind().into(),
            c.namespaces.join(","),
            secret.clone(),
        ]);
    }
    print!("{}", t.render());
    Ok(ExitCode::SUCCESS)
}

async fn find(
    secrets: &Api<Secret>,
    ns: &str,
    which: &str,
) -> anyhow::Result<(String, ClusterCredentials)> {
    let which = which.trim_end_matches('/');
    all(secrets, ns)
        .await?
        .into_iter()
        .find(|(_, c)| c.name == which || c.server == which)
        .ok_or_else(|| {
            anyhow::anyhow!("no cluster named or at {which} in namespace {ns} (`sextant cluster list` shows them)")
        })
}

async fn get(
    secrets: &Api<Secret>,
    ns: &str,
    which: &str,
    output: Option<Format>,
) -> anyhow::Result<ExitCode> {
    let (secret, c) = find(secrets, ns, which).await?;
    if let Some(format) = output {
        crate::app_cmd::print(&summary(&secret, &c), format)?;
        return Ok(ExitCode::SUCCESS);
    }
    let rows = [
        ("Name", c.name.clone()),
        ("Server", c.server.clone()),
        ("Credentials", c.auth_kind().to_owned()),
        (
            "Namespaces",
            if c.namespaces.is_empty() {
                "all".into()
            } else {
                c.namespaces.join(",")
            },
        ),
        ("Project", c.project.clone().unwrap_or_default()),
        ("Secret", format!("{ns}/{secret}")),
    ];
    for (k, v) in rows {
        println!(
            "{:<13}{}",
            format!("{k}:"),
            if v.is_empty() { "-" } else { &v }
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn remove(secrets: &Api<Secret>, ns: &str, which: &str) -> anyhow::Result<ExitCode> {
    let (secret, c) = find(secrets, ns, which).await?;
    secrets
        .delete(&secret, &DeleteParams::default())
        .await
        .map_err(|e| anyhow::anyhow!(words(&e)))
        .with_context(|| format!("could not delete Secret {ns}/{secret}"))?;
    println!(
        "cluster {} ({}) removed (Secret {ns}/{secret})",
        c.name, c.server
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    #[test]
    fn secret_names_are_safe_kubernetes_names() {
        assert_eq!(super::secret_name("Prod_EU.1"), "cluster-prod-eu-1");
        assert_eq!(
            super::secret_name("arn:aws:eks:x/y"),
            "cluster-arn-aws-eks-x-y"
        );
    }
}
