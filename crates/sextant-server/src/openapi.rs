//! The OpenAPI 3.1 document at `/api/openapi.json`, generated from the
//! code: routes and the API's own types through utoipa's derives, and the
//! Application schema from the same Rust types the CRD is generated from
//! (`sextant_model::crd`), so the document cannot drift from either.

use std::borrow::Cow;

use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};

use crate::api;

/// Stands for the Application resource in the derived document; its real
/// schema is put in by [`document_value`].
pub struct ApplicationDoc;

impl PartialSchema for ApplicationDoc {
    fn schema() -> RefOr<Schema> {
        utoipa::openapi::ObjectBuilder::new().into()
    }
}

impl ToSchema for ApplicationDoc {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Application")
    }
}

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::auth::SESSION_COOKIE,
            ))),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Sextant API", description = "The REST API of `sextant server`: Applications, their resources, diffs and operations, projects, ApplicationSets, repositories, clusters, accounts and sessions. Authenticate with `Authorization: Bearer <token>` (an API token, or the token of `POST /api/v1/session` with `\"token\": true`) or the session cookie plus `X-Sextant-CSRF` on writes."),
    paths(
        api::session::login, api::session::logout, api::session::userinfo,
        api::account::list, api::account::get, api::account::update_password,
        api::account::create_token, api::account::delete_token,
        api::apps::list, api::apps::get, api::apps::create, api::apps::update, api::apps::delete,
        api::apps::history,
        api::ops::sync, api::ops::rollback, api::ops::terminate, api::ops::refresh,
        api::resources::tree, api::resources::managed, api::resources::diff,
        api::resources::manifests, api::resources::events,
        api::actions::list, api::actions::run, api::actions::run_v2,
        api::stream::applications, api::stream::resource_tree,
        api::meta::projects, api::meta::project, api::meta::appsets, api::meta::appset,
        api::meta::repositories, api::meta::add_repository, api::meta::remove_repository,
        api::meta::clusters, api::meta::version, api::meta::settings,
        crate::webhook::receive,
    ),
    components(schemas(ApplicationDoc, crate::error::ErrorBody, api::stream::AppEventData)),
    modifiers(&Security),
    security(("bearer" = []), ("session" = [])),
)]
struct Doc;

/// OpenAPI 3.0's `nullable: true` as 3.1 says it (`type: [T, "null"]`).
fn nullable_to_31(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if map.remove("nullable") == Some(Value::Bool(true))
                && let Some(Value::String(t)) = map.get("type").cloned()
            {
                map.insert("type".into(), json!([t, "null"]));
            }
            map.values_mut().for_each(nullable_to_31);
        }
        Value::Array(items) => items.iter_mut().for_each(nullable_to_31),
        _ => {}
    }
}

/// The Application schema from the CRD's.
fn application_schema() -> Value {
    let crd = sextant_model::crd::application(sextant_model::group::selected());
    let mut schema = crd
        .pointer("/spec/versions/0/schema/openAPIV3Schema")
        .cloned()
        .unwrap_or_else(|| json!({"type": "object"}));
    nullable_to_31(&mut schema);
    schema
}

/// The document as JSON.
pub fn document_value() -> Value {
    let mut doc = serde_json::to_value(Doc::openapi()).unwrap_or_else(|_| json!({}));
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        schemas.insert("Application".into(), application_schema());
    }
    // Public routes need no credentials.
    for (path, method) in [("/api/v1/session", "post"), ("/api/webhook", "post")] {
        if let Some(op) = doc
            .pointer_mut(&format!("/paths/{}/{method}", path.replace('/', "~1")))
            .and_then(Value::as_object_mut)
        {
            op.insert("security".into(), json!([]));
        }
    }
    doc
}

/// `GET /api/openapi.json`.
pub async fn document() -> Response {
    axum::Json(document_value()).into_response()
}
