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
    /// Show the diff first and ask before syncing (`--yes` syncs without
    /// asking, for logs of scripted runs).
    #[arg(long)]
    preview_changes: bool,
    /// With `--preview-changes`: do not ask.
    #[arg(short = 'y', long, requires = "preview_changes")]
    yes: bool,
    /// Apply only the objects that differ (ApplyOutOfSyncOnly=true).
    #[arg(long)]
    apply_out_of_sync_only: bool,
    /// Replace objects instead of applying them (Replace=true).
    #[arg(long)]
    replace: bool,
    /// Delete and re-create what cannot be changed in place (Force=true).
    #[arg(long)]
    force: bool,
    /// Apply on the client side, with kubectl's last-applied annotation
    /// (ServerSideApply=false).
    #[arg(long)]
    client_side_apply: bool,
    /// A sync option for this sync only (`Validate=false`,
    /// `PruneLast=true`, ...), added to the app's; repeatable.
    #[arg(long = "sync-option", value_name = "KEY=VALUE")]
    sync_options: Vec<String>,
    #[command(flatten)]
    retry: RetryArgs,
    /// Do not wait for the sync to finish.
    #[arg(long = "async")]
    no_wait: bool,
    /// How long to wait for the sync (it goes on after that).
    #[arg(long, value_parser = super::duration::parse, default_value = "5m")]
    timeout: Duration,
    /// Tools, caches and Git credentials for `--preview-changes`.
    #[command(flatten, next_help_heading = "Rendering (for --preview-changes)")]
    renderer: crate::render_cmd::RendererArgs,
}

/// How often a failed sync is tried again (`operation.retry`).
#[derive(Debug, Args)]
struct RetryArgs {
    /// Try a failed sync again up to this many times.
    #[arg(long, value_name = "N")]
    retry_limit: Option<u32>,
    /// The wait before the first retry.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = super::duration::parse)]
    retry_backoff_duration: Duration,
    /// Each further wait is this many times the one before.
    #[arg(long, value_name = "N", default_value_t = 2)]
    retry_backoff_factor: u32,
    /// The longest wait.
    #[arg(long, value_name = "DURATION", default_value = "3m", value_parser = super::duration::parse)]
    retry_backoff_max_duration: Duration,
}

impl RetryArgs {
    /// `operation.retry`, as Argo CD writes it (durations as `30s`).
    fn to_value(&self) -> Option<serde_json::Value> {
        let limit = self.retry_limit.filter(|l| *l > 0)?;
        Some(serde_json::json!({
            "limit": limit,
            "backoff": {
                "duration": format!("{}s", self.retry_backoff_duration.as_secs()),
                "factor": self.retry_backoff_factor.max(1),
                "maxDuration": format!("{}s", self.retry_backoff_max_duration.as_secs()),
            },
        }))
    }
}

impl SyncArgs {
    /// The sync options this sync adds to the app's, checked as the
    /// controller reads them (an unknown option fails here, not later).
    fn sync_options(&self) -> anyhow::Result<Vec<String>> {
        let mut options = self.sync_options.clone();
        let flags = [
            (self.apply_out_of_sync_only, "ApplyOutOfSyncOnly=true"),
            (self.replace, "Replace=true"),
            (self.force, "Force=true"),
            (self.client_side_apply, "ServerSideApply=false"),
        ];
        options.extend(
            flags
                .iter()
                .filter(|(on, _)| *on)
                .map(|(_, o)| (*o).to_owned()),
        );
        sextant_engine::sync::SyncOptions::parse_app(options.iter().map(String::as_str))
            .map_err(|e| anyhow::anyhow!("{e}; nothing was asked of the controller"))?;
        Ok(options)
    }
}

/// Print the diff a sync would apply and ask whether to go on (`--yes`:
/// go on without asking).
async fn preview_and_confirm(apps: &Apps, args: &SyncArgs) -> anyhow::Result<bool> {
    let name = args.name.as_str();
    let app = apps.get(name).await?;
    let what = super::diff::DiffWhat::at(args.revision.clone(), args.renderer.clone());
    let found = super::diff::compute(apps, &app, name, what).await?;
    found.print_text(name);
    found.check_errors()?;
    if !found.differs() {
        eprintln!("the live state already matches: the sync will change nothing");
    }
    if args.yes {
        return Ok(true);
    }
    super::prompt::ask(
        &format!("Sync application {name} with these changes?"),
        || {
            format!(
                "not syncing application {name}: --preview-changes asks first and stdin is not a terminal; add --yes to sync after printing the preview"
            )
        },
    )
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
    let sync_options = args.sync_options()?;
    let apps = Apps::connect(conn).await?;
    let name = args.name.as_str();
    if args.preview_changes && !preview_and_confirm(&apps, &args).await? {
        eprintln!("nothing was synced");
        return Ok(ExitCode::from(1));
    }
    let req = Request {
        revision: args.revision.clone(),
        prune: args.prune,
        dry_run: args.dry_run,
        source: None,
        sources: None,
        resources: args.resources.clone(),
        sync_options,
        retry: args.retry.to_value(),
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
    let sources = match (&entry.sources, &entry.revisions) {
        (Some(sources), Some(revisions)) => Some((
            serde_json::to_value(sources).context("could not write the history entry's sources")?,
            revisions.clone(),
        )),
        _ => None,
    };
    let req = Request {
        revision: Some(entry.revision.clone()),
        prune: args.prune,
        dry_run: false,
        source,
        sources,
        resources: Vec::new(),
        sync_options: Vec::new(),
        retry: None,
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
