//! One pass over one ApplicationSet: generate, render, plan, act, report.
//!
//! A pass that fails before acting (a generator that cannot read Git, a
//! file that does not parse, a template that does not render) changes no
//! Application: the set keeps the ones it made, says why in its status and
//! tries again with backoff.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::Api;
use kube::api::{DeleteParams, Patch, PatchParams};
use serde_json::{Value, json};
use sextant_appset::{Context, apps, generate_all, plan, requeue_after};
use sextant_model::annotations::{APPSET_REFRESH, ARGOCD_APPSET_REFRESH};
use sextant_model::appset::{
    ApplicationSetCondition, ApplicationSetResource, ApplicationSetStatus,
};
use sextant_model::{Application, ApplicationSet, VERSION};

use super::repos::{self, GitRepos};
use super::{AppSets, backoff};
use crate::controller::Shared;
use crate::status::now;

/// The field manager of the Applications a set writes.
pub const APPSET_MANAGER: &str = "sextant-applicationset";

/// How many Application writes of one pass are in flight at once.
const WRITES_AT_ONCE: usize = 16;

/// The namespace's Applications by name (from the store).
fn by_name(sets: &AppSets) -> HashMap<String, Arc<Application>> {
    sets.apps
        .state()
        .into_iter()
        .filter_map(|a| Some((a.metadata.name.clone()?, a)))
        .collect()
}

/// What a pass did.
#[derive(Default)]
struct Done {
    /// The Applications the set makes now, in order.
    generated: Vec<String>,
    created: usize,
    updated: usize,
    deleted: usize,
    /// Applications the set could not write or delete, or that belong to
    /// someone else.
    problems: Vec<String>,
}

/// Why a pass stopped before acting.
struct Stopped {
    reason: &'static str,
    message: String,
}

/// One pass; returns when to look again.
pub(crate) async fn reconcile(
    shared: &Arc<Shared>,
    sets: &AppSets,
    name: &str,
) -> Option<Duration> {
    if let Ok(mut n) = sets.nudged.lock() {
        n.remove(name);
    }
    let api: Api<ApplicationSet> = Api::namespaced(shared.client.clone(), &shared.config.namespace);
    let set = match api.get_opt(name).await {
        Ok(Some(set)) => set,
        Ok(None) => return None,
        Err(e) => {
            tracing::warn!(appset = %name, error = %e, "reading the ApplicationSet failed; retrying in 5 s");
            return Some(Duration::from_secs(5));
        }
    };
    // Its Applications go with it by their owner references.
    if set.metadata.deletion_timestamp.is_some() {
        return None;
    }
    let poll = requeue_after(&set.spec.generators)
        .map(Duration::from_secs)
        .unwrap_or(shared.config.repo_poll_interval)
        .max(Duration::from_secs(1));
    // A webhook's push (or a user) asks for Git now.
    let asked: Vec<&str> = [APPSET_REFRESH, ARGOCD_APPSET_REFRESH]
        .into_iter()
        .filter(|k| {
            set.metadata
                .annotations
                .as_ref()
                .is_some_and(|a| a.contains_key(*k))
        })
        .collect();
    let fresh = fresh_due(sets, name, poll) || !asked.is_empty();
    let outcome = run(shared, sets, &set, fresh).await;
    if !asked.is_empty() {
        let gone: serde_json::Map<String, Value> = asked
            .iter()
            .map(|k| ((*k).to_owned(), Value::Null))
            .collect();
        let patch = json!({"metadata": {"annotations": gone}});
        if let Err(e) = api
            .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            tracing::warn!(appset = %name, error = %e, "could not remove the refresh annotation");
        }
    }
    let failures = {
        let mut f = sets.failures.lock().ok();
        match (&outcome, f.as_mut()) {
            (Ok(_), Some(f)) => {
                f.remove(name);
                0
            }
            (Err(_), Some(f)) => {
                let n = f.entry(name.to_owned()).or_default();
                *n += 1;
                *n
            }
            _ => 1,
        }
    };
    let status = status_of(&set, sets, &outcome);
    if let Err(e) = write_status(&api, &set, status).await {
        tracing::warn!(appset = %name, error = %e, "writing the ApplicationSet's status failed");
    }
    match outcome {
        Ok(done) if done.problems.is_empty() => Some(poll),
        Ok(_) | Err(_) => Some(backoff(failures.max(1)).min(poll)),
    }
}

/// Whether this pass asks Git afresh (once per requeue interval per set,
/// so a commit shows within one interval; passes between them, brought by
/// the set's Applications changing, use the last answer).
fn fresh_due(sets: &AppSets, name: &str, every: Duration) -> bool {
    let Ok(mut last) = sets.asked.lock() else {
        return true;
    };
    let due = last
        .get(name)
        .is_none_or(|t| t.elapsed() + Duration::from_millis(500) >= every);
    if due {
        last.insert(name.to_owned(), std::time::Instant::now());
    }
    due
}

async fn run(
    shared: &Arc<Shared>,
    sets: &AppSets,
    set: &ApplicationSet,
    fresh: bool,
) -> Result<Done, Stopped> {
    let ns = shared.config.namespace.clone();
    let set_name = set.metadata.name.clone().unwrap_or_default();
    let uid = set.metadata.uid.clone().unwrap_or_default();
    let spec = set.spec.clone();
    let stop = |reason, message: String| Stopped { reason, message };
    let render = apps::renderer(&spec).map_err(|e| stop("ApplicationSetInvalidSpec", e))?;
    let clusters = if repos::uses_clusters(&spec.generators) {
        repos::clusters(shared).await.map_err(|e| {
            stop(
                "ClustersNotRead",
                format!("listing cluster Secrets failed: {e}"),
            )
        })?
    } else {
        Vec::new()
    };
    let git = GitRepos {
        shared: shared.clone(),
        runtime: tokio::runtime::Handle::current(),
        fresh,
        held: Mutex::new(Vec::new()),
    };
    let generators = spec.generators.clone();
    let params = tokio::task::spawn_blocking(move || {
        let ctx = Context {
            repos: &git,
            clusters: &clusters,
            render,
        };
        generate_all(&ctx, &generators)
    })
    .await
    .map_err(|e| {
        stop(
            "ApplicationGenerationFromParamsError",
            format!("the generator task failed: {e}"),
        )
    })?
    .map_err(|e| stop("ApplicationGenerationFromParamsError", e))?;
    let desired = apps::render(&spec, &params, &ns)
        .map_err(|e| stop("ApplicationGenerationFromParamsError", e))?;

    let mut done = Done {
        generated: desired
            .iter()
            .filter_map(|a| a["metadata"]["name"].as_str().map(str::to_owned))
            .collect(),
        ..Done::default()
    };
    // The Applications this set owns, and the names taken by others.
    let all = by_name(sets);
    let owned_by_us = |a: &Application| {
        a.metadata
            .owner_references
            .iter()
            .flatten()
            .any(|o| o.uid == uid)
    };
    let existing: Vec<Value> = all
        .values()
        .filter(|a| owned_by_us(a))
        .filter_map(|a| serde_json::to_value(a.as_ref()).ok())
        .collect();
    let mut wanted = Vec::with_capacity(desired.len());
    for app in desired {
        let name = app["metadata"]["name"].as_str().unwrap_or_default();
        match all.get(name) {
            Some(other) if !owned_by_us(other) => done.problems.push(format!(
                "Application {name} exists and is not this set's ({}): left as it is; delete it or rename the template's",
                super::owner(other).map_or("no owner".to_owned(), |o| format!("owned by ApplicationSet {o}"))
            )),
            _ => wanted.push(app),
        }
    }
    let plan = plan(&spec, wanted, &existing).map_err(|e| stop("ApplicationSetInvalidSpec", e))?;

    // The set may have been deleted while this pass ran (its apps are
    // being deleted with it): writing now would bring an app back with an
    // owner that is gone.
    let sets: Api<ApplicationSet> = Api::namespaced(shared.client.clone(), &ns);
    match sets.get_opt(&set_name).await {
        Ok(Some(now))
            if now.metadata.uid.as_deref() == Some(uid.as_str())
                && now.metadata.deletion_timestamp.is_none() => {}
        Ok(_) => return Ok(Done::default()),
        Err(e) => {
            return Err(stop(
                "ApplicationSetNotRead",
                format!("reading the ApplicationSet again before writing failed: {e}"),
            ));
        }
    }
    let api: Api<Application> = Api::namespaced(shared.client.clone(), &ns);
    let owner_ref = OwnerReference {
        api_version: sextant_model::group::selected().api_version().into(),
        kind: "ApplicationSet".into(),
        name: set_name.clone(),
        uid: uid.clone(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    };
    let params = PatchParams::apply(APPSET_MANAGER).force();
    let writes = plan
        .create
        .into_iter()
        .map(|a| (a, true))
        .chain(plan.update.into_iter().map(|a| (a, false)))
        .map(|(mut app, created)| {
            let name = app["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            app["metadata"]["ownerReferences"] = json!([owner_ref]);
            let (api, params) = (&api, &params);
            async move {
                let outcome = api.patch(&name, params, &Patch::Apply(&app)).await;
                (name, created, outcome)
            }
        });
    // A few at a time: a new set of a thousand apps is there in seconds,
    // without crowding out the API server.
    let written: Vec<_> = futures::stream::iter(writes)
        .buffer_unordered(WRITES_AT_ONCE)
        .collect()
        .await;
    for (name, created, outcome) in written {
        match outcome {
            Ok(_) if created => {
                tracing::info!(appset = %set_name, app = %name, "created Application");
                done.created += 1;
            }
            Ok(_) => {
                tracing::info!(appset = %set_name, app = %name, "updated Application");
                done.updated += 1;
            }
            Err(e) => done
                .problems
                .push(format!("writing Application {name} failed: {e}")),
        }
    }
    let preserve = spec
        .sync_policy
        .as_ref()
        .is_some_and(|p| p.preserve_resources_on_deletion);
    for name in plan.delete {
        if preserve {
            release_objects(&api, &name, &existing).await;
        }
        match api.delete(&name, &DeleteParams::background()).await {
            Ok(_) => {
                tracing::info!(appset = %set_name, app = %name, "deleted Application (no parameter set makes it any more)");
                done.deleted += 1;
            }
            Err(kube::Error::Api(e)) if e.code == 404 => {}
            Err(e) => done
                .problems
                .push(format!("deleting Application {name} failed: {e}")),
        }
    }
    Ok(done)
}

/// Before deleting an Application of a set that preserves resources, take
/// off the finalizer that would delete its objects.
async fn release_objects(api: &Api<Application>, name: &str, existing: &[Value]) {
    let Some(live) = existing.iter().find(|a| a["metadata"]["name"] == name) else {
        return;
    };
    let finalizers: Vec<Value> = live["metadata"]["finalizers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let kept: Vec<Value> = finalizers
        .iter()
        .filter(|f| {
            !f.as_str()
                .is_some_and(|f| f.starts_with("resources-finalizer."))
        })
        .cloned()
        .collect();
    if kept.len() != finalizers.len() {
        let patch = json!({"metadata": {"finalizers": kept, "resourceVersion": live["metadata"]["resourceVersion"]}});
        if let Err(e) = api
            .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            tracing::warn!(app = %name, error = %e, "could not release the Application's objects before deleting it");
        }
    }
}

fn condition(type_: &str, ok: bool, reason: &str, message: &str) -> ApplicationSetCondition {
    ApplicationSetCondition {
        type_: type_.into(),
        status: if ok { "True" } else { "False" }.into(),
        reason: reason.into(),
        message: message.into(),
        last_transition_time: None,
    }
}

fn status_of(
    set: &ApplicationSet,
    sets: &AppSets,
    outcome: &Result<Done, Stopped>,
) -> ApplicationSetStatus {
    let (conditions, names) = match outcome {
        Ok(done) if done.problems.is_empty() => {
            let msg = format!(
                "{} Applications generated ({} created, {} updated, {} deleted this pass)",
                done.generated.len(),
                done.created,
                done.updated,
                done.deleted
            );
            (
                vec![
                    condition("ErrorOccurred", false, "ApplicationSetUpToDate", &msg),
                    condition(
                        "ParametersGenerated",
                        true,
                        "ParametersGenerated",
                        "Successfully generated parameters for all Applications",
                    ),
                    condition("ResourcesUpToDate", true, "ApplicationSetUpToDate", &msg),
                ],
                done.generated.clone(),
            )
        }
        Ok(done) => {
            let msg = done.problems.join("; ");
            (
                vec![
                    condition("ErrorOccurred", true, "ApplicationSetApplyError", &msg),
                    condition(
                        "ParametersGenerated",
                        true,
                        "ParametersGenerated",
                        "Successfully generated parameters for all Applications",
                    ),
                    condition("ResourcesUpToDate", false, "ApplicationSetApplyError", &msg),
                ],
                done.generated.clone(),
            )
        }
        Err(stopped) => {
            let msg = format!(
                "{}; the set's Applications are left as they are until this is fixed",
                stopped.message
            );
            let generated = stopped.reason != "ApplicationGenerationFromParamsError";
            (
                vec![
                    condition("ErrorOccurred", true, stopped.reason, &msg),
                    condition(
                        "ParametersGenerated",
                        generated,
                        if generated {
                            "ParametersGenerated"
                        } else {
                            "ErrorOccurred"
                        },
                        &msg,
                    ),
                    condition("ResourcesUpToDate", false, "ErrorOccurred", &msg),
                ],
                // What it made before.
                set.status
                    .as_ref()
                    .map(|s| s.resources.iter().map(|r| r.name.clone()).collect())
                    .unwrap_or_default(),
            )
        }
    };
    let apps = by_name(sets);
    let resources = names
        .into_iter()
        .map(|name| {
            let app = apps.get(&name);
            let status = app.and_then(|a| a.status.as_ref());
            ApplicationSetResource {
                group: sextant_model::group::selected().name().into(),
                version: VERSION.into(),
                kind: "Application".into(),
                namespace: app
                    .and_then(|a| a.metadata.namespace.clone())
                    .unwrap_or_default(),
                status: status
                    .and_then(|s| s.sync.as_ref())
                    .map(|s| s.status.clone()),
                health: status.and_then(|s| s.health.clone()),
                name,
            }
        })
        .collect();
    ApplicationSetStatus {
        conditions,
        resources,
    }
}

/// Write the status when it changed; a condition keeps its transition
/// time while its status stays the same.
async fn write_status(
    api: &Api<ApplicationSet>,
    set: &ApplicationSet,
    mut status: ApplicationSetStatus,
) -> Result<(), kube::Error> {
    let old = set.status.clone().unwrap_or_default();
    let now = now();
    for c in &mut status.conditions {
        let before = old.conditions.iter().find(|o| o.type_ == c.type_);
        c.last_transition_time = match before {
            Some(b) if b.status == c.status => b.last_transition_time.clone(),
            _ => Some(now.clone()),
        };
    }
    if status == old {
        return Ok(());
    }
    let name = set.metadata.name.clone().unwrap_or_default();
    api.patch_status(
        &name,
        &PatchParams::default(),
        &Patch::Merge(&json!({"status": status})),
    )
    .await?;
    Ok(())
}
