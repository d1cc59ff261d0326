//! Resource actions, in Argo CD's format: per group and kind, a discovery
//! script (`discovery.lua`: `obj` in, a table of action names to
//! `{disabled, displayName, iconClass}` out) and one script per action
//! (`action.lua`: `obj` in, the changed object out, or a list of
//! `{operation = "patch" | "create", resource = ...}`). They run in the same
//! sandbox and under the same limits as health scripts.
//!
//! Built in (our own scripts, in `builtin/`): restart for Deployments,
//! StatefulSets and DaemonSets, pause and resume for Deployments, run now
//! (`create-job`), suspend and resume for CronJobs. Custom actions come from
//! the settings ConfigMap (`resource.customizations.actions.<group>_<kind>`
//! or the nested `actions` field) or a customizations directory
//! (`GROUP/KIND/actions/discovery.lua`, `.../actions/NAME/action.lua`); they
//! replace a kind's built-in actions unless `mergeBuiltinActions: true`.
//!
//! Pure: no IO. What an action returns is checked here (a patch may change
//! only the object it ran on, and not its identity; a new object must be
//! namespaced in the same namespace); applying it is the caller's.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::diff::ObjectKey;
use crate::health::Script;
use crate::health::lua::{self, LuaError, LuaLimits};

mod builtin;

/// What an action may do, as its discovery script says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionInfo {
    /// The action's name (`restart`).
    pub name: String,
    /// Whether it cannot run now (`resume` on a Deployment not paused).
    #[serde(default)]
    pub disabled: bool,
    /// A name for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// An icon class for the UI (Font Awesome names, as Argo CD's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon_class: Option<String>,
}

/// What an action does to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    /// Change the object the action ran on.
    Patch,
    /// Create a new object.
    Create,
}

/// One object an action changes or creates.
#[derive(Debug, Clone, PartialEq)]
pub struct Impact {
    /// Patch or create.
    pub operation: Operation,
    /// The object as the action left it (patch) or made it (create).
    pub object: Value,
}

/// Why actions could not be listed or run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionError {
    /// The kind has no actions, or not this one.
    #[error("{target} has no action {action:?} (it has: {available})")]
    Unknown {
        /// The object.
        target: String,
        /// The action asked for.
        action: String,
        /// The actions it has, comma-separated, or `none`.
        available: String,
    },
    /// Discovery says the action cannot run now.
    #[error("action {action:?} is disabled for {target} now")]
    Disabled {
        /// The object.
        target: String,
        /// The action.
        action: String,
    },
    /// A script failed, timed out or returned something unusable.
    #[error("{0}")]
    Script(String),
    /// The action's result is not allowed.
    #[error("action {action:?} on {target}: {problem}")]
    Refused {
        /// The object.
        target: String,
        /// The action.
        action: String,
        /// What was wrong.
        problem: String,
    },
    /// A custom action definition does not parse.
    #[error("{0}")]
    Definition(String),
}

/// One kind's actions.
#[derive(Debug, Clone, Default)]
struct KindActions {
    discovery: Option<Script>,
    definitions: BTreeMap<String, Script>,
    /// Custom actions that keep the built-in ones of their kind.
    merge_builtin: bool,
}

/// Actions by group and kind: the built-in ones, with custom ones over them.
/// Cheap to clone (scripts are shared), `Send` and `Sync`.
#[derive(Debug, Clone)]
pub struct ResourceActions {
    builtin: HashMap<(String, String), KindActions>,
    custom: HashMap<(String, String), KindActions>,
    limits: LuaLimits,
}

impl Default for ResourceActions {
    fn default() -> Self {
        Self {
            builtin: builtin::all(),
            custom: HashMap::new(),
            limits: LuaLimits::default(),
        }
    }
}

/// A custom kind's actions as the settings ConfigMap writes them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomDefinition {
    #[serde(rename = "discovery.lua", default)]
    discovery: Option<String>,
    #[serde(default)]
    definitions: Vec<CustomAction>,
    #[serde(rename = "mergeBuiltinActions", default)]
    merge_builtin_actions: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomAction {
    name: String,
    #[serde(rename = "action.lua")]
    action: String,
}

/// `GROUP/KIND` or `KIND` (core group).
fn split_key(key: &str) -> Result<(String, String), ActionError> {
    let (group, kind) = key.rsplit_once('/').unwrap_or(("", key));
    if kind.is_empty() {
        return Err(ActionError::Definition(format!(
            "actions key {key:?} is not GROUP/KIND or KIND"
        )));
    }
    Ok((group.to_owned(), kind.to_owned()))
}

impl ResourceActions {
    /// The built-in actions only.
    pub fn new() -> Self {
        Self::default()
    }

    /// Run scripts under `limits`.
    pub fn with_limits(mut self, limits: LuaLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Add the custom actions of `key` (`GROUP/KIND`) from the settings'
    /// YAML (`discovery.lua`, `definitions`, `mergeBuiltinActions`).
    pub fn insert_definition(&mut self, key: &str, yaml: &str) -> Result<(), ActionError> {
        let (group, kind) = split_key(key)?;
        let parsed: CustomDefinition = serde_yaml_ng::from_str(yaml).map_err(|e| {
            ActionError::Definition(format!(
                "actions of {key}: not discovery.lua, definitions (name, action.lua) and mergeBuiltinActions: {e}"
            ))
        })?;
        let entry = self.custom.entry((group, kind)).or_default();
        entry.merge_builtin = parsed.merge_builtin_actions;
        if let Some(source) = parsed.discovery {
            entry.discovery = Some(Script {
                name: format!("{key} actions/discovery.lua"),
                source: source.into(),
            });
        }
        for action in parsed.definitions {
            entry.definitions.insert(
                action.name.clone(),
                Script {
                    name: format!("{key} actions/{}/action.lua", action.name),
                    source: action.action.into(),
                },
            );
        }
        Ok(())
    }

    /// Take a file of a customizations directory (Argo CD's layout):
    /// `[GROUP/]KIND/actions/discovery.lua` or
    /// `[GROUP/]KIND/actions/NAME/action.lua`. Returns whether it was one.
    pub fn insert_file(&mut self, relative_path: &str, source: impl Into<Arc<str>>) -> bool {
        let parts: Vec<&str> = relative_path.split('/').collect();
        let (group, kind, rest) = match parts.as_slice() {
            [kind, "actions", rest @ ..] => ("", *kind, rest),
            [group, kind, "actions", rest @ ..] => (*group, *kind, rest),
            _ => return false,
        };
        let script = Script {
            name: relative_path.to_owned(),
            source: source.into(),
        };
        let entry = self
            .custom
            .entry((group.to_owned(), kind.to_owned()))
            .or_default();
        match rest {
            ["discovery.lua"] => entry.discovery = Some(script),
            [name, "action.lua"] => {
                entry.definitions.insert((*name).to_owned(), script);
            }
            _ => return false,
        }
        true
    }

    /// These actions with `other`'s custom ones over them (for a kind both
    /// define, `other`'s).
    pub fn with_overrides(mut self, other: &ResourceActions) -> Self {
        for (key, actions) in &other.custom {
            self.custom.insert(key.clone(), actions.clone());
        }
        self
    }

    /// Whether any custom actions were added.
    pub fn has_custom(&self) -> bool {
        !self.custom.is_empty()
    }

    /// The actions of `obj`'s kind and what discovery says of each, sorted
    /// by name. A kind without actions has none.
    pub fn discover(&self, obj: &Value) -> Result<Vec<ActionInfo>, ActionError> {
        let mut found: BTreeMap<String, ActionInfo> = BTreeMap::new();
        for kind in self.layers(obj) {
            let Some(discovery) = &kind.discovery else {
                continue;
            };
            let listed = lua::evaluate_value(discovery, obj, &[], &self.limits)
                .map_err(|e| ActionError::Script(describe(&e)))?;
            found.extend(read_discovery(&discovery.name, &listed)?);
        }
        Ok(found.into_values().collect())
    }

    /// Run `action` on `obj`: what it changes and creates, checked.
    pub fn run(&self, action: &str, obj: &Value) -> Result<Vec<Impact>, ActionError> {
        let target = ObjectKey::of(obj).to_string();
        let listed = self.discover(obj)?;
        let Some(info) = listed.iter().find(|a| a.name == action) else {
            let names: Vec<&str> = listed.iter().map(|a| a.name.as_str()).collect();
            return Err(ActionError::Unknown {
                target,
                action: action.to_owned(),
                available: if names.is_empty() {
                    "none".to_owned()
                } else {
                    names.join(", ")
                },
            });
        };
        if info.disabled {
            return Err(ActionError::Disabled {
                target,
                action: action.to_owned(),
            });
        }
        let script = self
            .layers(obj)
            .into_iter()
            .rev()
            .find_map(|k| k.definitions.get(action))
            .ok_or_else(|| ActionError::Refused {
                target: target.clone(),
                action: action.to_owned(),
                problem: "discovery lists it, but there is no action.lua for it".to_owned(),
            })?;
        let returned = lua::evaluate_value(script, obj, &[], &self.limits)
            .map_err(|e| ActionError::Script(describe(&e)))?;
        let refuse = |problem: String| ActionError::Refused {
            target: target.clone(),
            action: action.to_owned(),
            problem,
        };
        let impacts = read_impacts(returned).map_err(refuse)?;
        check_impacts(obj, &impacts).map_err(refuse)?;
        Ok(impacts)
    }

    /// The action sets that apply to `obj`, built-in first: the built-in
    /// ones alone, the custom ones alone, or both when the custom ones say
    /// `mergeBuiltinActions`.
    fn layers(&self, obj: &Value) -> Vec<&KindActions> {
        let key = ObjectKey::of(obj);
        let gk = (key.group, key.kind);
        match (self.builtin.get(&gk), self.custom.get(&gk)) {
            (Some(b), Some(c)) if c.merge_builtin => vec![b, c],
            (_, Some(c)) => vec![c],
            (Some(b), None) => vec![b],
            (None, None) => Vec::new(),
        }
    }
}

/// A script error as one line, naming the script as an action's.
fn describe(error: &LuaError) -> String {
    lua::describe_error(error).replacen("health script", "action script", 1)
}

/// Discovery's table: action name to `{disabled, displayName, iconClass}`.
fn read_discovery(script: &str, listed: &Value) -> Result<Vec<(String, ActionInfo)>, ActionError> {
    let bad = |what: &str| {
        ActionError::Script(format!(
            "action script {script} returned {what}, expected a table of action names to {{disabled, displayName, iconClass}}"
        ))
    };
    let map = match listed {
        Value::Object(map) => map,
        Value::Array(items) if items.is_empty() => return Ok(Vec::new()),
        Value::Null => return Ok(Vec::new()),
        _ => return Err(bad("something else")),
    };
    let mut out = Vec::new();
    for (name, fields) in map {
        let text = |field: &str| fields.get(field).and_then(Value::as_str).map(str::to_owned);
        if !(fields.is_object() || fields.as_array().is_some_and(Vec::is_empty)) {
            return Err(bad(&format!("{name} = a {}", kind_of(fields))));
        }
        out.push((
            name.clone(),
            ActionInfo {
                name: name.clone(),
                disabled: fields.get("disabled").and_then(Value::as_bool) == Some(true),
                display_name: text("displayName"),
                icon_class: text("iconClass"),
            },
        ));
    }
    Ok(out)
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "nil",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) | Value::Object(_) => "table",
    }
}

/// An action's result: the changed object, or a list of
/// `{operation, resource}`.
fn read_impacts(returned: Value) -> Result<Vec<Impact>, String> {
    match returned {
        Value::Object(_) => Ok(vec![Impact {
            operation: Operation::Patch,
            object: returned,
        }]),
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, item)| {
                let operation = match item.get("operation").and_then(Value::as_str) {
                    Some("patch") => Operation::Patch,
                    Some("create") => Operation::Create,
                    other => {
                        return Err(format!(
                            "result {} has operation {other:?}; expected \"patch\" or \"create\"",
                            i + 1
                        ));
                    }
                };
                match item.get("resource") {
                    Some(object @ Value::Object(_)) => Ok(Impact {
                        operation,
                        object: object.clone(),
                    }),
                    _ => Err(format!("result {} has no resource object", i + 1)),
                }
            })
            .collect(),
        other => Err(format!(
            "it returned a {}, expected the changed object or a list of {{operation, resource}}",
            kind_of(&other)
        )),
    }
}

/// A patch changes only the object the action ran on, without renaming
/// it; a new object is namespaced in that object's namespace (cluster-wide
/// objects, or objects elsewhere, are beyond what an app's action may make).
fn check_impacts(obj: &Value, impacts: &[Impact]) -> Result<(), String> {
    let target = ObjectKey::of(obj);
    for impact in impacts {
        let key = ObjectKey::of(&impact.object);
        match impact.operation {
            Operation::Patch => {
                if key.group != target.group
                    || key.kind != target.kind
                    || key.name != target.name
                    || key.namespace != target.namespace
                {
                    return Err(format!(
                        "it patches {key}, but an action may only change the object it runs on"
                    ));
                }
            }
            Operation::Create => {
                if key.kind.is_empty() || key.name.is_empty() || key.api_version.is_empty() {
                    return Err(
                        "it creates an object without apiVersion, kind or metadata.name".to_owned(),
                    );
                }
                if key.namespace != target.namespace || target.namespace.is_empty() {
                    return Err(format!(
                        "it creates {key}, outside namespace {:?} of the object it runs on",
                        target.namespace
                    ));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
