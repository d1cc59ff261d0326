//! Charts from Helm chart repositories: HTTP(S) repositories with an
//! `index.yaml`, and OCI registries (`oci://`, or any URL with
//! `enableOCI`). `targetRevision` is a version or a range, resolved to the
//! newest match from a listing kept for a while (the index TTL; a hard
//! refresh asks again). Archives are checked against their digest, unpacked
//! safely and kept on disk by chart, version and digest, so a version once
//! fetched costs no network again. Everything here is plain HTTP from
//! Sextant: helm itself never reaches the network.

mod access;
mod index;
mod oci;
mod unpack;
pub mod version;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::render::chain as error_chain;
pub use access::ChartAccess;
use index::Index;
use oci::{OciChart, Session};
use version::Wanted;

/// Largest `index.yaml` (or tag list, or manifest) read.
const MAX_INDEX_BYTES: u64 = 64 << 20;
/// Largest chart archive fetched.
const MAX_ARCHIVE_BYTES: u64 = 64 << 20;

/// Why a chart could not be had.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// `targetRevision` is neither a version nor a range.
    #[error("{0}")]
    Version(String),
    /// No version matches.
    #[error("no version of chart {chart} in {repo} matches `{wanted}`{}", available_text(.available))]
    NoMatch {
        /// The chart.
        chart: String,
        /// The repository.
        repo: String,
        /// What was asked.
        wanted: String,
        /// The newest versions there are.
        available: Vec<String>,
    },
    /// The index does not list the chart.
    #[error("the index of {repo} has no chart named {chart}")]
    NotInIndex {
        /// The chart.
        chart: String,
        /// The repository.
        repo: String,
    },
    /// The index is unusable.
    #[error("chart repository {repo}: {why}")]
    Index {
        /// The repository.
        repo: String,
        /// Why.
        why: String,
    },
    /// A request failed.
    #[error("GET {url} failed: {why}")]
    Http {
        /// The URL.
        url: String,
        /// Why (credentials removed).
        why: String,
    },
    /// The server refused.
    #[error("{url} refused access ({status}): {}", if *.had_credentials {
        "the repository's credentials were refused; correct the username or password of its repository Secret"
    } else {
        "the repository needs credentials; add a repository Secret (type helm) with its url, username and password"
    })]
    Denied {
        /// The URL.
        url: String,
        /// The HTTP status.
        status: u16,
        /// Whether credentials were sent.
        had_credentials: bool,
    },
    /// An answer was larger than allowed.
    #[error("{url} is larger than {} MiB; refused", .cap >> 20)]
    TooLarge {
        /// The URL.
        url: String,
        /// The cap in bytes.
        cap: u64,
    },
    /// The TLS settings are unusable.
    #[error("{0}")]
    Tls(String),
    /// The archive is malformed or unsafe.
    #[error("the archive of chart {chart} is refused: {why}")]
    Archive {
        /// The chart and version.
        chart: String,
        /// Why.
        why: String,
    },
    /// The archive is not the one the index or manifest names.
    #[error(
        "the archive of chart {chart} {version} has digest sha256:{got}, not {want} as its repository says; refused"
    )]
    Digest {
        /// The chart.
        chart: String,
        /// The version.
        version: String,
        /// The digest announced.
        want: String,
        /// The digest fetched.
        got: String,
    },
    /// The local cache could not be written.
    #[error("the chart cache at {path}: {source}")]
    Io {
        /// Where.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

fn available_text(available: &[String]) -> String {
    if available.is_empty() {
        " (it has no versions)".into()
    } else {
        format!(" (newest: {})", available.join(", "))
    }
}

/// A chart ready to render: unpacked on disk.
#[derive(Clone, Debug)]
pub struct Pulled {
    /// The version chosen.
    pub version: String,
    /// `sha256:<hex>` of the archive.
    pub digest: String,
    /// The folder holding the chart's folder.
    pub root: PathBuf,
    /// The chart's folder under `root`.
    pub folder: String,
}

enum Listing {
    Http(Index),
    Oci(Vec<String>),
}

/// Chart listings (kept for the TTL) and the unpacked-chart store.
pub struct Charts {
    dir: PathBuf,
    ttl: Duration,
    timeout: Duration,
    listings: Mutex<HashMap<String, (Instant, Arc<Listing>)>>,
}

impl std::fmt::Debug for Charts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Charts")
            .field("dir", &self.dir)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

/// Whether `repo` (with `access`) is an OCI registry.
pub fn is_oci(repo: &str, access: &ChartAccess) -> bool {
    repo.trim().starts_with("oci://") || (access.oci && !repo.contains("://"))
}

impl Charts {
    /// A store under `dir`; listings are asked again after `ttl`.
    pub fn new(dir: PathBuf, ttl: Duration, timeout: Duration) -> Self {
        Self {
            dir,
            ttl,
            timeout,
            listings: Mutex::new(HashMap::new()),
        }
    }

    /// `chart` of `repo` at `wanted` (a version or a range), unpacked;
    /// `fresh` asks the repository for its listing again now.
    pub fn pull(
        &self,
        repo: &str,
        chart: &str,
        wanted: &str,
        access: &ChartAccess,
        fresh: bool,
    ) -> Result<Pulled, ChartError> {
        let want = Wanted::parse(wanted).map_err(ChartError::Version)?;
        let store = self.dir.join(store_name(repo, chart));
        // A version once fetched is kept: an exact version costs no network.
        if let Some(v) = want.exact()
            && let Some(p) = cached(&store, v)
        {
            return Ok(p);
        }
        let oci = is_oci(repo, access);
        let listing = self.listing(repo, chart, access, oci, fresh)?;
        let (version, http_entry) = match &*listing {
            Listing::Http(index) => {
                let entries = index
                    .entries
                    .get(chart)
                    .ok_or_else(|| ChartError::NotInIndex {
                        chart: chart.to_owned(),
                        repo: repo.to_owned(),
                    })?;
                let v = want.choose(entries.iter().map(|e| e.version.as_str()));
                let entry = v.and_then(|v| entries.iter().find(|e| e.version == v));
                (v.map(str::to_owned), entry.cloned())
            }
            Listing::Oci(tags) => (
                want.choose(tags.iter().map(String::as_str))
                    .map(str::to_owned),
                None,
            ),
        };
        let Some(version) = version else {
            let all: Vec<&str> = match &*listing {
                Listing::Http(index) => index
                    .entries
                    .get(chart)
                    .into_iter()
                    .flatten()
                    .map(|e| e.version.as_str())
                    .collect(),
                Listing::Oci(tags) => tags.iter().map(String::as_str).collect(),
            };
            return Err(ChartError::NoMatch {
                chart: chart.to_owned(),
                repo: repo.to_owned(),
                wanted: wanted.to_owned(),
                available: newest(&all, 5),
            });
        };
        if let Some(p) = cached(&store, &version) {
            return Ok(p);
        }
        let what = format!("{chart} {version}");
        let client = access.client(self.timeout)?;
        let (archive, announced) = match http_entry {
            Some(entry) => {
                let bytes = index::fetch_archive(&client, repo, chart, &entry, access)?;
                (
                    bytes,
                    entry
                        .digest
                        .map(|d| d.trim_start_matches("sha256:").to_ascii_lowercase()),
                )
            }
            None => {
                let place = OciChart::new(repo, chart, access)?;
                let mut session = Session::new(&client, access);
                let digest = session.layer(&place, &version)?;
                let bytes = session.archive(&place, &digest)?;
                (
                    bytes,
                    digest.strip_prefix("sha256:").map(str::to_ascii_lowercase),
                )
            }
        };
        let got = hex(&Sha256::digest(&archive));
        if let Some(want) = announced.filter(|d| !d.is_empty())
            && want != got
        {
            return Err(ChartError::Digest {
                chart: chart.to_owned(),
                version,
                want: format!("sha256:{want}"),
                got,
            });
        }
        store_archive(&store, &version, &got, &archive, &what)
    }

    /// The listing of `repo` (HTTP: its index; OCI: the chart's tags).
    fn listing(
        &self,
        repo: &str,
        chart: &str,
        access: &ChartAccess,
        oci: bool,
        fresh: bool,
    ) -> Result<Arc<Listing>, ChartError> {
        let key = if oci {
            format!("{repo}|{chart}")
        } else {
            repo.trim_end_matches('/').to_owned()
        };
        if !fresh
            && let Ok(map) = self.listings.lock()
            && let Some((at, l)) = map.get(&key)
            && at.elapsed() < self.ttl
        {
            return Ok(l.clone());
        }
        // A client only when the repository is asked (its TLS set-up costs
        // milliseconds a kept listing does not need).
        let client = access.client(self.timeout)?;
        let listing = if oci {
            let place = OciChart::new(repo, chart, access)?;
            Listing::Oci(Session::new(&client, access).versions(&place)?)
        } else {
            Listing::Http(index::fetch_index(&client, repo, access)?)
        };
        let listing = Arc::new(listing);
        if let Ok(mut map) = self.listings.lock() {
            map.insert(key, (Instant::now(), listing.clone()));
        }
        Ok(listing)
    }
}

/// The newest `n` of `versions`, newest first.
fn newest(versions: &[&str], n: usize) -> Vec<String> {
    let mut parsed: Vec<(Option<semver::Version>, &str)> =
        versions.iter().map(|v| (version::lenient(v), *v)).collect();
    parsed.sort_by(|a, b| b.0.cmp(&a.0));
    parsed
        .into_iter()
        .take(n)
        .map(|(_, v)| v.to_owned())
        .collect()
}

/// The store folder of one chart of one repository.
fn store_name(repo: &str, chart: &str) -> String {
    let digest =
        Sha256::digest(format!("{}|{chart}", repo.trim().trim_end_matches('/')).as_bytes());
    let safe: String = chart
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    format!("{safe}-{}", &hex(&digest)[..16])
}

/// A version as a folder name.
fn version_dir(version: &str) -> String {
    version
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The unpacked chart of `version`, if the store has it complete.
fn cached(store: &Path, version: &str) -> Option<Pulled> {
    let prefix = format!("{}@", version_dir(version));
    let entries = std::fs::read_dir(store).ok()?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(digest) = name.strip_prefix(&prefix) else {
            continue;
        };
        let root = entry.path();
        if let Ok(folder) = std::fs::read_to_string(root.join(".chart-folder")) {
            return Some(Pulled {
                version: version.to_owned(),
                digest: format!("sha256:{digest}"),
                root: root.join("chart"),
                folder: folder.trim().to_owned(),
            });
        }
    }
    None
}

/// Unpack `archive` into the store (into a temporary folder first, then
/// renamed, so a half-written chart is never used).
fn store_archive(
    store: &Path,
    version: &str,
    digest: &str,
    archive: &[u8],
    what: &str,
) -> Result<Pulled, ChartError> {
    let io = |path: &Path, source| ChartError::Io {
        path: path.display().to_string(),
        source,
    };
    std::fs::create_dir_all(store).map_err(|e| io(store, e))?;
    let tmp = tempfile::Builder::new()
        .prefix(".unpacking-")
        .tempdir_in(store)
        .map_err(|e| io(store, e))?;
    let root = tmp.path().join("chart");
    std::fs::create_dir_all(&root).map_err(|e| io(&root, e))?;
    let folder = unpack::unpack(archive, &root, what)?;
    let marker = tmp.path().join(".chart-folder");
    std::fs::write(&marker, &folder).map_err(|e| io(&marker, e))?;
    let dest = store.join(format!("{}@{digest}", version_dir(version)));
    let kept = tmp.keep();
    if std::fs::rename(&kept, &dest).is_err() {
        // Another render stored it first: use theirs.
        let _ = std::fs::remove_dir_all(&kept);
    }
    cached(store, version).ok_or_else(|| ChartError::Io {
        path: dest.display().to_string(),
        source: std::io::Error::other("the unpacked chart is missing after storing it"),
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The body of `resp`, at most `cap` bytes (more is refused, not cut).
fn read_capped(
    resp: reqwest::blocking::Response,
    url: &str,
    cap: u64,
) -> Result<Vec<u8>, ChartError> {
    use std::io::Read;
    let mut body = Vec::new();
    resp.take(cap + 1)
        .read_to_end(&mut body)
        .map_err(|e| ChartError::Http {
            url: url.to_owned(),
            why: format!("reading the answer failed: {e}"),
        })?;
    if body.len() as u64 > cap {
        return Err(ChartError::TooLarge {
            url: url.to_owned(),
            cap,
        });
    }
    Ok(body)
}
