//! `sextant app sync` and `sextant app rollback`: write an operation (see
//! `operation.rs` for the contract) and, unless `--async`, follow it to
//! its end. Rollback syncs to a history entry's revision and source, and is
//! refused while automated sync is on (automation would undo it).

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use super::ConnArgs;
use sextant_model::Application;

use super::client::{Apps, retry_on_conflict};
use super::operation::{self, Request};

/// Options of `sextant app sync`.
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The Application's name.
    name: String,
    /// Sync to this revision instead of the app's target revision.
    #[arg(long)]
    revision: Option<String>,
    /// Delete objects Git no longer has.
    #[arg(long)]
    prune: bool,
    /// Only show what a sync would do.
    #[arg(long)]
    dry_run: bool,
    /// Sync only this object (repeat for more): GROUP:KIND:[NAMESPACE/]NAME,
    /// the core group empty (`:ConfigMap:shop/settings`).
    #[arg(long = "resource", value_name = "GROUP:KIND:[NS/]NAME", value_parser = operation::parse_selected)]
    resources: Vec<operation::Selected>,
    /// Do not wait for the sync to finish.
    #[arg(long = "async")]
    no_wait: bool,
    /// How long to wait for the sync (it goes on after that).
    #[arg(long, value_parser = super::duration::parse, default_value = "5m")]
    timeout: Duration,
}

/// Options of `sextant app rollback`.
#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The Application's name.
    name: String,
    /// The history entry to go back to (see `sextant app history`).
    id: i64,
    /// Delete objects the entry's revision does not have.
    #[arg(long)]
    prune: bool,
    /// Do not wait for the rollback to finish.
    #[arg(long = "async")]
    no_wait: bool,
    /// How long to wait for the rollback (it goes on after that).
    #[arg(long, value_parser = super::duration::parse, default_value = "5m")]
    timeout: Duration,
}

/// Sync.
pub async fn run_sync(conn: &ConnArgs, args: SyncArgs) -> anyhow::Result<ExitCode> {
    let apps = Apps::connect(conn).await?;
    let name = args.name.as_str();
    let req = Request {
        revision: args.revision.clone(),
        prune: args.prune,
        dry_run: args.dry_run,
        source: None,
        resources: args.resources.clone(),
    };
    let (id, target_of) = retry_on_conflict(async || {
        let app = apps.get(name).await?;
        operation::refuse_if_busy(&app, name)?;
        let id = operation::request(&apps, &app, name, &req).await?;
        Ok((id, app))
    })
    .await?;
    let what = if args.dry_run { "dry-run sync" } else { "sync" };
    let target = match &args.revision {
        Some(r) => format!("{r}, as asked"),
        None => format!(
            "{}, the app's targetRevision",
            super::diff::target_revision(&target_of)
        ),
    };
    let step = Step {
        what,
        announce: &format!(
            "{} {name}",
            if args.dry_run {
                "dry-run syncing"
            } else {
                "syncing"
            }
        ),
        target: &target,
    };
    finish(&apps, name, &id, &step, args.no_wait, args.timeout).await
}

/// Roll back.
pub async fn run_rollback(conn: &ConnArgs, args: RollbackArgs) -> anyhow::Result<ExitCode> {
    let apps = Apps::connect(conn).await?;
    let name = args.name.as_str();
    let (id, what) = retry_on_conflict(async || {
        let app = apps.get(name).await?;
        let (req, what) = rollback_request(&app, name, &args)?;
        let id = operation::request(&apps, &app, name, &req).await?;
        Ok((id, what))
    })
    .await?;
    let step = Step {
        what: &what,
        announce: &format!("rolling {name} back"),
        target: &format!("history entry {}", args.id),
    };
    finish(&apps, name, &id, &step, args.no_wait, args.timeout).await
}

/// How a requested operation is called while it is followed.
struct Step<'a> {
    /// `sync`, `rollback to history entry 3 (4c42b8c)`.
    what: &'a str,
    /// `syncing checkout`, said with the commit once it is known.
    announce: &'a str,
    /// What was asked for (`main, the app's targetRevision`).
    target: &'a str,
}

/// The operation that rolls `app` back to history entry `args.id`, and
/// how to call it; refused while the app syncs automatically or is busy.
fn rollback_request(
    app: &Application,
    name: &str,
    args: &RollbackArgs,
) -> anyhow::Result<(Request, String)> {
    let automated = app
        .spec
        .sync_policy
        .as_ref()
        .and_then(|p| p.automated.as_ref())
        .is_some_and(|a| a.enabled != Some(false));
    if automated {
        anyhow::bail!(
            "application {name} syncs automatically, which would undo a rollback at once; disable auto-sync first: sextant app set {name} --sync-policy manual"
        );
    }
    operation::refuse_if_busy(app, name)?;
    let history = app
        .status
        .as_ref()
        .and_then(|s| s.history.as_ref())
        .cloned()
        .unwrap_or_default();
    let Some(entry) = history.iter().find(|h| h.id == args.id) else {
        let ids: Vec<String> = history.iter().map(|h| h.id.to_string()).collect();
        anyhow::bail!(
            "application {name} has no history entry {} (it has {}; see `sextant app history {name}`)",
            args.id,
            if ids.is_empty() {
                "none".to_owned()
            } else {
                ids.join(", ")
            }
        );
    };
    let source = entry
        .source
        .as_ref()
        .map(serde_json::to_value)
        .transpose()
        .context("could not write the history entry's source")?;
    let req = Request {
        revision: Some(entry.revision.clone()),
        prune: args.prune,
        dry_run: false,
        source,
        resources: Vec::new(),
    };
    let what = format!(
        "rollback to history entry {} ({})",
        entry.id,
        super::table::short_revision(&entry.revision)
    );
    Ok((req, what))
}

async fn finish(
    apps: &Apps,
    name: &str,
    id: &str,
    step: &Step<'_>,
    no_wait: bool,
    timeout: Duration,
) -> anyhow::Result<ExitCode> {
    let what = step.what;
    if no_wait {
        println!(
            "{what} requested for application {name} (request id {id}); `sextant app wait {name} --operation` waits for it"
        );
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("{what} requested for application {name} (request id {id})");
    operation::follow(apps, name, id, timeout, step.announce, step.target).await
}
