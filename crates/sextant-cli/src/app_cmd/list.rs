//! `sextant app list`: NAME PROJECT SYNC HEALTH REVISION, more columns
//! with `-o wide`, names only with `-o name`, the objects as the server
//! has them with `-o json|yaml`; filtered by label selector (`-l`, by the
//! API server) and project (`-p`), in one namespace or all (`-A`, with a
//! NAMESPACE column).

use std::process::ExitCode;

use clap::{Args, ValueEnum};
use kube::api::{Api, DynamicObject, ListParams};
use kube::discovery::ApiResource;
use serde_json::json;
use sextant_model::Application;

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
    /// Only apps whose labels match (`team=web,env!=dev`), as kubectl's -l.
    #[arg(short = 'l', long, value_name = "SELECTOR")]
    selector: Option<String>,
    /// Only apps of these projects; repeatable.
    #[arg(short = 'p', long = "project", value_name = "PROJECT")]
    projects: Vec<String>,
    /// The apps of every namespace.
    #[arg(short = 'A', long)]
    all_namespaces: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ListFormat {
    Json,
    Yaml,
    Wide,
    /// `application/NAME` per line, as kubectl's -o name.
    Name,
}

/// List the apps.
pub async fn run(conn: &ConnArgs, args: ListArgs) -> anyhow::Result<ExitCode> {
    let apps = Apps::connect(conn).await?;
    let mut params = ListParams::default();
    if let Some(sel) = &args.selector {
        params = params.labels(sel);
    }
    let (typed, raw): (Api<Application>, Api<DynamicObject>) = if args.all_namespaces {
        let resource = ApiResource::erase::<Application>(&());
        (
            Api::all(apps.client.clone()),
            Api::all_with(apps.client.clone(), &resource),
        )
    } else {
        (apps.api.clone(), apps.raw())
    };
    let in_projects =
        |project: &str| args.projects.is_empty() || args.projects.iter().any(|p| p == project);
    let raw_format = match args.output {
        Some(ListFormat::Json) => Some(Format::Json),
        Some(ListFormat::Yaml) => Some(Format::Yaml),
        _ => None,
    };
    if let Some(format) = raw_format {
        let list = match raw.list(&params).await {
            Ok(list) => list,
            Err(e) => return Err(list_failed(&apps, e, args.all_namespaces).await),
        };
        let items: Vec<DynamicObject> = list
            .items
            .into_iter()
            .filter(|o| {
                in_projects(
                    o.data["spec"]["project"]
                        .as_str()
                        .filter(|p| !p.is_empty())
                        .unwrap_or("default"),
                )
            })
            .collect();
        show::print_objects(
            &json!({"apiVersion": "v1", "kind": "List", "items": items}),
            format,
            args.show_managed_fields,
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut list: Vec<Application> = match typed.list(&params).await {
        Ok(list) => list.items,
        Err(e) => return Err(list_failed(&apps, e, args.all_namespaces).await),
    };
    list.retain(|a| in_projects(show::project(a)));
    list.sort_by(|a, b| {
        (&a.metadata.namespace, &a.metadata.name).cmp(&(&b.metadata.namespace, &b.metadata.name))
    });
    if list.is_empty() {
        let place = if args.all_namespaces {
            "any namespace".to_owned()
        } else {
            format!("namespace {}", apps.namespace)
        };
        let filtered = args.selector.is_some() || !args.projects.is_empty();
        eprintln!(
            "no applications in {place}{}",
            if filtered { " match" } else { "" }
        );
        return Ok(ExitCode::SUCCESS);
    }
    if matches!(args.output, Some(ListFormat::Name)) {
        for app in &list {
            println!(
                "application/{}",
                app.metadata.name.clone().unwrap_or_default()
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let wide = matches!(args.output, Some(ListFormat::Wide));
    let mut header = Vec::new();
    if args.all_namespaces {
        header.push("NAMESPACE");
    }
    header.extend(["NAME", "PROJECT", "SYNC", "HEALTH", "REVISION"]);
    if wide {
        header.extend(["DESTINATION", "REPO", "PATH", "TARGET"]);
    }
    let mut table = Table::new(&header);
    for app in &list {
        let mut row = Vec::new();
        if args.all_namespaces {
            row.push(app.metadata.namespace.clone().unwrap_or_default());
        }
        row.extend([
            app.metadata.name.clone().unwrap_or_default(),
            show::project(app).to_owned(),
            show::sync_status(app).to_owned(),
            show::health_status(app).to_owned(),
            short_revision(show::sync_revision(app)),
        ]);
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

async fn list_failed(apps: &Apps, e: kube::Error, all: bool) -> anyhow::Error {
    let place = if all {
        "any namespace".to_owned()
    } else {
        format!("namespace {}", apps.namespace)
    };
    match &e {
        kube::Error::Api(status) if status.code == 404 => {
            match super::client::crds_installed(&apps.client).await {
                Ok(false) => anyhow::anyhow!(
                    "the cluster does not serve Applications: the Sextant CRDs are not installed; {}",
                    super::client::install_crds()
                ),
                _ => anyhow::anyhow!(super::client::words(&e)),
            }
        }
        kube::Error::Api(status) if status.code == 400 => anyhow::anyhow!(
            "the label selector was refused: {} (write it as kubectl's -l: key=value, key!=value, key in (a,b), !key)",
            status.message
        ),
        _ => anyhow::anyhow!(super::client::words(&e))
            .context(format!("could not list applications in {place}")),
    }
}
