//! An Application being deleted: with the resources finalizer, its objects
//! go first (except those marked `Delete=false` or Helm's `keep`), then its
//! PostDelete hooks run; without, they stay.

use std::sync::Arc;
use std::time::Duration;

use kube::api::Api;
use sextant_cluster::Propagation;
use sextant_engine::diff::ObjectKey;
use sextant_model::Application;
use sextant_model::vocabulary::HookType;

use crate::clusters::Cluster;
use crate::controller::Shared;
use crate::events::{self, Reason};
use crate::status;
use crate::words::Next;

/// An app being deleted: with the resources finalizer, delete its objects
/// and then let it go; without, leave its objects.
pub(crate) async fn finalize(
    shared: &Arc<Shared>,
    api: &Api<Application>,
    app: &Application,
) -> Result<Next, kube::Error> {
    let name = app.metadata.name.clone().unwrap_or_default();
    if !status::has_resources_finalizer(app) {
        shared.forget_app(&name);
        return Ok(Next::default());
    }
    // Its objects are in its destination cluster; while that cluster is
    // unknown or down, the deletion waits (as Argo CD's does).
    let cluster = match shared.clusters.for_app(app) {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(app = %name, error = %e, "cannot delete the app's objects yet");
            return Ok(Next::after(Duration::from_secs(30)));
        }
    };
    if let Err(e) = cluster.reachable().await {
        tracing::warn!(app = %name, error = %e, "cannot delete the app's objects yet");
        return Ok(Next::after(Duration::from_secs(10)));
    }
    for r in app.status.iter().flat_map(|s| s.resources.iter().flatten()) {
        let av = if r.group.is_empty() {
            r.version.clone()
        } else {
            format!("{}/{}", r.group, r.version)
        };
        if let Err(e) = cluster.live.watch_kind(&av, &r.kind).await {
            tracing::warn!(app = %name, error = %e, "could not watch a kind while deleting");
        }
    }
    let propagation = status::deletion_propagation(app);
    let mut remaining = 0usize;
    let tracking = cluster.live.tracking();
    for live in cluster.live.tracked_by(&name) {
        if !tracking.is_owned_by(&name, &live) {
            continue;
        }
        // `Delete=false` and Helm's `resource-policy: keep` outlive the
        // app; PostDelete hooks are run below, after everything else.
        if sextant_engine::sync::marks_of(&live)
            .is_ok_and(|m| !m.may_delete() || m.hooks.contains(&HookType::PostDelete))
        {
            continue;
        }
        let key = ObjectKey::of(&live);
        remaining += 1;
        if live
            .pointer("/metadata/deletionTimestamp")
            .is_some_and(|t| !t.is_null())
        {
            continue;
        }
        // App of apps: a child Application goes with its own objects, and
        // before the parent (which waits above until it is gone).
        if key.group == sextant_model::group::selected().name() && key.kind == "Application" {
            cascade_to_child(shared, &name, &key, &live).await;
        }
        let uid = live.pointer("/metadata/uid").and_then(|u| u.as_str());
        if let Err(e) = cluster.kinds.delete(&key, uid, propagation).await {
            tracing::warn!(app = %name, object = %key, error = %e, "could not delete");
        }
    }
    if remaining > 0 {
        return Ok(Next::after(Duration::from_millis(500)));
    }
    if let Some(waiting) = post_delete_hooks(shared, &cluster, app).await {
        return Ok(Next::after(waiting));
    }
    events::record(
        &shared.client,
        app,
        Reason::ResourcesDeleted,
        "deleted the app's resources",
    )
    .await;
    status::release_finalizer(api, &name).await?;
    shared.forget_app(&name);
    Ok(Next::default())
}

/// Run the app's PostDelete hooks (as Git had them at the revision last
/// compared), once its objects are gone: create each that is not there,
/// wait for all to finish, then delete them. `Some(wait)` while any runs.
/// A source that no longer renders runs none (the deletion is not held
/// hostage by a broken repository).
/// Give a child Application the resources finalizer, if it has none, so
/// that deleting it deletes its objects (the parent's cascade goes down).
async fn cascade_to_child(
    shared: &Arc<Shared>,
    parent: &str,
    key: &ObjectKey,
    live: &serde_json::Value,
) {
    let finalizers: Vec<String> = live
        .pointer("/metadata/finalizers")
        .and_then(|f| f.as_array())
        .map(|f| {
            f.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if finalizers
        .iter()
        .any(|f| status::resources_finalizer(f).is_some())
    {
        return;
    }
    let mut with = finalizers;
    with.push(
        sextant_model::group::selected()
            .resources_finalizer()
            .to_owned(),
    );
    let api: Api<Application> = Api::namespaced(shared.client.clone(), &key.namespace);
    let patch = serde_json::json!({"metadata": {
        "finalizers": with,
        "resourceVersion": live.pointer("/metadata/resourceVersion"),
    }});
    if let Err(e) = api
        .patch(
            &key.name,
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(&patch),
        )
        .await
    {
        tracing::warn!(app = %parent, child = %key.name, error = %e, "could not make the child Application delete its objects");
    }
}

async fn post_delete_hooks(
    shared: &Arc<Shared>,
    cluster: &Cluster,
    app: &Application,
) -> Option<Duration> {
    let name = app.metadata.name.clone().unwrap_or_default();
    let revision = app
        .status
        .as_ref()
        .and_then(|s| s.sync.as_ref())
        .and_then(|s| s.revision.clone())
        .filter(|r| !r.is_empty());
    let sources = crate::source::app_sources(app).ok()?;
    let namespace = crate::source::destination_namespace(app);
    let fetched = shared
        .sources
        .fetch_app(
            crate::source::AppRef::of(app),
            sources,
            revision.as_deref(),
            &namespace,
            false,
        )
        .await
        .map_err(|e| tracing::warn!(app = %name, error = %e, "PostDelete hooks not run: the source does not render"))
        .ok()?;
    let hooks: Vec<serde_json::Value> = fetched
        .outcome
        .rendered
        .objects
        .iter()
        .filter(|o| {
            sextant_engine::sync::marks_of(o).is_ok_and(|m| m.hooks.contains(&HookType::PostDelete))
        })
        .cloned()
        .map(|mut o| {
            cluster.live.tracking().mark(&name, &mut o);
            o
        })
        .collect();
    let mut running = false;
    for hook in &hooks {
        let key = ObjectKey::of(hook);
        if let Err(e) = cluster.live.watch_kind(&key.api_version, &key.kind).await {
            tracing::warn!(app = %name, error = %e, "could not watch a PostDelete hook's kind");
        }
        let live = cluster
            .live
            .get(&sextant_cluster::LiveKey::of(hook))
            .and_then(|e| e.object);
        match live {
            None => {
                running = true;
                if let Err(e) = cluster.kinds.create(hook, false).await {
                    tracing::warn!(app = %name, hook = %key, error = %e, "could not create a PostDelete hook");
                }
            }
            Some(live) => {
                let h = sextant_engine::health::assess(&live, &shared.settings.get().health);
                match h.status {
                    sextant_engine::health::HealthStatus::Healthy => {}
                    sextant_engine::health::HealthStatus::Degraded => {
                        tracing::warn!(app = %name, hook = %key, message = %h.message, "a PostDelete hook failed");
                    }
                    _ => running = true,
                }
            }
        }
    }
    if running {
        return Some(Duration::from_millis(500));
    }
    for hook in &hooks {
        let key = ObjectKey::of(hook);
        if let Err(e) = cluster
            .kinds
            .delete(&key, None, Propagation::Background)
            .await
        {
            tracing::warn!(app = %name, hook = %key, error = %e, "could not delete a finished PostDelete hook");
        }
    }
    None
}
