//! RBAC in Argo CD's policy CSV format, enforced by casbin.
//!
//! The policy comes from the ConfigMap `sextant-rbac-cm` (Argo CD's
//! `argocd-rbac-cm` keys): `policy.csv` (and any `policy.<name>.csv`,
//! appended in name order), `policy.default` (a role every authenticated
//! user has). Lines are `p, SUBJECT, RESOURCE, ACTION, OBJECT, allow|deny`
//! and `g, USER, ROLE`; `*` and `?` glob in resource, action and object; a
//! deny wins over an allow. Two roles are built in: `role:readonly` (get
//! everything) and `role:admin` (everything; the `admin` account has it).
//!
//! Resources and their objects: `applications` and `applicationsets`
//! (`PROJECT/NAME`), `projects` (`NAME`), `repositories` (URL), `clusters`
//! (server URL), `accounts` (name), `logs`. Actions: `get`, `create`,
//! `update`, `delete`, `sync` (sync, rollback, terminate), `override`.

use std::collections::BTreeMap;

use casbin::function_map::{OperatorFunction, dynamic_to_str};
use casbin::prelude::*;

/// The casbin model: Argo CD's request shape with our glob matcher.
const MODEL: &str = r#"
[request_definition]
r = sub, res, act, obj

[policy_definition]
p = sub, res, act, obj, eft

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = g(r.sub, p.sub) && sextantGlob(r.res, p.res) && sextantGlob(r.act, p.act) && sextantGlob(r.obj, p.obj)
"#;

/// The roles every installation has.
pub const BUILTIN_POLICY: &str = "\
p, role:readonly, applications, get, */*, allow
p, role:readonly, applicationsets, get, */*, allow
p, role:readonly, projects, get, *, allow
p, role:readonly, repositories, get, *, allow
p, role:readonly, clusters, get, *, allow
p, role:readonly, accounts, get, *, allow
p, role:readonly, logs, get, */*, allow
p, role:admin, applications, *, */*, allow
p, role:admin, applicationsets, *, */*, allow
p, role:admin, projects, *, *, allow
p, role:admin, repositories, *, *, allow
p, role:admin, clusters, *, *, allow
p, role:admin, accounts, *, *, allow
p, role:admin, logs, *, */*, allow
g, role:admin, role:readonly
g, admin, role:admin
";

/// The ConfigMap the policy is read from (`sextant-rbac-cm`, or Argo CD's
/// `argocd-rbac-cm` under its group).
pub fn rbac_configmap() -> &'static str {
    sextant_model::group::selected().rbac_config_map()
}

/// Argo CD's policy wildcard (see [`sextant_model::glob`]).
pub fn glob(text: &str, pattern: &str) -> bool {
    sextant_model::glob::matches(text, pattern)
}

/// A policy ready to answer.
pub struct Policy {
    enforcer: Enforcer,
    default_role: Option<String>,
    /// `g` lines (member, role), built-in and the user's.
    grouping: Vec<(String, String)>,
    /// Problems found in the user's policy (lines skipped), for the
    /// settings endpoint and the log.
    pub problems: Vec<String>,
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policy")
            .field("default_role", &self.default_role)
            .field("problems", &self.problems)
            .finish_non_exhaustive()
    }
}

/// The rules that decide one subject's action on one kind of resource
/// (see [`Policy::scope`]): object patterns, each an allow or a deny.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    default_role: Option<Vec<(String, bool)>>,
    subject: Vec<(String, bool)>,
}

impl Scope {
    /// A scope that allows nothing (no policy loaded yet).
    pub fn none() -> Scope {
        Scope::default()
    }

    /// May the subject act on `object`? The same answer as
    /// [`Policy::allows`]: the default role's rules or the subject's own
    /// allow it (an allow matches and no deny does).
    pub fn allows(&self, object: &str) -> bool {
        let decide = |rules: &[(String, bool)]| {
            let mut allowed = false;
            for (pattern, allow) in rules {
                if glob(object, pattern) {
                    if !allow {
                        return false;
                    }
                    allowed = true;
                }
            }
            allowed
        };
        self.default_role.as_deref().is_some_and(decide) || decide(&self.subject)
    }
}

/// Check and normalise the user's CSV: keep well-formed `p` (4 or 5
/// fields; 4 means allow) and `g` (2 fields) lines, report the rest.
fn normalise(csv: &str) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut problems = Vec::new();
    for (n, raw) in csv.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let ok = match fields.first().copied() {
            Some("p") if fields.len() == 6 && matches!(fields[5], "allow" | "deny") => {
                out.push_str(&fields.join(", "));
                true
            }
            Some("p") if fields.len() == 5 => {
                out.push_str(&fields.join(", "));
                out.push_str(", allow");
                true
            }
            Some("g") if fields.len() == 3 => {
                out.push_str(&fields.join(", "));
                true
            }
            _ => false,
        };
        if ok {
            out.push('\n');
        } else {
            problems.push(format!(
                "line {}: `{line}` is not `p, SUBJECT, RESOURCE, ACTION, OBJECT, allow|deny` or `g, USER, ROLE`; skipped",
                n + 1
            ));
        }
    }
    (out, problems)
}

impl Policy {
    /// The policy of a `sextant-rbac-cm` ConfigMap's data (empty: only
    /// the built-in roles).
    pub async fn from_configmap(
        data: &BTreeMap<String, String>,
    ) -> std::result::Result<Policy, String> {
        let mut csv = String::new();
        if let Some(main) = data.get("policy.csv") {
            csv.push_str(main);
            csv.push('\n');
        }
        for (key, value) in data {
            if key.starts_with("policy.") && key.ends_with(".csv") && key != "policy.csv" {
                csv.push_str(value);
                csv.push('\n');
            }
        }
        let default_role = data
            .get("policy.default")
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty());
        Policy::new(&csv, default_role).await
    }

    /// The built-in roles plus `csv`.
    pub async fn new(
        csv: &str,
        default_role: Option<String>,
    ) -> std::result::Result<Policy, String> {
        let (user, problems) = normalise(csv);
        let text = format!("{BUILTIN_POLICY}{user}");
        let grouping = text
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split(',').map(str::trim).collect();
                (f.len() == 3 && f[0] == "g").then(|| (f[1].to_owned(), f[2].to_owned()))
            })
            .collect();
        let model = DefaultModel::from_str(MODEL)
            .await
            .map_err(|e| format!("the RBAC model does not load: {e}"))?;
        let adapter = StringAdapter::new(text);
        let mut enforcer = Enforcer::new(model, adapter)
            .await
            .map_err(|e| format!("the RBAC policy does not load: {e}"))?;
        enforcer.add_function(
            "sextantGlob",
            OperatorFunction::Arg2(|a, b| glob(&dynamic_to_str(&a), &dynamic_to_str(&b)).into()),
        );
        Ok(Policy {
            enforcer,
            default_role,
            grouping,
            problems,
        })
    }

    /// May `subject` do `action` on `resource` `object`?
    pub fn allows(&self, subject: &str, resource: &str, action: &str, object: &str) -> bool {
        let ask = |sub: &str| {
            self.enforcer
                .enforce((sub, resource, action, object))
                .unwrap_or(false)
        };
        self.default_role.as_deref().is_some_and(ask) || ask(subject)
    }

    /// Every rule that can decide `action` on `resource` for `subject`
    /// (and for the default role), so that many objects can be checked
    /// without casbin: a list of 10,000 apps asked casbin 10,000 times,
    /// each evaluating the matcher script over every policy line, and
    /// spent 85-90 % of its time there (`cargo bench -p sextant-cli
    /// --bench api`). The rules and role links are casbin's own (as it
    /// loaded them); what [`Scope::allows`] does per object is the
    /// model's matcher on the object (`sextantGlob`) and its effect
    /// (an allow and no deny), as [`Policy::allows`] decides.
    pub fn scope(&self, subject: &str, resource: &str, action: &str) -> Scope {
        let policy = self.enforcer.get_policy();
        let roles = self.enforcer.get_role_manager();
        let rules_of = |sub: &str| -> Vec<(String, bool)> {
            let roles = roles.read();
            policy
                .iter()
                .filter(|p| {
                    p.len() >= 5
                        && roles.has_link(sub, &p[0], None)
                        && glob(resource, &p[1])
                        && glob(action, &p[2])
                })
                .map(|p| (p[3].clone(), p[4] == "allow"))
                .collect()
        };
        Scope {
            default_role: self.default_role.as_deref().map(rules_of),
            subject: rules_of(subject),
        }
    }

    /// The roles `subject` has, directly or through other roles (and the
    /// default role).
    pub fn roles_of(&self, subject: &str) -> Vec<String> {
        let mut roles: Vec<String> = self.default_role.iter().cloned().collect();
        let mut todo = vec![subject.to_owned()];
        while let Some(member) = todo.pop() {
            for (m, role) in &self.grouping {
                if *m == member && !roles.contains(role) {
                    roles.push(role.clone());
                    todo.push(role.clone());
                }
            }
        }
        roles.sort();
        roles
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches_as_argo_cd_policies_expect() {
        assert!(glob("dev/web", "dev/*"));
        assert!(glob("dev/web", "*/*"));
        assert!(glob("dev/web", "*"));
        assert!(!glob("prod/web", "dev/*"));
        assert!(glob("action/apps/Deployment/restart", "action/*"));
        assert!(glob("sync", "s?nc"));
        assert!(!glob("sync", "get"));
        assert!(glob("", "*"));
        assert!(!glob("a", ""));
        assert!(glob("[weird", "[weird"));
    }

    async fn policy(csv: &str, default: Option<&str>) -> Policy {
        match Policy::new(csv, default.map(str::to_owned)).await {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        }
    }

    #[tokio::test]
    async fn built_in_roles_and_user_policies_decide() {
        let p = policy(
            "p, role:dev, applications, sync, dev/*, allow\n\
             p, role:dev, applications, get, dev/*, allow\n\
             p, bob, applications, delete, */*, deny\n\
             g, alice, role:dev\n\
             g, bob, role:admin\n",
            None,
        )
        .await;
        assert!(p.allows("admin", "applications", "delete", "prod/web"));
        assert!(p.allows("alice", "applications", "sync", "dev/web"));
        assert!(!p.allows("alice", "applications", "sync", "prod/web"));
        assert!(!p.allows("alice", "projects", "get", "dev"));
        assert!(
            !p.allows("bob", "applications", "delete", "dev/web"),
            "deny wins"
        );
        assert!(p.allows("bob", "applications", "sync", "dev/web"));
        assert!(!p.allows("nobody", "applications", "get", "dev/web"));
    }

    #[tokio::test]
    async fn a_scope_decides_as_casbin_does() {
        let p = policy(
            "p, role:dev, applications, get, dev/*, allow\n\
             p, role:dev, applications, sync, dev/*, allow\n\
             p, role:dev, applications, *, dev/secret-*, deny\n\
             p, role:lead, applications, *, */web, allow\n\
             p, bob, applications, delete, */*, deny\n\
             p, carol, applications, get, prod/?pi, allow\n\
             p, \"dave\", applications, get, \"qa/*\", allow\n\
             p, role:guest, applications, get, default/*, allow\n\
             g, alice, role:dev\n\
             g, role:lead, role:dev\n\
             g, erin, role:lead\n\
             g, bob, role:admin\n\
             g, frank, role:readonly\n",
            Some("role:guest"),
        )
        .await;
        let subjects = [
            "admin", "alice", "bob", "carol", "dave", "erin", "frank", "nobody", "role:dev",
        ];
        let resources = ["applications", "projects", "logs"];
        let actions = ["get", "sync", "delete", "update"];
        let objects = [
            "dev/web",
            "dev/secret-db",
            "prod/web",
            "prod/api",
            "prod/apis",
            "qa/x",
            "default/web",
            "",
            "dev",
        ];
        let mut checked = 0;
        for sub in subjects {
            for res in resources {
                for act in actions {
                    let scope = p.scope(sub, res, act);
                    for obj in objects {
                        assert_eq!(
                            scope.allows(obj),
                            p.allows(sub, res, act, obj),
                            "{sub}, {res}, {act}, {obj}"
                        );
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 9 * 3 * 4 * 9);
        assert!(!Scope::none().allows("dev/web"));
    }

    #[tokio::test]
    async fn the_default_role_applies_to_everyone_and_bad_lines_are_reported() {
        let p = policy(
            "p, role:x, applications\ng, carol, role:readonly\n",
            Some("role:readonly"),
        )
        .await;
        assert!(p.allows("nobody", "applications", "get", "dev/web"));
        assert!(!p.allows("nobody", "applications", "sync", "dev/web"));
        assert_eq!(p.problems.len(), 1, "{:?}", p.problems);
        assert!(p.roles_of("carol").contains(&"role:readonly".to_owned()));
    }
}
