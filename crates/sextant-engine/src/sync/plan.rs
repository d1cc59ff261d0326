//! The sync plan: from the desired objects (with their marks), the live
//! objects the app tracks that Git no longer has, and the sync request, the
//! tasks of a sync in the order they run, and what is left out and why.
//!
//! Order: stage (PreSync hooks, the Sync phase's objects and hooks, the
//! prunes, PostSync hooks, the prunes marked PruneLast), then wave (lower
//! first; prunes higher first), then kind (`order.rs`; prunes in reverse),
//! then namespace and name. SyncFail hooks are kept apart: they run only
//! when a stage fails. PostDelete hooks run only when the app is deleted.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use serde_json::Value;
use sextant_model::vocabulary::{HookDeletePolicy, HookType, SyncPhase};

use super::marks::Marks;
use super::options::{SyncOption, SyncOptions};
use super::order;
use crate::diff::ObjectKey;

/// One object Git has, as the planner sees it.
#[derive(Clone, Debug)]
pub struct Desired {
    /// Which object (for a `generateName` hook the name is empty).
    pub key: ObjectKey,
    /// Its hook, wave and option annotations.
    pub marks: Marks,
    /// Whether the live object already equals it (ApplyOutOfSyncOnly).
    pub in_sync: bool,
}

impl Desired {
    /// The planner's view of `object`, read with `marks`.
    pub fn new(object: &Value, marks: Marks, in_sync: bool) -> Self {
        let mut key = ObjectKey::of(object);
        if key.name.is_empty()
            && let Some(prefix) = object
                .pointer("/metadata/generateName")
                .and_then(Value::as_str)
        {
            key.name = prefix.to_owned();
        }
        Self {
            key,
            marks,
            in_sync,
        }
    }
}

/// One live object the app tracks that Git no longer has.
#[derive(Clone, Debug)]
pub struct Extraneous {
    /// Which object.
    pub key: ObjectKey,
    /// Its annotations (wave, Prune=false, keep).
    pub marks: Marks,
}

/// An object named for a partial sync (namespace empty: any).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selector {
    /// API group (empty for core).
    pub group: String,
    /// Kind.
    pub kind: String,
    /// Namespace, or empty for any.
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl Selector {
    fn matches(&self, key: &ObjectKey) -> bool {
        self.group == key.group
            && self.kind == key.kind
            && self.name == key.name
            && (self.namespace.is_empty() || self.namespace == key.namespace)
    }
}

/// What is asked.
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// Delete what Git no longer has.
    pub prune: bool,
    /// The app's options, with the operation's.
    pub options: SyncOptions,
    /// Sync only these (empty: everything). Hooks do not run in a partial sync.
    pub selected: Vec<Selector>,
    /// Hooks of this operation that already succeeded, by phase and key
    /// (a resumed sync does not run them again).
    pub hooks_done: BTreeSet<(SyncPhase, ObjectKey)>,
}

/// When a task runs; stages run in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    /// PreSync hooks.
    PreSync,
    /// The Sync phase: objects and Sync hooks, wave by wave.
    Sync,
    /// Prunes (Sync phase, after its last wave).
    Prune,
    /// PostSync hooks.
    PostSync,
    /// Prunes marked PruneLast, after everything else.
    PruneLast,
}

impl Stage {
    /// The sync phase the stage belongs to.
    pub fn phase(self) -> SyncPhase {
        match self {
            Stage::PreSync => SyncPhase::PreSync,
            Stage::Sync | Stage::Prune | Stage::PruneLast => SyncPhase::Sync,
            Stage::PostSync => SyncPhase::PostSync,
        }
    }
}

/// What a task does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Apply a desired object.
    Apply,
    /// Create a hook and wait for it to finish.
    Hook(HookType),
    /// Delete a live object Git no longer has.
    Prune,
}

/// One step of work on one object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Task {
    /// Which object.
    pub key: ObjectKey,
    /// Its stage.
    pub stage: Stage,
    /// Its wave.
    pub wave: i64,
    /// What to do.
    pub action: Action,
    /// Index into the desired objects (none for prunes).
    pub desired: Option<usize>,
    /// When a hook is deleted.
    pub delete_policies: Vec<HookDeletePolicy>,
    /// The app's options with the object's own.
    pub options: SyncOptions,
}

impl Task {
    /// The sync phase the task belongs to (SyncFail for SyncFail hooks).
    pub fn phase(&self) -> SyncPhase {
        match self.action {
            Action::Hook(HookType::SyncFail) => SyncPhase::SyncFail,
            Action::Hook(HookType::PostDelete) => SyncPhase::PostDelete,
            _ => self.stage.phase(),
        }
    }

    /// The hook type, for hooks.
    pub fn hook(&self) -> Option<HookType> {
        match self.action {
            Action::Hook(t) => Some(t),
            _ => None,
        }
    }
}

/// Why an object has no task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// A partial sync that does not name it (hooks never run in one).
    NotSelected,
    /// Marked `hook: Skip`.
    HookSkip,
    /// A Helm hook of a type Sextant does not run (`test`, `pre-delete`, ...).
    UnsupportedHelmHook(String),
    /// ApplyOutOfSyncOnly, and it is in sync.
    InSync,
    /// Git no longer has it and the sync does not prune.
    PruneNotRequested,
    /// Git no longer has it; Prune=false, Delete=false or Helm's keep protect it.
    PruneDisabled,
    /// A hook of this operation that already succeeded.
    HookAlreadyRan,
}

/// An object left out of the plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// Which object.
    pub key: ObjectKey,
    /// Why.
    pub reason: SkipReason,
}

/// A whole sync.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Tasks in the order they run.
    pub tasks: Vec<Task>,
    /// SyncFail hooks, run when a stage fails.
    pub on_failure: Vec<Task>,
    /// PostDelete hooks, run after the app is deleted.
    pub post_delete: Vec<Task>,
    /// What has no task, and why.
    pub skipped: Vec<Skipped>,
}

/// A group of tasks that run together; the next step starts only when all
/// of these are done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    /// Its stage.
    pub stage: Stage,
    /// Its wave.
    pub wave: i64,
    /// The range of `Plan::tasks` it covers.
    pub start: usize,
    /// One past its last task.
    pub end: usize,
}

impl Plan {
    /// The steps: consecutive tasks of one stage and wave.
    pub fn steps(&self) -> Vec<Step> {
        let mut steps: Vec<Step> = Vec::new();
        for (i, t) in self.tasks.iter().enumerate() {
            match steps.last_mut() {
                Some(s) if s.stage == t.stage && s.wave == t.wave => s.end = i + 1,
                _ => steps.push(Step {
                    stage: t.stage,
                    wave: t.wave,
                    start: i,
                    end: i + 1,
                }),
            }
        }
        steps
    }

    /// Whether any hook takes part (for reports).
    pub fn has_hooks(&self) -> bool {
        self.tasks.iter().any(|t| t.hook().is_some()) || !self.on_failure.is_empty()
    }
}

fn order_of(a: &Task, b: &Task) -> Ordering {
    let pruning = |t: &Task| matches!(t.stage, Stage::Prune | Stage::PruneLast);
    let wave = |t: &Task| if pruning(t) { -t.wave } else { t.wave };
    a.stage
        .cmp(&b.stage)
        .then_with(|| wave(a).cmp(&wave(b)))
        .then_with(|| {
            if pruning(a) {
                order::apply_order(&b.key, &a.key)
            } else {
                order::apply_order(&a.key, &b.key)
            }
        })
}

/// Plan a sync of `desired` that may prune `extraneous`.
pub fn plan(desired: &[Desired], extraneous: &[Extraneous], req: &Request) -> Plan {
    let partial = !req.selected.is_empty();
    let selected = |key: &ObjectKey| !partial || req.selected.iter().any(|s| s.matches(key));
    let mut p = Plan::default();
    let skip = |p: &mut Plan, key: &ObjectKey, reason: SkipReason| {
        p.skipped.push(Skipped {
            key: key.clone(),
            reason,
        });
    };
    for (i, d) in desired.iter().enumerate() {
        let options = req.options.with(&d.marks.options);
        if let Some(helm) = &d.marks.unsupported_helm_hook {
            skip(
                &mut p,
                &d.key,
                SkipReason::UnsupportedHelmHook(helm.clone()),
            );
            continue;
        }
        if d.marks.hooks.contains(&HookType::Skip) {
            skip(&mut p, &d.key, SkipReason::HookSkip);
            continue;
        }
        if d.marks.is_hook() {
            if partial {
                skip(&mut p, &d.key, SkipReason::NotSelected);
                continue;
            }
            for t in &d.marks.hooks {
                let stage = match t {
                    HookType::PreSync => Some(Stage::PreSync),
                    HookType::Sync => Some(Stage::Sync),
                    HookType::PostSync => Some(Stage::PostSync),
                    HookType::SyncFail | HookType::PostDelete | HookType::Skip => None,
                };
                let phase = t.phase().unwrap_or(SyncPhase::Sync);
                if req.hooks_done.contains(&(phase, d.key.clone())) {
                    skip(&mut p, &d.key, SkipReason::HookAlreadyRan);
                    continue;
                }
                let task = Task {
                    key: d.key.clone(),
                    stage: stage.unwrap_or(Stage::Sync),
                    wave: d.marks.wave,
                    action: Action::Hook(*t),
                    desired: Some(i),
                    delete_policies: d.marks.delete_policies.clone(),
                    options: options.clone(),
                };
                match t {
                    HookType::SyncFail => p.on_failure.push(task),
                    HookType::PostDelete => p.post_delete.push(task),
                    _ => p.tasks.push(task),
                }
            }
            continue;
        }
        if !selected(&d.key) {
            skip(&mut p, &d.key, SkipReason::NotSelected);
            continue;
        }
        if options.has(SyncOption::ApplyOutOfSyncOnly) && d.in_sync {
            skip(&mut p, &d.key, SkipReason::InSync);
            continue;
        }
        p.tasks.push(Task {
            key: d.key.clone(),
            stage: Stage::Sync,
            wave: d.marks.wave,
            action: Action::Apply,
            desired: Some(i),
            delete_policies: Vec::new(),
            options,
        });
    }
    for e in extraneous {
        if e.marks.is_hook() {
            // Hooks are never pruned as extraneous.
            continue;
        }
        if !selected(&e.key) {
            skip(&mut p, &e.key, SkipReason::NotSelected);
            continue;
        }
        if !e.marks.may_prune() {
            skip(&mut p, &e.key, SkipReason::PruneDisabled);
            continue;
        }
        if !req.prune {
            skip(&mut p, &e.key, SkipReason::PruneNotRequested);
            continue;
        }
        let options = req.options.with(&e.marks.options);
        let stage = if options.has(SyncOption::PruneLast) {
            Stage::PruneLast
        } else {
            Stage::Prune
        };
        p.tasks.push(Task {
            key: e.key.clone(),
            stage,
            wave: e.marks.wave,
            action: Action::Prune,
            desired: None,
            delete_policies: Vec::new(),
            options,
        });
    }
    p.tasks.sort_by(order_of);
    p.on_failure.sort_by(order_of);
    p.post_delete.sort_by(order_of);
    p
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
