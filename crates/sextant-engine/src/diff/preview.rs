//! Preview: what a change to a repository does, app by app, with no
//! cluster: the objects rendered at the base and at the head revision are
//! matched by identity (group, kind, namespace, name) and diffed as they
//! are; added, removed and changed objects, new kinds, new cluster-scoped
//! objects and container image changes are called out. Printing is in
//! [`super::preview_format`].

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use super::{IgnoreDifferences, Input, ObjectDiff, ObjectKey, Outcome, diff_object};

/// A container whose image differs between base and head (or that comes or
/// goes with its object).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImageChange {
    /// The object holding the pod template.
    pub object: String,
    /// The container's name.
    pub container: String,
    /// The image at the base revision.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<String>,
    /// The image at the head revision.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<String>,
}

/// The preview of one app (or path).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppPreview {
    /// The app's name (its path when previewing paths).
    pub name: String,
    /// The path in the repository.
    pub path: String,
    /// Something worth knowing (e.g. "new at head").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Why the app could not be previewed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Diffs of the objects that differ (added, removed, changed).
    pub objects: Vec<ObjectDiff>,
    /// Objects the same at both revisions.
    pub unchanged: usize,
    /// `Kind` or `Kind.group` present at head and not at base.
    pub new_kinds: Vec<String>,
    /// Added objects that are cluster-scoped (a ClusterRole, a CRD, ...).
    pub new_cluster_scoped: Vec<String>,
    /// Container image changes.
    pub images: Vec<ImageChange>,
}

impl AppPreview {
    /// An app that could not be previewed.
    pub fn failed(name: &str, path: &str, error: String) -> Self {
        Self {
            name: name.to_owned(),
            path: path.to_owned(),
            error: Some(error),
            ..Self::default()
        }
    }

    /// How many objects have this outcome.
    pub fn count(&self, outcome: Outcome) -> usize {
        self.objects.iter().filter(|d| d.outcome == outcome).count()
    }
}

/// Compare the objects an app renders at base and at head. Secret values
/// are masked; `ignore` rules apply to both sides.
pub fn preview_app(
    name: &str,
    path: &str,
    base: &[Value],
    head: &[Value],
    ignore: &IgnoreDifferences,
) -> AppPreview {
    type Id = (String, String, String, String);
    let index = |objects: &[Value]| -> BTreeMap<Id, Value> {
        objects
            .iter()
            .map(|o| {
                let k = ObjectKey::of(o);
                ((k.group, k.kind, k.namespace, k.name), o.clone())
            })
            .collect()
    };
    let (old, new) = (index(base), index(head));
    let ids: BTreeSet<&Id> = old.keys().chain(new.keys()).collect();
    let mut out = AppPreview {
        name: name.to_owned(),
        path: path.to_owned(),
        ..AppPreview::default()
    };
    for id in ids {
        let (b, h) = (old.get(id), new.get(id));
        let d = diff_object(
            Input {
                desired: h,
                live: b,
                predicted: None,
                fallback_reason: None,
                overlay: false,
            },
            ignore,
        );
        out.images.extend(image_changes(&d.key, b, h));
        if d.outcome == Outcome::Added && d.key.is_cluster_scoped() {
            out.new_cluster_scoped.push(d.key.to_string());
        }
        if d.differs() {
            out.objects.push(d);
        } else {
            out.unchanged += 1;
        }
    }
    let kinds = |objects: &BTreeMap<Id, Value>| -> BTreeSet<String> {
        objects
            .values()
            .map(|o| ObjectKey::of(o).group_kind())
            .collect()
    };
    let old_kinds = kinds(&old);
    out.new_kinds = kinds(&new).difference(&old_kinds).cloned().collect();
    out
}

/// Containers of every pod template or pod spec in an object, by name.
fn containers(obj: &Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    collect(obj, &mut out);
    out
}

fn collect(v: &Value, out: &mut BTreeMap<String, String>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                if matches!(
                    k.as_str(),
                    "containers" | "initContainers" | "ephemeralContainers"
                ) && let Some(items) = child.as_array()
                {
                    for c in items {
                        if let (Some(name), Some(image)) = (
                            c.get("name").and_then(Value::as_str),
                            c.get("image").and_then(Value::as_str),
                        ) {
                            out.insert(name.to_owned(), image.to_owned());
                        }
                    }
                } else {
                    collect(child, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect(i, out)),
        _ => {}
    }
}

fn image_changes(key: &ObjectKey, base: Option<&Value>, head: Option<&Value>) -> Vec<ImageChange> {
    let old = base.map(containers).unwrap_or_default();
    let new = head.map(containers).unwrap_or_default();
    let names: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    names
        .into_iter()
        .filter(|n| old.get(*n) != new.get(*n))
        .map(|n| ImageChange {
            object: key.to_string(),
            container: n.clone(),
            old: old.get(n).cloned(),
            new: new.get(n).cloned(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::{IgnoreDifferences, Outcome, preview_app};

    fn deployment(image: &str) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"template": {"spec": {"initContainers": [{"name": "init", "image": "busybox"}],
                "containers": [{"name": "web", "image": image}]}}}})
    }

    #[test]
    fn added_removed_and_changed_objects_new_kinds_and_images_are_reported() {
        let service = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"}});
        let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "reader"}});
        let p = preview_app(
            "web",
            "apps/web",
            &[deployment("nginx:1.27"), service],
            &[deployment("nginx:1.28"), role],
            &IgnoreDifferences::none(),
        );
        assert_eq!(
            (
                p.count(Outcome::Added),
                p.count(Outcome::Removed),
                p.count(Outcome::Changed)
            ),
            (1, 1, 1)
        );
        assert_eq!(p.new_kinds, vec!["ClusterRole.rbac.authorization.k8s.io"]);
        assert_eq!(
            p.new_cluster_scoped,
            vec!["ClusterRole.rbac.authorization.k8s.io reader"]
        );
        assert_eq!(p.images.len(), 1);
        assert_eq!(p.images[0].container, "web");
        assert_eq!(p.images[0].old.as_deref(), Some("nginx:1.27"));
        assert_eq!(p.images[0].new.as_deref(), Some("nginx:1.28"));
    }

    #[test]
    fn identical_renders_preview_as_unchanged() {
        let objects = [deployment("a")];
        let p = preview_app("x", ".", &objects, &objects, &IgnoreDifferences::none());
        assert!(p.objects.is_empty() && p.images.is_empty() && p.new_kinds.is_empty());
        assert_eq!(p.unchanged, 1);
    }
}
