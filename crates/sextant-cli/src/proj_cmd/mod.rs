//! `sextant proj ...`: AppProjects through the Kubernetes API. Every
//! change reads the project, changes its spec (`edit.rs`, pure) and writes
//! it back conditionally on the version read, retrying when someone else
//! wrote in between; `windows.rs` shows sync windows as the controller
//! judges them.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use kube::Api;
use kube::api::{DeleteParams, ListParams, PostParams};
use sextant_model::AppProject;
use sextant_model::project::{AppProjectSpec, SyncWindow};

use crate::app_cmd::client::words;
use crate::app_cmd::{ConnArgs, Format};

mod edit;
mod windows;

use edit::{ListKind, Outcome, Scope};

/// Options of `sextant proj`.
#[derive(Debug, Args)]
pub struct ProjArgs {
    /// Where the cluster is and the namespace that holds the projects.
    #[command(flatten, next_help_heading = "Connection (every proj command)")]
    conn: ConnArgs,
    #[command(subcommand)]
    verb: Verb,
}

#[derive(Debug, Subcommand)]
enum Verb {
    /// Create a project (from flags, or a manifest with -f).
    Create(Box<CreateArgs>),
    /// Show a project's rules.
    Get {
        /// The project.
        name: String,
        /// Print it as JSON or YAML.
        #[arg(short, long, value_enum)]
        output: Option<Format>,
    },
    /// List the projects.
    List {
        /// Print them as JSON or YAML.
        #[arg(short, long, value_enum)]
        output: Option<Format>,
    },
    /// Delete a project (refused while Applications use it).
    Delete {
        /// The project.
        name: String,
    },
    /// Allow a source repository (a URL or a glob; `!` in front denies).
    AddSource {
        /// The project.
        name: String,
        /// The repository URL or glob.
        repo: String,
    },
    /// Remove a source repository from the list.
    RemoveSource {
        /// The project.
        name: String,
        /// The repository URL or glob.
        repo: String,
    },
    /// Allow a destination: a cluster (server URL, or name with --name)
    /// and a namespace (globs; `!` in front denies).
    AddDestination(DestinationArgs),
    /// Remove a destination from the list.
    RemoveDestination(DestinationArgs),
    /// Allow a cluster-scoped kind (GROUP is '' for the core group).
    AllowClusterResource(KindArgs),
    /// Deny a cluster-scoped kind.
    DenyClusterResource(KindArgs),
    /// Allow a namespaced kind.
    AllowNamespaceResource(KindArgs),
    /// Deny a namespaced kind.
    DenyNamespaceResource(KindArgs),
    /// Let Applications in another namespace use the project.
    AddSourceNamespace {
        /// The project.
        name: String,
        /// The namespace (glob).
        #[arg(id = "source_namespace", value_name = "NAMESPACE")]
        namespace: String,
    },
    /// Stop letting Applications in a namespace use the project.
    RemoveSourceNamespace {
        /// The project.
        name: String,
        /// The namespace (glob).
        #[arg(id = "source_namespace", value_name = "NAMESPACE")]
        namespace: String,
    },
    /// Turn orphaned-resource monitoring on and ignore objects of a kind
    /// (and name glob).
    AddOrphanedIgnore(OrphanArgs),
    /// Report orphaned objects of a kind again.
    RemoveOrphanedIgnore(OrphanArgs),
    /// Sync windows: when the project's apps may sync.
    #[command(subcommand)]
    Windows(windows::WindowsVerb),
}

/// Options of `sextant proj create`.
#[derive(Debug, Args)]
struct CreateArgs {
    /// The project's name (or taken from the manifest of -f).
    name: Option<String>,
    /// A manifest of the AppProject to create (`-` for stdin).
    #[arg(short, long, value_name = "FILE")]
    file: Option<PathBuf>,
    /// What the project is for.
    #[arg(long)]
    description: Option<String>,
    /// An allowed source repository (repeatable).
    #[arg(short, long = "src", value_name = "REPO")]
    sources: Vec<String>,
    /// An allowed destination SERVER,NAMESPACE (repeatable).
    #[arg(short, long = "dest", value_name = "SERVER,NAMESPACE")]
    destinations: Vec<String>,
    /// An allowed cluster-scoped kind GROUP/KIND (repeatable; `/Namespace`
    /// for the core group).
    #[arg(long = "allow-cluster-resource", value_name = "GROUP/KIND")]
    cluster_kinds: Vec<String>,
    /// Turn orphaned-resource monitoring on (warn in a condition).
    #[arg(long)]
    orphaned_resources: bool,
    /// Replace the project's spec if it exists.
    #[arg(long)]
    upsert: bool,
}

#[derive(Debug, Args)]
struct DestinationArgs {
    /// The project.
    name: String,
    /// The cluster: its API server URL (or with --name its name).
    cluster: String,
    /// The namespace (glob).
    #[arg(id = "dest_namespace", value_name = "NAMESPACE")]
    namespace: String,
    /// CLUSTER is a cluster name, not a server URL.
    #[arg(long = "name")]
    by_name: bool,
}

#[derive(Debug, Args)]
struct KindArgs {
    /// The project.
    name: String,
    /// The API group ('' for core; globs allowed).
    group: String,
    /// The kind (globs allowed).
    kind: String,
    /// The list to change.
    #[arg(short, long, value_enum, default_value = "white")]
    list: ListKind,
}

#[derive(Debug, Args)]
struct OrphanArgs {
    /// The project.
    name: String,
    /// The API group ('' for core; globs allowed).
    group: String,
    /// The kind (globs allowed).
    kind: String,
    /// Only objects with this name (glob).
    #[arg(long = "name", default_value = "")]
    object: String,
}

/// Run `sextant proj`.
pub async fn run(args: ProjArgs) -> anyhow::Result<ExitCode> {
    let client = sextant_cluster::connect_inferred(
        args.conn.kubeconfig.as_deref(),
        args.conn.context.as_deref(),
    )
    .await?;
    let ns = args.conn.namespace();
    let api: Api<AppProject> = Api::namespaced(client.clone(), &ns);
    let cx = Cx { api, ns };
    match args.verb {
        Verb::Create(c) => create(&cx, *c).await,
        Verb::Get { name, output } => get(&cx, &name, output).await,
        Verb::List { output } => list(&cx, output).await,
        Verb::Delete { name } => delete(&cx, client, &name).await,
        Verb::AddSource { name, repo } => {
            change(&cx, &name, |s| Ok(edit::add_source(s, &repo))).await
        }
        Verb::RemoveSource { name, repo } => {
            change(&cx, &name, |s| Ok(edit::remove_source(s, &repo))).await
        }
        Verb::AddDestination(d) => {
            let dest = edit::destination(&d.cluster, &d.namespace, d.by_name);
            change(&cx, &d.name, |s| Ok(edit::add_destination(s, dest.clone()))).await
        }
        Verb::RemoveDestination(d) => {
            let dest = edit::destination(&d.cluster, &d.namespace, d.by_name);
            change(&cx, &d.name, |s| Ok(edit::remove_destination(s, &dest))).await
        }
        Verb::AllowClusterResource(k) => kind(&cx, k, Scope::Cluster, true).await,
        Verb::DenyClusterResource(k) => kind(&cx, k, Scope::Cluster, false).await,
        Verb::AllowNamespaceResource(k) => kind(&cx, k, Scope::Namespace, true).await,
        Verb::DenyNamespaceResource(k) => kind(&cx, k, Scope::Namespace, false).await,
        Verb::AddSourceNamespace { name, namespace } => {
            change(&cx, &name, |s| {
                Ok(edit::source_namespace(s, &namespace, true))
            })
            .await
        }
        Verb::RemoveSourceNamespace { name, namespace } => {
            change(&cx, &name, |s| {
                Ok(edit::source_namespace(s, &namespace, false))
            })
            .await
        }
        Verb::AddOrphanedIgnore(o) => {
            change(&cx, &o.name, |s| {
                Ok(edit::orphaned_ignore(s, &o.group, &o.kind, &o.object, true))
            })
            .await
        }
        Verb::RemoveOrphanedIgnore(o) => {
            change(&cx, &o.name, |s| {
                Ok(edit::orphaned_ignore(
                    s, &o.group, &o.kind, &o.object, false,
                ))
            })
            .await
        }
        Verb::Windows(w) => windows::run(&cx, w).await,
    }
}

/// The projects' API and namespace.
pub(crate) struct Cx {
    api: Api<AppProject>,
    ns: String,
}

impl Cx {
    async fn read(&self, name: &str) -> anyhow::Result<AppProject> {
        match self.api.get_opt(name).await {
            Ok(Some(p)) => Ok(p),
            Ok(None) => anyhow::bail!(
                "project {name} does not exist in namespace {} (`sextant proj list` shows the projects)",
                self.ns
            ),
            Err(e) => Err(anyhow::anyhow!(words(&e)))
                .with_context(|| format!("could not read project {}/{name}", self.ns)),
        }
    }
}

/// Read, change and write back `name`, again from the start when someone
/// else wrote it in between.
async fn change(
    cx: &Cx,
    name: &str,
    mut f: impl FnMut(&mut AppProjectSpec) -> Result<Outcome, String>,
) -> anyhow::Result<ExitCode> {
    for _ in 0..5 {
        let mut project = cx.read(name).await?;
        let outcome = f(&mut project.spec).map_err(|e| anyhow::anyhow!("project {name}: {e}"))?;
        let text = match outcome {
            Outcome::Unchanged(why) => {
                println!("project {name}: {why}; nothing changed");
                return Ok(ExitCode::SUCCESS);
            }
            Outcome::Changed(text) => text,
        };
        // `replace` sends the resourceVersion read: a concurrent write
        // makes it fail with 409 instead of being overwritten.
        match cx.api.replace(name, &PostParams::default(), &project).await {
            Ok(_) => {
                println!("project {name}: {text}");
                return Ok(ExitCode::SUCCESS);
            }
            Err(kube::Error::Api(e)) if e.code == 409 => continue,
            Err(e) => {
                return Err(anyhow::anyhow!(words(&e)))
                    .with_context(|| format!("could not write project {}/{name}", cx.ns));
            }
        }
    }
    anyhow::bail!("project {name} kept changing while it was being written; try again")
}

async fn kind(cx: &Cx, k: KindArgs, scope: Scope, allow: bool) -> anyhow::Result<ExitCode> {
    change(cx, &k.name, |s| {
        Ok(edit::kind_rule(s, scope, k.list, allow, &k.group, &k.kind))
    })
    .await
}

fn parse_group_kind(text: &str) -> anyhow::Result<sextant_model::project::GroupKind> {
    let Some((group, kind)) = text.rsplit_once('/') else {
        anyhow::bail!("`{text}` is not GROUP/KIND (use /Namespace for a core kind)");
    };
    Ok(sextant_model::project::GroupKind {
        group: group.to_owned(),
        kind: kind.to_owned(),
    })
}

async fn create(cx: &Cx, args: CreateArgs) -> anyhow::Result<ExitCode> {
    let mut project = match &args.file {
        Some(path) => {
            let text = if path.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin()).context("could not read stdin")?
            } else {
                std::fs::read_to_string(path)
                    .with_context(|| format!("could not read {}", path.display()))?
            };
            serde_yaml_ng::from_str::<AppProject>(&text)
                .with_context(|| format!("{} is not an AppProject manifest", path.display()))?
        }
        None => AppProject::new("", AppProjectSpec::default()),
    };
    if let Some(name) = &args.name {
        project.metadata.name = Some(name.clone());
    }
    let Some(name) = project.metadata.name.clone().filter(|n| !n.is_empty()) else {
        anyhow::bail!("give the project a name: `sextant proj create NAME` or metadata.name in -f");
    };
    project.metadata.namespace = Some(cx.ns.clone());
    let spec = &mut project.spec;
    if args.description.is_some() {
        spec.description = args.description.clone();
    }
    for repo in &args.sources {
        edit::add_source(spec, repo);
    }
    for d in &args.destinations {
        let Some((server, namespace)) = d.split_once(',') else {
            anyhow::bail!(
                "--dest {d}: give SERVER,NAMESPACE (e.g. https://kubernetes.default.svc,shop)"
            );
        };
        edit::add_destination(spec, edit::destination(server, namespace, false));
    }
    for gk in &args.cluster_kinds {
        let gk = parse_group_kind(gk)?;
        edit::kind_rule(
            spec,
            Scope::Cluster,
            ListKind::White,
            true,
            &gk.group,
            &gk.kind,
        );
    }
    if args.orphaned_resources {
        spec.orphaned_resources
            .get_or_insert_with(Default::default)
            .warn = Some(true);
    }
    for (i, w) in spec.sync_windows.iter().flatten().enumerate() {
        sextant_engine::project::window_states(std::slice::from_ref(w), chrono::Utc::now())
            .map_err(|e| {
                anyhow::anyhow!(
                    "{}",
                    e.replace("syncWindows[0]", &format!("syncWindows[{i}]"))
                )
            })?;
    }
    match cx.api.create(&PostParams::default(), &project).await {
        Ok(_) => println!("project {name} created"),
        Err(kube::Error::Api(e)) if e.code == 409 && args.upsert => {
            let mut current = cx.read(&name).await?;
            current.spec = project.spec;
            cx.api
                .replace(&name, &PostParams::default(), &current)
                .await
                .map_err(|e| anyhow::anyhow!(words(&e)))
                .with_context(|| format!("could not update project {}/{name}", cx.ns))?;
            println!("project {name} updated");
        }
        Err(kube::Error::Api(e)) if e.code == 409 => anyhow::bail!(
            "project {name} exists; change it with the other proj commands, or replace its spec with --upsert"
        ),
        Err(e) => {
            return Err(anyhow::anyhow!(words(&e)))
                .with_context(|| format!("could not create project {}/{name}", cx.ns));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn list_or_any(v: &Option<Vec<String>>) -> String {
    v.as_ref().map(|l| l.join(",")).unwrap_or_default()
}

fn kinds(v: &Option<Vec<sextant_model::project::GroupKind>>) -> String {
    v.as_ref()
        .map(|l| {
            l.iter()
                .map(|gk| format!("{}/{}", gk.group, gk.kind))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

async fn get(cx: &Cx, name: &str, output: Option<Format>) -> anyhow::Result<ExitCode> {
    let project = cx.read(name).await?;
    if let Some(format) = output {
        crate::app_cmd::print(&project, format)?;
        return Ok(ExitCode::SUCCESS);
    }
    let s = &project.spec;
    let dests: Vec<String> = s
        .destinations
        .iter()
        .flatten()
        .map(|d| {
            format!(
                "{},{}",
                d.server
                    .as_deref()
                    .or(d.name.as_deref())
                    .unwrap_or_default(),
                d.namespace.as_deref().unwrap_or_default()
            )
        })
        .collect();
    let orphans = match &s.orphaned_resources {
        None => "disabled".to_owned(),
        Some(o) => format!(
            "enabled (warn: {}, ignored: {})",
            o.warn.unwrap_or(true),
            o.ignore.as_ref().map_or(0, Vec::len)
        ),
    };
    let rows = [
        ("Name", name.to_owned()),
        ("Description", s.description.clone().unwrap_or_default()),
        ("Source repositories", list_or_any(&s.source_repos)),
        ("Destinations", dests.join(" ")),
        ("Source namespaces", list_or_any(&s.source_namespaces)),
        (
            "Allowed cluster kinds",
            kinds(&s.cluster_resource_whitelist),
        ),
        ("Denied cluster kinds", kinds(&s.cluster_resource_blacklist)),
        (
            "Allowed namespaced kinds",
            s.namespace_resource_whitelist.as_ref().map_or_else(
                || "all".to_owned(),
                |_| kinds(&s.namespace_resource_whitelist),
            ),
        ),
        (
            "Denied namespaced kinds",
            kinds(&s.namespace_resource_blacklist),
        ),
        (
            "Sync windows",
            s.sync_windows.as_ref().map_or(0, Vec::len).to_string(),
        ),
        ("Orphaned resources", orphans),
    ];
    for (k, v) in rows {
        println!(
            "{:<26}{}",
            format!("{k}:"),
            if v.is_empty() { "-" } else { &v }
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn list(cx: &Cx, output: Option<Format>) -> anyhow::Result<ExitCode> {
    let mut items = cx
        .api
        .list(&ListParams::default())
        .await
        .map_err(|e| anyhow::anyhow!(words(&e)))
        .with_context(|| format!("could not list the projects of namespace {}", cx.ns))?
        .items;
    items.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    if let Some(format) = output {
        crate::app_cmd::print(&items, format)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = crate::app_cmd::table::Table::new(&[
        "NAME",
        "DESCRIPTION",
        "DESTINATIONS",
        "SOURCES",
        "CLUSTER-RESOURCE-WHITELIST",
        "WINDOWS",
    ]);
    for p in &items {
        let s = &p.spec;
        t.row(vec![
            p.metadata.name.clone().unwrap_or_default(),
            s.description.clone().unwrap_or_default(),
            s.destinations.as_ref().map_or(0, Vec::len).to_string() + " destination(s)",
            list_or_any(&s.source_repos),
            kinds(&s.cluster_resource_whitelist),
            s.sync_windows.as_ref().map_or(0, Vec::len).to_string(),
        ]);
    }
    print!("{}", t.render());
    Ok(ExitCode::SUCCESS)
}

async fn delete(cx: &Cx, client: kube::Client, name: &str) -> anyhow::Result<ExitCode> {
    cx.read(name).await?;
    let apps: Api<sextant_model::Application> = Api::namespaced(client, &cx.ns);
    let users: Vec<String> = apps
        .list(&ListParams::default())
        .await
        .map_err(|e| anyhow::anyhow!(words(&e)))
        .context("could not list the Applications")?
        .items
        .into_iter()
        .filter(|a| {
            let p = a.spec.project.trim();
            (if p.is_empty() { "default" } else { p }) == name
        })
        .filter_map(|a| a.metadata.name)
        .collect();
    if !users.is_empty() {
        anyhow::bail!(
            "project {name} is used by {} Application(s): {}; move or delete them first",
            users.len(),
            users.join(", ")
        );
    }
    cx.api
        .delete(name, &DeleteParams::default())
        .await
        .map_err(|e| anyhow::anyhow!(words(&e)))
        .with_context(|| format!("could not delete project {}/{name}", cx.ns))?;
    println!("project {name} deleted");
    Ok(ExitCode::SUCCESS)
}

/// A window from `windows add` flags.
pub(crate) fn window_from(
    kind: &str,
    schedule: &str,
    duration: &str,
    sel: &windows::Selectors,
) -> SyncWindow {
    let opt = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
    SyncWindow {
        kind: kind.to_owned(),
        schedule: schedule.to_owned(),
        duration: duration.to_owned(),
        applications: opt(&sel.applications),
        namespaces: opt(&sel.namespaces),
        clusters: opt(&sel.clusters),
        manual_sync: sel.manual_sync.then_some(true),
        time_zone: sel.time_zone.clone(),
        and_operator: sel.use_and_operator.then_some(true),
        sync_overrun: sel.sync_overrun.then_some(true),
        description: sel.description.clone(),
    }
}
