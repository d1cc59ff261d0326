//! One pass over one app: read it, render its source, compare with the
//! live state, write the status, and run the sync that is due (a requested
//! operation, an automated sync of a new revision, a self-heal), or, when
//! the app is being deleted, delete its objects first if its finalizer
//! asks for it.

use std::sync::Arc;
use std::time::Duration;

use kube::api::Api;
use sextant_model::Application;
use sextant_model::annotations::REQUEST_ID_INFO;
use sextant_model::application::{
    ApplicationStatus, Operation, OperationInitiator, OperationState, SyncOperation, SyncStatus,
};

use crate::compare::SyncState;
use crate::controller::Shared;
use crate::events::{self, Reason};
use crate::finalize::finalize;
use crate::operation::{fail_operation, run_operation};
use crate::prepare::{compared_to, prepare_with};
use crate::report::fill_status;
use crate::status;

/// What the worker should do after a pass.
#[derive(Debug, Default)]
pub struct Next {
    /// Look again after this long.
    pub requeue_after: Option<Duration>,
}

impl Next {
    pub(crate) fn after(d: Duration) -> Self {
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
    // An operation that already ran (its outcome is recorded, but the
    // controller stopped before clearing it) is only cleared, before
    // anything could overwrite that outcome.
    if let Some(op) = &app.operation
        && already_ran(op, previous.operation_state.as_ref())
    {
        status::clear_operation(&api, name, op).await?;
        return Ok(Next::after(Duration::from_millis(200)));
    }
    let mut st = previous.clone();
    let refresh = status::refresh_requested(&app);
    // A requested sync deploys what Git holds when it is asked, not what
    // the last poll saw: the target revision is resolved again now.
    let starting = app.operation.as_ref().is_some_and(|op| {
        crate::operation::under_way(op, previous.operation_state.as_ref()).is_none()
    });
    let fresh = refresh || starting;

    let prepared = prepare_with(shared, &app, None, None, fresh).await;
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
    // Sync options are known or refused, never silently ignored.
    let options = crate::operation::app_sync_options(&app);
    let invalid = sextant_engine::sync::SyncOptions::parse_app(options.iter().map(String::as_str))
        .err()
        .map(|e| format!("spec.syncPolicy.syncOptions: {e}"));
    status::set_condition(&mut st, "InvalidSpecError", invalid);
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
        return run_operation(shared, &api, &app, st, op, Some((fetched, cmp)), false).await;
    }
    // An automated sync under way (waiting on a wave, or cut off by a
    // restart) carries on.
    if let Some(last) = &previous.operation_state
        && last.phase == "Running"
    {
        let op = last.operation.clone();
        if automated(&app).is_some() {
            let self_heal = is_self_heal(&op);
            return run_operation(shared, &api, &app, st, op, Some((fetched, cmp)), self_heal)
                .await;
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
        return run_operation(
            shared,
            &api,
            &app,
            st,
            auto_op(false),
            Some((fetched, cmp)),
            false,
        )
        .await;
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
        return run_operation(
            shared,
            &api,
            &app,
            st,
            auto_op(true),
            Some((fetched, cmp)),
            true,
        )
        .await;
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
            return run_operation(shared, &api, &app, st, op, Some((fetched, cmp)), false).await;
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

/// A duration as Kubernetes and Go write it (`5s`, `1m30s`, `500ms`).
pub fn parse_duration(text: &str) -> Option<Duration> {
    sextant_model::duration::parse(text).ok()
}

/// `1m30s`: a duration as people write it.
pub(crate) fn show_duration(d: Duration) -> String {
    sextant_model::duration::show(d)
}

/// Whether an automated operation was started by self-heal.
fn is_self_heal(op: &Operation) -> bool {
    op.info
        .iter()
        .flatten()
        .any(|i| i.name == "reason" && i.value == "self-heal")
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
        .is_none_or(|a| a >= shared.config.resync_interval)
}

pub(crate) fn short(revision: &str) -> &str {
    revision.get(..7).unwrap_or(revision)
}

/// Whether `op` is the operation whose final outcome `state` records. Only
/// operations with a request id can tell (two syncs asked with the same
/// options are otherwise the same value).
fn already_ran(op: &Operation, state: Option<&OperationState>) -> bool {
    let id = |op: &Operation| {
        op.info
            .iter()
            .flatten()
            .find(|i| i.name == REQUEST_ID_INFO)
            .map(|i| i.value.clone())
    };
    state.is_some_and(|s| {
        matches!(s.phase.as_str(), "Succeeded" | "Failed" | "Error")
            && id(op).is_some()
            && id(op) == id(&s.operation)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sextant_model::application::Info;

    fn op(id: Option<&str>) -> Operation {
        Operation {
            info: id.map(|id| {
                vec![Info {
                    name: REQUEST_ID_INFO.into(),
                    value: id.into(),
                }]
            }),
            ..Default::default()
        }
    }

    fn state(op: Operation, phase: &str) -> OperationState {
        OperationState {
            operation: op,
            phase: phase.into(),
            ..Default::default()
        }
    }

    #[test]
    fn retry_backoff_durations_are_read_as_kubernetes_writes_them() {
        assert_eq!(parse_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("5s"), Some(Duration::from_secs(5)));
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("3m"), Some(Duration::from_secs(180)));
        assert_eq!(parse_duration("soon"), None);
    }

    #[test]
    fn an_operation_already_ran_when_its_request_id_has_a_final_outcome() {
        let a = op(Some("a"));
        assert!(already_ran(&a, Some(&state(a.clone(), "Succeeded"))));
        assert!(already_ran(&a, Some(&state(a.clone(), "Failed"))));
        // Still running, another request, or nothing recorded: run it.
        assert!(!already_ran(&a, Some(&state(a.clone(), "Running"))));
        assert!(!already_ran(&a, Some(&state(op(Some("b")), "Succeeded"))));
        assert!(!already_ran(&a, None));
        // Without request ids two equal requests cannot be told apart.
        let plain = op(None);
        assert!(!already_ran(
            &plain,
            Some(&state(plain.clone(), "Succeeded"))
        ));
    }
}
