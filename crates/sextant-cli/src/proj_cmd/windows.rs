//! `sextant proj windows ...`: a project's sync windows, listed with
//! whether each is open now and when that changes (as the controller
//! judges them), added, changed and deleted by id.

use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::edit::{self, Outcome};
use super::{Cx, change};
use crate::app_cmd::Format;

#[derive(Debug, Subcommand)]
pub(crate) enum WindowsVerb {
    /// List a project's windows: open or not now, and until or from when.
    List {
        /// The project.
        name: String,
        /// Print them as JSON or YAML.
        #[arg(short, long, value_enum)]
        output: Option<Format>,
    },
    /// Add a window.
    Add(Box<AddArgs>),
    /// Delete a window by id.
    Delete(IdArgs),
    /// Let people sync manually while the window blocks syncs.
    EnableManualSync(IdArgs),
    /// Block manual syncs too while the window blocks syncs.
    DisableManualSync(IdArgs),
    /// Change a window's schedule, duration, time zone or selectors.
    Update(Box<UpdateArgs>),
}

#[derive(Debug, Args)]
pub(crate) struct IdArgs {
    /// The project.
    name: String,
    /// The window's id (`sextant proj windows list` shows them).
    id: usize,
}

/// Which apps a window is about, and how.
#[derive(Debug, Args)]
pub(crate) struct Selectors {
    /// Applications it applies to (globs, comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub applications: Vec<String>,
    /// Destination namespaces it applies to (globs, comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub namespaces: Vec<String>,
    /// Clusters it applies to, by server or name (globs, comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub clusters: Vec<String>,
    /// Let people sync manually while it blocks syncs.
    #[arg(long)]
    pub manual_sync: bool,
    /// The schedule's time zone (IANA name; default UTC).
    #[arg(long)]
    pub time_zone: Option<String>,
    /// Require every selector given to match (default: any one).
    #[arg(long)]
    pub use_and_operator: bool,
    /// Let a sync started before the window changed run on.
    #[arg(long)]
    pub sync_overrun: bool,
    /// What the window is for.
    #[arg(long)]
    pub description: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct AddArgs {
    /// The project.
    name: String,
    /// allow or deny.
    #[arg(short, long, value_parser = ["allow", "deny"])]
    kind: String,
    /// When it opens: a cron expression (minute hour day month weekday).
    #[arg(long)]
    schedule: String,
    /// How long it stays open (`1h`, `30m`, `1h30m`).
    #[arg(long)]
    duration: String,
    #[command(flatten)]
    selectors: Selectors,
}

#[derive(Debug, Args)]
pub(crate) struct UpdateArgs {
    /// The project.
    name: String,
    /// The window's id.
    id: usize,
    /// A new schedule.
    #[arg(long)]
    schedule: Option<String>,
    /// A new duration.
    #[arg(long)]
    duration: Option<String>,
    /// New applications (replacing the list).
    #[arg(long, value_delimiter = ',')]
    applications: Option<Vec<String>>,
    /// New namespaces (replacing the list).
    #[arg(long, value_delimiter = ',')]
    namespaces: Option<Vec<String>>,
    /// New clusters (replacing the list).
    #[arg(long, value_delimiter = ',')]
    clusters: Option<Vec<String>>,
    /// A new time zone.
    #[arg(long)]
    time_zone: Option<String>,
    /// A new description.
    #[arg(long)]
    description: Option<String>,
}

pub(crate) async fn run(cx: &Cx, verb: WindowsVerb) -> anyhow::Result<ExitCode> {
    match verb {
        WindowsVerb::List { name, output } => list(cx, &name, output).await,
        WindowsVerb::Add(a) => {
            let window = super::window_from(&a.kind, &a.schedule, &a.duration, &a.selectors);
            change(cx, &a.name, |s| edit::add_window(s, window.clone())).await
        }
        WindowsVerb::Delete(i) => change(cx, &i.name, |s| edit::delete_window(s, i.id)).await,
        WindowsVerb::EnableManualSync(i) => manual(cx, i, true).await,
        WindowsVerb::DisableManualSync(i) => manual(cx, i, false).await,
        WindowsVerb::Update(u) => {
            change(cx, &u.name, |s| {
                let w = edit::window_mut(s, u.id)?;
                if let Some(v) = &u.schedule {
                    w.schedule = v.clone();
                }
                if let Some(v) = &u.duration {
                    w.duration = v.clone();
                }
                let list = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
                if let Some(v) = &u.applications {
                    w.applications = list(v);
                }
                if let Some(v) = &u.namespaces {
                    w.namespaces = list(v);
                }
                if let Some(v) = &u.clusters {
                    w.clusters = list(v);
                }
                if let Some(v) = &u.time_zone {
                    w.time_zone = Some(v.clone()).filter(|t| !t.is_empty());
                }
                if let Some(v) = &u.description {
                    w.description = Some(v.clone());
                }
                let check = w.clone();
                sextant_engine::project::window_states(
                    std::slice::from_ref(&check),
                    chrono::Utc::now(),
                )
                .map_err(|e| e.replace("syncWindows[0]: ", ""))?;
                Ok(Outcome::Changed(format!("updated sync window {}", u.id)))
            })
            .await
        }
    }
}

async fn manual(cx: &Cx, i: IdArgs, on: bool) -> anyhow::Result<ExitCode> {
    change(cx, &i.name, |s| {
        let w = edit::window_mut(s, i.id)?;
        if w.manual_sync.unwrap_or(false) == on {
            return Ok(Outcome::Unchanged(format!(
                "manual sync is already {} on window {}",
                if on { "enabled" } else { "disabled" },
                i.id
            )));
        }
        w.manual_sync = on.then_some(true);
        Ok(Outcome::Changed(format!(
            "manual sync {} on window {}",
            if on { "enabled" } else { "disabled" },
            i.id
        )))
    })
    .await
}

fn when(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| "never".into())
}

async fn list(cx: &Cx, name: &str, output: Option<Format>) -> anyhow::Result<ExitCode> {
    let project = cx.read(name).await?;
    let windows = project.spec.sync_windows.clone().unwrap_or_default();
    let states = sextant_engine::project::window_states(&windows, chrono::Utc::now())
        .map_err(|e| anyhow::anyhow!("project {name}: {e}"))?;
    if let Some(format) = output {
        let rows: Vec<serde_json::Value> = states
            .iter()
            .map(|s| {
                let mut v = serde_json::to_value(s.window).unwrap_or_default();
                v["id"] = s.index.into();
                v["active"] = s.active.into();
                let key = if s.active { "closesAt" } else { "opensAt" };
                v[key] = serde_json::Value::String(when(s.changes_at));
                v
            })
            .collect();
        crate::app_cmd::print(&rows, format)?;
        return Ok(ExitCode::SUCCESS);
    }
    if states.is_empty() {
        println!("project {name} has no sync windows: its apps may sync at any time");
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = crate::app_cmd::table::Table::new(&[
        "ID",
        "STATUS",
        "KIND",
        "SCHEDULE",
        "DURATION",
        "TIMEZONE",
        "APPLICATIONS",
        "NAMESPACES",
        "CLUSTERS",
        "MANUALSYNC",
        "CHANGES",
    ]);
    let join = |v: &Option<Vec<String>>| v.as_ref().map(|l| l.join(",")).unwrap_or_default();
    for s in &states {
        let w = s.window;
        t.row(vec![
            s.index.to_string(),
            if s.active { "Active" } else { "Inactive" }.into(),
            w.kind.clone(),
            w.schedule.clone(),
            w.duration.clone(),
            w.time_zone.clone().unwrap_or_else(|| "UTC".into()),
            join(&w.applications),
            join(&w.namespaces),
            join(&w.clusters),
            if w.manual_sync == Some(true) {
                "Enabled"
            } else {
                "Disabled"
            }
            .into(),
            format!(
                "{} {}",
                if s.active { "closes" } else { "opens" },
                when(s.changes_at)
            ),
        ]);
    }
    print!("{}", t.render());
    Ok(ExitCode::SUCCESS)
}
