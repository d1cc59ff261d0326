//! The notifications ConfigMap, in Argo CD's `argocd-notifications-cm`
//! format, and its Secret.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

/// A notification service (`service.<type>` or `service.<type>.<name>`).
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceConfig {
    /// `slack`, `teams`, `webhook`, `email`, `github`.
    pub kind: String,
    /// What subscriptions call it: the type, or the name after it
    /// (`service.webhook.deploys` is `deploys`).
    pub name: String,
    /// Its settings, `$secret` references resolved.
    pub settings: Value,
}

/// One condition of a trigger.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// An expr expression over `app`.
    pub when: String,
    /// The templates to send.
    #[serde(default)]
    pub send: Vec<String>,
    /// An expr expression: send once per distinct value.
    #[serde(default)]
    pub once_per: Option<String>,
    /// For people.
    #[serde(default)]
    pub description: Option<String>,
}

/// A default subscription of the ConfigMap.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DefaultSubscription {
    /// `service:recipient` (or `service` alone).
    #[serde(default)]
    pub recipients: Vec<String>,
    /// Trigger names.
    #[serde(default)]
    pub triggers: Vec<String>,
    /// A label selector (`a=b,c!=d`) the app must match.
    #[serde(default)]
    pub selector: Option<String>,
}

/// Everything the notifications need.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Services by the name subscriptions use.
    pub services: BTreeMap<String, ServiceConfig>,
    /// Templates by name (`message`, `title`, and per-service fields).
    pub templates: BTreeMap<String, Value>,
    /// Triggers by name.
    pub triggers: BTreeMap<String, Vec<Condition>>,
    /// Default subscriptions.
    pub subscriptions: Vec<DefaultSubscription>,
    /// `context` (e.g. `sextantUrl`, `argocdUrl`), given to templates.
    pub context: BTreeMap<String, String>,
    /// Keys that could not be read, and why (shown in a log line; the
    /// rest of the configuration still works).
    pub problems: Vec<String>,
}

impl Config {
    /// Read the ConfigMap's `data` with the Secret's (decoded) `data`;
    /// built-in triggers and templates are there unless redefined.
    pub fn parse(data: &BTreeMap<String, String>, secrets: &BTreeMap<String, String>) -> Self {
        let mut c = Config::default();
        crate::builtin::add(&mut c);
        for (key, text) in data {
            let result = if let Some(rest) = key.strip_prefix("service.") {
                parse_yaml::<Value>(text).map(|v| {
                    let (kind, name) = match rest.split_once('.') {
                        Some((kind, name)) => (kind.to_owned(), name.to_owned()),
                        None => (rest.to_owned(), rest.to_owned()),
                    };
                    let settings = resolve_secrets(v, secrets);
                    c.services.insert(
                        name.clone(),
                        ServiceConfig {
                            kind,
                            name,
                            settings,
                        },
                    );
                })
            } else if let Some(name) = key.strip_prefix("template.") {
                parse_yaml::<Value>(text).map(|v| {
                    c.templates.insert(name.to_owned(), v);
                })
            } else if let Some(name) = key.strip_prefix("trigger.") {
                parse_yaml::<Vec<Condition>>(text).map(|v| {
                    c.triggers.insert(name.to_owned(), v);
                })
            } else if key == "subscriptions" {
                parse_yaml::<Vec<DefaultSubscription>>(text).map(|v| c.subscriptions = v)
            } else if key == "context" {
                parse_yaml::<BTreeMap<String, String>>(text).map(|v| c.context = v)
            } else {
                Err("not a key Sextant reads (service.*, template.*, trigger.*, subscriptions, context)".into())
            };
            if let Err(e) = result {
                c.problems.push(format!("{key}: {e}"));
            }
        }
        c
    }
}

fn parse_yaml<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_yaml_ng::from_str(text).map_err(|e| format!("not valid YAML for this key: {e}"))
}

/// Replace `$name` in every string with the Secret's `name`, when it has
/// one (`token $github-token` becomes `token ghp_...`).
fn resolve_secrets(v: Value, secrets: &BTreeMap<String, String>) -> Value {
    match v {
        Value::String(s) => Value::String(substitute(&s, secrets)),
        Value::Array(a) => {
            Value::Array(a.into_iter().map(|v| resolve_secrets(v, secrets)).collect())
        }
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (k, resolve_secrets(v, secrets)))
                .collect(),
        ),
        other => other,
    }
}

fn substitute(s: &str, secrets: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
            .unwrap_or(after.len());
        let name = &after[..len];
        match secrets.get(name) {
            Some(value) if !name.is_empty() => out.push_str(value),
            _ => {
                out.push('$');
                out.push_str(name);
            }
        }
        rest = &after[len..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn argo_cd_keys_are_read_and_secrets_resolved() {
        let data = map(&[
            ("service.slack", "token: $slack-token\n"),
            (
                "service.webhook.deploys",
                "url: http://x\nheaders:\n- name: Authorization\n  value: Bearer $hook-token\n",
            ),
            ("template.my", "message: hi {{.app.metadata.name}}\n"),
            (
                "trigger.on-x",
                "- when: app.status.health.status == 'Degraded'\n  send: [my]\n",
            ),
            (
                "subscriptions",
                "- recipients: [slack:ops]\n  triggers: [on-x]\n",
            ),
            ("context", "sextantUrl: https://cd.example\n"),
            ("bogus", "x"),
            ("trigger.broken", "when: ["),
        ]);
        let secrets = map(&[("slack-token", "xoxb-1"), ("hook-token", "s3cret")]);
        let c = Config::parse(&data, &secrets);
        assert_eq!(c.services["slack"].settings["token"], "xoxb-1");
        assert_eq!(c.services["deploys"].kind, "webhook");
        assert_eq!(
            c.services["deploys"].settings["headers"][0]["value"],
            "Bearer s3cret"
        );
        assert_eq!(c.triggers["on-x"][0].send, ["my"]);
        assert_eq!(c.subscriptions[0].recipients, ["slack:ops"]);
        assert_eq!(c.context["sextantUrl"], "https://cd.example");
        assert!(
            c.triggers.contains_key("on-sync-succeeded"),
            "built-ins stay"
        );
        assert_eq!(c.problems.len(), 2, "{:?}", c.problems);
        assert_eq!(substitute("a $missing b", &secrets), "a $missing b");
    }
}
