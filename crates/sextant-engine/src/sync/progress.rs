//! Where a running sync stands and what comes next: from a plan and the
//! state of each of its tasks, the tasks to start now, the ones to wait
//! for, or the outcome. Pure, so a sync resumed by another controller
//! after a crash makes the same decision from the same recorded states.
//!
//! A step (one stage and wave) starts when every task of the step before
//! it is done: applied objects Healthy, hooks finished, pruned objects
//! gone. The last step does not wait for health: the sync succeeds once
//! its objects are applied (the app's health says the rest), except that
//! hooks always run to their end. When a task fails, nothing of a later
//! step starts; the SyncFail hooks run, then the sync has failed.

use super::plan::{Action, Plan, Task};

/// How far one task got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TaskState {
    /// Not started in this operation.
    Pending,
    /// Started (applied, created, deletion asked) and not finished: not
    /// yet Healthy, still running, not yet gone.
    Running(String),
    /// Finished well.
    Succeeded,
    /// Failed, with why.
    Failed(String),
}

/// What to do next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    /// Start these tasks (indexes into `Plan::tasks`), all at once.
    Run(Vec<usize>),
    /// Wait for these running tasks, with what each is waiting for.
    Wait(Vec<(usize, String)>),
    /// A task failed: start these SyncFail hooks (indexes into `Plan::on_failure`).
    RunFailHooks(Vec<usize>),
    /// A task failed: wait for these SyncFail hooks.
    WaitFailHooks(Vec<(usize, String)>),
    /// Every task is done.
    Succeeded,
    /// The sync failed (the SyncFail hooks, if any, have run).
    Failed(String),
}

fn done(task: &Task, state: &TaskState, last_step: bool) -> bool {
    match state {
        TaskState::Succeeded => true,
        TaskState::Running(_) => last_step && !matches!(task.action, Action::Hook(_)),
        TaskState::Pending | TaskState::Failed(_) => false,
    }
}

/// The next move for `plan`, given `states[i]` for `plan.tasks[i]` and
/// `fail_states[i]` for `plan.on_failure[i]` (missing entries are Pending).
pub fn next(plan: &Plan, states: &[TaskState], fail_states: &[TaskState]) -> Next {
    let state = |i: usize| states.get(i).unwrap_or(&TaskState::Pending);
    let failed = plan
        .tasks
        .iter()
        .enumerate()
        .find_map(|(i, t)| match state(i) {
            TaskState::Failed(why) => Some(format!("{}: {why}", t.key)),
            _ => None,
        });
    if let Some(why) = failed {
        return after_failure(plan, fail_states, why);
    }
    let steps = plan.steps();
    for (n, step) in steps.iter().enumerate() {
        let last = n + 1 == steps.len();
        let range = step.start..step.end;
        let pending: Vec<usize> = range
            .clone()
            .filter(|&i| *state(i) == TaskState::Pending)
            .collect();
        if !pending.is_empty() {
            return Next::Run(pending);
        }
        let waiting: Vec<(usize, String)> = range
            .filter(|&i| !done(&plan.tasks[i], state(i), last))
            .map(|i| match state(i) {
                TaskState::Running(why) => (i, why.clone()),
                _ => (i, String::new()),
            })
            .collect();
        if !waiting.is_empty() {
            return Next::Wait(waiting);
        }
    }
    Next::Succeeded
}

fn after_failure(plan: &Plan, fail_states: &[TaskState], why: String) -> Next {
    let state = |i: usize| fail_states.get(i).unwrap_or(&TaskState::Pending);
    let pending: Vec<usize> = (0..plan.on_failure.len())
        .filter(|&i| *state(i) == TaskState::Pending)
        .collect();
    if !pending.is_empty() {
        return Next::RunFailHooks(pending);
    }
    let waiting: Vec<(usize, String)> = (0..plan.on_failure.len())
        .filter_map(|i| match state(i) {
            TaskState::Running(w) => Some((i, w.clone())),
            _ => None,
        })
        .collect();
    if !waiting.is_empty() {
        return Next::WaitFailHooks(waiting);
    }
    let hooks_failed = (0..plan.on_failure.len())
        .filter(|&i| matches!(state(i), TaskState::Failed(_)))
        .count();
    if hooks_failed > 0 {
        Next::Failed(format!(
            "{why} ({hooks_failed} SyncFail hook(s) failed too)"
        ))
    } else {
        Next::Failed(why)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::marks::marks_of;
    use crate::sync::plan::{Desired, Request, plan};
    use serde_json::{Value, json};

    fn app(objects: &[Value]) -> Plan {
        let d: Vec<Desired> = objects
            .iter()
            .map(|o| Desired::new(o, marks_of(o).unwrap(), false))
            .collect();
        plan(&d, &[], &Request::default())
    }

    fn obj(kind: &str, name: &str, annotations: Value) -> Value {
        json!({"apiVersion": if kind == "Job" { "batch/v1" } else { "v1" }, "kind": kind,
               "metadata": {"name": name, "namespace": "n", "annotations": annotations}})
    }

    use TaskState::{Failed, Pending, Running, Succeeded};

    fn run(s: &str) -> TaskState {
        Running(s.into())
    }

    /// Plan: migrate (PreSync), cfg (wave 0), web (wave 1), smoke (PostSync).
    fn waves() -> Plan {
        app(&[
            obj("Job", "migrate", json!({"sextant.dev/hook": "PreSync"})),
            obj("ConfigMap", "cfg", json!({})),
            obj("Service", "web", json!({"sextant.dev/sync-wave": "1"})),
            obj("Job", "smoke", json!({"sextant.dev/hook": "PostSync"})),
        ])
    }

    #[test]
    fn each_step_starts_when_the_one_before_is_done() {
        let p = waves();
        let check = |states: &[TaskState], want: Next| assert_eq!(next(&p, states, &[]), want);
        check(&[], Next::Run(vec![0]));
        check(
            &[run("Job running")],
            Next::Wait(vec![(0, "Job running".into())]),
        );
        check(&[Succeeded], Next::Run(vec![1]));
        // Applied but not Healthy yet holds the next wave.
        check(
            &[Succeeded, run("Progressing")],
            Next::Wait(vec![(1, "Progressing".into())]),
        );
        check(&[Succeeded, Succeeded], Next::Run(vec![2]));
        check(&[Succeeded, Succeeded, Succeeded], Next::Run(vec![3]));
        // The PostSync hook runs to its end: the last step waits for hooks.
        check(
            &[Succeeded, Succeeded, Succeeded, run("running")],
            Next::Wait(vec![(3, "running".into())]),
        );
        check(
            &[Succeeded, Succeeded, Succeeded, Succeeded],
            Next::Succeeded,
        );
    }

    #[test]
    fn the_last_step_does_not_wait_for_health() {
        let p = app(&[
            obj("ConfigMap", "a", json!({})),
            obj("Service", "b", json!({})),
        ]);
        assert_eq!(next(&p, &[], &[]), Next::Run(vec![0, 1]));
        assert_eq!(
            next(&p, &[run("Progressing"), Succeeded], &[]),
            Next::Succeeded
        );
        assert_eq!(
            next(&app(&[]), &[], &[]),
            Next::Succeeded,
            "an empty app syncs"
        );
    }

    #[test]
    fn a_failure_stops_later_steps_and_runs_the_sync_fail_hooks_first() {
        let mut objects = vec![
            obj("Job", "migrate", json!({"sextant.dev/hook": "PreSync"})),
            obj("ConfigMap", "cfg", json!({})),
        ];
        let p = app(&objects);
        assert_eq!(
            next(&p, &[Failed("BackoffLimitExceeded".into())], &[]),
            Next::Failed("Job.batch n/migrate: BackoffLimitExceeded".into())
        );
        objects.push(obj(
            "Job",
            "cleanup",
            json!({"sextant.dev/hook": "SyncFail"}),
        ));
        let p = app(&objects);
        let f = [Failed("BackoffLimitExceeded".into()), Pending];
        assert_eq!(next(&p, &f, &[]), Next::RunFailHooks(vec![0]));
        assert_eq!(
            next(&p, &f, &[run("running")]),
            Next::WaitFailHooks(vec![(0, "running".into())])
        );
        assert_eq!(
            next(&p, &f, &[Succeeded]),
            Next::Failed("Job.batch n/migrate: BackoffLimitExceeded".into())
        );
        let Next::Failed(why) = next(&p, &f, &[Failed("x".into())]) else {
            panic!("fails")
        };
        assert!(why.contains("SyncFail hook(s) failed too"), "{why}");
    }
}
