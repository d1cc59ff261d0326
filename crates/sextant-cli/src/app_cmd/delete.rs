//! `sextant app delete`. `--cascade` first adds the finalizer
//! `resources-finalizer.sextant.dev`, so the controller deletes the app's
//! objects and then removes the finalizer; `--no-cascade` first removes
//! that finalizer and Argo CD's, so the objects stay; neither deletes the
//! Application as it is. `--wait` waits until it is gone (exit 1 on
//! timeout).

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
    /// Delete the app's objects too (the controller does it before the
    /// Application goes).
    #[arg(long, conflicts_with = "no_cascade")]
    cascade: bool,
    /// Leave the app's objects in the cluster.
    #[arg(long)]
    no_cascade: bool,
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
    // Set the finalizers as asked, re-reading on conflict: the controller
    // may write the app between our read and our write.
    let finalizers = retry_on_conflict(async || {
        let app = apps.get(name).await?;
        let finalizers = app.metadata.finalizers.clone().unwrap_or_default();
        if let Some(list) = wanted_finalizers(&finalizers, &args) {
            let patch = json!({"metadata": {
                "resourceVersion": app.metadata.resource_version,
                "finalizers": list,
            }});
            apps.merge_patch(name, &patch).await?;
        }
        Ok(finalizers)
    })
    .await?;
    if let Err(e) = apps.api.delete(name, &DeleteParams::default()).await
        && !matches!(&e, kube::Error::Api(s) if s.code == 404)
    {
        return Err(apps.failed(e, name, "delete").await);
    }
    let cascading = if args.no_cascade {
        false
    } else {
        args.cascade
            || finalizers
                .iter()
                .any(|f| f == RESOURCES_FINALIZER || f == ARGOCD_RESOURCES_FINALIZER)
    };
    if cascading {
        println!(
            "deletion of application {name} requested; the controller deletes its resources first ({RESOURCES_FINALIZER})"
        );
    } else {
        println!("application {name} deleted (its resources stay in the cluster)");
    }
    if !args.wait {
        return Ok(ExitCode::SUCCESS);
    }
    let mut last_finalizers = Vec::new();
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

/// The finalizer list `--cascade`/`--no-cascade` ask for, when it differs
/// from `finalizers`.
fn wanted_finalizers(finalizers: &[String], args: &DeleteArgs) -> Option<Vec<String>> {
    if args.cascade {
        (!finalizers.iter().any(|f| f == RESOURCES_FINALIZER)).then(|| {
            let mut f = finalizers.to_vec();
            f.push(RESOURCES_FINALIZER.to_owned());
            f
        })
    } else if args.no_cascade {
        let kept: Vec<String> = finalizers
            .iter()
            .filter(|f| *f != RESOURCES_FINALIZER && *f != ARGOCD_RESOURCES_FINALIZER)
            .cloned()
            .collect();
        (kept.len() != finalizers.len()).then_some(kept)
    } else {
        None
    }
}
