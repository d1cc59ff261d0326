//! Charts in OCI registries, read with the distribution API itself (no
//! `helm registry login`, no network for helm): tags listed for ranges,
//! the manifest read for the chart layer's digest, the layer fetched and
//! checked. Registries that want a bearer token get one from the realm
//! their challenge names, with the repository's credentials if any.

use serde::Deserialize;

use super::access::ChartAccess;
use super::{ChartError, MAX_ARCHIVE_BYTES, MAX_INDEX_BYTES};

/// The media type of a Helm chart layer.
pub const CHART_LAYER: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
const MANIFEST_TYPES: &str = "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

/// A chart's place in a registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OciChart {
    /// `https://host[:port]` (or `http://` for plain HTTP).
    pub base: String,
    /// The repository path in the registry (`charts/web`).
    pub name: String,
}

impl OciChart {
    /// The chart `chart` under `repo` (`oci://host/path`, or `host/path`
    /// with `enableOCI`).
    pub fn new(repo: &str, chart: &str, access: &ChartAccess) -> Result<Self, ChartError> {
        let rest = repo
            .trim()
            .strip_prefix("oci://")
            .unwrap_or(repo.trim())
            .trim_end_matches('/');
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        if host.is_empty() {
            return Err(ChartError::Index {
                repo: repo.to_owned(),
                why: "the OCI repository URL has no registry host".into(),
            });
        }
        let scheme = if access.plain_http { "http" } else { "https" };
        let name = [path, chart.trim_matches('/')]
            .iter()
            .filter(|p| !p.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join("/");
        Ok(Self {
            base: format!("{scheme}://{host}"),
            name,
        })
    }
}

/// A conversation with one registry: the bearer token once obtained.
pub struct Session<'a> {
    client: &'a reqwest::blocking::Client,
    access: &'a ChartAccess,
    token: Option<String>,
}

#[derive(Deserialize)]
struct Tags {
    #[serde(default)]
    tags: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct Manifest {
    #[serde(default)]
    layers: Vec<Layer>,
}

#[derive(Deserialize)]
struct Layer {
    #[serde(rename = "mediaType")]
    media_type: String,
    digest: String,
}

#[derive(Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
}

impl<'a> Session<'a> {
    /// Start talking to a registry.
    pub fn new(client: &'a reqwest::blocking::Client, access: &'a ChartAccess) -> Self {
        Self {
            client,
            access,
            token: None,
        }
    }

    /// The versions the registry has of `chart` (tags, `_` read as `+`).
    pub fn versions(&mut self, chart: &OciChart) -> Result<Vec<String>, ChartError> {
        let mut url = format!("{}/v2/{}/tags/list", chart.base, chart.name);
        let mut out = Vec::new();
        // Registries page long lists with a `Link` header.
        for _ in 0..100 {
            let (body, link) = self.get(&url, None, MAX_INDEX_BYTES)?;
            let tags: Tags = serde_json::from_slice(&body).map_err(|e| ChartError::Http {
                url: url.clone(),
                why: format!("the tag list does not parse: {e}"),
            })?;
            out.extend(
                tags.tags
                    .unwrap_or_default()
                    .into_iter()
                    .map(|t| t.replace('_', "+")),
            );
            match link {
                Some(next) => url = format!("{}{}", chart.base, next),
                None => break,
            }
        }
        Ok(out)
    }

    /// The digest of the chart layer of `version`.
    pub fn layer(&mut self, chart: &OciChart, version: &str) -> Result<String, ChartError> {
        let url = format!(
            "{}/v2/{}/manifests/{}",
            chart.base,
            chart.name,
            version.replace('+', "_")
        );
        let (body, _) = self.get(&url, Some(MANIFEST_TYPES), MAX_INDEX_BYTES)?;
        let manifest: Manifest = serde_json::from_slice(&body).map_err(|e| ChartError::Http {
            url: url.clone(),
            why: format!("the manifest does not parse: {e}"),
        })?;
        manifest
            .layers
            .into_iter()
            .find(|l| l.media_type == CHART_LAYER)
            .map(|l| l.digest)
            .ok_or_else(|| ChartError::Http {
                url,
                why: format!(
                    "the manifest has no layer of type {CHART_LAYER}: it is not a Helm chart"
                ),
            })
    }

    /// The chart archive with layer `digest`.
    pub fn archive(&mut self, chart: &OciChart, digest: &str) -> Result<Vec<u8>, ChartError> {
        let url = format!("{}/v2/{}/blobs/{digest}", chart.base, chart.name);
        Ok(self.get(&url, None, MAX_ARCHIVE_BYTES)?.0)
    }

    /// GET with the token (asked for on a 401), at most `cap` bytes; the
    /// next page's path from a `Link` header.
    fn get(
        &mut self,
        url: &str,
        accept: Option<&str>,
        cap: u64,
    ) -> Result<(Vec<u8>, Option<String>), ChartError> {
        let mut tried_auth = false;
        loop {
            let mut req = self.client.get(url);
            if let Some(a) = accept {
                req = req.header(reqwest::header::ACCEPT, a);
            }
            match (&self.token, self.access.basic()) {
                (Some(t), _) => req = req.bearer_auth(t),
                (None, Some((u, p))) if tried_auth => req = req.basic_auth(u, Some(p)),
                _ => {}
            }
            let resp = req.send().map_err(|e| self.http(url, &e))?;
            let status = resp.status();
            if status == reqwest::StatusCode::UNAUTHORIZED && !tried_auth {
                tried_auth = true;
                let challenge = resp
                    .headers()
                    .get(reqwest::header::WWW_AUTHENTICATE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                if let Some(params) = challenge.strip_prefix("Bearer ") {
                    self.token = Some(self.bearer(url, params)?);
                }
                continue;
            }
            if status == reqwest::StatusCode::UNAUTHORIZED
                || status == reqwest::StatusCode::FORBIDDEN
            {
                return Err(ChartError::Denied {
                    url: url.to_owned(),
                    status: status.as_u16(),
                    had_credentials: self.access.credentials.is_some(),
                });
            }
            if status == reqwest::StatusCode::NOT_FOUND {
                return Err(ChartError::Http {
                    url: url.to_owned(),
                    why: "not found in the registry (check the repository URL, the chart name and the version)".into(),
                });
            }
            if !status.is_success() {
                return Err(ChartError::Http {
                    url: url.to_owned(),
                    why: format!("the registry answered {status}"),
                });
            }
            let link = resp
                .headers()
                .get(reqwest::header::LINK)
                .and_then(|v| v.to_str().ok())
                .and_then(next_link);
            return Ok((super::read_capped(resp, url, cap)?, link));
        }
    }

    /// A token from the realm of a `Bearer` challenge.
    fn bearer(&self, url: &str, params: &str) -> Result<String, ChartError> {
        let realm = param(params, "realm").ok_or_else(|| ChartError::Http {
            url: url.to_owned(),
            why: "the registry asked for a token without saying where to get it".into(),
        })?;
        let mut query = Vec::new();
        for key in ["service", "scope"] {
            if let Some(v) = param(params, key) {
                query.push((key, v));
            }
        }
        let mut req = self.client.get(&realm).query(&query);
        if let Some((u, p)) = self.access.basic() {
            req = req.basic_auth(u, Some(p));
        }
        let resp = req.send().map_err(|e| self.http(&realm, &e))?;
        if !resp.status().is_success() {
            return Err(ChartError::Denied {
                url: realm,
                status: resp.status().as_u16(),
                had_credentials: self.access.credentials.is_some(),
            });
        }
        let answer: TokenAnswer = resp.json().map_err(|e| self.http(&realm, &e))?;
        answer
            .token
            .or(answer.access_token)
            .ok_or_else(|| ChartError::Http {
                url: realm,
                why: "the token service answered without a token".into(),
            })
    }

    fn http(&self, url: &str, e: &reqwest::Error) -> ChartError {
        ChartError::Http {
            url: url.to_owned(),
            why: self.access.scrub(&super::error_chain(e)),
        }
    }
}

/// `key="value"` out of a challenge's parameters.
fn param(params: &str, key: &str) -> Option<String> {
    let start = params.find(&format!("{key}=\""))? + key.len() + 2;
    let end = params[start..].find('"')? + start;
    Some(params[start..end].to_owned())
}

/// The target of `rel="next"` in a `Link` header.
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, rel) = part.split_once(';')?;
        rel.contains("rel=\"next\"").then(|| {
            target
                .trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_challenges_and_links_are_read() {
        let a = ChartAccess::default();
        let c = OciChart::new("oci://reg.example:5000/charts/", "web", &a).unwrap();
        assert_eq!(c.base, "https://reg.example:5000");
        assert_eq!(c.name, "charts/web");
        let plain = ChartAccess {
            plain_http: true,
            ..Default::default()
        };
        let c = OciChart::new("127.0.0.1:5000", "web", &plain).unwrap();
        assert_eq!(
            (c.base.as_str(), c.name.as_str()),
            ("http://127.0.0.1:5000", "web")
        );
        let ch = r#"realm="https://auth.example/token",service="registry",scope="repository:charts/web:pull""#;
        assert_eq!(
            param(ch, "realm").as_deref(),
            Some("https://auth.example/token")
        );
        assert_eq!(
            param(ch, "scope").as_deref(),
            Some("repository:charts/web:pull")
        );
        assert_eq!(
            next_link(r#"</v2/web/tags/list?n=2&last=b>; rel="next""#).as_deref(),
            Some("/v2/web/tags/list?n=2&last=b")
        );
    }
}
