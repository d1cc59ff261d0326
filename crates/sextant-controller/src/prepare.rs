//! Render an app's source and compare it with the live state: the first
//! half of every reconcile, and of a sync to another revision.

use std::collections::BTreeSet;
use std::sync::Arc;

use sextant_cluster::LiveKey;
use sextant_engine::diff::{IgnoreDifferences, ObjectKey};
use sextant_model::Application;
use sextant_model::application::ComparedTo;

use crate::compare::{self, Comparison};
use crate::controller::Shared;
use crate::source::{self, AppSources, Fetched, SourceProblem};

/// What the app is compared to: its source (or sources) and destination.
pub(crate) fn compared_to(app: &Application) -> ComparedTo {
    let multi = app.spec.sources.as_ref().filter(|s| !s.is_empty());
    ComparedTo {
        source: if multi.is_some() {
            None
        } else {
            app.spec.source.clone()
        },
        sources: multi.cloned(),
        destination: Some(app.spec.destination.clone()),
    }
}

/// Render (at `revision`, an app revision, or from `source_override` for
/// a rollback) and compare. Errors are the ComparisonError, transient or
/// not.
pub(crate) async fn prepare_with(
    shared: &Arc<Shared>,
    app: &Application,
    source_override: Option<AppSources<'_>>,
    revision: Option<&str>,
    fresh: bool,
) -> Result<(Fetched, Comparison), SourceProblem> {
    let name = app.metadata.name.as_deref().unwrap_or_default();
    let project = shared.projects.check(app).map_err(SourceProblem::spec)?;
    let cluster = shared.clusters.for_app(app).map_err(SourceProblem::spec)?;
    cluster.reachable().await?;
    let sources = match source_override {
        Some(o) => o,
        None => source::app_sources(app)?,
    };
    let namespace = source::destination_namespace(app);
    let fetched = shared
        .sources
        .fetch_app(
            source::AppRef::of(app),
            sources,
            revision,
            &namespace,
            fresh,
        )
        .await?;
    let settings = shared.settings.get();
    // Kinds the settings exclude are left alone: not applied, compared,
    // pruned or watched.
    let excluded_kind = |group: &str, kind: &str| {
        settings
            .resource_filter
            .excludes(group, kind, &cluster.server)
    };
    let (mut desired, excluded): (Vec<_>, Vec<_>) = fetched
        .outcome
        .rendered
        .objects
        .iter()
        .cloned()
        .partition(|o| {
            let k = ObjectKey::of(o);
            !excluded_kind(&k.group, &k.kind)
        });
    let tracking = cluster.live.tracking();
    for obj in &mut desired {
        tracking.mark(name, obj);
    }
    // Watch every kind the app uses or used.
    let mut kinds: BTreeSet<(String, String)> = desired
        .iter()
        .map(|o| {
            let k = ObjectKey::of(o);
            (k.api_version, k.kind)
        })
        .collect();
    for r in app
        .status
        .iter()
        .flat_map(|s| s.resources.iter().flatten())
        .filter(|r| !excluded_kind(&r.group, &r.kind))
    {
        let av = if r.group.is_empty() {
            r.version.clone()
        } else {
            format!("{}/{}", r.group, r.version)
        };
        kinds.insert((av, r.kind.clone()));
    }
    for (av, kind) in &kinds {
        cluster
            .live
            .watch_kind(av, kind)
            .await
            .map_err(|e| cluster.down(&e))?;
    }
    cluster
        .live
        .set_wanted(name, desired.iter().map(LiveKey::of).collect());
    let ignore = ignore_rules(app, &settings.system_ignore)?;
    let cx = compare::Context {
        live: &cluster.live,
        kinds: &cluster.kinds,
        predictions: &cluster.predictions,
        ignore: &ignore,
        health: &settings.health,
    };
    let mut cmp = compare::compare(name, &desired, &cx).await;
    cmp.resources
        .retain(|r| !(r.requires_pruning && excluded_kind(&r.key.group, &r.key.kind)));
    cmp.excluded = excluded.iter().map(ObjectKey::of).collect();
    cmp.denied =
        crate::projects::denied_objects(&shared.clusters, &project, app, &desired, &cluster.kinds)
            .await;
    Ok((fetched, cmp))
}

pub(crate) fn ignore_rules(
    app: &Application,
    system: &[sextant_engine::diff::IgnoreRule],
) -> Result<IgnoreDifferences, String> {
    let rules = source::ignore_rules(app).map_err(|e| format!("spec.ignoreDifferences: {e}"))?;
    IgnoreDifferences::new(&rules, system)
        .map_err(|e| format!("spec.ignoreDifferences is invalid: {e}"))
}
