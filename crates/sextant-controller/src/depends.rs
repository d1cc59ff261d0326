//! `spec.dependsOn`: an automated sync of an app waits until the
//! Applications it names are Synced and Healthy (each at its own current
//! revision, with no sync under way). A name that does not exist, and a
//! cycle, are errors shown on the app (on every app of the cycle), never a
//! silent wait. A sync asked for by hand does not wait.

use std::collections::{BTreeMap, VecDeque};

use kube::api::Api;
use sextant_model::Application;

/// How many Applications a dependency walk reads at most.
const MAX_WALK: usize = 500;

/// Whether an app may sync automatically now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Readiness {
    /// Every dependency is Synced and Healthy (or there are none).
    Ready,
    /// Some are not yet; the message names them and their state.
    Waiting(String),
    /// A dependency does not exist, or the dependencies form a cycle.
    Broken(String),
}

/// The names `app` depends on.
pub(crate) fn names(app: &Application) -> Vec<String> {
    app.spec
        .depends_on
        .iter()
        .flatten()
        .map(|d| d.name.trim().to_owned())
        .filter(|n| !n.is_empty())
        .collect()
}

/// Read the apps reachable through dependsOn from `app` and judge.
pub(crate) async fn check(
    api: &Api<Application>,
    app: &Application,
) -> Result<Readiness, kube::Error> {
    let me = app.metadata.name.clone().unwrap_or_default();
    let mut known: BTreeMap<String, Option<Application>> = BTreeMap::new();
    known.insert(me.clone(), Some(app.clone()));
    let mut queue: VecDeque<String> = names(app).into();
    while let Some(name) = queue.pop_front() {
        if known.contains_key(&name) || known.len() >= MAX_WALK {
            continue;
        }
        let found = api.get_opt(&name).await?;
        if let Some(a) = &found {
            queue.extend(names(a));
        }
        known.insert(name, found);
    }
    let namespace = app.metadata.namespace.clone().unwrap_or_default();
    Ok(judge(&me, &known, &namespace))
}

/// The verdict for `me` given the apps read (`None`: does not exist).
pub(crate) fn judge(
    me: &str,
    apps: &BTreeMap<String, Option<Application>>,
    namespace: &str,
) -> Readiness {
    let deps_of = |n: &str| -> Vec<String> {
        apps.get(n)
            .and_then(|a| a.as_ref())
            .map(names)
            .unwrap_or_default()
    };
    if let Some(cycle) = cycle_through(me, &deps_of) {
        return Readiness::Broken(format!(
            "spec.dependsOn forms a cycle: {}; no app of it syncs automatically until one of them drops its dependency",
            cycle.join(" -> ")
        ));
    }
    let mine = deps_of(me);
    let missing: Vec<&str> = mine
        .iter()
        .filter(|d| apps.get(d.as_str()).is_none_or(Option::is_none))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        return Readiness::Broken(format!(
            "spec.dependsOn names Applications that do not exist in namespace {namespace}: {}; create them or remove them from spec.dependsOn",
            missing.join(", ")
        ));
    }
    let waiting: Vec<String> = mine
        .iter()
        .filter_map(|d| {
            let a = apps.get(d.as_str())?.as_ref()?;
            let (ready, state) = state_of(a);
            (!ready).then(|| format!("{d} ({state})"))
        })
        .collect();
    if waiting.is_empty() {
        Readiness::Ready
    } else {
        Readiness::Waiting(format!(
            "automated sync waits for its dependencies to be Synced and Healthy: {}",
            waiting.join(", ")
        ))
    }
}

/// Whether `a` is Synced and Healthy with no sync under way, and its state
/// in words.
fn state_of(a: &Application) -> (bool, String) {
    let st = a.status.as_ref();
    let sync = st
        .and_then(|s| s.sync.as_ref())
        .map_or("Unknown", |s| s.status.as_str());
    let health = st
        .and_then(|s| s.health.as_ref())
        .map_or("Unknown", |h| h.status.as_str());
    let syncing = a.operation.is_some()
        || st
            .and_then(|s| s.operation_state.as_ref())
            .is_some_and(|o| matches!(o.phase.as_str(), "Running" | "Terminating"));
    let ready = sync == "Synced" && health == "Healthy" && !syncing;
    let state = if syncing {
        format!("{sync}/{health}, syncing")
    } else {
        format!("{sync}/{health}")
    };
    (ready, state)
}

/// A path of dependencies from `start` back to itself, if there is one.
fn cycle_through(start: &str, deps_of: &dyn Fn(&str) -> Vec<String>) -> Option<Vec<String>> {
    // Depth-first, remembering the path; each app is expanded once.
    let mut expanded = std::collections::BTreeSet::new();
    let mut stack: Vec<(String, Vec<String>)> = vec![(start.to_owned(), vec![start.to_owned()])];
    while let Some((node, path)) = stack.pop() {
        for next in deps_of(&node) {
            if next == start {
                let mut cycle = path.clone();
                cycle.push(next);
                return Some(cycle);
            }
            if expanded.insert(next.clone()) {
                let mut p = path.clone();
                p.push(next.clone());
                stack.push((next, p));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn app(name: &str, deps: &[&str], sync: &str, health: &str) -> Application {
        let deps: Vec<_> = deps.iter().map(|d| json!({"name": d})).collect();
        serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": "sextant"},
            "spec": {"destination": {}, "dependsOn": deps},
            "status": {"sync": {"status": sync}, "health": {"status": health}},
        }))
        .unwrap_or_default()
    }

    fn world(apps: &[Application]) -> BTreeMap<String, Option<Application>> {
        apps.iter()
            .map(|a| (a.metadata.name.clone().unwrap_or_default(), Some(a.clone())))
            .collect()
    }

    #[test]
    fn table() {
        let ready = |n: &str| app(n, &[], "Synced", "Healthy");
        let cases: Vec<(&str, Vec<Application>, &str)> = vec![
            (
                "no deps",
                vec![app("web", &[], "OutOfSync", "Missing")],
                "ready",
            ),
            (
                "dep ready",
                vec![app("web", &["db"], "OutOfSync", "Missing"), ready("db")],
                "ready",
            ),
            (
                "dep progressing",
                vec![
                    app("web", &["db"], "OutOfSync", "Missing"),
                    app("db", &[], "Synced", "Progressing"),
                ],
                "waiting: db (Synced/Progressing)",
            ),
            (
                "dep out of sync",
                vec![
                    app("web", &["db", "cache"], "OutOfSync", "Missing"),
                    ready("cache"),
                    app("db", &[], "OutOfSync", "Healthy"),
                ],
                "waiting: db (OutOfSync/Healthy)",
            ),
            (
                "missing",
                vec![app("web", &["db"], "OutOfSync", "Missing")],
                "broken: do not exist in namespace sextant: db",
            ),
            (
                "cycle",
                vec![
                    app("web", &["db"], "Synced", "Healthy"),
                    app("db", &["queue"], "Synced", "Healthy"),
                    app("queue", &["web"], "Synced", "Healthy"),
                ],
                "broken: cycle: web -> db -> queue -> web",
            ),
            (
                "cycle further down is not mine",
                vec![
                    app("web", &["db"], "OutOfSync", "Missing"),
                    app("db", &["queue"], "Synced", "Healthy"),
                    app("queue", &["db"], "Synced", "Healthy"),
                ],
                "ready",
            ),
        ];
        for (what, apps, want) in cases {
            let mut w = world(&apps);
            if what == "missing" {
                w.insert("db".into(), None);
            }
            let got = judge("web", &w, "sextant");
            let ok = match (&got, want.split_once(": ")) {
                (Readiness::Ready, None) => want == "ready",
                (Readiness::Waiting(m), Some(("waiting", rest))) => m.ends_with(rest),
                (Readiness::Broken(m), Some(("broken", rest))) => m.contains(rest),
                _ => false,
            };
            assert!(ok, "{what}: got {got:?}, want {want}");
        }
    }

    #[test]
    fn a_dependency_under_sync_is_not_ready() {
        let mut db = app("db", &[], "Synced", "Healthy");
        if let Some(s) = db.status.as_mut() {
            s.operation_state = serde_json::from_value(
                json!({"phase": "Running", "operation": {}, "startedAt": "x"}),
            )
            .ok();
        }
        let w = world(&[app("web", &["db"], "OutOfSync", "Missing"), db]);
        assert!(
            matches!(judge("web", &w, "sextant"), Readiness::Waiting(m) if m.contains("syncing"))
        );
    }
}
