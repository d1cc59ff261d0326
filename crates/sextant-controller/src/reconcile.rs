//! One pass over one app, one way through: observe (the app, Git, the
//! live state) -> render and compare (`prepare.rs`) -> status
//! (`report.rs`) -> decide what is due (`decide.rs`, pure) -> run it
//! (`operation.rs`, the only path that writes to the cluster). When the
//! app is being deleted, `finalize.rs` instead.

use std::sync::Arc;
use std::time::Duration;

use kube::api::Api;
use sextant_model::Application;
use sextant_model::annotations::REQUEST_ID_INFO;
use sextant_model::application::{ApplicationStatus, Operation, OperationState, SyncStatus};

use crate::compare::SyncState;
use crate::controller::Shared;
use crate::decide::{Due, Observed, decide};
use crate::events::{self, Reason};
use crate::fight::{FIGHT_AFTER, other_writer};
use crate::finalize::finalize;
use crate::operation::{fail_operation, run_operation};
use crate::prepare::{compared_to, prepare_with};
use crate::report::fill_status;
use crate::source::{COMPARISON_ERROR, INVALID_SPEC_ERROR};
use crate::status;
pub use crate::words::{Next, parse_duration};
use crate::words::{short, show_duration};

/// Reconcile the app `name`.
pub async fn reconcile(shared: &Arc<Shared>, name: &str) -> Result<Next, kube::Error> {
    let api: Api<Application> = Api::namespaced(shared.client.clone(), &shared.config.namespace);
    let Some(app) = api.get_opt(name).await? else {
        shared.forget_app(name);
        return Ok(Next::default());
    };
    // A place on the app's cluster, or come back shortly: a slow cluster
    // holds at most its share of the workers.
    let _permit = match shared.clusters.for_app(&app) {
        Ok(cluster) => match cluster.permit() {
            Some(p) => Some(p),
            None => return Ok(Next::after(Duration::from_millis(250))),
        },
        Err(_) => None,
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
        Err(problem) => {
            st.sync = Some(SyncStatus {
                status: "Unknown".into(),
                revision: previous.sync.as_ref().and_then(|s| s.revision.clone()),
                revisions: previous.sync.as_ref().and_then(|s| s.revisions.clone()),
                compared_to: Some(compared_to(&app)),
            });
            // Transient (Git or the API server unreachable): look again
            // with backoff. Permanent (the repository's fault): wait for a
            // change of the app, its repository or its credentials.
            let retry = problem
                .transient
                .then(|| transient_backoff(shared, name, true));
            let mut message = problem.message.clone();
            if let Some(wait) = retry {
                message.push_str(&format!("; retrying in {}", show_duration(wait)));
            }
            status::set_condition(&mut st, problem.condition, Some(message));
            if problem.condition != COMPARISON_ERROR {
                // The project refused the app before any comparison.
                status::set_condition(&mut st, COMPARISON_ERROR, None);
            }
            st.reconciled_at = Some(status::now());
            status::write(&api, name, &st).await?;
            if refresh {
                status::clear_refresh(&api, &app).await?;
            }
            if let Some(op) = &app.operation {
                fail_operation(shared, &api, &app, &mut st, op.clone(), &problem.message).await?;
            }
            return Ok(retry.map(Next::after).unwrap_or_default());
        }
    };
    transient_backoff(shared, name, false);
    let revision = fetched.revision();
    fill_status(&mut st, &app, &fetched, &cmp);
    // Sync options are known or refused, never silently ignored.
    let options = crate::operation::app_sync_options(&app);
    let invalid = sextant_engine::sync::SyncOptions::parse_app(options.iter().map(String::as_str))
        .err()
        .map(|e| format!("spec.syncPolicy.syncOptions: {e}"));
    let spec_problems: Vec<String> = invalid
        .into_iter()
        .chain(crate::projects::denied_summary(
            &cmp.denied,
            "a sync refuses them before changing anything",
        ))
        .collect();
    status::set_condition(
        &mut st,
        INVALID_SPEC_ERROR,
        (!spec_problems.is_empty()).then(|| spec_problems.join("; ")),
    );
    let project = shared.projects.get(crate::projects::project_name(&app));
    let orphans = match shared.clusters.for_app(&app) {
        Ok(cluster) => {
            let filter = &shared.settings.get().resource_filter;
            crate::projects::orphans(project.as_deref(), &app, &cluster, filter).await
        }
        Err(_) => None,
    };
    status::set_condition(&mut st, ORPHANED_CONDITION, orphans);
    // Sync windows: whether a sync may start now, shown while they block.
    let windows = match &project {
        Some(project) => crate::projects::windows(&shared.clusters, project, &app),
        None => Ok(sextant_engine::project::WindowVerdict::open()),
    };
    let window_note = match &windows {
        Ok(v) if !v.automated && automated(&app).is_some() => v.reason.clone(),
        Ok(v) if !v.manual => v.reason.clone(),
        Ok(_) => None,
        Err(e) => Some(e.clone()),
    };
    let window_recheck = window_note
        .as_ref()
        .and_then(|_| windows.as_ref().ok()?.changes_at)
        .map(until);
    status::set_condition(&mut st, SYNC_WINDOW_CONDITION, window_note);
    // dependsOn: only automated syncs wait, so only automated apps ask.
    let readiness = if automated(&app).is_some() && !crate::depends::names(&app).is_empty() {
        crate::depends::check(&api, &app).await?
    } else {
        crate::depends::Readiness::Ready
    };
    let (waiting, broken) = match &readiness {
        crate::depends::Readiness::Ready => (None, None),
        crate::depends::Readiness::Waiting(m) => (Some(m.clone()), None),
        crate::depends::Readiness::Broken(m) => (None, Some(m.clone())),
    };
    status::set_condition(&mut st, DEPENDENCY_WAIT, waiting);
    status::set_condition(&mut st, DEPENDENCY_ERROR, broken);
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

    let rollback_policy = app
        .spec
        .sync_policy
        .as_ref()
        .and_then(|p| p.auto_rollback.as_ref());
    let healthy = cmp.health().status == sextant_engine::health::HealthStatus::Healthy;
    if rollback_policy.is_some() {
        // Remember the last commit the app was Synced and Healthy at.
        let synced_here = previous.operation_state.as_ref().is_some_and(|l| {
            l.phase == "Succeeded"
                && l.sync_result
                    .as_ref()
                    .is_some_and(|r| r.revision == revision)
        });
        if healthy && synced_here && cmp.sync() == SyncState::Synced {
            st.auto_rollback
                .get_or_insert_with(Default::default)
                .last_healthy_revision = Some(revision.clone());
            if status::differs(&previous, &st) {
                status::write(&api, name, &st).await?;
            }
        }
    }
    let remembered = st.auto_rollback.clone().unwrap_or_default();
    let rollback = rollback_policy.map(|p| crate::decide::Rollback {
        health_timeout: p
            .health_timeout
            .as_deref()
            .and_then(parse_duration)
            .unwrap_or(Duration::from_secs(300)),
        healthy,
        last_healthy: remembered.last_healthy_revision.as_deref(),
        rolled_back_from: remembered.rolled_back_from.as_deref(),
    });
    // An empty render never syncs automatically (it would prune the app
    // away) unless allowEmpty says an app with no objects is meant.
    let empty = fetched.outcome.rendered.objects.is_empty() && !crate::report::allows_empty(&app);
    let automated = automated(&app)
        .filter(|_| !empty)
        .map(|a| (a.prune.unwrap_or(false), a.self_heal.unwrap_or(false)));
    let retry = app.spec.sync_policy.as_ref().and_then(|p| p.retry.as_ref());
    let observed = Observed {
        operation: app.operation.as_ref(),
        last: previous.operation_state.as_ref(),
        automated,
        retry,
        revision: &revision,
        synced: cmp.sync() == SyncState::Synced,
        conflicts: cmp.conflicts().next().is_some(),
        only_pruning: cmp.only_pruning(),
        since_last: previous
            .operation_state
            .as_ref()
            .and_then(|l| l.finished_at.as_deref())
            .and_then(status::age),
        self_heal_delay: shared.config.self_heal_delay,
        self_heal_backoff: shared.fights.backoff(name),
        rollback,
    };
    if shared.fights.backoff(name).is_zero() {
        status::set_condition(&mut st, FIGHT_CONDITION, None);
    }
    let due = decide(&observed);
    // A sync about to start (not one under way: it runs on) asks the
    // windows first; a manual one they refuse fails, saying why.
    if let Due::Run { op, .. } = &due
        && !under_way(&previous)
    {
        let manual = op.initiated_by.as_ref().and_then(|i| i.automated) != Some(true);
        let refusal = match &windows {
            Ok(v) if v.allows(manual) => None,
            Ok(v) => Some(v.reason.clone().unwrap_or_default()),
            Err(e) => Some(e.clone()),
        };
        if let Some(reason) = refusal {
            if manual && app.operation.is_some() {
                let message = format!(
                    "{reason}: sync when the window allows it, or set manualSync on the window"
                );
                fail_operation(shared, &api, &app, &mut st, op.clone(), &message).await?;
                return Ok(Next::after(Duration::from_millis(200)));
            }
            tracing::info!(app = %name, %reason, "automated sync held back by a sync window");
            return Ok(window_recheck.map(Next::after).unwrap_or_default());
        }
    }
    let next = match due {
        Due::Nothing => Ok(Next::default()),
        Due::Wait(wait) => {
            if let Some(last) = previous.operation_state.as_ref()
                && matches!(last.phase.as_str(), "Failed" | "Error")
            {
                // Say when the next attempt comes, and which it is.
                let attempt = last.retry_count.unwrap_or(0) + 1;
                let of = retry
                    .and_then(|r| r.limit)
                    .filter(|l| *l >= 0)
                    .map(|l| format!(" of {l}"))
                    .unwrap_or_default();
                let message = format!(
                    "{}; retrying (attempt {attempt}{of}) in {}",
                    last.message.as_deref().unwrap_or("the last sync failed"),
                    show_duration(Duration::from_secs(wait.as_secs().max(1)))
                );
                status::set_condition(&mut st, "SyncError", Some(message));
                if status::differs(&previous, &st) {
                    status::write(&api, name, &st).await?;
                }
            }
            Ok(Next::after(wait))
        }
        Due::Run { .. }
            if app.operation.is_none()
                && !under_way(&previous)
                && readiness != crate::depends::Readiness::Ready =>
        {
            // The status says what it waits for; a change of a dependency
            // queues this app again (see controller.rs), with a backstop.
            Ok(Next::after(DEPENDENCY_BACKSTOP))
        }
        Due::Run { op, self_heal } => {
            let new_heal = self_heal && app.operation.is_none() && !under_way(&previous);
            if new_heal {
                let heals = shared.fights.healed(name, shared.config.self_heal_delay);
                if heals >= FIGHT_AFTER {
                    let text = fight_message(&cmp, heals, shared.fights.backoff(name));
                    status::set_condition(&mut st, FIGHT_CONDITION, Some(text.clone()));
                    events::record(&shared.client, &app, Reason::FightDetected, &text).await;
                }
            } else if !self_heal && app.operation.is_none() && !under_way(&previous) {
                // A new commit: whatever fought over the last one starts afresh.
                shared.fights.forget(name);
            }
            run_operation(shared, &api, &app, st, op, Some((fetched, cmp)), self_heal).await
        }
        Due::FailInterrupted(op) => {
            fail_operation(
                shared,
                &api,
                &app,
                &mut st,
                op,
                "the controller stopped during this sync; sync again",
            )
            .await?;
            Ok(Next::after(Duration::from_millis(200)))
        }
    }?;
    // While a window holds something back, look again when it changes.
    Ok(match (next.requeue_after, window_recheck) {
        (Some(a), Some(b)) => Next::after(a.min(b)),
        (a, b) => a.or(b).map(Next::after).unwrap_or_default(),
    })
}

/// From now until `t` (at least a second, so a window's edge is passed).
fn until(t: chrono::DateTime<chrono::Utc>) -> Duration {
    (t - chrono::Utc::now())
        .to_std()
        .unwrap_or_default()
        .max(Duration::from_secs(1))
}

/// The condition that lists objects of the app's namespace no app tracks.
const ORPHANED_CONDITION: &str = "OrphanedResourceWarning";

/// The condition that says a sync window holds syncs back, and until when.
const SYNC_WINDOW_CONDITION: &str = "SyncWindowWarning";

/// The wait before the next try after a transient problem of `name`'s
/// source (`failed`), 2 s doubling to 2 minutes; a success (`!failed`)
/// starts the count again.
fn transient_backoff(shared: &Shared, name: &str, failed: bool) -> Duration {
    let Ok(mut map) = shared.transient.lock() else {
        return Duration::from_secs(30);
    };
    if !failed {
        map.remove(name);
        return Duration::ZERO;
    }
    let n = map.entry(name.to_owned()).or_insert(0);
    *n = n.saturating_add(1);
    Duration::from_secs(2)
        .saturating_mul(2u32.saturating_pow((*n - 1).min(6)))
        .min(Duration::from_secs(120))
}

/// The condition that says which dependencies an automated sync waits for.
const DEPENDENCY_WAIT: &str = "DependencyWait";
/// The condition for a dependency that does not exist, or a cycle.
const DEPENDENCY_ERROR: &str = "DependencyError";
/// How often an app waiting for dependencies looks again even when no
/// dependency changed.
const DEPENDENCY_BACKSTOP: Duration = Duration::from_secs(30);

/// The condition that names a fight with another writer.
const FIGHT_CONDITION: &str = "SelfHealFightWarning";

fn under_way(previous: &ApplicationStatus) -> bool {
    previous
        .operation_state
        .as_ref()
        .is_some_and(|s| matches!(s.phase.as_str(), "Running" | "Terminating"))
}

/// `self-heal reverted Deployment.apps shop/web (/spec/replicas) 3 times
/// in a row: field manager kubectl-edit keeps changing it; ...`.
fn fight_message(cmp: &crate::compare::Comparison, heals: u32, backoff: Duration) -> String {
    let objects: Vec<String> = cmp
        .resources
        .iter()
        .filter(|r| r.sync == SyncState::OutOfSync && r.live.is_some() && r.desired.is_some())
        .take(3)
        .map(|r| {
            let fields: Vec<&str> = r
                .diff
                .iter()
                .flat_map(|d| d.changes.iter())
                .map(|c| c.path.as_str())
                .take(3)
                .collect();
            let writer = r
                .live
                .as_deref()
                .and_then(other_writer)
                .map(|m| format!("field manager `{m}`"))
                .unwrap_or_else(|| "another writer".to_owned());
            format!("{} ({}) by {writer}", r.key, fields.join(", "))
        })
        .collect();
    format!(
        "self-heal reverted the same changes {heals} times in a row: {}; self-heal now waits {} more between reverts. Settle it: stop the other writer, or let it own the fields (ignoreDifferences with managedFieldsManagers)",
        objects.join("; "),
        show_duration(backoff)
    )
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
