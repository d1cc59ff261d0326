//! What a set does to its Applications: create the new ones, update the
//! changed ones, delete the ones no parameter set makes any more, as its
//! policy allows, leaving alone the fields it is told to ignore.

use std::collections::BTreeMap;

use serde_json::Value;
use sextant_model::ApplicationSpec;
use sextant_model::appset::ApplicationSetSpec;

/// `syncPolicy.applicationsSync`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Create, update and delete (the default).
    Sync,
    /// Create only.
    CreateOnly,
    /// Create and update, never delete.
    CreateUpdate,
    /// Create and delete, never update.
    CreateDelete,
}

impl Policy {
    /// Read a set's policy.
    pub fn of(spec: &ApplicationSetSpec) -> Result<Self, String> {
        match spec
            .sync_policy
            .as_ref()
            .and_then(|p| p.applications_sync.as_deref())
            .map(str::trim)
        {
            None | Some("") | Some("sync") => Ok(Policy::Sync),
            Some("create-only") => Ok(Policy::CreateOnly),
            Some("create-update") => Ok(Policy::CreateUpdate),
            Some("create-delete") => Ok(Policy::CreateDelete),
            Some(other) => Err(format!(
                "syncPolicy.applicationsSync `{other}` is not one of sync, create-only, create-update, create-delete"
            )),
        }
    }

    fn updates(self) -> bool {
        matches!(self, Policy::Sync | Policy::CreateUpdate)
    }

    fn deletes(self) -> bool {
        matches!(self, Policy::Sync | Policy::CreateDelete)
    }
}

/// The changes, each a whole Application to apply or a name to delete.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// Applications to create.
    pub create: Vec<Value>,
    /// Applications to update (what to apply, ignored fields as they are).
    pub update: Vec<Value>,
    /// Owned Applications no set makes any more.
    pub delete: Vec<String>,
    /// Applications that are as they should be, or that the policy keeps
    /// as they are.
    pub unchanged: Vec<String>,
}

/// Compare the desired Applications with the ones the set owns now
/// (`existing`, whole objects as read from the cluster).
pub fn plan(
    spec: &ApplicationSetSpec,
    desired: Vec<Value>,
    existing: &[Value],
) -> Result<Plan, String> {
    let policy = Policy::of(spec)?;
    let ignored = ignored_pointers(spec)?;
    let by_name: BTreeMap<&str, &Value> = existing
        .iter()
        .filter_map(|a| Some((a["metadata"]["name"].as_str()?, a)))
        .collect();
    let mut plan = Plan::default();
    let mut wanted = std::collections::BTreeSet::new();
    for mut app in desired {
        let name = app["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        wanted.insert(name.clone());
        let Some(live) = by_name.get(name.as_str()) else {
            plan.create.push(app);
            continue;
        };
        if !policy.updates() {
            plan.unchanged.push(name);
            continue;
        }
        keep_live(&mut app, live, &name, &ignored, spec);
        if differs(&app, live) {
            plan.update.push(app);
        } else {
            plan.unchanged.push(name);
        }
    }
    if policy.deletes() {
        plan.delete = by_name
            .keys()
            .filter(|n| !wanted.contains(**n))
            .map(|n| (*n).to_owned())
            .collect();
    }
    Ok(plan)
}

/// (Application name or "" for all, JSON pointer).
fn ignored_pointers(spec: &ApplicationSetSpec) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for rule in &spec.ignore_application_differences {
        for p in &rule.json_pointers {
            out.push((rule.name.clone(), p.clone()));
        }
        for jq in &rule.jq_path_expressions {
            out.push((rule.name.clone(), jq_to_pointer(jq)?));
        }
    }
    Ok(out)
}

/// A jq path made of plain field names (`.spec.source.targetRevision`) as
/// a JSON pointer; other jq is refused with what is supported.
fn jq_to_pointer(jq: &str) -> Result<String, String> {
    let body = jq.trim().strip_prefix('.').unwrap_or("");
    let fields: Vec<&str> = body.split('.').collect();
    let plain = !body.is_empty()
        && fields.iter().all(|f| {
            !f.is_empty()
                && f.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        });
    if !plain {
        return Err(format!(
            "ignoreApplicationDifferences: jq expression `{jq}` is not supported; use a path of field names (.spec.source.targetRevision) or jsonPointers"
        ));
    }
    Ok(fields.iter().map(|f| format!("/{f}")).collect())
}

/// Take the live values of ignored fields and preserved labels and
/// annotations into `app`, so applying it leaves them as they are.
fn keep_live(
    app: &mut Value,
    live: &Value,
    name: &str,
    ignored: &[(String, String)],
    spec: &ApplicationSetSpec,
) {
    for (only, pointer) in ignored {
        if !only.is_empty() && only != name {
            continue;
        }
        match live.pointer(pointer) {
            Some(v) => set_pointer(app, pointer, v.clone()),
            None => remove_pointer(app, pointer),
        }
    }
    // Argo CD's defaults plus the set's own lists.
    let mut keep_annotations = vec!["notified.notifications.argoproj.io".to_owned()];
    let mut keep_labels = Vec::new();
    if let Some(p) = &spec.preserved_fields {
        keep_annotations.extend(p.annotations.iter().cloned());
        keep_labels.extend(p.labels.iter().cloned());
    }
    for (field, keys) in [("annotations", keep_annotations), ("labels", keep_labels)] {
        for key in keys {
            if let Some(v) = live["metadata"][field].get(&key) {
                if !app["metadata"][field].is_object() {
                    app["metadata"][field] = Value::Object(Default::default());
                }
                app["metadata"][field][&key] = v.clone();
            }
        }
    }
}

fn set_pointer(root: &mut Value, pointer: &str, v: Value) {
    let mut cur = root;
    let parts: Vec<String> = pointer.split('/').skip(1).map(unescape).collect();
    for (i, part) in parts.iter().enumerate() {
        if i + 1 == parts.len() {
            if let Value::Object(m) = cur {
                m.insert(part.clone(), v);
            }
            return;
        }
        if !cur.get(part).is_some_and(Value::is_object) {
            if let Value::Object(m) = cur {
                m.insert(part.clone(), Value::Object(Default::default()));
            } else {
                return;
            }
        }
        let Some(next) = cur.get_mut(part) else {
            return;
        };
        cur = next;
    }
}

fn remove_pointer(root: &mut Value, pointer: &str) {
    let Some((parent, last)) = pointer.rsplit_once('/') else {
        return;
    };
    if let Some(Value::Object(m)) = root.pointer_mut(parent) {
        m.remove(&unescape(last));
    }
}

fn unescape(s: &str) -> String {
    s.replace("~1", "/").replace("~0", "~")
}

/// Whether applying `app` would change `live`: its spec (both read as an
/// Application's, so defaults compare equal), its finalizers, and the
/// labels and annotations it sets (others' keys on the live object are
/// theirs).
fn differs(app: &Value, live: &Value) -> bool {
    let spec = |v: &Value| {
        serde_json::from_value::<ApplicationSpec>(v["spec"].clone())
            .ok()
            .and_then(|s| serde_json::to_value(s).ok())
    };
    if spec(app) != spec(live) {
        return true;
    }
    for field in ["labels", "annotations"] {
        if let Some(m) = app["metadata"][field].as_object()
            && m.iter()
                .any(|(k, v)| live["metadata"][field].get(k) != Some(v))
        {
            return true;
        }
    }
    let finalizers = |v: &Value| {
        v["metadata"]["finalizers"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    finalizers(app)
        .iter()
        .any(|f| !finalizers(live).contains(f))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn app(name: &str, rev: &str) -> Value {
        json!({
            "metadata": {"name": name, "labels": {"team": "a"}},
            "spec": {
                "project": "default",
                "source": {"repoURL": "https://g/r.git", "path": name, "targetRevision": rev},
                "destination": {"server": "https://kubernetes.default.svc", "namespace": name},
            },
        })
    }

    fn live(name: &str, rev: &str) -> Value {
        let mut a = app(name, rev);
        a["metadata"]["labels"]["extra"] = json!("someone else's");
        a["metadata"]["resourceVersion"] = json!("7");
        a["status"] = json!({"sync": {"status": "Synced"}});
        a
    }

    fn spec(policy: Option<&str>, extra: Value) -> ApplicationSetSpec {
        let mut v = json!({"generators": [], "template": {}});
        if let Some(p) = policy {
            v["syncPolicy"] = json!({"applicationsSync": p});
        }
        if let (Value::Object(m), Value::Object(e)) = (&mut v, extra) {
            m.extend(e);
        }
        serde_json::from_value(v).unwrap_or_default()
    }

    fn names(v: &[Value]) -> Vec<&str> {
        v.iter()
            .filter_map(|a| a["metadata"]["name"].as_str())
            .collect()
    }

    #[test]
    fn policies_table() {
        let desired = || {
            vec![
                app("new", "main"),
                app("changed", "v2"),
                app("same", "main"),
            ]
        };
        let existing = [
            live("changed", "v1"),
            live("same", "main"),
            live("gone", "main"),
        ];
        for (policy, create, update, delete) in [
            (None, vec!["new"], vec!["changed"], vec!["gone"]),
            (Some("sync"), vec!["new"], vec!["changed"], vec!["gone"]),
            (Some("create-only"), vec!["new"], vec![], vec![]),
            (Some("create-update"), vec!["new"], vec!["changed"], vec![]),
            (Some("create-delete"), vec!["new"], vec![], vec!["gone"]),
        ] {
            let p = plan(&spec(policy, json!({})), desired(), &existing).unwrap_or_default();
            assert_eq!(names(&p.create), create, "{policy:?} create");
            assert_eq!(names(&p.update), update, "{policy:?} update");
            assert_eq!(p.delete, delete, "{policy:?} delete");
        }
        assert!(plan(&spec(Some("sometimes"), json!({})), desired(), &existing).is_err());
    }

    #[test]
    fn ignored_differences_keep_the_live_value() {
        let s = spec(
            None,
            json!({"ignoreApplicationDifferences": [{"jsonPointers": ["/spec/source/targetRevision"]}]}),
        );
        let p = plan(&s, vec![app("a", "main")], &[live("a", "hotfix")]).unwrap_or_default();
        assert!(p.update.is_empty(), "{p:?}");
        assert_eq!(p.unchanged, vec!["a"]);

        let s = spec(
            None,
            json!({"ignoreApplicationDifferences": [{"name": "b", "jqPathExpressions": [".spec.source.targetRevision"]}]}),
        );
        let p = plan(
            &s,
            vec![app("a", "main"), app("b", "main")],
            &[live("a", "x"), live("b", "x")],
        )
        .unwrap_or_default();
        assert_eq!(names(&p.update), vec!["a"]);
        let bad = spec(
            None,
            json!({"ignoreApplicationDifferences": [{"jqPathExpressions": [".spec | keys"]}]}),
        );
        assert!(
            plan(&bad, vec![], &[])
                .unwrap_err()
                .contains("not supported")
        );
    }

    #[test]
    fn labels_of_others_and_defaults_are_no_change() {
        let mut desired = app("a", "main");
        desired["spec"]["project"] = json!("default");
        let mut l = live("a", "main");
        // What the API server and controller add.
        l["spec"]["source"]["directory"] = Value::Null;
        let p = plan(&spec(None, json!({})), vec![desired], &[l]).unwrap_or_default();
        assert!(p.update.is_empty(), "{p:?}");
    }
}
