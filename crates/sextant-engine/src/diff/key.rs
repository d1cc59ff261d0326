//! Which object a diff is about: group, version, kind, namespace and name,
//! printed the way the rest of Sextant names objects
//! (`Deployment.apps shop/web`).

use std::fmt;

use serde::Serialize;
use serde_json::Value;

/// The identity of an object.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ObjectKey {
    /// API group (`""` for the core group).
    pub group: String,
    /// Kind.
    pub kind: String,
    /// Namespace (`""` for cluster-scoped objects).
    pub namespace: String,
    /// Name.
    pub name: String,
    /// API version (`apps/v1`); not part of the identity, kept for
    /// printing.
    #[serde(rename = "apiVersion")]
    pub api_version: String,
}

impl ObjectKey {
    /// The key of an object; missing fields are empty.
    pub fn of(obj: &Value) -> Self {
        let text = |pointer: &str| {
            obj.pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let api_version = text("/apiVersion");
        Self {
            group: api_version
                .rsplit_once('/')
                .map_or("", |(g, _)| g)
                .to_owned(),
            kind: text("/kind"),
            namespace: text("/metadata/namespace"),
            name: text("/metadata/name"),
            api_version,
        }
    }

    /// The identity without the version, for matching objects across
    /// versions (group, kind, namespace, name).
    pub fn identity(&self) -> (&str, &str, &str, &str) {
        (&self.group, &self.kind, &self.namespace, &self.name)
    }

    /// `Kind` or `Kind.group`.
    pub fn group_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.clone()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }

    /// Whether the object is a core Secret (whose values are never shown).
    pub fn is_secret(&self) -> bool {
        self.group.is_empty() && self.kind == "Secret"
    }

    /// Whether the object is cluster-scoped (rendered objects carry a
    /// namespace exactly when they are namespaced).
    pub fn is_cluster_scoped(&self) -> bool {
        self.namespace.is_empty()
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{} {}", self.group_kind(), self.name)
        } else {
            write!(f, "{} {}/{}", self.group_kind(), self.namespace, self.name)
        }
    }
}
