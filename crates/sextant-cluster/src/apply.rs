//! Writing objects: server-side apply (for real or as a dry run) as field
//! manager `sextant`, replace, delete-and-create, and deletion, each failure in the API server's own
//! words with its status code so callers can tell "namespace not found"
//! from "invalid".

use kube::api::{DeleteParams, Patch, PatchParams, PropagationPolicy};
use serde_json::Value;
use sextant_engine::diff::{FIELD_MANAGER, ObjectKey};

use crate::kinds::Kinds;
use crate::words;

/// Why a write failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    /// The kind is not served by the cluster.
    #[error(
        "kind {kind} in {api_version} is not served by the cluster (is its CustomResourceDefinition installed?)"
    )]
    NotServed {
        /// apiVersion.
        api_version: String,
        /// Kind.
        kind: String,
    },
    /// The API server refused.
    #[error("{message}")]
    Api {
        /// HTTP status code.
        code: u16,
        /// `reason: message` from the Status body.
        message: String,
    },
    /// Anything else (transport, decoding, discovery).
    #[error("{0}")]
    Other(String),
}

impl WriteError {
    /// Whether the API server said the object (or its namespace) is not
    /// there.
    pub fn is_not_found(&self) -> bool {
        matches!(self, WriteError::Api { code: 404, .. })
    }
}

fn api_error(e: kube::Error) -> WriteError {
    match &e {
        kube::Error::Api(status) => WriteError::Api {
            code: status.code,
            message: words(&e),
        },
        _ => WriteError::Other(words(&e)),
    }
}

/// How an object left the cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Propagation {
    /// Dependents are deleted after the owner (the default).
    Background,
    /// Dependents first.
    Foreground,
    /// Dependents stay.
    Orphan,
}

/// kubectl's record of what it applied last.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// The JSON merge patch of a client-side apply: everything `desired` says,
/// and `null` for what `last` (the previous apply) had and `desired` no
/// longer has, recursively through objects (lists are replaced whole).
fn three_way(last: &Value, desired: &Value) -> Value {
    match (last, desired) {
        (Value::Object(l), Value::Object(d)) => {
            let mut out = serde_json::Map::new();
            for (k, v) in d {
                let before = l.get(k).unwrap_or(&Value::Null);
                out.insert(k.clone(), three_way(before, v));
            }
            for k in l.keys() {
                if !d.contains_key(k) {
                    out.insert(k.clone(), Value::Null);
                }
            }
            Value::Object(out)
        }
        (_, d) => d.clone(),
    }
}

impl Kinds {
    async fn api_for(
        &self,
        key: &ObjectKey,
    ) -> Result<kube::Api<kube::api::DynamicObject>, WriteError> {
        let info = self
            .lookup(&key.api_version, &key.kind)
            .await
            .map_err(WriteError::Other)?
            .ok_or_else(|| WriteError::NotServed {
                api_version: key.api_version.clone(),
                kind: key.kind.clone(),
            })?;
        Ok(self.api(&info, &key.namespace))
    }

    /// Server-side apply `obj` as `sextant` (forcing conflicts, as Git is
    /// the source of truth); with `dry_run`, the API server only predicts
    /// the result. Returns the object as the server has (or would have) it.
    pub async fn apply(&self, obj: &Value, dry_run: bool) -> Result<Value, WriteError> {
        self.apply_with(obj, dry_run, true).await
    }

    /// [`Kinds::apply`]; without `validate` the API server drops unknown
    /// fields instead of refusing them (sync option `Validate=false`).
    pub async fn apply_with(
        &self,
        obj: &Value,
        dry_run: bool,
        validate: bool,
    ) -> Result<Value, WriteError> {
        let key = ObjectKey::of(obj);
        let api = self.api_for(&key).await?;
        let mut params = PatchParams::apply(FIELD_MANAGER).force();
        params.dry_run = dry_run;
        if !validate {
            params.field_validation = Some(kube::api::ValidationDirective::Ignore);
        }
        let out = api
            .patch(&key.name, &params, &Patch::Apply(obj))
            .await
            .map_err(api_error)?;
        serde_json::to_value(out).map_err(|e| WriteError::Other(e.to_string()))
    }

    /// Create `obj` (a `generateName` is filled in by the server); with
    /// `dry_run`, the API server only checks it. Returns the object as the
    /// server has (or would have) it; an existing object is a 409.
    pub async fn create(&self, obj: &Value, dry_run: bool) -> Result<Value, WriteError> {
        let key = ObjectKey::of(obj);
        let api = self.api_for(&key).await?;
        let mut params = kube::api::PostParams {
            field_manager: Some(FIELD_MANAGER.to_owned()),
            ..kube::api::PostParams::default()
        };
        params.dry_run = dry_run;
        let typed: kube::api::DynamicObject =
            serde_json::from_value(obj.clone()).map_err(|e| WriteError::Other(e.to_string()))?;
        let out = api.create(&params, &typed).await.map_err(api_error)?;
        serde_json::to_value(out).map_err(|e| WriteError::Other(e.to_string()))
    }

    /// Replace `obj` whole (sync option `Replace=true`): a PUT over the
    /// live object when there is one, else a create.
    pub async fn replace(&self, obj: &Value) -> Result<Value, WriteError> {
        let key = ObjectKey::of(obj);
        let api = self.api_for(&key).await?;
        let live = api.get_opt(&key.name).await.map_err(api_error)?;
        let Some(live) = live else {
            return self.create(obj, false).await;
        };
        let mut typed: kube::api::DynamicObject =
            serde_json::from_value(obj.clone()).map_err(|e| WriteError::Other(e.to_string()))?;
        typed.metadata.resource_version = live.metadata.resource_version.clone();
        let params = kube::api::PostParams {
            field_manager: Some(FIELD_MANAGER.to_owned()),
            ..kube::api::PostParams::default()
        };
        let out = api
            .replace(&key.name, &params, &typed)
            .await
            .map_err(api_error)?;
        serde_json::to_value(out).map_err(|e| WriteError::Other(e.to_string()))
    }

    /// Delete the live object (`uid`) and create `obj` in its place (sync
    /// option `Force=true`, for changes of immutable fields). Waits, up to
    /// 30 s, for the old object to be gone.
    pub async fn recreate(&self, obj: &Value, uid: Option<&str>) -> Result<Value, WriteError> {
        let key = ObjectKey::of(obj);
        self.delete(&key, uid, Propagation::Foreground).await?;
        let api = self.api_for(&key).await?;
        for _ in 0..150 {
            if api.get_opt(&key.name).await.map_err(api_error)?.is_none() {
                return self.create(obj, false).await;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        Err(WriteError::Other(format!(
            "{key} was deleted to be created again (Force=true) but is still there after 30 s"
        )))
    }

    /// Client-side apply, as `kubectl apply` without `--server-side` does
    /// (sync option `ServerSideApply=false`): the object is stored with the
    /// annotation `kubectl.kubernetes.io/last-applied-configuration`, and an
    /// existing one gets a JSON merge patch that sets what `obj` has and
    /// removes what the last applied configuration had and `obj` dropped.
    pub async fn client_side_apply(
        &self,
        obj: &Value,
        live: Option<&Value>,
    ) -> Result<Value, WriteError> {
        let mut desired = obj.clone();
        let mut recorded = obj.clone();
        if let Some(a) = recorded
            .pointer_mut("/metadata/annotations")
            .and_then(Value::as_object_mut)
        {
            a.remove(LAST_APPLIED);
        }
        let text =
            serde_json::to_string(&recorded).map_err(|e| WriteError::Other(e.to_string()))?;
        if let Some(meta) = desired.get_mut("metadata").and_then(Value::as_object_mut) {
            let annotations = meta
                .entry("annotations")
                .or_insert_with(|| Value::Object(serde_json::Map::new()));
            if let Some(a) = annotations.as_object_mut() {
                a.insert(LAST_APPLIED.to_owned(), Value::String(text));
            }
        }
        let Some(live) = live else {
            return self.create(&desired, false).await;
        };
        let last: Value = live
            .pointer(&format!(
                "/metadata/annotations/{}",
                LAST_APPLIED.replace('/', "~1")
            ))
            .and_then(Value::as_str)
            .and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or(Value::Null);
        let patch = three_way(&last, &desired);
        let key = ObjectKey::of(obj);
        let api = self.api_for(&key).await?;
        let params = PatchParams {
            field_manager: Some(FIELD_MANAGER.to_owned()),
            ..PatchParams::default()
        };
        let out = api
            .patch(&key.name, &params, &Patch::Merge(&patch))
            .await
            .map_err(api_error)?;
        serde_json::to_value(out).map_err(|e| WriteError::Other(e.to_string()))
    }

    /// Delete the object `key` names; `Ok(false)` when it was already gone.
    /// `uid`, when given, makes sure a newer object of the same name is not
    /// deleted by mistake.
    pub async fn delete(
        &self,
        key: &ObjectKey,
        uid: Option<&str>,
        propagation: Propagation,
    ) -> Result<bool, WriteError> {
        let api = self.api_for(key).await?;
        let params = DeleteParams {
            propagation_policy: Some(match propagation {
                Propagation::Background => PropagationPolicy::Background,
                Propagation::Foreground => PropagationPolicy::Foreground,
                Propagation::Orphan => PropagationPolicy::Orphan,
            }),
            preconditions: uid.map(|uid| kube::api::Preconditions {
                uid: Some(uid.to_owned()),
                resource_version: None,
            }),
            ..DeleteParams::default()
        };
        match api.delete(&key.name, &params).await {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(false),
            Err(e) => Err(api_error(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::three_way;
    use serde_json::json;

    #[test]
    fn a_client_side_apply_removes_what_the_last_apply_had_and_git_dropped() {
        let last = json!({"data": {"a": "1", "b": "2"}, "metadata": {"labels": {"x": "1"}}});
        let desired = json!({"data": {"a": "3"}, "metadata": {"name": "c"}});
        assert_eq!(
            three_way(&last, &desired),
            json!({"data": {"a": "3", "b": null}, "metadata": {"name": "c", "labels": null}})
        );
        // Without a record of the last apply nothing is removed.
        assert_eq!(three_way(&serde_json::Value::Null, &desired), desired);
    }
}
