//! Writing what the controller observed: the status (server-side apply on
//! the status subresource, as field manager `sextant-controller`, so
//! fields it stops reporting go away), and the small metadata writes on
//! the Application itself (clearing a finished operation, removing the
//! refresh annotation, releasing the finalizer).

use kube::api::{Api, Patch, PatchParams};
use serde_json::{Value, json};
use sextant_model::annotations;
use sextant_model::application::{ApplicationCondition, ApplicationStatus};
use sextant_model::{API_VERSION, Application};

/// The field manager of status writes.
pub const STATUS_MANAGER: &str = "sextant-controller";

/// Now, as the API's timestamps are written (RFC 3339, seconds, UTC).
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Seconds since an RFC 3339 time (`None` when it does not parse).
pub fn age(time: &str) -> Option<std::time::Duration> {
    let t = chrono::DateTime::parse_from_rfc3339(time).ok()?;
    (chrono::Utc::now() - t.with_timezone(&chrono::Utc))
        .to_std()
        .ok()
}

/// Write the whole status of `name`.
pub async fn write(
    api: &Api<Application>,
    name: &str,
    status: &ApplicationStatus,
) -> Result<(), kube::Error> {
    let body = json!({"apiVersion": API_VERSION, "kind": "Application", "metadata": {"name": name}, "status": status});
    let params = PatchParams::apply(STATUS_MANAGER).force();
    api.patch_status(name, &params, &Patch::Apply(&body))
        .await?;
    Ok(())
}

/// Clear the `operation` an app carries (it has been run).
pub async fn clear_operation(api: &Api<Application>, name: &str) -> Result<(), kube::Error> {
    let patch = json!({"operation": null});
    api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    Ok(())
}

/// Remove the refresh annotation (both spellings) once the refresh is done.
pub async fn clear_refresh(api: &Api<Application>, app: &Application) -> Result<(), kube::Error> {
    let Some(a) = &app.metadata.annotations else {
        return Ok(());
    };
    let mut nulls = serde_json::Map::new();
    for key in [annotations::REFRESH, "argocd.argoproj.io/refresh"] {
        if a.contains_key(key) {
            nulls.insert(key.to_owned(), Value::Null);
        }
    }
    if nulls.is_empty() {
        return Ok(());
    }
    let patch = json!({"metadata": {"annotations": nulls}});
    let name = app.metadata.name.as_deref().unwrap_or_default();
    api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    Ok(())
}

/// Whether the app asks for a refresh.
pub fn refresh_requested(app: &Application) -> bool {
    annotations::get(app.metadata.annotations.as_ref(), annotations::REFRESH).is_some()
}

/// Whether the app carries a resources finalizer (either spelling).
pub fn has_resources_finalizer(app: &Application) -> bool {
    app.metadata.finalizers.iter().flatten().any(|f| {
        f == annotations::RESOURCES_FINALIZER || f == annotations::ARGOCD_RESOURCES_FINALIZER
    })
}

/// Remove the resources finalizers; the resourceVersion makes a
/// concurrent change of the list fail (and be retried) instead of being
/// overwritten.
pub async fn release_finalizer(
    api: &Api<Application>,
    app: &Application,
) -> Result<(), kube::Error> {
    let kept: Vec<&String> = app
        .metadata
        .finalizers
        .iter()
        .flatten()
        .filter(|f| {
            *f != annotations::RESOURCES_FINALIZER && *f != annotations::ARGOCD_RESOURCES_FINALIZER
        })
        .collect();
    let patch = json!({"metadata": {
        "finalizers": kept,
        "resourceVersion": app.metadata.resource_version,
    }});
    let name = app.metadata.name.as_deref().unwrap_or_default();
    api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    Ok(())
}

/// Set (or, with `None`, remove) the condition of `type_`, keeping its
/// transition time when the message is unchanged.
pub fn set_condition(status: &mut ApplicationStatus, type_: &str, message: Option<String>) {
    let mut list = status.conditions.take().unwrap_or_default();
    let existing = list.iter().position(|c| c.type_ == type_);
    match (message, existing) {
        (None, Some(i)) => {
            list.remove(i);
        }
        (None, None) => {}
        (Some(m), Some(i)) => {
            if list[i].message != m {
                list[i].message = m;
                list[i].last_transition_time = Some(now());
            }
        }
        (Some(m), None) => list.push(ApplicationCondition {
            type_: type_.to_owned(),
            message: m,
            last_transition_time: Some(now()),
        }),
    }
    status.conditions = (!list.is_empty()).then_some(list);
}

/// Whether two statuses differ in anything but `reconciledAt`.
pub fn differs(a: &ApplicationStatus, b: &ApplicationStatus) -> bool {
    let mut a = a.clone();
    let mut b = b.clone();
    a.reconciled_at = None;
    b.reconciled_at = None;
    a != b
}
