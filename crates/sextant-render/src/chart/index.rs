//! HTTP(S) chart repositories: `index.yaml` read (only the fields used),
//! and chart archives fetched from the URL the index gives, sent the
//! repository's credentials only when on the repository's own host.

use std::collections::HashMap;

use serde::Deserialize;

use super::access::ChartAccess;
use super::{ChartError, MAX_ARCHIVE_BYTES, MAX_INDEX_BYTES};

/// One chart version as the index lists it.
#[derive(Clone, Debug, Deserialize)]
pub struct IndexEntry {
    /// The version.
    pub version: String,
    /// Where the archive is (absolute, or relative to the repository).
    #[serde(default)]
    pub urls: Vec<String>,
    /// `sha256` of the archive, hex, when the index has it.
    #[serde(default)]
    pub digest: Option<String>,
}

/// A repository's `index.yaml`, the parts Sextant reads.
#[derive(Debug, Default, Deserialize)]
pub struct Index {
    /// Versions by chart name.
    #[serde(default)]
    pub entries: HashMap<String, Vec<IndexEntry>>,
}

/// Read the index of the repository at `repo` (an `http(s)://` URL).
pub fn fetch_index(
    client: &reqwest::blocking::Client,
    repo: &str,
    access: &ChartAccess,
) -> Result<Index, ChartError> {
    let url = format!("{}/index.yaml", repo.trim_end_matches('/'));
    let body = get(client, &url, repo, access, MAX_INDEX_BYTES)?;
    let text = String::from_utf8(body).map_err(|_| ChartError::Index {
        repo: repo.to_owned(),
        why: "index.yaml is not UTF-8".into(),
    })?;
    serde_yaml_ng::from_str(&text).map_err(|e| ChartError::Index {
        repo: repo.to_owned(),
        why: format!("index.yaml does not parse: {e}"),
    })
}

/// Fetch the archive of `entry` (its first URL).
pub fn fetch_archive(
    client: &reqwest::blocking::Client,
    repo: &str,
    chart: &str,
    entry: &IndexEntry,
    access: &ChartAccess,
) -> Result<Vec<u8>, ChartError> {
    let first = entry.urls.first().ok_or_else(|| ChartError::Index {
        repo: repo.to_owned(),
        why: format!("the index lists {chart} {} without a URL", entry.version),
    })?;
    let url = absolute(repo, first);
    get(client, &url, repo, access, MAX_ARCHIVE_BYTES)
}

/// `url` made absolute against the repository.
fn absolute(repo: &str, url: &str) -> String {
    if url.contains("://") {
        url.to_owned()
    } else {
        format!(
            "{}/{}",
            repo.trim_end_matches('/'),
            url.trim_start_matches("./").trim_start_matches('/')
        )
    }
}

/// The scheme, host and port of a URL.
fn origin(url: &str) -> &str {
    let after = url.find("://").map_or(0, |i| i + 3);
    let end = url[after..].find('/').map_or(url.len(), |i| after + i);
    &url[..end]
}

/// GET `url`, at most `cap` bytes; credentials go only to the
/// repository's own origin.
fn get(
    client: &reqwest::blocking::Client,
    url: &str,
    repo: &str,
    access: &ChartAccess,
    cap: u64,
) -> Result<Vec<u8>, ChartError> {
    let mut req = client.get(url);
    if origin(url).eq_ignore_ascii_case(origin(repo))
        && let Some((user, password)) = access.basic()
    {
        req = req.basic_auth(user, Some(password));
    }
    let resp = req.send().map_err(|e| ChartError::Http {
        url: url.to_owned(),
        why: access.scrub(&super::error_chain(&e)),
    })?;
    let status = resp.status();
    if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
        return Err(ChartError::Denied {
            url: url.to_owned(),
            status: status.as_u16(),
            had_credentials: access.credentials.is_some(),
        });
    }
    if !status.is_success() {
        return Err(ChartError::Http {
            url: url.to_owned(),
            why: format!("the server answered {status}"),
        });
    }
    super::read_capped(resp, url, cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_urls_are_read_against_the_repository() {
        assert_eq!(
            absolute("http://h/charts/", "web-1.0.0.tgz"),
            "http://h/charts/web-1.0.0.tgz"
        );
        assert_eq!(
            absolute("http://h/c", "https://cdn/x.tgz"),
            "https://cdn/x.tgz"
        );
        assert_eq!(origin("https://Host:8443/a/b"), "https://Host:8443");
        assert_eq!(origin("http://h"), "http://h");
    }
}
