//! `sextant app history`: ID DATE REVISION INITIATOR from `status.history`.

use std::process::ExitCode;

use clap::Args;

use super::ConnArgs;
use super::client::Apps;
use super::show::{self, Format};
use super::table::{Table, short_revision};

/// Options of `sextant app history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The Application's name.
    name: String,
    /// Print the entries as JSON or YAML.
    #[arg(short, long, value_enum)]
    output: Option<Format>,
}

/// Print the history.
pub async fn run(conn: &ConnArgs, args: HistoryArgs) -> anyhow::Result<ExitCode> {
    let apps = Apps::connect(conn).await?;
    let app = apps.get(&args.name).await?;
    let history = app
        .status
        .as_ref()
        .and_then(|s| s.history.clone())
        .unwrap_or_default();
    if let Some(format) = args.output {
        show::print(&history, format)?;
        return Ok(ExitCode::SUCCESS);
    }
    if history.is_empty() {
        eprintln!("application {} has not been synced yet", args.name);
        return Ok(ExitCode::SUCCESS);
    }
    let mut table = Table::new(&["ID", "DATE", "REVISION", "INITIATOR"]);
    for h in &history {
        table.row(vec![
            h.id.to_string(),
            h.deployed_at.clone(),
            short_revision(&h.revision),
            show::initiator(h.initiated_by.as_ref()),
        ]);
    }
    print!("{}", table.render());
    Ok(ExitCode::SUCCESS)
}
