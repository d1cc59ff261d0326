//! What an object's annotations say about how it is synced: hook types and
//! delete policies (ours, Argo CD's spelling, or Helm's mapped to ours),
//! its wave, and its per-object sync options. Malformed values are
//! reported, never guessed at.

use std::collections::BTreeMap;

use serde_json::Value;
use sextant_model::annotations::{
    self, HELM_HOOK, HELM_HOOK_DELETE_POLICY, HELM_HOOK_WEIGHT, HELM_RESOURCE_POLICY,
};
use sextant_model::vocabulary::{HookDeletePolicy, HookType};

use super::options::{SyncOption, SyncOptions};

/// How one object takes part in a sync.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Marks {
    /// The hook types it has (empty: an ordinary object).
    pub hooks: Vec<HookType>,
    /// Whether it is a Helm hook none of whose types Sextant runs
    /// (`pre-delete`, `test`, ...): it is never applied.
    pub unsupported_helm_hook: Option<String>,
    /// When a hook is deleted (empty for ordinary objects).
    pub delete_policies: Vec<HookDeletePolicy>,
    /// Its wave (0 unless set).
    pub wave: i64,
    /// Its own sync options.
    pub options: SyncOptions,
    /// `helm.sh/resource-policy: keep`: never pruned or deleted.
    pub keep: bool,
}

impl Marks {
    /// Whether the object is a hook (of any type, Skip included).
    pub fn is_hook(&self) -> bool {
        !self.hooks.is_empty() || self.unsupported_helm_hook.is_some()
    }

    /// Whether the object is never applied.
    pub fn is_skipped(&self) -> bool {
        self.hooks.contains(&HookType::Skip) || self.unsupported_helm_hook.is_some()
    }

    /// Whether it may be pruned (Prune=false, Delete=false and Helm's keep say no).
    pub fn may_prune(&self) -> bool {
        !self.keep
            && !self.options.has(SyncOption::PruneFalse)
            && !self.options.has(SyncOption::DeleteFalse)
    }

    /// Whether it may be deleted with its app (Delete=false and keep say no).
    pub fn may_delete(&self) -> bool {
        !self.keep && !self.options.has(SyncOption::DeleteFalse)
    }
}

/// A mark that cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MarkError {
    /// The hook annotation names an unknown type.
    #[error(
        "annotation {annotation} has unknown hook type `{value}` (use PreSync, Sync, PostSync, SyncFail, PostDelete or Skip)"
    )]
    HookType {
        /// Which annotation.
        annotation: String,
        /// The unknown word.
        value: String,
    },
    /// The delete policy annotation names an unknown policy.
    #[error(
        "annotation {annotation} has unknown delete policy `{value}` (use HookSucceeded, HookFailed or BeforeHookCreation)"
    )]
    DeletePolicy {
        /// Which annotation.
        annotation: String,
        /// The unknown word.
        value: String,
    },
    /// The wave is not an integer.
    #[error("annotation {annotation} is `{value}`, not an integer wave")]
    Wave {
        /// Which annotation.
        annotation: String,
        /// What it says.
        value: String,
    },
    /// A sync option is not one Sextant knows.
    #[error("annotation {annotation}: {source}")]
    Option {
        /// Which annotation.
        annotation: String,
        /// What is wrong.
        #[source]
        source: super::options::OptionError,
    },
}

fn annotations_of(obj: &Value) -> BTreeMap<String, String> {
    obj.pointer("/metadata/annotations")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// The annotation `name` in the spelling present (ours wins over Argo CD's).
fn spelled(map: &BTreeMap<String, String>, name: &str) -> Option<(String, String)> {
    if let Some(v) = map.get(name) {
        return Some((name.to_owned(), v.clone()));
    }
    let alias = annotations::argocd_alias(name)?;
    map.get(alias).map(|v| (alias.to_owned(), v.clone()))
}

fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(',').map(str::trim).filter(|w| !w.is_empty())
}

/// Read the marks of `obj`.
pub fn marks_of(obj: &Value) -> Result<Marks, MarkError> {
    let map = annotations_of(obj);
    let mut marks = Marks::default();
    let own_hook = spelled(&map, annotations::HOOK);
    if let Some((annotation, value)) = &own_hook {
        for w in words(value) {
            let t = HookType::parse(w).ok_or_else(|| MarkError::HookType {
                annotation: annotation.clone(),
                value: w.to_owned(),
            })?;
            if !marks.hooks.contains(&t) {
                marks.hooks.push(t);
            }
        }
    } else if let Some(value) = map.get(HELM_HOOK) {
        let mut unsupported = Vec::new();
        for w in words(value) {
            match helm_hook(w) {
                HelmHook::Maps(t) if !marks.hooks.contains(&t) => marks.hooks.push(t),
                HelmHook::Maps(_) | HelmHook::Ordinary => {}
                HelmHook::Unsupported => unsupported.push(w),
            }
        }
        if marks.hooks.is_empty() && !unsupported.is_empty() {
            marks.unsupported_helm_hook = Some(unsupported.join(","));
        }
    }
    if marks.is_hook() {
        if let Some((annotation, value)) = spelled(&map, annotations::HOOK_DELETE_POLICY) {
            for w in words(&value) {
                let p = HookDeletePolicy::parse(w).ok_or_else(|| MarkError::DeletePolicy {
                    annotation: annotation.clone(),
                    value: w.to_owned(),
                })?;
                if !marks.delete_policies.contains(&p) {
                    marks.delete_policies.push(p);
                }
            }
        } else if let Some(value) = map.get(HELM_HOOK_DELETE_POLICY) {
            for w in words(value) {
                let p = match w {
                    "before-hook-creation" => HookDeletePolicy::BeforeHookCreation,
                    "hook-succeeded" => HookDeletePolicy::HookSucceeded,
                    "hook-failed" => HookDeletePolicy::HookFailed,
                    _ => {
                        return Err(MarkError::DeletePolicy {
                            annotation: HELM_HOOK_DELETE_POLICY.to_owned(),
                            value: w.to_owned(),
                        });
                    }
                };
                if !marks.delete_policies.contains(&p) {
                    marks.delete_policies.push(p);
                }
            }
        }
        if marks.delete_policies.is_empty() {
            marks
                .delete_policies
                .push(HookDeletePolicy::BeforeHookCreation);
        }
    }
    let wave = spelled(&map, annotations::SYNC_WAVE).or_else(|| {
        own_hook
            .is_none()
            .then(|| map.get(HELM_HOOK_WEIGHT))
            .flatten()
            .filter(|_| map.contains_key(HELM_HOOK))
            .map(|v| (HELM_HOOK_WEIGHT.to_owned(), v.clone()))
    });
    if let Some((annotation, value)) = wave {
        marks.wave = value
            .trim()
            .parse()
            .map_err(|_| MarkError::Wave { annotation, value })?;
    }
    if let Some((annotation, value)) = spelled(&map, annotations::SYNC_OPTIONS) {
        marks.options = SyncOptions::parse_object(&value)
            .map_err(|source| MarkError::Option { annotation, source })?;
    }
    marks.keep = map
        .get(HELM_RESOURCE_POLICY)
        .is_some_and(|v| words(v).any(|w| w == "keep"));
    Ok(marks)
}

enum HelmHook {
    Maps(HookType),
    /// `crd-install`: an ordinary object.
    Ordinary,
    Unsupported,
}

/// Helm's hook words as Argo CD maps them.
fn helm_hook(word: &str) -> HelmHook {
    match word {
        "pre-install" | "pre-upgrade" => HelmHook::Maps(HookType::PreSync),
        "post-install" | "post-upgrade" => HelmHook::Maps(HookType::PostSync),
        "post-delete" => HelmHook::Maps(HookType::PostDelete),
        "crd-install" => HelmHook::Ordinary,
        _ => HelmHook::Unsupported,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn with(annotations: Value) -> Value {
        json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "m", "annotations": annotations}})
    }

    fn check(annotations: Value, hooks: &[HookType], policies: &[HookDeletePolicy], wave: i64) {
        let m = marks_of(&with(annotations.clone())).unwrap();
        assert_eq!(m.hooks, hooks, "{annotations}");
        assert_eq!(m.delete_policies, policies, "{annotations}");
        assert_eq!(m.wave, wave, "{annotations}");
    }

    #[test]
    fn hooks_waves_and_policies_in_every_spelling() {
        use HookDeletePolicy::*;
        use HookType::*;
        check(json!({}), &[], &[], 0);
        check(json!({"sextant.dev/sync-wave": "-2"}), &[], &[], -2);
        check(
            json!({"sextant.dev/hook": "PreSync"}),
            &[PreSync],
            &[BeforeHookCreation],
            0,
        );
        check(
            json!({"argocd.argoproj.io/hook": "PreSync,PostSync", "argocd.argoproj.io/hook-delete-policy": "HookSucceeded"}),
            &[PreSync, PostSync],
            &[HookSucceeded],
            0,
        );
        check(
            json!({"sextant.dev/hook": "Sync", "argocd.argoproj.io/hook": "PostSync"}),
            &[Sync],
            &[BeforeHookCreation],
            0,
        );
        // Helm's words, mapped.
        check(
            json!({"helm.sh/hook": "pre-install,pre-upgrade", "helm.sh/hook-weight": "5", "helm.sh/hook-delete-policy": "hook-succeeded,before-hook-creation"}),
            &[PreSync],
            &[HookSucceeded, BeforeHookCreation],
            5,
        );
        check(
            json!({"helm.sh/hook": "post-install"}),
            &[PostSync],
            &[BeforeHookCreation],
            0,
        );
        // Our annotation wins over Helm's.
        check(
            json!({"helm.sh/hook": "pre-install", "sextant.dev/hook": "PostSync", "helm.sh/hook-weight": "3"}),
            &[PostSync],
            &[BeforeHookCreation],
            0,
        );
        // A weight without a Helm hook is not a wave.
        check(json!({"helm.sh/hook-weight": "3"}), &[], &[], 0);
    }

    #[test]
    fn helm_hooks_sextant_does_not_run_are_never_applied_and_crd_install_is_ordinary() {
        let m = marks_of(&with(json!({"helm.sh/hook": "test"}))).unwrap();
        assert!(m.is_hook() && m.is_skipped());
        assert_eq!(m.unsupported_helm_hook.as_deref(), Some("test"));
        let m = marks_of(&with(json!({"helm.sh/hook": "crd-install"}))).unwrap();
        assert!(!m.is_hook() && !m.is_skipped());
        let m = marks_of(&with(json!({"sextant.dev/hook": "Skip"}))).unwrap();
        assert!(m.is_skipped());
    }

    #[test]
    fn malformed_marks_are_errors_that_name_the_annotation() {
        let e = marks_of(&with(json!({"sextant.dev/hook": "Presync"}))).unwrap_err();
        assert!(e.to_string().contains("sextant.dev/hook") && e.to_string().contains("Presync"));
        let e = marks_of(&with(json!({"argocd.argoproj.io/sync-wave": "one"}))).unwrap_err();
        assert!(
            e.to_string().contains("argocd.argoproj.io/sync-wave"),
            "{e}"
        );
        let e = marks_of(&with(
            json!({"sextant.dev/hook": "PreSync", "sextant.dev/hook-delete-policy": "Never"}),
        ))
        .unwrap_err();
        assert!(e.to_string().contains("Never"), "{e}");
        let e = marks_of(&with(json!({"sextant.dev/sync-options": "Prune=maybe"}))).unwrap_err();
        assert!(e.to_string().contains("Prune=maybe"), "{e}");
    }

    #[test]
    fn keep_prune_false_and_delete_false_protect_an_object() {
        let m = marks_of(&with(json!({"helm.sh/resource-policy": "keep"}))).unwrap();
        assert!(!m.may_prune() && !m.may_delete());
        let m = marks_of(&with(json!({"sextant.dev/sync-options": "Prune=false"}))).unwrap();
        assert!(!m.may_prune() && m.may_delete());
        let m = marks_of(&with(
            json!({"argocd.argoproj.io/sync-options": "Delete=false"}),
        ))
        .unwrap();
        assert!(!m.may_prune() && !m.may_delete());
        assert!(marks_of(&with(json!({}))).unwrap().may_prune());
    }
}
