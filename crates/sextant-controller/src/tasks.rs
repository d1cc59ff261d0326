//! One task of a sync plan against the cluster: start it (apply an object,
//! create a hook, delete what Git dropped) and tell how far it got, from
//! its recorded result and the live state. What a task did is recorded in
//! its `ResourceResult` (`hookPhase` Running, then Succeeded or Failed), so
//! a sync resumed after a restart knows without asking again.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use serde_json::Value;
use sextant_cluster::{Kinds, LiveCache, LiveKey, Propagation, WriteError};
use sextant_engine::diff::ObjectKey;
use sextant_engine::health::{self, HealthCustomizations, HealthStatus};
use sextant_engine::sync::{self, Action, SyncOption, Task, TaskState};
use sextant_model::application::ResourceResult;
use sextant_model::vocabulary::{HookDeletePolicy, OperationPhase, ResultCode};

/// What this controller process remembers of the syncs it runs, so the
/// live cache is never read from before a write it made: the
/// resourceVersion an apply returned and the uid of a hook it created.
/// Lost on restart, which only means re-applying (server-side apply is
/// idempotent) or trusting the cache (long since current).
#[derive(Default)]
pub(crate) struct Memory {
    written: Mutex<HashMap<(String, LiveKey), Written>>,
    /// When each app's current step started waiting.
    waiting: Mutex<HashMap<String, (String, Instant)>>,
}

#[derive(Clone)]
struct Written {
    resource_version: Option<u64>,
    uid: Option<String>,
}

impl Memory {
    fn put(&self, app: &str, key: LiveKey, obj: &Value) {
        let w = Written {
            resource_version: obj
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
                .and_then(|v| v.parse().ok()),
            uid: obj
                .pointer("/metadata/uid")
                .and_then(Value::as_str)
                .map(str::to_owned),
        };
        if let Ok(mut m) = self.written.lock() {
            m.insert((app.to_owned(), key), w);
        }
    }

    fn get(&self, app: &str, key: &LiveKey) -> Option<Written> {
        self.written
            .lock()
            .ok()?
            .get(&(app.to_owned(), key.clone()))
            .cloned()
    }

    /// Whether this process wrote anything for `app`'s sync yet.
    pub(crate) fn knows(&self, app: &str) -> bool {
        self.written
            .lock()
            .is_ok_and(|m| m.keys().any(|(a, _)| a == app))
    }

    /// Forget what was written for `app` (its sync ended).
    pub(crate) fn forget(&self, app: &str) {
        if let Ok(mut m) = self.written.lock() {
            m.retain(|(a, _), _| a != app);
        }
        if let Ok(mut m) = self.waiting.lock() {
            m.remove(app);
        }
    }

    /// How long `app` has waited on the step called `step` (0 when it
    /// just started waiting on it).
    pub(crate) fn waited(&self, app: &str, step: &str) -> std::time::Duration {
        let Ok(mut m) = self.waiting.lock() else {
            return std::time::Duration::ZERO;
        };
        let entry = m
            .entry(app.to_owned())
            .or_insert_with(|| (step.to_owned(), Instant::now()));
        if entry.0 != step {
            *entry = (step.to_owned(), Instant::now());
        }
        entry.1.elapsed()
    }
}

/// What tasks need from the controller.
pub(crate) struct Ctx<'a> {
    pub kinds: &'a Kinds,
    pub live: &'a LiveCache,
    pub health: &'a HealthCustomizations,
    pub memory: &'a Memory,
    pub app: &'a str,
    pub propagation: Propagation,
}

fn version_of(key: &ObjectKey) -> String {
    key.api_version
        .rsplit_once('/')
        .map_or(key.api_version.as_str(), |(_, v)| v)
        .to_owned()
}

/// A result for `task` on the object named `name`.
pub(crate) fn result(
    task: &Task,
    name: &str,
    code: ResultCode,
    phase: OperationPhase,
    message: impl Into<String>,
) -> ResourceResult {
    ResourceResult {
        group: task.key.group.clone(),
        version: version_of(&task.key),
        kind: task.key.kind.clone(),
        namespace: task.key.namespace.clone(),
        name: name.to_owned(),
        status: Some(code.as_str().to_owned()),
        message: Some(message.into()),
        hook_type: task.hook().map(|h| h.as_str().to_owned()),
        hook_phase: Some(phase.as_str().to_owned()),
        sync_phase: Some(task.phase().as_str().to_owned()),
        sync_wave: Some(task.wave),
    }
}

/// Whether `r` records `task` (a `generateName` hook's result carries the
/// generated name, which starts with the planned prefix).
pub(crate) fn records(task: &Task, generated: bool, r: &ResourceResult) -> bool {
    let name_ok = if generated {
        r.name.starts_with(&task.key.name)
    } else {
        r.name == task.key.name
    };
    name_ok
        && r.group == task.key.group
        && r.kind == task.key.kind
        && r.namespace == task.key.namespace
        && r.sync_phase.as_deref() == Some(task.phase().as_str())
        && r.hook_type.as_deref() == task.hook().map(|h| h.as_str())
}

fn live_key(task: &Task, name: &str) -> LiveKey {
    LiveKey {
        group: task.key.group.clone(),
        kind: task.key.kind.clone(),
        namespace: task.key.namespace.clone(),
        name: name.to_owned(),
    }
}

/// Start `task`; `desired` is its object from Git (none for prunes),
/// `live` the tracked live object (prunes). `None`: not now, try again on
/// the next pass (a previous hook of the same name is still going away).
pub(crate) async fn start(
    cx: &Ctx<'_>,
    task: &Task,
    desired: Option<&Value>,
    live: Option<&Value>,
    ignore: Option<&sextant_engine::diff::IgnoreDifferences>,
) -> Option<ResourceResult> {
    let fail = |m: String| {
        Some(result(
            task,
            &task.key.name,
            ResultCode::SyncFailed,
            OperationPhase::Failed,
            m,
        ))
    };
    match task.action {
        Action::Apply => {
            let mut obj = desired?.clone();
            // RespectIgnoreDifferences=true: what the app ignores keeps
            // the cluster's values.
            if task.options.has(SyncOption::RespectIgnoreDifferences)
                && let (Some(ignore), Some(live)) = (ignore, live)
            {
                ignore.keep_live(&task.key, live, &mut obj);
            }
            match write(cx.kinds, task, &obj, live).await {
                Ok(after) => {
                    let before = live.and_then(|l| l.pointer("/metadata/resourceVersion"));
                    let what = match (before, after.pointer("/metadata/resourceVersion")) {
                        (None, _) => "created",
                        (Some(b), Some(a)) if b == a => "unchanged",
                        _ => "configured",
                    };
                    cx.memory
                        .put(cx.app, live_key(task, &task.key.name), &after);
                    Some(result(
                        task,
                        &task.key.name,
                        ResultCode::Synced,
                        OperationPhase::Running,
                        what,
                    ))
                }
                Err(e) => fail(e.to_string()),
            }
        }
        Action::Hook(_) => {
            let obj = desired?;
            let generated = obj.pointer("/metadata/name").is_none();
            if !generated
                && task
                    .delete_policies
                    .contains(&HookDeletePolicy::BeforeHookCreation)
                && let Some(old) = cx.live.get(&live_key(task, &task.key.name))
            {
                // The hook of an earlier sync goes first.
                let uid = old
                    .object
                    .as_ref()
                    .and_then(|o| o.pointer("/metadata/uid"))
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                if let Err(e) = cx
                    .kinds
                    .delete(&task.key, uid.as_deref(), Propagation::Background)
                    .await
                {
                    return fail(format!("could not delete the previous hook: {e}"));
                }
            }
            let created = match cx.kinds.create(obj, false).await {
                Err(WriteError::Api { code: 409, .. }) if !generated => {
                    if task
                        .delete_policies
                        .contains(&HookDeletePolicy::BeforeHookCreation)
                    {
                        // Still being deleted: next pass.
                        return None;
                    }
                    cx.kinds.apply(obj, false).await
                }
                other => other,
            };
            match created {
                Ok(after) => {
                    let name = after
                        .pointer("/metadata/name")
                        .and_then(Value::as_str)
                        .unwrap_or(&task.key.name)
                        .to_owned();
                    cx.memory.put(cx.app, live_key(task, &name), &after);
                    Some(result(
                        task,
                        &name,
                        ResultCode::Synced,
                        OperationPhase::Running,
                        "hook created",
                    ))
                }
                Err(e) => fail(format!("could not create the hook: {e}")),
            }
        }
        Action::Prune => {
            let uid = live
                .and_then(|l| l.pointer("/metadata/uid"))
                .and_then(Value::as_str);
            match cx.kinds.delete(&task.key, uid, cx.propagation).await {
                Ok(_) => Some(result(
                    task,
                    &task.key.name,
                    ResultCode::Pruned,
                    OperationPhase::Running,
                    "pruned",
                )),
                Err(e) => fail(format!("could not prune: {e}")),
            }
        }
    }
}

/// Write `obj` as its options say: server-side apply (unvalidated with
/// `Validate=false`), a whole replace with `Replace=true`, or a
/// client-side apply with `ServerSideApply=false`; with
/// `Force=true` a change the API server refuses as immutable deletes the
/// live object and creates it anew.
async fn write(
    kinds: &Kinds,
    task: &Task,
    obj: &Value,
    live: Option<&Value>,
) -> Result<Value, WriteError> {
    let validate = !task.options.has(SyncOption::ValidateFalse);
    let written = if task.options.has(SyncOption::Replace) {
        kinds.replace(obj).await
    } else if task.options.has(SyncOption::ClientSideApply) {
        kinds.client_side_apply(obj, live).await
    } else {
        apply_with_retry(kinds, obj, validate).await
    };
    match written {
        Err(e) if task.options.has(SyncOption::Force) && is_immutable(&e) => {
            let uid = live
                .and_then(|l| l.pointer("/metadata/uid"))
                .and_then(Value::as_str);
            kinds.recreate(obj, uid).await
        }
        other => other,
    }
}

/// Whether the API server refused a change of an immutable field.
pub(crate) fn is_immutable(e: &WriteError) -> bool {
    matches!(e, WriteError::Api { code: 422, message } if message.contains("immutable"))
}

/// A kind whose CRD was just applied may take a moment to be served.
async fn apply_with_retry(kinds: &Kinds, obj: &Value, validate: bool) -> Result<Value, WriteError> {
    let mut attempt = 0;
    loop {
        match kinds.apply_with(obj, false, validate).await {
            Err(WriteError::NotServed { .. }) if attempt < 20 => {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            }
            other => return other,
        }
    }
}

/// How far `task` got, given its recorded result `r` (updated in place when
/// it finished: hookPhase Succeeded or Failed; a finished hook is deleted
/// as its policy says).
pub(crate) async fn state(cx: &Ctx<'_>, task: &Task, r: &mut ResourceResult) -> TaskState {
    if r.status.as_deref() == Some(ResultCode::SyncFailed.as_str()) {
        return TaskState::Failed(r.message.clone().unwrap_or_default());
    }
    match r.hook_phase.as_deref().and_then(OperationPhase::parse) {
        Some(OperationPhase::Succeeded) => return TaskState::Succeeded,
        Some(OperationPhase::Failed | OperationPhase::Error) => {
            return TaskState::Failed(r.message.clone().unwrap_or_default());
        }
        _ => {}
    }
    let key = live_key(task, &r.name);
    let entry = cx.live.get(&key).and_then(|e| e.object);
    let written = cx.memory.get(cx.app, &key);
    let finish = |r: &mut ResourceResult, phase: OperationPhase, message: String| {
        r.hook_phase = Some(phase.as_str().to_owned());
        if phase == OperationPhase::Failed {
            r.status = Some(ResultCode::SyncFailed.as_str().to_owned());
        }
        r.message = Some(message);
    };
    match task.action {
        Action::Prune => match entry {
            None => {
                finish(r, OperationPhase::Succeeded, "pruned".into());
                TaskState::Succeeded
            }
            Some(_) => TaskState::Running(format!("{} is being deleted", task.key)),
        },
        Action::Apply => {
            let Some(written) = written else {
                // Applied by an earlier process: apply again, to know
                // which version to wait for.
                return TaskState::Pending;
            };
            let Some(live) = entry else {
                return TaskState::Running(format!("waiting to see {}", task.key));
            };
            let rv: Option<u64> = live
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
                .and_then(|v| v.parse().ok());
            if let (Some(seen), Some(wrote)) = (rv, written.resource_version)
                && seen < wrote
            {
                return TaskState::Running(format!("waiting to see {} as applied", task.key));
            }
            let h = health::assess(&live, cx.health);
            match h.status {
                HealthStatus::Healthy | HealthStatus::Suspended => {
                    let applied = r.message.clone().unwrap_or_default();
                    finish(r, OperationPhase::Succeeded, applied);
                    TaskState::Succeeded
                }
                HealthStatus::Degraded => {
                    let m = format!("{} is Degraded: {}", task.key, h.message);
                    finish(r, OperationPhase::Failed, m.clone());
                    TaskState::Failed(m)
                }
                other => TaskState::Running(format!(
                    "waiting for {} to be Healthy ({}{}{})",
                    task.key,
                    other.as_str(),
                    if h.message.is_empty() { "" } else { ": " },
                    h.message
                )),
            }
        }
        Action::Hook(_) => {
            let Some(live) = entry else {
                if written.is_some() {
                    return TaskState::Running(format!("waiting to see hook {}", r.name));
                }
                let m = format!(
                    "hook {} {} is gone before it finished",
                    task.key.group_kind(),
                    r.name
                );
                finish(r, OperationPhase::Failed, m.clone());
                return TaskState::Failed(m);
            };
            let uid = live.pointer("/metadata/uid").and_then(Value::as_str);
            if let Some(w) = &written
                && w.uid.is_some()
                && w.uid.as_deref() != uid
            {
                return TaskState::Running(format!("waiting to see hook {}", r.name));
            }
            let h = health::assess(&live, cx.health);
            let (phase, state) = match h.status {
                HealthStatus::Healthy => (OperationPhase::Succeeded, TaskState::Succeeded),
                HealthStatus::Degraded => {
                    let m = format!("hook {} failed: {}", r.name, h.message);
                    (OperationPhase::Failed, TaskState::Failed(m))
                }
                _ => {
                    return TaskState::Running(format!(
                        "waiting for hook {} {} to finish ({})",
                        task.key.group_kind(),
                        r.name,
                        if h.message.is_empty() {
                            h.status.as_str()
                        } else {
                            &h.message
                        }
                    ));
                }
            };
            let message = match &state {
                TaskState::Failed(m) => m.clone(),
                _ => format!("hook succeeded: {}", h.message),
            };
            finish(r, phase, message);
            let delete = match phase {
                OperationPhase::Succeeded => HookDeletePolicy::HookSucceeded,
                _ => HookDeletePolicy::HookFailed,
            };
            if task.delete_policies.contains(&delete) {
                let mut key = task.key.clone();
                key.name = r.name.clone();
                if let Err(e) = cx.kinds.delete(&key, uid, Propagation::Background).await {
                    tracing::warn!(app = cx.app, hook = %key, error = %e, "could not delete a finished hook");
                }
            }
            state
        }
    }
}

/// The engine's propagation as the cluster crate spells it.
pub(crate) fn propagation(p: sync::Propagation) -> Propagation {
    match p {
        sync::Propagation::Foreground => Propagation::Foreground,
        sync::Propagation::Background => Propagation::Background,
        sync::Propagation::Orphan => Propagation::Orphan,
    }
}
