//! An Application being deleted: with the resources finalizer, its objects
//! go first (except those marked `Delete=false` or Helm's `keep`);
//! without, they stay.

use std::sync::Arc;
use std::time::Duration;

use kube::api::Api;
use sextant_cluster::Propagation;
use sextant_engine::diff::ObjectKey;
use sextant_model::Application;

use crate::controller::Shared;
use crate::events::{self, Reason};
use crate::reconcile::Next;
use crate::status;
use crate::tracking;

/// An app being deleted: with the resources finalizer, delete its objects
/// and then let it go; without, leave its objects.
pub(crate) async fn finalize(
    shared: &Arc<Shared>,
    api: &Api<Application>,
    app: &Application,
) -> Result<Next, kube::Error> {
    let name = app.metadata.name.clone().unwrap_or_default();
    if !status::has_resources_finalizer(app) {
        shared.live.forget_app(&name);
        return Ok(Next::default());
    }
    for r in app.status.iter().flat_map(|s| s.resources.iter().flatten()) {
        let av = if r.group.is_empty() {
            r.version.clone()
        } else {
            format!("{}/{}", r.group, r.version)
        };
        if let Err(e) = shared.live.watch_kind(&av, &r.kind).await {
            tracing::warn!(app = %name, error = %e, "could not watch a kind while deleting");
        }
    }
    let mut remaining = 0usize;
    for live in shared.live.tracked_by(&name) {
        if !tracking::is_owned_by(&name, &live) {
            continue;
        }
        // `Delete=false` and Helm's `resource-policy: keep` outlive the app.
        if sextant_engine::sync::marks_of(&live).is_ok_and(|m| !m.may_delete()) {
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
        let uid = live.pointer("/metadata/uid").and_then(|u| u.as_str());
        if let Err(e) = shared
            .kinds
            .delete(&key, uid, Propagation::Foreground)
            .await
        {
            tracing::warn!(app = %name, object = %key, error = %e, "could not delete");
        }
    }
    if remaining > 0 {
        return Ok(Next::after(Duration::from_millis(500)));
    }
    events::record(
        &shared.client,
        app,
        Reason::ResourcesDeleted,
        "deleted the app's resources",
    )
    .await;
    status::release_finalizer(api, &name).await?;
    shared.live.forget_app(&name);
    Ok(Next::default())
}
