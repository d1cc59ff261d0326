//! The command-line grammar and dispatch to each subcommand.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::health_cmd::{self, HealthArgs};
use crate::localkube_cmd::{self, LocalkubeArgs};
use crate::render_cmd::{self, RenderArgs};

/// Sextant: GitOps continuous delivery for Kubernetes.
#[derive(Debug, Parser)]
#[command(name = "sextant", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log lines as text or JSON (one object per line).
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "text",
        help_heading = "Logging (every command)"
    )]
    pub log_format: crate::logging::LogFormat,
    /// What to log: a level (error, warn, info, debug, trace) or a filter
    /// (`info,sextant_controller=debug`); default: $SEXTANT_LOG, else warn.
    #[arg(
        long,
        global = true,
        value_name = "LEVEL",
        help_heading = "Logging (every command)"
    )]
    pub log_level: Option<String>,
    /// The API group of the Applications, ApplicationSets and AppProjects
    /// read and written: sextant.dev (Sextant's own) or argoproj.io (Argo
    /// CD's: run on the objects an Argo CD installation left, unchanged).
    #[arg(
        long,
        global = true,
        env = "SEXTANT_API_GROUP",
        value_name = "GROUP",
        default_value = "sextant.dev"
    )]
    pub api_group: sextant_model::ApiGroup,
}

/// `namespace`, else the default namespace of the process's API group
/// (`sextant`, or `argocd` for Argo CD's).
pub fn namespace_or_default(namespace: Option<&str>) -> String {
    namespace
        .unwrap_or(sextant_model::group::selected().default_namespace())
        .to_owned()
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a local Kubernetes-API-compatible server (for tests and the demo).
    Localkube(LocalkubeArgs),
    /// Assess the health of objects in YAML or JSON files, one JSON line each.
    Health(HealthArgs),
    /// Render a path of a repository at a revision into Kubernetes objects.
    Render(Box<RenderArgs>),
    /// Print the CustomResourceDefinitions of Sextant's resources.
    Crds,
    /// Diff what a repository renders against a cluster (exit 0 same, 1 different, 2 error).
    Diff(Box<crate::diff_cmd::DiffArgs>),
    /// Preview what a change between two revisions does, app by app, with no cluster.
    Preview(Box<crate::preview_cmd::PreviewArgs>),
    /// Create, inspect, sync, roll back and delete Applications in a cluster.
    App(Box<crate::app_cmd::AppArgs>),
    /// AppProjects: which repositories, destinations and kinds apps may use, and when they may sync.
    Proj(Box<crate::proj_cmd::ProjArgs>),
    /// The clusters apps deploy to: add one from a kubeconfig context, list, show, remove.
    Cluster(Box<crate::cluster_cmd::ClusterArgs>),
    /// Save, list and remove the credentials of private Git repositories.
    Repo(Box<crate::repo_cmd::RepoArgs>),
    /// Import another tool's objects and settings as Sextant's (Argo CD's; a dry run unless --apply).
    Import(Box<crate::import_cmd::ImportArgs>),
    /// Run the Application controller: keep the cluster equal to Git.
    Controller(Box<crate::controller_cmd::ControllerArgs>),
    /// Run a demo: localkube, a sample GitOps repository, its Applications and the controller.
    Demo(Box<crate::demo_cmd::DemoArgs>),
    /// Run the API server (REST API, live updates, accounts, RBAC) and the web UI.
    Server(Box<crate::server_cmd::ServerArgs>),
    /// ApplicationSets: print the Applications a set would make.
    Appset(Box<crate::appset_cmd::AppsetArgs>),
    /// Notifications: render a template or evaluate a trigger for an app, sending nothing.
    Notifications(Box<crate::notifications_cmd::NotificationsArgs>),
    /// Log in to a sextant server and keep the session for the CLI.
    Login(Box<crate::account_cmd::LoginArgs>),
    /// End the session with a sextant server.
    Logout(crate::account_cmd::LogoutArgs),
    /// Passwords and API tokens of accounts on a sextant server.
    Account(Box<crate::account_cmd::AccountArgs>),
    /// Print this binary's version and, when logged in, the server's.
    Version(crate::version_cmd::VersionArgs),
    /// Print a shell completion script (`source <(sextant completion bash)`).
    Completion {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

impl Cli {
    /// The log filter when neither --log-level nor SEXTANT_LOG says: the
    /// demo writes its log to a file, where info is worth keeping.
    pub fn default_log_level(&self) -> &'static str {
        match self.command {
            Command::Demo(_) => "info",
            _ => "warn",
        }
    }
}

/// Run the parsed command.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Localkube(args) => localkube_cmd::run(args).await,
        Command::Health(args) => health_cmd::run(args),
        Command::Render(args) => render_cmd::run(*args).await,
        Command::Crds => crate::crds_cmd::run(),
        Command::Diff(args) => crate::diff_cmd::run(*args).await,
        Command::Preview(args) => crate::preview_cmd::run(*args).await,
        Command::App(args) => crate::app_cmd::run(*args).await,
        Command::Repo(args) => crate::repo_cmd::run(*args).await,
        Command::Proj(args) => crate::proj_cmd::run(*args).await,
        Command::Cluster(args) => crate::cluster_cmd::run(*args).await,
        Command::Controller(args) => crate::controller_cmd::run(*args).await,
        Command::Import(args) => crate::import_cmd::run(*args).await,
        Command::Demo(args) => crate::demo_cmd::run(*args).await,
        Command::Server(args) => crate::server_cmd::run(*args).await,
        Command::Appset(args) => crate::appset_cmd::run(*args),
        Command::Notifications(args) => crate::notifications_cmd::run(*args).await,
        Command::Version(args) => crate::version_cmd::run(args).await,
        Command::Completion { shell } => {
            // Into a buffer first: clap_complete panics when the output
            // closes early (`| head`); a write error here is an error.
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut cmd, "sextant", &mut script);
            std::io::Write::write_all(&mut std::io::stdout().lock(), &script)
                .map_err(|e| anyhow::anyhow!("could not write the completion script: {e}"))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Login(args) => crate::account_cmd::login(*args).await,
        Command::Logout(args) => crate::account_cmd::logout(args).await,
        Command::Account(args) => crate::account_cmd::account(*args).await,
    }
}
