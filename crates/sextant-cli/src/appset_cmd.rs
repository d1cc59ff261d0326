//! `sextant appset generate FILE [--repo DIR]`: the Applications an
//! ApplicationSet would make, with no cluster. Git generators read the
//! folder `--repo` (a checkout of the repository the set names); the
//! clusters generator knows the local cluster only. `sextant preview` uses
//! the same code on the two revisions it compares.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::Value;
use sextant_appset::{Cluster, Context, Repos, apps, generate_all};
use sextant_model::ApplicationSet;

/// `sextant appset`.
#[derive(Debug, Args)]
pub struct AppsetArgs {
    #[command(subcommand)]
    command: AppsetCommand,
}

#[derive(Debug, Subcommand)]
enum AppsetCommand {
    /// Print the Applications an ApplicationSet would make (no cluster needed).
    Generate(GenerateArgs),
}

#[derive(Debug, Args)]
struct GenerateArgs {
    /// A YAML or JSON file with one or more ApplicationSets (`-` for stdin).
    file: PathBuf,
    /// A checkout of the repository the git generators read: every
    /// repoURL is read from this folder, at whatever it holds.
    #[arg(long)]
    repo: Option<PathBuf>,
    /// The namespace the Applications are made in (default: sextant, or
    /// argocd with --api-group argoproj.io).
    #[arg(long)]
    namespace: Option<String>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Output::Yaml)]
    output: Output,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Output {
    Yaml,
    Json,
    /// One line per Application: name, source path, destination.
    Names,
}

/// Run `sextant appset`.
pub fn run(args: AppsetArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        AppsetCommand::Generate(a) => generate(a),
    }
}

fn generate(args: GenerateArgs) -> anyhow::Result<ExitCode> {
    let text = if args.file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).context("could not read stdin")?
    } else {
        std::fs::read_to_string(&args.file)
            .with_context(|| format!("could not read {}", args.file.display()))?
    };
    let label = args.file.display().to_string();
    let docs =
        sextant_render::manifest::parse_yaml(&label, &text).map_err(|e| anyhow::anyhow!("{e}"))?;
    let sets: Vec<&Value> = docs
        .iter()
        .map(|d| &d.value)
        .filter(|v| v.get("kind").and_then(Value::as_str) == Some("ApplicationSet"))
        .collect();
    if sets.is_empty() {
        bail!("{label} holds no ApplicationSet");
    }
    let repos = Folder {
        root: args.repo.clone(),
        is_this_repo: Box::new(|_| true),
    };
    let mut all = Vec::new();
    for v in sets {
        let name = v
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("?");
        let namespace = crate::cli::namespace_or_default(args.namespace.as_deref());
        let apps = generate_with(v, &repos, &namespace)
            .map_err(|e| anyhow::anyhow!("ApplicationSet {name} ({label}): {e}"))?;
        all.extend(apps);
    }
    let mut out = String::new();
    match args.output {
        Output::Yaml => {
            for app in &all {
                out.push_str("---\n");
                out.push_str(&serde_yaml_ng::to_string(app).context("could not write YAML")?);
            }
        }
        Output::Json => {
            out = serde_json::to_string_pretty(&all).context("could not write JSON")?;
            out.push('\n');
        }
        Output::Names => {
            for app in &all {
                let s = |p: &str| {
                    app.pointer(p)
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned()
                };
                out.push_str(&format!(
                    "{}\t{}\t{}{}/{}\n",
                    s("/metadata/name"),
                    s("/spec/source/path"),
                    s("/spec/destination/server"),
                    s("/spec/destination/name"),
                    s("/spec/destination/namespace"),
                ));
            }
        }
    }
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

/// Git for a set read from a local folder: the repositories
/// `is_this_repo` accepts are the folder; others cannot be read.
pub struct Folder<'a> {
    /// The folder (`None`: no folder was given).
    pub root: Option<PathBuf>,
    /// Whether a repoURL names the folder's repository.
    pub is_this_repo: Box<dyn Fn(&str) -> bool + 'a>,
}

impl Repos for Folder<'_> {
    fn checkout(&self, repo: &str, _revision: &str) -> Result<PathBuf, String> {
        match &self.root {
            None => {
                Err("a git generator needs a checkout of the repository: pass --repo DIR".into())
            }
            Some(root) if (self.is_this_repo)(repo) => Ok(root.clone()),
            Some(_) => Err(format!(
                "{repo} is another repository than the one at hand; pass --repo-url if it is this one"
            )),
        }
    }
}

/// The Applications the ApplicationSet `v` makes with `repos`, as JSON.
pub fn generate_with(v: &Value, repos: &dyn Repos, namespace: &str) -> Result<Vec<Value>, String> {
    let set: ApplicationSet = serde_json::from_value(v.clone())
        .map_err(|e| format!("not a valid ApplicationSet: {e}"))?;
    let render = apps::renderer(&set.spec)?;
    let clusters = [Cluster::local()];
    let ctx = Context {
        repos,
        clusters: &clusters,
        render,
    };
    let params = generate_all(&ctx, &set.spec.generators)?;
    apps::render(&set.spec, &params, namespace)
}
