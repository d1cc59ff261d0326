//! `sextant notifications`: try the notifications configuration on a real
//! app without sending anything. `template notify TEMPLATE APP` renders a
//! template for the app as a service would get it; `trigger run TRIGGER
//! APP` says whether each of the trigger's conditions holds. The
//! configuration is read as the controller reads it (`argocd-notifications-cm`
//! then `sextant-notifications-cm`, and their Secrets, in the namespace).

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::Api;
use serde_json::json;
use sextant_notify::Config;
use sextant_notify::render::{self, Extra};

use crate::app_cmd::ConnArgs;
use crate::app_cmd::client::Apps;

/// Options of `sextant notifications`.
#[derive(Debug, Args)]
pub struct NotificationsArgs {
    #[command(
        flatten,
        next_help_heading = "Connection (every notifications command)"
    )]
    conn: ConnArgs,
    #[command(subcommand)]
    what: What,
}

#[derive(Debug, Subcommand)]
enum What {
    /// Templates.
    #[command(subcommand)]
    Template(TemplateVerb),
    /// Triggers.
    #[command(subcommand)]
    Trigger(TriggerVerb),
}

#[derive(Debug, Subcommand)]
enum TemplateVerb {
    /// Render TEMPLATE for APP and print it; nothing is sent.
    Notify {
        /// The template's name (`template.<name>` in the ConfigMap, or a
        /// built-in such as app-deployed).
        template: String,
        /// The Application.
        app: String,
        /// Render as this service would get it (`.serviceType`; its
        /// fields are printed): slack, teams, webhook, email, github.
        #[arg(long, default_value = "slack")]
        service_type: String,
        /// JSON or YAML instead of text.
        #[arg(short, long, value_enum)]
        output: Option<crate::app_cmd::Format>,
    },
}

#[derive(Debug, Subcommand)]
enum TriggerVerb {
    /// Evaluate TRIGGER's conditions for APP (exit 0 when one holds, 1 when
    /// none does).
    Run {
        /// The trigger's name.
        trigger: String,
        /// The Application.
        app: String,
    },
}

/// Run `sextant notifications`.
pub async fn run(args: NotificationsArgs) -> anyhow::Result<ExitCode> {
    let apps = Apps::connect(&args.conn).await?;
    let config = read_config(&apps).await?;
    for p in &config.problems {
        eprintln!("warning: notifications configuration: {p}");
    }
    match args.what {
        What::Template(TemplateVerb::Notify {
            template,
            app,
            service_type,
            output,
        }) => {
            let found = apps.get(&app).await?;
            let app_json = serde_json::to_value(&found).context("could not read the app")?;
            let body = config.templates.get(&template).ok_or_else(|| {
                anyhow::anyhow!(
                    "no template `{template}` (known: {})",
                    config
                        .templates
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?;
            let n = render::render(
                &template,
                body,
                &app_json,
                &Extra::for_app(&config, &app_json),
                &service_type,
            )
            .map_err(|e| anyhow::anyhow!(e))?;
            let doc = json!({"title": n.title, "message": n.message, "fields": n.fields});
            match output {
                Some(format) => crate::app_cmd::print(&doc, format)?,
                None => {
                    if !n.title.is_empty() {
                        println!("title: {}", n.title);
                    }
                    println!("message:\n{}", n.message.trim_end());
                    if n.fields.as_object().is_some_and(|m| !m.is_empty()) {
                        print!(
                            "{}",
                            serde_yaml_ng::to_string(&n.fields).context("could not print YAML")?
                        );
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        What::Trigger(TriggerVerb::Run { trigger, app }) => {
            let found = apps.get(&app).await?;
            let app_json = serde_json::to_value(&found).context("could not read the app")?;
            let conditions = config.triggers.get(&trigger).ok_or_else(|| {
                anyhow::anyhow!(
                    "no trigger `{trigger}` (known: {})",
                    config
                        .triggers
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?;
            let verdict = sextant_notify::trigger::evaluate(conditions, &app_json);
            for (i, c) in conditions.iter().enumerate() {
                let fired = verdict.fired.iter().find(|f| f.index == i);
                println!(
                    "{}: {}{}  ({})",
                    i,
                    if fired.is_some() { "true" } else { "false" },
                    fired
                        .and_then(|f| f.once_per.as_ref())
                        .map(|v| format!(", once per {v:?}"))
                        .unwrap_or_default(),
                    c.when
                );
            }
            for e in &verdict.errors {
                eprintln!("error: {e}");
            }
            Ok(if verdict.fired.is_empty() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
    }
}

/// The configuration as the controller reads it.
async fn read_config(apps: &Apps) -> anyhow::Result<Config> {
    let cms: Api<ConfigMap> = Api::namespaced(apps.client.clone(), &apps.namespace);
    let secrets: Api<Secret> = Api::namespaced(apps.client.clone(), &apps.namespace);
    let mut data = BTreeMap::new();
    let mut secret_data = BTreeMap::new();
    for name in ["argocd-notifications-cm", "sextant-notifications-cm"] {
        let found = cms
            .get_opt(name)
            .await
            .with_context(|| format!("could not read ConfigMap {}/{name}", apps.namespace))?;
        if let Some(d) = found.and_then(|c| c.data) {
            data.extend(d);
        }
    }
    for name in [
        "argocd-notifications-secret",
        "sextant-notifications-secret",
    ] {
        match secrets.get_opt(name).await {
            Ok(Some(s)) => {
                for (k, v) in s.data.unwrap_or_default() {
                    secret_data.insert(k, String::from_utf8_lossy(&v.0).into_owned());
                }
            }
            Ok(None) => {}
            // Not allowed to read Secrets: templates render with the
            // `$references` left as they are.
            Err(e) => eprintln!(
                "warning: could not read Secret {}/{name}: {}",
                apps.namespace,
                crate::app_cmd::client::words(&e)
            ),
        }
    }
    Ok(Config::parse(&data, &secret_data))
}
