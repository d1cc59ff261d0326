//! The HTTP surface: routes Kubernetes REST paths to the cluster's verbs,
//! negotiates content types, and turns results and errors into responses.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::cluster::{
    Cluster, DeleteOptions, FieldValidation, ListOptions, PatchType, Target, WriteOptions,
    parse_body,
};
use crate::error::{ApiError, ApiResult};
use crate::selectors::{FieldSelector, LabelSelector};
use crate::watch::{self, WatchOptions};
use crate::{discovery, openapi, table};

/// Shared state of the HTTP server.
#[derive(Debug)]
pub struct AppState {
    /// The cluster.
    pub cluster: Arc<Cluster>,
    /// `host:port` clients reach us at.
    pub address: String,
    /// Required bearer token, if any.
    pub token: Option<String>,
    /// Interval between watch bookmarks.
    pub bookmark_interval: Duration,
    /// Fault injection (off unless a test or flag switches it on).
    pub faults: Arc<crate::faults::Faults>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = json_response(
            StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            &self.to_status(),
        );
        if let Some(secs) = self.details.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

fn with_warnings(mut resp: Response, warnings: &[String]) -> Response {
    for w in warnings {
        let text = format!("299 - \"{}\"", w.replace('"', "\\\""));
        if let Ok(v) = HeaderValue::from_str(&text) {
            resp.headers_mut().append(header::WARNING, v);
        }
    }
    resp
}

/// Query parameters, first value wins.
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(raw: Option<&str>) -> Self {
        Query(serde_urlencoded::from_str(raw.unwrap_or("")).unwrap_or_default())
    }
    fn get(&self, k: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    }
    fn flag(&self, k: &str) -> bool {
        matches!(self.get(k), Some("true" | "1"))
    }
}

/// The single entry point for every request.
pub async fn handle(
    State(app): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query = Query::parse(raw.as_deref());
    tracing::debug!(
        %method,
        path = uri.path(),
        query = raw.as_deref().unwrap_or(""),
        content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or(""),
        accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or(""),
        "request"
    );
    if let Some(token) = &app.token {
        let ok = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|t| t == token);
        if !ok && !matches!(uri.path(), "/healthz" | "/readyz" | "/livez") {
            return ApiError::unauthorized().into_response();
        }
    }
    // After authentication, so the admin endpoint needs the token too.
    if let Some(resp) = app
        .faults
        .intercept(&method, uri.path(), raw.as_deref(), &body)
        .await
    {
        return resp;
    }
    // Typed clients (kubectl 1.32+ among them) send built-in kinds as
    // Kubernetes protobuf; decode those to JSON here. CBOR is refused with
    // 415, as servers without that serializer do.
    let ct = content_type(&headers);
    let body = if !body.is_empty() && ct.contains("protobuf") {
        match crate::protobuf::decode(&body) {
            Ok(v) => Bytes::from(v.to_string()),
            Err(e @ crate::protobuf::ProtobufError::UnsupportedKind { .. }) => {
                return ApiError::unsupported_media_type(format!(
                    "{e}; send this kind as application/json"
                ))
                .into_response();
            }
            Err(e) => {
                return ApiError::bad_request(format!("could not decode the protobuf body: {e}"))
                    .into_response();
            }
        }
    } else if !body.is_empty() && ct.contains("cbor") {
        return ApiError::unsupported_media_type(format!(
            "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got {ct})"
        ))
        .into_response();
    } else {
        body
    };
    match route(&app, &method, uri.path(), &query, &headers, body).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

fn accepts(headers: &HeaderMap, needle: &str) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains(needle))
}

fn discovery_version(headers: &HeaderMap) -> Option<&'static str> {
    let accept = headers.get(header::ACCEPT)?.to_str().ok()?;
    for part in accept.split(',') {
        if part.contains("as=APIGroupDiscoveryList") && part.contains("g=apidiscovery.k8s.io") {
            if part.contains("v=v2beta1") {
                return Some("v2beta1");
            }
            if part.contains("v=v2") {
                return Some("v2");
            }
        }
    }
    None
}

fn aggregated_response(app: &AppState, core: bool, version: &str) -> Response {
    let doc = discovery::aggregated(
        &app.cluster.registry(),
        core,
        &format!("apidiscovery.k8s.io/{version}"),
    );
    let mut resp = json_response(StatusCode::OK, &doc);
    let ct = format!("application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList");
    if let Ok(v) = HeaderValue::from_str(&ct) {
        resp.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    resp.headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Accept"));
    resp
}

async fn route(
    app: &Arc<AppState>,
    method: &Method,
    path: &str,
    query: &Query,
    headers: &HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let segs: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let reg = app.cluster.registry();
    let get_only = |v: Value| -> ApiResult<Response> {
        if method == Method::GET {
            Ok(json_response(StatusCode::OK, &v))
        } else {
            Err(ApiError::method_not_allowed())
        }
    };
    match segs.as_slice() {
        [] => get_only(
            json!({"paths": ["/api", "/api/v1", "/apis", "/healthz", "/livez", "/openapi/v3", "/readyz", "/version"]}),
        ),
        ["version"] => get_only(crate::version_info()),
        ["healthz" | "readyz" | "livez"] => Ok((StatusCode::OK, "ok").into_response()),
        ["api"] => match discovery_version(headers) {
            Some(v) => Ok(aggregated_response(app, true, v)),
            None => get_only(discovery::api_versions(&app.address)),
        },
        ["apis"] => match discovery_version(headers) {
            Some(v) => Ok(aggregated_response(app, false, v)),
            None => get_only(discovery::api_group_list(&reg)),
        },
        ["api", "v1"] => {
            get_only(discovery::resource_list(&reg, "", "v1").ok_or_else(ApiError::path_not_found)?)
        }
        ["apis", group] => {
            get_only(discovery::api_group(&reg, group).ok_or_else(ApiError::path_not_found)?)
        }
        ["apis", group, version] => get_only(
            discovery::resource_list(&reg, group, version).ok_or_else(ApiError::path_not_found)?,
        ),
        ["openapi", "v3"] => get_only(openapi::index(&reg)),
        ["openapi", "v3", "api", version] if reg.has_group_version("", version) => {
            get_only(openapi::document(&reg, "", version))
        }
        ["openapi", "v3", "apis", group, version] if reg.has_group_version(group, version) => {
            get_only(openapi::document(&reg, group, version))
        }
        ["api", version, rest @ ..] if !rest.is_empty() => {
            resource(app, method, "", version, rest, query, headers, body).await
        }
        ["apis", group, version, rest @ ..] if !rest.is_empty() => {
            resource(app, method, group, version, rest, query, headers, body).await
        }
        _ => Err(ApiError::path_not_found()),
    }
}

fn write_options(query: &Query, headers: &HeaderMap, method: &Method) -> ApiResult<WriteOptions> {
    let validation = match query.get("fieldValidation") {
        None | Some("") | Some("Warn") => FieldValidation::Warn,
        Some("Ignore") => FieldValidation::Ignore,
        Some("Strict") => FieldValidation::Strict,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "fieldValidation must be one of \"Ignore\", \"Warn\", or \"Strict\", got \"{other}\""
            )));
        }
    };
    let dry_run = match query.get("dryRun") {
        None | Some("") => false,
        Some("All") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Invalid dry run value: {other}"
            )));
        }
    };
    let field_manager = match query.get("fieldManager") {
        Some(m) if !m.is_empty() => m.to_string(),
        _ if method == Method::PATCH && is_apply(headers) => String::new(),
        _ => headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| {
                ua.split('/')
                    .next()
                    .unwrap_or(ua)
                    .chars()
                    .take(128)
                    .collect()
            })
            .filter(|s: &String| !s.is_empty())
            .unwrap_or_else(|| "unknown".to_string()),
    };
    Ok(WriteOptions {
        dry_run,
        field_manager,
        validation,
        force: query.flag("force"),
    })
}

fn content_type(headers: &HeaderMap) -> &str {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
}

fn is_apply(headers: &HeaderMap) -> bool {
    content_type(headers).starts_with("application/apply-patch")
}

fn list_options(query: &Query, target: &Target) -> ApiResult<ListOptions> {
    Ok(ListOptions {
        labels: LabelSelector::parse(query.get("labelSelector").unwrap_or(""))?,
        fields: FieldSelector::parse(
            query.get("fieldSelector").unwrap_or(""),
            &target.rt.kind,
            target.rt.custom.is_some(),
        )?,
        limit: query
            .get("limit")
            .filter(|l| !l.is_empty())
            .map(|l| {
                l.parse::<usize>()
                    .map_err(|_| ApiError::bad_request(format!("invalid limit: {l}")))
            })
            .transpose()?,
        continue_token: query
            .get("continue")
            .filter(|c| !c.is_empty())
            .map(str::to_string),
    })
}

fn delete_options(query: &Query, body: &[u8]) -> ApiResult<DeleteOptions> {
    let mut opts = DeleteOptions {
        propagation: query.get("propagationPolicy").map(str::to_string),
        dry_run: query.get("dryRun") == Some("All"),
        ..Default::default()
    };
    if !body.is_empty() {
        let b = parse_body(body)?;
        if let Some(p) = b.get("propagationPolicy").and_then(Value::as_str) {
            opts.propagation = Some(p.to_string());
        }
        if b.get("orphanDependents").and_then(Value::as_bool) == Some(true) {
            opts.propagation = Some("Orphan".into());
        }
        opts.uid = b
            .pointer("/preconditions/uid")
            .and_then(Value::as_str)
            .map(str::to_string);
        opts.resource_version = b
            .pointer("/preconditions/resourceVersion")
            .and_then(Value::as_str)
            .map(str::to_string);
        if let Some(d) = b.get("dryRun").and_then(Value::as_array)
            && d.iter().any(|v| v == "All")
        {
            opts.dry_run = true;
        }
    }
    if let Some(p) = &opts.propagation
        && !matches!(p.as_str(), "Background" | "Foreground" | "Orphan")
    {
        return Err(ApiError::bad_request(format!(
            "propagationPolicy: Unsupported value: \"{p}\": supported values: \"Foreground\", \"Background\", \"Orphan\""
        )));
    }
    Ok(opts)
}

#[allow(clippy::too_many_arguments, reason = "the parts of one request")]
async fn resource(
    app: &Arc<AppState>,
    method: &Method,
    group: &str,
    version: &str,
    rest: &[&str],
    query: &Query,
    headers: &HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let reg = app.cluster.registry();
    let lookup = |plural: &str| {
        reg.get(group, version, plural)
            .ok_or_else(ApiError::path_not_found)
    };
    // Resolve the path to (type, namespace, name, subresource).
    let (rt, namespace, name, sub) = match rest {
        ["namespaces", ns, plural, tail @ ..] if !matches!(*plural, "status" | "finalize") => {
            let rt = lookup(plural)?;
            if !rt.namespaced {
                return Err(ApiError::path_not_found());
            }
            match tail {
                [] => (rt, ns.to_string(), None, None),
                [name] => (rt, ns.to_string(), Some(name.to_string()), None),
                [name, sub] => (
                    rt,
                    ns.to_string(),
                    Some(name.to_string()),
                    Some(sub.to_string()),
                ),
                _ => return Err(ApiError::path_not_found()),
            }
        }
        [plural] => (lookup(plural)?, String::new(), None, None),
        [plural, name] => {
            let rt = lookup(plural)?;
            if rt.namespaced {
                return Err(ApiError::path_not_found());
            }
            (rt, String::new(), Some(name.to_string()), None)
        }
        [plural, name, sub] => {
            let rt = lookup(plural)?;
            if rt.namespaced {
                return Err(ApiError::path_not_found());
            }
            (
                rt,
                String::new(),
                Some(name.to_string()),
                Some(sub.to_string()),
            )
        }
        _ => return Err(ApiError::path_not_found()),
    };
    // Namespace `finalize` behaves like a status write of spec.finalizers.
    let sub = match sub.as_deref() {
        None => None,
        Some("status") if rt.status_subresource => Some("status".to_string()),
        Some("scale") if rt.scale.is_some() => Some("scale".to_string()),
        Some("finalize") if rt.kind == "Namespace" && rt.group.is_empty() => {
            Some("finalize".to_string())
        }
        Some(_) => return Err(ApiError::path_not_found()),
    };
    let target = Target {
        rt: rt.clone(),
        namespace,
        name: name.clone(),
        subresource: sub.clone(),
    };
    let cluster = &app.cluster;
    let table = accepts(headers, "as=Table");
    let metadata_only = accepts(headers, "as=PartialObjectMetadata");
    match (method.clone(), name.is_some()) {
        (Method::GET, true) => {
            let obj = cluster.get(&target)?;
            if metadata_only && sub.is_none() {
                return Ok(json_response(StatusCode::OK, &crate::partial::object(&obj)));
            }
            if table && sub.is_none() {
                return Ok(json_response(
                    StatusCode::OK,
                    &table::table(&rt, &[obj], None, query.get("includeObject")),
                ));
            }
            Ok(json_response(StatusCode::OK, &obj))
        }
        (Method::GET, false) => {
            let list = list_options(query, &target)?;
            if query.flag("watch") {
                let timeout = query
                    .get("timeoutSeconds")
                    .and_then(|t| t.parse::<u64>().ok())
                    .map(Duration::from_secs)
                    .unwrap_or(Duration::from_secs(1800));
                let opts = WatchOptions {
                    list,
                    resource_version: query.get("resourceVersion").map(str::to_string),
                    bookmarks: query.flag("allowWatchBookmarks"),
                    timeout,
                    send_initial_events: query.flag("sendInitialEvents"),
                    bookmark_interval: app.bookmark_interval,
                };
                let namespace = target.namespace.clone();
                let stream = watch::start(cluster.clone(), target, opts)?;
                let stream = if table {
                    futures::future::Either::Left(table::watch_as_table(rt.clone(), stream))
                } else if metadata_only {
                    futures::future::Either::Right(futures::future::Either::Left(
                        crate::partial::watch(stream),
                    ))
                } else {
                    futures::future::Either::Right(futures::future::Either::Right(stream))
                };
                let stream = app
                    .faults
                    .guard_watch(&rt.group, &rt.plural, &namespace, stream);
                let mut resp = Response::new(Body::from_stream(stream));
                resp.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                return Ok(resp);
            }
            let out = cluster.list_items(&target, &list)?;
            if metadata_only {
                return Ok(json_response(
                    StatusCode::OK,
                    &crate::partial::list(&out.presented(), &out.metadata),
                ));
            }
            if table {
                let items = out.presented();
                return Ok(json_response(
                    StatusCode::OK,
                    &table::table(&rt, &items, Some(&out.metadata), query.get("includeObject")),
                ));
            }
            let mut resp = (StatusCode::OK, out.to_json()).into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            Ok(resp)
        }
        (Method::POST, false) => {
            let opts = write_options(query, headers, method)?;
            let written = cluster.create(&target, parse_body(&body)?, &opts)?;
            Ok(with_warnings(
                json_response(StatusCode::CREATED, &written.object),
                &written.warnings,
            ))
        }
        (Method::PUT, true) => {
            let opts = write_options(query, headers, method)?;
            let mut t = target.clone();
            if sub.as_deref() == Some("finalize") {
                t.subresource = None;
            }
            let written = cluster.update(&t, parse_body(&body)?, &opts)?;
            Ok(with_warnings(
                json_response(StatusCode::OK, &written.object),
                &written.warnings,
            ))
        }
        (Method::PATCH, true) => {
            let opts = write_options(query, headers, method)?;
            let ct = content_type(headers);
            let kind = if ct.starts_with("application/json-patch+json") {
                PatchType::Json
            } else if ct.starts_with("application/merge-patch+json") {
                PatchType::Merge
            } else if ct.starts_with("application/strategic-merge-patch+json") {
                PatchType::Strategic
            } else if ct.starts_with("application/apply-patch") {
                PatchType::Apply
            } else {
                return Err(ApiError::unsupported_media_type(format!(
                    "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got {ct})"
                )));
            };
            let written = cluster.patch(&target, kind, &body, &opts)?;
            let code = if written.created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            Ok(with_warnings(
                json_response(code, &written.object),
                &written.warnings,
            ))
        }
        (Method::DELETE, true) => {
            let opts = delete_options(query, &body)?;
            let obj = cluster.delete(&target, &opts)?;
            Ok(json_response(StatusCode::OK, &obj))
        }
        (Method::DELETE, false) => {
            let opts = delete_options(query, &body)?;
            let list = list_options(query, &target)?;
            let out = cluster.delete_collection(&target, &list, &opts)?;
            Ok(json_response(StatusCode::OK, &out))
        }
        _ => Err(ApiError::method_not_allowed()),
    }
}
