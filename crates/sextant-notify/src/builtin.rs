//! The triggers every installation has (the names and conditions Argo CD's
//! catalog uses, so subscriptions written for it work) and a plain
//! template for each; a ConfigMap key of the same name replaces them.

use serde_json::json;

use crate::config::{Condition, Config};

/// (trigger, condition, oncePer, template, message)
const BUILTIN: &[(&str, &str, Option<&str>, &str, &str)] = &[
    (
        "on-created",
        "true",
        Some("app.metadata.name"),
        "app-created",
        "Application {{.app.metadata.name}} has been created.",
    ),
    (
        "on-deleted",
        "app.metadata.deletionTimestamp != nil",
        Some("app.metadata.name"),
        "app-deleted",
        "Application {{.app.metadata.name}} has been deleted.",
    ),
    (
        "on-deployed",
        "app.status.operationState != nil and app.status.operationState.phase in ['Succeeded'] and app.status.health.status == 'Healthy'",
        Some("app.status.sync.revision"),
        "app-deployed",
        "Application {{.app.metadata.name}} is now running revision {{.app.status.sync.revision}}: synced and healthy.",
    ),
    (
        "on-health-degraded",
        "app.status.health.status == 'Degraded'",
        None,
        "app-health-degraded",
        "Application {{.app.metadata.name}} has degraded: {{.app.status.health.message}}",
    ),
    (
        "on-sync-failed",
        "app.status.operationState != nil and app.status.operationState.phase in ['Error', 'Failed']",
        Some("app.status.operationState.startedAt"),
        "app-sync-failed",
        "The sync of application {{.app.metadata.name}} failed: {{.app.status.operationState.message}}",
    ),
    (
        "on-sync-running",
        "app.status.operationState != nil and app.status.operationState.phase in ['Running']",
        Some("app.status.operationState.startedAt"),
        "app-sync-running",
        "The sync of application {{.app.metadata.name}} has started.",
    ),
    (
        "on-sync-status-unknown",
        "app.status.sync.status == 'Unknown'",
        None,
        "app-sync-status-unknown",
        "Application {{.app.metadata.name}}'s sync status is Unknown.",
    ),
    (
        "on-sync-succeeded",
        "app.status.operationState != nil and app.status.operationState.phase in ['Succeeded']",
        Some("app.status.operationState.startedAt"),
        "app-sync-succeeded",
        "Application {{.app.metadata.name}} has been synced to {{.app.status.sync.revision}}.",
    ),
];

/// Add the built-in triggers and templates.
pub fn add(c: &mut Config) {
    for (trigger, when, once_per, template, message) in BUILTIN {
        c.triggers.insert(
            (*trigger).to_owned(),
            vec![Condition {
                when: (*when).to_owned(),
                send: vec![(*template).to_owned()],
                once_per: once_per.map(str::to_owned),
                description: None,
            }],
        );
        c.templates.insert(
            (*template).to_owned(),
            json!({
                "title": format!("{{{{.app.metadata.name}}}}: {}", trigger.trim_start_matches("on-").replace('-', " ")),
                "message": message,
                "email": {"subject": format!("[sextant] {{{{.app.metadata.name}}}}: {}", trigger.trim_start_matches("on-").replace('-', " "))},
                "github": {"status": {"state": if trigger.contains("failed") || trigger.contains("degraded") { "failure" } else if trigger.contains("running") { "pending" } else { "success" }, "label": "continuous-delivery/{{.app.metadata.name}}"}},
            }),
        );
    }
}
