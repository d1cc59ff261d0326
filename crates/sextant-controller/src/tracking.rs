//! The tracking that marks an object as an app's (see
//! [`sextant_cluster::tracking`]: the annotation
//! `<app>:<group>/<kind>:<namespace>/<name>`, Argo CD's instance label, or
//! both, per `application.resourceTrackingMethod`). Only objects the app
//! tracks are ever updated or pruned by it; a copy of an object (same name,
//! no or another id) is never taken over silently.
//!
//! The controller keeps the tracking in force in each cluster's live cache;
//! the CLI and the API server read it from the settings ConfigMap with
//! [`crate::settings::read_once`].

use std::collections::BTreeMap;

use sextant_engine::diff::ObjectKey;
use sextant_model::group::ApiGroup;

pub use sextant_cluster::tracking::{Tracking, TrackingMethod, app_of};

/// The annotation tracking id the object `key` names, for `app`.
pub fn tracking_id(app: &str, key: &ObjectKey) -> String {
    Tracking::id(app, key)
}

/// The tracking when the settings say nothing: the annotation of the
/// process's API group (under Sextant's, Argo CD's annotation is read too,
/// so what Argo CD deployed stays the app's after `sextant import argocd`).
pub fn default_tracking() -> Tracking {
    with_aliases(Tracking::by_annotation(
        sextant_model::group::selected().tracking_annotation(),
    ))
}

/// The tracking the settings data asks for, with what could not be read.
pub fn from_settings(data: &BTreeMap<String, String>) -> (Tracking, Vec<String>) {
    let (tracking, problems) =
        Tracking::from_settings(sextant_model::group::selected().tracking_annotation(), data);
    (with_aliases(tracking), problems)
}

fn with_aliases(tracking: Tracking) -> Tracking {
    match sextant_model::group::selected() {
        ApiGroup::Sextant => tracking.with_alias(ApiGroup::ArgoCd.tracking_annotation()),
        ApiGroup::ArgoCd => tracking,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_default_tracks_by_the_groups_annotation() {
        let t = default_tracking();
        let mut ns = json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "shop", "annotations": {"a": "b"}}});
        t.mark("infra", &mut ns);
        assert_eq!(t.id_of(&ns).as_deref(), Some("infra:/Namespace:/shop"));
        assert_eq!(ns["metadata"]["annotations"]["a"], "b");
        assert!(t.is_owned_by("infra", &ns));
    }
}
