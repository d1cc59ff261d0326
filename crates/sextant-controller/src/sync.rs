//! Running a sync: refuse objects that are not the app's, dry-run every
//! object (preflight) and stop with nothing changed if any is refused,
//! create the destination namespace when asked, apply with server-side
//! apply in kind order, then prune (or report what needs pruning).
//! Progress goes out as the per-object results so far.

use std::collections::HashSet;
use std::time::Duration;

use futures::{StreamExt, stream};
use serde_json::{Value, json};
use sextant_cluster::{Kinds, Propagation, WriteError};
use sextant_engine::diff::ObjectKey;
use sextant_model::annotations;
use sextant_model::application::{ManagedNamespaceMetadata, ResourceResult};

use crate::compare::{Comparison, ResourceState, SyncState};
use crate::order;

/// How many objects are dry-run or applied at once.
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
    /// Apply only objects that differ (ApplyOutOfSyncOnly=true).
    pub out_of_sync_only: bool,
    /// Only these objects (empty: all).
    pub only: Vec<(String, String, String, String)>,
    /// A namespace known to exist (the controller's own), where objects
    /// whose namespace comes in this sync are dry-run instead.
    pub scratch_namespace: String,
}

/// How a sync ended.
#[derive(Clone, Debug)]
pub struct SyncReport {
    /// Whether every step succeeded.
    pub succeeded: bool,
    /// One line for people.
    pub message: String,
    /// Per-object results.
    pub results: Vec<ResourceResult>,
}

fn result(key: &ObjectKey, status: &str, message: impl Into<String>) -> ResourceResult {
    let version = key
        .api_version
        .rsplit_once('/')
        .map_or(key.api_version.as_str(), |(_, v)| v)
        .to_owned();
    ResourceResult {
        group: key.group.clone(),
        version,
        kind: key.kind.clone(),
        namespace: key.namespace.clone(),
        name: key.name.clone(),
        status: Some(status.to_owned()),
        message: Some(message.into()),
        sync_phase: Some("Sync".to_owned()),
        ..ResourceResult::default()
    }
}

fn selected(req: &SyncRequest, key: &ObjectKey) -> bool {
    req.only.is_empty()
        || req.only.iter().any(|(g, k, ns, n)| {
            *g == key.group
                && *k == key.kind
                && *n == key.name
                && (ns.is_empty() || *ns == key.namespace)
        })
}

/// Run a sync of `comparison` (whose desired objects carry the tracking
/// ids). `progress` gets the results so far after each step.
pub async fn run(
    kinds: &Kinds,
    comparison: &Comparison,
    req: &SyncRequest,
    progress: &(dyn Fn(&[ResourceResult]) + Send + Sync),
) -> SyncReport {
    let in_git: Vec<&ResourceState> = comparison
        .resources
        .iter()
        .filter(|r| r.desired.is_some() && selected(req, &r.key))
        .collect();
    // Never take over someone else's object.
    let conflicts: Vec<ResourceResult> = in_git
        .iter()
        .filter_map(|r| Some(result(&r.key, "SyncFailed", r.conflict.clone()?)))
        .collect();
    if !conflicts.is_empty() {
        let message = format!(
            "{} object(s) exist and are not managed by this app; nothing was changed",
            conflicts.len()
        );
        return SyncReport {
            succeeded: false,
            message,
            results: conflicts,
        };
    }

    // Preflight: the API server dry-runs every object first.
    let coming_namespaces: HashSet<&str> = in_git
        .iter()
        .filter(|r| r.key.group.is_empty() && r.key.kind == "Namespace")
        .map(|r| r.key.name.as_str())
        .chain(req.create_namespace.as_deref())
        .collect();
    let coming_kinds: HashSet<(String, String)> = in_git
        .iter()
        .filter(|r| r.key.kind == "CustomResourceDefinition")
        .filter_map(|r| {
            let d = r.desired.as_ref()?;
            Some((
                d.pointer("/spec/group")?.as_str()?.to_owned(),
                d.pointer("/spec/names/kind")?.as_str()?.to_owned(),
            ))
        })
        .collect();
    // Futures collected first: a stream built from a closure over
    // borrowed data would not be provably `Send` for the worker task.
    let futures: Vec<_> = in_git
        .iter()
        .map(|r| {
            preflight(
                kinds,
                r,
                &coming_namespaces,
                &coming_kinds,
                &req.scratch_namespace,
            )
        })
        .collect();
    let checks: Vec<Option<String>> = stream::iter(futures).buffered(PARALLEL).collect().await;
    let refused: Vec<ResourceResult> = in_git
        .iter()
        .zip(&checks)
        .filter_map(|(r, c)| Some(result(&r.key, "SyncFailed", c.clone()?)))
        .collect();
    if !refused.is_empty() {
        let message = format!(
            "preflight: the API server refused {} of {} object(s); nothing was changed",
            refused.len(),
            in_git.len()
        );
        return SyncReport {
            succeeded: false,
            message,
            results: refused,
        };
    }
    let to_prune: Vec<&ResourceState> = comparison
        .resources
        .iter()
        .filter(|r| r.requires_pruning && selected(req, &r.key))
        .collect();
    if req.dry_run {
        let mut results: Vec<ResourceResult> = in_git
            .iter()
            .map(|r| {
                let what = match (r.sync, r.live.is_some()) {
                    (SyncState::Synced, _) => "unchanged",
                    (_, true) => "would be configured",
                    (_, false) => "would be created",
                };
                result(&r.key, "Synced", format!("{what} (dry run)"))
            })
            .collect();
        for r in &to_prune {
            let what = if req.prune {
                "would be pruned (dry run)"
            } else {
                "requires pruning (dry run; sync with prune to delete it)"
            };
            results.push(result(
                &r.key,
                if req.prune { "Pruned" } else { "PruneSkipped" },
                what,
            ));
        }
        return SyncReport {
            succeeded: true,
            message: "dry run: every object passed preflight; nothing was changed".into(),
            results,
        };
    }

    let mut results: Vec<ResourceResult> = Vec::new();
    if let Some(ns) = &req.create_namespace
        && !in_git
            .iter()
            .any(|r| r.key.group.is_empty() && r.key.kind == "Namespace" && r.key.name == *ns)
    {
        let mut obj = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
        if let Some(meta) = &req.namespace_metadata {
            if let Some(l) = &meta.labels {
                obj["metadata"]["labels"] = json!(l);
            }
            if let Some(a) = &meta.annotations {
                obj["metadata"]["annotations"] = json!(a);
            }
        }
        if let Err(e) = kinds.apply(&obj, false).await {
            let key = ObjectKey::of(&obj);
            results.push(result(
                &key,
                "SyncFailed",
                format!("could not create namespace {ns}: {e}"),
            ));
            progress(&results);
            return SyncReport {
                succeeded: false,
                message: format!("could not create the destination namespace {ns}: {e}"),
                results,
            };
        }
    }

    // Apply, rank by rank; a failure stops before the next rank.
    let mut ordered = in_git.clone();
    ordered.sort_by(|a, b| order::apply_order(&a.key, &b.key));
    let mut failed = 0usize;
    let mut applied = 0usize;
    let mut i = 0;
    while i < ordered.len() {
        let rank = order::rank(&ordered[i].key);
        let group: Vec<&ResourceState> = ordered[i..]
            .iter()
            .take_while(|r| order::rank(&r.key) == rank)
            .copied()
            .collect();
        i += group.len();
        let futures: Vec<_> = group
            .into_iter()
            .map(|r| apply_one(kinds, r, req.out_of_sync_only))
            .collect();
        let outcomes: Vec<ResourceResult> =
            stream::iter(futures).buffered(PARALLEL).collect().await;
        for o in outcomes {
            if o.status.as_deref() == Some("SyncFailed") {
                failed += 1;
            } else {
                applied += 1;
            }
            results.push(o);
        }
        progress(&results);
        if failed > 0 {
            let first = results
                .iter()
                .find(|r| r.status.as_deref() == Some("SyncFailed"))
                .and_then(|r| r.message.clone())
                .unwrap_or_default();
            return SyncReport {
                succeeded: false,
                message: format!(
                    "{failed} object(s) failed to apply ({applied} applied; later kinds and pruning were not run): {first}"
                ),
                results,
            };
        }
    }

    // Prune, in reverse kind order.
    let mut pruned = 0usize;
    let mut prune_failed = 0usize;
    let mut doomed = to_prune;
    doomed.sort_by(|a, b| order::apply_order(&b.key, &a.key));
    for r in doomed {
        let Some(live) = &r.live else { continue };
        let live_annotations: Option<std::collections::BTreeMap<String, String>> = live
            .pointer("/metadata/annotations")
            .and_then(|a| serde_json::from_value(a.clone()).ok());
        let opts = annotations::get(live_annotations.as_ref(), annotations::SYNC_OPTIONS)
            .unwrap_or_default();
        let keep = opts.split(',').any(|o| {
            let o = o.trim();
            o == "Prune=false" || o == "Delete=false"
        });
        if !req.prune {
            results.push(result(
                &r.key,
                "PruneSkipped",
                "requires pruning: it is no longer in Git; sync with prune to delete it",
            ));
        } else if keep {
            results.push(result(
                &r.key,
                "PruneSkipped",
                "kept: its sync options say Prune=false",
            ));
        } else {
            let uid = live.pointer("/metadata/uid").and_then(Value::as_str);
            match kinds.delete(&r.key, uid, Propagation::Background).await {
                Ok(_) => {
                    pruned += 1;
                    results.push(result(&r.key, "Pruned", "pruned"));
                }
                Err(e) => {
                    prune_failed += 1;
                    results.push(result(
                        &r.key,
                        "SyncFailed",
                        format!("could not prune: {e}"),
                    ));
                }
            }
        }
        progress(&results);
    }
    if prune_failed > 0 {
        return SyncReport {
            succeeded: false,
            message: format!(
                "{prune_failed} object(s) could not be pruned ({applied} applied, {pruned} pruned)"
            ),
            results,
        };
    }
    SyncReport {
        succeeded: true,
        message: format!("successfully synced ({applied} applied, {pruned} pruned)"),
        results,
    }
}

/// Dry-run one object; `Some(reason)` when the API server refuses it. An
/// object whose namespace only comes with this sync is dry-run in
/// `scratch` instead, so it is still checked before anything changes.
async fn preflight(
    kinds: &Kinds,
    r: &ResourceState,
    coming_namespaces: &HashSet<&str>,
    coming_kinds: &HashSet<(String, String)>,
    scratch: &str,
) -> Option<String> {
    let desired = r.desired.as_ref()?;
    match kinds.apply(desired, true).await {
        Ok(_) => None,
        Err(WriteError::NotServed { .. })
            if coming_kinds.contains(&(r.key.group.clone(), r.key.kind.clone())) =>
        {
            None
        }
        Err(e)
            if e.is_not_found()
                && !r.key.namespace.is_empty()
                && coming_namespaces.contains(r.key.namespace.as_str()) =>
        {
            let mut elsewhere = desired.clone();
            elsewhere["metadata"]["namespace"] = Value::String(scratch.to_owned());
            match kinds.apply(&elsewhere, true).await {
                Ok(_) => None,
                Err(e) => Some(e.to_string().replace(scratch, &r.key.namespace)),
            }
        }
        Err(WriteError::Api { code: 404, message }) if !r.key.namespace.is_empty() => {
            Some(format!(
                "{message} (namespace {} does not exist: add it to Git or set the sync option CreateNamespace=true)",
                r.key.namespace
            ))
        }
        Err(e) => Some(e.to_string()),
    }
}

/// Apply one object; a kind whose CRD was just applied may take a moment
/// to be served, so "not served" is retried briefly.
async fn apply_one(kinds: &Kinds, r: &ResourceState, out_of_sync_only: bool) -> ResourceResult {
    let Some(desired) = &r.desired else {
        return result(&r.key, "SyncFailed", "nothing to apply");
    };
    if out_of_sync_only && r.sync == SyncState::Synced {
        return result(&r.key, "Synced", "unchanged (in sync; ApplyOutOfSyncOnly)");
    }
    let before = r
        .live
        .as_ref()
        .and_then(|l| l.pointer("/metadata/resourceVersion").cloned());
    let mut attempt = 0;
    loop {
        match kinds.apply(desired, false).await {
            Ok(after) => {
                let what = match (&before, after.pointer("/metadata/resourceVersion")) {
                    (None, _) => "created",
                    (Some(b), Some(a)) if b == a => "unchanged",
                    _ => "configured",
                };
                return result(&r.key, "Synced", what);
            }
            Err(WriteError::NotServed { .. }) if attempt < 20 => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(e) => return result(&r.key, "SyncFailed", e.to_string()),
        }
    }
}
