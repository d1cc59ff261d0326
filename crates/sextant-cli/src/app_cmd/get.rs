//! `sextant app get`: an app's source, destination, policy, status,
//! conditions, operation and resources. `--refresh` first asks the
//! controller to re-read Git and compare: it sets the annotation
//! `sextant.dev/refresh: normal` (merge patch) and waits until the
//! controller has removed it, i.e. until the status is fresh.

use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use serde_json::json;
use sextant_model::Application;
use sextant_model::annotations::REFRESH;
use tokio::time::Instant;

use super::ConnArgs;
use super::client::Apps;
use super::show::{self, Format};
use super::style::Style;
use super::table::{Table, short_revision};
use super::watch::{Watched, watch_app};

/// Options of `sextant app get`.
#[derive(Debug, Args)]
pub struct GetArgs {
    /// The Application's name.
    name: String,
    /// Ask the controller to re-read Git and compare now, and wait until it
    /// has (exit 1 if it has not within --timeout; the last state is shown).
    #[arg(long)]
    refresh: bool,
    /// How long --refresh waits for the controller.
    #[arg(long, value_parser = super::duration::parse, default_value = "60s")]
    timeout: Duration,
    /// `json`/`yaml`: print the Application object instead; `tree`: show
    /// the resources as a tree with what they own (ReplicaSets, Pods, ...),
    /// read from the cluster now.
    #[arg(short, long, value_enum)]
    output: Option<GetFormat>,
    /// With -o json|yaml, keep metadata.managedFields (left out by default,
    /// as kubectl does).
    #[arg(long)]
    show_managed_fields: bool,
}

/// `-o` of `app get`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum GetFormat {
    /// The Application as JSON.
    Json,
    /// The Application as YAML.
    Yaml,
    /// The description, with the resources as a tree.
    Tree,
}

/// Show the app.
pub async fn run(conn: &ConnArgs, args: GetArgs) -> anyhow::Result<ExitCode> {
    let apps = Apps::connect(conn).await?;
    let name = args.name.as_str();
    let mut code = ExitCode::SUCCESS;
    if args.refresh {
        apps.get(name).await?;
        let patch = json!({"metadata": {"annotations": {REFRESH: "normal"}}});
        apps.merge_patch(name, &patch).await?;
        let deadline = Instant::now() + args.timeout;
        let progress = super::progress::Progress::start(format!(
            "waiting for the controller to refresh {name}"
        ));
        let outcome = watch_app(&apps, name, deadline, |app| match app {
            None => Err(anyhow::anyhow!(
                "application {name} was deleted while waiting for its refresh"
            )),
            Some(app) => Ok(refreshed(app).then_some(())),
        })
        .await?;
        drop(progress);
        if let Watched::TimedOut = outcome {
            eprintln!(
                "warning: the controller has not refreshed application {name} within {} (the {REFRESH} annotation is still set; is the sextant controller running?); showing the last state",
                super::duration::show(args.timeout)
            );
            code = ExitCode::from(1);
        }
    }
    let format = match args.output {
        Some(GetFormat::Json) => Some(Format::Json),
        Some(GetFormat::Yaml) => Some(Format::Yaml),
        _ => None,
    };
    match format {
        Some(format) => match apps.raw().get_opt(name).await {
            Ok(Some(obj)) => show::print_objects(&obj, format, args.show_managed_fields)?,
            Ok(None) => return Err(apps.missing(name).await),
            Err(e) => return Err(apps.failed(e, name, "read").await),
        },
        None if args.output == Some(GetFormat::Tree) => {
            let app = apps.get(name).await?;
            let tree = super::live::read(&apps, &app).await;
            let style = Style::stdout();
            print!("{}", describe(&app, style, false));
            if !tree.nodes.is_empty() {
                println!();
                print!("{}", super::resources::tree_table(&tree, style));
            }
            super::resources::tree_errors(&tree)?;
        }
        None => {
            let app = apps.get(name).await?;
            let mut text = describe(&app, Style::stdout(), true);
            if let Some(line) = sync_window(&apps, &app).await {
                // After the status lines, before conditions and resources.
                let at = text
                    .find("\nConditions:")
                    .or_else(|| text.find("\n\n"))
                    .map_or(text.len(), |i| i + 1);
                text.insert_str(at, &format!("{:<15}{line}\n", "Sync Window:"));
            }
            print!("{text}");
        }
    }
    Ok(code)
}

/// What the sync windows of the app's project say now, as Argo CD's CLI
/// shows it (`Sync Allowed`, `Sync Denied`, `Manual Allowed`), with when
/// that changes; `None` when no window of the project names the app (or
/// the project cannot be read).
async fn sync_window(apps: &Apps, app: &Application) -> Option<String> {
    let projects: kube::Api<sextant_model::AppProject> =
        kube::Api::namespaced(apps.client.clone(), &apps.namespace);
    let project = projects.get_opt(show::project(app)).await.ok()??;
    let windows = project
        .spec
        .sync_windows
        .as_deref()
        .filter(|w| !w.is_empty())?;
    let d = &app.spec.destination;
    let dest = sextant_engine::project::Destination {
        server: d.server.as_deref().unwrap_or_default(),
        name: d.name.as_deref().unwrap_or_default(),
        namespace: d.namespace.as_deref().unwrap_or_default(),
    };
    let name = app.metadata.name.as_deref().unwrap_or_default();
    let verdict =
        match sextant_engine::project::window_verdict(windows, name, &dest, chrono::Utc::now()) {
            Ok(v) => v,
            Err(e) => return Some(format!("Sync Denied ({e})")),
        };
    let when = verdict
        .changes_at
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())?;
    Some(match (verdict.automated, verdict.manual) {
        (true, _) => format!("Sync Allowed (a window opens or closes at {when})"),
        (false, true) => format!("Manual Allowed: {}", verdict.reason.unwrap_or_default()),
        (false, false) => format!("Sync Denied: {}", verdict.reason.unwrap_or_default()),
    })
}

/// Whether the controller has taken the refresh annotation away.
fn refreshed(app: &Application) -> bool {
    app.metadata
        .annotations
        .as_ref()
        .is_none_or(|a| !a.contains_key(REFRESH))
}

/// The app in words, then (with `table`) its resources as a table.
fn describe(app: &Application, style: Style, table: bool) -> String {
    let mut out = String::new();
    let mut field = |label: &str, value: &str| {
        if !value.is_empty() {
            let _ = writeln!(out, "{:<15}{value}", format!("{label}:"));
        }
    };
    field("Name", app.metadata.name.as_deref().unwrap_or(""));
    field("Namespace", app.metadata.namespace.as_deref().unwrap_or(""));
    field("Project", show::project(app));
    let sources: Vec<_> = app
        .spec
        .source
        .iter()
        .chain(app.spec.sources.iter().flatten())
        .collect();
    for source in sources {
        field("Repo", &source.repo_url);
        field("Path", source.path.as_deref().unwrap_or(""));
        field("Chart", source.chart.as_deref().unwrap_or(""));
        field(
            "Target",
            source.target_revision.as_deref().unwrap_or("HEAD"),
        );
    }
    let d = &app.spec.destination;
    field(
        "Destination",
        d.server
            .as_deref()
            .filter(|s| !s.is_empty())
            .or(d.name.as_deref())
            .unwrap_or(""),
    );
    field("Dest. NS", d.namespace.as_deref().unwrap_or(""));
    field("Sync Policy", &policy(app));
    let revision = show::sync_revision(app);
    let sync = match (show::sync_status(app), revision) {
        ("", _) => String::new(),
        (s, "") => style.status(s, 0),
        ("Synced", r) => format!("{} to {}", style.status("Synced", 0), short_revision(r)),
        (s, r) => format!(
            "{} (compared with {})",
            style.status(s, 0),
            short_revision(r)
        ),
    };
    field("Sync Status", &sync);
    let health = match (show::health_status(app), show::health_message(app)) {
        ("", _) => String::new(),
        (h, "") => style.status(h, 0),
        (h, m) => format!("{} ({m})", style.status(h, 0)),
    };
    field("Health", &health);
    if app.operation.is_some() {
        field("Operation", &show::describe_operation(app));
    }
    if let Some(state) = show::operation_state(app) {
        let mut text = style.status(&state.phase, 0);
        if let Some(m) = state.message.as_deref().filter(|m| !m.is_empty()) {
            text.push_str(&format!(": {m}"));
        }
        field("Last Sync", &text);
        // A sync under way: where it is, task by task.
        let tasks = state
            .sync_result
            .as_ref()
            .and_then(|r| r.resources.as_ref())
            .filter(|r| state.phase == "Running" && !r.is_empty());
        if let Some(tasks) = tasks {
            let _ = writeln!(out, "Sync Tasks:");
            let mut table = Table::new(&[
                "PHASE",
                "WAVE",
                "KIND",
                "NAMESPACE",
                "NAME",
                "HOOK",
                "RESULT",
                "STATE",
                "MESSAGE",
            ]);
            for t in tasks {
                table.row(vec![
                    t.sync_phase.clone().unwrap_or_default(),
                    t.sync_wave.map(|w| w.to_string()).unwrap_or_default(),
                    t.kind.clone(),
                    t.namespace.clone(),
                    t.name.clone(),
                    t.hook_type.clone().unwrap_or_default(),
                    t.status.clone().unwrap_or_default(),
                    t.hook_phase.clone().unwrap_or_default(),
                    t.message.clone().unwrap_or_default(),
                ]);
            }
            out.push_str(&table.render());
        }
    }
    let conditions = app
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .filter(|c| !c.is_empty());
    if let Some(conditions) = conditions {
        let _ = writeln!(out, "Conditions:");
        for c in conditions {
            let _ = writeln!(out, "  {}: {}", c.type_, c.message);
        }
    }
    let resources = app
        .status
        .as_ref()
        .and_then(|s| s.resources.as_ref())
        .filter(|r| table && !r.is_empty());
    // Why the last sync refused or failed an object, next to the object.
    let failed: std::collections::HashMap<(String, String, String), String> =
        show::operation_state(app)
            .filter(|s| matches!(s.phase.as_str(), "Failed" | "Error"))
            .and_then(|s| s.sync_result.as_ref())
            .and_then(|r| r.resources.as_ref())
            .into_iter()
            .flatten()
            .filter(|t| t.status.as_deref() == Some("SyncFailed"))
            .filter_map(|t| {
                Some((
                    (t.kind.clone(), t.namespace.clone(), t.name.clone()),
                    t.message.clone()?,
                ))
            })
            .collect();
    if let Some(resources) = resources {
        let mut table = Table::new(&[
            "GROUP",
            "KIND",
            "NAMESPACE",
            "NAME",
            "STATUS",
            "HEALTH",
            "MESSAGE",
        ]);
        for r in resources {
            let key = (
                r.kind.clone(),
                r.namespace.clone().unwrap_or_default(),
                r.name.clone(),
            );
            let message = if let Some(m) = failed.get(&key) {
                format!("sync failed: {m}")
            } else if r.requires_pruning == Some(true) {
                "requires pruning".to_owned()
            } else {
                r.health
                    .as_ref()
                    .and_then(|h| h.message.clone())
                    .unwrap_or_default()
            };
            table.row(vec![
                r.group.clone(),
                r.kind.clone(),
                r.namespace.clone().unwrap_or_default(),
                r.name.clone(),
                r.status.clone().unwrap_or_default(),
                r.health
                    .as_ref()
                    .map(|h| h.status.clone())
                    .unwrap_or_default(),
                message,
            ]);
        }
        out.push('\n');
        out.push_str(&table.render());
    }
    out
}

/// `automated (prune, self-heal); CreateNamespace=true`, or `manual`.
fn policy(app: &Application) -> String {
    let Some(policy) = &app.spec.sync_policy else {
        return "manual".to_owned();
    };
    let mut text = match &policy.automated {
        Some(a) if a.enabled != Some(false) => {
            let mut flags = Vec::new();
            if a.prune == Some(true) {
                flags.push("prune");
            }
            if a.self_heal == Some(true) {
                flags.push("self-heal");
            }
            if flags.is_empty() {
                "automated".to_owned()
            } else {
                format!("automated ({})", flags.join(", "))
            }
        }
        _ => "manual".to_owned(),
    };
    if let Some(options) = policy.sync_options.as_ref().filter(|o| !o.is_empty()) {
        text.push_str(&format!("; {}", options.join(", ")));
    }
    text
}
