//! `sextant app ...`: Applications in a cluster, through the Kubernetes API
//! (kubeconfig: `--kubeconfig`, else `KUBECONFIG`, else `~/.kube/config`).
//!
//! The CLI never changes the cluster's objects itself (but for `actions
//! run`, which writes what a resource action changes): it writes the
//! Application (its spec, an `operation`, an annotation, a finalizer) and
//! reads what the controller reports in `status`. The contract with the
//! controller is in each verb's module: `sync` (operations and their
//! request ids), `get` (refresh), `delete` (finalizers), `diff` (tracking).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

mod actions;
pub(crate) mod client;
mod create;
mod delete;
mod diff;
mod edit;
pub(crate) use sextant_model::duration;
pub(crate) use show::{Format, print};
mod get;
mod history;
mod list;
mod live;
mod manifests;
mod operation;
mod patch;
mod progress;
mod prompt;
mod resources;
mod set;
mod show;
mod style;
mod sync;
pub(crate) mod table;
mod terminate;
mod wait;
mod watch;

/// Options of `sextant app`.
#[derive(Debug, Args)]
pub struct AppArgs {
    /// Where the cluster is and which namespace holds the Applications.
    #[command(flatten, next_help_heading = "Connection (every app command)")]
    conn: ConnArgs,
    #[command(subcommand)]
    verb: Verb,
}

/// How to reach the Applications (accepted before or after the verb).
#[derive(Clone, Debug, Args)]
pub struct ConnArgs {
    /// The cluster's kubeconfig (default: the files in KUBECONFIG, else
    /// ~/.kube/config).
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) kubeconfig: Option<PathBuf>,
    /// A context of the kubeconfig (default: its current context).
    #[arg(long, global = true)]
    pub(crate) context: Option<String>,
    /// The namespace the Applications live in (default: sextant, or argocd
    /// with --api-group argoproj.io).
    #[arg(
        short = 'n',
        long = "namespace",
        global = true,
        env = "SEXTANT_NAMESPACE"
    )]
    namespace: Option<String>,
}

impl ConnArgs {
    /// The namespace the Applications live in.
    pub(crate) fn namespace(&self) -> String {
        crate::cli::namespace_or_default(self.namespace.as_deref())
    }
}

#[derive(Debug, Subcommand)]
enum Verb {
    /// Create an Application.
    Create(Box<create::CreateArgs>),
    /// List the Applications with their sync and health status.
    List(list::ListArgs),
    /// Show an Application and its resources.
    Get(get::GetArgs),
    /// Diff what the app's source renders against the cluster (exit 0 same, 1 different, 2 error).
    Diff(Box<diff::AppDiffArgs>),
    /// Ask the controller to sync an app, and follow the sync (exit 0 Succeeded, 1 Failed, 2 error).
    Sync(Box<sync::SyncArgs>),
    /// Wait until an app is synced, healthy and has no operation (exit 0 reached, 1 timed out).
    Wait(wait::WaitArgs),
    /// List an app's past syncs.
    History(history::HistoryArgs),
    /// Sync an app back to a history entry's revision and source.
    Rollback(sync::RollbackArgs),
    /// Delete an Application (with or without its resources).
    Delete(delete::DeleteArgs),
    /// Change an app's sync policy, revision, path, destination, sync options, Helm or Kustomize overrides.
    Set(Box<set::SetArgs>),
    /// Remove sync options, Helm parameters or value files, Kustomize images from an app.
    Unset(set::UnsetArgs),
    /// Stop a running sync at a safe point (between steps); it ends Failed.
    TerminateOp(terminate::TerminateArgs),
    /// Change an app's spec with a JSON patch or a JSON merge patch.
    Patch(patch::PatchArgs),
    /// Edit an app's spec in $EDITOR; checked before it is written.
    Edit(edit::EditArgs),
    /// Print an app's objects as YAML: rendered from Git, or live.
    Manifests(Box<manifests::ManifestsArgs>),
    /// List an app's objects with their status (--tree: and what they own).
    Resources(resources::ResourcesArgs),
    /// List or run resource actions (restart a Deployment, run a CronJob now, custom ones) on an app's objects.
    Actions(actions::ActionsArgs),
}

/// Run `sextant app VERB`.
pub async fn run(args: AppArgs) -> anyhow::Result<ExitCode> {
    let conn = args.conn;
    match args.verb {
        Verb::Create(a) => create::run(&conn, *a).await,
        Verb::List(a) => list::run(&conn, a).await,
        Verb::Get(a) => get::run(&conn, a).await,
        Verb::Diff(a) => diff::run(&conn, *a).await,
        Verb::Sync(a) => sync::run_sync(&conn, *a).await,
        Verb::Wait(a) => wait::run(&conn, a).await,
        Verb::History(a) => history::run(&conn, a).await,
        Verb::Rollback(a) => sync::run_rollback(&conn, a).await,
        Verb::Delete(a) => delete::run(&conn, a).await,
        Verb::Set(a) => set::run_set(&conn, *a).await,
        Verb::Unset(a) => set::run_unset(&conn, a).await,
        Verb::TerminateOp(a) => terminate::run(&conn, a).await,
        Verb::Patch(a) => patch::run(&conn, a).await,
        Verb::Edit(a) => edit::run(&conn, a).await,
        Verb::Manifests(a) => manifests::run(&conn, *a).await,
        Verb::Resources(a) => resources::run(&conn, a).await,
        Verb::Actions(a) => actions::run(&conn, a).await,
    }
}
