//! The controller's settings that may change while it runs: health scripts,
//! system-wide ignoreDifferences and the tracking method, from the flags and from the settings
//! ConfigMap of its namespace (`argocd-cm` under Argo CD's group,
//! `sextant-cm` under Sextant's; Argo CD's keys in both). A change of the
//! ConfigMap applies at once, without a restart: every app is compared
//! again under the new settings.

pub mod config_map;
pub mod resource_filter;

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use sextant_engine::diff::IgnoreRule;
use sextant_engine::health::HealthCustomizations;

use crate::tracking::Tracking;
use resource_filter::ResourceFilter;
use sextant_engine::actions::ResourceActions;

/// The name of the settings ConfigMap for the process's API group.
pub fn config_map_name() -> &'static str {
    sextant_model::group::selected().settings_config_map()
}

/// One consistent set of settings; a reconcile reads one and keeps it.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Health scripts by group and kind.
    pub health: HealthCustomizations,
    /// ignoreDifferences rules for every app.
    pub system_ignore: Vec<IgnoreRule>,
    /// How objects are known as an app's.
    pub tracking: Arc<Tracking>,
    /// Kinds left alone (`resource.exclusions` / `resource.inclusions`).
    pub resource_filter: ResourceFilter,
    /// How often Git is asked (`timeout.reconciliation`), over the flag.
    pub reconciliation: Option<std::time::Duration>,
    /// Extra `kustomize build` flags (`kustomize.buildOptions`).
    pub kustomize_build_options: Vec<String>,
    /// Resource actions: the built-in ones, with the ConfigMap's custom
    /// ones (read by the CLI and the API server, which run them).
    pub actions: ResourceActions,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            health: HealthCustomizations::default(),
            system_ignore: Vec::new(),
            tracking: Arc::new(crate::tracking::default_tracking()),
            resource_filter: ResourceFilter::default(),
            reconciliation: None,
            kustomize_build_options: Vec::new(),
            actions: ResourceActions::new(),
        }
    }
}

/// The settings in force: the flags' (`base`), with the ConfigMap's over
/// them.
#[derive(Debug)]
pub struct Current {
    base: Settings,
    state: RwLock<Applied>,
}

/// The ConfigMap data last applied (so an unchanged ConfigMap changes
/// nothing) and the settings made from it, replaced together.
#[derive(Debug)]
struct Applied {
    data: Option<BTreeMap<String, String>>,
    settings: Arc<Settings>,
}

impl Current {
    /// The flags' settings, no ConfigMap read yet.
    pub fn new(base: Settings) -> Self {
        Current {
            state: RwLock::new(Applied {
                data: None,
                settings: Arc::new(base.clone()),
            }),
            base,
        }
    }

    /// The settings in force.
    pub fn get(&self) -> Arc<Settings> {
        match self.state.read() {
            Ok(s) => s.settings.clone(),
            Err(poisoned) => poisoned.into_inner().settings.clone(),
        }
    }

    /// Apply the ConfigMap's data (`None`: there is none). Returns whether
    /// anything changed. What cannot be read or is not supported is logged,
    /// naming the key.
    pub fn apply(&self, data: Option<&BTreeMap<String, String>>) -> bool {
        let same = self
            .state
            .read()
            .map(|a| a.data.as_ref() == data)
            .unwrap_or(false);
        if same {
            return false;
        }
        let name = config_map_name();
        let read = data.map(config_map::read).unwrap_or_default();
        let mut problems = read.problems;
        let health = config_map::merge_health(&self.base.health, &read.health, &mut problems);
        let mut system_ignore = self.base.system_ignore.clone();
        system_ignore.extend(read.ignore);
        let mut actions = self.base.actions.clone();
        for (key, yaml) in &read.actions {
            if let Err(e) = actions.insert_definition(key, yaml) {
                problems.push(e.to_string());
            }
        }
        let tracking = match data {
            Some(d) => {
                let (tracking, unreadable) = crate::tracking::from_settings(d);
                problems.extend(unreadable);
                Arc::new(tracking)
            }
            None => self.base.tracking.clone(),
        };
        for p in &problems {
            tracing::warn!(config_map = name, "{name}: {p}; the rest of it applies");
        }
        if !read.unsupported.is_empty() {
            tracing::warn!(
                config_map = name,
                "{name}: not supported by Sextant, ignored: {}",
                read.unsupported.join(", ")
            );
        }
        tracing::info!(
            config_map = name,
            health_scripts = health.len(),
            ignore_rules = system_ignore.len(),
            tracking = %tracking.method,
            "settings applied"
        );
        let next = Applied {
            data: data.cloned(),
            settings: Arc::new(Settings {
                health,
                system_ignore,
                tracking,
                resource_filter: ResourceFilter {
                    exclusions: read.exclusions.unwrap_or_default(),
                    inclusions: read.inclusions.unwrap_or_default(),
                },
                reconciliation: read.reconciliation.or(self.base.reconciliation),
                kustomize_build_options: read
                    .kustomize_build_options
                    .unwrap_or_else(|| self.base.kustomize_build_options.clone()),
                actions,
            }),
        };
        if let Ok(mut state) = self.state.write() {
            *state = next;
        }
        true
    }
}

/// Read the ConfigMap once (at start, so the first comparisons use it).
pub async fn load(api: &Api<ConfigMap>, current: &Current) {
    match api.get_opt(config_map_name()).await {
        Ok(cm) => {
            current.apply(cm.and_then(|c| c.data).as_ref());
        }
        Err(e) => tracing::warn!(
            error = %e,
            "could not read the settings ConfigMap {}; the flags' settings apply until it can be",
            config_map_name()
        ),
    }
}

/// The settings of the ConfigMap in `namespace`, read once, over the
/// defaults (for the CLI and the API server, which act on them without
/// following changes). Without the ConfigMap, or when it cannot be read,
/// the defaults, with a warning naming it.
pub async fn read_once(client: &kube::Client, namespace: &str) -> Arc<Settings> {
    let current = Current::new(Settings::default());
    load(&Api::namespaced(client.clone(), namespace), &current).await;
    current.get()
}

/// Follow the ConfigMap: each change is applied and `changed` called.
pub async fn follow(api: Api<ConfigMap>, current: &Current, changed: impl Fn()) {
    let config = watcher::Config::default().fields(&format!("metadata.name={}", config_map_name()));
    let mut stream = watcher::watcher(api, config).default_backoff().boxed();
    let mut seen = false;
    while let Some(event) = stream.next().await {
        let applied = match event {
            Ok(Event::Init) => {
                seen = false;
                false
            }
            Ok(Event::InitApply(cm)) | Ok(Event::Apply(cm)) => {
                seen = true;
                current.apply(cm.data.as_ref())
            }
            Ok(Event::InitDone) if !seen => current.apply(None),
            Ok(Event::InitDone) => false,
            Ok(Event::Delete(_)) => current.apply(None),
            Err(e) => {
                tracing::warn!(error = %e, "watching the settings ConfigMap failed; retrying");
                false
            }
        };
        if applied {
            changed();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applying_the_same_data_twice_changes_nothing_and_removal_restores_the_flags() {
        let mut base = Settings::default();
        base.health
            .insert("batch/Job", "return {status = \"Healthy\"}")
            .unwrap();
        let current = Current::new(base);
        let data: BTreeMap<String, String> = [(
            "resource.customizations.ignoreDifferences.apps_Deployment".to_owned(),
            "jsonPointers: [/spec/replicas]".to_owned(),
        )]
        .into();
        assert!(current.apply(Some(&data)));
        assert_eq!(current.get().system_ignore.len(), 1);
        assert_eq!(current.get().health.len(), 1, "the flags' script stays");
        assert!(!current.apply(Some(&data)), "unchanged");
        assert!(current.apply(None));
        assert!(current.get().system_ignore.is_empty());
        assert_eq!(current.get().health.len(), 1);
    }
}
