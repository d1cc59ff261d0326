//! Reading the settings ConfigMap (`argocd-cm`, or `sextant-cm` under
//! Sextant's own group; the keys are Argo CD's): resource customizations
//! (health Lua and ignoreDifferences), in the nested
//! `resource.customizations` form and in the one-key-per-kind forms
//! (`resource.customizations.health.<group>_<kind>`,
//! `resource.customizations.ignoreDifferences.<group>_<kind>` and `.all`);
//! `resource.exclusions` and `resource.inclusions`;
//! `resource.compareoptions`; `timeout.reconciliation`;
//! `kustomize.buildOptions`. The tracking keys are read by
//! `crate::tracking`.
//!
//! Pure: data in, settings and notes out. A key Sextant does not act on is
//! listed in the notes, never dropped in silence; a value that does not
//! parse is a problem naming the key, and the rest still applies.

use std::collections::BTreeMap;

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use super::resource_filter::{ResourceFilter, ResourceRule};
use sextant_engine::diff::IgnoreRule;
use sextant_engine::health::HealthCustomizations;

const NESTED: &str = "resource.customizations";
const EXCLUSIONS: &str = "resource.exclusions";
const INCLUSIONS: &str = "resource.inclusions";
const COMPARE_OPTIONS: &str = "resource.compareoptions";
const RECONCILIATION: &str = "timeout.reconciliation";
const KUSTOMIZE_BUILD_OPTIONS: &str = "kustomize.buildOptions";
/// The jq path of a ClusterRole's rules when an aggregation rule fills
/// them in (`ignoreAggregatedRoles`).
const AGGREGATED_RULES: &str = "select(.aggregationRule != null) | .rules";
const HEALTH_PREFIX: &str = "resource.customizations.health.";
const IGNORE_PREFIX: &str = "resource.customizations.ignoreDifferences.";
const ACTIONS_PREFIX: &str = "resource.customizations.actions.";

/// Keys that configure parts of Argo CD Sextant has no counterpart of, or
/// that its API server reads: not the controller's to report.
const SERVER_KEYS: &[&str] = &[
    "url",
    "admin.enabled",
    "users.anonymous.enabled",
    "users.session.duration",
    "dex.config",
    "oidc.config",
    "statusbadge.enabled",
    "statusbadge.url",
    "ui.bannercontent",
    "ui.bannerurl",
    "ui.bannerpermanent",
    "ui.bannerposition",
    "ui.cssurl",
    "help.chatUrl",
    "help.chatText",
    "exec.enabled",
    "server.rbac.log.enforce.enable",
    "application.links",
];

/// What the ConfigMap says, on top of the controller's flags.
#[derive(Debug, Clone, Default)]
pub struct FromConfigMap {
    /// Health scripts by `GROUP/KIND` key.
    pub health: Vec<(String, String)>,
    /// System-wide ignoreDifferences rules.
    pub ignore: Vec<IgnoreRule>,
    /// Custom resource actions: `GROUP/KIND` and their YAML definition.
    pub actions: Vec<(String, String)>,
    /// `resource.exclusions`, when set.
    pub exclusions: Option<Vec<ResourceRule>>,
    /// `resource.inclusions`, when set.
    pub inclusions: Option<Vec<ResourceRule>>,
    /// `timeout.reconciliation`, when set: how often Git is asked.
    pub reconciliation: Option<Duration>,
    /// `kustomize.buildOptions`, when set: extra `kustomize build` flags.
    pub kustomize_build_options: Option<Vec<String>>,
    /// Keys read but not acted on, each with why.
    pub unsupported: Vec<String>,
    /// Values that could not be read, each naming its key.
    pub problems: Vec<String>,
}

/// The `ignoreDifferences` of one kind, as the ConfigMap writes it (the
/// group and kind come from the key).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct KindIgnore {
    #[serde(default)]
    json_pointers: Vec<String>,
    #[serde(default)]
    jq_path_expressions: Vec<String>,
    #[serde(default)]
    managed_fields_managers: Vec<String>,
}

/// `group_kind` of the per-kind keys into `GROUP/KIND` (`KIND` alone, or
/// `_KIND`, for the core group). Group names hold no `_`, so the last one
/// splits.
fn key_of_group_kind(group_kind: &str) -> String {
    match group_kind.rsplit_once('_') {
        Some(("", kind)) => kind.to_owned(),
        Some((group, kind)) => format!("{group}/{kind}"),
        None => group_kind.to_owned(),
    }
}

/// `GROUP/KIND` or `KIND` into an IgnoreRule's group and kind; `None` for
/// `all`.
fn rule_for(key: Option<&str>, parsed: KindIgnore) -> IgnoreRule {
    let (group, kind) = match key {
        None => (None, None),
        Some(k) => match k.split_once('/') {
            Some((g, kind)) => (Some(g.to_owned()), Some(kind.to_owned())),
            None => (Some(String::new()), Some(k.to_owned())),
        },
    };
    IgnoreRule {
        group,
        kind,
        json_pointers: parsed.json_pointers,
        jq_path_expressions: parsed.jq_path_expressions,
        managed_fields_managers: parsed.managed_fields_managers,
        ..Default::default()
    }
}

fn read_ignore(text: &str) -> Result<KindIgnore, String> {
    let v: Value = serde_yaml_ng::from_str(text).map_err(|e| format!("not YAML: {e}"))?;
    if v.is_null() {
        return Ok(KindIgnore::default());
    }
    serde_json::from_value(v)
        .map_err(|e| format!("not jsonPointers, jqPathExpressions and managedFieldsManagers: {e}"))
}

/// Read the ConfigMap's data.
pub fn read(data: &BTreeMap<String, String>) -> FromConfigMap {
    let mut out = FromConfigMap::default();
    for (key, value) in data {
        if key == NESTED {
            read_nested(value, &mut out);
        } else if let Some(gk) = key.strip_prefix(HEALTH_PREFIX) {
            out.health.push((key_of_group_kind(gk), value.clone()));
        } else if let Some(gk) = key.strip_prefix(IGNORE_PREFIX) {
            let target = (gk != "all").then(|| key_of_group_kind(gk));
            match read_ignore(value) {
                Ok(parsed) => out.ignore.push(rule_for(target.as_deref(), parsed)),
                Err(e) => out.problems.push(format!("{key}: {e}")),
            }
        } else if let Some(gk) = key.strip_prefix(ACTIONS_PREFIX) {
            out.actions.push((key_of_group_kind(gk), value.clone()));
        } else if key == EXCLUSIONS || key == INCLUSIONS {
            match ResourceFilter::parse_rules(value) {
                Ok(rules) if key == EXCLUSIONS => out.exclusions = Some(rules),
                Ok(rules) => out.inclusions = Some(rules),
                Err(e) => out.problems.push(format!("{key}: {e}")),
            }
        } else if key == COMPARE_OPTIONS {
            read_compare_options(value, &mut out);
        } else if key == RECONCILIATION {
            match sextant_model::duration::parse(value.trim()) {
                Ok(d) => out.reconciliation = Some(d),
                Err(e) => out.problems.push(format!("{key}: {e}")),
            }
        } else if key == KUSTOMIZE_BUILD_OPTIONS {
            out.kustomize_build_options =
                Some(value.split_whitespace().map(str::to_owned).collect());
        } else if key == sextant_cluster::tracking::METHOD_KEY
            || key == sextant_cluster::tracking::LABEL_KEY
        {
            // Read by `crate::tracking::from_settings`.
        } else if SERVER_KEYS.contains(&key.as_str())
            || key.starts_with("accounts.")
            || key.starts_with("resource.links")
        {
            // The API server's settings, or Argo CD's UI's.
        } else {
            out.unsupported.push(key.clone());
        }
    }
    out
}

/// `resource.compareoptions`, as Argo CD writes it.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CompareOptions {
    #[serde(default)]
    ignore_aggregated_roles: bool,
    ignore_resource_status_field: Option<String>,
    ignore_differences_on_resource_updates: Option<bool>,
    #[serde(flatten)]
    other: BTreeMap<String, Value>,
}

/// `ignoreAggregatedRoles` becomes an ignore rule; a status field is never
/// compared by Sextant (Argo CD's `all`), so `crd` and `all` change nothing
/// and `none` is not supported; differences on ignored fields never start
/// anything, as `ignoreDifferencesOnResourceUpdates` asks.
fn read_compare_options(text: &str, out: &mut FromConfigMap) {
    let options: CompareOptions = match serde_yaml_ng::from_str::<Option<CompareOptions>>(text) {
        Ok(o) => o.unwrap_or_default(),
        Err(e) => {
            out.problems.push(format!("{COMPARE_OPTIONS}: {e}"));
            return;
        }
    };
    if options.ignore_aggregated_roles {
        out.ignore.push(IgnoreRule {
            group: Some("rbac.authorization.k8s.io".into()),
            kind: Some("ClusterRole".into()),
            jq_path_expressions: vec![AGGREGATED_RULES.into()],
            ..Default::default()
        });
    }
    match options.ignore_resource_status_field.as_deref() {
        None | Some("crd" | "all") => {}
        Some(other) => out.unsupported.push(format!(
            "{COMPARE_OPTIONS}: ignoreResourceStatusField: {other} (Sextant never compares status)"
        )),
    }
    let _ = options.ignore_differences_on_resource_updates;
    for key in options.other.keys() {
        out.unsupported.push(format!("{COMPARE_OPTIONS}: {key}"));
    }
}

/// `resource.customizations`: a YAML map from `GROUP/KIND` to
/// `health.lua`, `ignoreDifferences` (YAML text), `actions`, ...
fn read_nested(text: &str, out: &mut FromConfigMap) {
    let parsed: Result<BTreeMap<String, BTreeMap<String, Value>>, _> =
        serde_yaml_ng::from_str(text);
    let kinds = match parsed {
        Ok(k) => k,
        Err(e) => {
            out.problems.push(format!(
                "{NESTED}: not a map of GROUP/KIND to customizations: {e}"
            ));
            return;
        }
    };
    for (key, fields) in kinds {
        for (field, value) in fields {
            match (field.as_str(), value) {
                ("health.lua", Value::String(lua)) => out.health.push((key.clone(), lua)),
                ("ignoreDifferences", Value::String(text)) => match read_ignore(&text) {
                    Ok(parsed) => out.ignore.push(rule_for(Some(&key), parsed)),
                    Err(e) => out
                        .problems
                        .push(format!("{NESTED}: {key}: ignoreDifferences: {e}")),
                },
                ("actions", Value::String(text)) => out.actions.push((key.clone(), text)),
                ("health.lua" | "ignoreDifferences" | "actions", _) => out
                    .problems
                    .push(format!("{NESTED}: {key}: {field} must be a string")),
                _ => out.unsupported.push(format!("{NESTED}: {key}: {field}")),
            }
        }
    }
}

/// The controller's health scripts: the flags' first, the ConfigMap's over
/// them (same key: the ConfigMap wins). A script whose key is not
/// `GROUP/KIND` is a problem.
pub fn merge_health(
    base: &HealthCustomizations,
    scripts: &[(String, String)],
    problems: &mut Vec<String>,
) -> HealthCustomizations {
    let mut health = base.clone();
    for (key, lua) in scripts {
        if let Err(e) = health.insert(key, lua.as_str()) {
            problems.push(e.to_string());
        }
    }
    health
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_nested_form_gives_health_scripts_and_ignore_rules() {
        let read = read(&data(&[(
            "resource.customizations",
            "cert-manager.io/Certificate:\n  health.lua: |\n    return {status = \"Healthy\"}\n\
             admissionregistration.k8s.io/MutatingWebhookConfiguration:\n  ignoreDifferences: |\n    jsonPointers:\n    - /webhooks/0/clientConfig/caBundle\n\
             apps/Deployment:\n  actions: |\n    discovery.lua: ''\n  knownTypeFields: []\n",
        )]));
        assert_eq!(read.health.len(), 1);
        assert_eq!(read.health[0].0, "cert-manager.io/Certificate");
        assert!(read.health[0].1.contains("Healthy"));
        assert_eq!(read.ignore.len(), 1);
        assert_eq!(
            read.ignore[0].group.as_deref(),
            Some("admissionregistration.k8s.io")
        );
        assert_eq!(
            read.ignore[0].kind.as_deref(),
            Some("MutatingWebhookConfiguration")
        );
        assert_eq!(
            read.ignore[0].json_pointers,
            ["/webhooks/0/clientConfig/caBundle"]
        );
        assert_eq!(read.actions.len(), 1);
        assert_eq!(read.actions[0].0, "apps/Deployment");
        assert_eq!(
            read.unsupported,
            ["resource.customizations: apps/Deployment: knownTypeFields"]
        );
        assert!(read.problems.is_empty(), "{:?}", read.problems);
    }

    #[test]
    fn the_per_kind_keys_name_group_and_kind_with_an_underscore() {
        let read = read(&data(&[
            (
                "resource.customizations.health.argoproj.io_Rollout",
                "return {status = \"Progressing\"}",
            ),
            (
                "resource.customizations.health.ConfigMap",
                "return {status = \"Healthy\"}",
            ),
            (
                "resource.customizations.ignoreDifferences.apps_Deployment",
                "jqPathExpressions:\n- .spec.replicas\n",
            ),
            (
                "resource.customizations.ignoreDifferences.all",
                "managedFieldsManagers:\n- kube-controller-manager\n",
            ),
            ("timeout.reconciliation.jitter", "60s"),
            ("url", "https://argocd.example.com"),
        ]));
        let keys: Vec<&str> = read.health.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["ConfigMap", "argoproj.io/Rollout"]);
        let all = read.ignore.iter().find(|r| r.kind.is_none()).unwrap();
        assert_eq!(all.group, None, "`all` matches every group");
        assert_eq!(all.managed_fields_managers, ["kube-controller-manager"]);
        let deploy = read.ignore.iter().find(|r| r.kind.is_some()).unwrap();
        assert_eq!(deploy.group.as_deref(), Some("apps"));
        assert_eq!(deploy.jq_path_expressions, [".spec.replicas"]);
        assert_eq!(
            read.unsupported,
            ["timeout.reconciliation.jitter"],
            "the server's keys are not the controller's to report"
        );
    }

    #[test]
    fn exclusions_compare_options_reconciliation_and_kustomize_options_are_read() {
        let read = read(&data(&[
            (
                "resource.exclusions",
                "- apiGroups: ['']\n  kinds: [Event]\n",
            ),
            ("resource.inclusions", "- apiGroups: ['*']\n"),
            (
                "resource.compareoptions",
                "ignoreAggregatedRoles: true\nignoreResourceStatusField: none\nignoreDifferencesOnResourceUpdates: true\n",
            ),
            ("timeout.reconciliation", "90s"),
            (
                "kustomize.buildOptions",
                "--load-restrictor LoadRestrictionsNone  --enable-helm",
            ),
        ]));
        assert!(read.problems.is_empty(), "{:?}", read.problems);
        assert_eq!(read.exclusions.as_ref().map(Vec::len), Some(1));
        assert_eq!(read.inclusions.as_ref().map(Vec::len), Some(1));
        assert_eq!(read.reconciliation, Some(Duration::from_secs(90)));
        assert_eq!(
            read.kustomize_build_options.as_deref(),
            Some(
                &[
                    "--load-restrictor".to_owned(),
                    "LoadRestrictionsNone".into(),
                    "--enable-helm".into()
                ][..]
            )
        );
        assert_eq!(
            read.unsupported,
            [
                "resource.compareoptions: ignoreResourceStatusField: none (Sextant never compares status)"
            ]
        );
        // ignoreAggregatedRoles: the rules of an aggregated ClusterRole are
        // not compared, those of a plain one are.
        let ignore = sextant_engine::diff::IgnoreDifferences::new(&[], &read.ignore).unwrap();
        let role = |aggregated: bool, verb: &str| {
            let mut r = serde_json::json!({
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                "metadata": {"name": "view"},
                "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": [verb]}],
            });
            if aggregated {
                r["aggregationRule"] =
                    serde_json::json!({"clusterRoleSelectors": [{"matchLabels": {"x": "y"}}]});
            }
            r
        };
        let differs = |desired: serde_json::Value, live: serde_json::Value| {
            let input = sextant_engine::diff::Input {
                desired: Some(&desired),
                live: Some(&live),
                predicted: None,
                fallback_reason: None,
                overlay: false,
            };
            sextant_engine::diff::diff_object(input, &ignore).differs()
        };
        assert!(!differs(role(true, "get"), role(true, "list")));
        assert!(differs(role(false, "get"), role(false, "list")));
    }

    #[test]
    fn a_value_that_does_not_parse_is_a_problem_naming_its_key_and_the_rest_applies() {
        let read = read(&data(&[
            (
                "resource.customizations.ignoreDifferences.apps_Deployment",
                "jsonPointer: /spec/replicas\n",
            ),
            ("resource.customizations", "[not, a, map]"),
            (
                "resource.customizations.health.apps_StatefulSet",
                "return {status = \"Healthy\"}",
            ),
        ]));
        assert_eq!(read.problems.len(), 2, "{:?}", read.problems);
        assert!(read.problems.iter().any(|p| p.starts_with(
            "resource.customizations.ignoreDifferences.apps_Deployment: not jsonPointers"
        )));
        assert!(
            read.problems
                .iter()
                .any(|p| p.starts_with("resource.customizations: "))
        );
        assert_eq!(read.health.len(), 1);
    }

    #[test]
    fn configmap_scripts_override_the_flags_scripts_of_the_same_kind() {
        let mut base = HealthCustomizations::new();
        base.insert("apps/Deployment", "return {status = \"Degraded\"}")
            .unwrap();
        base.insert("batch/Job", "return {status = \"Healthy\"}")
            .unwrap();
        let mut problems = Vec::new();
        let merged = merge_health(
            &base,
            &[
                (
                    "apps/Deployment".into(),
                    "return {status = \"Healthy\"}".into(),
                ),
                ("a/b/c".into(), "return {}".into()),
            ],
            &mut problems,
        );
        let script = merged.script_for("apps", "Deployment").unwrap();
        assert!(script.source.contains("Healthy"));
        assert!(merged.script_for("batch", "Job").is_some());
        assert_eq!(problems.len(), 1, "a key that is not GROUP/KIND");
    }
}
