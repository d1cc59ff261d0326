//! The config management plugins declared in the controller's namespace
//! (`sextant-cmp-cm`, then Argo CD's `argocd-cmp-cm`: one
//! `ConfigManagementPlugin` manifest per key), followed while the
//! controller runs and read once by the API server and the CLI; and an
//! Application's `source.plugin` in the renderer's terms.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use sextant_model::application::ApplicationSourcePlugin;
use sextant_render::plugin::{
    PLUGIN_CONFIG_MAPS, Plugin, PluginEnv, PluginParameter, PluginSource, from_config_map,
};

/// `source.plugin` as the renderer takes it.
pub fn plugin_source(p: &ApplicationSourcePlugin) -> PluginSource {
    PluginSource {
        name: p.name.clone().filter(|n| !n.is_empty()),
        env: p
            .env
            .iter()
            .flatten()
            .map(|e| PluginEnv {
                name: e.name.clone(),
                value: e.value.clone(),
            })
            .collect(),
        parameters: p
            .parameters
            .iter()
            .flatten()
            .map(|p| PluginParameter {
                name: p.name.clone(),
                string: p.string.clone(),
                array: p.array.clone(),
                map: p.map.clone(),
            })
            .collect(),
    }
}

/// The plugins declared in the ConfigMaps `data_of` gives (by name), in
/// [`PLUGIN_CONFIG_MAPS`] order, and what is wrong in them.
pub fn declared<'a>(
    namespace: &str,
    data_of: impl Fn(&str) -> Option<&'a BTreeMap<String, String>>,
) -> (Vec<Plugin>, Vec<String>) {
    let (mut plugins, mut problems) = (Vec::new(), Vec::new());
    for name in PLUGIN_CONFIG_MAPS {
        if let Some(data) = data_of(name) {
            from_config_map(namespace, name, data, &mut plugins, &mut problems);
        }
    }
    (plugins, problems)
}

/// The plugins of `namespace`, read once (the API server, `sextant app
/// diff`); problems are logged, an unreadable ConfigMap counts as absent.
pub async fn read_once(client: &kube::Client, namespace: &str) -> Vec<Plugin> {
    let api: kube::Api<ConfigMap> = kube::Api::namespaced(client.clone(), namespace);
    let mut found = BTreeMap::new();
    for name in PLUGIN_CONFIG_MAPS {
        match api.get_opt(name).await {
            Ok(Some(cm)) => {
                found.insert(name.to_owned(), cm.data.unwrap_or_default());
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(config_map = name, error = %e, "could not read the plugin declarations");
            }
        }
    }
    let (plugins, problems) = declared(namespace, |n| found.get(n));
    log_problems(&problems);
    plugins
}

fn log_problems(problems: &[String]) {
    for p in problems {
        tracing::warn!(problem = %p, "a config management plugin declaration is not used as written");
    }
}

/// Keep `sources`' plugins equal to the declarations of `api`'s namespace;
/// `changed` is called when they change (apps that render with a plugin,
/// or could be discovered by one, render again).
pub(crate) async fn follow(
    api: kube::Api<ConfigMap>,
    namespace: &str,
    sources: &crate::source::Sources,
    changed: impl Fn(),
) {
    crate::config_maps::follow_named(
        api,
        &PLUGIN_CONFIG_MAPS,
        "the config management plugins",
        |seen| {
            let (plugins, problems) = declared(namespace, |n| seen.get(n));
            log_problems(&problems);
            if sources.set_plugins(plugins) {
                tracing::info!("the config management plugins changed");
                changed();
            }
        },
    )
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sextants_config_map_comes_first_and_argo_cds_adds_the_rest() {
        let plugin = |name: &str, cmd: &str| {
            format!(
                "kind: ConfigManagementPlugin\nmetadata: {{name: {name}}}\nspec: {{generate: {{command: [{cmd}]}}}}"
            )
        };
        let maps = BTreeMap::from([
            (
                "argocd-cmp-cm".to_owned(),
                BTreeMap::from([
                    ("plugin.yaml".to_owned(), plugin("tmpl", "argo")),
                    ("other.yaml".to_owned(), plugin("cue", "cue")),
                ]),
            ),
            (
                "sextant-cmp-cm".to_owned(),
                BTreeMap::from([("plugin.yaml".to_owned(), plugin("tmpl", "ours"))]),
            ),
        ]);
        let (plugins, problems) = declared("sx", |n| maps.get(n));
        let names: Vec<(&str, &str)> = plugins
            .iter()
            .map(|p| (p.name.as_str(), p.generate.command[0].as_str()))
            .collect();
        assert_eq!(names, [("tmpl", "ours"), ("cue", "cue")]);
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].contains("argocd-cmp-cm, key plugin.yaml declares plugin `tmpl` again")
        );
    }

    #[test]
    fn an_apps_plugin_block_keeps_its_name_env_and_parameters() {
        let p: ApplicationSourcePlugin = serde_json::from_value(serde_json::json!({
            "name": "",
            "env": [{"name": "FOO", "value": "bar"}],
            "parameters": [{"name": "files", "array": ["a.yaml"]}]
        }))
        .unwrap();
        let s = plugin_source(&p);
        assert_eq!(s.name, None, "an empty name is discovery");
        assert_eq!(s.env[0].name, "FOO");
        assert_eq!(
            s.parameters[0].array.as_deref(),
            Some(&["a.yaml".to_owned()][..])
        );
    }
}
