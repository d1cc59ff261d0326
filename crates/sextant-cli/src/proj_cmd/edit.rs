//! The changes `sextant proj` makes to a project's spec: pure functions,
//! each saying what it did (or that there was nothing to do) so the
//! command can print it.

use sextant_model::application::ApplicationDestination;
use sextant_model::project::{AppProjectSpec, GroupKind, OrphanedResourceKey, SyncWindow};

/// What a change did.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The spec changed; the text says how.
    Changed(String),
    /// It already was so; the text says why nothing changed.
    Unchanged(String),
}

fn add_unique<T: PartialEq>(list: &mut Option<Vec<T>>, item: T) -> bool {
    let l = list.get_or_insert_with(Vec::new);
    if l.contains(&item) {
        return false;
    }
    l.push(item);
    true
}

fn remove_item<T: PartialEq>(list: &mut Option<Vec<T>>, item: &T) -> bool {
    let Some(l) = list else { return false };
    let before = l.len();
    l.retain(|x| x != item);
    let removed = l.len() != before;
    if l.is_empty() {
        *list = None;
    }
    removed
}

fn outcome(changed: bool, yes: String, no: String) -> Outcome {
    if changed {
        Outcome::Changed(yes)
    } else {
        Outcome::Unchanged(no)
    }
}

/// `add-source`.
pub fn add_source(spec: &mut AppProjectSpec, repo: &str) -> Outcome {
    outcome(
        add_unique(&mut spec.source_repos, repo.to_owned()),
        format!("added source repository {repo}"),
        format!("source repository {repo} is already allowed"),
    )
}

/// `remove-source`.
pub fn remove_source(spec: &mut AppProjectSpec, repo: &str) -> Outcome {
    outcome(
        remove_item(&mut spec.source_repos, &repo.to_owned()),
        format!("removed source repository {repo}"),
        format!("source repository {repo} was not in the list"),
    )
}

/// A destination from the command line: a server URL, or with
/// `by_name` a cluster name.
pub fn destination(cluster: &str, namespace: &str, by_name: bool) -> ApplicationDestination {
    let (server, name) = if by_name {
        (None, Some(cluster.to_owned()))
    } else {
        (Some(cluster.to_owned()), None)
    };
    ApplicationDestination {
        server,
        name,
        namespace: Some(namespace.to_owned()),
    }
}

fn show_destination(d: &ApplicationDestination) -> String {
    let cluster = d
        .server
        .as_deref()
        .map(str::to_owned)
        .or_else(|| d.name.as_deref().map(|n| format!("cluster {n}")))
        .unwrap_or_default();
    format!(
        "{cluster} namespace {}",
        d.namespace.as_deref().unwrap_or_default()
    )
}

/// `add-destination`.
pub fn add_destination(spec: &mut AppProjectSpec, d: ApplicationDestination) -> Outcome {
    let text = show_destination(&d);
    outcome(
        add_unique(&mut spec.destinations, d),
        format!("added destination {text}"),
        format!("destination {text} is already allowed"),
    )
}

/// `remove-destination`.
pub fn remove_destination(spec: &mut AppProjectSpec, d: &ApplicationDestination) -> Outcome {
    let text = show_destination(d);
    outcome(
        remove_item(&mut spec.destinations, d),
        format!("removed destination {text}"),
        format!("destination {text} was not in the list"),
    )
}

/// Which list a kind rule goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ListKind {
    /// The whitelist.
    White,
    /// The blacklist.
    Black,
}

/// Cluster-scoped or namespaced kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// clusterResource*.
    Cluster,
    /// namespaceResource*.
    Namespace,
}

/// `allow-*-resource` (`allow`) and `deny-*-resource` (`!allow`): on the
/// whitelist, allowing adds and denying removes; on the blacklist,
/// allowing removes and denying adds.
pub fn kind_rule(
    spec: &mut AppProjectSpec,
    scope: Scope,
    list: ListKind,
    allow: bool,
    group: &str,
    kind: &str,
) -> Outcome {
    let gk = GroupKind {
        group: group.to_owned(),
        kind: kind.to_owned(),
    };
    let (field, name) = match (scope, list) {
        (Scope::Cluster, ListKind::White) => (
            &mut spec.cluster_resource_whitelist,
            "clusterResourceWhitelist",
        ),
        (Scope::Cluster, ListKind::Black) => (
            &mut spec.cluster_resource_blacklist,
            "clusterResourceBlacklist",
        ),
        (Scope::Namespace, ListKind::White) => (
            &mut spec.namespace_resource_whitelist,
            "namespaceResourceWhitelist",
        ),
        (Scope::Namespace, ListKind::Black) => (
            &mut spec.namespace_resource_blacklist,
            "namespaceResourceBlacklist",
        ),
    };
    let shown = format!("{group}/{kind}");
    let add = allow == (list == ListKind::White);
    if add {
        outcome(
            add_unique(field, gk),
            format!("added {shown} to {name}"),
            format!("{shown} is already in {name}"),
        )
    } else {
        outcome(
            remove_item(field, &gk),
            format!("removed {shown} from {name}"),
            format!("{shown} was not in {name}"),
        )
    }
}

/// `add-source-namespace` / `remove-source-namespace`.
pub fn source_namespace(spec: &mut AppProjectSpec, namespace: &str, add: bool) -> Outcome {
    if add {
        outcome(
            add_unique(&mut spec.source_namespaces, namespace.to_owned()),
            format!("Applications in namespace {namespace} may now use the project"),
            format!("namespace {namespace} is already a source namespace"),
        )
    } else {
        outcome(
            remove_item(&mut spec.source_namespaces, &namespace.to_owned()),
            format!("removed source namespace {namespace}"),
            format!("namespace {namespace} was not a source namespace"),
        )
    }
}

/// `add-orphaned-ignore` / `remove-orphaned-ignore` (turning monitoring on
/// when it was off).
pub fn orphaned_ignore(
    spec: &mut AppProjectSpec,
    group: &str,
    kind: &str,
    name: &str,
    add: bool,
) -> Outcome {
    let key = OrphanedResourceKey {
        group: group.to_owned(),
        kind: kind.to_owned(),
        name: name.to_owned(),
    };
    let settings = spec.orphaned_resources.get_or_insert_with(Default::default);
    let shown = format!(
        "{group}/{kind} {}",
        if name.is_empty() { "*" } else { name }
    );
    if add {
        outcome(
            add_unique(&mut settings.ignore, key),
            format!("orphaned {shown} objects are now ignored"),
            format!("orphaned {shown} objects were already ignored"),
        )
    } else {
        outcome(
            remove_item(&mut settings.ignore, &key),
            format!("orphaned {shown} objects are reported again"),
            format!("{shown} was not ignored"),
        )
    }
}

/// `windows add`: the window is checked as the controller reads it.
pub fn add_window(spec: &mut AppProjectSpec, window: SyncWindow) -> Result<Outcome, String> {
    sextant_engine::project::window_states(std::slice::from_ref(&window), chrono::Utc::now())
        .map_err(|e| e.replace("syncWindows[0]: ", ""))?;
    let list = spec.sync_windows.get_or_insert_with(Vec::new);
    list.push(window);
    Ok(Outcome::Changed(format!(
        "added sync window {}",
        list.len() - 1
    )))
}

/// The window with id `id`, or an error naming the ids there are.
pub fn window_mut(spec: &mut AppProjectSpec, id: usize) -> Result<&mut SyncWindow, String> {
    let count = spec.sync_windows.as_ref().map_or(0, Vec::len);
    spec.sync_windows
        .as_mut()
        .and_then(|l| l.get_mut(id))
        .ok_or_else(|| match count {
            0 => "the project has no sync windows".to_owned(),
            n => format!("no sync window {id}: the ids are 0 to {}", n - 1),
        })
}

/// `windows delete`.
pub fn delete_window(spec: &mut AppProjectSpec, id: usize) -> Result<Outcome, String> {
    window_mut(spec, id)?;
    if let Some(list) = spec.sync_windows.as_mut() {
        list.remove(id);
        if list.is_empty() {
            spec.sync_windows = None;
        }
    }
    Ok(Outcome::Changed(format!(
        "deleted sync window {id} (the windows after it moved up one id)"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_and_destinations_are_added_once_and_removed() {
        let mut spec = AppProjectSpec::default();
        assert!(matches!(
            add_source(&mut spec, "https://g/x"),
            Outcome::Changed(_)
        ));
        assert!(matches!(
            add_source(&mut spec, "https://g/x"),
            Outcome::Unchanged(_)
        ));
        assert_eq!(spec.source_repos, Some(vec!["https://g/x".to_string()]));
        assert!(matches!(
            remove_source(&mut spec, "https://g/x"),
            Outcome::Changed(_)
        ));
        assert_eq!(spec.source_repos, None);
        let d = destination("staging", "web", true);
        assert!(
            matches!(add_destination(&mut spec, d.clone()), Outcome::Changed(m) if m.contains("cluster staging"))
        );
        assert!(matches!(
            add_destination(&mut spec, d.clone()),
            Outcome::Unchanged(_)
        ));
        assert!(matches!(
            remove_destination(&mut spec, &d),
            Outcome::Changed(_)
        ));
        assert!(matches!(
            remove_destination(&mut spec, &d),
            Outcome::Unchanged(_)
        ));
    }

    #[test]
    fn allow_and_deny_work_on_either_list() {
        let mut spec = AppProjectSpec::default();
        kind_rule(
            &mut spec,
            Scope::Cluster,
            ListKind::White,
            true,
            "",
            "Namespace",
        );
        assert_eq!(
            spec.cluster_resource_whitelist.as_ref().map(Vec::len),
            Some(1)
        );
        kind_rule(
            &mut spec,
            Scope::Cluster,
            ListKind::White,
            false,
            "",
            "Namespace",
        );
        assert_eq!(spec.cluster_resource_whitelist, None);
        // Denying on the blacklist adds.
        let o = kind_rule(
            &mut spec,
            Scope::Namespace,
            ListKind::Black,
            false,
            "",
            "Secret",
        );
        assert_eq!(
            o,
            Outcome::Changed("added /Secret to namespaceResourceBlacklist".into())
        );
        assert_eq!(
            spec.namespace_resource_blacklist.as_ref().map(Vec::len),
            Some(1)
        );
    }

    #[test]
    fn windows_are_checked_when_added_and_found_by_id() {
        let mut spec = AppProjectSpec::default();
        let bad = SyncWindow {
            kind: "deny".into(),
            schedule: "nightly".into(),
            duration: "1h".into(),
            ..Default::default()
        };
        assert!(add_window(&mut spec, bad).is_err_and(|e| e.contains("schedule")));
        let good = SyncWindow {
            schedule: "0 22 * * *".into(),
            ..SyncWindow {
                kind: "deny".into(),
                duration: "1h".into(),
                ..Default::default()
            }
        };
        assert!(add_window(&mut spec, good).is_ok());
        assert!(window_mut(&mut spec, 1).is_err_and(|e| e.contains("0 to 0")));
        assert!(delete_window(&mut spec, 0).is_ok());
        assert_eq!(spec.sync_windows, None);
    }
}
