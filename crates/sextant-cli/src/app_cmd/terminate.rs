//! `sextant app terminate-op`: stop a running sync at a safe point. As
//! Argo CD's API server does, the CLI sets `status.operationState.phase`
//! to `Terminating` (a merge patch of the status subresource, naming who
//! asked in the message); the controller stops before it starts anything
//! more and records the sync Failed. The command waits for that and says
//! so; a controller write that put `Running` back is answered by asking
//! again.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use kube::api::{Patch, PatchParams};
use serde_json::json;
use tokio::time::Instant;

use super::ConnArgs;
use super::client::Apps;
use super::watch::{Watched, watch_app};

/// Options of `sextant app terminate-op`.
#[derive(Debug, Args)]
pub struct TerminateArgs {
    /// The Application's name.
    name: String,
    /// How long to wait for the controller to stop the sync.
    #[arg(long, value_parser = super::duration::parse, default_value = "1m")]
    timeout: Duration,
}

/// Ask the controller to stop `args.name`'s running sync and wait until it has.
pub async fn run(conn: &ConnArgs, args: TerminateArgs) -> anyhow::Result<ExitCode> {
    let apps = Apps::connect(conn).await?;
    let name = args.name.as_str();
    let app = apps.get(name).await?;
    let phase = super::show::operation_state(&app).map(|s| s.phase.clone());
    if !matches!(phase.as_deref(), Some("Running" | "Terminating")) {
        anyhow::bail!(
            "application {name} has no sync running ({}); nothing to terminate",
            super::show::describe_operation(&app)
        );
    }
    let who = super::operation::who_am_i(&apps).await;
    let ask = async || -> anyhow::Result<()> {
        let patch = json!({"status": {"operationState": {
            "phase": "Terminating",
            "message": format!("terminated by {who}"),
        }}});
        match apps
            .api
            .patch_status(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => Err(apps.failed(e, name, "terminate the operation of").await),
        }
    };
    ask().await?;
    eprintln!("termination requested for application {name}");
    let deadline = Instant::now() + args.timeout;
    let progress = super::progress::Progress::start(format!(
        "waiting for the sync of {name} to stop at a safe point"
    ));
    let mut ask_again = false;
    loop {
        let seen = watch_app(&apps, name, deadline, |app| {
            let Some(app) = app else {
                anyhow::bail!("application {name} was deleted");
            };
            let Some(state) = super::show::operation_state(app) else {
                return Ok(Some(None));
            };
            match state.phase.as_str() {
                "Terminating" => Ok(None),
                "Running" => {
                    ask_again = true;
                    Ok(Some(None))
                }
                _ => Ok(Some(Some(state.clone()))),
            }
        })
        .await?;
        match seen {
            Watched::TimedOut => anyhow::bail!(
                "timed out after {} waiting for the controller to stop the sync of application {name} (is it running?)",
                super::duration::show(args.timeout)
            ),
            Watched::Done(Some(state)) => {
                drop(progress);
                println!(
                    "{}: {}",
                    state.phase,
                    state.message.as_deref().unwrap_or_default()
                );
                return Ok(ExitCode::SUCCESS);
            }
            Watched::Done(None) if ask_again => {
                ask_again = false;
                ask().await?;
            }
            Watched::Done(None) => {
                anyhow::bail!("application {name} has no operation state any more")
            }
        }
    }
}
