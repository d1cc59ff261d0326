//! Words for an Application's parts, shared by `list`, `get`, `wait` and
//! `history`: its sync and health status, its operation, its source, and
//! raw objects printed as JSON or YAML.

use anyhow::Context;
use clap::ValueEnum;
use serde::Serialize;
use sextant_model::Application;
use sextant_model::application::{ApplicationSource, OperationInitiator, OperationState};

/// `-o json|yaml`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// JSON.
    Json,
    /// YAML.
    Yaml,
}

/// Print `value` as `format` on stdout.
pub fn print<T: Serialize>(value: &T, format: Format) -> anyhow::Result<()> {
    let text = match format {
        Format::Json => {
            let mut t = serde_json::to_string_pretty(value).context("could not print JSON")?;
            t.push('\n');
            t
        }
        Format::Yaml => serde_yaml_ng::to_string(value).context("could not print YAML")?,
    };
    print!("{text}");
    Ok(())
}

/// Print Kubernetes objects (one, or a `List` of `items`) as `format`,
/// without `metadata.managedFields` unless `managed_fields` (as kubectl
/// prints them: bookkeeping of the API server, long and rarely wanted).
pub fn print_objects<T: Serialize>(
    value: &T,
    format: Format,
    managed_fields: bool,
) -> anyhow::Result<()> {
    let mut v = serde_json::to_value(value).context("could not print the object")?;
    if !managed_fields {
        strip_managed_fields(&mut v);
    }
    print(&v, format)
}

fn strip_managed_fields(v: &mut serde_json::Value) {
    if let Some(meta) = v
        .get_mut("metadata")
        .and_then(serde_json::Value::as_object_mut)
    {
        meta.remove("managedFields");
    }
    if let Some(items) = v.get_mut("items").and_then(serde_json::Value::as_array_mut) {
        items.iter_mut().for_each(strip_managed_fields);
    }
}

/// `Synced`, `OutOfSync`, ... or empty.
pub fn sync_status(app: &Application) -> &str {
    app.status
        .as_ref()
        .and_then(|s| s.sync.as_ref())
        .map_or("", |s| s.status.as_str())
}

/// The commit compared, or empty.
pub fn sync_revision(app: &Application) -> &str {
    app.status
        .as_ref()
        .and_then(|s| s.sync.as_ref())
        .and_then(|s| s.revision.as_deref())
        .unwrap_or("")
}

/// `Healthy`, `Degraded`, ... or empty.
pub fn health_status(app: &Application) -> &str {
    app.status
        .as_ref()
        .and_then(|s| s.health.as_ref())
        .map_or("", |h| h.status.as_str())
}

/// The health message, or empty.
pub fn health_message(app: &Application) -> &str {
    app.status
        .as_ref()
        .and_then(|s| s.health.as_ref())
        .and_then(|h| h.message.as_deref())
        .unwrap_or("")
}

/// The current or last operation's state.
pub fn operation_state(app: &Application) -> Option<&OperationState> {
    app.status.as_ref().and_then(|s| s.operation_state.as_ref())
}

/// Whether an operation is asked for or still running.
pub fn operation_in_progress(app: &Application) -> bool {
    app.operation.is_some()
        || operation_state(app)
            .is_some_and(|s| matches!(s.phase.as_str(), "Running" | "Terminating"))
}

/// What an app's pending or running operation is, in words.
pub fn describe_operation(app: &Application) -> String {
    let Some(op) = &app.operation else {
        return match operation_state(app) {
            Some(s) if matches!(s.phase.as_str(), "Running" | "Terminating") => {
                format!("operation {}", s.phase)
            }
            Some(s) if !s.phase.is_empty() => format!("no operation (last: {})", s.phase),
            _ => "no operation".to_owned(),
        };
    };
    let mut text = "sync".to_owned();
    if let Some(rev) = op.sync.as_ref().and_then(|s| s.revision.as_deref()) {
        text.push_str(&format!(" to {}", super::table::short_revision(rev)));
    }
    text.push_str(&format!(
        " initiated by {}",
        initiator(op.initiated_by.as_ref())
    ));
    if let Some(state) =
        operation_state(app).filter(|s| s.operation.info == op.info && !s.phase.is_empty())
    {
        text.push_str(&format!(" ({}", state.phase));
        if !state.started_at.is_empty() {
            text.push_str(&format!(" since {}", state.started_at));
        }
        text.push(')');
    } else {
        text.push_str(" (pending)");
    }
    text
}

/// Who started an operation.
pub fn initiator(by: Option<&OperationInitiator>) -> String {
    match by {
        Some(OperationInitiator {
            automated: Some(true),
            ..
        }) => "automated".to_owned(),
        Some(OperationInitiator {
            username: Some(u), ..
        }) if !u.is_empty() => u.clone(),
        _ => "unknown".to_owned(),
    }
}

/// The app's source (the first, for multi-source apps).
pub fn source(app: &Application) -> Option<&ApplicationSource> {
    app.spec
        .source
        .as_ref()
        .or_else(|| app.spec.sources.as_ref().and_then(|s| s.first()))
}

/// `server/namespace` or `name/namespace` of the destination.
pub fn destination(app: &Application) -> String {
    let d = &app.spec.destination;
    let cluster = d
        .server
        .as_deref()
        .filter(|s| !s.is_empty())
        .or(d.name.as_deref())
        .unwrap_or("");
    format!("{cluster}/{}", d.namespace.as_deref().unwrap_or(""))
}

/// The project, `default` when empty.
pub fn project(app: &Application) -> &str {
    if app.spec.project.is_empty() {
        "default"
    } else {
        &app.spec.project
    }
}
