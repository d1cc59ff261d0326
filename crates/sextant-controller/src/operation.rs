//! Running a sync operation, one pass at a time: mark it Running (the
//! commit it deploys fixed from then on), run a pass of the sync, and
//! either record where it waits (the next pass comes with the next change
//! of the app's objects, or after a short backstop) or record the outcome,
//! history and Events, and clear the operation from the Application.

use std::sync::Arc;
use std::time::Duration;

use kube::api::Api;
use sextant_model::Application;
use sextant_model::application::{
    ApplicationSource, ApplicationStatus, Operation, OperationState, ResourceResult,
    RevisionHistory, SyncOperation, SyncOperationResult,
};

use crate::compare::Comparison;
use crate::controller::Shared;
use crate::decide::{self, is_retry};
use crate::events::{self, Reason};
use crate::prepare::prepare_with;
use crate::report;
use crate::source::{self, Fetched};
use crate::status;
use crate::sync::{self, SyncRequest};
use crate::tasks::{self, Ctx};
use crate::words::{Next, short};

/// The longest a waiting sync goes unlooked-at when nothing it waits for
/// changes (changes of its objects bring the next pass at once).
const BACKSTOP: Duration = Duration::from_secs(2);

/// The state of `op` when it is under way (Running) in `previous`: a pass
/// after the first carries on from it.
pub(crate) fn under_way<'a>(
    op: &Operation,
    previous: Option<&'a OperationState>,
) -> Option<&'a OperationState> {
    previous.filter(|p| matches!(p.phase.as_str(), "Running" | "Terminating") && p.operation == *op)
}

/// The app's own `syncPolicy.syncOptions`.
pub(crate) fn app_sync_options(app: &Application) -> Vec<String> {
    app.spec
        .sync_policy
        .as_ref()
        .and_then(|p| p.sync_options.clone())
        .unwrap_or_default()
}

/// The app's sync options with the operation's.
pub(crate) fn sync_options(app: &Application, op: &Operation) -> Vec<String> {
    let mut options = app_sync_options(app);
    if let Some(extra) = op.sync.as_ref().and_then(|s| s.sync_options.clone()) {
        options.extend(extra);
    }
    options
}

/// Run `op`: mark it Running, sync, record the outcome, history and
/// Events, and clear the operation from the app.
pub(crate) async fn run_operation(
    shared: &Arc<Shared>,
    api: &Api<Application>,
    app: &Application,
    mut st: ApplicationStatus,
    op: Operation,
    prepared: Option<(Fetched, Comparison)>,
    self_heal: bool,
) -> Result<Next, kube::Error> {
    let name = app.metadata.name.clone().unwrap_or_default();
    let sync_op = op.sync.clone().unwrap_or_default();
    let from_resource = app.operation.is_some();
    // A pass after the first deploys the commit the first one fixed.
    let resumed = under_way(&op, st.operation_state.as_ref()).cloned();
    let started = resumed
        .as_ref()
        .map(|r| r.started_at.clone())
        .unwrap_or_else(status::now);
    // Asked to stop (`sextant app terminate-op`): this pass boundary is a
    // safe point; nothing more is started.
    if let Some(r) = resumed.as_ref().filter(|r| r.phase == "Terminating") {
        shared.memory.forget(&name);
        let why = r
            .message
            .clone()
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| "terminated".into());
        let mut ended = r.clone();
        ended.phase = "Failed".into();
        ended.message = Some(format!("{why}; the sync was stopped before it finished"));
        ended.finished_at = Some(status::now());
        let text = ended.message.clone().unwrap_or_default();
        st.operation_state = Some(ended);
        status::set_condition(&mut st, "SyncError", Some(text.clone()));
        status::write(api, &name, &st).await?;
        if from_resource {
            status::clear_operation(api, &name, &op).await?;
        }
        crate::metrics::operation_ended(
            app,
            "Failed",
            status::age(&r.started_at),
            sync_op.dry_run.unwrap_or(false),
        );
        events::record(&shared.client, app, Reason::SyncFailed, &text).await;
        return Ok(Next::after(Duration::from_millis(200)));
    }
    // A failed user sync with `retry` waits out its backoff as a Running
    // operation with `finishedAt` set (as Argo CD writes it), then runs
    // again from the start, at the same commit.
    let retrying = resumed
        .as_ref()
        .filter(|r| r.phase == "Running" && r.finished_at.is_some());
    if let Some(r) = retrying {
        let wait =
            decide::retry_wait(op.retry.as_ref(), r.retry_count.unwrap_or(1)).unwrap_or_default();
        let since = r
            .finished_at
            .as_deref()
            .and_then(status::age)
            .unwrap_or(Duration::MAX);
        if since < wait {
            return Ok(Next::after(wait - since));
        }
    }
    let retrying = retrying.is_some();
    let fixed = resumed
        .as_ref()
        .and_then(|r| r.sync_result.as_ref())
        .map(|r| r.revision.clone())
        .filter(|r| !r.is_empty());
    let revision_asked = fixed.clone().or_else(|| asked_revision(&sync_op));
    // The sources a rollback names instead of the app's.
    let overridden = match (
        sync_op.source.as_ref(),
        sync_op.sources.as_deref().filter(|s| !s.is_empty()),
    ) {
        (None, None) => Ok(None),
        (one, several) => source::sources_of(one, several).map(Some),
    };
    // The state to sync to: as compared, or another revision / source.
    let wants_other = !matches!(overridden, Ok(None))
        || revision_asked
            .as_deref()
            .is_some_and(|r| prepared.as_ref().is_none_or(|(f, _)| f.revision() != r));
    let prepared = match (prepared, wants_other, overridden) {
        (Some(p), false, _) => Ok(p),
        (_, _, Err(e)) => Err(source::SourceProblem::from(format!(
            "the operation's sources: {e}"
        ))),
        (_, _, Ok(overridden)) => {
            prepare_with(shared, app, overridden, revision_asked.as_deref(), false).await
        }
    };
    // Retries of a failed automated sync count up; anything else starts at none.
    let retry_count = match &resumed {
        Some(r) => r.retry_count,
        None if is_retry(&op) => Some(
            st.operation_state
                .as_ref()
                .and_then(|o| o.retry_count)
                .unwrap_or(0)
                + 1,
        ),
        None => None,
    };
    let (fetched, cmp) = match prepared {
        Ok(p) => p,
        Err(message) => {
            fail_operation(
                shared,
                api,
                app,
                &mut st,
                op,
                &format!("could not render: {message}"),
            )
            .await?;
            return Ok(Next::after(Duration::from_millis(200)));
        }
    };
    let options = sync_options(app, &op);
    let parsed =
        match sextant_engine::sync::SyncOptions::parse_app(options.iter().map(String::as_str)) {
            Ok(o) => o,
            Err(e) => {
                fail_operation(
                    shared,
                    api,
                    app,
                    &mut st,
                    op,
                    &format!("{e}; nothing was changed"),
                )
                .await?;
                return Ok(Next::after(Duration::from_millis(200)));
            }
        };
    let revision = fetched.revision();
    let synced = Synced::of(app, &sync_op, &fetched);
    // The commit this sync deploys is fixed from here on (a refresh or a
    // push while it runs does not change it) and is shown at once, before
    // anything is applied.
    st.operation_state = Some(OperationState {
        operation: op.clone(),
        phase: "Running".into(),
        message: Some(format!("syncing to {}", short(&revision))),
        sync_result: Some(synced.result(None)),
        started_at: started.clone(),
        finished_at: None,
        retry_count,
    });
    if let (Some(os), Some(r)) = (st.operation_state.as_mut(), resumed.as_ref())
        && !retrying
    {
        os.message = r.message.clone();
        os.sync_result = r.sync_result.clone();
    }
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
    if resumed.is_none() {
        events::record(
            &shared.client,
            app,
            Reason::SyncStarted,
            &format!("sync to {} started by {who}", short(&revision)),
        )
        .await;
    }

    let namespace = source::destination_namespace(app);
    // One set of settings for the whole operation, even if the ConfigMap
    // changes meanwhile.
    let settings = shared.settings.get();
    let req = SyncRequest {
        // An automated operation carries `automated.prune` itself.
        prune: sync_op.prune.unwrap_or(false),
        dry_run: sync_op.dry_run.unwrap_or(false),
        create_namespace: parsed
            .has(sextant_engine::sync::SyncOption::CreateNamespace)
            .then_some(namespace),
        namespace_metadata: app
            .spec
            .sync_policy
            .as_ref()
            .and_then(|p| p.managed_namespace_metadata.clone()),
        only: sync_op
            .resources
            .iter()
            .flatten()
            .map(|r| sextant_engine::sync::Selector {
                group: r.group.clone(),
                kind: r.kind.clone(),
                namespace: r.namespace.clone().unwrap_or_default(),
                name: r.name.clone(),
            })
            .collect(),
        // A namespace that exists where the objects go: the controller's
        // own here, `default` on another cluster.
        scratch_namespace: match shared.clusters.for_app(app) {
            Ok(c) if !c.is_local() => "default".to_owned(),
            _ => shared.config.namespace.clone(),
        },
        wait_timeout: shared.config.sync_wait_timeout,
        ignore: crate::prepare::ignore_rules(app, &settings.system_ignore)
            .ok()
            .map(Arc::new),
        options: parsed.clone(),
    };

    // Progress is written by a side task, at most a few times a second;
    // the final status below does not wait out its pause.
    let writer = {
        let api = api.clone();
        let name = name.clone();
        let base = st.clone();
        let synced = synced.clone();
        status::Throttled::spawn(Duration::from_millis(250), move |results| {
            let api = api.clone();
            let name = name.clone();
            let mut s = base.clone();
            if let Some(os) = s.operation_state.as_mut() {
                os.sync_result = Some(synced.result(Some(results)));
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
    let cluster = match shared.clusters.for_app(app) {
        Ok(c) => c,
        Err(e) => {
            fail_operation(shared, api, app, &mut st, op.clone(), &e).await?;
            return Ok(Next::default());
        }
    };
    let cx = Ctx {
        kinds: &cluster.kinds,
        live: &cluster.live,
        health: &settings.health,
        memory: &shared.memory,
        app: &name,
        propagation: tasks::propagation(parsed.propagation.unwrap_or_default()),
    };
    let earlier = resumed.as_ref().filter(|_| !retrying).map(|r| {
        r.sync_result
            .as_ref()
            .and_then(|s| s.resources.clone())
            .unwrap_or_default()
    });
    let report = sync::run(&cx, &cmp, &req, earlier, &progress).await;
    writer.finish().await;
    if !report.finished {
        // Waiting: say for what, and look again soon. A termination asked
        // for during this pass is kept, not written over.
        let asked_to_stop = api
            .get_status(&name)
            .await
            .ok()
            .and_then(|a| a.status?.operation_state)
            .filter(|s| s.phase == "Terminating");
        if let Some(os) = st.operation_state.as_mut() {
            os.message = Some(format!("waiting: {}", report.message));
            os.sync_result = Some(synced.result(Some(report.results.clone())));
        }
        if let (Some(os), Some(stop)) = (st.operation_state.as_mut(), asked_to_stop) {
            os.phase = stop.phase;
            os.message = stop.message;
            status::write(api, &name, &st).await?;
            return Ok(Next::after(Duration::from_millis(50)));
        }
        status::write(api, &name, &st).await?;
        return Ok(Next::after(BACKSTOP));
    }
    shared.memory.forget(&name);

    let finished = status::now();
    if !report.succeeded
        && let Some(wait) = user_retry_due(&op, retry_count, sync_op.dry_run.unwrap_or(false))
    {
        let attempt = retry_count.unwrap_or(0) + 1;
        if let Some(os) = st.operation_state.as_mut() {
            os.phase = "Running".into();
            os.retry_count = Some(attempt);
            os.finished_at = Some(finished);
            os.message = Some(format!(
                "{}; retrying (attempt {attempt} of {}) in {}s",
                report.message,
                op.retry.as_ref().and_then(|r| r.limit).unwrap_or(0),
                wait.as_secs()
            ));
            os.sync_result = Some(synced.result(Some(report.results.clone())));
        }
        status::set_condition(&mut st, "SyncError", Some(report.message.clone()));
        status::write(api, &name, &st).await?;
        events::record(
            &shared.client,
            app,
            Reason::SyncFailed,
            &format!(
                "sync to {} failed: {}; retry {attempt} in {}s",
                short(&revision),
                report.message,
                wait.as_secs()
            ),
        )
        .await;
        return Ok(Next::after(wait));
    }
    if let Some(os) = st.operation_state.as_mut() {
        os.phase = if report.succeeded {
            "Succeeded"
        } else {
            "Failed"
        }
        .into();
        os.message = Some(report.message.clone());
        os.finished_at = Some(finished.clone());
        os.sync_result = Some(synced.result(Some(report.results.clone())));
    }
    // Self-heals are counted (Events), not each written into history,
    // where they would push the real deployments out.
    if report.succeeded && !req.dry_run {
        if !self_heal {
            let reason = rolled_back(&op)
                .map(|(from, why)| format!("automatic rollback from {}: {why}", short(&from)));
            let entry = RevisionHistory {
                id: 0,
                revision: revision.clone(),
                deployed_at: finished.clone(),
                deploy_started_at: Some(started.clone()),
                source: synced.source.clone(),
                revisions: synced.revisions.clone(),
                sources: synced.sources.clone(),
                initiated_by: op.initiated_by.clone(),
                reason,
            };
            push_history(&mut st, app, entry);
        }
        status::set_condition(&mut st, "SyncError", None);
        let compared_here = st
            .sync
            .as_ref()
            .is_some_and(|s| s.revision.as_deref() == Some(revision.as_str()));
        if !wants_other && compared_here {
            report::apply_sync_outcome(&mut st, &cmp, &report.results);
        }
    } else if !report.succeeded {
        status::set_condition(&mut st, "SyncError", Some(report.message.clone()));
    }
    let rollback = rolled_back(&op);
    if let Some((from, why)) = &rollback {
        // Whatever the outcome, the bad commit is not synced again until
        // a new one arrives.
        let memory = st.auto_rollback.get_or_insert_with(Default::default);
        memory.rolled_back_from = Some(from.clone());
        memory.reason = Some(why.clone());
    }
    status::write(api, &name, &st).await?;
    if from_resource {
        status::clear_operation(api, &name, &op).await?;
    }
    crate::metrics::operation_ended(
        app,
        if report.succeeded {
            "Succeeded"
        } else {
            "Failed"
        },
        status::age(&started),
        req.dry_run,
    );
    if let Some((from, why)) = &rollback {
        events::record(
            &shared.client,
            app,
            Reason::RolledBack,
            &format!(
                "rolled back from {} to {}: {why}",
                short(from),
                short(&revision)
            ),
        )
        .await;
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
    Ok(Next::after(Duration::from_millis(200)))
}

/// How long until a failed user-initiated sync with `retry.limit` runs
/// again, or `None` when it has no retries left (or is automated, whose
/// retries are new operations, or a dry run, which changes nothing a retry
/// could fix).
/// The revision a sync operation asks for: `revisions` (one per source)
/// joined as the app revision, else `revision`.
fn asked_revision(sync_op: &SyncOperation) -> Option<String> {
    match sync_op.revisions.as_deref().filter(|r| !r.is_empty()) {
        Some(revisions) => Some(crate::multi_source::join_revisions(revisions)),
        None => sync_op.revision.clone().filter(|r| !r.is_empty()),
    }
}

/// What a sync deploys, as its result and the history record it: the
/// app revision and source, or for several sources each one's revision
/// and the sources (Argo CD's `revisions` and `sources`).
#[derive(Clone, Debug)]
struct Synced {
    revision: String,
    source: Option<ApplicationSource>,
    revisions: Option<Vec<String>>,
    sources: Option<Vec<ApplicationSource>>,
}

impl Synced {
    fn of(app: &Application, sync_op: &SyncOperation, fetched: &Fetched) -> Self {
        let revision = fetched.revision();
        if fetched.revisions.is_some() {
            let sources = sync_op
                .sources
                .clone()
                .filter(|s| !s.is_empty())
                .or_else(|| app.spec.sources.clone());
            return Self {
                revision,
                source: None,
                revisions: fetched.revisions.clone(),
                sources,
            };
        }
        Self {
            revision,
            source: sync_op.source.clone().or_else(|| app.spec.source.clone()),
            revisions: None,
            sources: None,
        }
    }

    fn result(&self, resources: Option<Vec<ResourceResult>>) -> SyncOperationResult {
        SyncOperationResult {
            revision: self.revision.clone(),
            resources,
            source: self.source.clone(),
            revisions: self.revisions.clone(),
            sources: self.sources.clone(),
        }
    }
}

fn user_retry_due(op: &Operation, retries_so_far: Option<i64>, dry_run: bool) -> Option<Duration> {
    let automated = op
        .initiated_by
        .as_ref()
        .and_then(|i| i.automated)
        .unwrap_or(false);
    let retry = op.retry.as_ref()?;
    if automated || dry_run || retry.limit.unwrap_or(0) <= 0 {
        return None;
    }
    decide::retry_wait(Some(retry), retries_so_far.unwrap_or(0) + 1)
}

/// Add `entry` to the history with the next id (ids keep counting),
/// trimmed to `revisionHistoryLimit` (default 10).
fn push_history(st: &mut ApplicationStatus, app: &Application, mut entry: RevisionHistory) {
    let mut history = st.history.take().unwrap_or_default();
    entry.id = history.iter().map(|h| h.id).max().unwrap_or(-1) + 1;
    history.push(entry);
    let limit = usize::try_from(app.spec.revision_history_limit.unwrap_or(10).max(1)).unwrap_or(10);
    if history.len() > limit {
        history.drain(..history.len() - limit);
    }
    st.history = Some(history);
}

/// For an automatic rollback: the commit it leaves and why.
fn rolled_back(op: &Operation) -> Option<(String, String)> {
    let from = decide::info(op, decide::ROLLED_BACK_FROM_INFO)?;
    let why = decide::info(op, decide::WHY_INFO).unwrap_or_default();
    Some((from.to_owned(), why.to_owned()))
}

/// Record `op` as failed before it changed anything.
pub(crate) async fn fail_operation(
    shared: &Arc<Shared>,
    api: &Api<Application>,
    app: &Application,
    st: &mut ApplicationStatus,
    op: Operation,
    message: &str,
) -> Result<(), kube::Error> {
    let name = app.metadata.name.clone().unwrap_or_default();
    let now = status::now();
    let retry_count = is_retry(&op).then(|| {
        st.operation_state
            .as_ref()
            .and_then(|o| o.retry_count)
            .unwrap_or(0)
            + 1
    });
    st.operation_state = Some(OperationState {
        operation: op,
        phase: "Failed".into(),
        message: Some(message.to_owned()),
        sync_result: None,
        started_at: now.clone(),
        finished_at: Some(now),
        retry_count,
    });
    status::set_condition(st, "SyncError", Some(message.to_owned()));
    status::write(api, &name, st).await?;
    if let Some(ran) = &app.operation {
        status::clear_operation(api, &name, ran).await?;
    }
    crate::metrics::operation_ended(app, "Failed", Some(Duration::ZERO), false);
    events::record(&shared.client, app, Reason::SyncFailed, message).await;
    Ok(())
}
