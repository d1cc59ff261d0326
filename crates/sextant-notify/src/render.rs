//! A template rendered for an app. Templates are Argo CD's: `message`,
//! `title`, and per-service fields (`email.subject`, `slack.attachments`
//! and `slack.blocks`, `teams.*`, `webhook.<name>.{method,path,body}`,
//! `github.status.*`), every string a Go template over `.app` (the
//! Application), `.context` (the ConfigMap's `context`), `.commit`
//! (`sha`, `message`, `author` of the synced revision, when known) and
//! `.serviceType`. Helpers beyond Sprig's: the app's URL in the UI is
//! `.context.appUrl`.

use serde_json::{Map, Value, json};
use sextant_appset::template::go;

/// A rendered notification.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// `title` (empty when the template has none).
    pub title: String,
    /// `message`.
    pub message: String,
    /// Every other field, rendered (`email`, `slack`, `webhook`, ...).
    pub fields: Value,
}

/// What templates can read, besides the app.
#[derive(Debug, Clone, Default)]
pub struct Extra {
    /// The ConfigMap's `context`, plus `appUrl`.
    pub context: Map<String, Value>,
    /// `sha`, `message`, `author` of the revision, when known.
    pub commit: Option<Value>,
}

impl Extra {
    /// What templates read besides the app: the ConfigMap's `context`,
    /// `context.appUrl` (the app's page in the UI, when `sextantUrl` or
    /// `argocdUrl` is in the context) and `commit.sha` (the synced revision).
    pub fn for_app(config: &crate::Config, app: &Value) -> Self {
        let mut extra = Extra::default();
        for (k, v) in &config.context {
            extra.context.insert(k.clone(), json!(v));
        }
        let base = config
            .context
            .get("sextantUrl")
            .or_else(|| config.context.get("argocdUrl"));
        if let Some(base) = base {
            let at = |p: &str| {
                app.pointer(p)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            extra.context.insert(
                "appUrl".into(),
                json!(format!(
                    "{}/applications/{}/{}",
                    base.trim_end_matches('/'),
                    at("/metadata/namespace"),
                    at("/metadata/name")
                )),
            );
        }
        let sha = app
            .pointer("/status/operationState/syncResult/revision")
            .or_else(|| app.pointer("/status/sync/revision"))
            .and_then(Value::as_str);
        if let Some(sha) = sha {
            extra.commit = Some(json!({"sha": sha}));
        }
        extra
    }
}

/// Render template `template` (its YAML as JSON) for `app` and a service
/// of kind `service_type`.
pub fn render(
    name: &str,
    template: &Value,
    app: &Value,
    extra: &Extra,
    service_type: &str,
) -> Result<Notification, String> {
    let mut data = Map::new();
    data.insert("app".into(), app.clone());
    data.insert("context".into(), Value::Object(extra.context.clone()));
    data.insert(
        "commit".into(),
        extra.commit.clone().unwrap_or_else(|| json!({})),
    );
    data.insert("serviceType".into(), json!(service_type));
    let rendered = walk(template, &data).map_err(|e| format!("template {name}: {e}"))?;
    let text = |k: &str| {
        rendered
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let mut fields = rendered.clone();
    if let Some(m) = fields.as_object_mut() {
        m.remove("message");
        m.remove("title");
    }
    Ok(Notification {
        title: text("title"),
        message: text("message"),
        fields,
    })
}

fn walk(v: &Value, data: &Map<String, Value>) -> Result<Value, String> {
    Ok(match v {
        Value::String(s) => Value::String(go::render(s, data, go::Options::default())?),
        Value::Array(a) => Value::Array(a.iter().map(|v| walk(v, data)).collect::<Result<_, _>>()?),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| Ok((k.clone(), walk(v, data)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_string_is_a_go_template_over_the_app() {
        let template: Value = serde_yaml_ng::from_str(
            "message: |\n  {{.app.metadata.name}} is {{.app.status.health.status | lower}} at {{.commit.sha | trunc 7}}\ntitle: Deployed {{.app.metadata.name}}\nemail:\n  subject: '[{{.context.env}}] {{.app.metadata.name}}'\nwebhook:\n  hook:\n    method: POST\n    body: '{\"app\": {{.app.metadata.name | quote}}}'\n",
        )
        .unwrap();
        let app = json!({"metadata": {"name": "web"}, "status": {"health": {"status": "Healthy"}}});
        let mut extra = Extra {
            commit: Some(json!({"sha": "0123456789abcdef"})),
            ..Extra::default()
        };
        extra.context.insert("env".into(), json!("prod"));
        let n = render("t", &template, &app, &extra, "email").unwrap();
        assert_eq!(n.message, "web is healthy at 0123456\n");
        assert_eq!(n.title, "Deployed web");
        assert_eq!(n.fields["email"]["subject"], "[prod] web");
        assert_eq!(n.fields["webhook"]["hook"]["body"], "{\"app\": \"web\"}");
        let e = render("t", &json!({"message": "{{ .app"}), &app, &extra, "slack").unwrap_err();
        assert!(e.contains("template t"), "{e}");
    }
}
