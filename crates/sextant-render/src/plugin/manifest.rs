//! Reading a `ConfigManagementPlugin` manifest (Argo CD's `plugin.yaml`):
//! one per ConfigMap key, so a team's existing sidecar configuration is
//! taken as it is.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{Discover, ParameterAnnouncement, Plugin, PluginCommand};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    metadata: Metadata,
    #[serde(default)]
    spec: Option<Spec>,
}

#[derive(Default, Deserialize)]
struct Metadata {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Spec {
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    init: Option<Command>,
    #[serde(default)]
    generate: Option<Command>,
    #[serde(default)]
    discover: Option<DiscoverSpec>,
    #[serde(default)]
    parameters: Option<Parameters>,
    #[serde(default)]
    preserve_file_mode: Option<bool>,
    #[serde(default)]
    provide_git_creds: Option<bool>,
}

#[derive(Deserialize)]
struct Command {
    #[serde(default)]
    command: Vec<String>,
    #[serde(default)]
    args: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DiscoverSpec {
    #[serde(default)]
    file_name: Option<String>,
    #[serde(default)]
    find: Option<Find>,
}

#[derive(Deserialize)]
struct Find {
    #[serde(default)]
    glob: Option<String>,
    #[serde(default)]
    command: Option<Vec<String>>,
    #[serde(default)]
    args: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct Parameters {
    #[serde(default, rename = "static")]
    fixed: Vec<ParameterAnnouncement>,
}

impl From<Command> for PluginCommand {
    fn from(c: Command) -> Self {
        PluginCommand {
            command: c.command,
            args: c.args,
        }
    }
}

impl Plugin {
    /// Read one `ConfigManagementPlugin` manifest; `declared_in` says where
    /// it came from, for messages. Also returns what is read but not done
    /// (`provideGitCreds`).
    pub fn parse(text: &str, declared_in: &str) -> Result<(Plugin, Vec<String>), String> {
        let m: Manifest = serde_yaml_ng::from_str(text)
            .map_err(|e| format!("{declared_in} is not a ConfigManagementPlugin manifest: {e}"))?;
        if m.kind.as_deref() != Some("ConfigManagementPlugin") {
            return Err(format!(
                "{declared_in} is not a ConfigManagementPlugin manifest (its kind is {})",
                m.kind.map_or("missing".to_owned(), |k| format!("`{k}`"))
            ));
        }
        let name = m
            .metadata
            .name
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| format!("{declared_in}: the plugin has no metadata.name"))?;
        let spec = m
            .spec
            .ok_or_else(|| format!("{declared_in}: plugin `{name}` has no spec"))?;
        let name = match spec.version.as_deref().filter(|v| !v.is_empty()) {
            Some(v) => format!("{name}-{v}"),
            None => name,
        };
        let generate: PluginCommand = spec
            .generate
            .map(Into::into)
            .filter(|c: &PluginCommand| !c.command.is_empty())
            .ok_or_else(|| {
                format!("{declared_in}: plugin `{name}` has no spec.generate.command")
            })?;
        let discover = spec.discover.map(|d| {
            let find = d.find.unwrap_or(Find {
                glob: None,
                command: None,
                args: None,
            });
            Discover {
                file_name: d.file_name.filter(|s| !s.is_empty()),
                find_glob: find.glob.filter(|s| !s.is_empty()),
                find_command: find
                    .command
                    .filter(|c| !c.is_empty())
                    .map(|command| PluginCommand {
                        command,
                        args: find.args.unwrap_or_default(),
                    }),
            }
        });
        let mut unsupported = Vec::new();
        if spec.provide_git_creds == Some(true) {
            unsupported.push(format!(
                "{declared_in}: plugin `{name}` sets provideGitCreds, which Sextant does not do: its commands get no Git credentials"
            ));
        }
        Ok((
            Plugin {
                name,
                init: spec
                    .init
                    .map(Into::into)
                    .filter(|c: &PluginCommand| !c.command.is_empty()),
                generate,
                discover: discover.filter(Discover::is_set),
                preserve_file_mode: spec.preserve_file_mode.unwrap_or(false),
                parameters: spec.parameters.map(|p| p.fixed).unwrap_or_default(),
                declared_in: declared_in.to_owned(),
            },
            unsupported,
        ))
    }
}

/// Every plugin of a ConfigMap's data (one manifest per key, as a
/// sidecar's `plugin.yaml` is), with what is wrong or left undone in it.
/// A name declared twice keeps its first declaration.
pub fn from_config_map(
    namespace: &str,
    config_map: &str,
    data: &BTreeMap<String, String>,
    plugins: &mut Vec<Plugin>,
    problems: &mut Vec<String>,
) {
    for (key, text) in data {
        let at = format!("ConfigMap {namespace}/{config_map}, key {key}");
        match Plugin::parse(text, &at) {
            Ok((plugin, unsupported)) => {
                problems.extend(unsupported);
                if let Some(first) = plugins.iter().find(|p| p.name == plugin.name) {
                    problems.push(format!(
                        "{at} declares plugin `{}` again (first in {}); the first is used",
                        plugin.name, first.declared_in
                    ));
                } else {
                    plugins.push(plugin);
                }
            }
            Err(e) => problems.push(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: ConfigManagementPlugin
metadata:
  name: kustomized-helm
spec:
  version: v1.0
  init:
    command: [sh, -c]
    args: ["helm dependency build"]
  generate:
    command: [sh, -c, "helm template . | kustomize build"]
  discover:
    find:
      command: [sh, -c, "find . -name kustomization.yaml"]
  parameters:
    static:
      - name: values-files
        title: Value files
        collectionType: array
        array: [values.yaml]
  preserveFileMode: true
"#;

    #[test]
    fn a_manifest_reads_with_its_versioned_name_commands_rule_and_announcements() {
        let (p, unsupported) = Plugin::parse(FULL, "here").unwrap();
        assert_eq!(p.name, "kustomized-helm-v1.0");
        assert_eq!(
            p.init.as_ref().unwrap().argv().collect::<Vec<_>>(),
            ["sh", "-c", "helm dependency build"]
        );
        assert_eq!(p.generate.argv().count(), 3);
        let d = p.discover.as_ref().unwrap();
        assert_eq!(
            d.find_command.as_ref().unwrap().command,
            ["sh", "-c", "find . -name kustomization.yaml"]
        );
        assert!(p.discoverable());
        assert!(p.preserve_file_mode);
        assert_eq!(p.parameters[0].name, "values-files");
        assert_eq!(p.parameters[0].collection_type, "array");
        assert!(unsupported.is_empty());
    }

    #[test]
    fn wrong_or_incomplete_manifests_are_refused_naming_where_they_are() {
        let e = Plugin::parse("kind: ConfigMap\nmetadata: {name: x}", "CM a/b, key k").unwrap_err();
        assert!(
            e.contains("CM a/b, key k") && e.contains("`ConfigMap`"),
            "{e}"
        );
        let e = Plugin::parse(
            "kind: ConfigManagementPlugin\nmetadata: {name: x}\nspec: {init: {command: [true]}}",
            "k",
        )
        .unwrap_err();
        assert!(e.contains("no spec.generate.command"), "{e}");
        let e = Plugin::parse("kind: [", "k").unwrap_err();
        assert!(e.contains("not a ConfigManagementPlugin manifest"), "{e}");
    }

    #[test]
    fn a_config_map_gives_every_plugin_once_and_names_what_it_cannot_do() {
        let data = BTreeMap::from([
            (
                "a.yaml".to_owned(),
                "kind: ConfigManagementPlugin\nmetadata: {name: tmpl}\nspec: {generate: {command: [tmpl]}, provideGitCreds: true}".to_owned(),
            ),
            (
                "b.yaml".to_owned(),
                "kind: ConfigManagementPlugin\nmetadata: {name: tmpl}\nspec: {generate: {command: [other]}}".to_owned(),
            ),
            ("c.yaml".to_owned(), "not: a plugin".to_owned()),
        ]);
        let (mut plugins, mut problems) = (Vec::new(), Vec::new());
        from_config_map("sx", "sextant-cmp-cm", &data, &mut plugins, &mut problems);
        assert_eq!(plugins.len(), 1);
        assert_eq!(plugins[0].generate.command, ["tmpl"]);
        assert_eq!(
            plugins[0].declared_in,
            "ConfigMap sx/sextant-cmp-cm, key a.yaml"
        );
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].contains("provideGitCreds"));
        assert!(problems[1].contains("declares plugin `tmpl` again"));
        assert!(problems[2].contains("key c.yaml"));
    }
}
