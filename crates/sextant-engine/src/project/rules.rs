//! What a project permits: source repositories, destinations, kinds and
//! the namespaces Applications may live in. Patterns are globs
//! (`sextant_model::glob`); a pattern starting with `!` denies what it
//! matches, whatever else allows it.

use sextant_model::glob;
use sextant_model::project::{AppProjectSpec, GroupKind};

/// Where an app deploys, with its cluster known by both server and name.
#[derive(Debug, Clone, Copy)]
pub struct Destination<'a> {
    /// The cluster's API server URL.
    pub server: &'a str,
    /// The cluster's name.
    pub name: &'a str,
    /// The namespace ("" for cluster-scoped objects only).
    pub namespace: &'a str,
}

/// Allowed when some plain pattern matches and no `!pattern` does.
fn allowed_by(patterns: &[String], matches: impl Fn(&str) -> bool) -> bool {
    let mut allowed = false;
    for p in patterns {
        match p.strip_prefix('!') {
            Some(denied) if matches(denied) => return false,
            Some(_) => {}
            None => allowed |= matches(p),
        }
    }
    allowed
}

/// A repository URL without the differences that do not name another
/// repository: case, a trailing `/` or `.git`.
fn normalized(url: &str) -> String {
    let u = url.trim().trim_end_matches('/').to_ascii_lowercase();
    u.strip_suffix(".git").map(str::to_owned).unwrap_or(u)
}

/// Whether `sourceRepos` lets the project's apps use `repo`.
pub fn repo_permitted(spec: &AppProjectSpec, repo: &str) -> bool {
    let patterns = spec.source_repos.as_deref().unwrap_or_default();
    allowed_by(patterns, |p| {
        glob::matches(repo, p) || glob::matches(&normalized(repo), &normalized(p))
    })
}

/// Whether `destinations` lets the project's apps deploy to `dest`. An
/// entry matches when its cluster (by server or by name) and its
/// namespace match; an entry with a `!` field denies what it matches.
pub fn destination_permitted(spec: &AppProjectSpec, dest: &Destination<'_>) -> bool {
    let mut allowed = false;
    for entry in spec.destinations.as_deref().unwrap_or_default() {
        let server = entry.server.as_deref().unwrap_or_default();
        let name = entry.name.as_deref().unwrap_or_default();
        let namespace = entry.namespace.as_deref().unwrap_or_default();
        let deny = [server, name, namespace].iter().any(|f| f.starts_with('!'));
        let bare = |f: &'_ str| f.trim_start_matches('!').to_owned();
        let (server, name, namespace) = (bare(server), bare(name), bare(namespace));
        let cluster = (!server.is_empty() && glob::matches(dest.server, &server))
            || (!name.is_empty() && glob::matches(dest.name, &name));
        let ns = glob::matches(dest.namespace, &namespace);
        if cluster && ns {
            if deny {
                return false;
            }
            allowed = true;
        }
    }
    allowed
}

/// Whether an Application in `namespace` may use the project: always in
/// the controller's own namespace, elsewhere when `sourceNamespaces`
/// lists it.
pub fn source_namespace_permitted(
    spec: &AppProjectSpec,
    namespace: &str,
    controller_namespace: &str,
) -> bool {
    namespace == controller_namespace
        || allowed_by(spec.source_namespaces.as_deref().unwrap_or_default(), |p| {
            glob::matches(namespace, p)
        })
}

fn listed(list: &[GroupKind], group: &str, kind: &str) -> bool {
    list.iter()
        .any(|gk| glob::matches(group, &gk.group) && glob::matches(kind, &gk.kind))
}

/// Why the project does not let its apps deploy objects of `group`/`kind`
/// (None: it does). Namespaced kinds are allowed unless a whitelist is set
/// and omits them, or the blacklist names them; cluster-scoped kinds only
/// when the cluster whitelist names them.
pub fn kind_denial(
    spec: &AppProjectSpec,
    group: &str,
    kind: &str,
    namespaced: bool,
) -> Option<String> {
    let gk = format!("{group}/{kind}");
    if namespaced {
        if let Some(white) = &spec.namespace_resource_whitelist
            && !listed(white, group, kind)
        {
            return Some(format!(
                "namespaced kind {gk} is not in the project's namespaceResourceWhitelist"
            ));
        }
        if listed(
            spec.namespace_resource_blacklist
                .as_deref()
                .unwrap_or_default(),
            group,
            kind,
        ) {
            return Some(format!(
                "namespaced kind {gk} is in the project's namespaceResourceBlacklist"
            ));
        }
    } else {
        if !listed(
            spec.cluster_resource_whitelist
                .as_deref()
                .unwrap_or_default(),
            group,
            kind,
        ) {
            return Some(format!(
                "cluster-scoped kind {gk} is not in the project's clusterResourceWhitelist"
            ));
        }
        if listed(
            spec.cluster_resource_blacklist
                .as_deref()
                .unwrap_or_default(),
            group,
            kind,
        ) {
            return Some(format!(
                "cluster-scoped kind {gk} is in the project's clusterResourceBlacklist"
            ));
        }
    }
    None
}

/// Everything about an app's own spec the project refuses: its
/// repositories, its destination and the namespace it lives in. Each
/// message says what to change.
pub fn app_violations(
    project: &str,
    spec: &AppProjectSpec,
    repos: &[&str],
    dest: &Destination<'_>,
    app_namespace: &str,
    controller_namespace: &str,
) -> Vec<String> {
    let mut out = Vec::new();
    for repo in repos {
        if !repo_permitted(spec, repo) {
            out.push(format!(
                "repository {repo} is not permitted in project {project}: add it to the project's sourceRepos (sextant proj add-source {project} {repo})"
            ));
        }
    }
    if !destination_permitted(spec, dest) {
        out.push(format!(
            "destination server {} (cluster {}) namespace {:?} is not permitted in project {project}: add it to the project's destinations (sextant proj add-destination {project} {} {})",
            dest.server,
            dest.name,
            dest.namespace,
            dest.server,
            if dest.namespace.is_empty() { "'*'" } else { dest.namespace },
        ));
    }
    if !source_namespace_permitted(spec, app_namespace, controller_namespace) {
        out.push(format!(
            "Applications in namespace {app_namespace} may not use project {project}: add the namespace to its sourceNamespaces"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use sextant_model::application::ApplicationDestination;

    fn strings(v: &[&str]) -> Option<Vec<String>> {
        Some(v.iter().map(|s| s.to_string()).collect())
    }

    fn dest(server: &str, name: &str, namespace: &str) -> ApplicationDestination {
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
        ApplicationDestination {
            server: opt(server),
            name: opt(name),
            namespace: opt(namespace),
        }
    }

    fn gk(group: &str, kind: &str) -> GroupKind {
        GroupKind {
            group: group.into(),
            kind: kind.into(),
        }
    }

    #[test]
    fn repositories_match_globs_and_negations_win() {
        let spec = AppProjectSpec {
            source_repos: strings(&["https://git.example.com/team-a/*", "!*/team-a/secret*"]),
            ..Default::default()
        };
        assert!(repo_permitted(
            &spec,
            "https://git.example.com/team-a/shop.git"
        ));
        assert!(!repo_permitted(
            &spec,
            "https://git.example.com/team-b/shop.git"
        ));
        assert!(!repo_permitted(
            &spec,
            "https://git.example.com/team-a/secrets.git"
        ));
        // Case, `.git` and a trailing slash do not make another repository.
        let exact = AppProjectSpec {
            source_repos: strings(&["https://Git.example.com/team-a/shop"]),
            ..Default::default()
        };
        assert!(repo_permitted(
            &exact,
            "https://git.example.com/team-a/shop.git/"
        ));
        // No sourceRepos: nothing.
        assert!(!repo_permitted(&AppProjectSpec::default(), "https://x/y"));
    }

    #[test]
    fn destinations_match_by_server_or_name_and_namespace() {
        let spec = AppProjectSpec {
            destinations: Some(vec![
                dest("https://prod-*.example.com", "", "shop-*"),
                dest("", "staging", "*"),
                dest("*", "", "!kube-system"),
            ]),
            ..Default::default()
        };
        let d = |server, name, namespace| Destination {
            server,
            name,
            namespace,
        };
        assert!(destination_permitted(
            &spec,
            &d("https://prod-1.example.com", "prod-1", "shop-web")
        ));
        assert!(!destination_permitted(
            &spec,
            &d("https://prod-1.example.com", "prod-1", "payments")
        ));
        assert!(destination_permitted(
            &spec,
            &d("https://10.0.0.9:6443", "staging", "anything")
        ));
        // A `!` entry denies even what another entry allows.
        assert!(!destination_permitted(
            &spec,
            &d("https://10.0.0.9:6443", "staging", "kube-system")
        ));
        assert!(!destination_permitted(
            &AppProjectSpec::default(),
            &d("https://kubernetes.default.svc", "in-cluster", "x")
        ));
    }

    #[test]
    fn kinds_follow_the_white_and_black_lists() {
        let open = AppProjectSpec::default();
        // Namespaced: allowed without a whitelist; cluster-scoped: never.
        assert_eq!(kind_denial(&open, "apps", "Deployment", true), None);
        assert!(
            kind_denial(&open, "", "Namespace", false)
                .is_some_and(|m| m.contains("clusterResourceWhitelist"))
        );
        let spec = AppProjectSpec {
            cluster_resource_whitelist: Some(vec![gk("*", "*")]),
            cluster_resource_blacklist: Some(vec![gk("rbac.authorization.k8s.io", "Cluster*")]),
            namespace_resource_whitelist: Some(vec![gk("apps", "*"), gk("", "ConfigMap")]),
            namespace_resource_blacklist: Some(vec![gk("apps", "DaemonSet")]),
            ..Default::default()
        };
        assert_eq!(kind_denial(&spec, "", "Namespace", false), None);
        assert!(
            kind_denial(&spec, "rbac.authorization.k8s.io", "ClusterRole", false)
                .is_some_and(|m| m.contains("clusterResourceBlacklist"))
        );
        assert_eq!(kind_denial(&spec, "apps", "Deployment", true), None);
        assert_eq!(kind_denial(&spec, "", "ConfigMap", true), None);
        assert!(
            kind_denial(&spec, "", "Secret", true)
                .is_some_and(|m| m.contains("namespaceResourceWhitelist"))
        );
        assert!(
            kind_denial(&spec, "apps", "DaemonSet", true)
                .is_some_and(|m| m.contains("namespaceResourceBlacklist"))
        );
        // An empty whitelist allows no namespaced kind at all.
        let none = AppProjectSpec {
            namespace_resource_whitelist: Some(vec![]),
            ..Default::default()
        };
        assert!(kind_denial(&none, "", "ConfigMap", true).is_some());
    }

    #[test]
    fn violations_name_what_to_change() {
        let spec = AppProjectSpec {
            source_repos: strings(&["https://git.example.com/*"]),
            destinations: Some(vec![dest("*", "", "team-a")]),
            source_namespaces: strings(&["apps-*"]),
            ..Default::default()
        };
        let d = Destination {
            server: "https://kubernetes.default.svc",
            name: "in-cluster",
            namespace: "team-b",
        };
        let v = app_violations(
            "team-a",
            &spec,
            &[
                "https://evil.example.org/x.git",
                "https://git.example.com/ok",
            ],
            &d,
            "elsewhere",
            "sextant",
        );
        assert_eq!(v.len(), 3, "{v:?}");
        assert!(v[0].contains("https://evil.example.org/x.git") && v[0].contains("add-source"));
        assert!(v[1].contains("team-b") && v[1].contains("add-destination"));
        assert!(v[2].contains("sourceNamespaces"));
        assert!(source_namespace_permitted(&spec, "apps-1", "sextant"));
        assert!(source_namespace_permitted(&spec, "sextant", "sextant"));
    }
}
