//! Operations, the contract with the controller for `sync` and `rollback`.
//!
//! The CLI writes `operation` on the Application (JSON merge patch on the
//! main resource, conditional on the resourceVersion it read) with
//! `sync.{revision?, prune, dryRun, source?}`, `initiatedBy.username` (the
//! Kubernetes user, from a SelfSubjectReview, else `$USER`) and
//! `info: [{name: sextant.dev/request-id, value: <fresh uuid>}]`. The
//! controller runs it, copies it into `status.operationState.operation`
//! (info included), reports per-object results in
//! `status.operationState.syncResult.resources` as it goes, sets
//! `status.operationState.phase` to Succeeded, Failed or Error at the end
//! and clears `operation`. The CLI follows the app until operationState
//! carries its request id with a terminal phase.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Duration;

use serde_json::{Value, json};
use sextant_model::Application;
use sextant_model::annotations::REQUEST_ID_INFO;
use sextant_model::application::{OperationState, ResourceResult};
use tokio::time::Instant;

use super::client::Apps;
use super::progress::Progress;
use super::style::Style;
use super::watch::{Watched, watch_app};

/// What to ask for.
pub struct Request {
    /// `sync.revision`.
    pub revision: Option<String>,
    /// `sync.prune`.
    pub prune: bool,
    /// `sync.dryRun`.
    pub dry_run: bool,
    /// `sync.source` (rollback).
    pub source: Option<Value>,
    /// `sync.sources` and `sync.revisions` (rollback of a multi-source
    /// app).
    pub sources: Option<(Value, Vec<String>)>,
    /// `sync.resources`: sync only these objects (empty: all).
    pub resources: Vec<Selected>,
    /// `sync.syncOptions`: added to the app's own for this sync.
    pub sync_options: Vec<String>,
    /// `retry`: how often a failed sync is tried again, and the backoff.
    pub retry: Option<Value>,
}

/// One object of a partial sync: `GROUP:KIND:[NAMESPACE/]NAME`, as Argo
/// CD's `--resource` spells it (the core group is empty: `:ConfigMap:web`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selected {
    group: String,
    kind: String,
    namespace: Option<String>,
    name: String,
}

/// Parse `GROUP:KIND:[NAMESPACE/]NAME`.
pub fn parse_selected(text: &str) -> Result<Selected, String> {
    let usage = || {
        format!(
            "`{text}` is not GROUP:KIND:[NAMESPACE/]NAME (e.g. apps:Deployment:web, :ConfigMap:shop/settings; the core group is empty)"
        )
    };
    let mut parts = text.splitn(3, ':');
    let (Some(group), Some(kind), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(usage());
    };
    let (namespace, name) = match rest.split_once('/') {
        Some((ns, name)) => (Some(ns.to_owned()), name),
        None => (None, rest),
    };
    if kind.is_empty() || name.is_empty() || namespace.as_deref() == Some("") {
        return Err(usage());
    }
    Ok(Selected {
        group: group.to_owned(),
        kind: kind.to_owned(),
        namespace,
        name: name.to_owned(),
    })
}

/// How long an operation may be seen in neither `operation` nor
/// `status.operationState` before we say it was lost (the controller may
/// clear one before it writes the other).
const LOST_AFTER: Duration = Duration::from_secs(10);

/// How long an operation with a final outcome may stay in `operation`
/// before we stop waiting for the controller to clear it.
const CLEAR_GRACE: Duration = Duration::from_secs(5);

/// Refuse when `app` already has an operation.
pub fn refuse_if_busy(app: &Application, name: &str) -> anyhow::Result<()> {
    if app.operation.is_some() {
        anyhow::bail!(
            "application {name} already has an operation: {}; wait for it to finish (`sextant app wait {name} --operation`)",
            super::show::describe_operation(app)
        );
    }
    Ok(())
}

/// Write the operation; returns its request id.
pub async fn request(
    apps: &Apps,
    app: &Application,
    name: &str,
    req: &Request,
) -> anyhow::Result<String> {
    let id = uuid::Uuid::new_v4().to_string();
    let mut sync = json!({"prune": req.prune, "dryRun": req.dry_run});
    if let Some(revision) = &req.revision {
        sync["revision"] = json!(revision);
    }
    if let Some(source) = &req.source {
        sync["source"] = source.clone();
    }
    if let Some((sources, revisions)) = &req.sources {
        sync["sources"] = sources.clone();
        sync["revisions"] = json!(revisions);
    }
    if !req.resources.is_empty() {
        sync["resources"] = req
            .resources
            .iter()
            .map(|r| {
                let mut v = json!({"group": r.group, "kind": r.kind, "name": r.name});
                if let Some(ns) = &r.namespace {
                    v["namespace"] = json!(ns);
                }
                v
            })
            .collect();
    }
    if !req.sync_options.is_empty() {
        sync["syncOptions"] = json!(req.sync_options);
    }
    let username = who_am_i(apps).await;
    let mut operation = json!({
        "sync": sync,
        "initiatedBy": {"username": username},
        "info": [{"name": REQUEST_ID_INFO, "value": id}],
    });
    if let Some(retry) = &req.retry {
        operation["retry"] = retry.clone();
    }
    let patch = json!({
        "metadata": {"resourceVersion": app.metadata.resource_version},
        "operation": operation,
    });
    apps.merge_patch(name, &patch).await?;
    Ok(id)
}

/// Who is asking: the Kubernetes user behind the kubeconfig's
/// credentials, as the API server says (a SelfSubjectReview), else the
/// local `$USER` (servers that do not answer one, such as localkube).
pub async fn who_am_i(apps: &Apps) -> String {
    use k8s_openapi::api::authentication::v1::SelfSubjectReview;
    let api: kube::Api<SelfSubjectReview> = kube::Api::all(apps.client.clone());
    let asked = api
        .create(
            &kube::api::PostParams::default(),
            &SelfSubjectReview::default(),
        )
        .await;
    let from_server = asked
        .ok()
        .and_then(|r| r.status?.user_info?.username)
        .filter(|u| !u.is_empty());
    from_server.unwrap_or_else(|| {
        std::env::var("USER")
            .ok()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| "sextant-cli".to_owned())
    })
}

/// Whether `state` is the outcome of request `id`.
fn is_ours(state: &OperationState, id: &str) -> bool {
    carries(state.operation.info.as_deref(), id)
}

fn carries(info: Option<&[sextant_model::application::Info]>, id: &str) -> bool {
    info.unwrap_or_default()
        .iter()
        .any(|i| i.name == REQUEST_ID_INFO && i.value == id)
}

/// Whether a phase is final.
pub fn is_terminal(phase: &str) -> bool {
    matches!(phase, "Succeeded" | "Failed" | "Error")
}

/// Follow request `id` until its phase is final, printing each object's
/// result once as it appears or changes, then the phase and message.
/// Exit 0 on Succeeded, 1 on Failed or Error; a timeout is an error.
///
/// `announce` names the step (`syncing checkout`) and `target` what was
/// asked for (`main, the app's targetRevision`): once the controller has
/// fixed the commit it deploys, and before it applies anything, the
/// command says `syncing checkout to 4c42b8c (main, ...)` on stderr.
pub async fn follow(
    apps: &Apps,
    name: &str,
    id: &str,
    timeout: Duration,
    announce: &str,
    target: &str,
) -> anyhow::Result<ExitCode> {
    let style = Style::stdout();
    let mut seen: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut lost_since: Option<Instant> = None;
    let mut running = false;
    let mut ended_since: Option<Instant> = None;
    let deadline = Instant::now() + timeout;
    let progress = Progress::start(format!("waiting for the controller to start on {name}"));
    let outcome = watch_app(apps, name, deadline, |app| {
        let Some(app) = app else {
            anyhow::bail!("application {name} was deleted while its operation was running");
        };
        let state = super::show::operation_state(app).filter(|s| is_ours(s, id));
        let Some(state) = state else {
            let pending = app
                .operation
                .as_ref()
                .is_some_and(|o| carries(o.info.as_deref(), id));
            if pending {
                lost_since = None;
            } else if lost_since.is_some_and(|t| t.elapsed() >= LOST_AFTER) {
                anyhow::bail!(
                    "the operation on application {name} was removed before the controller reported on it (request id {id})"
                );
            } else if lost_since.is_none() {
                lost_since = Some(Instant::now());
            }
            return Ok(None);
        };
        let revision = state
            .sync_result
            .as_ref()
            .map(|r| r.revision.as_str())
            .filter(|r| !r.is_empty());
        if !running && let Some(revision) = revision {
            running = true;
            progress.eprintln(&format!(
                "{announce} to {} ({target})",
                super::table::short_revision(revision)
            ));
        }
        let results = state
            .sync_result
            .as_ref()
            .and_then(|r| r.resources.as_ref());
        for r in results.into_iter().flatten() {
            let key = key(r);
            let status = r
                .status
                .clone()
                .or_else(|| r.hook_phase.clone())
                .unwrap_or_default();
            let message = r.message.clone().unwrap_or_default();
            if seen.get(&key) != Some(&(status.clone(), message.clone())) {
                progress.println(&line(r, &status, &message, style));
                seen.insert(key, (status, message));
            }
        }
        progress.set(format!(
            "{name}: {}{}",
            state.phase,
            state
                .message
                .as_deref()
                .filter(|m| !m.is_empty())
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        ));
        if !is_terminal(&state.phase) {
            return Ok(None);
        }
        // The controller records the outcome, then clears `operation`:
        // wait for that too (for a while), so the next command does not
        // find the app busy with the operation that just ended.
        let cleared = !app
            .operation
            .as_ref()
            .is_some_and(|o| carries(o.info.as_deref(), id));
        let ended_at = *ended_since.get_or_insert_with(Instant::now);
        Ok((cleared || ended_at.elapsed() >= CLEAR_GRACE).then(|| state.clone()))
    })
    .await?;
    drop(progress);
    let state = match outcome {
        Watched::Done(state) => state,
        Watched::TimedOut => anyhow::bail!(
            "timed out after {} waiting for the operation on application {name}; it goes on in the cluster (`sextant app wait {name} --operation` waits for it)",
            super::duration::show(timeout)
        ),
    };
    let mut last = style.status(&state.phase, 0);
    if let Some(m) = state.message.as_deref().filter(|m| !m.is_empty()) {
        last.push_str(&format!(": {m}"));
    }
    if let Some(rev) = state
        .sync_result
        .as_ref()
        .map(|r| r.revision.as_str())
        .filter(|r| !r.is_empty())
    {
        last.push_str(&format!(
            " (revision {})",
            super::table::short_revision(rev)
        ));
    }
    println!("{last}");
    Ok(if state.phase == "Succeeded" {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn key(r: &ResourceResult) -> String {
    format!(
        "{}/{}/{}/{}/{}/{}",
        r.group,
        r.kind,
        r.namespace,
        r.name,
        r.sync_phase.as_deref().unwrap_or(""),
        r.hook_type.as_deref().unwrap_or("")
    )
}

/// `Deployment  shop/web  Synced  deployment.apps/web configured`.
fn line(r: &ResourceResult, status: &str, message: &str, style: Style) -> String {
    let object = if r.namespace.is_empty() {
        r.name.clone()
    } else {
        format!("{}/{}", r.namespace, r.name)
    };
    let text = format!(
        "{:<16} {:<36} {} {message}",
        r.kind,
        object,
        style.status(status, 12)
    );
    text.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_are_group_kind_and_name_with_an_optional_namespace() {
        let s = parse_selected("apps:Deployment:shop/web").unwrap();
        assert_eq!(
            (
                s.group.as_str(),
                s.kind.as_str(),
                s.namespace.as_deref(),
                s.name.as_str()
            ),
            ("apps", "Deployment", Some("shop"), "web")
        );
        let s = parse_selected(":ConfigMap:settings").unwrap();
        assert_eq!((s.group.as_str(), s.namespace), ("", None));
        for bad in [
            "Deployment:web",
            "apps::web",
            "apps:Deployment:",
            "apps:Deployment:/web",
        ] {
            let e = parse_selected(bad).unwrap_err();
            assert!(e.contains("GROUP:KIND:[NAMESPACE/]NAME"), "{bad}: {e}");
        }
    }
}
