//! The server-side diff: for each desired object, discovery says whether
//! its kind is served and how it is scoped, the live copy is read, and the
//! API server dry-runs a server-side apply of the desired object
//! (`dryRun=All`, field manager `sextant`, force). The prediction and the
//! live copy go to `sextant_engine::diff`. When the dry-run cannot be had
//! because something it needs comes in the same change (the kind's CRD,
//! the namespace), the object is compared structurally and the diff says
//! why. Any other failure is that object's error; the others go on.

use std::collections::BTreeMap;

use crate::words;
use futures::{StreamExt, stream};
use kube::api::{ApiResource, DynamicObject, Patch, PatchParams};
use kube::core::GroupVersionKind;
use kube::discovery::{self, Scope};
use kube::{Api, Client};
use serde_json::Value;
use sextant_engine::diff::{
    DiffReport, FIELD_MANAGER, IgnoreDifferences, Input, ObjectError, ObjectKey, diff_object,
};

/// How to run a diff.
#[derive(Clone, Copy, Debug)]
pub struct DiffSettings<'a> {
    /// The ignore rules in force.
    pub ignore: &'a IgnoreDifferences,
    /// How many objects are looked at at once.
    pub concurrency: usize,
    /// Namespaces the sync would create although no Namespace object is
    /// rendered (`CreateNamespace=true`): objects in them get a structural
    /// diff while they do not exist, as the sync's own dry-run does.
    pub created_namespaces: &'a [String],
}

/// What discovery said about a kind.
#[derive(Clone, Debug)]
enum Served {
    Yes(ApiResource, Scope),
    No,
}

/// What the cluster said about one object.
struct Facts {
    live: Option<Value>,
    predicted: Option<Value>,
    fallback: Option<String>,
}

/// Diff `desired` (rendered objects, each with apiVersion, kind, name and,
/// when namespaced, namespace) against the cluster behind `client`.
pub async fn diff_objects(
    client: &Client,
    desired: &[Value],
    settings: DiffSettings<'_>,
) -> DiffReport {
    let keys: Vec<ObjectKey> = desired.iter().map(ObjectKey::of).collect();
    let mut kinds: BTreeMap<(String, String), Result<Served, String>> = BTreeMap::new();
    for key in &keys {
        let gv = (key.api_version.clone(), key.kind.clone());
        if let std::collections::btree_map::Entry::Vacant(slot) = kinds.entry(gv) {
            slot.insert(resolve(client, &key.api_version, &key.kind).await);
        }
    }
    let namespaces: Vec<&str> = keys
        .iter()
        .filter(|k| k.group.is_empty() && k.kind == "Namespace")
        .map(|k| k.name.as_str())
        .chain(settings.created_namespaces.iter().map(String::as_str))
        .collect();
    let facts: Vec<Result<Facts, String>> = stream::iter(desired.iter().zip(&keys))
        .map(|(obj, key)| {
            let served = &kinds[&(key.api_version.clone(), key.kind.clone())];
            facts(client, obj, key, served, &namespaces)
        })
        .buffered(settings.concurrency.max(1))
        .collect()
        .await;
    let mut report = DiffReport::default();
    for ((obj, key), facts) in desired.iter().zip(keys).zip(facts) {
        match facts {
            Ok(f) => report.objects.push(diff_object(
                Input {
                    desired: Some(obj),
                    live: f.live.as_ref(),
                    predicted: f.predicted.as_ref(),
                    fallback_reason: f.fallback.as_deref(),
                    overlay: true,
                },
                settings.ignore,
            )),
            Err(error) => report.errors.push(ObjectError { key, error }),
        }
    }
    report
}

/// Whether `apiVersion`/`kind` is served, and how it is scoped.
async fn resolve(client: &Client, api_version: &str, kind: &str) -> Result<Served, String> {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let gvk = GroupVersionKind::gvk(group, version, kind);
    match discovery::pinned_kind(client, &gvk).await {
        Ok((resource, caps)) => Ok(Served::Yes(resource, caps.scope)),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(Served::No),
        Err(kube::Error::Discovery(_)) => Ok(Served::No),
        Err(e) => Err(format!(
            "could not look up kind {kind} in {api_version}: {}",
            words(&e)
        )),
    }
}

async fn facts(
    client: &Client,
    obj: &Value,
    key: &ObjectKey,
    served: &Result<Served, String>,
    namespaces_in_change: &[&str],
) -> Result<Facts, String> {
    let (resource, scope) = match served {
        Err(e) => return Err(e.clone()),
        Ok(Served::No) => {
            return Ok(Facts {
                live: None,
                predicted: None,
                fallback: Some(format!(
                    "{} {} is not served by the cluster yet (its CustomResourceDefinition may come in the same change), so this is a structural diff",
                    key.kind, key.api_version
                )),
            });
        }
        Ok(Served::Yes(resource, scope)) => (resource, scope),
    };
    let api: Api<DynamicObject> = match scope {
        Scope::Namespaced => Api::namespaced_with(client.clone(), &key.namespace, resource),
        Scope::Cluster => Api::all_with(client.clone(), resource),
    };
    let live = api
        .get_opt(&key.name)
        .await
        .map_err(|e| format!("could not read the live object: {}", words(&e)))?
        .map(to_value)
        .transpose()?;
    let params = PatchParams::apply(FIELD_MANAGER).force().dry_run();
    match api.patch(&key.name, &params, &Patch::Apply(obj)).await {
        Ok(predicted) => Ok(Facts {
            live,
            predicted: Some(to_value(predicted)?),
            fallback: None,
        }),
        Err(kube::Error::Api(status))
            if status.code == 404
                && *scope == Scope::Namespaced
                && namespaces_in_change.contains(&key.namespace.as_str()) =>
        {
            Ok(Facts {
                live,
                predicted: None,
                fallback: Some(format!(
                    "namespace {} does not exist yet (the sync creates it), so this is a structural diff",
                    key.namespace
                )),
            })
        }
        Err(e) => Err(format!(
            "the API server refused the dry-run apply: {}",
            words(&e)
        )),
    }
}

fn to_value(obj: DynamicObject) -> Result<Value, String> {
    serde_json::to_value(obj)
        .map_err(|e| format!("could not read the object the server returned: {e}"))
}
