//! A kube-rs client from a kubeconfig file (and optionally one of its
//! contexts), checked by asking the API server for its version, so an
//! unreachable cluster is one clear error rather than one per object.

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
    let options = kube::config::KubeConfigOptions {
        context: context.map(str::to_owned),
        ..Default::default()
    };
    let config = kube::Config::from_custom_kubeconfig(file, &options)
        .await
        .map_err(|source| ConnectError::Config {
            path: kubeconfig.to_owned(),
            source,
        })?;
    let url = config.cluster_url.to_string();
    let client = kube::Client::try_from(config).map_err(ConnectError::Client)?;
    client
        .apiserver_version()
        .await
        .map_err(|source| ConnectError::Unreachable { url, source })?;
    Ok(client)
}
