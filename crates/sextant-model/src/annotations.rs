//! Annotation and label names Sextant reads and writes on managed objects.
//! Each `sextant.dev/*` annotation is also honoured in its
//! `argocd.argoproj.io/*` spelling, so Argo CD manifests work unchanged.

/// `<app>:<group>/<kind>:<namespace>/<name>`: marks an object as managed by an app.
pub const TRACKING_ID: &str = "sextant.dev/tracking-id";
/// Argo CD's spelling of [`TRACKING_ID`], the one written when the process
/// serves Argo CD's API group.
pub const ARGOCD_TRACKING_ID: &str = "argocd.argoproj.io/tracking-id";
/// Sync wave (integer; lower first).
pub const SYNC_WAVE: &str = "sextant.dev/sync-wave";
/// Hook phase: PreSync, Sync, PostSync, SyncFail, PostDelete.
pub const HOOK: &str = "sextant.dev/hook";
/// When hooks are deleted: HookSucceeded, HookFailed, BeforeHookCreation.
pub const HOOK_DELETE_POLICY: &str = "sextant.dev/hook-delete-policy";
/// Per-object sync options (`Prune=false`, `ServerSideApply=true`, ...).
pub const SYNC_OPTIONS: &str = "sextant.dev/sync-options";
/// Per-object compare options (`IgnoreExtraneous`, ...).
pub const COMPARE_OPTIONS: &str = "sextant.dev/compare-options";
/// Set on an Application to make the controller re-read Git now
/// (`normal` or `hard`).
pub const REFRESH: &str = "sextant.dev/refresh";

/// Finalizer on an Application: delete its resources before the
/// Application goes (Argo CD's `resources-finalizer.argocd.argoproj.io` is
/// honoured too).
pub const RESOURCES_FINALIZER: &str = "resources-finalizer.sextant.dev";
/// Argo CD's spelling of [`RESOURCES_FINALIZER`].
pub const ARGOCD_RESOURCES_FINALIZER: &str = "resources-finalizer.argocd.argoproj.io";
/// Helm's hook annotation (`pre-install,pre-upgrade`, ...), mapped to phases.
pub const HELM_HOOK: &str = "helm.sh/hook";
/// Helm's hook weight, read as the hook's wave.
pub const HELM_HOOK_WEIGHT: &str = "helm.sh/hook-weight";
/// Helm's hook delete policy (`before-hook-creation`, `hook-succeeded`, `hook-failed`).
pub const HELM_HOOK_DELETE_POLICY: &str = "helm.sh/hook-delete-policy";
/// Helm's `keep`: the object is never pruned or deleted.
pub const HELM_RESOURCE_POLICY: &str = "helm.sh/resource-policy";

/// `"true"` on a managed object leaves it out of its app's health (a
/// CronJob whose failed runs should not mark the app Degraded, ...).
pub const IGNORE_HEALTHCHECK: &str = "sextant.dev/ignore-healthcheck";

/// The `operation.info` name under which a client puts the id of its request.
pub const REQUEST_ID_INFO: &str = "sextant.dev/request-id";

/// The Argo CD spelling of a Sextant annotation, if it has one.
pub fn argocd_alias(annotation: &str) -> Option<&'static str> {
    match annotation {
        SYNC_WAVE => Some("argocd.argoproj.io/sync-wave"),
        HOOK => Some("argocd.argoproj.io/hook"),
        HOOK_DELETE_POLICY => Some("argocd.argoproj.io/hook-delete-policy"),
        SYNC_OPTIONS => Some("argocd.argoproj.io/sync-options"),
        COMPARE_OPTIONS => Some("argocd.argoproj.io/compare-options"),
        REFRESH => Some("argocd.argoproj.io/refresh"),
        TRACKING_ID => Some(ARGOCD_TRACKING_ID),
        IGNORE_HEALTHCHECK => Some("argocd.argoproj.io/ignore-healthcheck"),
        _ => None,
    }
}

/// Read an annotation from object metadata in either spelling (Sextant's wins).
pub fn get<'a>(
    annotations: Option<&'a std::collections::BTreeMap<String, String>>,
    name: &str,
) -> Option<&'a str> {
    let a = annotations?;
    a.get(name)
        .or_else(|| argocd_alias(name).and_then(|alias| a.get(alias)))
        .map(String::as_str)
}

/// Asks the ApplicationSet controller for a pass that asks Git afresh (a
/// webhook sets it; the controller removes it).
pub const APPSET_REFRESH: &str = "sextant.dev/application-set-refresh";
/// Argo CD's spelling of the same.
pub const ARGOCD_APPSET_REFRESH: &str = "argocd.argoproj.io/application-set-refresh";
/// Paths (`;`-separated; relative to the app's path, or from the
/// repository's root with a leading `/`) whose change concerns the app: a
/// webhook's push that touches none of them does not refresh it.
pub const MANIFEST_GENERATE_PATHS: &str = "sextant.dev/manifest-generate-paths";
/// Argo CD's spelling of the same.
pub const ARGOCD_MANIFEST_GENERATE_PATHS: &str = "argocd.argoproj.io/manifest-generate-paths";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argocd_spellings_are_honoured_and_ours_win() {
        let mut a = std::collections::BTreeMap::new();
        a.insert("argocd.argoproj.io/sync-wave".to_string(), "2".to_string());
        assert_eq!(get(Some(&a), SYNC_WAVE), Some("2"));
        a.insert(SYNC_WAVE.to_string(), "5".to_string());
        assert_eq!(get(Some(&a), SYNC_WAVE), Some("5"));
        assert_eq!(get(None, SYNC_WAVE), None);
    }
}
