//! How to reach a chart repository: credentials and TLS as a repository
//! Secret of type `helm` holds them (Argo CD's keys), and the HTTP client
//! built from them. Secrets never reach a `Debug` or an error message.

use std::time::Duration;

use sextant_source::{Credentials, Secret};

use super::ChartError;

/// Credentials and TLS settings for one chart repository or registry.
#[derive(Clone, Debug, Default)]
pub struct ChartAccess {
    /// Basic auth (username and password, or a token).
    pub credentials: Option<Credentials>,
    /// Extra certificate authorities (PEM) to trust.
    pub ca_pem: Option<String>,
    /// A client certificate (PEM) and its key (PEM).
    pub client_cert: Option<(String, Secret)>,
    /// Accept any server certificate (`insecure: "true"`).
    pub insecure: bool,
    /// The repository URL names an OCI registry even without `oci://`
    /// (`enableOCI: "true"`).
    pub oci: bool,
    /// Talk to an OCI registry over plain HTTP (`insecureOCIForceHttp`).
    pub plain_http: bool,
}

impl ChartAccess {
    /// A blocking HTTP client with these TLS settings.
    pub(crate) fn client(
        &self,
        timeout: Duration,
    ) -> Result<reqwest::blocking::Client, ChartError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut b = reqwest::blocking::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("sextant/", env!("CARGO_PKG_VERSION")))
            // Redirects keep going, but never to plain HTTP from HTTPS
            // with credentials: reqwest drops auth headers across hosts.
            .redirect(reqwest::redirect::Policy::limited(5));
        if let Some(pem) = &self.ca_pem {
            for cert in reqwest::Certificate::from_pem_bundle(pem.as_bytes())
                .map_err(|e| ChartError::Tls(format!("the CA certificates do not parse: {e}")))?
            {
                b = b.add_root_certificate(cert);
            }
        }
        if let Some((cert, key)) = &self.client_cert {
            let mut pem = cert.clone().into_bytes();
            pem.push(b'\n');
            pem.extend_from_slice(key.expose().as_bytes());
            let identity = reqwest::Identity::from_pem(&pem).map_err(|e| {
                ChartError::Tls(format!(
                    "the client certificate or its key does not parse: {e}"
                ))
            })?;
            b = b.identity(identity);
        }
        if self.insecure {
            b = b.danger_accept_invalid_certs(true);
        }
        b.build()
            .map_err(|e| ChartError::Tls(format!("could not set up the HTTP client: {e}")))
    }

    /// The user name and password to send, if any.
    pub(crate) fn basic(&self) -> Option<(String, String)> {
        self.credentials.as_ref().and_then(|c| match c {
            Credentials::Token(t) => Some((
                Credentials::TOKEN_USERNAME.to_owned(),
                t.expose().to_owned(),
            )),
            Credentials::Basic { username, password } => {
                Some((username.clone(), password.expose().to_owned()))
            }
            // Chart repositories speak HTTP: an SSH key is no use there.
            Credentials::Ssh { .. } => None,
        })
    }

    /// `text` with the password (if any) replaced by `***`.
    pub(crate) fn scrub(&self, text: &str) -> String {
        match self.basic() {
            Some((_, p)) if !p.is_empty() => text.replace(&p, "***"),
            _ => text.to_owned(),
        }
    }
}
