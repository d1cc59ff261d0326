//! Normalising objects: every object has `apiVersion`, `kind` and
//! `metadata.name` (or `generateName`), namespaced objects get the
//! destination namespace when they have none, cluster-scoped objects lose a
//! stray namespace. Scope comes from a built-in table of cluster-scoped
//! kinds plus the caller's extra kinds (the controller will use discovery).

use serde_json::{Map, Value};

/// An object that is not a usable Kubernetes object.
#[derive(Debug, thiserror::Error)]
pub enum NormalizeError {
    /// The document is not a mapping.
    #[error("`{origin}` document {document} is not an object")]
    NotAnObject {
        /// The file or tool output it came from.
        origin: String,
        /// 1-based document number.
        document: usize,
    },
    /// A required field is missing or not a string.
    #[error("`{origin}` document {document} has no {field}")]
    Missing {
        /// The file or tool output it came from.
        origin: String,
        /// 1-based document number.
        document: usize,
        /// The missing field.
        field: &'static str,
    },
}

/// Built-in cluster-scoped kinds, by (API group, kind).
const CLUSTER_SCOPED: &[(&str, &str)] = &[
    ("", "ComponentStatus"),
    ("", "Namespace"),
    ("", "Node"),
    ("", "PersistentVolume"),
    ("admissionregistration.k8s.io", "MutatingAdmissionPolicy"),
    (
        "admissionregistration.k8s.io",
        "MutatingAdmissionPolicyBinding",
    ),
    (
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
    ),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
    (
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicyBinding",
    ),
    (
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
    ),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("apiregistration.k8s.io", "APIService"),
    ("authentication.k8s.io", "SelfSubjectReview"),
    ("authentication.k8s.io", "TokenReview"),
    ("authorization.k8s.io", "SelfSubjectAccessReview"),
    ("authorization.k8s.io", "SelfSubjectRulesReview"),
    ("authorization.k8s.io", "SubjectAccessReview"),
    ("certificates.k8s.io", "CertificateSigningRequest"),
    ("certificates.k8s.io", "ClusterTrustBundle"),
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
    ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
    ("internal.apiserver.k8s.io", "StorageVersion"),
    ("networking.k8s.io", "IPAddress"),
    ("networking.k8s.io", "IngressClass"),
    ("networking.k8s.io", "ServiceCIDR"),
    ("node.k8s.io", "RuntimeClass"),
    ("policy", "PodSecurityPolicy"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("resource.k8s.io", "DeviceClass"),
    ("resource.k8s.io", "ResourceSlice"),
    ("scheduling.k8s.io", "PriorityClass"),
    ("storage.k8s.io", "CSIDriver"),
    ("storage.k8s.io", "CSINode"),
    ("storage.k8s.io", "StorageClass"),
    ("storage.k8s.io", "VolumeAttachment"),
    ("storage.k8s.io", "VolumeAttributesClass"),
    ("storagemigration.k8s.io", "StorageVersionMigration"),
];

/// Which kinds are cluster-scoped.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    /// Extra kinds, as `Kind` (any group) or `Kind.group`.
    extra: Vec<String>,
}

impl Scope {
    /// The built-in table plus `extra` kinds (`Kind` or `Kind.group`).
    pub fn new(extra: &[String]) -> Self {
        Self {
            extra: extra.to_vec(),
        }
    }

    /// Whether objects of this group and kind are cluster-scoped.
    pub fn is_cluster_scoped(&self, group: &str, kind: &str) -> bool {
        CLUSTER_SCOPED.binary_search(&(group, kind)).is_ok()
            || self.extra.iter().any(|e| match e.split_once('.') {
                Some((k, g)) => k == kind && g == group,
                None => e == kind,
            })
    }
}

/// The API group of an `apiVersion` (`""` for the core group).
pub fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

/// Where rendered Applications, ApplicationSets and AppProjects go.
#[derive(Clone, Copy, Debug, Default)]
pub struct AppPlacement<'a> {
    /// The namespace an app-of-apps' children go to when they name none.
    pub namespace: Option<&'a str>,
    /// The API group the controller serves them under: those written in
    /// the other group (Argo CD's, under Sextant's) are rewritten to it and
    /// put in `namespace`, so an Argo CD app-of-apps repository works
    /// unchanged after `sextant import argocd`.
    pub group: Option<&'a str>,
}

/// Sextant's and Argo CD's kinds, in either group.
fn is_argo_kind(group: &str, kind: &str) -> bool {
    matches!(group, "sextant.dev" | "argoproj.io")
        && matches!(kind, "Application" | "ApplicationSet" | "AppProject")
}

/// Check and normalise one object in place.
pub fn normalize(
    value: &mut Value,
    origin: &str,
    document: usize,
    namespace: &str,
    apps: AppPlacement<'_>,
    scope: &Scope,
) -> Result<(), NormalizeError> {
    let missing = |field| NormalizeError::Missing {
        origin: origin.to_owned(),
        document,
        field,
    };
    let Value::Object(obj) = value else {
        return Err(NormalizeError::NotAnObject {
            origin: origin.to_owned(),
            document,
        });
    };
    let api_version = non_empty(obj.get("apiVersion"))
        .ok_or_else(|| missing("apiVersion"))?
        .to_owned();
    let kind = non_empty(obj.get("kind"))
        .ok_or_else(|| missing("kind"))?
        .to_owned();
    let group = group_of(&api_version);
    let cluster = scope.is_cluster_scoped(group, &kind);
    let is_app = is_argo_kind(group, &kind);
    let regrouped = apps
        .group
        .filter(|target| is_argo_kind(group, &kind) && group != *target);
    if let Some(target) = regrouped {
        let version = api_version.rsplit_once('/').map_or("v1alpha1", |(_, v)| v);
        obj.insert(
            "apiVersion".into(),
            Value::String(format!("{target}/{version}")),
        );
    }
    let meta = obj
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(meta) = meta else {
        return Err(missing("metadata"));
    };
    if non_empty(meta.get("name")).is_none() && non_empty(meta.get("generateName")).is_none() {
        return Err(missing("metadata.name"));
    }
    if cluster {
        meta.remove("namespace");
    } else if let (Some(_), Some(ns)) = (regrouped, apps.namespace) {
        // Argo CD's namespace (`argocd`) is not where this controller
        // reconciles them.
        meta.insert("namespace".into(), Value::String(ns.to_owned()));
    } else if non_empty(meta.get("namespace")).is_none() {
        let ns = match apps.namespace {
            Some(apps) if is_app => apps,
            _ => namespace,
        };
        meta.insert("namespace".into(), Value::String(ns.to_owned()));
    }
    Ok(())
}

fn non_empty(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// `apiVersion`, `kind`, namespace and name: the identity objects are
/// sorted and compared by.
pub fn identity(value: &Value) -> (String, String, String, String) {
    let s = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_owned();
    let meta = value.get("metadata");
    let name = meta
        .and_then(|m| m.get("name"))
        .or_else(|| meta.and_then(|m| m.get("generateName")));
    (
        group_of(
            value
                .get("apiVersion")
                .and_then(Value::as_str)
                .unwrap_or(""),
        )
        .to_owned(),
        s(value.get("kind")),
        s(meta.and_then(|m| m.get("namespace"))),
        s(name),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(mut input: Value, extra: &[&str]) -> Result<Value, NormalizeError> {
        let extra: Vec<String> = extra.iter().map(|s| (*s).to_owned()).collect();
        normalize(
            &mut input,
            "f.yaml",
            1,
            "dest",
            AppPlacement {
                namespace: Some("sextant"),
                group: Some("sextant.dev"),
            },
            &Scope::new(&extra),
        )
        .map(|()| input)
    }

    #[test]
    fn the_cluster_scoped_table_is_sorted_for_binary_search() {
        let mut sorted = CLUSTER_SCOPED.to_vec();
        sorted.sort();
        assert_eq!(sorted, CLUSTER_SCOPED);
    }

    #[test]
    fn namespaced_objects_get_the_destination_namespace_and_keep_their_own() {
        let out = check(
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}),
            &[],
        )
        .unwrap();
        assert_eq!(out["metadata"]["namespace"], "dest");
        let own = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a", "namespace": "x"}});
        assert_eq!(check(own, &[]).unwrap()["metadata"]["namespace"], "x");
    }

    #[test]
    fn applications_without_a_namespace_go_to_the_applications_namespace() {
        for (api, kind) in [
            ("sextant.dev/v1alpha1", "Application"),
            ("argoproj.io/v1alpha1", "ApplicationSet"),
        ] {
            let app = json!({"apiVersion": api, "kind": kind, "metadata": {"name": "child"}});
            assert_eq!(
                check(app, &[]).unwrap()["metadata"]["namespace"],
                "sextant",
                "{kind}"
            );
        }
        let own = json!({"apiVersion": "sextant.dev/v1alpha1", "kind": "Application", "metadata": {"name": "c", "namespace": "x"}});
        assert_eq!(check(own, &[]).unwrap()["metadata"]["namespace"], "x");
    }

    #[test]
    fn argo_cds_kinds_are_rewritten_to_the_served_group_and_namespace() {
        for kind in ["Application", "ApplicationSet", "AppProject"] {
            let argo = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": kind,
                "metadata": {"name": "child", "namespace": "argocd",
                    "finalizers": ["resources-finalizer.argocd.argoproj.io"]}});
            let out = check(argo, &[]).unwrap();
            assert_eq!(out["apiVersion"], "sextant.dev/v1alpha1", "{kind}");
            assert_eq!(out["metadata"]["namespace"], "sextant", "{kind}");
            assert_eq!(
                out["metadata"]["finalizers"][0], "resources-finalizer.argocd.argoproj.io",
                "Argo CD's finalizer is honoured as ours"
            );
        }
        let rollout = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
            "metadata": {"name": "web", "namespace": "shop"}});
        let out = check(rollout, &[]).unwrap();
        assert_eq!(
            out["apiVersion"], "argoproj.io/v1alpha1",
            "other kinds of the group stay"
        );
        assert_eq!(out["metadata"]["namespace"], "shop");
    }

    #[test]
    fn cluster_scoped_objects_have_no_namespace() {
        let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "r", "namespace": "oops"}});
        assert!(
            check(role, &[]).unwrap()["metadata"]
                .get("namespace")
                .is_none()
        );
        let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}});
        assert!(
            check(ns, &[]).unwrap()["metadata"]
                .get("namespace")
                .is_none()
        );
    }

    #[test]
    fn extra_cluster_scoped_kinds_match_by_kind_or_kind_and_group() {
        let obj =
            || json!({"apiVersion": "example.com/v1", "kind": "Tenant", "metadata": {"name": "t"}});
        assert!(
            check(obj(), &["Tenant"]).unwrap()["metadata"]
                .get("namespace")
                .is_none()
        );
        assert!(
            check(obj(), &["Tenant.example.com"]).unwrap()["metadata"]
                .get("namespace")
                .is_none()
        );
        assert_eq!(
            check(obj(), &["Tenant.other.io"]).unwrap()["metadata"]["namespace"],
            "dest"
        );
    }

    #[test]
    fn objects_without_api_version_kind_or_name_are_errors() {
        let e = check(json!({"kind": "ConfigMap", "metadata": {"name": "a"}}), &[]).unwrap_err();
        assert_eq!(e.to_string(), "`f.yaml` document 1 has no apiVersion");
        let e = check(json!({"apiVersion": "v1", "kind": "ConfigMap"}), &[]).unwrap_err();
        assert_eq!(e.to_string(), "`f.yaml` document 1 has no metadata.name");
        let gen_name = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"generateName": "migrate-"}});
        assert!(check(gen_name, &[]).is_ok());
        assert!(check(json!([1]), &[]).is_err());
    }
}
