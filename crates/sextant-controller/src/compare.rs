//! Comparing an app's Git state with the live state from the cache: per
//! object, Synced or OutOfSync, its health, whether it needs pruning, and
//! whether it is someone else's. The comparison is structural first (no
//! API calls); an object that looks different is confirmed by a
//! server-side dry-run apply, remembered per (desired object, live
//! resourceVersion), so defaulting never shows as drift and an unchanged
//! object costs nothing on the next pass.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use sextant_cluster::{Kinds, LiveCache, LiveKey};
use sextant_engine::diff::{IgnoreDifferences, Input, ObjectDiff, ObjectKey, diff_object};
use sextant_engine::health::{self, Health, HealthCustomizations, HealthStatus};
use sextant_engine::sync::{Marks, marks_of};
use sextant_model::annotations;
use sextant_model::group::ApiGroup;

use crate::tracking::tracking_id;

/// Synced or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncState {
    /// Live equals Git.
    Synced,
    /// Live differs, is missing, or should be pruned.
    OutOfSync,
}

impl SyncState {
    /// `Synced` / `OutOfSync`.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncState::Synced => "Synced",
            SyncState::OutOfSync => "OutOfSync",
        }
    }
}

/// One object of the app.
#[derive(Clone, Debug)]
pub struct ResourceState {
    /// Which object (apiVersion included).
    pub key: ObjectKey,
    /// Synced or OutOfSync.
    pub sync: SyncState,
    /// Health of the live object (Missing when absent; none for an object
    /// that is not ours).
    pub health: Option<Health>,
    /// Tracked by the app, gone from Git.
    pub requires_pruning: bool,
    /// Gone from Git but marked `compare-options: IgnoreExtraneous`: shown,
    /// not counted against the app's sync status.
    pub ignore_extraneous: bool,
    /// Why the app may not touch it (it exists and is not the app's).
    pub conflict: Option<String>,
    /// The live object, when the app tracks it.
    pub live: Option<Arc<Value>>,
    /// The Git object (with the tracking id), when there is one.
    pub desired: Option<Value>,
    /// The diff, when the object is in Git and live and differs.
    pub diff: Option<ObjectDiff>,
    /// How it takes part in a sync (wave, options; from Git, or from the
    /// live object when Git no longer has it).
    pub marks: Marks,
}

/// The comparison of one app.
#[derive(Clone, Debug, Default)]
pub struct Comparison {
    /// Objects in Git order, then the ones to prune.
    pub resources: Vec<ResourceState>,
    /// Hooks (and objects marked Skip) Git has, with tracking ids: not part
    /// of the app's sync status, run by a sync.
    pub hooks: Vec<Value>,
    /// Objects (hooks too) the app's project does not permit, and why: a
    /// sync refuses them before changing anything.
    pub denied: Vec<(ObjectKey, String)>,
    /// Objects Git has of kinds the settings exclude: left alone.
    pub excluded: Vec<ObjectKey>,
}

impl Comparison {
    /// Synced when every object is (extraneous objects marked
    /// IgnoreExtraneous aside).
    pub fn sync(&self) -> SyncState {
        if self
            .resources
            .iter()
            .all(|r| r.sync == SyncState::Synced || r.ignore_extraneous)
        {
            SyncState::Synced
        } else {
            SyncState::OutOfSync
        }
    }

    /// The app's health: the worst of its objects' (objects waiting to be
    /// pruned do not count).
    /// Left out, as Argo CD does: objects to prune, objects annotated
    /// `ignore-healthcheck: "true"`, and child Applications that are
    /// Missing or Unknown (an app-of-apps is not held back by a child that
    /// is not there yet).
    pub fn health(&self) -> Health {
        let labelled: Vec<(String, &Health)> = self
            .resources
            .iter()
            .filter(|r| {
                !r.requires_pruning && !ignores_healthcheck(r) && !is_child_app_not_there(r)
            })
            .filter_map(|r| Some((r.key.to_string(), r.health.as_ref()?)))
            .collect();
        health::aggregate(labelled.iter().map(|(l, h)| (l.as_str(), *h)))
    }

    /// Whether the only differences are objects waiting to be pruned.
    pub fn only_pruning(&self) -> bool {
        self.resources
            .iter()
            .all(|r| r.sync == SyncState::Synced || r.requires_pruning)
    }

    /// Objects the app wants but someone else owns.
    pub fn conflicts(&self) -> impl Iterator<Item = &ResourceState> {
        self.resources.iter().filter(|r| r.conflict.is_some())
    }
}

/// Whether the object (live, or as Git has it) asks to be left out of the
/// app's health.
fn ignores_healthcheck(r: &ResourceState) -> bool {
    let annotated = |obj: &Value| {
        let value = |name: &str| {
            obj.pointer("/metadata/annotations")
                .and_then(|a| a.get(name))
                .and_then(Value::as_str)
        };
        let name = annotations::IGNORE_HEALTHCHECK;
        value(name).or_else(|| annotations::argocd_alias(name).and_then(value)) == Some("true")
    };
    r.live.as_deref().is_some_and(annotated) || r.desired.as_ref().is_some_and(annotated)
}

/// Whether `key` is the Application `app` itself.
fn is_own_application(app: &str, key: &ObjectKey) -> bool {
    key.kind == "Application"
        && key.name == app
        && [ApiGroup::Sextant, ApiGroup::ArgoCd]
            .iter()
            .any(|g| g.name() == key.group)
}

/// Whether the object is a child Application that is Missing or Unknown.
fn is_child_app_not_there(r: &ResourceState) -> bool {
    r.key.kind == "Application"
        && [ApiGroup::Sextant, ApiGroup::ArgoCd]
            .iter()
            .any(|g| g.name() == r.key.group)
        && r.health
            .as_ref()
            .is_some_and(|h| matches!(h.status, HealthStatus::Missing | HealthStatus::Unknown))
}

/// A dry-run result: for which desired object (hash) and which live
/// resourceVersion, and what the server predicted.
type Prediction = (u64, String, Arc<Value>);

/// Server predictions remembered by object.
#[derive(Default)]
pub struct Predictions {
    map: Mutex<HashMap<LiveKey, Prediction>>,
}

impl Predictions {
    fn get(&self, key: &LiveKey, desired: u64, rv: &str) -> Option<Arc<Value>> {
        let map = self.map.lock().ok()?;
        let (d, r, p) = map.get(key)?;
        (*d == desired && r == rv).then(|| p.clone())
    }

    fn put(&self, key: LiveKey, desired: u64, rv: String, predicted: Arc<Value>) {
        if let Ok(mut map) = self.map.lock() {
            map.insert(key, (desired, rv, predicted));
        }
    }
}

fn hash_of(v: &Value) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    v.to_string().hash(&mut h);
    h.finish()
}

/// What a comparison needs.
pub struct Context<'a> {
    /// Live objects.
    pub live: &'a LiveCache,
    /// Discovery and writes (for the dry-runs).
    pub kinds: &'a Kinds,
    /// Remembered dry-runs.
    pub predictions: &'a Predictions,
    /// The app's and the system's ignore rules.
    pub ignore: &'a IgnoreDifferences,
    /// Custom health checks.
    pub health: &'a HealthCustomizations,
}

/// Compare `desired` (rendered, tracking ids set) with the live state.
pub async fn compare(app: &str, desired: &[Value], cx: &Context<'_>) -> Comparison {
    let mut resources = Vec::with_capacity(desired.len());
    let mut hooks = Vec::new();
    let mut wanted: HashSet<LiveKey> = HashSet::new();
    for obj in desired {
        // Marks were checked when the app was rendered.
        let marks = marks_of(obj).unwrap_or_default();
        if marks.is_hook() {
            hooks.push(obj.clone());
            continue;
        }
        let key = ObjectKey::of(obj);
        let live_key = LiveKey::of(obj);
        wanted.insert(live_key.clone());
        let ours = tracking_id(app, &key);
        let entry = cx.live.get(&live_key);
        let mut state = ResourceState {
            key,
            sync: SyncState::OutOfSync,
            health: Some(Health::missing()),
            requires_pruning: false,
            ignore_extraneous: false,
            conflict: None,
            live: None,
            desired: Some(obj.clone()),
            diff: None,
            marks,
        };
        match entry {
            None => {}
            Some(e) if e.tracking.as_deref() != Some(ours.as_str()) => {
                state.health = None;
                state.conflict = Some(match e.tracking {
                    Some(other) => format!(
                        "{} exists and belongs to another app (tracking id `{other}`); it is not taken over",
                        state.key
                    ),
                    None => format!(
                        "{} exists and was not created by Sextant; it is not adopted. To let this app manage it: {}",
                        state.key,
                        cx.live.tracking().adopt_command(app, &state.key),
                    ),
                });
            }
            Some(e) => {
                if let Some(live) = e.object {
                    let diff = diff_live(obj, &live, &live_key, cx).await;
                    state.health = Some(health::assess(&live, cx.health));
                    if !diff.differs() {
                        state.sync = SyncState::Synced;
                    } else {
                        state.diff = Some(diff);
                    }
                    state.live = Some(live);
                }
            }
        }
        // An app that manages its own Application (an app-of-apps that
        // lists itself) does not judge its health by itself, as Argo CD.
        if is_own_application(app, &state.key) {
            state.health = None;
        }
        resources.push(state);
    }
    let tracking = cx.live.tracking();
    for live in cx.live.tracked_by(app) {
        let live_key = LiveKey::of(&live);
        if wanted.contains(&live_key) {
            continue;
        }
        if !tracking.is_owned_by(app, &live) || is_other_groups_app(&live) {
            continue;
        }
        // Hooks are never pruned as extraneous.
        let marks = marks_of(&live).unwrap_or_default();
        if marks.is_hook() {
            continue;
        }
        let key = ObjectKey::of(&live);
        resources.push(ResourceState {
            health: Some(health::assess(&live, cx.health)),
            key,
            sync: SyncState::OutOfSync,
            requires_pruning: true,
            ignore_extraneous: has_compare_option(&live, "IgnoreExtraneous"),
            conflict: None,
            live: Some(live),
            desired: None,
            diff: None,
            marks,
        });
    }
    Comparison {
        resources,
        hooks,
        denied: Vec::new(),
        excluded: Vec::new(),
    }
}

/// Whether `obj` carries `option` in its compare options annotation
/// (`sextant.dev/compare-options`, or Argo CD's spelling).
fn has_compare_option(obj: &Value, option: &str) -> bool {
    let annotations: Option<std::collections::BTreeMap<String, String>> = obj
        .pointer("/metadata/annotations")
        .and_then(|a| serde_json::from_value(a.clone()).ok());
    annotations::get(annotations.as_ref(), annotations::COMPARE_OPTIONS)
        .is_some_and(|v| v.split(',').any(|o| o.trim() == option))
}

/// Structural diff; when it finds a difference, ask the API server what
/// applying would give (remembered per live resourceVersion).
async fn diff_live(desired: &Value, live: &Value, key: &LiveKey, cx: &Context<'_>) -> ObjectDiff {
    let structural = diff_object(
        Input {
            desired: Some(desired),
            live: Some(live),
            predicted: None,
            fallback_reason: None,
            overlay: true,
        },
        cx.ignore,
    );
    if !structural.differs() {
        return structural;
    }
    let rv = live
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let dh = hash_of(desired);
    let predicted = match cx.predictions.get(key, dh, &rv) {
        Some(p) => p,
        None => match cx.kinds.apply(desired, true).await {
            Ok(p) => {
                let p = Arc::new(p);
                cx.predictions.put(key.clone(), dh, rv, p.clone());
                p
            }
            Err(_) => return structural,
        },
    };
    diff_object(
        Input {
            desired: Some(desired),
            live: Some(live),
            predicted: Some(&predicted),
            fallback_reason: None,
            overlay: true,
        },
        cx.ignore,
    )
}

/// An Application, ApplicationSet or AppProject of the API group this
/// process does not serve (Argo CD's, beside Sextant's): never pruned. Its
/// tracking id may name an app of ours — Argo CD's copy of an imported
/// child carries Argo CD's id, which Sextant reads as an alias — but it is
/// the other controller's object, and deleting it would take the other
/// installation's app (and, with its finalizer, its objects) away.
fn is_other_groups_app(live: &serde_json::Value) -> bool {
    let api_version = live
        .get("apiVersion")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default();
    let kind = live
        .get("kind")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default();
    matches!(kind, "Application" | "ApplicationSet" | "AppProject")
        && sextant_model::ApiGroup::is_known_api_version(api_version)
        && api_version != sextant_model::group::selected().api_version()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_other_groups_applications_are_never_pruned_anything_else_may_be() {
        let obj = |api: &str, kind: &str| serde_json::json!({"apiVersion": api, "kind": kind});
        // This process serves sextant.dev (the default).
        assert!(is_other_groups_app(&obj(
            "argoproj.io/v1alpha1",
            "Application"
        )));
        assert!(is_other_groups_app(&obj(
            "argoproj.io/v1alpha1",
            "AppProject"
        )));
        assert!(!is_other_groups_app(&obj(
            "sextant.dev/v1alpha1",
            "Application"
        )));
        assert!(!is_other_groups_app(&obj(
            "argoproj.io/v1alpha1",
            "Rollout"
        )));
        assert!(!is_other_groups_app(&obj("v1", "ConfigMap")));
    }
    use serde_json::json;

    fn state(obj: Value, health: Health) -> ResourceState {
        ResourceState {
            key: ObjectKey::of(&obj),
            sync: SyncState::Synced,
            health: Some(health),
            requires_pruning: false,
            ignore_extraneous: false,
            conflict: None,
            live: Some(Arc::new(obj.clone())),
            desired: Some(obj),
            diff: None,
            marks: Marks::default(),
        }
    }

    fn object(api_version: &str, kind: &str, name: &str, annotations: Value) -> Value {
        json!({"apiVersion": api_version, "kind": kind,
            "metadata": {"name": name, "namespace": "shop", "annotations": annotations}})
    }

    #[test]
    fn health_leaves_out_ignored_objects_and_child_apps_that_are_not_there() {
        let cronjob =
            |annotation: &str| object("batch/v1", "CronJob", "report", json!({annotation: "true"}));
        let web = state(
            object("apps/v1", "Deployment", "web", json!({})),
            Health::healthy("ok"),
        );
        for annotation in [
            "argocd.argoproj.io/ignore-healthcheck",
            "sextant.dev/ignore-healthcheck",
        ] {
            let cmp = Comparison {
                resources: vec![
                    web.clone(),
                    state(cronjob(annotation), Health::degraded("last run failed")),
                ],
                ..Comparison::default()
            };
            assert_eq!(cmp.health().status, HealthStatus::Healthy, "{annotation}");
        }
        let counted = Comparison {
            resources: vec![
                web.clone(),
                state(cronjob("other"), Health::degraded("last run failed")),
            ],
            ..Comparison::default()
        };
        assert_eq!(counted.health().status, HealthStatus::Degraded);

        let child = |api_version: &str, health: Health| {
            state(
                object(api_version, "Application", "child", json!({})),
                health,
            )
        };
        for api_version in ["argoproj.io/v1alpha1", "sextant.dev/v1alpha1"] {
            let cmp = Comparison {
                resources: vec![web.clone(), child(api_version, Health::missing())],
                ..Comparison::default()
            };
            assert_eq!(cmp.health().status, HealthStatus::Healthy, "{api_version}");
            let cmp = Comparison {
                resources: vec![web.clone(), child(api_version, Health::degraded("child"))],
                ..Comparison::default()
            };
            assert_eq!(cmp.health().status, HealthStatus::Degraded, "{api_version}");
        }
        let other = Comparison {
            resources: vec![web, child("example.com/v1", Health::missing())],
            ..Comparison::default()
        };
        assert_eq!(other.health().status, HealthStatus::Missing);
        let own = ObjectKey::of(&object(
            "argoproj.io/v1alpha1",
            "Application",
            "root",
            json!({}),
        ));
        assert!(is_own_application("root", &own));
        assert!(!is_own_application("child", &own));
    }
}
