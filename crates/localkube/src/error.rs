//! API errors and their rendering as Kubernetes `Status` objects.
//!
//! Every failure the server reports goes through [`ApiError`], so the status
//! code, `reason` and message wording match what a real API server sends and
//! clients (kubectl, client-go, kube-rs) classify them the same way.

use serde_json::{Value, json};

/// One entry of `Status.details.causes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    /// Machine-readable reason, e.g. `FieldValueInvalid`, `FieldManagerConflict`.
    pub reason: String,
    /// Human-readable explanation.
    pub message: String,
    /// The offending field path, e.g. `metadata.name`.
    pub field: String,
}

/// An error returned to an API client as a `Status` object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    /// HTTP status code.
    pub code: u16,
    /// `Status.reason`, e.g. `NotFound`.
    pub reason: &'static str,
    /// `Status.message`.
    pub message: String,
    /// `Status.details`.
    pub details: Box<Details>,
}

/// The optional parts of a `Status`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Details {
    /// Name of the object the error is about.
    pub name: Option<String>,
    /// Group of the resource the error is about.
    pub group: Option<String>,
    /// The resource (plural) or kind the error is about (`details.kind`).
    pub kind: Option<String>,
    /// Field-level causes.
    pub causes: Vec<Cause>,
    /// Seconds a client should wait before retrying (`Retry-After`).
    pub retry_after: Option<u64>,
}

/// A resource as errors name it: `deployments.apps` or `pods`.
pub fn qualified(resource: &str, group: &str) -> String {
    if group.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}.{group}")
    }
}

impl ApiError {
    fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            reason,
            message: message.into(),
            details: Box::default(),
        }
    }

    fn about(mut self, group: &str, resource: &str, name: &str) -> Self {
        self.details.group = Some(group.to_string());
        self.details.kind = Some(resource.to_string());
        if !name.is_empty() {
            self.details.name = Some(name.to_string());
        }
        self
    }

    /// 404 for an object.
    pub fn not_found(group: &str, resource: &str, name: &str) -> Self {
        Self::new(
            404,
            "NotFound",
            format!("{} \"{name}\" not found", qualified(resource, group)),
        )
        .about(group, resource, name)
    }

    /// 404 for a path that names no resource.
    pub fn path_not_found() -> Self {
        Self::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
    }

    /// 409 on create of an existing object.
    pub fn already_exists(group: &str, resource: &str, name: &str) -> Self {
        Self::new(
            409,
            "AlreadyExists",
            format!("{} \"{name}\" already exists", qualified(resource, group)),
        )
        .about(group, resource, name)
    }

    /// 409 on an update with a stale resourceVersion or failed precondition.
    pub fn conflict(group: &str, resource: &str, name: &str, why: &str) -> Self {
        Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": {why}",
                qualified(resource, group)
            ),
        )
        .about(group, resource, name)
    }

    /// The standard stale-resourceVersion conflict.
    pub fn stale(group: &str, resource: &str, name: &str) -> Self {
        Self::conflict(
            group,
            resource,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    /// 422 with field causes. `kind` is the object's Kind (e.g. `Deployment`).
    pub fn invalid(group: &str, kind: &str, name: &str, causes: Vec<Cause>) -> Self {
        let qualified_kind = qualified(kind, group);
        let detail = causes
            .iter()
            .map(|c| {
                if c.field.is_empty() {
                    c.message.clone()
                } else {
                    format!("{}: {}", c.field, c.message)
                }
            })
            .collect::<Vec<_>>();
        let detail = if detail.len() == 1 {
            detail[0].clone()
        } else {
            format!("[{}]", detail.join(", "))
        };
        let mut e = Self::new(
            422,
            "Invalid",
            format!("{qualified_kind} \"{name}\" is invalid: {detail}"),
        );
        e.details.group = Some(group.to_string());
        e.details.kind = Some(kind.to_string());
        e.details.name = Some(name.to_string());
        e.details.causes = causes;
        e
    }

    /// 422 for a patch that cannot be applied (e.g. a failed JSON-patch
    /// `test`). kube-apiserver says no more than this (no causes), so
    /// neither does localkube; `why` goes to the debug log.
    pub fn patch_rejected(why: String) -> Self {
        tracing::debug!(%why, "JSON patch rejected");
        Self::new(
            422,
            "Invalid",
            "the server rejected our request due to an error in our request",
        )
    }

    /// 422 for an apply request without `fieldManager`, as kube-apiserver
    /// validates PatchOptions.
    pub fn field_manager_required() -> Self {
        let mut e = Self::new(
            422,
            "Invalid",
            "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
        );
        e.details.causes.push(Cause {
            reason: "FieldValueRequired".into(),
            message: "Required value: is required for apply patch".into(),
            field: "fieldManager".into(),
        });
        e
    }

    /// 400.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    /// 405.
    pub fn method_not_allowed() -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )
    }

    /// 415.
    pub fn unsupported_media_type(message: impl Into<String>) -> Self {
        Self::new(415, "UnsupportedMediaType", message)
    }

    /// 410 for an expired resourceVersion or continue token.
    pub fn gone(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message)
    }

    /// 401.
    pub fn unauthorized() -> Self {
        Self::new(401, "Unauthorized", "Unauthorized")
    }

    /// 500.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "InternalError", message)
    }

    /// 503.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(503, "ServiceUnavailable", message)
    }

    /// 429.
    pub fn too_many_requests(retry_after: u64) -> Self {
        let mut e = Self::new(
            429,
            "TooManyRequests",
            "the server has received too many requests and has asked us to try again later",
        );
        e.details.retry_after = Some(retry_after);
        e
    }

    /// 409 for server-side apply conflicts.
    pub fn apply_conflicts(conflicts: Vec<(String, String, String)>) -> Self {
        // (manager, apiVersion, path)
        let n = conflicts.len();
        let mut lines = Vec::new();
        let mut causes = Vec::new();
        for (manager, api_version, path) in &conflicts {
            lines.push(format!(
                "conflict with \"{manager}\" using {api_version}: {path}"
            ));
            causes.push(Cause {
                reason: "FieldManagerConflict".into(),
                message: format!("conflict with \"{manager}\" using {api_version}"),
                field: path.clone(),
            });
        }
        let plural = if n == 1 { "" } else { "s" };
        let message = if n == 1 {
            format!("Apply failed with 1 conflict: {}", lines[0])
        } else {
            format!(
                "Apply failed with {n} conflict{plural}: {}",
                lines.join("\n")
            )
        };
        let mut e = Self::new(409, "Conflict", message);
        e.details.causes = causes;
        e
    }

    /// The `Status` object for this error.
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        let mut details = serde_json::Map::new();
        if let Some(n) = &self.details.name {
            details.insert("name".into(), json!(n));
        }
        if let Some(g) = &self.details.group {
            details.insert("group".into(), json!(g));
        }
        if let Some(k) = &self.details.kind {
            details.insert("kind".into(), json!(k));
        }
        if !self.details.causes.is_empty() {
            details.insert(
                "causes".into(),
                Value::Array(
                    self.details
                        .causes
                        .iter()
                        .map(
                            |c| json!({"reason": c.reason, "message": c.message, "field": c.field}),
                        )
                        .collect(),
                ),
            );
        }
        if let Some(r) = self.details.retry_after {
            details.insert("retryAfterSeconds".into(), json!(r));
        }
        if !details.is_empty() {
            status["details"] = Value::Object(details);
        }
        status
    }
}

/// Shorthand for handler results.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_names_resource_and_group_like_the_api_server() {
        let s = ApiError::not_found("apps", "deployments", "web").to_status();
        assert_eq!(s["message"], "deployments.apps \"web\" not found");
        assert_eq!(s["reason"], "NotFound");
        assert_eq!(s["code"], 404);
        assert_eq!(s["details"]["kind"], "deployments");
        let core = ApiError::not_found("", "pods", "p").to_status();
        assert_eq!(core["message"], "pods \"p\" not found");
    }

    #[test]
    fn apply_conflict_lists_manager_and_field() {
        let e = ApiError::apply_conflicts(vec![(
            "kubectl-scale".into(),
            "apps/v1".into(),
            ".spec.replicas".into(),
        )]);
        assert_eq!(e.code, 409);
        assert!(
            e.message
                .contains("conflict with \"kubectl-scale\" using apps/v1: .spec.replicas")
        );
        assert_eq!(
            e.to_status()["details"]["causes"][0]["field"],
            ".spec.replicas"
        );
    }
}
