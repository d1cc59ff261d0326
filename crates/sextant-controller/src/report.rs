//! A comparison as the Application's status reports it: sync and health
//! of the app and of each object, conditions, images.

use std::collections::BTreeSet;

use sextant_model::Application;
use sextant_model::application::{ApplicationStatus, HealthStatus, ResourceStatus, SyncStatus};

use crate::compare::Comparison;
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
        compared_to: Some(compared_to(app, None)),
    });
    st.health = Some(health_of(&cmp.health()));
    st.source_type = Some(
        match fetched.outcome.rendered.kind {
            sextant_render::SourceKind::Directory => "Directory",
            sextant_render::SourceKind::Kustomize => "Kustomize",
            sextant_render::SourceKind::Helm => "Helm",
        }
        .to_owned(),
    );
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
    let warnings = &fetched.outcome.rendered.warnings;
    status::set_condition(
        st,
        "RenderWarning",
        (!warnings.is_empty()).then(|| warnings.join("; ")),
    );
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
