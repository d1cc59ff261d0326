//! `ignoreDifferences`, with Argo CD's field names: rules matched by group,
//! kind, name and namespace (`*` globs; an omitted field matches anything),
//! each removing from both sides the fields named by JSON pointers, the
//! fields jq path expressions select, and the fields owned (in the live
//! object's managedFields) by the named managers. An application's rules
//! and the system-wide rules both apply.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::fields::{managed_fields, remove_owned};
use super::jq::{JqError, JqPaths};
use super::key::ObjectKey;

/// One rule, as written in an Application's `spec.ignoreDifferences` or in
/// the system-wide settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IgnoreRule {
    /// API group (`apps`; `""` for the core group).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Kind (`Deployment`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Object name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Object namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// RFC 6901 pointers (`/spec/replicas`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub json_pointers: Vec<String>,
    /// jq path expressions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub jq_path_expressions: Vec<String>,
    /// Field managers whose fields are ignored (`kube-controller-manager`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub managed_fields_managers: Vec<String>,
}

/// A rule that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum IgnoreError {
    /// A JSON pointer is not one (it must be empty or start with `/`).
    #[error("ignoreDifferences: `{0}` is not a JSON pointer (it must start with `/`)")]
    Pointer(String),
    /// A jq expression does not compile.
    #[error("ignoreDifferences: jq path expression `{expression}` is invalid")]
    Jq {
        /// The expression.
        expression: String,
        /// jaq's report.
        #[source]
        source: JqError,
    },
}

#[derive(Debug)]
struct Compiled {
    rule: IgnoreRule,
    pointers: Vec<Vec<String>>,
    jq: Vec<JqPaths>,
}

/// The rules in force for a diff, compiled.
#[derive(Debug, Default)]
pub struct IgnoreDifferences {
    rules: Vec<Compiled>,
}

impl IgnoreDifferences {
    /// No rules.
    pub fn none() -> Self {
        Self::default()
    }

    /// Compile an application's rules together with the system-wide ones.
    pub fn new(app: &[IgnoreRule], system: &[IgnoreRule]) -> Result<Self, IgnoreError> {
        let rules = app
            .iter()
            .chain(system)
            .map(compile)
            .collect::<Result<_, _>>()?;
        Ok(Self { rules })
    }

    /// Whether there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Remove the ignored fields of the object `key` from both normalised
    /// sides. `live_raw` (the live object before normalisation) supplies
    /// managedFields.
    pub(crate) fn apply(
        &self,
        key: &ObjectKey,
        live_raw: Option<&Value>,
        mut live: Option<&mut Value>,
        mut target: Option<&mut Value>,
    ) {
        for c in self.rules.iter().filter(|c| matches(&c.rule, key)) {
            for side in [live.as_deref_mut(), target.as_deref_mut()]
                .into_iter()
                .flatten()
            {
                for pointer in &c.pointers {
                    remove_path(side, pointer);
                }
                for jq in &c.jq {
                    let mut paths: Vec<Vec<String>> = jq
                        .paths(side)
                        .into_iter()
                        .map(|p| p.iter().map(token).collect())
                        .collect();
                    // Later list items first, so earlier indices stay valid.
                    paths.sort_by(|a, b| compare_paths(b, a));
                    for path in &paths {
                        remove_path(side, path);
                    }
                }
                if !c.rule.managed_fields_managers.is_empty()
                    && let Some(live_raw) = live_raw
                {
                    for entry in managed_fields(live_raw) {
                        if c.rule
                            .managed_fields_managers
                            .iter()
                            .any(|m| m == entry.manager)
                        {
                            remove_owned(side, entry.fields);
                        }
                    }
                }
            }
        }
    }
}

impl IgnoreDifferences {
    /// For the sync option `RespectIgnoreDifferences=true`: make `desired`
    /// carry the live object's values of the fields these rules ignore
    /// (JSON pointers and jq paths; a field live does not have is left
    /// out), and leave out the fields the named managedFieldsManagers own,
    /// so applying it keeps what the cluster has there.
    pub fn keep_live(&self, key: &ObjectKey, live: &Value, desired: &mut Value) {
        for c in self.rules.iter().filter(|c| matches(&c.rule, key)) {
            let mut paths: Vec<Vec<String>> = c.pointers.clone();
            for jq in &c.jq {
                for side in [&*desired, live] {
                    paths.extend(
                        jq.paths(side)
                            .into_iter()
                            .map(|p| p.iter().map(token).collect::<Vec<String>>()),
                    );
                }
            }
            paths.sort_by(|a, b| compare_paths(b, a));
            paths.dedup();
            for path in &paths {
                match get_path(live, path) {
                    Some(v) => set_path(desired, path, v.clone()),
                    None => remove_path(desired, path),
                }
            }
            if !c.rule.managed_fields_managers.is_empty() {
                for entry in managed_fields(live) {
                    if c.rule
                        .managed_fields_managers
                        .iter()
                        .any(|m| m == entry.manager)
                    {
                        remove_owned(desired, entry.fields);
                    }
                }
            }
        }
    }
}

fn get_path<'v>(value: &'v Value, path: &[String]) -> Option<&'v Value> {
    path.iter().try_fold(value, |node, t| match node {
        Value::Object(m) => m.get(t),
        Value::Array(a) => a.get(t.parse::<usize>().ok()?),
        _ => None,
    })
}

/// Set `path` in `value`, creating objects on the way (not list items).
fn set_path(value: &mut Value, path: &[String], new: Value) {
    let Some((last, parents)) = path.split_last() else {
        *value = new;
        return;
    };
    let mut node = value;
    for t in parents {
        node = match node {
            Value::Object(m) => m
                .entry(t.clone())
                .or_insert_with(|| Value::Object(serde_json::Map::new())),
            Value::Array(a) => match t.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                Some(n) => n,
                None => return,
            },
            _ => return,
        };
    }
    match node {
        Value::Object(m) => {
            m.insert(last.clone(), new);
        }
        Value::Array(a) => {
            if let Some(slot) = last.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                *slot = new;
            }
        }
        _ => {}
    }
}

fn compile(rule: &IgnoreRule) -> Result<Compiled, IgnoreError> {
    let pointers = rule
        .json_pointers
        .iter()
        .map(|p| parse_pointer(p).ok_or_else(|| IgnoreError::Pointer(p.clone())))
        .collect::<Result<_, _>>()?;
    let jq = rule
        .jq_path_expressions
        .iter()
        .map(|e| {
            JqPaths::compile(e).map_err(|source| IgnoreError::Jq {
                expression: e.clone(),
                source,
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(Compiled {
        rule: rule.clone(),
        pointers,
        jq,
    })
}

/// Whether a rule applies to an object. An omitted field matches anything;
/// an empty kind, name or namespace does too (as in Argo CD), while an
/// empty group means the core group.
fn matches(rule: &IgnoreRule, key: &ObjectKey) -> bool {
    let m =
        |pattern: &Option<String>, value: &str| pattern.as_deref().is_none_or(|p| glob(p, value));
    let any_if_empty = |pattern: &Option<String>, value: &str| {
        pattern
            .as_deref()
            .is_none_or(|p| p.is_empty() || glob(p, value))
    };
    m(&rule.group, &key.group)
        && any_if_empty(&rule.kind, &key.kind)
        && any_if_empty(&rule.name, &key.name)
        && any_if_empty(&rule.namespace, &key.namespace)
}

/// `*` matches any run of characters; everything else matches itself.
fn glob(pattern: &str, value: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == value,
        Some((prefix, rest)) => {
            let Some(tail) = value.strip_prefix(prefix) else {
                return false;
            };
            (0..=tail.len())
                .filter(|i| tail.is_char_boundary(*i))
                .any(|i| glob(rest, &tail[i..]))
        }
    }
}

/// RFC 6901 tokens (`""` is the whole document: no tokens).
fn parse_pointer(pointer: &str) -> Option<Vec<String>> {
    if pointer.is_empty() {
        return Some(Vec::new());
    }
    let rest = pointer.strip_prefix('/')?;
    Some(
        rest.split('/')
            .map(|t| t.replace("~1", "/").replace("~0", "~"))
            .collect(),
    )
}

fn token(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Paths compared token by token, numbers as numbers.
fn compare_paths(a: &[String], b: &[String]) -> std::cmp::Ordering {
    for (x, y) in a.iter().zip(b) {
        let o = match (x.parse::<usize>(), y.parse::<usize>()) {
            (Ok(i), Ok(j)) => i.cmp(&j),
            _ => x.cmp(y),
        };
        if o.is_ne() {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

/// Remove the field or list item at `path` (the whole document cannot be
/// removed; an empty path is ignored).
fn remove_path(value: &mut Value, path: &[String]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut node = value;
    for t in parents {
        node = match node {
            Value::Object(m) => match m.get_mut(t) {
                Some(n) => n,
                None => return,
            },
            Value::Array(a) => match t.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                Some(n) => n,
                None => return,
            },
            _ => return,
        };
    }
    match node {
        Value::Object(m) => {
            m.remove(last);
        }
        Value::Array(a) => {
            if let Ok(i) = last.parse::<usize>()
                && i < a.len()
            {
                a.remove(i);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::{IgnoreRule, ObjectKey, glob, matches, parse_pointer};

    #[test]
    fn globs_match_prefixes_suffixes_and_everything() {
        assert!(glob("*", "anything"));
        assert!(glob("web-*", "web-1"));
        assert!(glob("*.example.com", "a.example.com"));
        assert!(!glob("web-*", "api-1"));
        assert!(glob("Deployment", "Deployment"));
    }

    #[test]
    fn empty_names_match_any_object_and_an_empty_group_means_the_core_group() {
        let key = |api_version: &str, kind: &str| ObjectKey {
            api_version: api_version.into(),
            group: api_version.rsplit_once('/').map_or("", |(g, _)| g).into(),
            kind: kind.into(),
            namespace: "shop".into(),
            name: "web".into(),
        };
        let rule = IgnoreRule {
            group: Some(String::new()),
            kind: Some("ConfigMap".into()),
            name: Some(String::new()),
            namespace: Some(String::new()),
            ..IgnoreRule::default()
        };
        assert!(matches(&rule, &key("v1", "ConfigMap")));
        assert!(!matches(&rule, &key("example.com/v1", "ConfigMap")));
        let any_group = IgnoreRule {
            kind: Some("ConfigMap".into()),
            ..IgnoreRule::default()
        };
        assert!(matches(&any_group, &key("example.com/v1", "ConfigMap")));
    }

    #[test]
    fn pointers_unescape_slashes_and_tildes() {
        assert_eq!(
            parse_pointer("/metadata/annotations/a~1b~0c"),
            Some(vec![
                "metadata".into(),
                "annotations".into(),
                "a/b~c".into()
            ])
        );
        assert_eq!(parse_pointer("spec"), None);
    }

    #[test]
    fn respecting_ignore_differences_keeps_live_values_of_ignored_fields() {
        use super::IgnoreDifferences;
        use serde_json::json;
        let rules: Vec<IgnoreRule> = serde_json::from_value(json!([
            {"group": "apps", "kind": "Deployment", "jsonPointers": ["/spec/replicas"]},
            {"group": "apps", "kind": "Deployment", "jqPathExpressions": [".metadata.labels.team"]},
            {"group": "apps", "kind": "Deployment", "jsonPointers": ["/spec/paused"]},
        ]))
        .unwrap();
        let ignore = IgnoreDifferences::new(&rules, &[]).unwrap();
        let mut desired = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"team": "git"}},
            "spec": {"replicas": 1, "paused": true, "template": {}}});
        let live = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"team": "ops"}},
            "spec": {"replicas": 7, "template": {}}});
        let key = ObjectKey::of(&desired);
        ignore.keep_live(&key, &live, &mut desired);
        assert_eq!(desired["spec"]["replicas"], 7, "live's value kept");
        assert_eq!(desired["metadata"]["labels"]["team"], "ops");
        assert!(
            desired["spec"].get("paused").is_none(),
            "absent live: left out"
        );
        // Other kinds are untouched.
        let mut cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "spec": {"replicas": 1}});
        let ckey = ObjectKey::of(&cm);
        ignore.keep_live(&ckey, &live, &mut cm);
        assert_eq!(cm["spec"]["replicas"], 1);
    }
}
