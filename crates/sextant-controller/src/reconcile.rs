//! One pass over one app: read it, render its source, compare with the
//! live state, write the status, and run the sync that is due (a requested
//! operation, an automated sync of a new revision, a self-heal), or, when
//! the app is being deleted, delete its objects first if its finalizer
//! asks for it.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use kube::api::Api;
use sextant_cluster::{LiveKey, Propagation};
use sextant_engine::diff::{IgnoreDifferences, ObjectKey};
use sextant_model::Application;
use sextant_model::application::{
    ApplicationSource, ApplicationStatus, ComparedTo, HealthStatus, Operation, OperationInitiator,
    OperationState, ResourceStatus, RevisionHistory, SyncOperation, SyncOperationResult,
    SyncStatus,
};

use crate::compare::{self, Comparison, SyncState};
use crate::controller::Shared;
use crate::events::{self, Reason};
use crate::source::{self, Fetched};
use crate::status;
use crate::sync::{self, SyncRequest};
use crate::tracking;

/// What the worker should do after a pass.
#[derive(Debug, Default)]
pub struct Next {
    /// Look again after this long.
    pub requeue_after: Option<Duration>,
}

impl Next {
    fn after(d: Duration) -> Self {
        Self {
            requeue_after: Some(d),
        }
    }
}

/// Reconcile the app `name`.
pub async fn reconcile(shared: &Arc<Shared>, name: &str) -> Result<Next, kube::Error> {
    let api: Api<Application> = Api::namespaced(shared.client.clone(), &shared.config.namespace);
    let Some(app) = api.get_opt(name).await? else {
        shared.live.forget_app(name);
        return Ok(Next::default());
    };
    if app.metadata.deletion_timestamp.is_some() {
        return finalize(shared, &api, &app).await;
    }
    let previous = app.status.clone().unwrap_or_default();
    let mut st = previous.clone();
    let refresh = status::refresh_requested(&app);

    let prepared = prepare(shared, &app, None, refresh).await;
    let (fetched, cmp) = match prepared {
        Ok(p) => p,
        Err(message) => {
            st.sync = Some(SyncStatus {
                status: "Unknown".into(),
                revision: previous.sync.as_ref().and_then(|s| s.revision.clone()),
                compared_to: Some(compared_to(&app, None)),
            });
            status::set_condition(&mut st, "ComparisonError", Some(message.clone()));
            st.reconciled_at = Some(status::now());
            status::write(&api, name, &st).await?;
            if refresh {
                status::clear_refresh(&api, &app).await?;
            }
            if let Some(op) = &app.operation {
                fail_operation(shared, &api, &app, &mut st, op.clone(), &message).await?;
            }
            return Ok(Next::default());
        }
    };
    let revision = fetched.revision();
    fill_status(&mut st, &app, &fetched, &cmp);
    st.reconciled_at = Some(status::now());

    // Drift: was Synced at this revision, is not any more.
    let was_synced_here = previous
        .sync
        .as_ref()
        .is_some_and(|s| s.status == "Synced" && s.revision.as_deref() == Some(revision.as_str()));
    let drifted = was_synced_here && cmp.sync() == SyncState::OutOfSync;
    if status::differs(&previous, &st) || refresh || stale(&previous, shared) {
        status::write(&api, name, &st).await?;
    }
    if refresh {
        status::clear_refresh(&api, &app).await?;
    }
    if drifted {
        let what: Vec<String> = cmp
            .resources
            .iter()
            .filter(|r| r.sync == SyncState::OutOfSync)
            .take(5)
            .map(|r| r.key.to_string())
            .collect();
        events::record(
            &shared.client,
            &app,
            Reason::DriftDetected,
            &format!(
                "live state differs from Git at {}: {}",
                short(&revision),
                what.join(", ")
            ),
        )
        .await;
    }

    // A requested operation first.
    if let Some(op) = app.operation.clone() {
        run_operation(shared, &api, &app, st, op, Some((fetched, cmp)), false).await?;
        return Ok(Next::after(Duration::from_millis(200)));
    }
    // An automated sync interrupted by a restart is run again.
    if let Some(last) = &previous.operation_state
        && last.phase == "Running"
    {
        let op = last.operation.clone();
        if automated(&app).is_some() {
            run_operation(shared, &api, &app, st, op, Some((fetched, cmp)), false).await?;
        } else {
            let mut st = st;
            fail_operation(
                shared,
                &api,
                &app,
                &mut st,
                op,
                "the controller stopped during this sync; sync again",
            )
            .await?;
        }
        return Ok(Next::after(Duration::from_millis(200)));
    }
    let Some(auto) = automated(&app) else {
        return Ok(Next::default());
    };
    if cmp.sync() == SyncState::Synced || cmp.conflicts().next().is_some() {
        return Ok(Next::default());
    }
    let prune = auto.prune.unwrap_or(false);
    if cmp.only_pruning() && !prune {
        return Ok(Next::default());
    }
    let last = previous.operation_state.as_ref();
    let last_revision = last
        .and_then(|l| l.sync_result.as_ref().map(|r| r.revision.clone()))
        .filter(|r| !r.is_empty())
        .or_else(|| last.and_then(|l| l.operation.sync.as_ref()?.revision.clone()));
    let auto_op = |self_heal: bool| Operation {
        sync: Some(SyncOperation {
            revision: Some(revision.clone()),
            prune: Some(prune),
            ..SyncOperation::default()
        }),
        initiated_by: Some(OperationInitiator {
            username: None,
            automated: Some(true),
        }),
        info: self_heal.then(|| {
            vec![sextant_model::application::Info {
                name: "reason".into(),
                value: "self-heal".into(),
            }]
        }),
        ..Operation::default()
    };
    if last_revision.as_deref() != Some(revision.as_str()) {
        run_operation(
            shared,
            &api,
            &app,
            st,
            auto_op(false),
            Some((fetched, cmp)),
            false,
        )
        .await?;
        return Ok(Next::after(Duration::from_millis(200)));
    }
    let Some(last) = last else {
        return Ok(Next::default());
    };
    if last.phase == "Succeeded" && auto.self_heal.unwrap_or(false) {
        let since = last
            .finished_at
            .as_deref()
            .and_then(status::age)
            .unwrap_or(Duration::MAX);
        let delay = shared.config.self_heal_delay;
        if since < delay {
            return Ok(Next::after(delay - since));
        }
        run_operation(
            shared,
            &api,
            &app,
            st,
            auto_op(true),
            Some((fetched, cmp)),
            true,
        )
        .await?;
        return Ok(Next::after(Duration::from_millis(200)));
    }
    if matches!(last.phase.as_str(), "Failed" | "Error")
        && let Some(wait) = retry_due(&app, last)
    {
        if wait.is_zero() {
            let mut op = auto_op(false);
            op.retry = app.spec.sync_policy.as_ref().and_then(|p| p.retry.clone());
            let mut st = st;
            if let Some(os) = st.operation_state.as_mut() {
                os.retry_count = Some(os.retry_count.unwrap_or(0) + 1);
            }
            run_operation(shared, &api, &app, st, op, Some((fetched, cmp)), false).await?;
            return Ok(Next::after(Duration::from_millis(200)));
        }
        return Ok(Next::after(wait));
    }
    Ok(Next::default())
}

/// When a failed automated sync may be retried (`syncPolicy.retry`):
/// `None` when it may not, else how long to wait.
fn retry_due(app: &Application, last: &OperationState) -> Option<Duration> {
    let retry = app.spec.sync_policy.as_ref()?.retry.as_ref()?;
    let count = last.retry_count.unwrap_or(0);
    let limit = retry.limit.unwrap_or(0);
    if limit >= 0 && count >= limit {
        return None;
    }
    let backoff = retry.backoff.clone().unwrap_or_default();
    let base = backoff
        .duration
        .as_deref()
        .and_then(parse_duration)
        .unwrap_or(Duration::from_secs(5));
    let factor = backoff.factor.unwrap_or(2).max(1) as u32;
    let max = backoff
        .max_duration
        .as_deref()
        .and_then(parse_duration)
        .unwrap_or(Duration::from_secs(180));
    let wait = base
        .saturating_mul(factor.saturating_pow(count.min(16) as u32))
        .min(max);
    let since = last
        .finished_at
        .as_deref()
        .and_then(status::age)
        .unwrap_or(Duration::MAX);
    Some(wait.saturating_sub(since))
}

/// `5s`, `3m`, `1h`, or plain seconds.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let t = text.trim();
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: u64 = num.parse().ok()?;
    Some(match unit {
        "" | "s" => Duration::from_secs(n),
        "ms" => Duration::from_millis(n),
        "m" => Duration::from_secs(n * 60),
        "h" => Duration::from_secs(n * 3600),
        _ => return None,
    })
}

fn automated(app: &Application) -> Option<&sextant_model::application::SyncPolicyAutomated> {
    app.spec
        .sync_policy
        .as_ref()?
        .automated
        .as_ref()
        .filter(|a| a.enabled != Some(false))
}

fn stale(previous: &ApplicationStatus, shared: &Shared) -> bool {
    previous
        .reconciled_at
        .as_deref()
        .and_then(status::age)
        .is_none_or(|a| a >= shared.config.repo_poll_interval)
}

fn short(revision: &str) -> &str {
    revision.get(..7).unwrap_or(revision)
}

fn compared_to(app: &Application, source: Option<&ApplicationSource>) -> ComparedTo {
    ComparedTo {
        source: source.cloned().or_else(|| app.spec.source.clone()),
        destination: Some(app.spec.destination.clone()),
    }
}

/// Render (at `revision`, or with `source_override` for a rollback) and
/// compare. Errors are the ComparisonError message.
async fn prepare_with(
    shared: &Arc<Shared>,
    app: &Application,
    source_override: Option<&ApplicationSource>,
    revision: Option<&str>,
    fresh: bool,
) -> Result<(Fetched, Comparison), String> {
    let name = app.metadata.name.as_deref().unwrap_or_default();
    check_destination(app)?;
    let source = match source_override {
        Some(s) => s,
        None => source::single_source(app)?,
    };
    let namespace = source::destination_namespace(app);
    let fetched = shared
        .sources
        .fetch(name, source, revision, &namespace, fresh)
        .await?;
    let mut desired = fetched.outcome.rendered.objects.clone();
    for obj in &mut desired {
        tracking::mark(name, obj);
    }
    // Watch every kind the app uses or used.
    let mut kinds: BTreeSet<(String, String)> = desired
        .iter()
        .map(|o| {
            let k = ObjectKey::of(o);
            (k.api_version, k.kind)
        })
        .collect();
    for r in app.status.iter().flat_map(|s| s.resources.iter().flatten()) {
        let av = if r.group.is_empty() {
            r.version.clone()
        } else {
            format!("{}/{}", r.group, r.version)
        };
        kinds.insert((av, r.kind.clone()));
    }
    for (av, kind) in &kinds {
        shared.live.watch_kind(av, kind).await?;
    }
    shared
        .live
        .set_wanted(name, desired.iter().map(LiveKey::of).collect());
    let ignore = ignore_rules(app)?;
    let cx = compare::Context {
        live: &shared.live,
        kinds: &shared.kinds,
        predictions: &shared.predictions,
        ignore: &ignore,
        health: &shared.health,
    };
    let cmp = compare::compare(name, &desired, &cx).await;
    Ok((fetched, cmp))
}

async fn prepare(
    shared: &Arc<Shared>,
    app: &Application,
    revision: Option<&str>,
    fresh: bool,
) -> Result<(Fetched, Comparison), String> {
    prepare_with(shared, app, None, revision, fresh).await
}

fn check_destination(app: &Application) -> Result<(), String> {
    let d = &app.spec.destination;
    let server_ok = d.server.as_deref().is_none_or(|s| {
        s.is_empty() || s.trim_end_matches('/') == "https://kubernetes.default.svc"
    });
    let name_ok = d
        .name
        .as_deref()
        .is_none_or(|n| n.is_empty() || n == "in-cluster");
    if server_ok && name_ok {
        Ok(())
    } else {
        Err(format!(
            "destination {} is not supported yet: only the cluster the controller runs against (https://kubernetes.default.svc or name in-cluster)",
            d.server
                .as_deref()
                .or(d.name.as_deref())
                .unwrap_or_default()
        ))
    }
}

fn ignore_rules(app: &Application) -> Result<IgnoreDifferences, String> {
    let rules = source::ignore_rules(app).map_err(|e| format!("spec.ignoreDifferences: {e}"))?;
    IgnoreDifferences::new(&rules, &[])
        .map_err(|e| format!("spec.ignoreDifferences is invalid: {e}"))
}

fn health_of(h: &sextant_engine::health::Health) -> HealthStatus {
    HealthStatus {
        status: h.status.as_str().to_owned(),
        message: (!h.message.is_empty()).then(|| h.message.clone()),
    }
}

/// Put a comparison into the status.
fn fill_status(st: &mut ApplicationStatus, app: &Application, fetched: &Fetched, cmp: &Comparison) {
    st.sync = Some(SyncStatus {
        status: cmp.sync().as_str().to_owned(),
        revision: Some(fetched.revision()),
        compared_to: Some(compared_to(app, None)),
    });
    st.health = Some(health_of(&cmp.health()));
    st.source_type = Some(
        match fetched.outcome.rendered.kind {
            sextant_render::SourceKind::Directory => "Directory",
            sextant_render::SourceKind::Kustomize => "Kustomize",
            sextant_render::SourceKind::Helm => "Helm",
        }
        .to_owned(),
    );
    let mut resources: Vec<ResourceStatus> = cmp
        .resources
        .iter()
        .map(|r| ResourceStatus {
            group: r.key.group.clone(),
            version: r
                .key
                .api_version
                .rsplit_once('/')
                .map_or(r.key.api_version.as_str(), |(_, v)| v)
                .to_owned(),
            kind: r.key.kind.clone(),
            namespace: (!r.key.namespace.is_empty()).then(|| r.key.namespace.clone()),
            name: r.key.name.clone(),
            status: Some(r.sync.as_str().to_owned()),
            health: r.health.as_ref().map(health_of),
            requires_pruning: r.requires_pruning.then_some(true),
            ..ResourceStatus::default()
        })
        .collect();
    resources.sort_by(|a, b| {
        (&a.group, &a.kind, &a.namespace, &a.name).cmp(&(&b.group, &b.kind, &b.namespace, &b.name))
    });
    st.resources = Some(resources);
    let mut images: BTreeSet<String> = BTreeSet::new();
    for r in &cmp.resources {
        if let Some(live) = &r.live {
            collect_images(live, &mut images);
        }
    }
    st.summary = Some(sextant_model::application::ApplicationSummary {
        images: (!images.is_empty()).then(|| images.into_iter().collect()),
        external_urls: None,
    });
    status::set_condition(st, "ComparisonError", None);
    let conflicts: Vec<String> = cmp.conflicts().filter_map(|r| r.conflict.clone()).collect();
    status::set_condition(
        st,
        "SharedResourceWarning",
        (!conflicts.is_empty()).then(|| conflicts.join("; ")),
    );
    let warnings = &fetched.outcome.rendered.warnings;
    status::set_condition(
        st,
        "RenderWarning",
        (!warnings.is_empty()).then(|| warnings.join("; ")),
    );
}

fn collect_images(v: &serde_json::Value, out: &mut BTreeSet<String>) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, child) in map {
                if (k == "containers" || k == "initContainers")
                    && let Some(list) = child.as_array()
                {
                    for c in list {
                        if let Some(image) = c.get("image").and_then(|i| i.as_str()) {
                            out.insert(image.to_owned());
                        }
                    }
                } else if k != "metadata" && k != "status" {
                    collect_images(child, out);
                }
            }
        }
        serde_json::Value::Array(list) => list.iter().for_each(|c| collect_images(c, out)),
        _ => {}
    }
}

fn sync_options(app: &Application, op: &Operation) -> Vec<String> {
    let mut options: Vec<String> = app
        .spec
        .sync_policy
        .as_ref()
        .and_then(|p| p.sync_options.clone())
        .unwrap_or_default();
    if let Some(extra) = op.sync.as_ref().and_then(|s| s.sync_options.clone()) {
        options.extend(extra);
    }
    options
}

fn has_option(options: &[String], wanted: &str) -> bool {
    options
        .iter()
        .any(|o| o.trim().eq_ignore_ascii_case(wanted))
}

/// Run `op`: mark it Running, sync, record the outcome, history and
/// Events, and clear the operation from the app.
async fn run_operation(
    shared: &Arc<Shared>,
    api: &Api<Application>,
    app: &Application,
    mut st: ApplicationStatus,
    op: Operation,
    prepared: Option<(Fetched, Comparison)>,
    self_heal: bool,
) -> Result<(), kube::Error> {
    let name = app.metadata.name.clone().unwrap_or_default();
    let started = status::now();
    let sync_op = op.sync.clone().unwrap_or_default();
    let from_resource = app.operation.is_some();
    // The state to sync to: as compared, or another revision / source.
    let wants_other = sync_op.source.is_some()
        || sync_op
            .revision
            .as_deref()
            .is_some_and(|r| prepared.as_ref().is_none_or(|(f, _)| f.revision() != r));
    let prepared = match (prepared, wants_other) {
        (Some(p), false) => Ok(p),
        _ => {
            prepare_with(
                shared,
                app,
                sync_op.source.as_ref(),
                sync_op.revision.as_deref(),
                false,
            )
            .await
        }
    };
    st.operation_state = Some(OperationState {
        operation: op.clone(),
        phase: "Running".into(),
        message: Some("sync started".into()),
        sync_result: None,
        started_at: started.clone(),
        finished_at: None,
        retry_count: st
            .operation_state
            .as_ref()
            .and_then(|o| o.retry_count)
            .filter(|_| op.retry.is_some()),
    });
    let (fetched, cmp) = match prepared {
        Ok(p) => p,
        Err(message) => {
            return fail_operation(
                shared,
                api,
                app,
                &mut st,
                op,
                &format!("could not render: {message}"),
            )
            .await;
        }
    };
    let revision = fetched.revision();
    status::write(api, &name, &st).await?;
    let who = if op
        .initiated_by
        .as_ref()
        .and_then(|i| i.automated)
        .unwrap_or(false)
    {
        if self_heal {
            "self-heal".to_owned()
        } else {
            "automated sync".to_owned()
        }
    } else {
        op.initiated_by
            .as_ref()
            .and_then(|i| i.username.clone())
            .unwrap_or_else(|| "a user".into())
    };
    events::record(
        &shared.client,
        app,
        Reason::SyncStarted,
        &format!("sync to {} started by {who}", short(&revision)),
    )
    .await;

    let options = sync_options(app, &op);
    let namespace = source::destination_namespace(app);
    let req = SyncRequest {
        prune: sync_op.prune.unwrap_or(false)
            || automated(app).and_then(|a| a.prune).unwrap_or(false)
                && op
                    .initiated_by
                    .as_ref()
                    .and_then(|i| i.automated)
                    .unwrap_or(false),
        dry_run: sync_op.dry_run.unwrap_or(false),
        create_namespace: has_option(&options, "CreateNamespace=true").then_some(namespace),
        namespace_metadata: app
            .spec
            .sync_policy
            .as_ref()
            .and_then(|p| p.managed_namespace_metadata.clone()),
        out_of_sync_only: has_option(&options, "ApplyOutOfSyncOnly=true"),
        only: sync_op
            .resources
            .iter()
            .flatten()
            .map(|r| {
                (
                    r.group.clone(),
                    r.kind.clone(),
                    r.namespace.clone().unwrap_or_default(),
                    r.name.clone(),
                )
            })
            .collect(),
    };

    // Progress is written by a side task, at most a few times a second;
    // the final status below does not wait out its pause.
    let writer = {
        let api = api.clone();
        let name = name.clone();
        let base = st.clone();
        let revision = revision.clone();
        status::Throttled::spawn(Duration::from_millis(250), move |results| {
            let api = api.clone();
            let name = name.clone();
            let mut s = base.clone();
            if let Some(os) = s.operation_state.as_mut() {
                os.sync_result = Some(SyncOperationResult {
                    revision: revision.clone(),
                    resources: Some(results),
                    source: None,
                });
            }
            async move {
                if let Err(e) = status::write(&api, &name, &s).await {
                    tracing::debug!(app = %name, error = %e, "could not write sync progress");
                }
            }
        })
    };
    let progress = |results: &[sextant_model::application::ResourceResult]| {
        writer.send(results.to_vec());
    };
    let report = sync::run(&shared.kinds, &cmp, &req, &progress).await;
    writer.finish().await;

    let finished = status::now();
    let source = sync_op.source.clone().or_else(|| app.spec.source.clone());
    if let Some(os) = st.operation_state.as_mut() {
        os.phase = if report.succeeded {
            "Succeeded"
        } else {
            "Failed"
        }
        .into();
        os.message = Some(report.message.clone());
        os.finished_at = Some(finished.clone());
        os.sync_result = Some(SyncOperationResult {
            revision: revision.clone(),
            resources: Some(report.results.clone()),
            source: source.clone(),
        });
    }
    if report.succeeded && !req.dry_run {
        let mut history = st.history.take().unwrap_or_default();
        let id = history.iter().map(|h| h.id).max().unwrap_or(-1) + 1;
        history.push(RevisionHistory {
            id,
            revision: revision.clone(),
            deployed_at: finished.clone(),
            deploy_started_at: Some(started.clone()),
            source,
            initiated_by: op.initiated_by.clone(),
        });
        let limit = app.spec.revision_history_limit.unwrap_or(10).max(1) as usize;
        if history.len() > limit {
            history.drain(..history.len() - limit);
        }
        st.history = Some(history);
        status::set_condition(&mut st, "SyncError", None);
    } else if !report.succeeded {
        status::set_condition(&mut st, "SyncError", Some(report.message.clone()));
    }
    status::write(api, &name, &st).await?;
    if from_resource {
        status::clear_operation(api, &name).await?;
    }
    let (reason, text) = if report.succeeded {
        (
            Reason::SyncSucceeded,
            format!("sync to {} succeeded: {}", short(&revision), report.message),
        )
    } else {
        (
            Reason::SyncFailed,
            format!("sync to {} failed: {}", short(&revision), report.message),
        )
    };
    events::record(&shared.client, app, reason, &text).await;
    if self_heal && report.succeeded {
        events::record(
            &shared.client,
            app,
            Reason::SelfHealApplied,
            &format!(
                "self-heal re-applied Git at {} over live changes",
                short(&revision)
            ),
        )
        .await;
    }
    Ok(())
}

/// Record `op` as failed before it changed anything.
async fn fail_operation(
    shared: &Arc<Shared>,
    api: &Api<Application>,
    app: &Application,
    st: &mut ApplicationStatus,
    op: Operation,
    message: &str,
) -> Result<(), kube::Error> {
    let name = app.metadata.name.clone().unwrap_or_default();
    let now = status::now();
    st.operation_state = Some(OperationState {
        operation: op,
        phase: "Failed".into(),
        message: Some(message.to_owned()),
        sync_result: None,
        started_at: now.clone(),
        finished_at: Some(now),
        retry_count: None,
    });
    status::set_condition(st, "SyncError", Some(message.to_owned()));
    status::write(api, &name, st).await?;
    if app.operation.is_some() {
        status::clear_operation(api, &name).await?;
    }
    events::record(&shared.client, app, Reason::SyncFailed, message).await;
    Ok(())
}

/// An app being deleted: with the resources finalizer, delete its objects
/// and then let it go; without, leave its objects.
async fn finalize(
    shared: &Arc<Shared>,
    api: &Api<Application>,
    app: &Application,
) -> Result<Next, kube::Error> {
    let name = app.metadata.name.clone().unwrap_or_default();
    if !status::has_resources_finalizer(app) {
        shared.live.forget_app(&name);
        return Ok(Next::default());
    }
    for r in app.status.iter().flat_map(|s| s.resources.iter().flatten()) {
        let av = if r.group.is_empty() {
            r.version.clone()
        } else {
            format!("{}/{}", r.group, r.version)
        };
        if let Err(e) = shared.live.watch_kind(&av, &r.kind).await {
            tracing::warn!(app = %name, error = %e, "could not watch a kind while deleting");
        }
    }
    let mut remaining = 0usize;
    for live in shared.live.tracked_by(&name) {
        let key = ObjectKey::of(&live);
        if tracking::tracking_of(&live) != Some(tracking::tracking_id(&name, &key).as_str()) {
            continue;
        }
        remaining += 1;
        if live
            .pointer("/metadata/deletionTimestamp")
            .is_some_and(|t| !t.is_null())
        {
            continue;
        }
        let uid = live.pointer("/metadata/uid").and_then(|u| u.as_str());
        if let Err(e) = shared
            .kinds
            .delete(&key, uid, Propagation::Foreground)
            .await
        {
            tracing::warn!(app = %name, object = %key, error = %e, "could not delete");
        }
    }
    if remaining > 0 {
        return Ok(Next::after(Duration::from_millis(500)));
    }
    events::record(
        &shared.client,
        app,
        Reason::ResourcesDeleted,
        "deleted the app's resources",
    )
    .await;
    match status::release_finalizer(api, app).await {
        Ok(()) => {}
        Err(kube::Error::Api(s)) if s.code == 409 || s.code == 404 => {}
        Err(e) => return Err(e),
    }
    shared.live.forget_app(&name);
    Ok(Next::default())
}
