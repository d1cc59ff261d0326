//! `POST /api/webhook`: a Git server says a branch moved; the
//! Applications and ApplicationSets that follow it are refreshed at once
//! (annotations the controllers act on), instead of at the next poll.
//!
//! - `payload.rs`: providers, signatures, push payloads (pure).
//! - here: which apps and sets a push concerns, and the refresh.
//!
//! Shared secrets come from Secret `sextant-webhook` (keys
//! `github.secret`, `gitlab.secret`, `gitea.secret`, `bitbucket.uuid`,
//! `bitbucketserver.secret`) or Argo CD's `argocd-secret` (`webhook.*`);
//! with a secret set, a request that is not signed with it is refused.

pub mod payload;

use std::collections::HashSet;

use axum::Json;
use axum::extract::State;
use bytes::Bytes;
use http::HeaderMap;
use kube::Api;
use kube::api::{Patch, PatchParams};
use serde_json::{Value, json};
use sextant_model::annotations::{
    APPSET_REFRESH, ARGOCD_MANIFEST_GENERATE_PATHS, MANIFEST_GENERATE_PATHS, REFRESH,
};
use sextant_model::{Application, ApplicationSet};

use crate::error::{ApiError, ApiResult};
use crate::state::{AppState, Shared};
use payload::{Provider, Push, repo_key};

/// The Secret holding the webhook secrets.
pub const WEBHOOK_SECRET: &str = "sextant-webhook";
/// Argo CD's Secret, read as it is.
const ARGOCD_SECRET: &str = "argocd-secret";

/// Receive a push.
#[utoipa::path(post, path = "/api/webhook", tag = "webhook",
    request_body(content = Object, description = "The Git server's push payload"),
    responses((status = 200, body = Object, description = "What the push refreshed"),
              (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody)))]
pub async fn receive(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let provider = Provider::detect(&headers).map_or("unknown", Provider::name);
    let outcome = handle(&state, &headers, &body).await;
    let result = match &outcome {
        Ok(Json(v)) if v.get("ignored").is_some() => "ignored",
        Ok(_) => "accepted",
        Err(ApiError::Unauthenticated(_)) => "unauthorized",
        Err(ApiError::BadRequest(_)) => "malformed",
        Err(_) => "error",
    };
    metrics::counter!(sextant_metrics::names::WEBHOOK_REQUESTS, "provider" => provider, "result" => result)
        .increment(1);
    outcome
}

async fn handle(state: &Shared, headers: &HeaderMap, body: &Bytes) -> ApiResult<Json<Value>> {
    let Some(provider) = Provider::detect(headers) else {
        return Err(ApiError::BadRequest(
            "not a webhook this server knows: no X-GitHub-Event, X-Gitlab-Event, X-Gitea-Event or X-Event-Key header".into(),
        ));
    };
    let secret = secret_for(state, provider);
    if let Err(why) = payload::verify(provider, headers, body, secret.as_deref()) {
        tracing::warn!(provider = provider.name(), reason = %why, "webhook refused");
        return Err(ApiError::Unauthenticated(format!("webhook refused: {why}")));
    }
    if !provider.is_push(headers) {
        return Ok(Json(
            json!({"provider": provider.name(), "ignored": "not a push event"}),
        ));
    }
    let push = payload::parse(provider, body).map_err(ApiError::BadRequest)?;
    let keys: HashSet<String> = push.urls.iter().map(|u| repo_key(u)).collect();

    let (apps, _) = state.apps.snapshot();
    let app_names: Vec<String> = apps
        .iter()
        .filter(|a| app_concerned(a, &push, &keys))
        .filter_map(|a| a.metadata.name.clone())
        .collect();
    let set_names: Vec<String> = state
        .appsets
        .all()
        .iter()
        .filter_map(|v| serde_json::from_value::<ApplicationSet>((**v).clone()).ok())
        .filter(|s| set_concerned(s, &push, &keys))
        .filter_map(|s| s.metadata.name)
        .collect();

    let apps_api: Api<Application> = Api::namespaced(state.client.clone(), &state.config.namespace);
    let sets_api: Api<ApplicationSet> =
        Api::namespaced(state.client.clone(), &state.config.namespace);
    let mut failed = Vec::new();
    for name in &app_names {
        let patch = json!({"metadata": {"annotations": {REFRESH: "normal"}}});
        if let Err(e) = apps_api
            .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            failed.push(format!("Application {name}: {e}"));
        }
    }
    for name in &set_names {
        let patch = json!({"metadata": {"annotations": {APPSET_REFRESH: "true"}}});
        if let Err(e) = sets_api
            .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            failed.push(format!("ApplicationSet {name}: {e}"));
        }
    }
    tracing::info!(provider = provider.name(), refs = ?push.refs, apps = app_names.len(), sets = set_names.len(), "webhook push");
    if !failed.is_empty() {
        return Err(ApiError::Unavailable(format!(
            "the push was understood but refreshing failed for {}; the next poll will pick the change up",
            failed.join("; ")
        )));
    }
    Ok(Json(json!({
        "provider": provider.name(),
        "refs": push.refs,
        "applications": app_names,
        "applicationSets": set_names,
    })))
}

/// The provider's secret: `sextant-webhook`, else `argocd-secret`.
fn secret_for(state: &AppState, provider: Provider) -> Option<String> {
    let key = match provider {
        Provider::BitbucketCloud => "bitbucket.uuid".to_owned(),
        Provider::Gitea => "gitea.secret".to_owned(),
        p => format!("{}.secret", p.name()),
    };
    if let Some(v) = state
        .settings
        .secret(WEBHOOK_SECRET)
        .and_then(|s| s.data.get(&key).cloned())
    {
        return Some(v);
    }
    let argo_key = match provider {
        Provider::Gitea => "webhook.gogs.secret".to_owned(),
        _ => format!("webhook.{key}"),
    };
    state
        .settings
        .secret(ARGOCD_SECRET)
        .and_then(|s| s.data.get(&argo_key).cloned())
}

/// Whether a push to `keys` moves what `target` (a branch, tag, ref, or
/// HEAD/empty for the default branch) names.
pub fn revision_moved(target: Option<&str>, push: &Push) -> bool {
    let target = target.map(str::trim).unwrap_or("");
    push.refs.iter().any(|r| {
        let branch = r.strip_prefix("refs/heads/");
        let tag = r.strip_prefix("refs/tags/");
        match target {
            "" | "HEAD" => match (&push.default_branch, branch) {
                (Some(default), Some(b)) => b == default,
                // The default branch is not known: any branch may be it.
                (None, Some(_)) => true,
                _ => false,
            },
            t => t == r || Some(t) == branch || Some(t) == tag,
        }
    })
}

/// Whether the push concerns the app: its repository, its revision, and
/// (when it names them and the push lists files) its paths.
pub fn app_concerned(app: &Application, push: &Push, keys: &HashSet<String>) -> bool {
    let sources = app
        .spec
        .source
        .iter()
        .chain(app.spec.sources.iter().flatten());
    let mut hit = false;
    for s in sources {
        if keys.contains(&repo_key(&s.repo_url))
            && revision_moved(s.target_revision.as_deref(), push)
        {
            hit = true;
            if let (Some(paths), Some(changed)) = (generate_paths(app), &push.changed) {
                let base = s.path.as_deref().unwrap_or(".");
                if !changed
                    .iter()
                    .any(|f| paths.iter().any(|p| touches(base, p, f)))
                {
                    hit = false;
                    continue;
                }
            }
            break;
        }
    }
    hit
}

fn generate_paths(app: &Application) -> Option<Vec<String>> {
    let ann = app.metadata.annotations.as_ref()?;
    let v = ann
        .get(MANIFEST_GENERATE_PATHS)
        .or_else(|| ann.get(ARGOCD_MANIFEST_GENERATE_PATHS))?;
    Some(
        v.split(';')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect(),
    )
}

/// Whether the changed file `f` is under `path` (from the root with a
/// leading `/`, else relative to the app's `base`).
fn touches(base: &str, path: &str, f: &str) -> bool {
    let joined = match path.strip_prefix('/') {
        Some(abs) => abs.to_owned(),
        None => normalize(&format!("{}/{path}", base.trim_end_matches('/'))),
    };
    let dir = joined.trim_matches('/');
    dir.is_empty() || dir == "." || f == dir || f.starts_with(&format!("{dir}/"))
}

/// `a/./b/../c` -> `a/c`.
fn normalize(p: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            x => out.push(x),
        }
    }
    out.join("/")
}

/// Whether the push moves a repository the set's git generators read.
pub fn set_concerned(set: &ApplicationSet, push: &Push, keys: &HashSet<String>) -> bool {
    fn walk(gs: &[sextant_model::appset::Generator], push: &Push, keys: &HashSet<String>) -> bool {
        gs.iter().any(|g| {
            g.git.as_ref().is_some_and(|git| {
                keys.contains(&repo_key(&git.repo_url))
                    && revision_moved(Some(git.revision.as_str()), push)
            }) || g
                .matrix
                .as_ref()
                .or(g.merge.as_ref())
                .is_some_and(|c| walk(&c.generators, push, keys))
        })
    }
    walk(&set.spec.generators, push, keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push(refs: &[&str], default: Option<&str>, changed: Option<&[&str]>) -> Push {
        Push {
            urls: vec!["https://github.com/acme/gitops".into()],
            refs: refs.iter().map(|r| (*r).to_owned()).collect(),
            default_branch: default.map(str::to_owned),
            changed: changed.map(|c| c.iter().map(|f| (*f).to_owned()).collect()),
        }
    }

    fn app(repo: &str, revision: &str, path: &str, paths: Option<&str>) -> Application {
        let mut v = json!({
            "metadata": {"name": "a"},
            "spec": {"destination": {}, "source": {"repoURL": repo, "targetRevision": revision, "path": path}},
        });
        if let Some(p) = paths {
            v["metadata"]["annotations"] = json!({"argocd.argoproj.io/manifest-generate-paths": p});
        }
        serde_json::from_value(v).unwrap_or_default()
    }

    #[test]
    fn revisions_table() {
        let main = push(&["refs/heads/main"], Some("main"), None);
        for (target, want) in [
            (Some("main"), true),
            (Some("refs/heads/main"), true),
            (Some("HEAD"), true),
            (None, true),
            (Some("dev"), false),
            (Some("v1"), false),
        ] {
            assert_eq!(revision_moved(target, &main), want, "{target:?}");
        }
        let dev = push(&["refs/heads/dev"], Some("main"), None);
        assert!(!revision_moved(Some("HEAD"), &dev));
        assert!(revision_moved(
            Some("HEAD"),
            &push(&["refs/heads/dev"], None, None)
        ));
        assert!(revision_moved(
            Some("v1"),
            &push(&["refs/tags/v1"], None, None)
        ));
    }

    #[test]
    fn apps_by_repository_revision_and_paths() {
        let keys: HashSet<String> = ["github.com/acme/gitops".to_owned()].into();
        let p = push(
            &["refs/heads/main"],
            Some("main"),
            Some(&["apps/web/deploy.yaml"]),
        );
        assert!(app_concerned(
            &app("git@github.com:acme/gitops.git", "main", "apps/web", None),
            &p,
            &keys
        ));
        assert!(!app_concerned(
            &app("https://github.com/acme/other", "main", "apps/web", None),
            &p,
            &keys
        ));
        assert!(!app_concerned(
            &app("https://github.com/acme/gitops", "dev", "apps/web", None),
            &p,
            &keys
        ));
        // manifest-generate-paths: relative, absolute, `.`, elsewhere.
        for (paths, want) in [
            (".", true),
            ("/apps", true),
            ("../web", true),
            ("/apps/api", false),
            ("../api;/base", false),
        ] {
            let a = app(
                "https://github.com/acme/gitops",
                "main",
                "apps/web",
                Some(paths),
            );
            assert_eq!(app_concerned(&a, &p, &keys), want, "{paths}");
        }
        // Files unknown: every app of the branch counts.
        let unknown = push(&["refs/heads/main"], Some("main"), None);
        assert!(app_concerned(
            &app(
                "https://github.com/acme/gitops",
                "main",
                "apps/web",
                Some("/apps/api")
            ),
            &unknown,
            &keys
        ));
    }
}
