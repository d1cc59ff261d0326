//! Config management plugins: a team's own tool (kustomize then helm, a
//! templating program) declared the way Argo CD declares one — a
//! `ConfigManagementPlugin` manifest with init and generate commands,
//! discovery rules and parameter announcements — and run through the one
//! subprocess runner ([`crate::runner`]) in a private copy of the checkout.
//!
//! - [`Plugin`]: a declared plugin ([`Plugin::parse`] reads the manifest,
//!   [`from_config_map`] every manifest of a ConfigMap).
//! - [`PluginSource`]: what an Application asks (`spec.source.plugin`: a
//!   name or discovery, environment, parameters).
//! - [`choose`] picks the plugin for a source, [`generate`] runs it.

mod discover;
mod generate;
mod manifest;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use generate::generate;
pub use manifest::from_config_map;

use crate::glob::GlobError;
use crate::runner::RunError;

/// The ConfigMaps plugins are declared in, in the controller's namespace:
/// Sextant's, then Argo CD's (the name its CMP examples use).
pub const PLUGIN_CONFIG_MAPS: [&str; 2] = ["sextant-cmp-cm", "argocd-cmp-cm"];

/// A command of a plugin: the program and its first arguments
/// (`command`), then the rest (`args`), as Argo CD splits them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PluginCommand {
    /// The program, then arguments.
    pub command: Vec<String>,
    /// More arguments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
}

impl PluginCommand {
    /// The argument vector: `command` then `args`.
    pub fn argv(&self) -> impl Iterator<Item = &str> {
        self.command.iter().chain(&self.args).map(String::as_str)
    }
}

/// When a plugin applies to a source, by its files. Only the first rule
/// set is used, in this order (as Argo CD does).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Discover {
    /// A glob of one folder level at a time (Go's `filepath.Glob`),
    /// relative to the source folder: `./subdir/s*.yaml`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// A glob that may cross folders with `**`: `**/Chart.yaml`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub find_glob: Option<String>,
    /// A command run in the source folder: it applies when the command
    /// succeeds and prints something.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub find_command: Option<PluginCommand>,
}

impl Discover {
    /// Whether any rule is set.
    pub fn is_set(&self) -> bool {
        self.file_name.as_deref().is_some_and(|s| !s.is_empty())
            || self.find_glob.as_deref().is_some_and(|s| !s.is_empty())
            || self.find_command.is_some()
    }

    /// The rule in force, in words (for messages).
    pub fn describe(&self) -> String {
        if let Some(f) = self.file_name.as_deref().filter(|s| !s.is_empty()) {
            format!("discover.fileName `{f}`")
        } else if let Some(g) = self.find_glob.as_deref().filter(|s| !s.is_empty()) {
            format!("discover.find.glob `{g}`")
        } else if let Some(c) = &self.find_command {
            format!(
                "discover.find.command `{}`",
                c.argv().collect::<Vec<_>>().join(" ")
            )
        } else {
            "no discovery rule".to_owned()
        }
    }
}

/// A parameter the plugin announces (for the UI and `sextant plugin
/// list`); never sent to the plugin, as in Argo CD: only what the app sets
/// is.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParameterAnnouncement {
    /// The parameter's name.
    pub name: String,
    /// A short description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Whether the user must set it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    /// `string`, `array` or `map`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub collection_type: String,
    /// The default of a string parameter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string: Option<String>,
    /// The default of an array parameter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub array: Option<Vec<String>>,
    /// The default of a map parameter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub map: Option<BTreeMap<String, String>>,
}

/// A declared plugin.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Plugin {
    /// The name apps use: `metadata.name`, or `<name>-<spec.version>`
    /// when a version is set.
    pub name: String,
    /// Run first, in the source folder; its output is not used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init: Option<PluginCommand>,
    /// Prints the objects (YAML or JSON) on standard output.
    pub generate: PluginCommand,
    /// When the plugin applies without being named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discover: Option<Discover>,
    /// Keep the files' modes (executable scripts stay executable);
    /// otherwise every file is a plain `0644` file.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub preserve_file_mode: bool,
    /// Parameters it announces.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<ParameterAnnouncement>,
    /// Where it is declared (`ConfigMap sextant/sextant-cmp-cm, key
    /// plugin.yaml`), for messages.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub declared_in: String,
}

impl Plugin {
    /// Whether it has a discovery rule (a plugin without one is used only
    /// when an app names it).
    pub fn discoverable(&self) -> bool {
        self.discover.as_ref().is_some_and(Discover::is_set)
    }
}

/// An environment variable an app gives its plugin (`ARGOCD_ENV_` is put
/// before its name).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PluginEnv {
    /// The name, without the prefix.
    pub name: String,
    /// The value; the build environment is substituted in it.
    pub value: String,
}

/// A parameter an app sets: one of a string, an array or a map.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PluginParameter {
    /// Its name.
    pub name: String,
    /// A string value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string: Option<String>,
    /// An array value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub array: Option<Vec<String>>,
    /// A map value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub map: Option<BTreeMap<String, String>>,
}

/// What an Application asks of plugins (`spec.source.plugin`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PluginSource {
    /// The plugin by name; none: the one whose discovery matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Environment for its commands.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<PluginEnv>,
    /// Parameters for its commands.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<PluginParameter>,
}

/// Why a plugin could not be chosen or run.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// The app names a plugin nobody declared.
    #[error(
        "the app asks for config management plugin `{name}`, which is not declared ({known}); declare it in the ConfigMap {maps} of the controller's namespace, or fix spec.source.plugin.name (a plugin with spec.version `v` is named `<name>-v`)",
        maps = PLUGIN_CONFIG_MAPS.join(" or ")
    )]
    Unknown {
        /// The name asked.
        name: String,
        /// The declared ones, in words.
        known: String,
    },
    /// The named plugin's discovery rule does not match the source.
    #[error(
        "config management plugin `{name}` does not apply to `{path}`: its {rule} matches nothing there (fix the rule, or the app's path)"
    )]
    NotMatching {
        /// The plugin.
        name: String,
        /// The source folder.
        path: String,
        /// The rule.
        rule: String,
    },
    /// `plugin: {}` without a name, and no discovery rule matches.
    #[error(
        "spec.source.plugin names no plugin and no declared plugin's discovery rule matches `{path}` ({tried}); name the plugin in spec.source.plugin.name"
    )]
    NoneMatches {
        /// The source folder.
        path: String,
        /// The plugins tried, in words.
        tried: String,
    },
    /// A command's program is not there.
    #[error(
        "the {step} command of config management plugin `{plugin}` names `{program}`, which is not on the controller's PATH nor an absolute path to a program"
    )]
    ProgramNotFound {
        /// The plugin.
        plugin: String,
        /// `init`, `generate` or `discover`.
        step: &'static str,
        /// The program.
        program: String,
    },
    /// A command is empty.
    #[error("the {step} command of config management plugin `{plugin}` is empty")]
    EmptyCommand {
        /// The plugin.
        plugin: String,
        /// The step.
        step: &'static str,
    },
    /// A command failed, timed out or wrote too much.
    #[error("the {step} command of config management plugin `{plugin}` failed")]
    Run {
        /// The plugin.
        plugin: String,
        /// The step.
        step: &'static str,
        /// What happened.
        #[source]
        source: RunError,
    },
    /// A discovery glob is malformed.
    #[error("config management plugin `{plugin}`: {source}")]
    Pattern {
        /// The plugin.
        plugin: String,
        /// The pattern's fault.
        #[source]
        source: GlobError,
    },
    /// The private copy of the checkout could not be made.
    #[error("could not copy the checkout for config management plugin `{plugin}`")]
    WorkTree {
        /// The plugin.
        plugin: String,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
}

/// The plugin that renders the source at `folder` of `root`, if any:
/// - an app that names one gets it, when its discovery rule (if it has
///   one) matches;
/// - an app with `plugin: {}` gets the first (by name) whose rule matches;
/// - an app with no plugin and no forced kind gets the first whose rule
///   matches too, before Kustomize, Helm and plain directories are looked
///   for (Argo CD's order); none matching is not an error then.
///
/// Discovery commands run in `work`, the private copy made on first need.
pub fn choose<'p>(
    root: &std::path::Path,
    folder: &std::path::Path,
    options: &'p crate::options::RenderOptions,
    tools: &crate::tools::Tools,
    work: &mut generate::WorkTree,
) -> Result<Option<&'p Plugin>, PluginError> {
    let path = if folder.as_os_str().is_empty() {
        ".".to_owned()
    } else {
        folder.display().to_string()
    };
    let Some(asked) = &options.plugin else {
        if options.kind.is_some() {
            return Ok(None);
        }
        return first_matching(root, folder, options, tools, work);
    };
    match asked.name.as_deref().filter(|n| !n.is_empty()) {
        Some(name) => {
            let Some(plugin) = options.plugins.iter().find(|p| p.name == name) else {
                return Err(PluginError::Unknown {
                    name: name.to_owned(),
                    known: known(&options.plugins),
                });
            };
            if plugin.discoverable()
                && !discover::matches(root, folder, plugin, options, tools, work)?
            {
                return Err(PluginError::NotMatching {
                    name: name.to_owned(),
                    path,
                    rule: plugin
                        .discover
                        .as_ref()
                        .map(Discover::describe)
                        .unwrap_or_default(),
                });
            }
            Ok(Some(plugin))
        }
        None => match first_matching(root, folder, options, tools, work)? {
            Some(plugin) => Ok(Some(plugin)),
            None => Err(PluginError::NoneMatches {
                path,
                tried: known(
                    &options
                        .plugins
                        .iter()
                        .filter(|p| p.discoverable())
                        .cloned()
                        .collect::<Vec<_>>(),
                ),
            }),
        },
    }
}

fn first_matching<'p>(
    root: &std::path::Path,
    folder: &std::path::Path,
    options: &'p crate::options::RenderOptions,
    tools: &crate::tools::Tools,
    work: &mut generate::WorkTree,
) -> Result<Option<&'p Plugin>, PluginError> {
    let mut candidates: Vec<&Plugin> = options
        .plugins
        .iter()
        .filter(|p| p.discoverable())
        .collect();
    candidates.sort_by(|a, b| a.name.cmp(&b.name));
    for plugin in candidates {
        if discover::matches(root, folder, plugin, options, tools, work)? {
            return Ok(Some(plugin));
        }
    }
    Ok(None)
}

fn known(plugins: &[Plugin]) -> String {
    if plugins.is_empty() {
        return "none is declared".to_owned();
    }
    let names: Vec<String> = plugins.iter().map(|p| format!("`{}`", p.name)).collect();
    format!("declared: {}", names.join(", "))
}

pub use generate::WorkTree;
