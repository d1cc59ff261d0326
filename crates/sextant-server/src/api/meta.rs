//! AppProjects, ApplicationSets, repositories (credentials write-only),
//! clusters, version and settings.

use axum::extract::State;
use axum::response::Response;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::{DeleteParams, PostParams};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sextant_controller::repo_creds::{SECRET_TYPE_LABEL, normalise, secret_name};
use utoipa::ToSchema;

use super::{Body, PathArgs, masked, to_json};
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::state::Shared;

fn name_of(v: &Value) -> &str {
    v.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// Projects the caller may see.
#[utoipa::path(get, path = "/api/v1/projects", tag = "projects",
    responses((status = 200, body = Vec<Object>), (status = 401, body = crate::error::ErrorBody)))]
pub async fn projects(State(state): State<Shared>, who: Principal) -> ApiResult<Response> {
    let mut items: Vec<Value> = state
        .projects
        .all()
        .into_iter()
        .filter(|p| state.can(&who, "projects", "get", name_of(p)))
        .map(|p| (*p).clone())
        .collect();
    if state.projects.get("default").is_none() && state.can(&who, "projects", "get", "default") {
        items.insert(0, default_project(&state.config.namespace));
    }
    Ok(masked(Value::Array(items)))
}

/// The `default` project as it behaves when no AppProject named so exists:
/// everything allowed.
fn default_project(namespace: &str) -> Value {
    json!({
        "apiVersion": sextant_model::group::selected().api_version(), "kind": "AppProject",
        "metadata": {"name": "default", "namespace": namespace},
        "spec": {
            "sourceRepos": ["*"],
            "destinations": [{"server": "*", "namespace": "*"}],
            "clusterResourceWhitelist": [{"group": "*", "kind": "*"}],
        },
    })
}

/// One project.
#[utoipa::path(get, path = "/api/v1/projects/{name}", tag = "projects",
    params(("name" = String, Path, description = "Project name")),
    responses((status = 200, body = Object), (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn project(
    State(state): State<Shared>,
    who: Principal,
    PathArgs(name): PathArgs<String>,
) -> ApiResult<Response> {
    state.authorize(&who, "projects", "get", &name)?;
    match state.projects.get(&name) {
        Some(p) => Ok(masked((*p).clone())),
        None if name == "default" => Ok(masked(default_project(&state.config.namespace))),
        None => Err(ApiError::NotFound(format!("no project {name}"))),
    }
}

fn appset_object(v: &Value) -> String {
    let project = v
        .pointer("/spec/template/spec/project")
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty())
        .unwrap_or("default");
    format!("{project}/{}", name_of(v))
}

/// ApplicationSets the caller may see.
#[utoipa::path(get, path = "/api/v1/applicationsets", tag = "applicationsets",
    responses((status = 200, body = Vec<Object>), (status = 401, body = crate::error::ErrorBody)))]
pub async fn appsets(State(state): State<Shared>, who: Principal) -> ApiResult<Response> {
    let items: Vec<Value> = state
        .appsets
        .all()
        .into_iter()
        .filter(|s| state.can(&who, "applicationsets", "get", &appset_object(s)))
        .map(|s| (*s).clone())
        .collect();
    Ok(masked(Value::Array(items)))
}

/// One ApplicationSet.
#[utoipa::path(get, path = "/api/v1/applicationsets/{name}", tag = "applicationsets",
    params(("name" = String, Path, description = "ApplicationSet name")),
    responses((status = 200, body = Object), (status = 401, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn appset(
    State(state): State<Shared>,
    who: Principal,
    PathArgs(name): PathArgs<String>,
) -> ApiResult<Response> {
    let Some(set) = state
        .appsets
        .get(&name)
        .filter(|s| state.can(&who, "applicationsets", "get", &appset_object(s)))
    else {
        return Err(ApiError::NotFound(format!("no ApplicationSet {name}")));
    };
    Ok(masked((*set).clone()))
}

/// A repository's saved credentials, without their secret part.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Repository {
    /// The Secret holding it.
    pub name: String,
    /// The repository URL (or URL prefix, for `repo-creds`).
    pub url: String,
    /// `git` or `helm`.
    #[serde(rename = "type")]
    pub type_: String,
    /// `repository` (this URL) or `repo-creds` (every URL under it).
    pub scope: String,
    /// The user name, if one is saved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Whether a password or token is saved (never its value).
    pub has_password: bool,
    /// The project it is limited to, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
}

/// Saved repository credentials the caller may see.
#[utoipa::path(get, path = "/api/v1/repositories", tag = "repositories",
    responses((status = 200, body = Vec<Repository>), (status = 401, body = crate::error::ErrorBody)))]
pub async fn repositories(
    State(state): State<Shared>,
    who: Principal,
) -> ApiResult<axum::Json<Vec<Repository>>> {
    let items = state
        .settings
        .secrets_labelled(&["repository", "repo-creds"])
        .into_iter()
        .filter_map(|(name, s)| {
            let url = s.data.get("url")?.clone();
            let scope = ["sextant.dev/secret-type", "argocd.argoproj.io/secret-type"]
                .iter()
                .find_map(|k| s.labels.get(*k).cloned())
                .unwrap_or_default();
            Some(Repository {
                name,
                type_: s.data.get("type").cloned().unwrap_or_else(|| "git".into()),
                scope,
                username: s.data.get("username").cloned(),
                has_password: s.data.get("password").is_some_and(|p| !p.is_empty()),
                project: s.data.get("project").cloned(),
                url,
            })
        })
        .filter(|r| state.can(&who, "repositories", "get", &r.url))
        .collect();
    Ok(axum::Json(items))
}

/// New repository credentials.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewRepository {
    /// The repository URL, without a user or token in it.
    pub url: String,
    /// User name (omit for a token-only host).
    #[serde(default)]
    pub username: Option<String>,
    /// Password or token; stored, never returned.
    pub password: String,
    /// Save as a `repo-creds` prefix for every repository under the URL.
    #[serde(default)]
    pub prefix: bool,
    /// `git` (default) or `helm`.
    #[serde(default, rename = "type")]
    pub type_: Option<String>,
}

/// Save credentials for a repository (a labelled Secret, as `sextant repo
/// add` writes it).
#[utoipa::path(post, path = "/api/v1/repositories", tag = "repositories",
    request_body = NewRepository,
    responses((status = 200, body = Repository), (status = 400, body = crate::error::ErrorBody),
              (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
              (status = 409, body = crate::error::ErrorBody)))]
pub async fn add_repository(
    State(state): State<Shared>,
    who: Principal,
    Body(req): Body<NewRepository>,
) -> ApiResult<axum::Json<Repository>> {
    state.authorize(&who, "repositories", "create", &req.url)?;
    let url = req.url.trim();
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(ApiError::BadRequest(format!(
            "`{url}` is not a repository URL (https://host/path, http://, git://)"
        )));
    };
    if !matches!(scheme, "https" | "http" | "git" | "ssh" | "oci") || rest.is_empty() {
        return Err(ApiError::BadRequest(format!(
            "`{url}` is not a repository URL"
        )));
    }
    if rest
        .split('/')
        .next()
        .is_some_and(|host| host.contains('@'))
    {
        return Err(ApiError::BadRequest(
            "the URL carries a user name or token; send the URL without it and the user and password as fields".into(),
        ));
    }
    if req.password.is_empty() {
        return Err(ApiError::BadRequest("password is empty".into()));
    }
    let type_ = req.type_.clone().unwrap_or_else(|| "git".into());
    if !matches!(type_.as_str(), "git" | "helm") {
        return Err(ApiError::BadRequest(format!(
            "type `{type_}` is not git or helm"
        )));
    }
    let scope = if req.prefix {
        "repo-creds"
    } else {
        "repository"
    };
    let name = secret_name(url);
    let existing = state.settings.secret(&name);
    if let Some(s) = &existing
        && s.data
            .get("url")
            .is_none_or(|u| normalise(u) != normalise(url))
    {
        return Err(ApiError::Conflict(format!(
            "Secret {name} exists and holds something else; remove it first"
        )));
    }
    let mut data = json!({"url": url, "password": req.password, "type": type_});
    if let Some(u) = req.username.as_ref().filter(|u| !u.is_empty()) {
        data["username"] = json!(u);
    }
    let body: Secret = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": name, "namespace": state.config.namespace, "labels": {SECRET_TYPE_LABEL: scope}},
        "type": "Opaque",
        "stringData": data,
    }))
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    let api: Api<Secret> = Api::namespaced(state.client.clone(), &state.config.namespace);
    let written = if existing.is_some() {
        api.replace(&name, &PostParams::default(), &body).await
    } else {
        api.create(&PostParams::default(), &body).await
    };
    written.map_err(|e| ApiError::from_kube(&format!("saving Secret {name}"), &e))?;
    tracing::info!(repository = %url, by = %who.name, "repository credentials saved");
    Ok(axum::Json(Repository {
        name,
        url: url.to_owned(),
        type_,
        scope: scope.into(),
        username: req.username.filter(|u| !u.is_empty()),
        has_password: true,
        project: None,
    }))
}

/// Remove saved repository credentials (by Secret name).
#[utoipa::path(delete, path = "/api/v1/repositories/{name}", tag = "repositories",
    params(("name" = String, Path, description = "The Secret's name")),
    responses((status = 200, body = Object), (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn remove_repository(
    State(state): State<Shared>,
    who: Principal,
    PathArgs(name): PathArgs<String>,
) -> ApiResult<axum::Json<Value>> {
    let api: Api<Secret> = Api::namespaced(state.client.clone(), &state.config.namespace);
    let cached = state
        .settings
        .secrets_labelled(&["repository", "repo-creds"])
        .into_iter()
        .find(|(n, _)| *n == name)
        .and_then(|(_, s)| s.data.get("url").cloned());
    // One just added may not have reached the watch yet: ask the API
    // (for a name a Secret can have; any other names none).
    let url = match cached {
        Some(url) => Some(url),
        None if !is_object_name(&name) => None,
        None => api
            .get_opt(&name)
            .await
            .map_err(|e| ApiError::from_kube(&format!("reading Secret {name}"), &e))?
            .filter(|s| sextant_controller::repo_creds::scope(s).is_some())
            .and_then(|s| {
                s.data
                    .and_then(|d| {
                        d.get("url")
                            .map(|v| String::from_utf8_lossy(&v.0).into_owned())
                    })
                    .or_else(|| s.string_data.and_then(|d| d.get("url").cloned()))
            }),
    };
    let Some(url) = url else {
        return Err(ApiError::NotFound(format!(
            "no repository credentials named {name}"
        )));
    };
    state.authorize(&who, "repositories", "delete", &url)?;
    api.delete(&name, &DeleteParams::default())
        .await
        .map_err(|e| ApiError::from_kube(&format!("removing Secret {name}"), &e))?;
    Ok(axum::Json(json!({"removed": name, "url": url})))
}

/// Whether `name` can be a Kubernetes object's name (a DNS subdomain).
fn is_object_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// A cluster apps can deploy to.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Cluster {
    /// Its name.
    pub name: String,
    /// Its API server URL.
    pub server: String,
    /// How many apps deploy there.
    pub applications: usize,
}

/// The clusters: the one the server runs in (`in-cluster`) and those of
/// cluster Secrets (credentials never returned).
#[utoipa::path(get, path = "/api/v1/clusters", tag = "clusters",
    responses((status = 200, body = Vec<Cluster>), (status = 401, body = crate::error::ErrorBody)))]
pub async fn clusters(
    State(state): State<Shared>,
    who: Principal,
) -> ApiResult<axum::Json<Vec<Cluster>>> {
    let (apps, _) = state.apps.snapshot();
    let count = |server: &str, name: &str| {
        apps.iter()
            .filter(|a| {
                let d = &a.spec.destination;
                d.server.as_deref() == Some(server) || d.name.as_deref() == Some(name)
            })
            .count()
    };
    let mut out = vec![Cluster {
        name: "in-cluster".into(),
        server: "https://kubernetes.default.svc".into(),
        applications: count("https://kubernetes.default.svc", "in-cluster"),
    }];
    for (secret, s) in state.settings.secrets_labelled(&["cluster"]) {
        let server = s.data.get("server").cloned().unwrap_or_default();
        let name = s.data.get("name").cloned().unwrap_or(secret);
        out.push(Cluster {
            applications: count(&server, &name),
            name,
            server,
        });
    }
    out.retain(|c| state.can(&who, "clusters", "get", &c.server));
    Ok(axum::Json(out))
}

/// Versions.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Version {
    /// Sextant's version.
    pub version: String,
    /// The API group served.
    pub api_group: String,
    /// Whether helm was found (Helm charts render).
    pub helm: bool,
    /// The tools' fingerprint (versions), part of the render cache key.
    pub tools: String,
}

/// The server's version and its tools'.
#[utoipa::path(get, path = "/api/v1/version", tag = "settings",
    responses((status = 200, body = Version), (status = 401, body = crate::error::ErrorBody)))]
pub async fn version(
    State(state): State<Shared>,
    _who: Principal,
) -> ApiResult<axum::Json<Version>> {
    let tools = state.renderer.tools();
    Ok(axum::Json(Version {
        version: env!("CARGO_PKG_VERSION").into(),
        api_group: sextant_model::group::selected().name().into(),
        helm: tools.helm().is_ok(),
        tools: tools.fingerprint().to_owned(),
    }))
}

/// Settings the UI needs.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SettingsInfo {
    /// The public URL, when set (`url` in sextant-cm).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The namespace the server serves.
    pub namespace: String,
    /// The path prefix.
    pub base_href: String,
    /// The RBAC default role, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_role: Option<String>,
    /// Lines of the RBAC policy that were skipped, and why.
    pub policy_problems: Vec<String>,
}

/// Settings.
#[utoipa::path(get, path = "/api/v1/settings", tag = "settings",
    responses((status = 200, body = SettingsInfo), (status = 401, body = crate::error::ErrorBody)))]
pub async fn settings(State(state): State<Shared>, _who: Principal) -> ApiResult<Response> {
    let general = state.settings.general();
    let policy = state.settings.policy();
    let info = SettingsInfo {
        url: general
            .get("url")
            .cloned()
            .or_else(|| state.config.url.clone()),
        namespace: state.config.namespace.clone(),
        base_href: state.config.prefix() + "/",
        default_role: state
            .settings
            .configmap(crate::rbac::rbac_configmap())
            .and_then(|c| c.get("policy.default").cloned()),
        policy_problems: policy.map(|p| p.problems.clone()).unwrap_or_default(),
    };
    Ok(masked(to_json(&info)?))
}

#[cfg(test)]
mod tests {
    use super::is_object_name;

    #[test]
    fn only_names_a_secret_can_have_are_looked_up() {
        assert!(is_object_name("repo-git-example-a"));
        assert!(is_object_name("a.b-1"));
        assert!(!is_object_name(""));
        assert!(!is_object_name("Repo"));
        assert!(!is_object_name("-a"));
        assert!(!is_object_name("a/b"));
        assert!(!is_object_name("v\u{4}Ö840"));
        assert!(!is_object_name(&"a".repeat(254)));
    }
}
