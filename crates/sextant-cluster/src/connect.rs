//! A kube-rs client from a kubeconfig file (and optionally one of its
//! contexts), checked by asking the API server for its version, so an
//! unreachable cluster is one clear error rather than one per object.
//!
//! [`connect`] reads the file it is given; [`connect_inferred`] finds the
//! kubeconfig the way kubectl does (an explicit file, else `KUBECONFIG`,
//! which may list several files to merge, else `~/.kube/config`), and
//! falls back to the in-cluster service account when there is none.

use std::path::{Path, PathBuf};

/// Why no working client could be had.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The kubeconfig could not be read or parsed.
    #[error("could not read kubeconfig `{path}`")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: kube::config::KubeconfigError,
    },
    /// The kubeconfig (or the chosen context) is not usable.
    #[error("could not use kubeconfig `{path}`")]
    Config {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: kube::config::KubeconfigError,
    },
    /// No kubeconfig was given or found, and this is not a pod.
    #[error(
        "no kubeconfig: pass --kubeconfig, set KUBECONFIG, or create {default} (and this does not run in a cluster)"
    )]
    NoKubeconfig {
        /// The default location that was looked at.
        default: String,
    },
    /// The in-cluster service account could not be used.
    #[error("could not use the in-cluster service account")]
    InCluster(#[source] kube::config::InClusterError),
    /// The client could not be built (TLS set-up).
    #[error("could not set up a Kubernetes client")]
    Client(#[source] kube::Error),
    /// The API server did not answer.
    #[error("could not reach the API server at {url}")]
    Unreachable {
        /// The server URL from the kubeconfig.
        url: String,
        /// Why.
        #[source]
        source: kube::Error,
    },
}

/// A client for the cluster `kubeconfig` (its current context, or
/// `context`) names, after checking that the API server answers.
pub async fn connect(
    kubeconfig: &Path,
    context: Option<&str>,
) -> Result<kube::Client, ConnectError> {
    let file =
        kube::config::Kubeconfig::read_from(kubeconfig).map_err(|source| ConnectError::Read {
            path: kubeconfig.to_owned(),
            source,
        })?;
    from_file(file, kubeconfig, context).await
}

/// A client from `kubeconfig` if given, else from the files `KUBECONFIG`
/// lists (merged, as kubectl does), else from `~/.kube/config`, else from
/// the in-cluster service account (only when no `context` is asked for);
/// checked like [`connect`].
pub async fn connect_inferred(
    kubeconfig: Option<&Path>,
    context: Option<&str>,
) -> Result<kube::Client, ConnectError> {
    if let Some(path) = kubeconfig {
        return connect(path, context).await;
    }
    if let Some(list) = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        let label = PathBuf::from(&list);
        let file = kube::config::Kubeconfig::from_env()
            .map_err(|source| ConnectError::Read {
                path: label.clone(),
                source,
            })?
            .unwrap_or_default();
        return from_file(file, &label, context).await;
    }
    let default = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|home| PathBuf::from(home).join(".kube").join("config"));
    if let Some(path) = default.as_deref().filter(|p| p.is_file()) {
        return connect(path, context).await;
    }
    if context.is_none() && std::env::var_os("KUBERNETES_SERVICE_HOST").is_some() {
        let config = kube::Config::incluster().map_err(ConnectError::InCluster)?;
        return checked(config).await;
    }
    Err(ConnectError::NoKubeconfig {
        default: default.map_or_else(|| "~/.kube/config".to_owned(), |p| p.display().to_string()),
    })
}

async fn from_file(
    file: kube::config::Kubeconfig,
    label: &Path,
    context: Option<&str>,
) -> Result<kube::Client, ConnectError> {
    let options = kube::config::KubeConfigOptions {
        context: context.map(str::to_owned),
        ..Default::default()
    };
    let config = kube::Config::from_custom_kubeconfig(file, &options)
        .await
        .map_err(|source| ConnectError::Config {
            path: label.to_owned(),
            source,
        })?;
    checked(config).await
}

async fn checked(config: kube::Config) -> Result<kube::Client, ConnectError> {
    let url = config.cluster_url.to_string();
    let client = crate::counted::client(config).map_err(ConnectError::Client)?;
    client
        .apiserver_version()
        .await
        .map_err(|source| ConnectError::Unreachable { url, source })?;
    Ok(client)
}
