//! A comparison as the Application's status reports it: sync and health
//! of the app and of each object, conditions, images.

use std::collections::BTreeSet;

use sextant_model::Application;
use sextant_model::application::{
    ApplicationStatus, HealthStatus, ResourceResult, ResourceStatus, SyncStatus,
};

use crate::compare::{Comparison, SyncState};
use crate::prepare::compared_to;
use crate::source::Fetched;
use crate::status;

pub(crate) fn health_of(h: &sextant_engine::health::Health) -> HealthStatus {
    HealthStatus {
        status: h.status.as_str().to_owned(),
        message: (!h.message.is_empty()).then(|| h.message.clone()),
    }
}

/// Put a comparison into the status.
pub(crate) fn fill_status(
    st: &mut ApplicationStatus,
    app: &Application,
    fetched: &Fetched,
    cmp: &Comparison,
) {
    st.sync = Some(SyncStatus {
        status: cmp.sync().as_str().to_owned(),
        revision: Some(fetched.revision()),
        revisions: fetched.revisions.clone(),
        compared_to: Some(compared_to(app)),
    });
    st.health = Some(health_of(&cmp.health()));
    st.source_type = Some(source_type(fetched.outcome.rendered.kind));
    st.source_types = fetched
        .kinds
        .as_ref()
        .map(|kinds| kinds.iter().copied().map(source_type).collect());
    let mut resources: Vec<ResourceStatus> = cmp
        .resources
        .iter()
        .map(|r| ResourceStatus {
            group: r.key.group.clone(),
            version: r
                .key
                .api_version
                .rsplit_once('/')
                .map_or(r.key.api_version.as_str(), |(_, v)| v)
                .to_owned(),
            kind: r.key.kind.clone(),
            namespace: (!r.key.namespace.is_empty()).then(|| r.key.namespace.clone()),
            name: r.key.name.clone(),
            status: Some(r.sync.as_str().to_owned()),
            health: r.health.as_ref().map(health_of),
            requires_pruning: r.requires_pruning.then_some(true),
            ..ResourceStatus::default()
        })
        .collect();
    resources.sort_by(|a, b| {
        (&a.group, &a.kind, &a.namespace, &a.name).cmp(&(&b.group, &b.kind, &b.namespace, &b.name))
    });
    st.resources = Some(resources);
    let mut images: BTreeSet<String> = BTreeSet::new();
    for r in &cmp.resources {
        if let Some(live) = &r.live {
            collect_images(live, &mut images);
        }
    }
    st.summary = Some(sextant_model::application::ApplicationSummary {
        images: (!images.is_empty()).then(|| images.into_iter().collect()),
        external_urls: None,
    });
    status::set_condition(st, "ComparisonError", None);
    let conflicts: Vec<String> = cmp.conflicts().filter_map(|r| r.conflict.clone()).collect();
    status::set_condition(
        st,
        "SharedResourceWarning",
        (!conflicts.is_empty()).then(|| conflicts.join("; ")),
    );
    let excluded: Vec<String> = cmp.excluded.iter().map(ToString::to_string).collect();
    status::set_condition(
        st,
        "ExcludedResourceWarning",
        (!excluded.is_empty()).then(|| {
            format!(
                "{} excluded by resource.exclusions / resource.inclusions of the settings ConfigMap: left alone (not applied, compared or pruned)",
                excluded.join(", ")
            )
        }),
    );
    let warnings = &fetched.outcome.rendered.warnings;
    status::set_condition(
        st,
        "RenderWarning",
        (!warnings.is_empty()).then(|| warnings.join("; ")),
    );
    status::set_condition(
        st,
        "RepeatedResourceWarning",
        (!fetched.repeated.is_empty()).then(|| fetched.repeated.join("; ")),
    );
    status::set_condition(st, EMPTY_RENDER, empty_render(app, fetched));
}

/// The condition of an app whose source renders no objects (unless
/// `syncPolicy.automated.allowEmpty`): a wrong path or file type, or a
/// format Sextant does not render, would otherwise look Synced and
/// Healthy with nothing deployed.
pub(crate) const EMPTY_RENDER: &str = "EmptyRenderWarning";

/// Whether the app may have no objects.
pub(crate) fn allows_empty(app: &Application) -> bool {
    app.spec
        .sync_policy
        .as_ref()
        .and_then(|p| p.automated.as_ref())
        .and_then(|a| a.allow_empty)
        == Some(true)
}

/// What the empty-render condition says, when it applies.
fn empty_render(app: &Application, fetched: &Fetched) -> Option<String> {
    let rendered = &fetched.outcome.rendered;
    if !rendered.objects.is_empty() || allows_empty(app) {
        return None;
    }
    let path = app
        .spec
        .source
        .as_ref()
        .and_then(|s| s.path.clone())
        .unwrap_or_else(|| ".".to_owned());
    let skipped: Vec<String> = rendered
        .skipped
        .iter()
        .take(3)
        .map(|s| format!("{} ({})", s.path, s.reason))
        .collect();
    Some(format!(
        "the source renders no objects at {} (path {path}){}: check the path, and that manifests are .yaml, .yml, .json or .jsonnet files; an automated sync will not prune the app's objects away until then. Set syncPolicy.automated.allowEmpty: true if an app with no objects is meant",
        crate::words::short(&fetched.revision()),
        if skipped.is_empty() {
            String::new()
        } else {
            format!("; files skipped: {}", skipped.join(", "))
        }
    ))
}

pub(crate) fn collect_images(v: &serde_json::Value, out: &mut BTreeSet<String>) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, child) in map {
                if (k == "containers" || k == "initContainers")
                    && let Some(list) = child.as_array()
                {
                    for c in list {
                        if let Some(image) = c.get("image").and_then(|i| i.as_str()) {
                            out.insert(image.to_owned());
                        }
                    }
                } else if k != "metadata" && k != "status" {
                    collect_images(child, out);
                }
            }
        }
        serde_json::Value::Array(list) => list.iter().for_each(|c| collect_images(c, out)),
        _ => {}
    }
}

/// After a successful sync of the compared revision, what the sync did as
/// the status reports it: the objects it applied are Synced (server-side
/// apply succeeded, so live now has Git's fields), the ones it pruned are
/// gone, and the app is Synced when nothing else differs. The re-check that
/// follows every sync compares again and corrects it if anything changed
/// meanwhile. Without this the status would show the comparison from
/// before the sync until that re-check.
pub(crate) fn apply_sync_outcome(
    st: &mut ApplicationStatus,
    cmp: &Comparison,
    results: &[ResourceResult],
) {
    let outcome = |group: &str, kind: &str, namespace: &str, name: &str| {
        results
            .iter()
            .find(|r| {
                r.group == group && r.kind == kind && r.namespace == namespace && r.name == name
            })
            .and_then(|r| r.status.as_deref())
    };
    if let Some(resources) = st.resources.as_mut() {
        resources.retain(|s| {
            outcome(
                &s.group,
                &s.kind,
                s.namespace.as_deref().unwrap_or_default(),
                &s.name,
            ) != Some("Pruned")
        });
        for s in resources.iter_mut() {
            let ns = s.namespace.as_deref().unwrap_or_default();
            if outcome(&s.group, &s.kind, ns, &s.name) == Some("Synced") {
                s.status = Some("Synced".to_owned());
            }
        }
    }
    let all_synced = cmp.resources.iter().all(|r| {
        let k = &r.key;
        match outcome(&k.group, &k.kind, &k.namespace, &k.name) {
            Some("Synced" | "Pruned") => true,
            _ => r.sync == SyncState::Synced || r.ignore_extraneous,
        }
    });
    if all_synced && let Some(sync) = st.sync.as_mut() {
        sync.status = "Synced".to_owned();
    }
}

/// A source kind as Argo CD's `status.sourceType` spells it.
fn source_type(kind: sextant_render::SourceKind) -> String {
    match kind {
        sextant_render::SourceKind::Directory => "Directory",
        sextant_render::SourceKind::Kustomize => "Kustomize",
        sextant_render::SourceKind::Helm => "Helm",
        sextant_render::SourceKind::Plugin => "Plugin",
    }
    .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::ResourceState;
    use sextant_engine::diff::ObjectKey;

    /// One object as compared and as the status shows it.
    fn object(
        kind: &str,
        name: &str,
        synced: bool,
        prune: bool,
    ) -> (ResourceState, ResourceStatus) {
        let status = if synced { "Synced" } else { "OutOfSync" };
        let state = ResourceState {
            key: ObjectKey {
                group: String::new(),
                kind: kind.into(),
                namespace: "shop".into(),
                name: name.into(),
                api_version: "v1".into(),
            },
            sync: if synced {
                SyncState::Synced
            } else {
                SyncState::OutOfSync
            },
            health: None,
            requires_pruning: prune,
            ignore_extraneous: false,
            conflict: None,
            live: None,
            desired: None,
            diff: None,
            marks: Default::default(),
        };
        let shown = ResourceStatus {
            kind: kind.into(),
            namespace: Some("shop".into()),
            name: name.into(),
            status: Some(status.into()),
            requires_pruning: prune.then_some(true),
            ..ResourceStatus::default()
        };
        (state, shown)
    }

    fn result(kind: &str, name: &str, status: &str) -> ResourceResult {
        ResourceResult {
            kind: kind.into(),
            namespace: "shop".into(),
            name: name.into(),
            status: Some(status.into()),
            ..ResourceResult::default()
        }
    }

    /// Apply `results` to an OutOfSync app made of `objects`.
    fn after(
        objects: Vec<(ResourceState, ResourceStatus)>,
        results: &[ResourceResult],
    ) -> ApplicationStatus {
        let (states, shown): (Vec<_>, Vec<_>) = objects.into_iter().unzip();
        let mut st = ApplicationStatus {
            sync: Some(SyncStatus {
                status: "OutOfSync".into(),
                ..SyncStatus::default()
            }),
            resources: Some(shown),
            ..ApplicationStatus::default()
        };
        apply_sync_outcome(
            &mut st,
            &Comparison {
                resources: states,
                ..Comparison::default()
            },
            results,
        );
        st
    }

    #[test]
    fn applied_objects_become_synced_pruned_ones_go_and_the_app_follows() {
        let st = after(
            vec![
                object("ConfigMap", "a", false, false),
                object("ConfigMap", "old", false, true),
                object("Deployment", "web", true, false),
            ],
            &[
                result("ConfigMap", "a", "Synced"),
                result("ConfigMap", "old", "Pruned"),
            ],
        );
        let shown: Vec<_> = st
            .resources
            .iter()
            .flatten()
            .map(|r| (r.name.as_str(), r.status.as_deref().unwrap_or_default()))
            .collect();
        assert_eq!(shown, [("a", "Synced"), ("web", "Synced")]);
        assert_eq!(st.sync.unwrap().status, "Synced");
    }

    #[test]
    fn what_the_sync_left_out_keeps_the_app_out_of_sync_unless_ignored() {
        let st = after(
            vec![
                object("ConfigMap", "a", false, false),
                object("ConfigMap", "b", false, false),
            ],
            &[
                result("ConfigMap", "a", "Synced"),
                result("ConfigMap", "b", "SyncFailed"),
            ],
        );
        assert_eq!(st.sync.unwrap().status, "OutOfSync");
        let st = after(
            vec![object("ConfigMap", "old", false, true)],
            &[result("ConfigMap", "old", "PruneSkipped")],
        );
        assert_eq!(st.sync.unwrap().status, "OutOfSync");
        // An extraneous object marked IgnoreExtraneous does not count.
        let (mut state, shown) = object("ConfigMap", "extra", false, true);
        state.ignore_extraneous = true;
        let st = after(
            vec![(state, shown), object("ConfigMap", "a", false, false)],
            &[
                result("ConfigMap", "extra", "PruneSkipped"),
                result("ConfigMap", "a", "Synced"),
            ],
        );
        assert_eq!(st.sync.unwrap().status, "Synced");
    }
}
