//! `sextant render`: render a path of a repository at a revision and print
//! the objects (sorted stably) on stdout; the resolved commit, the kind of
//! source and skipped files go to stderr.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, ValueEnum};
use sextant_render::{
    HelmParameter, Outcome, RenderOptions, Renderer, RendererConfig, Request, SourceKind,
    ToolConfig, runner::Limits,
};
use sextant_source::{Credentials, GitOptions, Secret};

/// Options of `sextant render`.
#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Repository: a URL (file://, git://, http(s)://) or a local folder (a
    /// Git repository, or a plain folder rendered as it is). Without it,
    /// `--path` names a local folder, rendered as it is.
    #[arg(long)]
    repo: Option<String>,
    /// Branch, tag, full or short commit, or HEAD.
    #[arg(long, default_value = "HEAD")]
    revision: String,
    /// Folder inside the repository.
    #[arg(long, default_value = ".")]
    path: String,
    /// A chart of the Helm chart repository (`https://...`) or OCI
    /// registry (`oci://...`) --repo, at --revision (a version or a range
    /// such as `1.2.*`; HEAD means the newest), instead of a Git folder.
    #[arg(long, value_name = "CHART", requires = "repo")]
    helm_chart: Option<String>,
    /// With --helm-chart: talk to the OCI registry over plain HTTP.
    #[arg(long, requires = "helm_chart")]
    plain_http: bool,
    /// Force the kind of source instead of detecting it.
    #[arg(long, value_name = "directory|kustomize|helm")]
    source_type: Option<SourceKind>,
    /// Destination namespace, given to namespaced objects without one.
    #[arg(long, default_value = "default")]
    namespace: String,
    /// An extra cluster-scoped kind (`Kind` or `Kind.group`); repeatable.
    #[arg(long, value_name = "KIND")]
    cluster_scoped_kind: Vec<String>,
    /// Output format.
    #[arg(short, long, value_enum, default_value = "yaml")]
    output: Format,

    /// Plain folders: descend into sub-folders.
    #[arg(long)]
    recurse: bool,
    /// Plain folders: only files matching this glob.
    #[arg(long, value_name = "GLOB")]
    include: Option<String>,
    /// Plain folders: skip files matching this glob.
    #[arg(long, value_name = "GLOB")]
    exclude: Option<String>,
    /// Jsonnet files of plain folders.
    #[command(flatten)]
    jsonnet: crate::jsonnet_args::JsonnetArgs,

    /// Helm: a value file, relative to the chart, inside the repository;
    /// repeatable.
    #[arg(long, value_name = "FILE")]
    helm_values: Vec<String>,
    /// Helm: `--set KEY=VALUE`; repeatable.
    #[arg(long, value_name = "KEY=VALUE")]
    helm_set: Vec<String>,
    /// Helm: `--set-string KEY=VALUE`; repeatable.
    #[arg(long, value_name = "KEY=VALUE")]
    helm_set_string: Vec<String>,
    /// Helm: release name (default: the chart folder's name).
    #[arg(long)]
    release_name: Option<String>,
    /// Helm: leave out the chart's CRDs.
    #[arg(long)]
    skip_crds: bool,
    /// Helm: an API version for `.Capabilities.APIVersions`; repeatable.
    #[arg(long, value_name = "VERSION")]
    api_versions: Vec<String>,
    /// Helm: the Kubernetes version for `.Capabilities.KubeVersion`.
    #[arg(long)]
    kube_version: Option<String>,

    /// Kustomize: name prefix.
    #[arg(long)]
    name_prefix: Option<String>,
    /// Kustomize: name suffix.
    #[arg(long)]
    name_suffix: Option<String>,
    /// Kustomize: image override `[old=]new[:tag|@digest]`; repeatable.
    #[arg(long, value_name = "IMAGE")]
    kustomize_image: Vec<String>,
    /// Kustomize: common label `KEY=VALUE`; repeatable.
    #[arg(long, value_name = "KEY=VALUE")]
    common_label: Vec<String>,
    /// Kustomize: common annotation `KEY=VALUE`; repeatable.
    #[arg(long, value_name = "KEY=VALUE")]
    common_annotation: Vec<String>,
    /// Kustomize: namespace set by Kustomize.
    #[arg(long)]
    kustomize_namespace: Option<String>,
    /// Kustomize: allow remote bases (URLs in `resources`).
    #[arg(long)]
    allow_remote_bases: bool,

    /// Config management plugins (with --plugin-config): render with this
    /// one; without it, one whose discovery rule matches the folder is
    /// used when --source-type is not given.
    #[arg(long, value_name = "NAME")]
    plugin: Option<String>,
    /// Plugins: a variable for the plugin's commands (given as
    /// `ARGOCD_ENV_KEY`); repeatable.
    #[arg(long, value_name = "KEY=VALUE")]
    plugin_env: Vec<String>,
    /// Plugins: a string parameter (`PARAM_KEY`, `ARGOCD_APP_PARAMETERS`);
    /// repeatable.
    #[arg(long, value_name = "KEY=VALUE")]
    plugin_parameter: Vec<String>,
    /// Plugin declarations.
    #[command(flatten)]
    plugins: crate::plugin_args::PluginArgs,

    /// Tools, caches and Git credentials.
    #[command(flatten)]
    pub(crate) renderer: RendererArgs,
}

/// How to set up a [`Renderer`]: helm and kustomize, limits, the cache
/// folder and Git credentials (shared by `sextant render`, `sextant diff`
/// and `sextant app diff`).
#[derive(Clone, Debug, Args)]
pub struct RendererArgs {
    /// helm and kustomize.
    #[command(flatten)]
    tools: ToolArgs,
    /// Where mirrors, snapshots and rendered output are cached (default:
    /// $XDG_CACHE_HOME/sextant or ~/.cache/sextant).
    #[arg(long, env = "SEXTANT_CACHE_DIR", value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// HTTP(S) token (prefer the environment variable).
    #[arg(long, env = "SEXTANT_GIT_TOKEN", hide_env_values = true)]
    git_token: Option<String>,
    /// HTTP(S) user name, used with --git-password.
    #[arg(long, env = "SEXTANT_GIT_USERNAME")]
    git_username: Option<String>,
    /// HTTP(S) password (prefer the environment variable).
    #[arg(long, env = "SEXTANT_GIT_PASSWORD", hide_env_values = true)]
    git_password: Option<String>,
    /// Allow credentials over plain http:// to hosts other than loopback.
    #[arg(long)]
    insecure_http_credentials: bool,
}

/// Where helm and kustomize are and how they run (shared by every
/// command that renders, and by `sextant controller`).
#[derive(Clone, Debug, Args)]
pub struct ToolArgs {
    /// The helm binary (default: `helm` on PATH).
    #[arg(long, env = "SEXTANT_HELM_BIN", value_name = "PATH")]
    helm_bin: Option<PathBuf>,
    /// The kustomize binary (default: `kustomize` on PATH, else `kubectl
    /// kustomize`).
    #[arg(long, env = "SEXTANT_KUSTOMIZE_BIN", value_name = "PATH")]
    kustomize_bin: Option<PathBuf>,
    /// Seconds helm or kustomize may run.
    #[arg(long, default_value_t = 90)]
    tool_timeout: u64,
    /// Let helm and kustomize reach the network.
    #[arg(long)]
    allow_network: bool,
    /// MiB of memory one Jsonnet evaluation may use (it runs in a child
    /// process, stopped when it needs more).
    #[arg(long, value_name = "MIB", default_value_t = sextant_render::DEFAULT_JSONNET_MAX_MEMORY >> 20)]
    jsonnet_max_memory: u64,
}

/// This program, which evaluates Jsonnet in a child of itself.
pub(crate) fn jsonnet_exe() -> Option<PathBuf> {
    std::env::current_exe().ok()
}

impl ToolArgs {
    /// The tool settings these flags give.
    pub(crate) fn config(&self) -> ToolConfig {
        ToolConfig {
            helm: self.helm_bin.clone(),
            kustomize: self.kustomize_bin.clone(),
            kubectl: None,
            limits: Limits {
                timeout: Duration::from_secs(self.tool_timeout.max(1)),
                ..Limits::default()
            },
            allow_network: self.allow_network,
            jsonnet_exe: jsonnet_exe(),
            jsonnet_max_memory: self.jsonnet_max_memory.max(16) << 20,
        }
    }
}

impl RendererArgs {
    /// A renderer set up as these options say.
    pub(crate) fn renderer(&self) -> anyhow::Result<Renderer> {
        let config = RendererConfig {
            cache_dir: cache_dir_or_default(self.cache_dir.as_ref())?,
            git: GitOptions {
                insecure_http_credentials: self.insecure_http_credentials,
                ..GitOptions::default()
            },
            tools: self.tools.config(),
            disk_cache: true,
            ..RendererConfig::default()
        };
        Renderer::new(config).context("could not set up rendering")
    }

    /// The Git credentials given, if any.
    pub(crate) fn credentials(&self) -> Option<Credentials> {
        match (&self.git_username, &self.git_password, &self.git_token) {
            (Some(username), Some(password), _) => Some(Credentials::Basic {
                username: username.clone(),
                password: Secret::new(password.clone()),
            }),
            (Some(username), None, Some(token)) => Some(Credentials::Basic {
                username: username.clone(),
                password: Secret::new(token.clone()),
            }),
            (_, _, Some(token)) => Some(Credentials::Token(Secret::new(token.clone()))),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    Yaml,
    Json,
}

/// Render and print.
pub async fn run(args: RenderArgs) -> anyhow::Result<ExitCode> {
    tokio::task::spawn_blocking(move || run_blocking(&args))
        .await
        .context("the render task stopped unexpectedly")?
}

fn run_blocking(args: &RenderArgs) -> anyhow::Result<ExitCode> {
    let outcome = render(args)?;
    report(&outcome);
    print!("{}", format(&outcome, args.output)?);
    Ok(ExitCode::SUCCESS)
}

impl RenderArgs {
    /// Whether `--output json` was asked for.
    pub(crate) fn wants_json(&self) -> bool {
        matches!(self.output, Format::Json)
    }
}

/// Render what `args` asks for (`sextant diff` renders the same way).
pub(crate) fn render(args: &RenderArgs) -> anyhow::Result<Outcome> {
    let (repo, path) = match &args.repo {
        Some(repo) => (repo.as_str(), args.path.as_str()),
        None => (args.path.as_str(), "."),
    };
    let options = render_options(args)?;
    let credentials = args.renderer.credentials();
    let renderer = args.renderer.renderer()?;
    let access = sextant_render::ChartAccess {
        credentials: credentials.clone(),
        plain_http: args.plain_http,
        ..Default::default()
    };
    Ok(renderer.render(&Request {
        repo,
        revision: &args.revision,
        path,
        options: &options,
        credentials: credentials.as_ref(),
        chart: args
            .helm_chart
            .as_deref()
            .map(|name| sextant_render::ChartSpec {
                name,
                access: &access,
                fresh: true,
            }),
    })?)
}

/// The commit, source kind, object count, skipped files and warnings, on
/// stderr.
pub(crate) fn report(outcome: &Outcome) {
    match (&outcome.commit, &outcome.version) {
        (Some(commit), _) => eprintln!("commit: {commit}"),
        (None, Some(version)) => eprintln!("chart version: {version}"),
        (None, None) => eprintln!("commit: none (a plain folder, not a Git repository)"),
    }
    let cached = if outcome.cache_hit { " (cached)" } else { "" };
    eprintln!("source: {}{cached}", outcome.rendered.kind.as_str());
    eprintln!("objects: {}", outcome.rendered.objects.len());
    for s in &outcome.rendered.skipped {
        eprintln!("skipped: {} ({})", s.path, s.reason);
    }
    for w in &outcome.rendered.warnings {
        eprintln!("warning: {w}");
    }
}

fn format(outcome: &Outcome, format: Format) -> anyhow::Result<String> {
    let objects = &outcome.rendered.objects;
    match format {
        Format::Json => {
            let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": objects});
            let mut text = serde_json::to_string_pretty(&list).context("could not print JSON")?;
            text.push('\n');
            Ok(text)
        }
        Format::Yaml => {
            let mut text = String::new();
            for obj in objects {
                text.push_str("---\n");
                text.push_str(&serde_yaml_ng::to_string(obj).context("could not print YAML")?);
            }
            Ok(text)
        }
    }
}

fn render_options(args: &RenderArgs) -> anyhow::Result<RenderOptions> {
    let mut options = RenderOptions {
        kind: args.source_type,
        namespace: args.namespace.clone(),
        cluster_scoped_kinds: args.cluster_scoped_kind.clone(),
        ..RenderOptions::default()
    };
    options.directory.recurse = args.recurse;
    options.directory.include = args.include.clone();
    options.directory.exclude = args.exclude.clone();
    options.directory.jsonnet = args.jsonnet.options()?;
    let helm = &mut options.helm;
    helm.value_files = args.helm_values.clone();
    helm.release_name = args.release_name.clone();
    helm.skip_crds = args.skip_crds;
    helm.api_versions = args.api_versions.clone();
    helm.kube_version = args.kube_version.clone();
    for (list, force_string) in [(&args.helm_set, false), (&args.helm_set_string, true)] {
        for item in list {
            let (name, value) = pair(item, "--helm-set")?;
            helm.parameters.push(HelmParameter {
                name,
                value,
                force_string,
            });
        }
    }
    let k = &mut options.kustomize;
    k.name_prefix = args.name_prefix.clone();
    k.name_suffix = args.name_suffix.clone();
    k.images = args.kustomize_image.clone();
    k.namespace = args.kustomize_namespace.clone();
    k.allow_remote_bases = args.allow_remote_bases;
    k.common_labels = pairs(&args.common_label, "--common-label")?;
    k.common_annotations = pairs(&args.common_annotation, "--common-annotation")?;
    add_plugins(args, &mut options)?;
    Ok(options)
}

/// The plugin flags in `options`: the declared plugins (the one named, or
/// those with a discovery rule) and what the plugin's commands get.
fn add_plugins(args: &RenderArgs, options: &mut RenderOptions) -> anyhow::Result<()> {
    use sextant_render::plugin::{PluginEnv, PluginParameter, PluginSource};
    let declared = args.plugins.load()?;
    let asked = args.plugin.is_some() || !args.plugin_env.is_empty();
    if asked {
        let env = args
            .plugin_env
            .iter()
            .map(|i| pair(i, "--plugin-env").map(|(name, value)| PluginEnv { name, value }))
            .collect::<anyhow::Result<_>>()?;
        let parameters = args
            .plugin_parameter
            .iter()
            .map(|i| {
                pair(i, "--plugin-parameter").map(|(name, value)| PluginParameter {
                    name,
                    string: Some(value),
                    ..PluginParameter::default()
                })
            })
            .collect::<anyhow::Result<_>>()?;
        options.plugin = Some(PluginSource {
            name: args.plugin.clone().filter(|n| !n.is_empty()),
            env,
            parameters,
        });
    } else if !args.plugin_parameter.is_empty() {
        anyhow::bail!("--plugin-parameter needs --plugin (or --plugin-env)");
    }
    options.plugins = declared
        .into_iter()
        .filter(|p| match &args.plugin {
            Some(name) if !name.is_empty() => true,
            _ => p.discoverable() && (asked || args.source_type.is_none()),
        })
        .collect();
    if !options.plugins.is_empty() || options.plugin.is_some() {
        options.build_env = Some(sextant_render::BuildEnv {
            app_name: args.release_name.clone().unwrap_or_default(),
            app_namespace: args.namespace.clone(),
            source_path: args.path.clone(),
            repo_url: args.repo.clone().unwrap_or_default(),
            target_revision: args.revision.clone(),
            ..Default::default()
        });
    }
    Ok(())
}

fn pair(item: &str, flag: &str) -> anyhow::Result<(String, String)> {
    match item.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => anyhow::bail!("{flag} expects KEY=VALUE, got `{item}`"),
    }
}

fn pairs(items: &[String], flag: &str) -> anyhow::Result<BTreeMap<String, String>> {
    items.iter().map(|i| pair(i, flag)).collect()
}

/// `dir`, else $XDG_CACHE_HOME/sextant, else ~/.cache/sextant.
pub(crate) fn cache_dir_or_default(dir: Option<&PathBuf>) -> anyhow::Result<PathBuf> {
    if let Some(dir) = dir {
        return Ok(dir.clone());
    }
    if let Some(xdg) = std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(xdg).join("sextant"));
    }
    match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        Some(home) => Ok(PathBuf::from(home).join(".cache").join("sextant")),
        None => anyhow::bail!("no cache folder: set --cache-dir or SEXTANT_CACHE_DIR"),
    }
}
