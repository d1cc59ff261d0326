//! Running a sync operation: mark it Running, sync, record the outcome,
//! history and Events, and clear the operation from the Application.

use std::sync::Arc;
use std::time::Duration;

use kube::api::Api;
use sextant_model::Application;
use sextant_model::application::{
    ApplicationStatus, Operation, OperationState, RevisionHistory, SyncOperationResult,
};

use crate::compare::Comparison;
use crate::controller::Shared;
use crate::events::{self, Reason};
use crate::prepare::prepare_with;
use crate::reconcile::short;
use crate::report;
use crate::source::{self, Fetched};
use crate::status;
use crate::sync::{self, SyncRequest};

pub(crate) fn sync_options(app: &Application, op: &Operation) -> Vec<String> {
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

pub(crate) fn has_option(options: &[String], wanted: &str) -> bool {
    options
        .iter()
        .any(|o| o.trim().eq_ignore_ascii_case(wanted))
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
    let retry_count = st
        .operation_state
        .as_ref()
        .and_then(|o| o.retry_count)
        .filter(|_| op.retry.is_some());
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
    // The commit this sync deploys is fixed from here on (a refresh or a
    // push while it runs does not change it) and is shown at once, before
    // anything is applied.
    st.operation_state = Some(OperationState {
        operation: op.clone(),
        phase: "Running".into(),
        message: Some(format!("syncing to {}", short(&revision))),
        sync_result: Some(SyncOperationResult {
            revision: revision.clone(),
            resources: None,
            source: sync_op.source.clone().or_else(|| app.spec.source.clone()),
        }),
        started_at: started.clone(),
        finished_at: None,
        retry_count,
    });
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
        // An automated operation carries `automated.prune` itself.
        prune: sync_op.prune.unwrap_or(false),
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
        scratch_namespace: shared.config.namespace.clone(),
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
    status::write(api, &name, &st).await?;
    if from_resource {
        status::clear_operation(api, &name, &op).await?;
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
    if let Some(ran) = &app.operation {
        status::clear_operation(api, &name, ran).await?;
    }
    events::record(&shared.client, app, Reason::SyncFailed, message).await;
    Ok(())
}
