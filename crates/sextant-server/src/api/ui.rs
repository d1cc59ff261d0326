//! The web UI's files. Until the UI is built into the binary this serves
//! one static page that says where the API is (no script, no inline
//! style: the Content-Security-Policy allows neither).

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::state::Shared;

const PLACEHOLDER: &str = "<!doctype html>
<html lang=\"en\">
<head><meta charset=\"utf-8\"><title>Sextant</title></head>
<body>
<h1>Sextant</h1>
<p>The API server is running. The web UI is not part of this build yet.</p>
<p>The API is described at <a href=\"api/openapi.json\">api/openapi.json</a>;
log in with <code>sextant login</code> or <code>POST api/v1/session</code>.</p>
</body>
</html>
";

async fn index() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        PLACEHOLDER,
    )
}

/// The UI's routes.
pub fn routes() -> Router<Shared> {
    Router::new().route("/", get(index))
}
