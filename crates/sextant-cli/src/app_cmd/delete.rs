//! `sextant app delete`, as Argo CD's CLI does it: a cascading deletion
//! by default (the finalizer `resources-finalizer.sextant.dev` is added
//! first, so the controller deletes the app's objects and then removes
//! it); `--cascade=false` (or `--no-cascade`) first removes that finalizer
//! and Argo CD's, so the objects stay. It asks for confirmation on a
//! terminal; `--yes` skips the question, and without a terminal it refuses
//! to delete unless `--yes` is given. `--wait` waits until the app is gone
//! (exit 1 on timeout).

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use kube::api::DeleteParams;
use serde_json::json;
use sextant_model::annotations::{ARGOCD_RESOURCES_FINALIZER, RESOURCES_FINALIZER};
use tokio::time::Instant;

use super::ConnArgs;
use super::client::{Apps, retry_on_conflict};
use super::watch::{Watched, watch_app};

/// Options of `sextant app delete`.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The Application's name.
    name: String,
    /// Delete the app's objects too, the controller first (the default);
    /// `--cascade=false` leaves them.
    #[arg(long, conflicts_with = "no_cascade", default_value_t = true, num_args = 0..=1,
          default_missing_value = "true", action = clap::ArgAction::Set)]
    cascade: bool,
    /// Leave the app's objects in the cluster (`--cascade=false`).
    #[arg(long)]
    no_cascade: bool,
    /// Do not ask for confirmation (needed when stdin is not a terminal).
    #[arg(short, long)]
    yes: bool,
    /// Wait until the Application is gone.
    #[arg(long)]
    wait: bool,
    /// How long --wait waits.
    #[arg(long, value_parser = super::duration::parse, default_value = "5m")]
    timeout: Duration,
}

/// Delete.
pub async fn run(conn: &ConnArgs, args: DeleteArgs) -> anyhow::Result<ExitCode> {
    let apps = Apps::connect(conn).await?;
    let name = args.name.as_str();
    let cascade = args.cascade && !args.no_cascade;
    // The app must exist before anyone is asked about it.
    apps.get(name).await?;
    if !args.yes && !confirmed(name, cascade)? {
        println!("application {name} not deleted");
        return Ok(ExitCode::from(1));
    }
    // Set the finalizers as asked, re-reading on conflict: the controller
    // may write the app between our read and our write.
    retry_on_conflict(async || {
        let app = apps.get(name).await?;
        let finalizers = app.metadata.finalizers.clone().unwrap_or_default();
        if let Some(list) = wanted_finalizers(&finalizers, cascade) {
            let patch = json!({"metadata": {
                "resourceVersion": app.metadata.resource_version,
                "finalizers": list,
            }});
            apps.merge_patch(name, &patch).await?;
        }
        Ok(())
    })
    .await?;
    if let Err(e) = apps.api.delete(name, &DeleteParams::default()).await
        && !matches!(&e, kube::Error::Api(s) if s.code == 404)
    {
        return Err(apps.failed(e, name, "delete").await);
    }
    if cascade {
        println!(
            "deletion of application {name} requested; the controller deletes its resources first ({})",
            sextant_model::group::selected().resources_finalizer()
        );
    } else {
        println!("application {name} deleted (its resources stay in the cluster)");
    }
    if !args.wait {
        return Ok(ExitCode::SUCCESS);
    }
    let mut last_finalizers = Vec::new();
    let progress =
        super::progress::Progress::start(format!("waiting for application {name} to be gone"));
    let outcome = watch_app(&apps, name, Instant::now() + args.timeout, |app| {
        Ok(match app {
            None => Some(()),
            Some(app) => {
                last_finalizers = app.metadata.finalizers.clone().unwrap_or_default();
                None
            }
        })
    })
    .await?;
    drop(progress);
    match outcome {
        Watched::Done(()) => {
            println!("application {name} is gone");
            Ok(ExitCode::SUCCESS)
        }
        Watched::TimedOut => {
            println!(
                "timed out after {} waiting for application {name} to go (finalizers left: {})",
                super::duration::show(args.timeout),
                if last_finalizers.is_empty() {
                    "none".to_owned()
                } else {
                    last_finalizers.join(", ")
                }
            );
            Ok(ExitCode::from(1))
        }
    }
}

/// Ask on the terminal; refuse when there is none (a script must say
/// `--yes`).
fn confirmed(name: &str, cascade: bool) -> anyhow::Result<bool> {
    let what = if cascade {
        format!("application {name} and all its resources")
    } else {
        format!("application {name} (its resources stay)")
    };
    super::prompt::ask(&format!("Delete {what}?"), || {
        format!(
            "not deleting application {name} without confirmation: stdin is not a terminal; pass --yes to delete{}",
            if cascade {
                " it and its resources (or --cascade=false to keep them)"
            } else {
                " it"
            }
        )
    })
}

/// The finalizer list a cascading (or not) deletion needs, when it
/// differs from `finalizers`.
fn wanted_finalizers(finalizers: &[String], cascade: bool) -> Option<Vec<String>> {
    if cascade {
        (!finalizers
            .iter()
            .any(|f| f == RESOURCES_FINALIZER || f == ARGOCD_RESOURCES_FINALIZER))
        .then(|| {
            let mut f = finalizers.to_vec();
            f.push(
                sextant_model::group::selected()
                    .resources_finalizer()
                    .to_owned(),
            );
            f
        })
    } else {
        let kept: Vec<String> = finalizers
            .iter()
            .filter(|f| *f != RESOURCES_FINALIZER && *f != ARGOCD_RESOURCES_FINALIZER)
            .cloned()
            .collect();
        (kept.len() != finalizers.len()).then_some(kept)
    }
}
