//! `sextant app resources`: the objects an app manages, with their sync
//! and health status (`status.resources`), or, with `--tree`, as they are
//! in the cluster with everything they own (ReplicaSets, Pods, ...).

use std::process::ExitCode;

use clap::Args;

use super::ConnArgs;
use super::client::Apps;
use super::live::{self, LiveTree};
use super::show::{self, Format};
use super::style::Style;
use super::table::Table;

/// Options of `sextant app resources`.
#[derive(Debug, Args)]
pub struct ResourcesArgs {
    /// The Application's name.
    name: String,
    /// Also list what the app's objects own (read from the cluster now).
    #[arg(long)]
    tree: bool,
    /// Print `status.resources` as JSON or YAML instead of a table.
    #[arg(short, long, value_enum, conflicts_with = "tree")]
    output: Option<Format>,
}

/// List the app's objects.
pub async fn run(conn: &ConnArgs, args: ResourcesArgs) -> anyhow::Result<ExitCode> {
    let apps = Apps::connect(conn).await?;
    let app = apps.get(&args.name).await?;
    let resources = app
        .status
        .as_ref()
        .and_then(|s| s.resources.clone())
        .unwrap_or_default();
    if let Some(format) = args.output {
        show::print(&resources, format)?;
        return Ok(ExitCode::SUCCESS);
    }
    if resources.is_empty() {
        eprintln!(
            "application {} has no resources yet (has the controller compared it? see `sextant app get {}`)",
            args.name, args.name
        );
        return Ok(ExitCode::SUCCESS);
    }
    if args.tree {
        let tree = live::read(&apps, &app).await;
        print!("{}", tree_table(&tree, Style::stdout()));
        return tree_errors(&tree);
    }
    let style = Style::stdout();
    let mut table = Table::new(&["GROUP", "KIND", "NAMESPACE", "NAME", "STATUS", "HEALTH"]);
    for r in &resources {
        let status = r.status.clone().unwrap_or_default();
        let health = r
            .health
            .as_ref()
            .map(|h| h.status.clone())
            .unwrap_or_default();
        table.row(vec![
            r.group.clone(),
            r.kind.clone(),
            r.namespace.clone().unwrap_or_default(),
            r.name.clone(),
            if status.is_empty() {
                status
            } else {
                style.status(&status, 0)
            },
            if health.is_empty() {
                health
            } else {
                style.status(&health, 0)
            },
        ]);
    }
    print!("{}", table.render());
    Ok(ExitCode::SUCCESS)
}

/// The tree as a table: the drawing and the object in the first column.
pub fn tree_table(tree: &LiveTree, style: Style) -> String {
    let mut table = Table::new(&["NAME", "NAMESPACE", "STATUS", "HEALTH", "MESSAGE"]);
    for node in &tree.nodes {
        let (health, message) = &node.health;
        table.row(vec![
            format!("{}{}", live::branch(node), live::label(&node.key)),
            node.key.namespace.clone(),
            if node.status.is_empty() {
                String::new()
            } else {
                style.status(&node.status, 0)
            },
            if health.is_empty() {
                String::new()
            } else {
                style.status(health, 0)
            },
            message.clone(),
        ]);
    }
    table.render()
}

/// Exit 0, or an error naming what could not be read.
pub fn tree_errors(tree: &LiveTree) -> anyhow::Result<ExitCode> {
    if tree.errors.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    anyhow::bail!("the tree is incomplete: {}", tree.errors.join("; "))
}
