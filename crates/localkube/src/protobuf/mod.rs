//! Decoding of Kubernetes protobuf request bodies into JSON objects.
//!
//! kubectl 1.32+ sends the bodies of its typed commands (`kubectl create
//! namespace|configmap|secret|deployment|job|...`, `kubectl autoscale`,
//! `kubectl auth can-i`, `kubectl create token`, `kubectl certificate
//! approve`, the DeleteOptions of `kubectl drain`) as
//! `application/vnd.kubernetes.protobuf`, with no JSON fallback. localkube
//! stores JSON, so [`decode`] turns such a body into the JSON object that
//! the same request would have carried as `application/json`.
//!
//! A body is the magic `k8s\0` followed by a `runtime.Unknown` envelope:
//! `typeMeta{apiVersion=1, kind=2}=1`, `raw=2` (the object's own message),
//! `contentEncoding=3`, `contentType=4`. The object's message is decoded by
//! a table-driven decoder ([`types`] holds one field table per message), so
//! supporting another kind means adding its tables and a line to `KINDS`.

mod decode;
mod types;
mod wire;

use serde_json::Value;

use types::Field;
use wire::Reader;

/// The prefix of every Kubernetes protobuf body.
const MAGIC: &[u8] = b"k8s\0";

/// Why a protobuf body could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum ProtobufError {
    /// The body does not start with `k8s\0`.
    #[error("protobuf body does not start with the Kubernetes magic prefix \"k8s\\0\"")]
    BadMagic,
    /// The body ends in the middle of a value.
    #[error("protobuf body is truncated: {what} runs past the end of its message at {}", show(.path))]
    Truncated {
        /// Dotted JSON path of the field being decoded.
        path: String,
        /// What was being read.
        what: &'static str,
    },
    /// The bytes are not a valid encoding of the expected message.
    #[error("malformed protobuf body at {}: {reason}", show(.path))]
    Malformed {
        /// Dotted JSON path of the field being decoded.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The envelope names a kind this decoder has no tables for.
    #[error("unsupported kind \"{api_version} {kind}\" in protobuf body")]
    UnsupportedKind {
        /// The envelope's `apiVersion`.
        api_version: String,
        /// The envelope's `kind`.
        kind: String,
    },
    /// The envelope says the object is compressed or otherwise encoded.
    #[error("unsupported content encoding \"{0}\" in protobuf body")]
    UnsupportedEncoding(String),
}

fn show(path: &str) -> &str {
    if path.is_empty() {
        "the top level"
    } else {
        path
    }
}

impl ProtobufError {
    pub(crate) fn truncated(what: &'static str) -> Self {
        ProtobufError::Truncated {
            path: String::new(),
            what,
        }
    }

    pub(crate) fn malformed(reason: impl Into<String>) -> Self {
        ProtobufError::Malformed {
            path: String::new(),
            reason: reason.into(),
        }
    }

    /// Prefix the error's path with the field it occurred in.
    pub(crate) fn within(mut self, segment: &str) -> Self {
        if let ProtobufError::Truncated { path, .. } | ProtobufError::Malformed { path, .. } =
            &mut self
        {
            if path.is_empty() {
                *path = segment.to_owned();
            } else if !segment.is_empty() {
                let sep = if path.starts_with('[') { "" } else { "." };
                *path = format!("{segment}{sep}{path}");
            }
        }
        self
    }
}

/// Decode a Kubernetes protobuf request body (magic `k8s\0` +
/// `runtime.Unknown{typeMeta{apiVersion=1,kind=2}=1, raw=2,
/// contentEncoding=3, contentType=4}`) into the JSON object, with
/// `"apiVersion"` and `"kind"` set from `typeMeta`.
///
/// Zero values are rendered as Kubernetes' JSON would: dropped for
/// `omitempty` fields, kept for pointer and required fields; nested
/// messages that are present are always emitted (`"status": {}`). Fields
/// unknown to the tables are skipped.
pub fn decode(body: &[u8]) -> Result<Value, ProtobufError> {
    let envelope = body.strip_prefix(MAGIC).ok_or(ProtobufError::BadMagic)?;
    let (mut api_version, mut kind) = (String::new(), String::new());
    let mut raw: &[u8] = &[];
    let mut encoding = String::new();
    let mut reader = Reader::new(envelope);
    while let Some((tag, value)) = reader.next_field()? {
        match (tag, value) {
            (1, wire::Wire::Bytes(type_meta)) => {
                let mut reader = Reader::new(type_meta);
                while let Some((tag, value)) = reader.next_field()? {
                    match (tag, value) {
                        (1, wire::Wire::Bytes(s)) => api_version = utf8(s)?,
                        (2, wire::Wire::Bytes(s)) => kind = utf8(s)?,
                        _ => {}
                    }
                }
            }
            (2, wire::Wire::Bytes(bytes)) => raw = bytes,
            (3, wire::Wire::Bytes(s)) => encoding = utf8(s)?,
            // contentType (4) is always empty or protobuf in requests.
            _ => {}
        }
    }
    if !encoding.is_empty() {
        return Err(ProtobufError::UnsupportedEncoding(encoding));
    }
    let Some(fields) = lookup(&api_version, &kind) else {
        return Err(ProtobufError::UnsupportedKind { api_version, kind });
    };
    let mut object = decode::message(raw, fields)?;
    object.insert("apiVersion".to_owned(), Value::String(api_version));
    object.insert("kind".to_owned(), Value::String(kind));
    Ok(Value::Object(object))
}

fn utf8(bytes: &[u8]) -> Result<String, ProtobufError> {
    String::from_utf8(bytes.to_vec())
        .map_err(|_| ProtobufError::malformed("runtime.Unknown envelope string is not UTF-8"))
}

/// The message table for a top-level `(apiVersion, kind)`.
fn lookup(api_version: &str, kind: &str) -> Option<&'static [Field]> {
    // DeleteOptions travels with the group version of the resource deleted.
    if kind == "DeleteOptions" {
        return Some(types::meta::DELETE_OPTIONS);
    }
    KINDS
        .iter()
        .find(|(v, k, _)| *v == api_version && *k == kind)
        .map(|(_, _, fields)| *fields)
}

/// Every supported top-level kind.
const KINDS: &[(&str, &str, &[Field])] = {
    use types::*;
    &[
        ("v1", "Namespace", core::NAMESPACE),
        ("v1", "ConfigMap", core::CONFIG_MAP),
        ("v1", "Secret", core::SECRET),
        ("v1", "ServiceAccount", core::SERVICE_ACCOUNT),
        ("v1", "Service", core::SERVICE),
        ("v1", "Pod", core::POD),
        ("v1", "PodTemplate", core::POD_TEMPLATE),
        ("v1", "ResourceQuota", core::RESOURCE_QUOTA),
        ("apps/v1", "Deployment", apps::DEPLOYMENT),
        ("apps/v1", "StatefulSet", apps::STATEFUL_SET),
        ("apps/v1", "DaemonSet", apps::DAEMON_SET),
        ("apps/v1", "ReplicaSet", apps::REPLICA_SET),
        ("batch/v1", "Job", batch::JOB),
        ("batch/v1", "CronJob", batch::CRON_JOB),
        ("rbac.authorization.k8s.io/v1", "Role", rbac::ROLE),
        (
            "rbac.authorization.k8s.io/v1",
            "ClusterRole",
            rbac::CLUSTER_ROLE,
        ),
        (
            "rbac.authorization.k8s.io/v1",
            "RoleBinding",
            rbac::ROLE_BINDING,
        ),
        (
            "rbac.authorization.k8s.io/v1",
            "ClusterRoleBinding",
            rbac::CLUSTER_ROLE_BINDING,
        ),
        (
            "scheduling.k8s.io/v1",
            "PriorityClass",
            scheduling::PRIORITY_CLASS,
        ),
        ("networking.k8s.io/v1", "Ingress", networking::INGRESS),
        (
            "networking.k8s.io/v1",
            "IngressClass",
            networking::INGRESS_CLASS,
        ),
        (
            "policy/v1",
            "PodDisruptionBudget",
            policy::POD_DISRUPTION_BUDGET,
        ),
        ("policy/v1", "Eviction", policy::EVICTION),
        (
            "autoscaling/v1",
            "HorizontalPodAutoscaler",
            autoscaling_v1::HORIZONTAL_POD_AUTOSCALER,
        ),
        (
            "autoscaling/v2",
            "HorizontalPodAutoscaler",
            autoscaling_v2::HORIZONTAL_POD_AUTOSCALER,
        ),
        ("autoscaling/v1", "Scale", autoscaling_v1::SCALE),
        (
            "authentication.k8s.io/v1",
            "TokenRequest",
            auth::TOKEN_REQUEST,
        ),
        (
            "authentication.k8s.io/v1",
            "SelfSubjectReview",
            auth::SELF_SUBJECT_REVIEW,
        ),
        (
            "authorization.k8s.io/v1",
            "SelfSubjectAccessReview",
            auth::SELF_SUBJECT_ACCESS_REVIEW,
        ),
        (
            "authorization.k8s.io/v1",
            "SelfSubjectRulesReview",
            auth::SELF_SUBJECT_RULES_REVIEW,
        ),
        (
            "certificates.k8s.io/v1",
            "CertificateSigningRequest",
            auth::CERTIFICATE_SIGNING_REQUEST,
        ),
    ]
};

#[cfg(test)]
mod tests;
