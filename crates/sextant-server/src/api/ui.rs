//! The web UI's files. `ui/dist` (built by `./scripts/build-ui.sh`) is
//! compiled into the binary when it exists (`build.rs` rebuilds this
//! crate when it appears, changes or goes); without it the server answers
//! `/` with a page that says how to build the UI.
//!
//! - `/`, `/index.html` and every other GET path that is not the API,
//!   `/healthz`, `/readyz` or a file of the UI get `index.html` (the UI
//!   routes on the client), with `<base href>` set to the server's path
//!   prefix so relative asset and API URLs work under `--base-href`.
//! - The UI's files get their content type; Vite's content-hashed files
//!   under `assets/` are cached for a year, the others are revalidated
//!   (ETag) and `index.html` is never cached.
//!
//! No script or style is inline (the Content-Security-Policy allows
//! neither).

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::error::ApiError;
use crate::state::Shared;

#[derive(rust_embed::RustEmbed)]
#[folder = "../../ui/dist"]
#[allow_missing = true]
struct Assets;

const PLACEHOLDER: &str = "<!doctype html>
<html lang=\"en\">
<head><meta charset=\"utf-8\"><title>Sextant</title></head>
<body>
<h1>Sextant</h1>
<p>The API server is running. The web UI is not part of this build.</p>
<p>To build it in, run <code>./scripts/build-ui.sh</code> in Sextant's source
tree (it needs Node.js and npm) and then build the server again
(<code>cargo build -p sextant-cli</code>).</p>
<p>The API is described at <a href=\"api/openapi.json\">api/openapi.json</a>;
log in with <code>sextant login</code> or <code>POST api/v1/session</code>.</p>
</body>
</html>
";

/// Cache policy of hashed files (their name changes with their content).
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Cache policy of the UI's other files: keep, but ask again each time.
const REVALIDATE: &str = "no-cache";

/// What a GET path outside `/api/v1` is.
#[derive(Debug, PartialEq, Eq)]
enum Target<'a> {
    /// The app's page (a client route).
    Index,
    /// One of the UI's files.
    File(&'a str),
    /// Nothing: the API's, health checks' and missing assets' 404.
    Missing,
}

fn classify(path: &str, exists: impl Fn(&str) -> bool) -> Target<'_> {
    let path = path.trim_start_matches('/');
    let first = path.split('/').next().unwrap_or("");
    if matches!(first, "api" | "healthz" | "readyz") {
        return Target::Missing;
    }
    if path.is_empty() || path == "index.html" {
        return Target::Index;
    }
    if exists(path) {
        return Target::File(path);
    }
    if first == "assets" {
        // A stale hashed file: answering with the page would hide it.
        return Target::Missing;
    }
    Target::Index
}

fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit_once('.').map_or("", |(_, e)| e);
    match ext.to_ascii_lowercase().as_str() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "ttf" => "font/ttf",
        "txt" => "text/plain; charset=utf-8",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

fn cache_control(path: &str) -> &'static str {
    if path.starts_with("assets/") {
        IMMUTABLE
    } else {
        REVALIDATE
    }
}

fn escape_attr(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `index.html` with its `<base href>` pointing at `prefix` (`""` or
/// `/sextant`).
fn with_base(html: &str, prefix: &str) -> String {
    let href = format!("{}/", escape_attr(prefix));
    if let Some(start) = html.find("<base href=\"") {
        let value = start + "<base href=\"".len();
        if let Some(len) = html[value..].find('"') {
            return format!("{}{href}{}", &html[..value], &html[value + len..]);
        }
    }
    // No <base> in the page: add one first thing in <head>.
    match html.find("<head>") {
        Some(i) => {
            let at = i + "<head>".len();
            format!("{}<base href=\"{href}\">{}", &html[..at], &html[at..])
        }
        None => html.to_owned(),
    }
}

/// The UI's page; without the UI, the placeholder (a 404 but at `/`).
fn index_page(state: &Shared, root: bool) -> Response {
    let Some(file) = Assets::get("index.html") else {
        let status = if root {
            StatusCode::OK
        } else {
            StatusCode::NOT_FOUND
        };
        return (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            PLACEHOLDER,
        )
            .into_response();
    };
    let html = String::from_utf8_lossy(&file.data);
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        with_base(&html, &state.config.prefix()),
    )
        .into_response()
}

async fn index(State(state): State<Shared>) -> Response {
    index_page(&state, true)
}

fn file(path: &str, headers: &HeaderMap) -> Response {
    let Some(file) = Assets::get(path) else {
        return ApiError::NotFound(format!("the UI has no file {path}")).into_response();
    };
    let etag = format!(
        "\"{}\"",
        file.metadata
            .sha256_hash()
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let cache = cache_control(path);
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(header::CONTENT_TYPE, content_type(path))],
            file.data.into_owned(),
        )
            .into_response()
    };
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    response
}

/// Everything no route took: the UI's files and client routes, or the
/// API's 404.
async fn fallback(
    State(state): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let not_found =
        || ApiError::NotFound("no such route; the API is described at /api/openapi.json".into());
    if method != Method::GET && method != Method::HEAD {
        return not_found().into_response();
    }
    match classify(uri.path(), |p| Assets::get(p).is_some()) {
        Target::Index => index_page(&state, uri.path().trim_matches('/').is_empty()),
        Target::File(path) => file(path, &headers),
        Target::Missing => not_found().into_response(),
    }
}

/// Whether the UI was built into this binary.
pub fn built_in() -> bool {
    Assets::get("index.html").is_some()
}

/// The UI's routes.
pub fn routes() -> Router<Shared> {
    Router::new().route("/", get(index)).fallback(fallback)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_paths() {
        let exists = |p: &str| matches!(p, "assets/index-abc123.js" | "favicon.svg");
        assert_eq!(classify("/", exists), Target::Index);
        assert_eq!(classify("/index.html", exists), Target::Index);
        assert_eq!(classify("/applications", exists), Target::Index);
        assert_eq!(classify("/applications/web.v2", exists), Target::Index);
        assert_eq!(classify("/settings/accounts", exists), Target::Index);
        assert_eq!(
            classify("/assets/index-abc123.js", exists),
            Target::File("assets/index-abc123.js")
        );
        assert_eq!(
            classify("/favicon.svg", exists),
            Target::File("favicon.svg")
        );
        assert_eq!(classify("/assets/index-old.js", exists), Target::Missing);
        assert_eq!(classify("/api", exists), Target::Missing);
        assert_eq!(classify("/api/v2/things", exists), Target::Missing);
        assert_eq!(classify("/healthz", exists), Target::Missing);
        assert_eq!(classify("/readyz/x", exists), Target::Missing);
        // Only whole segments are reserved.
        assert_eq!(classify("/apiary", exists), Target::Index);
    }

    #[test]
    fn content_types_and_caching() {
        assert_eq!(
            content_type("assets/index-1.js"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(
            content_type("assets/index-1.CSS"),
            "text/css; charset=utf-8"
        );
        assert_eq!(content_type("favicon.svg"), "image/svg+xml");
        assert_eq!(content_type("x.woff2"), "font/woff2");
        assert_eq!(content_type("LICENSE"), "application/octet-stream");
        assert_eq!(cache_control("assets/index-1.js"), IMMUTABLE);
        assert_eq!(cache_control("favicon.svg"), REVALIDATE);
    }

    #[test]
    fn sets_the_base_href() {
        let html = "<html><head><meta charset=\"utf-8\" /><base href=\"/\" /></head></html>";
        assert_eq!(
            with_base(html, "/sextant"),
            "<html><head><meta charset=\"utf-8\" /><base href=\"/sextant/\" /></head></html>"
        );
        assert_eq!(with_base(html, ""), html);
        assert_eq!(
            with_base("<head><title>x</title></head>", "/a\"b"),
            "<head><base href=\"/a&quot;b/\"><title>x</title></head>"
        );
    }

    #[test]
    fn the_page_or_the_placeholder() {
        // Either way `/` has an HTML page; which one depends on whether
        // ui/dist existed when this was compiled.
        if built_in() {
            let file = Assets::get("index.html").map(|f| f.data.into_owned());
            let html = String::from_utf8(file.unwrap_or_default()).unwrap_or_default();
            assert!(html.contains("<base href="), "index.html has a <base href>");
            assert!(
                !html.contains("<script>") && !html.contains("style="),
                "no inline script or style: {html}"
            );
        } else {
            assert!(PLACEHOLDER.contains("./scripts/build-ui.sh"));
        }
    }
}
