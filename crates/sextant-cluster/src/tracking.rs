//! How a live object is known as an app's: Argo CD's three tracking
//! methods, chosen by `application.resourceTrackingMethod` in the settings
//! ConfigMap (`argocd-cm` / `sextant-cm`).
//!
//! - `annotation` (the default): the tracking annotation holds
//!   `<app>:<group>/<kind>:<namespace>/<name>`. An object is the app's only
//!   when the id is the one the app gives that very object, so a copy (a
//!   ReplicaSet that inherited its Deployment's annotations, an object
//!   duplicated by hand) is never taken over.
//! - `label`: the instance label (`app.kubernetes.io/instance`, or
//!   `application.instanceLabelKey`) holds the app's name. This is what Argo
//!   CD 2.x did by default, so objects it deployed carry only the label.
//! - `annotation+label`: tracked by the annotation; the label is written
//!   too, for tools that select on it.
//!
//! Every reader turns an object into the same tracking id (synthesised from
//! the label in label mode), so the rest of Sextant has one notion of
//! ownership whatever the method.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Value};
use sextant_engine::diff::ObjectKey;

/// The label Argo CD (and Helm charts) use for the instance name.
pub const DEFAULT_INSTANCE_LABEL: &str = "app.kubernetes.io/instance";
/// The settings key that picks the method.
pub const METHOD_KEY: &str = "application.resourceTrackingMethod";
/// The settings key that renames the instance label.
pub const LABEL_KEY: &str = "application.instanceLabelKey";
/// Label values are at most this long (Kubernetes' limit).
const LABEL_VALUE_MAX: usize = 63;

/// Argo CD's tracking methods.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TrackingMethod {
    /// The tracking-id annotation.
    #[default]
    Annotation,
    /// The instance label.
    Label,
    /// The annotation, with the label written too.
    AnnotationAndLabel,
}

impl FromStr for TrackingMethod {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "annotation" | "" => Ok(Self::Annotation),
            "label" => Ok(Self::Label),
            "annotation+label" => Ok(Self::AnnotationAndLabel),
            other => Err(format!(
                "{METHOD_KEY}: {other:?} is not a tracking method; use annotation, label or annotation+label"
            )),
        }
    }
}

impl fmt::Display for TrackingMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Annotation => "annotation",
            Self::Label => "label",
            Self::AnnotationAndLabel => "annotation+label",
        })
    }
}

/// One tracking configuration: the method and the names it uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracking {
    /// How objects are tracked.
    pub method: TrackingMethod,
    /// The tracking-id annotation (Sextant's or Argo CD's, per API group).
    pub annotation: String,
    /// Other annotations whose id is read when `annotation` is absent (never
    /// written): Argo CD's under Sextant's group, so what Argo CD deployed
    /// is the same app's once its Applications are imported.
    pub aliases: Vec<String>,
    /// The instance label.
    pub label: String,
}

impl Tracking {
    /// Annotation tracking under `annotation`, the default label.
    pub fn by_annotation(annotation: impl Into<String>) -> Self {
        Self {
            method: TrackingMethod::Annotation,
            annotation: annotation.into(),
            aliases: Vec::new(),
            label: DEFAULT_INSTANCE_LABEL.to_owned(),
        }
    }

    /// Also read the id from `alias` when the annotation is absent.
    pub fn with_alias(mut self, alias: impl Into<String>) -> Self {
        self.aliases.push(alias.into());
        self
    }

    /// The tracking the settings ConfigMap's data asks for, over the
    /// annotation name of the process's group. A value that cannot be read
    /// is a problem (naming its key) and leaves the default in place.
    pub fn from_settings(annotation: &str, data: &BTreeMap<String, String>) -> (Self, Vec<String>) {
        let mut tracking = Self::by_annotation(annotation);
        let mut problems = Vec::new();
        if let Some(m) = data.get(METHOD_KEY) {
            match m.parse() {
                Ok(method) => tracking.method = method,
                Err(e) => problems.push(e),
            }
        }
        if let Some(label) = data.get(LABEL_KEY).map(|l| l.trim()) {
            if is_label_key(label) {
                tracking.label = label.to_owned();
            } else {
                problems.push(format!(
                    "{LABEL_KEY}: {label:?} is not a label key (an optional DNS prefix and '/', then up to 63 letters, digits, '-', '_' or '.')"
                ));
            }
        }
        (tracking, problems)
    }

    /// The tracking id the app `app` gives the object `key` names.
    pub fn id(app: &str, key: &ObjectKey) -> String {
        format!(
            "{app}:{}/{}:{}/{}",
            key.group, key.kind, key.namespace, key.name
        )
    }

    /// The tracking id an object carries, from its annotations and labels
    /// and its own identity `key`: the annotation's value, or in label mode
    /// an id made from the label (which names only the app).
    pub fn id_from(
        &self,
        annotations: Option<&BTreeMap<String, String>>,
        labels: Option<&BTreeMap<String, String>>,
        key: impl FnOnce() -> ObjectKey,
    ) -> Option<String> {
        match self.method {
            TrackingMethod::Annotation | TrackingMethod::AnnotationAndLabel => {
                let a = annotations?;
                std::iter::once(&self.annotation)
                    .chain(&self.aliases)
                    .find_map(|name| a.get(name))
                    .cloned()
            }
            TrackingMethod::Label => {
                let app = labels?.get(&self.label)?;
                (!app.is_empty()).then(|| Self::id(app, &key()))
            }
        }
    }

    /// [`Tracking::id_from`] of an object as JSON.
    pub fn id_of(&self, obj: &Value) -> Option<String> {
        let strings = |field: &str| -> Option<BTreeMap<String, String>> {
            let map = obj.pointer(&format!("/metadata/{field}"))?.as_object()?;
            Some(
                map.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                    .collect(),
            )
        };
        self.id_from(
            strings("annotations").as_ref(),
            strings("labels").as_ref(),
            || ObjectKey::of(obj),
        )
    }

    /// Whether `obj` is `app`'s: it carries exactly the id `app` gives it
    /// (label mode: the label names `app`).
    pub fn is_owned_by(&self, app: &str, obj: &Value) -> bool {
        match self.method {
            TrackingMethod::Label => obj
                .pointer("/metadata/labels")
                .and_then(|l| l.get(&self.label))
                .and_then(Value::as_str)
                .is_some_and(|v| !v.is_empty() && v == label_value(app)),
            _ => self.id_of(obj) == Some(Self::id(app, &ObjectKey::of(obj))),
        }
    }

    /// The app that owns `obj`, if any (its id must be the one that app
    /// gives this very object).
    pub fn owner_of(&self, obj: &Value) -> Option<String> {
        let id = self.id_of(obj)?;
        let app = app_of(&id)?;
        (Self::id(app, &ObjectKey::of(obj)) == id).then(|| app.to_owned())
    }

    /// Mark a desired object as `app`'s, the way the method says.
    pub fn mark(&self, app: &str, obj: &mut Value) {
        let id = Self::id(app, &ObjectKey::of(obj));
        let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) else {
            return;
        };
        if self.method != TrackingMethod::Label
            && let Some(annotations) = string_map(meta, "annotations")
        {
            annotations.insert(self.annotation.clone(), Value::String(id));
        }
        if self.method != TrackingMethod::Annotation
            && let Some(labels) = string_map(meta, "labels")
        {
            labels.insert(self.label.clone(), Value::String(label_value(app).into()));
        }
    }
}

impl Tracking {
    /// The command that lets `app` manage the existing object `key` names
    /// (for a refusal to adopt it).
    pub fn adopt_command(&self, app: &str, key: &ObjectKey) -> String {
        let namespace = if key.namespace.is_empty() {
            String::new()
        } else {
            format!(" -n {}", key.namespace)
        };
        let target = format!(
            "{} {}{namespace}",
            key.group_kind().to_lowercase(),
            key.name
        );
        match self.method {
            TrackingMethod::Label => {
                format!("kubectl label {target} {}={}", self.label, label_value(app))
            }
            _ => format!(
                "kubectl annotate {target} {}={}",
                self.annotation,
                Self::id(app, key)
            ),
        }
    }
}

/// The app an object's tracking id names (`app:group/kind:ns/name`).
pub fn app_of(tracking_id: &str) -> Option<&str> {
    tracking_id.split_once(':').map(|(app, _)| app)
}

/// The app name as a label value: Kubernetes allows 63 characters, so a
/// longer name is cut (as Argo CD does).
fn label_value(app: &str) -> &str {
    match app.char_indices().nth(LABEL_VALUE_MAX) {
        Some((i, _)) => app[..i].trim_end_matches(['-', '_', '.']),
        None => app,
    }
}

/// The map `metadata.<field>`, made (or, when it is not a map, replaced).
fn string_map<'a>(
    meta: &'a mut Map<String, Value>,
    field: &str,
) -> Option<&'a mut Map<String, Value>> {
    if !meta.get(field).is_some_and(Value::is_object) {
        meta.insert(field.to_owned(), Value::Object(Map::new()));
    }
    meta.get_mut(field).and_then(Value::as_object_mut)
}

/// A label key: `[prefix/]name`, the name 1–63 of `[A-Za-z0-9-_.]` starting
/// and ending alphanumeric, the prefix a DNS subdomain.
fn is_label_key(key: &str) -> bool {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    let alnum_ends = |s: &str| {
        s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
            && s.chars().last().is_some_and(|c| c.is_ascii_alphanumeric())
    };
    let name_ok = !name.is_empty()
        && name.len() <= 63
        && alnum_ends(name)
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    let prefix_ok = prefix.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 253
            && p.split('.').all(|part| {
                !part.is_empty()
                    && alnum_ends(part)
                    && part
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            })
    });
    name_ok && prefix_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ANNOTATION: &str = "argocd.argoproj.io/tracking-id";

    fn settings(pairs: &[(&str, &str)]) -> (Tracking, Vec<String>) {
        let data = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Tracking::from_settings(ANNOTATION, &data)
    }

    fn deployment() -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "annotations": {"a": "b"}}})
    }

    #[test]
    fn annotation_tracking_writes_and_reads_the_id_and_refuses_copies() {
        let t = Tracking::by_annotation(ANNOTATION);
        let mut d = deployment();
        t.mark("payments", &mut d);
        assert_eq!(
            d["metadata"]["annotations"][ANNOTATION],
            "payments:apps/Deployment:shop/web"
        );
        assert_eq!(d["metadata"]["annotations"]["a"], "b");
        assert!(d["metadata"].get("labels").is_none(), "no label written");
        assert!(t.is_owned_by("payments", &d));
        assert_eq!(t.owner_of(&d).as_deref(), Some("payments"));
        let mut copy = d.clone();
        copy["metadata"]["name"] = json!("web-copy");
        assert!(
            !t.is_owned_by("payments", &copy),
            "a copy's id names another object"
        );
        assert_eq!(t.owner_of(&copy), None);
        let mut labelled = deployment();
        labelled["metadata"]["labels"] = json!({DEFAULT_INSTANCE_LABEL: "payments"});
        assert!(
            !t.is_owned_by("payments", &labelled),
            "the label alone does not track"
        );
    }

    #[test]
    fn an_alias_is_read_when_the_annotation_is_absent_and_never_written() {
        let t = Tracking::by_annotation("sextant.dev/tracking-id").with_alias(ANNOTATION);
        let mut by_argo = deployment();
        by_argo["metadata"]["annotations"][ANNOTATION] = json!("payments:apps/Deployment:shop/web");
        assert!(t.is_owned_by("payments", &by_argo));
        t.mark("payments", &mut by_argo);
        assert_eq!(
            by_argo["metadata"]["annotations"]["sextant.dev/tracking-id"],
            "payments:apps/Deployment:shop/web"
        );
        let mut both = deployment();
        both["metadata"]["annotations"][ANNOTATION] = json!("payments:apps/Deployment:shop/web");
        both["metadata"]["annotations"]["sextant.dev/tracking-id"] =
            json!("orders:apps/Deployment:shop/web");
        assert_eq!(
            t.owner_of(&both).as_deref(),
            Some("orders"),
            "the annotation wins"
        );
    }

    #[test]
    fn label_tracking_reads_the_instance_label_and_writes_no_annotation() {
        let (t, problems) = settings(&[
            (METHOD_KEY, "label"),
            (LABEL_KEY, "argocd.argoproj.io/instance"),
        ]);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(t.method, TrackingMethod::Label);
        let mut d = deployment();
        t.mark("payments", &mut d);
        assert_eq!(
            d["metadata"]["labels"]["argocd.argoproj.io/instance"],
            "payments"
        );
        assert!(d["metadata"]["annotations"].get(ANNOTATION).is_none());
        assert!(t.is_owned_by("payments", &d));
        assert!(!t.is_owned_by("orders", &d));
        assert_eq!(
            t.id_of(&d).as_deref(),
            Some("payments:apps/Deployment:shop/web"),
            "the id is synthesised from the label"
        );
        let mut annotated = deployment();
        Tracking::by_annotation(ANNOTATION).mark("payments", &mut annotated);
        assert_eq!(
            t.id_of(&annotated),
            None,
            "label mode does not read the annotation"
        );
    }

    #[test]
    fn annotation_and_label_tracks_by_the_annotation_and_writes_both() {
        let (t, _) = settings(&[(METHOD_KEY, "annotation+label")]);
        let long = "a".repeat(70);
        let mut d = deployment();
        t.mark(&long, &mut d);
        assert_eq!(
            d["metadata"]["labels"][DEFAULT_INSTANCE_LABEL]
                .as_str()
                .map(str::len),
            Some(63),
            "a label value is cut at 63 characters"
        );
        assert!(
            t.is_owned_by(&long, &d),
            "the annotation keeps the whole name"
        );
        let mut label_only = deployment();
        label_only["metadata"]["labels"] = json!({DEFAULT_INSTANCE_LABEL: "payments"});
        assert!(!t.is_owned_by("payments", &label_only));
    }

    #[test]
    fn unreadable_settings_are_problems_naming_the_key_and_keep_the_default() {
        let (t, problems) = settings(&[(METHOD_KEY, "labels"), (LABEL_KEY, "not a key!")]);
        assert_eq!(t, Tracking::by_annotation(ANNOTATION));
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with(METHOD_KEY));
        assert!(problems[1].starts_with(LABEL_KEY));
        assert!(is_label_key("app.kubernetes.io/instance"));
        assert!(is_label_key("team"));
        assert!(!is_label_key("Example.com/x"));
        assert!(!is_label_key("x/-y"));
    }
}
