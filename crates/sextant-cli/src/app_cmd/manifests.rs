//! `sextant app manifests`: the objects of an app as YAML documents, either
//! what its source renders (`--source git`, the default: at its target
//! revision or `--revision`, with the tracking annotation a sync adds) or
//! what is live in the cluster (`--source live`, managedFields left out).

use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use serde_json::Value;

use super::ConnArgs;
use super::client::Apps;

/// Options of `sextant app manifests`.
#[derive(Debug, Args)]
pub struct ManifestsArgs {
    /// The Application's name.
    name: String,
    /// What to print: the rendered source or the live objects.
    #[arg(long, value_enum, default_value = "git")]
    source: ManifestSource,
    /// With --source git: render this revision instead of the app's
    /// target revision.
    #[arg(long)]
    revision: Option<String>,
    /// Tools, caches and Git credentials for rendering.
    #[command(flatten)]
    renderer: crate::render_cmd::RendererArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ManifestSource {
    /// What the app's source renders.
    Git,
    /// The objects in the cluster.
    Live,
}

/// Print the manifests.
pub async fn run(conn: &ConnArgs, args: ManifestsArgs) -> anyhow::Result<ExitCode> {
    let apps = Apps::connect(conn).await?;
    let name = args.name.as_str();
    let app = apps.get(name).await?;
    let objects: Vec<Value> = match args.source {
        ManifestSource::Git => {
            let what = super::diff::DiffWhat::at(args.revision.clone(), args.renderer);
            super::diff::rendered_objects(&apps, &app, name, what).await?
        }
        ManifestSource::Live => {
            if args.revision.is_some() {
                anyhow::bail!("--revision applies to --source git only");
            }
            let tree = super::live::read(&apps, &app).await;
            if !tree.errors.is_empty() {
                anyhow::bail!(
                    "could not read the live objects: {}",
                    tree.errors.join("; ")
                );
            }
            tree.nodes
                .into_iter()
                .filter(|n| n.depth == 0)
                .filter_map(|n| n.object)
                .map(|mut o| {
                    if let Some(meta) = o.get_mut("metadata").and_then(Value::as_object_mut) {
                        meta.remove("managedFields");
                    }
                    o
                })
                .collect()
        }
    };
    let mut out = String::new();
    for o in &objects {
        out.push_str("---\n");
        out.push_str(&serde_yaml_ng::to_string(o).context("could not print YAML")?);
    }
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}
