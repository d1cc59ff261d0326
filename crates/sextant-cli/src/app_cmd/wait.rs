//! `sextant app wait`: until the app is Synced (`--sync`), Healthy
//! (`--health`) and has no operation pending or running (`--operation`);
//! all three when none is given. Exit 0 when reached, 1 on timeout (with
//! what was last seen).

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use sextant_model::Application;
use tokio::time::Instant;

use super::ConnArgs;
use super::client::Apps;
use super::show;
use super::watch::{Watched, watch_app};

/// Options of `sextant app wait`.
#[derive(Debug, Args)]
pub struct WaitArgs {
    /// The Application's name.
    name: String,
    /// Wait until the app is Synced.
    #[arg(long)]
    sync: bool,
    /// Wait until the app is Healthy.
    #[arg(long)]
    health: bool,
    /// Wait until no operation is pending or running.
    #[arg(long)]
    operation: bool,
    /// How long to wait.
    #[arg(long, value_parser = super::duration::parse, default_value = "5m")]
    timeout: Duration,
}

/// Wait.
pub async fn run(conn: &ConnArgs, args: WaitArgs) -> anyhow::Result<ExitCode> {
    let all = !(args.sync || args.health || args.operation);
    let want = Want {
        sync: args.sync || all,
        health: args.health || all,
        operation: args.operation || all,
    };
    let apps = Apps::connect(conn).await?;
    let name = args.name.as_str();
    apps.get(name).await?;
    let mut last: Option<Application> = None;
    let deadline = Instant::now() + args.timeout;
    let progress = super::progress::Progress::start(format!("waiting for {name}"));
    let outcome = watch_app(&apps, name, deadline, |app| {
        let Some(app) = app else {
            anyhow::bail!(
                "application {name} not found in namespace {} (it was deleted)",
                apps.namespace
            );
        };
        last = Some(app.clone());
        progress.set(format!("waiting for {name}: {}", want.seen(app).join(", ")));
        Ok(want.unmet(app).is_empty().then_some(()))
    })
    .await?;
    drop(progress);
    let Some(app) = last else {
        anyhow::bail!("application {name} could not be read");
    };
    match outcome {
        Watched::Done(()) => {
            println!("application {name}: {}", want.seen(&app).join(", "));
            Ok(ExitCode::SUCCESS)
        }
        Watched::TimedOut => {
            println!(
                "timed out after {} waiting for application {name}: {} (last seen: {})",
                super::duration::show(args.timeout),
                want.unmet(&app).join(", "),
                want.seen(&app).join(", ")
            );
            // What explains it: the app's conditions (a comparison error,
            // a sync error, a dependency it waits for, ...).
            for c in app
                .status
                .iter()
                .flat_map(|s| s.conditions.iter().flatten())
            {
                println!("  {}: {}", c.type_, c.message);
            }
            Ok(ExitCode::from(1))
        }
    }
}

struct Want {
    sync: bool,
    health: bool,
    operation: bool,
}

impl Want {
    /// What is still missing, in words (`want Synced`, ...).
    fn unmet(&self, app: &Application) -> Vec<String> {
        let mut out = Vec::new();
        if self.sync && show::sync_status(app) != "Synced" {
            out.push("not Synced".to_owned());
        }
        if self.health && show::health_status(app) != "Healthy" {
            out.push("not Healthy".to_owned());
        }
        if self.operation && show::operation_in_progress(app) {
            out.push("operation in progress".to_owned());
        }
        out
    }

    /// What was seen of the things waited for.
    fn seen(&self, app: &Application) -> Vec<String> {
        let or_unknown = |s: &str| {
            if s.is_empty() {
                "unknown".to_owned()
            } else {
                s.to_owned()
            }
        };
        let mut out = Vec::new();
        if self.sync {
            out.push(format!("sync {}", or_unknown(show::sync_status(app))));
        }
        if self.health {
            let mut h = format!("health {}", or_unknown(show::health_status(app)));
            let message = show::health_message(app);
            if !message.is_empty() {
                h.push_str(&format!(" ({message})"));
            }
            out.push(h);
        }
        if self.operation {
            out.push(show::describe_operation(app));
        }
        out
    }
}
