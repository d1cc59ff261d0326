//! Charts from Helm chart repositories (HTTP, with and without basic
//! auth) and an OCI registry (Debian's docker-registry): versions and
//! ranges resolved to the newest match, the listing kept for its TTL and
//! read again on a hard refresh, archives checked against their digest and
//! kept on disk so a fetched version costs no network again, and errors
//! that say what to do (never showing a password).

use crate::support;

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use sextant_render::{
    ChartAccess, ChartSpec, HelmParameter, Outcome, RenderOptions, Renderer, RendererConfig,
    Request, ServiceError, ToolConfig,
};
use sextant_source::{Credentials, Secret};
use sextant_testkit::{OciRegistry, StaticHttpServer, index_repo, package_chart};
use support::{error_chain, helm_bin, kubectl_bin};

fn renderer(cache: &Path, ttl: Duration) -> Renderer {
    Renderer::new(RendererConfig {
        cache_dir: cache.to_owned(),
        tools: ToolConfig {
            helm: Some(helm_bin()),
            kubectl: Some(kubectl_bin()),
            ..ToolConfig::default()
        },
        chart_listing_ttl: Some(ttl),
        ..RendererConfig::default()
    })
    .unwrap()
}

fn options() -> RenderOptions {
    let mut o = RenderOptions {
        namespace: "shop".into(),
        ..RenderOptions::default()
    };
    o.helm.release_name = Some("rel".into());
    o
}

fn pull(
    r: &Renderer,
    repo: &str,
    chart: &str,
    revision: &str,
    access: &ChartAccess,
    fresh: bool,
    options: &RenderOptions,
) -> Result<Outcome, ServiceError> {
    r.render(&Request {
        repo,
        revision,
        path: "",
        options,
        credentials: None,
        chart: Some(ChartSpec {
            name: chart,
            access,
            fresh,
        }),
    })
}

fn configmap(o: &Outcome, name: &str) -> Value {
    o.rendered
        .objects
        .iter()
        .find(|v| v["kind"] == "ConfigMap" && v["metadata"]["name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no ConfigMap {name} in {:?}", o.rendered.objects))
}

fn repo_with(dir: &Path, versions: &[&str]) {
    for v in versions {
        package_chart(dir, "web", v, &[]);
    }
    index_repo(dir);
}

#[test]
fn a_chart_repository_chart_renders_at_the_version_or_the_newest_match() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    repo_with(&repo, &["1.0.0", "1.2.0", "2.0.0", "2.1.0-rc.1"]);
    let server = StaticHttpServer::start(&repo, None);
    let url = server.url("");
    let r = renderer(&tmp.path().join("cache"), Duration::from_secs(600));
    let none = ChartAccess::default();

    let o = pull(&r, &url, "web", "1.*", &none, false, &options()).unwrap();
    assert_eq!(o.version.as_deref(), Some("1.2.0"));
    assert_eq!(o.revision(), "1.2.0");
    assert!(o.commit.is_none());
    let cm = configmap(&o, "rel-web");
    assert_eq!(cm["data"]["version"], "1.2.0");
    assert_eq!(cm["metadata"]["namespace"], "shop");

    let o = pull(&r, &url, "web", ">=1.0.0 <2.0.0", &none, false, &options()).unwrap();
    assert_eq!(o.version.as_deref(), Some("1.2.0"));
    let o = pull(&r, &url, "web", "*", &none, false, &options()).unwrap();
    assert_eq!(
        o.version.as_deref(),
        Some("2.0.0"),
        "pre-releases only when asked"
    );
    let o = pull(&r, &url, "web", "2.0.0", &none, false, &options()).unwrap();
    assert_eq!(configmap(&o, "rel-web")["data"]["version"], "2.0.0");

    // Helm options apply as to a chart in Git.
    let mut with_set = options();
    with_set.helm.parameters.push(HelmParameter {
        name: "greeting".into(),
        value: "bonjour".into(),
        force_string: false,
    });
    let o = pull(&r, &url, "web", "1.0.0", &none, false, &with_set).unwrap();
    assert_eq!(configmap(&o, "rel-web")["data"]["greeting"], "bonjour");

    let e = error_chain(&pull(&r, &url, "web", "3.*", &none, false, &options()).unwrap_err());
    assert!(e.contains("no version of chart web"), "{e}");
    assert!(
        e.contains("matches `3.*`") && e.contains("newest: 2.1.0-rc.1, 2.0.0"),
        "{e}"
    );
    let e = error_chain(&pull(&r, &url, "api", "1.0.0", &none, false, &options()).unwrap_err());
    assert!(e.contains("has no chart named api"), "{e}");
    let e = error_chain(&pull(&r, &url, "web", ">=banana", &none, false, &options()).unwrap_err());
    assert!(e.contains("not a version or a version range"), "{e}");
}

#[test]
fn a_fetched_version_costs_no_network_again_even_after_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    repo_with(&repo, &["1.0.0"]);
    let server = StaticHttpServer::start(&repo, None);
    let url = server.url("");
    let cache = tmp.path().join("cache");
    let none = ChartAccess::default();
    let r = renderer(&cache, Duration::from_secs(600));
    let first = pull(&r, &url, "web", "1.0.0", &none, false, &options()).unwrap();
    assert!(!first.cache_hit);
    let after_first = server.requests();
    assert_eq!(after_first, 2, "the index and the archive");
    let again = pull(&r, &url, "web", "1.0.0", &none, false, &options()).unwrap();
    assert!(again.cache_hit, "the render cache answers");
    drop(r);
    let restarted = renderer(&cache, Duration::from_secs(600));
    let o = pull(&restarted, &url, "web", "1.0.0", &none, false, &options()).unwrap();
    assert_eq!(o.version.as_deref(), Some("1.0.0"));
    assert_eq!(
        server.requests(),
        after_first,
        "no request after the first fetch"
    );
    // The store survives the repository going away.
    drop(server);
    let o = pull(&restarted, &url, "web", "1.0.0", &none, true, &options()).unwrap();
    assert_eq!(configmap(&o, "rel-web")["data"]["version"], "1.0.0");
}

#[test]
fn a_range_is_resolved_again_after_the_ttl_or_on_a_hard_refresh() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    repo_with(&repo, &["1.0.0"]);
    let server = StaticHttpServer::start(&repo, None);
    let url = server.url("");
    let none = ChartAccess::default();
    let r = renderer(&tmp.path().join("cache"), Duration::from_secs(600));
    let o = pull(&r, &url, "web", "1.*", &none, false, &options()).unwrap();
    assert_eq!(o.version.as_deref(), Some("1.0.0"));
    repo_with(&repo, &["1.1.0"]);
    let o = pull(&r, &url, "web", "1.*", &none, false, &options()).unwrap();
    assert_eq!(o.version.as_deref(), Some("1.0.0"), "the listing is kept");
    let o = pull(&r, &url, "web", "1.*", &none, true, &options()).unwrap();
    assert_eq!(
        o.version.as_deref(),
        Some("1.1.0"),
        "a hard refresh reads it again"
    );
    assert_eq!(configmap(&o, "rel-web")["data"]["version"], "1.1.0");

    let short = renderer(&tmp.path().join("cache2"), Duration::ZERO);
    let o = pull(&short, &url, "web", "1.*", &none, false, &options()).unwrap();
    assert_eq!(o.version.as_deref(), Some("1.1.0"));
    repo_with(&repo, &["1.2.0"]);
    let o = pull(&short, &url, "web", "1.*", &none, false, &options()).unwrap();
    assert_eq!(
        o.version.as_deref(),
        Some("1.2.0"),
        "past its TTL the listing is read again"
    );
}

#[test]
fn a_private_repository_needs_its_credentials_and_errors_never_show_them() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    repo_with(&repo, &["1.0.0"]);
    let server = StaticHttpServer::start(&repo, Some(("ci", "s3cr3t-pw")));
    let url = server.url("");
    let r = renderer(&tmp.path().join("cache"), Duration::from_secs(600));
    let e = pull(
        &r,
        &url,
        "web",
        "1.0.0",
        &ChartAccess::default(),
        false,
        &options(),
    )
    .unwrap_err();
    let text = error_chain(&e);
    assert!(
        text.contains("refused access (401)") && text.contains("needs credentials"),
        "{text}"
    );
    let wrong = ChartAccess {
        credentials: Some(Credentials::Basic {
            username: "ci".into(),
            password: Secret::new("wrong-pw"),
        }),
        ..ChartAccess::default()
    };
    let text = error_chain(&pull(&r, &url, "web", "1.0.0", &wrong, false, &options()).unwrap_err());
    assert!(text.contains("credentials were refused"), "{text}");
    assert!(!text.contains("wrong-pw"), "{text}");
    let right = ChartAccess {
        credentials: Some(Credentials::Basic {
            username: "ci".into(),
            password: Secret::new("s3cr3t-pw"),
        }),
        ..ChartAccess::default()
    };
    let o = pull(&r, &url, "web", "1.0.0", &right, false, &options()).unwrap();
    assert_eq!(configmap(&o, "rel-web")["data"]["version"], "1.0.0");
    assert!(!format!("{right:?}").contains("s3cr3t-pw"));
}

#[test]
fn an_archive_that_is_not_the_one_the_index_names_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    repo_with(&repo, &["1.0.0"]);
    // Another archive under the same name after indexing.
    let other = tmp.path().join("other");
    package_chart(
        &other,
        "web",
        "1.0.0",
        &[(
            "templates/extra.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: planted\n",
        )],
    );
    std::fs::copy(other.join("web-1.0.0.tgz"), repo.join("web-1.0.0.tgz")).unwrap();
    let server = StaticHttpServer::start(&repo, None);
    let r = renderer(&tmp.path().join("cache"), Duration::from_secs(600));
    let e = pull(
        &r,
        &server.url(""),
        "web",
        "1.0.0",
        &ChartAccess::default(),
        false,
        &options(),
    )
    .unwrap_err();
    let text = error_chain(&e);
    assert!(
        text.contains("has digest sha256:") && text.contains("refused"),
        "{text}"
    );
    let stored = walk(&tmp.path().join("cache/charts"));
    assert!(
        !stored.iter().any(|p| p.contains('@')),
        "nothing was stored: {stored:?}"
    );
}

#[test]
fn a_chart_in_an_oci_registry_renders_at_a_version_or_range() {
    let tmp = tempfile::tempdir().unwrap();
    let registry = OciRegistry::start();
    let packaged = tmp.path().join("packaged");
    for v in ["1.0.0", "1.1.0", "2.0.0"] {
        let archive = package_chart(&packaged, "web", v, &[]);
        registry.push(&archive, "charts");
    }
    let r = renderer(&tmp.path().join("cache"), Duration::from_secs(600));
    let access = ChartAccess {
        plain_http: true,
        ..ChartAccess::default()
    };
    let url = format!("oci://{}/charts", registry.host);
    let o = pull(&r, &url, "web", "1.*", &access, false, &options()).unwrap();
    assert_eq!(o.version.as_deref(), Some("1.1.0"));
    assert_eq!(configmap(&o, "rel-web")["data"]["version"], "1.1.0");
    let o = pull(&r, &url, "web", "2.0.0", &access, false, &options()).unwrap();
    assert_eq!(configmap(&o, "rel-web")["data"]["version"], "2.0.0");
    // enableOCI: the same registry without the scheme.
    let enabled = ChartAccess {
        oci: true,
        plain_http: true,
        ..ChartAccess::default()
    };
    let o = pull(
        &r,
        &format!("{}/charts", registry.host),
        "web",
        "1.0.0",
        &enabled,
        false,
        &options(),
    )
    .unwrap();
    assert_eq!(configmap(&o, "rel-web")["data"]["version"], "1.0.0");
    let e = error_chain(&pull(&r, &url, "api", "1.0.0", &access, false, &options()).unwrap_err());
    assert!(e.contains("not found in the registry"), "{e}");
}

/// Every path under `dir` (none when it does not exist).
fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        out.push(entry.path().display().to_string());
        if entry.path().is_dir() {
            out.extend(walk(&entry.path()));
        }
    }
    out
}
