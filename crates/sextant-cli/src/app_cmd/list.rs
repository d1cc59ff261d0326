//! `sextant app list`: NAME PROJECT SYNC HEALTH REVISION, more columns
//! with `-o wide`, the objects as the server has them with `-o json|yaml`.

use std::process::ExitCode;

use clap::{Args, ValueEnum};
use kube::api::ListParams;
use serde_json::json;

use super::ConnArgs;
use super::client::Apps;
use super::show::{self, Format};
use super::table::{Table, short_revision};

/// Options of `sextant app list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Output format.
    #[arg(short, long, value_enum)]
    output: Option<ListFormat>,
    /// With -o json|yaml, keep metadata.managedFields (left out by default,
    /// as kubectl does).
    #[arg(long)]
    show_managed_fields: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ListFormat {
    Json,
    Yaml,
    Wide,
}

/// List the apps.
pub async fn run(conn: &ConnArgs, args: ListArgs) -> anyhow::Result<ExitCode> {
    let apps = Apps::connect(conn).await?;
    let raw_format = match args.output {
        Some(ListFormat::Json) => Some(Format::Json),
        Some(ListFormat::Yaml) => Some(Format::Yaml),
        _ => None,
    };
    if let Some(format) = raw_format {
        let list = match apps.raw().list(&ListParams::default()).await {
            Ok(list) => list,
            Err(e) => return Err(list_failed(&apps, e).await),
        };
        show::print_objects(
            &json!({"apiVersion": "v1", "kind": "List", "items": list.items}),
            format,
            args.show_managed_fields,
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut list = match apps.api.list(&ListParams::default()).await {
        Ok(list) => list.items,
        Err(e) => return Err(list_failed(&apps, e).await),
    };
    list.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    if list.is_empty() {
        eprintln!("no applications in namespace {}", apps.namespace);
        return Ok(ExitCode::SUCCESS);
    }
    let wide = matches!(args.output, Some(ListFormat::Wide));
    let mut header = vec!["NAME", "PROJECT", "SYNC", "HEALTH", "REVISION"];
    if wide {
        header.extend(["DESTINATION", "REPO", "PATH", "TARGET"]);
    }
    let mut table = Table::new(&header);
    for app in &list {
        let mut row = vec![
            app.metadata.name.clone().unwrap_or_default(),
            show::project(app).to_owned(),
            show::sync_status(app).to_owned(),
            show::health_status(app).to_owned(),
            short_revision(show::sync_revision(app)),
        ];
        if wide {
            let source = show::source(app);
            row.extend([
                show::destination(app),
                source.map(|s| s.repo_url.clone()).unwrap_or_default(),
                source.and_then(|s| s.path.clone()).unwrap_or_default(),
                source
                    .and_then(|s| s.target_revision.clone())
                    .unwrap_or_default(),
            ]);
        }
        table.row(row);
    }
    print!("{}", table.render());
    Ok(ExitCode::SUCCESS)
}

async fn list_failed(apps: &Apps, e: kube::Error) -> anyhow::Error {
    match &e {
        kube::Error::Api(status) if status.code == 404 => {
            match super::client::crds_installed(&apps.client).await {
                Ok(false) => anyhow::anyhow!(
                    "the cluster does not serve Applications: the Sextant CRDs are not installed; {}",
                    super::client::INSTALL_CRDS
                ),
                _ => anyhow::anyhow!(super::client::words(&e)),
            }
        }
        _ => anyhow::anyhow!(super::client::words(&e)).context(format!(
            "could not list applications in namespace {}",
            apps.namespace
        )),
    }
}
