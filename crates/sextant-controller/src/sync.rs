//! One pass of a running sync: plan it (the engine's pure planner), and on
//! its first pass refuse objects that are not the app's, dry-run every
//! object and hook (preflight: one refusal and nothing changes), and
//! create the destination namespace; then start what the plan says is
//! next, step by step, until the sync must wait (a wave not yet Healthy, a
//! hook still running) or is over. Each pass starts from the results
//! recorded so far, so a sync cut off by a restart carries on where it was.

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use futures::{StreamExt, stream};
use serde_json::{Value, json};
use sextant_cluster::{Kinds, WriteError};
use sextant_engine::diff::ObjectKey;
use sextant_engine::sync::{
    self, Action, Desired, Extraneous, Next, Plan, SkipReason, SyncOption, SyncOptions, Task,
    TaskState,
};
use sextant_model::application::{ManagedNamespaceMetadata, ResourceResult};
use sextant_model::vocabulary::{OperationPhase, ResultCode, SyncPhase};

use crate::compare::{Comparison, ResourceState, SyncState};
use crate::tasks::{self, Ctx};

/// How many objects are dry-run or started at once.
const PARALLEL: usize = 8;

/// What to sync and how.
#[derive(Clone, Debug, Default)]
pub struct SyncRequest {
    /// Delete tracked objects that are gone from Git.
    pub prune: bool,
    /// Only preflight and report.
    pub dry_run: bool,
    /// Create this namespace first (CreateNamespace=true).
    pub create_namespace: Option<String>,
    /// Labels and annotations for that namespace.
    pub namespace_metadata: Option<ManagedNamespaceMetadata>,
    /// The app's and the operation's sync options.
    pub options: SyncOptions,
    /// Only these objects (empty: all).
    pub only: Vec<sync::Selector>,
    /// A namespace known to exist (the controller's own), where objects
    /// whose namespace comes in this sync are dry-run instead.
    pub scratch_namespace: String,
    /// How long one step may wait for its objects to be Healthy.
    pub wait_timeout: Duration,
    /// The app's ignore rules, for `RespectIgnoreDifferences=true`.
    pub ignore: Option<std::sync::Arc<sextant_engine::diff::IgnoreDifferences>>,
}

/// Where a sync stands after a pass.
#[derive(Clone, Debug)]
pub struct SyncReport {
    /// Whether it is over.
    pub finished: bool,
    /// Whether every step succeeded (when finished).
    pub succeeded: bool,
    /// One line for people: the outcome, or what it waits for.
    pub message: String,
    /// Per-object results so far.
    pub results: Vec<ResourceResult>,
}

impl SyncReport {
    fn done(succeeded: bool, message: String, results: Vec<ResourceResult>) -> Self {
        Self {
            finished: true,
            succeeded,
            message,
            results,
        }
    }
}

fn plain_result(key: &ObjectKey, code: ResultCode, message: impl Into<String>) -> ResourceResult {
    ResourceResult {
        group: key.group.clone(),
        version: key
            .api_version
            .rsplit_once('/')
            .map_or(key.api_version.as_str(), |(_, v)| v)
            .to_owned(),
        kind: key.kind.clone(),
        namespace: key.namespace.clone(),
        name: key.name.clone(),
        status: Some(code.as_str().to_owned()),
        message: Some(message.into()),
        sync_phase: Some(SyncPhase::Sync.as_str().to_owned()),
        ..ResourceResult::default()
    }
}

/// The objects a plan refers to by index: Git's non-hook objects, then its
/// hooks.
struct Inputs<'c> {
    objects: Vec<&'c Value>,
    states: Vec<Option<&'c ResourceState>>,
    desired: Vec<Desired>,
    extraneous: Vec<(Extraneous, &'c ResourceState)>,
}

fn inputs(cmp: &Comparison) -> Inputs<'_> {
    let mut x = Inputs {
        objects: Vec::new(),
        states: Vec::new(),
        desired: Vec::new(),
        extraneous: Vec::new(),
    };
    for r in &cmp.resources {
        match &r.desired {
            Some(obj) => {
                x.objects.push(obj);
                x.states.push(Some(r));
                x.desired.push(Desired {
                    key: r.key.clone(),
                    marks: r.marks.clone(),
                    in_sync: r.sync == SyncState::Synced,
                });
            }
            None if r.requires_pruning => x.extraneous.push((
                Extraneous {
                    key: r.key.clone(),
                    marks: r.marks.clone(),
                },
                r,
            )),
            None => {}
        }
    }
    for h in &cmp.hooks {
        let marks = sync::marks_of(h).unwrap_or_default();
        x.objects.push(h);
        x.states.push(None);
        x.desired.push(Desired::new(h, marks, false));
    }
    x
}

/// Run one pass of a sync of `cmp` (whose objects carry tracking ids).
/// `resumed` holds the results of earlier passes (`None` on the first).
pub(crate) async fn run(
    cx: &Ctx<'_>,
    cmp: &Comparison,
    req: &SyncRequest,
    resumed: Option<Vec<ResourceResult>>,
    progress: &(dyn Fn(&[ResourceResult]) + Send + Sync),
) -> SyncReport {
    let first = resumed.is_none();
    let mut results = resumed.unwrap_or_default();
    let x = inputs(cmp);
    let request = sync::Request {
        prune: req.prune,
        options: req.options.clone(),
        selected: req.only.clone(),
        // Hooks that ran are known by their recorded results (which also
        // carry generated names), matched below.
        hooks_done: BTreeSet::new(),
    };
    let extraneous: Vec<Extraneous> = x.extraneous.iter().map(|(e, _)| e.clone()).collect();
    let plan = sync::plan(&x.desired, &extraneous, &request);

    if first {
        if let Some(report) = before_any_change(cx.kinds, &x, &plan, req, &cmp.denied).await {
            return report;
        }
        for s in &plan.skipped {
            let message = match s.reason {
                SkipReason::PruneNotRequested => {
                    "requires pruning: it is no longer in Git; sync with prune to delete it"
                }
                SkipReason::PruneDisabled => {
                    "kept: its sync options (Prune=false, Delete=false) or helm.sh/resource-policy: keep say so"
                }
                _ => continue,
            };
            results.push(plain_result(&s.key, ResultCode::PruneSkipped, message));
        }
        if req.dry_run {
            return dry_run_report(&x, &plan, req, results);
        }
    }
    // The namespace first, also when a sync cut off by a restart carries
    // on in a new process (the cut may have come before it was created).
    if (first || !cx.memory.knows(cx.app))
        && let Some(report) = create_namespace(cx.kinds, req, &mut results).await
    {
        progress(&results);
        return report;
    }

    let generated: Vec<bool> = plan
        .tasks
        .iter()
        .chain(&plan.on_failure)
        .map(|t| {
            t.desired
                .and_then(|i| x.objects.get(i))
                .is_some_and(|o| o.pointer("/metadata/name").is_none())
        })
        .collect();
    let (gen_tasks, gen_fail) = generated.split_at(plan.tasks.len());
    // A sync goes through at most this many steps in one pass (each
    // starts what the previous one allowed).
    for _ in 0..10_000 {
        let states = task_states(cx, &plan.tasks, gen_tasks, &mut results).await;
        let fail_states = task_states(cx, &plan.on_failure, gen_fail, &mut results).await;
        match sync::next(&plan, &states, &fail_states) {
            Next::Run(indexes) => {
                start_all(
                    cx,
                    &plan.tasks,
                    &indexes,
                    &x,
                    &mut results,
                    req.ignore.as_deref(),
                )
                .await;
                progress(&results);
            }
            Next::RunFailHooks(indexes) => {
                start_all(
                    cx,
                    &plan.on_failure,
                    &indexes,
                    &x,
                    &mut results,
                    req.ignore.as_deref(),
                )
                .await;
                progress(&results);
            }
            Next::Wait(waiting) | Next::WaitFailHooks(waiting) => {
                let step = waiting
                    .first()
                    .map(|(i, _)| format!("{i}"))
                    .unwrap_or_default();
                let waited = cx.memory.waited(cx.app, &step);
                let what: Vec<&str> = waiting.iter().take(3).map(|(_, w)| w.as_str()).collect();
                let more = waiting.len().saturating_sub(3);
                let mut message = what.join("; ");
                if more > 0 {
                    message.push_str(&format!("; and {more} more"));
                }
                if waited >= req.wait_timeout {
                    for (i, why) in &waiting {
                        let task = &plan.tasks[*i];
                        if let Some(r) = results
                            .iter_mut()
                            .find(|r| tasks::records(task, gen_tasks[*i], r))
                        {
                            r.status = Some(ResultCode::SyncFailed.as_str().to_owned());
                            r.hook_phase = Some(OperationPhase::Failed.as_str().to_owned());
                            r.message = Some(format!(
                                "not done after {}: {why}",
                                crate::words::show_duration(req.wait_timeout)
                            ));
                        }
                    }
                    continue;
                }
                return SyncReport {
                    finished: false,
                    succeeded: false,
                    message,
                    results,
                };
            }
            Next::Succeeded => {
                let message = summary(&plan, &results);
                return SyncReport::done(true, message, results);
            }
            Next::Failed(why) => {
                return SyncReport::done(false, format!("sync failed: {why}"), results);
            }
        }
    }
    SyncReport::done(
        false,
        "the sync did not settle (a step kept starting anew)".into(),
        results,
    )
}

async fn task_states(
    cx: &Ctx<'_>,
    tasks: &[Task],
    generated: &[bool],
    results: &mut [ResourceResult],
) -> Vec<TaskState> {
    let mut states = Vec::with_capacity(tasks.len());
    for (i, t) in tasks.iter().enumerate() {
        let g = generated.get(i).copied().unwrap_or(false);
        let state = match results.iter_mut().rev().find(|r| tasks::records(t, g, r)) {
            Some(r) => tasks::state(cx, t, r).await,
            None => TaskState::Pending,
        };
        states.push(state);
    }
    states
}

async fn start_all(
    cx: &Ctx<'_>,
    tasks: &[Task],
    indexes: &[usize],
    x: &Inputs<'_>,
    results: &mut Vec<ResourceResult>,
    ignore: Option<&sextant_engine::diff::IgnoreDifferences>,
) {
    let futures: Vec<_> = indexes
        .iter()
        .map(|&i| {
            let t = &tasks[i];
            let desired = t.desired.and_then(|d| x.objects.get(d).copied());
            let live = match t.action {
                Action::Prune => x
                    .extraneous
                    .iter()
                    .find(|(e, _)| e.key == t.key)
                    .and_then(|(_, r)| r.live.as_deref()),
                _ => t
                    .desired
                    .and_then(|d| x.states.get(d).copied().flatten())
                    .and_then(|r| r.live.as_deref()),
            };
            tasks::start(cx, t, desired, live, ignore)
        })
        .collect();
    let started: Vec<Option<ResourceResult>> =
        stream::iter(futures).buffered(PARALLEL).collect().await;
    let mut none_started = true;
    for (&i, r) in indexes.iter().zip(started) {
        let Some(r) = r else { continue };
        none_started = false;
        let t = &tasks[i];
        // A re-applied task replaces its earlier result.
        results.retain(|old| !(tasks::records(t, false, old) && old.name == r.name));
        results.push(r);
    }
    if none_started {
        // Nothing could start (a hook's predecessor still going away):
        // give it a moment.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `successfully synced (3 applied, 1 pruned, 2 hooks)`.
fn summary(plan: &Plan, results: &[ResourceResult]) -> String {
    let count = |code: ResultCode, hooks: bool| {
        results
            .iter()
            .filter(|r| {
                r.status.as_deref() == Some(code.as_str()) && r.hook_type.is_some() == hooks
            })
            .count()
    };
    let applied = count(ResultCode::Synced, false);
    let pruned = count(ResultCode::Pruned, false);
    let hooks = count(ResultCode::Synced, true);
    let mut m = format!("successfully synced ({applied} applied, {pruned} pruned");
    if plan.has_hooks() || hooks > 0 {
        m.push_str(&format!(", {hooks} hook(s) run"));
    }
    m.push(')');
    m
}

/// The adoption check and the preflight; `Some` when the sync must stop
/// before changing anything.
async fn before_any_change(
    kinds: &Kinds,
    x: &Inputs<'_>,
    plan: &Plan,
    req: &SyncRequest,
    denied: &[(ObjectKey, String)],
) -> Option<SyncReport> {
    let planned: Vec<&Task> = plan
        .tasks
        .iter()
        .chain(&plan.on_failure)
        .filter(|t| t.desired.is_some())
        .collect();
    // The project's rules first: a kind or namespace it does not permit.
    let refused: Vec<ResourceResult> = planned
        .iter()
        .filter_map(|t| {
            let (_, why) = denied.iter().find(|(k, _)| *k == t.key)?;
            Some(plain_result(&t.key, ResultCode::SyncFailed, why.clone()))
        })
        .collect();
    if let Some(summary) = crate::projects::denied_summary(
        &denied
            .iter()
            .filter(|(k, _)| planned.iter().any(|t| t.key == *k))
            .cloned()
            .collect::<Vec<_>>(),
        "nothing was changed",
    ) {
        return Some(SyncReport::done(false, summary, refused));
    }
    // Never take over someone else's object.
    let conflicts: Vec<ResourceResult> = planned
        .iter()
        .filter_map(|t| {
            let r = x.states.get(t.desired?).copied().flatten()?;
            Some(plain_result(
                &r.key,
                ResultCode::SyncFailed,
                r.conflict.clone()?,
            ))
        })
        .collect();
    if !conflicts.is_empty() {
        let message = format!(
            "{} object(s) exist and are not managed by this app; nothing was changed",
            conflicts.len()
        );
        return Some(SyncReport::done(false, message, conflicts));
    }
    // Preflight: the API server dry-runs every object first.
    let coming_namespaces: HashSet<&str> = planned
        .iter()
        .filter(|t| t.key.group.is_empty() && t.key.kind == "Namespace")
        .map(|t| t.key.name.as_str())
        .chain(req.create_namespace.as_deref())
        .collect();
    let coming_kinds: HashSet<(String, String)> = planned
        .iter()
        .filter(|t| t.key.kind == "CustomResourceDefinition")
        .filter_map(|t| {
            let d = x.objects.get(t.desired?)?;
            Some((
                d.pointer("/spec/group")?.as_str()?.to_owned(),
                d.pointer("/spec/names/kind")?.as_str()?.to_owned(),
            ))
        })
        .collect();
    let futures: Vec<_> = planned
        .iter()
        .filter_map(|t| {
            let obj = x.objects.get(t.desired?)?;
            Some(preflight(
                kinds,
                t,
                obj,
                &coming_namespaces,
                &coming_kinds,
                &req.scratch_namespace,
            ))
        })
        .collect();
    let checks: Vec<Option<String>> = stream::iter(futures).buffered(PARALLEL).collect().await;
    let refused: Vec<ResourceResult> = planned
        .iter()
        .zip(&checks)
        .filter_map(|(t, c)| Some(plain_result(&t.key, ResultCode::SyncFailed, c.clone()?)))
        .collect();
    if refused.is_empty() {
        return None;
    }
    // Which objects and why, in the message itself: the condition and
    // `sextant app get` show it without -o json.
    let mut why: Vec<String> = refused
        .iter()
        .take(3)
        .map(|r| {
            let at = if r.namespace.is_empty() {
                r.name.clone()
            } else {
                format!("{}/{}", r.namespace, r.name)
            };
            format!(
                "{} {at}: {}",
                r.kind,
                r.message.as_deref().unwrap_or("refused")
            )
        })
        .collect();
    if refused.len() > 3 {
        why.push(format!("and {} more", refused.len() - 3));
    }
    let message = format!(
        "preflight: the API server refused {} of {} object(s); nothing was changed: {}",
        refused.len(),
        planned.len(),
        why.join("; ")
    );
    Some(SyncReport::done(false, message, refused))
}

fn dry_run_report(
    x: &Inputs<'_>,
    plan: &Plan,
    _req: &SyncRequest,
    mut results: Vec<ResourceResult>,
) -> SyncReport {
    for t in &plan.tasks {
        let what = match t.action {
            Action::Apply => {
                let r = t.desired.and_then(|d| x.states.get(d).copied().flatten());
                match r.map(|r| (r.sync, r.live.is_some())) {
                    Some((SyncState::Synced, _)) => "unchanged (dry run)".to_owned(),
                    Some((_, true)) => "would be configured (dry run)".to_owned(),
                    _ => "would be created (dry run)".to_owned(),
                }
            }
            Action::Hook(h) => format!("would run as a {h} hook (dry run)"),
            Action::Prune => "would be pruned (dry run)".to_owned(),
        };
        let code = if t.action == Action::Prune {
            ResultCode::Pruned
        } else {
            ResultCode::Synced
        };
        let mut r = plain_result(&t.key, code, what);
        r.sync_phase = Some(t.phase().as_str().to_owned());
        r.hook_type = t.hook().map(|h| h.as_str().to_owned());
        r.sync_wave = Some(t.wave);
        results.push(r);
    }
    for r in results.iter_mut() {
        if r.status.as_deref() == Some(ResultCode::PruneSkipped.as_str())
            && let Some(m) = r.message.as_mut()
            && !m.ends_with("(dry run)")
        {
            m.push_str(" (dry run)");
        }
    }
    SyncReport::done(
        true,
        "dry run: every object passed preflight; nothing was changed".into(),
        results,
    )
}

async fn create_namespace(
    kinds: &Kinds,
    req: &SyncRequest,
    results: &mut Vec<ResourceResult>,
) -> Option<SyncReport> {
    let ns = req.create_namespace.as_ref()?;
    let mut obj = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
    if let Some(meta) = &req.namespace_metadata {
        if let Some(l) = &meta.labels {
            obj["metadata"]["labels"] = json!(l);
        }
        if let Some(a) = &meta.annotations {
            obj["metadata"]["annotations"] = json!(a);
        }
    }
    let e = kinds.apply(&obj, false).await.err()?;
    let key = ObjectKey::of(&obj);
    results.push(plain_result(
        &key,
        ResultCode::SyncFailed,
        format!("could not create namespace {ns}: {e}"),
    ));
    Some(SyncReport::done(
        false,
        format!("could not create the destination namespace {ns}: {e}"),
        results.clone(),
    ))
}

/// Dry-run one object; `Some(reason)` when the API server refuses it. An
/// object whose namespace only comes with this sync is dry-run in
/// `scratch` instead, so it is still checked before anything changes.
async fn preflight(
    kinds: &Kinds,
    task: &Task,
    desired: &Value,
    coming_namespaces: &HashSet<&str>,
    coming_kinds: &HashSet<(String, String)>,
    scratch: &str,
) -> Option<String> {
    let key = &task.key;
    let generated = desired.pointer("/metadata/name").is_none();
    let validate = !task.options.has(SyncOption::ValidateFalse);
    let check = |obj: Value| async move {
        if generated {
            kinds.create(&obj, true).await
        } else {
            kinds.apply_with(&obj, true, validate).await
        }
    };
    match check(desired.clone()).await {
        Ok(_) => None,
        // Force=true deletes and re-creates what cannot be changed in place.
        Err(e) if task.options.has(SyncOption::Force) && tasks::is_immutable(&e) => None,
        Err(WriteError::NotServed { .. })
            if coming_kinds.contains(&(key.group.clone(), key.kind.clone()))
                || task.options.has(SyncOption::SkipDryRunOnMissingResource) =>
        {
            None
        }
        Err(e)
            if e.is_not_found()
                && !key.namespace.is_empty()
                && coming_namespaces.contains(key.namespace.as_str()) =>
        {
            let mut elsewhere = desired.clone();
            elsewhere["metadata"]["namespace"] = Value::String(scratch.to_owned());
            match check(elsewhere).await {
                Ok(_) => None,
                Err(e) => Some(e.to_string().replace(scratch, &key.namespace)),
            }
        }
        Err(WriteError::Api { code: 404, message }) if !key.namespace.is_empty() => Some(format!(
            "{message} (namespace {} does not exist: add it to Git or set the sync option CreateNamespace=true)",
            key.namespace
        )),
        Err(e) => Some(e.to_string()),
    }
}
