//! What is due for an app, decided from what was observed — a pure
//! function, so every branch is table-tested: the requested operation, an
//! automated sync under way, a new commit to sync, drift to heal, a failed
//! automated sync to retry, or nothing (perhaps after a wait).

use std::time::Duration;

use sextant_model::application::{
    Info, Operation, OperationInitiator, OperationState, RetryStrategy, SyncOperation,
};

/// The `operation.info` entry that marks a self-heal.
pub(crate) const REASON_INFO: &str = "reason";

/// What `decide` needs to know.
#[derive(Clone, Debug, Default)]
pub(crate) struct Observed<'a> {
    /// `operation` on the Application.
    pub operation: Option<&'a Operation>,
    /// `status.operationState` as it was.
    pub last: Option<&'a OperationState>,
    /// `syncPolicy.automated` (when on): (prune, selfHeal).
    pub automated: Option<(bool, bool)>,
    /// `syncPolicy.retry`.
    pub retry: Option<&'a RetryStrategy>,
    /// The commit just compared.
    pub revision: &'a str,
    /// Whether the app is Synced.
    pub synced: bool,
    /// Whether an object Git wants belongs to someone else.
    pub conflicts: bool,
    /// Whether the only differences are objects to prune.
    pub only_pruning: bool,
    /// How long ago the last operation finished.
    pub since_last: Option<Duration>,
    /// How long self-heal waits after a sync.
    pub self_heal_delay: Duration,
    /// Extra wait before self-healing again (a fight with another writer).
    pub self_heal_backoff: Duration,
    /// `syncPolicy.autoRollback`, when on.
    pub rollback: Option<Rollback<'a>>,
}

/// What automatic rollback needs.
#[derive(Clone, Debug, Default)]
pub(crate) struct Rollback<'a> {
    /// How long after a sync the app must be Healthy.
    pub health_timeout: Duration,
    /// Whether the app is Healthy now.
    pub healthy: bool,
    /// The last revision that was Synced and Healthy.
    pub last_healthy: Option<&'a str>,
    /// The revision already rolled back from.
    pub rolled_back_from: Option<&'a str>,
}

/// The `operation.info` entry that names the revision a rollback leaves.
pub(crate) const ROLLED_BACK_FROM_INFO: &str = "rolled-back-from";
/// The `operation.info` entry that says why a rollback happens.
pub(crate) const WHY_INFO: &str = "why";

/// What to do.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Due {
    /// Nothing now.
    Nothing,
    /// Nothing until this long has passed, then look again.
    Wait(Duration),
    /// Run (or carry on with) this operation.
    Run {
        /// The operation.
        op: Operation,
        /// Started by self-heal.
        self_heal: bool,
    },
    /// A manual sync was found Running with no operation asking for it
    /// (the controller stopped during it and the request is gone).
    FailInterrupted(Operation),
}

fn is_running(state: &OperationState) -> bool {
    matches!(state.phase.as_str(), "Running" | "Terminating")
}

/// Whether `op` was started by self-heal.
pub(crate) fn is_self_heal(op: &Operation) -> bool {
    info(op, REASON_INFO) == Some("self-heal")
}

/// Whether `op` retries a failed automated sync.
pub(crate) fn is_retry(op: &Operation) -> bool {
    info(op, REASON_INFO) == Some("retry")
}

/// The value of the `operation.info` entry `name`.
pub(crate) fn info<'o>(op: &'o Operation, name: &str) -> Option<&'o str> {
    op.info
        .iter()
        .flatten()
        .find(|i| i.name == name)
        .map(|i| i.value.as_str())
}

/// The operation an automated sync of `revision` runs.
pub(crate) fn automated_operation(revision: &str, prune: bool, reason: Option<&str>) -> Operation {
    Operation {
        sync: Some(SyncOperation {
            revision: Some(revision.to_owned()),
            prune: Some(prune),
            ..SyncOperation::default()
        }),
        initiated_by: Some(OperationInitiator {
            username: None,
            automated: Some(true),
        }),
        info: reason.map(|r| {
            vec![Info {
                name: REASON_INFO.into(),
                value: r.into(),
            }]
        }),
        ..Operation::default()
    }
}

/// The commit the last operation synced (or asked for).
fn last_revision(last: &OperationState) -> Option<String> {
    last.sync_result
        .as_ref()
        .map(|r| r.revision.clone())
        .filter(|r| !r.is_empty())
        .or_else(|| last.operation.sync.as_ref()?.revision.clone())
}

/// How long to wait before retry number `attempt` (1 for the first retry)
/// of a failed automated sync, and whether another attempt is allowed.
/// Without `syncPolicy.retry` a failed automated sync is retried anyway,
/// from 10 s doubling to 5 minutes, since its cause (a namespace or CRD
/// that comes later, an API error) may go away without a new commit.
pub(crate) fn retry_wait(retry: Option<&RetryStrategy>, attempt: i64) -> Option<Duration> {
    let (limit, base, factor, max) = match retry {
        Some(r) => {
            let b = r.backoff.clone().unwrap_or_default();
            let parse = |t: Option<&str>, d| {
                t.and_then(|t| sextant_model::duration::parse(t).ok())
                    .unwrap_or(d)
            };
            (
                r.limit.unwrap_or(2),
                parse(b.duration.as_deref(), Duration::from_secs(5)),
                b.factor.unwrap_or(2).max(1),
                parse(b.max_duration.as_deref(), Duration::from_secs(180)),
            )
        }
        None => (-1, Duration::from_secs(10), 2, Duration::from_secs(300)),
    };
    if limit >= 0 && attempt > limit {
        return None;
    }
    let exp = u32::try_from((attempt - 1).clamp(0, 16)).unwrap_or(16);
    let factor = u32::try_from(factor).unwrap_or(2);
    Some(base.saturating_mul(factor.saturating_pow(exp)).min(max))
}

/// A rollback when the automated sync of the compared commit failed, or
/// it is not Healthy `health_timeout` after it succeeded, and an earlier
/// commit was Synced and Healthy.
fn rollback_due(
    o: &Observed<'_>,
    last: Option<&OperationState>,
    last_rev: Option<&str>,
    prune: bool,
) -> Option<Due> {
    let rb = o.rollback.as_ref()?;
    let last = last?;
    let good = rb.last_healthy.filter(|g| *g != o.revision)?;
    let automated = last
        .operation
        .initiated_by
        .as_ref()
        .and_then(|i| i.automated)
        == Some(true);
    if !automated || last_rev != Some(o.revision) {
        return None;
    }
    let since = o.since_last.unwrap_or(Duration::MAX);
    let why = match last.phase.as_str() {
        "Failed" | "Error" => format!(
            "the automated sync of {} failed: {}",
            short(o.revision),
            last.message.as_deref().unwrap_or_default()
        ),
        "Succeeded" if !rb.healthy && since >= rb.health_timeout => format!(
            "{} was not Healthy {} after it was synced",
            short(o.revision),
            sextant_model::duration::show(rb.health_timeout)
        ),
        "Succeeded" if !rb.healthy => return Some(Due::Wait(rb.health_timeout - since)),
        _ => return None,
    };
    let mut op = automated_operation(good, prune, Some("rollback"));
    op.info.get_or_insert_with(Vec::new).extend([
        Info {
            name: ROLLED_BACK_FROM_INFO.into(),
            value: o.revision.to_owned(),
        },
        Info {
            name: WHY_INFO.into(),
            value: why,
        },
    ]);
    Some(Due::Run {
        op,
        self_heal: false,
    })
}

fn short(revision: &str) -> &str {
    revision.get(..7).unwrap_or(revision)
}

/// Decide what is due.
pub(crate) fn decide(o: &Observed<'_>) -> Due {
    // A requested operation first (new, or under way).
    if let Some(op) = o.operation {
        return Due::Run {
            op: op.clone(),
            self_heal: false,
        };
    }
    // An operation under way (waiting on a wave, or cut off by a restart)
    // carries on if it was automated; a manual one lost its request.
    if let Some(last) = o.last
        && is_running(last)
    {
        let op = last.operation.clone();
        if o.automated.is_some() {
            let self_heal = is_self_heal(&op);
            return Due::Run { op, self_heal };
        }
        return Due::FailInterrupted(op);
    }
    let Some((prune, self_heal)) = o.automated else {
        return Due::Nothing;
    };
    if let Some(rb) = &o.rollback
        && rb.rolled_back_from == Some(o.revision)
    {
        // Rolled back from this commit: wait for a new one.
        return Due::Nothing;
    }
    let last = o.last;
    let last_rev = last.and_then(last_revision);
    // A synced commit that is not Healthy in time is rolled back too.
    if let Some(due) = rollback_due(o, last, last_rev.as_deref(), prune) {
        return due;
    }
    if o.synced || o.conflicts || (o.only_pruning && !prune) {
        return Due::Nothing;
    }
    if last_rev.as_deref() != Some(o.revision) {
        return Due::Run {
            op: automated_operation(o.revision, prune, None),
            self_heal: false,
        };
    }
    let Some(last) = last else {
        return Due::Nothing;
    };
    let since = o.since_last.unwrap_or(Duration::MAX);
    match last.phase.as_str() {
        "Succeeded" if self_heal => {
            let delay = o.self_heal_delay.saturating_add(o.self_heal_backoff);
            if since < delay {
                return Due::Wait(delay - since);
            }
            Due::Run {
                op: automated_operation(o.revision, prune, Some("self-heal")),
                self_heal: true,
            }
        }
        "Failed" | "Error"
            if last
                .operation
                .initiated_by
                .as_ref()
                .and_then(|i| i.automated)
                == Some(true) =>
        {
            let attempt = last.retry_count.unwrap_or(0) + 1;
            let Some(wait) = retry_wait(o.retry, attempt) else {
                return Due::Nothing;
            };
            if since < wait {
                return Due::Wait(wait - since);
            }
            let mut op = automated_operation(o.revision, prune, Some("retry"));
            op.retry = o.retry.cloned();
            Due::Run {
                op,
                self_heal: false,
            }
        }
        _ => Due::Nothing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sextant_model::application::{Backoff, SyncOperationResult};

    fn state(phase: &str, revision: &str, automated: bool, retries: Option<i64>) -> OperationState {
        let mut op = automated_operation(revision, true, None);
        if !automated {
            op.initiated_by = Some(OperationInitiator {
                username: Some("alice".into()),
                automated: None,
            });
        }
        OperationState {
            operation: op,
            phase: phase.into(),
            sync_result: Some(SyncOperationResult {
                revision: revision.into(),
                ..SyncOperationResult::default()
            }),
            retry_count: retries,
            ..OperationState::default()
        }
    }

    fn observed<'a>(last: Option<&'a OperationState>) -> Observed<'a> {
        Observed {
            last,
            automated: Some((true, true)),
            revision: "c2",
            since_last: Some(Duration::from_secs(60)),
            self_heal_delay: Duration::from_secs(5),
            ..Observed::default()
        }
    }

    fn runs(due: &Due) -> Option<(&str, bool)> {
        match due {
            Due::Run { op, self_heal } => Some((
                op.sync.as_ref()?.revision.as_deref().unwrap_or(""),
                *self_heal,
            )),
            _ => None,
        }
    }

    #[test]
    fn a_requested_operation_comes_first_and_one_under_way_carries_on() {
        let asked = automated_operation("c1", false, None);
        let running = state("Running", "c1", true, None);
        let mut o = observed(Some(&running));
        o.operation = Some(&asked);
        assert_eq!(
            decide(&o),
            Due::Run {
                op: asked.clone(),
                self_heal: false
            }
        );
        o.operation = None;
        assert_eq!(runs(&decide(&o)), Some(("c1", false)), "automated: resumed");
        let manual = state("Running", "c1", false, None);
        let mut o = observed(Some(&manual));
        o.automated = None;
        assert!(matches!(decide(&o), Due::FailInterrupted(_)));
        let terminating = state("Terminating", "c1", true, None);
        assert_eq!(
            runs(&decide(&observed(Some(&terminating)))),
            Some(("c1", false))
        );
    }

    #[test]
    fn a_new_commit_is_synced_once_and_a_synced_or_manual_app_is_left_alone() {
        let done = state("Succeeded", "c1", true, None);
        assert_eq!(runs(&decide(&observed(Some(&done)))), Some(("c2", false)));
        assert_eq!(runs(&decide(&observed(None))), Some(("c2", false)));
        let mut o = observed(Some(&done));
        o.synced = true;
        assert_eq!(decide(&o), Due::Nothing);
        let mut o = observed(Some(&done));
        o.automated = None;
        assert_eq!(decide(&o), Due::Nothing);
        let mut o = observed(Some(&done));
        o.conflicts = true;
        assert_eq!(decide(&o), Due::Nothing, "never take over another's object");
        let mut o = observed(Some(&done));
        o.automated = Some((false, true));
        o.only_pruning = true;
        assert_eq!(decide(&o), Due::Nothing, "pruning needs automated.prune");
    }

    #[test]
    fn drift_is_healed_after_the_delay_and_its_backoff() {
        let done = state("Succeeded", "c2", true, None);
        assert_eq!(runs(&decide(&observed(Some(&done)))), Some(("c2", true)));
        let mut o = observed(Some(&done));
        o.since_last = Some(Duration::from_secs(2));
        assert_eq!(decide(&o), Due::Wait(Duration::from_secs(3)));
        o.self_heal_backoff = Duration::from_secs(60);
        o.since_last = Some(Duration::from_secs(30));
        assert_eq!(
            decide(&o),
            Due::Wait(Duration::from_secs(35)),
            "a fight backs off"
        );
        let mut o = observed(Some(&done));
        o.automated = Some((true, false));
        assert_eq!(
            decide(&o),
            Due::Nothing,
            "no selfHeal: drift is only reported"
        );
    }

    fn rollback_op(due: &Due) -> Option<(String, String)> {
        let Due::Run { op, .. } = due else {
            return None;
        };
        let info = op.info.as_ref()?;
        let from = info.iter().find(|i| i.name == ROLLED_BACK_FROM_INFO)?;
        Some((op.sync.as_ref()?.revision.clone()?, from.value.clone()))
    }

    #[test]
    fn a_bad_commit_is_rolled_back_to_the_last_healthy_one_and_not_synced_again() {
        let rb = |healthy| Rollback {
            health_timeout: Duration::from_secs(30),
            healthy,
            last_healthy: Some("c1"),
            rolled_back_from: None,
        };
        let failed = state("Failed", "c2", true, None);
        let mut o = observed(Some(&failed));
        o.rollback = Some(rb(false));
        assert_eq!(rollback_op(&decide(&o)), Some(("c1".into(), "c2".into())));
        // Synced but not Healthy: wait out the timeout, then roll back.
        let synced = state("Succeeded", "c2", true, None);
        let mut o = observed(Some(&synced));
        o.rollback = Some(rb(false));
        o.since_last = Some(Duration::from_secs(10));
        assert_eq!(decide(&o), Due::Wait(Duration::from_secs(20)));
        o.since_last = Some(Duration::from_secs(31));
        assert_eq!(rollback_op(&decide(&o)), Some(("c1".into(), "c2".into())));
        // Healthy: nothing to roll back; no healthy revision: retry instead.
        o.rollback = Some(rb(true));
        o.synced = true;
        assert_eq!(decide(&o), Due::Nothing);
        let mut o = observed(Some(&failed));
        o.rollback = Some(Rollback {
            last_healthy: None,
            ..rb(false)
        });
        assert!(rollback_op(&decide(&o)).is_none());
        // Rolled back from c2: c2 is not synced again; c3 is.
        let back = state("Succeeded", "c1", true, None);
        let mut o = observed(Some(&back));
        o.rollback = Some(Rollback {
            rolled_back_from: Some("c2"),
            ..rb(true)
        });
        assert_eq!(decide(&o), Due::Nothing);
        o.revision = "c3";
        assert_eq!(runs(&decide(&o)), Some(("c3", false)));
    }

    #[test]
    fn a_failed_automated_sync_is_retried_with_backoff_within_its_limit() {
        let failed = state("Failed", "c2", true, Some(0));
        let mut o = observed(Some(&failed));
        o.since_last = Some(Duration::from_secs(3));
        assert_eq!(
            decide(&o),
            Due::Wait(Duration::from_secs(7)),
            "default: 10 s first"
        );
        o.since_last = Some(Duration::from_secs(11));
        assert_eq!(runs(&decide(&o)), Some(("c2", false)));
        let policy = RetryStrategy {
            limit: Some(2),
            backoff: Some(Backoff {
                duration: Some("1s".into()),
                factor: Some(3),
                max_duration: Some("1m30s".into()),
            }),
        };
        assert_eq!(retry_wait(Some(&policy), 1), Some(Duration::from_secs(1)));
        assert_eq!(retry_wait(Some(&policy), 2), Some(Duration::from_secs(3)));
        assert_eq!(retry_wait(Some(&policy), 3), None, "limit 2");
        let unlimited = RetryStrategy {
            limit: Some(-1),
            ..policy.clone()
        };
        assert_eq!(
            retry_wait(Some(&unlimited), 10),
            Some(Duration::from_secs(90))
        );
        let twice = state("Failed", "c2", true, Some(2));
        let mut o = observed(Some(&twice));
        o.retry = Some(&policy);
        assert_eq!(decide(&o), Due::Nothing, "the limit is reached");
        // A manual sync that failed is not retried by automation; a new
        // commit is synced anyway.
        let manual = state("Failed", "c2", false, None);
        assert_eq!(decide(&observed(Some(&manual))), Due::Nothing);
        let older = state("Failed", "c1", true, Some(5));
        assert_eq!(runs(&decide(&observed(Some(&older)))), Some(("c2", false)));
    }
}
