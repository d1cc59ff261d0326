//! `--plugin-config`: config management plugins for the commands that
//! render without a cluster to read them from (`sextant render`,
//! `sextant preview`), from the same files a cluster holds — a
//! `ConfigManagementPlugin` manifest (Argo CD's `plugin.yaml`) or a
//! ConfigMap of them (`sextant-cmp-cm` / `argocd-cmp-cm`).

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use sextant_render::Plugin;

/// Plugin declarations from files.
#[derive(Clone, Debug, Default, Args)]
pub struct PluginArgs {
    /// A config management plugin: a ConfigManagementPlugin manifest
    /// (plugin.yaml) or a ConfigMap holding them (sextant-cmp-cm,
    /// argocd-cmp-cm); repeatable.
    #[arg(long, value_name = "FILE")]
    pub plugin_config: Vec<PathBuf>,
}

impl PluginArgs {
    /// The plugins the files declare; a file that declares none, or
    /// declares one wrongly, is an error naming it.
    pub fn load(&self) -> anyhow::Result<Vec<Plugin>> {
        let mut plugins = Vec::new();
        for file in &self.plugin_config {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("could not read {}", file.display()))?;
            let at = file.display().to_string();
            let value: serde_json::Value =
                serde_yaml_ng::from_str(&text).with_context(|| format!("{at} is not YAML"))?;
            let (mut found, mut problems) = (Vec::new(), Vec::new());
            if value.get("kind").and_then(|k| k.as_str()) == Some("ConfigMap") {
                let data: std::collections::BTreeMap<String, String> = value
                    .get("data")
                    .cloned()
                    .map(serde_json::from_value)
                    .transpose()
                    .with_context(|| format!("{at}: the ConfigMap's data is not text"))?
                    .unwrap_or_default();
                let name = value
                    .pointer("/metadata/name")
                    .and_then(|n| n.as_str())
                    .unwrap_or("?");
                sextant_render::plugin::from_config_map(
                    "(file)",
                    name,
                    &data,
                    &mut found,
                    &mut problems,
                );
            } else {
                let (plugin, unsupported) =
                    Plugin::parse(&text, &at).map_err(anyhow::Error::msg)?;
                found.push(plugin);
                problems.extend(unsupported);
            }
            if let Some(p) = problems.first() {
                anyhow::bail!("{p}");
            }
            if found.is_empty() {
                anyhow::bail!("{at} declares no config management plugin");
            }
            for p in found {
                if plugins.iter().any(|q: &Plugin| q.name == p.name) {
                    anyhow::bail!("plugin `{}` is declared twice (again in {at})", p.name);
                }
                plugins.push(p);
            }
        }
        Ok(plugins)
    }

    /// What a render gets besides the source: these plugins.
    pub fn extras(&self) -> anyhow::Result<sextant_controller::source::RenderExtras> {
        Ok(sextant_controller::source::RenderExtras {
            kustomize_build_options: Vec::new(),
            plugins: std::sync::Arc::new(self.load()?),
        })
    }
}
