//! Credentials for private Git repositories, from Secrets in the
//! controller's namespace, as Argo CD keeps them: a Secret labelled
//! `sextant.dev/secret-type` (or `argocd.argoproj.io/secret-type`) with
//! value `repository` holds the credentials of one repository (`url`
//! equal to the app's `repoURL`), one with value `repo-creds` those of
//! every repository under a URL prefix (`url: https://git.example.com/org`).
//! Keys: `url`, `username`, `password` (a token alone goes in `password`).
//!
//! A Secret with `type: helm` covers a Helm chart repository or an OCI
//! registry (username and password optional), with Argo CD's keys:
//! `enableOCI`, `insecure`, `insecureOCIForceHttp`, `tlsClientCertData`,
//! `tlsClientCertKey`.
//!
//! A repository Secret wins over a prefix one; among prefixes the longest
//! wins. Values never reach a log line, an event or a status: only the
//! Secret's name does.

use std::collections::BTreeMap;
use std::sync::RwLock;

use k8s_openapi::api::core::v1::Secret as KubeSecret;
use sextant_render::ChartAccess;
use sextant_source::{Credentials, Secret};

/// The label that marks a Secret as Git credentials.
pub const SECRET_TYPE_LABEL: &str = "sextant.dev/secret-type";
/// Argo CD's spelling of the same label.
pub const ARGOCD_SECRET_TYPE_LABEL: &str = "argocd.argoproj.io/secret-type";

/// Which repositories a credentials Secret covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Exactly one repository (`repository`).
    Repository,
    /// Every repository under a URL prefix (`repo-creds`).
    Prefix,
}

impl Scope {
    /// The label value that says it.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Repository => "repository",
            Scope::Prefix => "repo-creds",
        }
    }
}

/// One credentials Secret, read.
#[derive(Debug, Clone)]
struct Entry {
    scope: Scope,
    /// The normalised URL (or prefix).
    url: String,
    /// Git credentials (`None` for a Helm repository Secret).
    credentials: Option<Credentials>,
    /// How to reach a chart repository with it.
    chart: ChartAccess,
}

/// Credentials found for a repository, and the Secret they came from.
#[derive(Debug, Clone)]
pub struct Found {
    /// The Secret's name (in the controller's namespace).
    pub secret: String,
    /// What to authenticate with.
    pub credentials: Credentials,
}

/// The credentials Secrets of the controller's namespace, kept current by
/// a watch (see `controller.rs`).
#[derive(Debug)]
pub struct RepoCredentials {
    namespace: String,
    entries: RwLock<BTreeMap<String, Entry>>,
    /// `known_hosts` lines SSH repositories are checked against (the
    /// `ssh_known_hosts` key of the known-hosts ConfigMaps).
    known_hosts: RwLock<String>,
    /// Certificate authorities (PEM) to trust, by server (`host` or
    /// `host:port`), from the TLS certificates ConfigMaps.
    tls_certs: RwLock<BTreeMap<String, String>>,
}

/// The ConfigMaps of repository servers' TLS certificates (Sextant's, then
/// Argo CD's): each key a server's host name, its value the PEM
/// certificates to trust for it (a private CA, or the server's own).
pub const TLS_CERTS_CONFIG_MAPS: [&str; 2] = ["sextant-tls-certs-cm", "argocd-tls-certs-cm"];

/// Every ConfigMap the repository settings are read from: the known
/// hosts, then the TLS certificates.
pub const REPO_CONFIG_MAPS: [&str; 4] = [
    KNOWN_HOSTS_CONFIG_MAPS[0],
    KNOWN_HOSTS_CONFIG_MAPS[1],
    TLS_CERTS_CONFIG_MAPS[0],
    TLS_CERTS_CONFIG_MAPS[1],
];

/// The ConfigMaps of SSH known hosts (Sextant's, then Argo CD's), and the
/// key that holds the lines.
pub const KNOWN_HOSTS_CONFIG_MAPS: [&str; 2] =
    ["sextant-ssh-known-hosts-cm", "argocd-ssh-known-hosts-cm"];
/// The key of the known-hosts ConfigMaps.
pub const KNOWN_HOSTS_KEY: &str = "ssh_known_hosts";

impl RepoCredentials {
    /// An empty set for the Secrets of `namespace`.
    pub fn new(namespace: &str) -> Self {
        Self {
            namespace: namespace.to_owned(),
            entries: RwLock::new(BTreeMap::new()),
            known_hosts: RwLock::new(String::new()),
            tls_certs: RwLock::new(BTreeMap::new()),
        }
    }

    /// Take the known hosts and TLS certificates from the ConfigMaps
    /// `configmaps` gives (name to data; see [`REPO_CONFIG_MAPS`]).
    /// Returns whether anything changed.
    pub fn set_config_maps<'a>(
        &self,
        configmaps: impl Fn(&str) -> Option<&'a BTreeMap<String, String>>,
    ) -> bool {
        let hosts = self.set_known_hosts(known_hosts_of(&configmaps));
        let certs = self.set_tls_certs(tls_certs_of(&configmaps));
        hosts || certs
    }

    /// Trust `certs` (server to PEM) from now on; whether they changed.
    pub fn set_tls_certs(&self, certs: BTreeMap<String, String>) -> bool {
        match self.tls_certs.write() {
            Ok(mut c) if *c != certs => {
                *c = certs;
                true
            }
            _ => false,
        }
    }

    /// The certificates to trust for the server of `repo_url`: those
    /// given for `host:port`, else for `host`.
    pub fn tls_certs_for(&self, repo_url: &str) -> Option<String> {
        let (host, port) = server_of(repo_url)?;
        let certs = self.tls_certs.read().ok()?;
        port.and_then(|p| certs.get(&format!("{host}:{p}")))
            .or_else(|| certs.get(&host))
            .cloned()
    }

    /// How to reach the chart repository `repo_url`: what the Secret
    /// covering it says (and its name), with the TLS certificates given
    /// for its server, Secret or not.
    pub fn chart_access(&self, repo_url: &str) -> (Option<String>, ChartAccess) {
        let (secret, access) = self.lookup_chart(repo_url).unzip();
        let mut access = access.unwrap_or_default();
        if access.ca_pem.is_none() {
            access.ca_pem = self.tls_certs_for(repo_url);
        }
        (secret, access)
    }

    /// Check SSH servers against these `known_hosts` lines from now on.
    /// Returns whether they changed.
    pub fn set_known_hosts(&self, lines: String) -> bool {
        match self.known_hosts.write() {
            Ok(mut k) if *k != lines => {
                *k = lines;
                true
            }
            _ => false,
        }
    }

    /// The namespace the Secrets live in.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Take in a Secret that was added or changed. Returns the URLs whose
    /// credentials may have changed (the Secret's old and new URL), so the
    /// apps on them can be looked at again.
    pub fn upsert(&self, secret: &KubeSecret) -> Vec<String> {
        let name = secret.metadata.name.clone().unwrap_or_default();
        let entry = read(secret).unwrap_or_else(|why| {
            tracing::warn!(secret = %name, namespace = %self.namespace, "ignoring repository credentials: {why}");
            None
        });
        let Ok(mut entries) = self.entries.write() else {
            return Vec::new();
        };
        let new_url = entry.as_ref().map(|e| e.url.clone());
        let old = match entry {
            Some(entry) => entries.insert(name, entry),
            None => entries.remove(&name),
        };
        old.map(|o| o.url).into_iter().chain(new_url).collect()
    }

    /// Forget a deleted Secret; returns the URL it covered.
    pub fn remove(&self, name: &str) -> Option<String> {
        self.entries
            .write()
            .ok()
            .and_then(|mut e| e.remove(name))
            .map(|e| e.url)
    }

    /// Forget the Secrets not in `names` (after a re-list); returns the
    /// URLs they covered.
    pub fn retain(&self, names: &std::collections::HashSet<String>) -> Vec<String> {
        let Ok(mut entries) = self.entries.write() else {
            return Vec::new();
        };
        let gone: Vec<String> = entries
            .keys()
            .filter(|n| !names.contains(*n))
            .cloned()
            .collect();
        gone.iter()
            .filter_map(|n| entries.remove(n))
            .map(|e| e.url)
            .collect()
    }

    /// The credentials for `repo_url`, if a Secret covers it.
    pub fn lookup(&self, repo_url: &str) -> Option<Found> {
        let entries = self.entries.read().ok()?;
        let (name, e) = best(&entries, repo_url, |e| e.credentials.is_some())?;
        let mut credentials = e.credentials.clone()?;
        if let Credentials::Ssh { known_hosts, .. } = &mut credentials
            && let Ok(lines) = self.known_hosts.read()
        {
            known_hosts.clone_from(&*lines);
        }
        Some(Found {
            secret: name.clone(),
            credentials,
        })
    }

    /// How to reach the chart repository `repo_url`, and the Secret that
    /// says so, if one covers it.
    pub fn lookup_chart(&self, repo_url: &str) -> Option<(String, ChartAccess)> {
        let entries = self.entries.read().ok()?;
        let (name, e) = best(&entries, repo_url, |_| true)?;
        Some((name.clone(), e.chart.clone()))
    }
}

/// The Secret for `repo_url` among those `usable`: a repository Secret
/// over a prefix one, the longest prefix among those.
fn best<'a>(
    entries: &'a BTreeMap<String, Entry>,
    repo_url: &str,
    usable: impl Fn(&Entry) -> bool,
) -> Option<(&'a String, &'a Entry)> {
    let url = normalise(repo_url);
    let exact = entries
        .iter()
        .find(|(_, e)| e.scope == Scope::Repository && e.url == url && usable(e));
    exact.or_else(|| {
        entries
            .iter()
            .filter(|(_, e)| e.scope == Scope::Prefix && covers(&e.url, &url) && usable(e))
            .max_by_key(|(_, e)| e.url.len())
    })
}

/// The known hosts of the ConfigMaps in `configmaps` (name to data):
/// Sextant's and Argo CD's lines together.
pub fn known_hosts_of<'a>(
    configmaps: impl Fn(&str) -> Option<&'a BTreeMap<String, String>>,
) -> String {
    KNOWN_HOSTS_CONFIG_MAPS
        .iter()
        .filter_map(|name| configmaps(name)?.get(KNOWN_HOSTS_KEY))
        .map(|lines| lines.trim_end().to_owned() + "\n")
        .collect()
}

/// The TLS certificates of the ConfigMaps in `configmaps` (name to
/// data), by server in lower case; Sextant's win over Argo CD's for the
/// same server.
pub fn tls_certs_of<'a>(
    configmaps: impl Fn(&str) -> Option<&'a BTreeMap<String, String>>,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for name in TLS_CERTS_CONFIG_MAPS {
        for (server, pem) in configmaps(name).into_iter().flatten() {
            out.entry(server.trim().to_ascii_lowercase())
                .or_insert_with(|| pem.clone());
        }
    }
    out
}

/// The server of a repository URL (`https://host:port/...`,
/// `oci://host/...`, `host/path` of an OCI registry): its host in lower
/// case and its port, if one is written.
fn server_of(repo_url: &str) -> Option<(String, Option<u16>)> {
    let rest = repo_url
        .trim()
        .split_once("://")
        .map_or(repo_url.trim(), |(_, r)| r);
    let authority = rest.split('/').next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    // `[v6]:port`, `host:port`, or a bare host.
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !p.contains(']') => match p.parse() {
            Ok(port) => (h, Some(port)),
            Err(_) => (authority, None),
        },
        _ => (authority, None),
    };
    (!host.is_empty()).then(|| (host.to_ascii_lowercase(), port))
}

/// Keep the known hosts and TLS certificates of `credentials` equal to the
/// ConfigMaps of `api`'s namespace; `changed` is called when they change.
pub(crate) async fn follow_config_maps(
    api: kube::Api<k8s_openapi::api::core::v1::ConfigMap>,
    credentials: &RepoCredentials,
    changed: impl Fn(),
) {
    crate::config_maps::follow_named(
        api,
        &REPO_CONFIG_MAPS,
        "the SSH known hosts and TLS certificates",
        |seen| {
            if credentials.set_config_maps(|n| seen.get(n)) {
                changed();
            }
        },
    )
    .await;
}

/// Keep `credentials` equal to the Secrets `api` lists, for as long as the
/// watch runs; `changed` gets the URLs whose credentials may have changed.
/// A Secret deleted while the watch was down is forgotten once the re-list
/// is done.
pub(crate) async fn follow(
    api: kube::Api<KubeSecret>,
    credentials: &RepoCredentials,
    mut changed: impl FnMut(Vec<String>),
) {
    use futures::StreamExt;
    use kube::runtime::WatchStreamExt;
    use kube::runtime::watcher::{self, Event};

    let mut stream = watcher::watcher(api, watcher::Config::default())
        .default_backoff()
        .boxed();
    // Secrets seen since a (re)list began.
    let mut listing: Option<std::collections::HashSet<String>> = None;
    while let Some(event) = stream.next().await {
        let urls = match event {
            Ok(Event::Init) => {
                listing = Some(std::collections::HashSet::new());
                Vec::new()
            }
            Ok(Event::InitApply(s)) | Ok(Event::Apply(s)) => {
                if let Some(l) = listing.as_mut() {
                    l.insert(s.metadata.name.clone().unwrap_or_default());
                }
                credentials.upsert(&s)
            }
            Ok(Event::Delete(s)) => credentials
                .remove(s.metadata.name.as_deref().unwrap_or_default())
                .into_iter()
                .collect(),
            Ok(Event::InitDone) => listing
                .take()
                .map(|seen| credentials.retain(&seen))
                .unwrap_or_default(),
            Err(e) => {
                tracing::warn!(error = %e, "watching repository credentials failed; retrying");
                Vec::new()
            }
        };
        if !urls.is_empty() {
            changed(urls);
        }
    }
}

/// Whether a Secret's URL (or prefix) covers `repo_url` (both raw).
pub fn matches(secret_url: &str, repo_url: &str) -> bool {
    let (s, r) = (normalise(secret_url), normalise(repo_url));
    s == r || covers(&s, &r)
}

/// Whether `prefix` covers `url` at a path boundary (`.../org` covers
/// `.../org/repo`, not `.../organisation`).
fn covers(prefix: &str, url: &str) -> bool {
    url.strip_prefix(prefix).is_some_and(|rest| {
        rest.is_empty() || rest.starts_with('/') || prefix.ends_with(['/', ':'])
    })
}

/// A URL as compared: no surrounding blanks, no trailing `/` or `.git`,
/// scheme and host in lower case.
pub fn normalise(url: &str) -> String {
    let url = url.trim().trim_end_matches('/');
    let url = url.strip_suffix(".git").unwrap_or(url);
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            format!(
                "{}://{}{path}",
                scheme.to_ascii_lowercase(),
                host.to_ascii_lowercase()
            )
        }
        None => url.to_owned(),
    }
}

/// The scope a Secret's labels give it, if it is a credentials Secret.
pub fn scope(secret: &KubeSecret) -> Option<Scope> {
    let labels = secret.metadata.labels.as_ref()?;
    let value = labels
        .get(SECRET_TYPE_LABEL)
        .or_else(|| labels.get(ARGOCD_SECRET_TYPE_LABEL))?;
    match value.as_str() {
        "repository" => Some(Scope::Repository),
        "repo-creds" => Some(Scope::Prefix),
        _ => None,
    }
}

/// Read a Secret: `Ok(None)` when it is not a Git credentials Secret,
/// `Err(why)` when it is one but unusable.
fn read(secret: &KubeSecret) -> Result<Option<Entry>, String> {
    let Some(scope) = scope(secret) else {
        return Ok(None);
    };
    let mut values: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in secret.data.iter().flatten() {
        values.insert(k.clone(), String::from_utf8_lossy(&v.0).into_owned());
    }
    for (k, v) in secret.string_data.iter().flatten() {
        values.insert(k.clone(), v.clone());
    }
    // URLs and types are compared trimmed; a password is taken as it is
    // (only a final line break, which `echo` adds, is dropped).
    let value = |key: &str| values.get(key).map(|v| v.trim()).filter(|v| !v.is_empty());
    let exact = |key: &str| {
        values
            .get(key)
            .map(|v| v.trim_end_matches(['\n', '\r']))
            .filter(|v| !v.is_empty())
    };
    let helm = match value("type") {
        None | Some("git") => false,
        Some("helm") => true,
        // Other types (plugins and the like): not ours to use.
        Some(_) => return Ok(None),
    };
    let url = value("url").ok_or("it has no `url` key")?;
    let credentials = match (exact("username"), exact("password")) {
        // An SSH key wins: Argo CD's Secrets for SSH repositories hold one.
        _ if !helm && exact("sshPrivateKey").is_some() => Some(Credentials::Ssh {
            private_key: Secret::new(exact("sshPrivateKey").unwrap_or_default()),
            known_hosts: String::new(),
        }),
        (Some(username), Some(password)) => Some(Credentials::Basic {
            username: username.to_owned(),
            password: Secret::new(password),
        }),
        (None, Some(password)) => Some(Credentials::Token(Secret::new(password))),
        (Some(_), None) if helm => {
            return Err("it has a `username` but no `password`".into());
        }
        // A public chart repository needs no credentials.
        (None, None) if helm => None,
        _ => {
            return Err(
                "it has no `password` key (put a token there, with or without `username`)".into(),
            );
        }
    };
    let flag = |key: &str| value(key).is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let client_cert = match (exact("tlsClientCertData"), exact("tlsClientCertKey")) {
        (Some(cert), Some(key)) => Some((cert.to_owned(), Secret::new(key))),
        (None, None) => None,
        _ => {
            return Err(
                "it has only one of `tlsClientCertData` and `tlsClientCertKey`; give both".into(),
            );
        }
    };
    let chart = ChartAccess {
        credentials: credentials.clone(),
        ca_pem: None,
        client_cert,
        insecure: flag("insecure"),
        oci: flag("enableOCI"),
        plain_http: flag("insecureOCIForceHttp"),
    };
    Ok(Some(Entry {
        scope,
        url: normalise(url),
        credentials: if helm { None } else { credentials },
        chart,
    }))
}

/// A Secret name from a URL: `repo-` and the host and path in lower case,
/// other characters as `-`, at most 63 characters.
pub fn secret_name(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let mut name = String::from("repo-");
    for c in normalise(rest).chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() {
            name.push(c);
        } else if !name.ends_with('-') {
            name.push('-');
        }
    }
    name.truncate(63);
    name.trim_end_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_certificates_are_found_by_server_host_and_port_secret_or_not() {
        let creds = RepoCredentials::new("sx");
        let maps = BTreeMap::from([
            (
                "argocd-tls-certs-cm".to_owned(),
                BTreeMap::from([
                    ("Charts.Example.com".to_owned(), "ARGO".to_owned()),
                    ("registry.example.com:5000".to_owned(), "PORTED".to_owned()),
                ]),
            ),
            (
                "sextant-tls-certs-cm".to_owned(),
                BTreeMap::from([("charts.example.com".to_owned(), "OURS".to_owned())]),
            ),
        ]);
        assert!(creds.set_config_maps(|n| maps.get(n)));
        assert!(!creds.set_config_maps(|n| maps.get(n)), "no change");
        let ca = |url: &str| creds.chart_access(url).1.ca_pem;
        assert_eq!(
            ca("https://charts.example.com/stable").as_deref(),
            Some("OURS")
        );
        assert_eq!(
            ca("https://user@CHARTS.example.com:8443/x").as_deref(),
            Some("OURS")
        );
        assert_eq!(
            ca("oci://registry.example.com:5000/team").as_deref(),
            Some("PORTED")
        );
        assert_eq!(
            ca("registry.example.com:5000/team").as_deref(),
            Some("PORTED")
        );
        assert_eq!(ca("registry.example.com/team"), None, "another port");
        assert_eq!(ca("https://other.example.com"), None);
    }
    use k8s_openapi::ByteString;
    use kube::api::ObjectMeta;

    fn secret(name: &str, label: (&str, &str), data: &[(&str, &str)]) -> KubeSecret {
        KubeSecret {
            metadata: ObjectMeta {
                name: Some(name.into()),
                labels: Some([(label.0.to_owned(), label.1.to_owned())].into()),
                ..Default::default()
            },
            data: Some(
                data.iter()
                    .map(|(k, v)| ((*k).to_owned(), ByteString(v.as_bytes().to_vec())))
                    .collect(),
            ),
            ..Default::default()
        }
    }

    fn user(found: Option<Found>) -> Option<(String, String)> {
        found.map(|f| {
            let who = match f.credentials {
                Credentials::Basic { username, .. } => username,
                Credentials::Token(_) => "token".to_owned(),
                Credentials::Ssh { .. } => "ssh key".to_owned(),
            };
            (f.secret, who)
        })
    }

    #[test]
    fn urls_compare_without_case_in_the_host_trailing_slashes_or_dot_git() {
        assert_eq!(
            normalise(" HTTPS://Git.Example.com/Org/Repo.git/ "),
            "https://git.example.com/Org/Repo"
        );
        assert!(matches(
            "https://git.example.com/org",
            "https://GIT.example.com/org/app.git"
        ));
        assert!(!matches(
            "https://git.example.com/org",
            "https://git.example.com/organisation/app"
        ));
        assert!(matches(
            "https://git.example.com/",
            "https://git.example.com/any/thing"
        ));
    }

    #[test]
    fn a_repository_secret_wins_over_prefixes_and_the_longest_prefix_wins() {
        let creds = RepoCredentials::new("sextant");
        creds.upsert(&secret(
            "org",
            (SECRET_TYPE_LABEL, "repo-creds"),
            &[
                ("url", "https://git.example.com/org"),
                ("username", "org-bot"),
                ("password", "p1"),
            ],
        ));
        creds.upsert(&secret(
            "team",
            (ARGOCD_SECRET_TYPE_LABEL, "repo-creds"),
            &[
                ("url", "https://git.example.com/org/team"),
                ("username", "team-bot"),
                ("password", "p2"),
            ],
        ));
        creds.upsert(&secret(
            "one",
            (SECRET_TYPE_LABEL, "repository"),
            &[
                ("url", "https://git.example.com/org/team/app.git"),
                ("password", "tok"),
            ],
        ));
        let who = |url: &str| user(creds.lookup(url));
        assert_eq!(
            who("https://git.example.com/org/team/app"),
            Some(("one".into(), "token".into()))
        );
        assert_eq!(
            who("https://git.example.com/org/team/other"),
            Some(("team".into(), "team-bot".into()))
        );
        assert_eq!(
            who("https://git.example.com/org/x.git"),
            Some(("org".into(), "org-bot".into()))
        );
        assert_eq!(who("https://git.example.com/elsewhere/x"), None);

        // A changed URL reports both; a removed Secret stops applying.
        let touched = creds.upsert(&secret(
            "one",
            (SECRET_TYPE_LABEL, "repository"),
            &[
                ("url", "https://git.example.com/org/team/moved"),
                ("password", "tok"),
            ],
        ));
        assert_eq!(
            touched,
            [
                "https://git.example.com/org/team/app",
                "https://git.example.com/org/team/moved"
            ]
        );
        assert_eq!(
            creds.remove("team").as_deref(),
            Some("https://git.example.com/org/team")
        );
        assert_eq!(
            who("https://git.example.com/org/team/other"),
            Some(("org".into(), "org-bot".into()))
        );
    }

    #[test]
    fn secrets_that_are_not_git_credentials_or_lack_keys_are_ignored() {
        let creds = RepoCredentials::new("sextant");
        let url = "https://git.example.com/app";
        creds.upsert(&secret(
            "tls",
            ("app", "web"),
            &[("url", url), ("password", "x")],
        ));
        creds.upsert(&secret(
            "helm",
            (SECRET_TYPE_LABEL, "repository"),
            &[("type", "helm"), ("url", url), ("password", "x")],
        ));
        creds.upsert(&secret(
            "no-password",
            (SECRET_TYPE_LABEL, "repository"),
            &[("url", url)],
        ));
        creds.upsert(&secret(
            "no-url",
            (SECRET_TYPE_LABEL, "repository"),
            &[("password", "x")],
        ));
        assert!(creds.lookup(url).is_none());
        // A Secret that stops being usable stops applying.
        creds.upsert(&secret(
            "ok",
            (SECRET_TYPE_LABEL, "repository"),
            &[("url", url), ("password", "x")],
        ));
        assert!(creds.lookup(url).is_some());
        creds.upsert(&secret(
            "ok",
            (SECRET_TYPE_LABEL, "repository"),
            &[("url", url)],
        ));
        assert!(creds.lookup(url).is_none());
    }

    #[test]
    fn helm_repository_secrets_give_chart_access_with_argo_cds_keys() {
        let creds = RepoCredentials::new("sextant");
        let label = (ARGOCD_SECRET_TYPE_LABEL, "repository");
        creds.upsert(&secret(
            "charts",
            label,
            &[
                ("type", "helm"),
                ("url", "https://charts.example.com/stable/"),
                ("username", "ci"),
                ("password", "pw"),
                ("insecure", "true"),
            ],
        ));
        creds.upsert(&secret(
            "registry",
            (SECRET_TYPE_LABEL, "repo-creds"),
            &[
                ("type", "helm"),
                ("url", "registry.example.com:5000"),
                ("enableOCI", "true"),
                ("insecureOCIForceHttp", "true"),
            ],
        ));
        creds.upsert(&secret(
            "half-tls",
            label,
            &[
                ("type", "helm"),
                ("url", "https://other"),
                ("tlsClientCertData", "x"),
            ],
        ));
        let (name, access) = creds
            .lookup_chart("https://charts.example.com/stable")
            .unwrap();
        assert_eq!(name, "charts");
        assert!(access.insecure && !access.oci);
        assert!(matches!(
            access.credentials,
            Some(Credentials::Basic { ref username, .. }) if username == "ci"
        ));
        // Not Git credentials.
        assert!(creds.lookup("https://charts.example.com/stable").is_none());
        let (name, access) = creds
            .lookup_chart("registry.example.com:5000/team")
            .unwrap();
        assert_eq!(name, "registry");
        assert!(access.oci && access.plain_http && access.credentials.is_none());
        assert!(
            creds.lookup_chart("https://other").is_none(),
            "half a client certificate"
        );
    }

    #[test]
    fn a_relist_forgets_secrets_deleted_meanwhile_and_passwords_keep_their_spaces() {
        let creds = RepoCredentials::new("sextant");
        let url = "https://git.example.com/app";
        let label = (SECRET_TYPE_LABEL, "repository");
        creds.upsert(&secret(
            "kept",
            label,
            &[("url", url), ("password", " spaced pass \n")],
        ));
        creds.upsert(&secret(
            "gone",
            label,
            &[("url", "https://x/y"), ("password", "p")],
        ));
        let names = ["kept".to_owned()].into_iter().collect();
        assert_eq!(creds.retain(&names), ["https://x/y"]);
        assert!(creds.lookup("https://x/y").is_none());
        match creds.lookup(url).unwrap().credentials {
            Credentials::Token(t) => assert_eq!(t.expose(), " spaced pass "),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn secret_names_come_from_the_host_and_path() {
        assert_eq!(
            secret_name("https://Git.Example.com/Org/deploy.git"),
            "repo-git-example-com-org-deploy"
        );
        assert_eq!(
            secret_name("https://bot:tok@git.example.com:8443/a_b/"),
            "repo-git-example-com-8443-a-b"
        );
        assert!(secret_name(&format!("https://h/{}", "x".repeat(100))).len() <= 63);
    }
}
