//! Clusters other than the one Sextant runs in, kept as Argo CD keeps
//! them: a Secret labelled `sextant.dev/secret-type: cluster` (or
//! `argocd.argoproj.io/secret-type: cluster`) with the keys `name`,
//! `server`, `config` (JSON: a bearer token, basic auth, TLS client
//! settings, or an exec plugin as kubeconfig has it) and optionally
//! `namespaces` and `project`. [`ClusterCredentials`] reads such a Secret,
//! writes one from a kubeconfig context (`sextant cluster add`), and
//! builds a client from it. Credentials never appear in errors or `Debug`.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine;
use k8s_openapi::api::core::v1::Secret;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The label value that marks a cluster Secret.
pub const CLUSTER_SECRET_TYPE: &str = "cluster";
/// The local cluster's URL, as Applications name it.
pub const IN_CLUSTER_SERVER: &str = "https://kubernetes.default.svc";
/// The local cluster's name.
pub const IN_CLUSTER_NAME: &str = "in-cluster";

/// TLS settings of a cluster (`config.tlsClientConfig`).
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TlsClientConfig {
    /// Skip verifying the server's certificate.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insecure: bool,
    /// The CA bundle (base64 of PEM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_data: Option<String>,
    /// A client certificate (base64 of PEM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_data: Option<String>,
    /// Its key (base64 of PEM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_data: Option<String>,
    /// The name to check the server's certificate against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
}

/// A credential plugin (`config.execProviderConfig`), as kubeconfig's
/// `exec`.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecProviderConfig {
    /// The program.
    pub command: String,
    /// Its arguments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// Extra environment.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// `client.authentication.k8s.io/v1beta1` or `v1`.
    #[serde(default)]
    pub api_version: String,
    /// What to tell the user when the program is missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub install_hint: Option<String>,
}

/// How to authenticate to a cluster (the Secret's `config`).
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterConfig {
    /// A bearer token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_token: Option<String>,
    /// Basic auth user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Basic auth password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// TLS settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_client_config: Option<TlsClientConfig>,
    /// A credential plugin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec_provider_config: Option<ExecProviderConfig>,
}

/// A cluster Sextant deploys to.
#[derive(Clone, PartialEq)]
pub struct ClusterCredentials {
    /// Its name (`destination.name`).
    pub name: String,
    /// Its API server URL (`destination.server`).
    pub server: String,
    /// How to authenticate.
    pub config: ClusterConfig,
    /// The namespaces Sextant may use there (empty: all).
    pub namespaces: Vec<String>,
    /// The project the cluster is scoped to, if any.
    pub project: Option<String>,
}

impl std::fmt::Debug for ClusterCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterCredentials")
            .field("name", &self.name)
            .field("server", &self.server)
            .field("auth", &self.auth_kind())
            .finish_non_exhaustive()
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

impl ClusterCredentials {
    /// How it authenticates, in a word (never the secret itself).
    pub fn auth_kind(&self) -> &'static str {
        let c = &self.config;
        if c.exec_provider_config.is_some() {
            "exec"
        } else if c.bearer_token.is_some() {
            "token"
        } else if c
            .tls_client_config
            .as_ref()
            .is_some_and(|t| t.cert_data.is_some())
        {
            "client-certificate"
        } else if c.username.is_some() {
            "basic"
        } else {
            "none"
        }
    }

    /// Read a cluster Secret (data or stringData).
    pub fn from_secret(secret: &Secret) -> Result<Self, String> {
        let id = secret.metadata.name.as_deref().unwrap_or_default();
        let mut values: BTreeMap<String, String> = secret
            .data
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), String::from_utf8_lossy(&v.0).into_owned()))
            .collect();
        for (k, v) in secret.string_data.iter().flatten() {
            values.insert(k.clone(), v.clone());
        }
        let server = values
            .get("server")
            .map(|s| s.trim().trim_end_matches('/').to_owned())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                format!("cluster Secret {id} has no `server` key: add the API server URL")
            })?;
        let config: ClusterConfig = match values.get("config").map(|c| c.trim()) {
            None | Some("") => ClusterConfig::default(),
            Some(text) => serde_json::from_str(text).map_err(|e| {
                format!("cluster Secret {id}: `config` is not the JSON Argo CD documents (bearerToken, tlsClientConfig, execProviderConfig): {e}")
            })?,
        };
        let name = values
            .get("name")
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| server.clone());
        let namespaces = values
            .get("namespaces")
            .map(|n| {
                n.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        Ok(Self {
            name,
            server,
            config,
            namespaces,
            project: values.get("project").cloned().filter(|p| !p.is_empty()),
        })
    }

    /// The Secret's `stringData` for these credentials.
    pub fn secret_data(&self) -> BTreeMap<String, String> {
        let mut data = BTreeMap::new();
        data.insert("name".to_owned(), self.name.clone());
        data.insert("server".to_owned(), self.server.clone());
        data.insert(
            "config".to_owned(),
            serde_json::to_string(&self.config).unwrap_or_else(|_| "{}".into()),
        );
        if !self.namespaces.is_empty() {
            data.insert("namespaces".to_owned(), self.namespaces.join(","));
        }
        if let Some(p) = &self.project {
            data.insert("project".to_owned(), p.clone());
        }
        data
    }

    /// The credentials of `context` (its current one when `None`) of a
    /// kubeconfig file's text; files it names are read and inlined.
    pub fn from_kubeconfig(
        text: &str,
        context: Option<&str>,
        name: Option<&str>,
    ) -> Result<Self, String> {
        let kc: Value = serde_yaml_ng::from_str(text)
            .map_err(|e| format!("the kubeconfig is not YAML: {e}"))?;
        let context = match context {
            Some(c) => c.to_owned(),
            None => kc["current-context"]
                .as_str()
                .filter(|c| !c.is_empty())
                .ok_or("the kubeconfig has no current context: name one")?
                .to_owned(),
        };
        let find = |list: &str, wanted: &str| -> Option<Value> {
            kc[list]
                .as_array()?
                .iter()
                .find(|e| e["name"].as_str() == Some(wanted))
                .cloned()
        };
        let ctx = find("contexts", &context).ok_or_else(|| {
            format!(
                "the kubeconfig has no context {context} (`kubectl config get-contexts` lists them)"
            )
        })?;
        let cluster_name = ctx["context"]["cluster"].as_str().unwrap_or_default();
        let user_name = ctx["context"]["user"].as_str().unwrap_or_default();
        let cluster = find("clusters", cluster_name)
            .map(|c| c["cluster"].clone())
            .ok_or_else(|| {
                format!(
                    "context {context} names cluster {cluster_name}, which the kubeconfig lacks"
                )
            })?;
        let user = find("users", user_name)
            .map(|u| u["user"].clone())
            .unwrap_or(Value::Null);
        let server = cluster["server"]
            .as_str()
            .ok_or_else(|| format!("cluster {cluster_name} has no server URL"))?
            .trim_end_matches('/')
            .to_owned();
        let data_or_file = |v: &Value, data: &str, file: &str| -> Result<Option<String>, String> {
            if let Some(d) = v[data].as_str() {
                return Ok(Some(d.to_owned()));
            }
            match v[file].as_str() {
                Some(path) => std::fs::read(path)
                    .map(|b| Some(b64(&b)))
                    .map_err(|e| format!("could not read {path} (named by the kubeconfig): {e}")),
                None => Ok(None),
            }
        };
        let tls = TlsClientConfig {
            insecure: cluster["insecure-skip-tls-verify"]
                .as_bool()
                .unwrap_or(false),
            ca_data: data_or_file(
                &cluster,
                "certificate-authority-data",
                "certificate-authority",
            )?,
            cert_data: data_or_file(&user, "client-certificate-data", "client-certificate")?,
            key_data: data_or_file(&user, "client-key-data", "client-key")?,
            server_name: cluster["tls-server-name"].as_str().map(str::to_owned),
        };
        let token = match (user["token"].as_str(), user["tokenFile"].as_str()) {
            (Some(t), _) => Some(t.to_owned()),
            (None, Some(path)) => Some(
                std::fs::read_to_string(path)
                    .map_err(|e| format!("could not read the token file {path}: {e}"))?
                    .trim()
                    .to_owned(),
            ),
            _ => None,
        };
        let exec = user
            .get("exec")
            .filter(|e| !e.is_null())
            .map(|e| ExecProviderConfig {
                command: e["command"].as_str().unwrap_or_default().to_owned(),
                args: e["args"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|s| s.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
                env: e["env"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|kv| {
                                Some((
                                    kv["name"].as_str()?.to_owned(),
                                    kv["value"].as_str()?.to_owned(),
                                ))
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                api_version: e["apiVersion"].as_str().unwrap_or_default().to_owned(),
                install_hint: e["installHint"].as_str().map(str::to_owned),
            });
        let has_tls = tls != TlsClientConfig::default();
        Ok(Self {
            name: name.unwrap_or(&context).to_owned(),
            server,
            config: ClusterConfig {
                bearer_token: token,
                username: user["username"].as_str().map(str::to_owned),
                password: user["password"].as_str().map(str::to_owned),
                tls_client_config: has_tls.then_some(tls),
                exec_provider_config: exec,
            },
            namespaces: Vec::new(),
            project: None,
        })
    }

    /// A kubeconfig holding these credentials (what kube-rs reads).
    fn kubeconfig(&self) -> Value {
        let c = &self.config;
        let tls = c.tls_client_config.clone().unwrap_or_default();
        let mut cluster = json!({"server": self.server});
        if tls.insecure {
            cluster["insecure-skip-tls-verify"] = json!(true);
        }
        if let Some(ca) = &tls.ca_data {
            cluster["certificate-authority-data"] = json!(ca);
        }
        if let Some(n) = &tls.server_name {
            cluster["tls-server-name"] = json!(n);
        }
        let mut user = json!({});
        if let Some(t) = &c.bearer_token {
            user["token"] = json!(t);
        }
        if let (Some(u), Some(p)) = (&c.username, &c.password) {
            user["username"] = json!(u);
            user["password"] = json!(p);
        }
        if let Some(cert) = &tls.cert_data {
            user["client-certificate-data"] = json!(cert);
        }
        if let Some(key) = &tls.key_data {
            user["client-key-data"] = json!(key);
        }
        if let Some(e) = &c.exec_provider_config {
            user["exec"] = json!({
                "command": e.command,
                "args": e.args,
                "env": e.env.iter().map(|(k, v)| json!({"name": k, "value": v})).collect::<Vec<_>>(),
                "apiVersion": if e.api_version.is_empty() { "client.authentication.k8s.io/v1beta1" } else { &e.api_version },
                "installHint": e.install_hint,
                "interactiveMode": "Never",
            });
        }
        json!({
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "c", "cluster": cluster}],
            "users": [{"name": "u", "user": user}],
            "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
            "current-context": "x",
        })
    }

    /// A client for the cluster (not yet checked: the first request tells
    /// whether it answers). Connecting gives up after `connect_timeout`.
    pub async fn client(&self, connect_timeout: Duration) -> Result<kube::Client, String> {
        let text = self.kubeconfig().to_string();
        let kc = kube::config::Kubeconfig::from_yaml(&text).map_err(|e| {
            format!(
                "cluster {}: the credentials do not make a kubeconfig: {e}",
                self.name
            )
        })?;
        let mut config = kube::Config::from_custom_kubeconfig(kc, &Default::default())
            .await
            .map_err(|e| {
                format!(
                    "cluster {} ({}): unusable credentials: {e}",
                    self.name, self.server
                )
            })?;
        config.connect_timeout = Some(connect_timeout);
        crate::counted::client(config).map_err(|e| {
            format!(
                "cluster {} ({}): could not set up a client: {e}",
                self.name, self.server
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::ByteString;

    const KUBECONFIG: &str = "apiVersion: v1
kind: Config
current-context: prod
clusters:
- name: prod-cluster
  cluster:
    server: https://10.0.0.1:6443/
    certificate-authority-data: Q0EK
users:
- name: admin
  user:
    token: s3cret
- name: plugin
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: aws
      args: [eks, get-token]
      env: [{name: AWS_PROFILE, value: prod}]
contexts:
- name: prod
  context: {cluster: prod-cluster, user: admin}
- name: prod-exec
  context: {cluster: prod-cluster, user: plugin}
";

    #[test]
    fn a_kubeconfig_context_becomes_cluster_credentials_and_back() {
        let c = ClusterCredentials::from_kubeconfig(KUBECONFIG, None, None)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.name, "prod");
        assert_eq!(c.server, "https://10.0.0.1:6443");
        assert_eq!(c.config.bearer_token.as_deref(), Some("s3cret"));
        assert_eq!(c.auth_kind(), "token");
        assert!(
            !format!("{c:?}").contains("s3cret"),
            "Debug never shows the token"
        );
        // As a Secret and read back.
        let secret = Secret {
            string_data: Some(c.secret_data()),
            ..Default::default()
        };
        assert_eq!(ClusterCredentials::from_secret(&secret), Ok(c));
        let e = ClusterCredentials::from_kubeconfig(KUBECONFIG, Some("prod-exec"), Some("eks"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(e.name, "eks");
        assert_eq!(e.auth_kind(), "exec");
        let x = e.config.exec_provider_config.unwrap_or_default();
        assert_eq!((x.command.as_str(), x.args.len()), ("aws", 2));
        assert_eq!(x.env.get("AWS_PROFILE").map(String::as_str), Some("prod"));
        assert!(
            ClusterCredentials::from_kubeconfig(KUBECONFIG, Some("nope"), None)
                .is_err_and(|e| e.contains("no context nope"))
        );
    }

    #[test]
    fn argo_cd_cluster_secrets_are_read_as_argo_cd_writes_them() {
        let mut data = BTreeMap::new();
        data.insert("name".to_string(), ByteString(b"staging".to_vec()));
        data.insert(
            "server".to_string(),
            ByteString(b"https://staging.example.com".to_vec()),
        );
        data.insert(
            "config".to_string(),
            ByteString(
                br#"{"bearerToken":"t","tlsClientConfig":{"insecure":false,"caData":"Q0EK"}}"#
                    .to_vec(),
            ),
        );
        data.insert("namespaces".to_string(), ByteString(b"a, b".to_vec()));
        let c = ClusterCredentials::from_secret(&Secret {
            data: Some(data),
            ..Default::default()
        })
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.name, "staging");
        assert_eq!(c.namespaces, vec!["a", "b"]);
        assert_eq!(
            c.config
                .tls_client_config
                .and_then(|t| t.ca_data)
                .as_deref(),
            Some("Q0EK")
        );
        let bad = Secret {
            string_data: Some(
                [
                    ("server".to_string(), "https://x".to_string()),
                    ("config".to_string(), "{".to_string()),
                ]
                .into(),
            ),
            ..Default::default()
        };
        assert!(ClusterCredentials::from_secret(&bad).is_err_and(|e| e.contains("config")));
    }
}
