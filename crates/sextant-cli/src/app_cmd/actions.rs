//! `sextant app actions list|run`: Argo CD's resource actions (restart a
//! Deployment, run a CronJob now, custom actions from the settings
//! ConfigMap) on the objects an app tracks. The actions are the built-in
//! ones, the settings ConfigMap's (`resource.customizations.actions.*`)
//! and `--resource-customizations DIR`'s; running one writes what it
//! changed (a merge patch carrying the live resourceVersion) and records a
//! `ResourceActionRan` Event on the Application.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use sextant_controller::actions::{self, Caller, Selector};

use super::ConnArgs;
use super::client::Apps;
use super::show::{self, Format};
use super::table::Table;

/// Options of `sextant app actions`.
#[derive(Debug, Args)]
pub struct ActionsArgs {
    #[command(subcommand)]
    verb: ActionsVerb,
}

#[derive(Debug, Subcommand)]
enum ActionsVerb {
    /// List the actions the app's objects offer (disabled ones marked).
    List(ListArgs),
    /// Run an action on one of the app's objects (--all: on every one the options pick).
    Run(RunArgs),
}

/// Which of the app's objects.
#[derive(Debug, Args)]
struct Pick {
    /// Only objects of this kind.
    #[arg(long)]
    kind: Option<String>,
    /// Only the object of this name.
    #[arg(long)]
    resource_name: Option<String>,
    /// Only objects of this API group (empty: the core group).
    #[arg(long)]
    group: Option<String>,
    /// Only objects in this namespace (-n is the Applications' namespace).
    #[arg(long, value_name = "NAMESPACE")]
    resource_namespace: Option<String>,
    /// More custom actions, in Argo CD's layout
    /// (`GROUP/KIND/actions/discovery.lua`, `.../actions/NAME/action.lua`).
    #[arg(long, value_name = "DIR")]
    resource_customizations: Option<PathBuf>,
}

impl Pick {
    fn selector(&self) -> Selector {
        Selector {
            group: self.group.clone(),
            kind: self.kind.clone(),
            namespace: self.resource_namespace.clone(),
            name: self.resource_name.clone(),
        }
    }
}

#[derive(Debug, Args)]
struct ListArgs {
    /// The Application's name.
    name: String,
    #[command(flatten)]
    pick: Pick,
    /// Print JSON or YAML instead of a table.
    #[arg(short, long, value_enum)]
    output: Option<Format>,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// The Application's name.
    name: String,
    /// The action (`restart`, `pause`, `create-job`, ...).
    action: String,
    #[command(flatten)]
    pick: Pick,
    /// Run on every object the options pick (without it, they must pick one).
    #[arg(long)]
    all: bool,
}

/// Run `sextant app actions VERB`.
pub async fn run(conn: &ConnArgs, args: ActionsArgs) -> anyhow::Result<ExitCode> {
    match args.verb {
        ActionsVerb::List(a) => list(conn, a).await,
        ActionsVerb::Run(a) => run_action(conn, a).await,
    }
}

/// The app, its objects the pick selects, and the actions in force.
async fn prepare(
    conn: &ConnArgs,
    name: &str,
    pick: &Pick,
) -> anyhow::Result<(
    Apps,
    sextant_model::Application,
    Vec<serde_json::Value>,
    sextant_engine::actions::ResourceActions,
)> {
    let apps = Apps::connect(conn).await?;
    let app = apps.get(name).await?;
    let settings = sextant_controller::settings::read_once(&apps.client, &apps.namespace).await;
    let mut resource_actions = settings.actions.clone();
    if let Some(dir) = &pick.resource_customizations {
        let from_dir = crate::health_cmd::load_actions(dir)?;
        resource_actions = resource_actions.with_overrides(&from_dir);
    }
    let objects = actions::live_objects(&apps.client, &settings.tracking, &app, &pick.selector())
        .await
        .map_err(|e| anyhow::anyhow!("application {name}: {e}"))?;
    Ok((apps, app, objects, resource_actions))
}

async fn list(conn: &ConnArgs, args: ListArgs) -> anyhow::Result<ExitCode> {
    let (_, _, objects, resource_actions) = prepare(conn, &args.name, &args.pick).await?;
    let offered = actions::offered(&resource_actions, objects)
        .await
        .map_err(|e| anyhow::anyhow!("application {}: {e}", args.name))?;
    if let Some(format) = args.output {
        let rows: Vec<serde_json::Value> = offered
            .iter()
            .flat_map(|o| {
                o.actions.iter().map(move |a| {
                    serde_json::json!({
                        "group": o.key.group, "kind": o.key.kind,
                        "namespace": o.key.namespace, "name": o.key.name,
                        "action": a.name, "disabled": a.disabled,
                        "displayName": a.display_name,
                    })
                })
            })
            .collect();
        show::print(&rows, format)?;
        return Ok(ExitCode::SUCCESS);
    }
    if offered.is_empty() {
        eprintln!(
            "no action for the objects of application {} that the options pick",
            args.name
        );
        return Ok(ExitCode::SUCCESS);
    }
    let mut table = Table::new(&["GROUP", "KIND", "NAMESPACE", "NAME", "ACTION", "DISABLED"]);
    for o in &offered {
        for a in &o.actions {
            table.row(vec![
                o.key.group.clone(),
                o.key.kind.clone(),
                o.key.namespace.clone(),
                o.key.name.clone(),
                a.name.clone(),
                a.disabled.to_string(),
            ]);
        }
    }
    print!("{}", table.render());
    Ok(ExitCode::SUCCESS)
}

async fn run_action(conn: &ConnArgs, args: RunArgs) -> anyhow::Result<ExitCode> {
    let (apps, app, objects, resource_actions) = prepare(conn, &args.name, &args.pick).await?;
    if objects.is_empty() {
        anyhow::bail!(
            "application {} tracks no live object that --kind, --resource-name, --group and --resource-namespace pick (see `sextant app resources {}`)",
            args.name,
            args.name
        );
    }
    if objects.len() > 1 && !args.all {
        let names: Vec<String> = objects
            .iter()
            .map(|o| sextant_engine::diff::ObjectKey::of(o).to_string())
            .collect();
        anyhow::bail!(
            "the options pick {} objects of application {} ({}); name one with --kind and --resource-name, or pass --all",
            objects.len(),
            args.name,
            names.join(", ")
        );
    }
    let who = std::env::var("USER").unwrap_or_else(|_| "someone".to_owned());
    let caller = Caller {
        who: &format!("{who} (sextant app actions run)"),
        component: "sextant-cli",
    };
    for obj in &objects {
        let ran = actions::run(
            &apps.client,
            &resource_actions,
            &app,
            obj,
            &args.action,
            caller,
        )
        .await
        .map_err(|e| anyhow::anyhow!("application {}: {e}", args.name))
        .with_context(|| format!("action {} was not run", args.action))?;
        for change in &ran.changes {
            println!("{}: {change}", args.action);
        }
        if ran.changes.is_empty() {
            println!("{}: {} unchanged", args.action, ran.target);
        }
    }
    Ok(ExitCode::SUCCESS)
}
