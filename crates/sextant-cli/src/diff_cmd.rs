//! `sextant diff`: render as `sextant render` does, then diff each rendered
//! object against the cluster with a server-side dry-run apply, and print
//! unified YAML diffs (or JSON with `--output json`). Exit 0 when nothing
//! differs, 1 when something does, 2 on error, as diff(1) and kubectl diff.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use serde_json::{Value, json};
use sextant_cluster::{DiffSettings, connect, diff_objects};
use sextant_engine::diff::{IgnoreDifferences, IgnoreRule};

use crate::render_cmd::{self, RenderArgs};

/// What a diff compares, said on every run.
const SCOPE: &str = "only the objects the repository renders are compared; objects live in the cluster but not in Git are not listed (pruning candidates come with resource tracking)";

/// Options of `sextant diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The cluster's kubeconfig.
    #[arg(long, env = "KUBECONFIG", value_name = "FILE")]
    kubeconfig: PathBuf,
    /// A context of the kubeconfig (default: its current context).
    #[arg(long)]
    context: Option<String>,
    /// The application's ignoreDifferences: a YAML list of rules, or an
    /// Application manifest (its spec.ignoreDifferences); repeatable.
    #[arg(long, value_name = "FILE")]
    ignore_differences: Vec<PathBuf>,
    /// System-wide ignoreDifferences rules, in the same forms.
    #[arg(long, env = "SEXTANT_SYSTEM_IGNORE_DIFFERENCES", value_name = "FILE")]
    system_ignore_differences: Option<PathBuf>,
    /// How many objects are compared at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// What to render (the options of `sextant render`; `--output json`
    /// prints the diff as JSON).
    #[command(flatten)]
    render: RenderArgs,
}

/// Render, diff and print.
pub async fn run(args: DiffArgs) -> anyhow::Result<ExitCode> {
    let mut app_rules = Vec::new();
    for file in &args.ignore_differences {
        app_rules.extend(load_rules(file)?);
    }
    let system_rules = match &args.system_ignore_differences {
        Some(file) => load_rules(file)?,
        None => Vec::new(),
    };
    let ignore = IgnoreDifferences::new(&app_rules, &system_rules)?;
    let DiffArgs {
        kubeconfig,
        context,
        concurrency,
        render,
        ..
    } = args;
    let json_output = render.wants_json();
    let outcome = tokio::task::spawn_blocking(move || render_cmd::render(&render))
        .await
        .context("the render task stopped unexpectedly")??;
    render_cmd::report(&outcome);
    let client = connect(&kubeconfig, context.as_deref()).await?;
    eprintln!("note: {SCOPE}");
    let settings = DiffSettings {
        ignore: &ignore,
        concurrency,
        created_namespaces: &[],
    };
    let report = diff_objects(&client, &outcome.rendered.objects, settings).await;
    if json_output {
        let mut doc = report.to_json();
        doc["commit"] = outcome
            .commit
            .as_ref()
            .map_or(Value::Null, |c| json!(c.to_string()));
        doc["scope"] = json!(SCOPE);
        println!(
            "{}",
            serde_json::to_string_pretty(&doc).context("could not print JSON")?
        );
    } else {
        print!("{}", report.to_text());
    }
    if !report.errors.is_empty() {
        anyhow::bail!(
            "{} of {} objects could not be compared (see above)",
            report.errors.len(),
            report.errors.len() + report.objects.len()
        );
    }
    Ok(if report.differs() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Rules from a file: a YAML list of rules, a mapping with
/// `ignoreDifferences`, or an Application (`spec.ignoreDifferences`).
pub(crate) fn load_rules(file: &Path) -> anyhow::Result<Vec<IgnoreRule>> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("could not read `{}`", file.display()))?;
    let doc: Value = serde_yaml_ng::from_str(&text)
        .with_context(|| format!("`{}` is not YAML", file.display()))?;
    let list = if doc.is_array() {
        doc
    } else if let Some(rules) = doc.pointer("/spec/ignoreDifferences") {
        rules.clone()
    } else if let Some(rules) = doc.get("ignoreDifferences") {
        rules.clone()
    } else if doc.is_null() {
        return Ok(Vec::new());
    } else {
        anyhow::bail!(
            "`{}` holds no ignoreDifferences (expected a list of rules, `ignoreDifferences:`, or an Application)",
            file.display()
        );
    };
    serde_json::from_value(list)
        .with_context(|| format!("`{}` has an invalid ignoreDifferences rule", file.display()))
}
