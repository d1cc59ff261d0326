//! `sextant demo`: everything in one process — localkube (with its
//! simulated controllers), a sample GitOps repository, one Application per
//! app of it, and the Application controller — then what to try, until
//! Ctrl-C. With `--kubeconfig` it uses that cluster instead of localkube.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, anyhow};
use clap::Args;
use sextant_controller::{Controller, ControllerConfig};
use sextant_render::ToolConfig;
use tokio::sync::watch;

mod apps;
mod fleet;
mod repo;
mod tools;

use apps::{AppState, DemoApp, Needs};

/// How often the controller re-reads the demo repository.
const REPO_POLL_INTERVAL: Duration = Duration::from_secs(5);
/// How long the demo waits for every app to be Synced and Healthy.
const WAIT_LIMIT: Duration = Duration::from_secs(180);
/// How long the controller may take to stop.
const SHUTDOWN_LIMIT: Duration = Duration::from_secs(15);

/// Options of `sextant demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Keep the demo's files (kubeconfig, Git repository, caches) in this
    /// folder and reuse its repository next time (default: a fresh
    /// temporary folder, removed on exit).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Address the local Kubernetes API server listens on; port 0 picks a
    /// free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// How long self-heal waits after a sync before it reverts drift
    /// (`500ms`, `2s`, `1m`).
    #[arg(long, default_value = "2s", value_name = "DURATION", value_parser = parse_duration)]
    self_heal_delay: Duration,
    /// Print what to try at once instead of first waiting until every app
    /// is Synced and Healthy.
    #[arg(long)]
    no_wait: bool,
    /// Use the cluster this kubeconfig names (its current context) instead
    /// of starting localkube; what the demo installs there stays after it
    /// stops.
    #[arg(long, value_name = "FILE")]
    kubeconfig: Option<PathBuf>,
    /// Address the API server (and UI) listens on, over plain HTTP on
    /// loopback; when it is taken a free port is used.
    #[arg(long, default_value = "127.0.0.1:8080")]
    server_listen: SocketAddr,
    /// How many localkube clusters to run: the demo's own, plus N-1 more
    /// registered as cluster Secrets, each deploying the
    /// `clusters/<cluster>/apps/*` folders of the repository.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=9))]
    clusters: u16,
}

/// The cluster the demo runs against.
struct Cluster {
    client: kube::Client,
    /// What the banner says about it.
    about: String,
    kubeconfig: PathBuf,
}

/// Run the demo until Ctrl-C (SIGINT) or SIGTERM.
pub async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let mut stop = stop_signal().context("could not listen for Ctrl-C")?;
    let found = tools::find();
    let git = found.git.clone().ok_or_else(|| {
        anyhow!(
            "the demo needs the `git` binary on PATH (it creates the sample repository with it, \
             and Sextant reads file:// repositories through `git upload-pack`); install Git and retry"
        )
    })?;
    let (dir, temp) = demo_dir(args.dir.as_deref())?;
    // The terminal is for what the demo tells the user; the components'
    // logs go to a file it names in its banner.
    let log = dir.join("sextant-demo.log");
    crate::logging::to_file(&log)
        .with_context(|| format!("could not open the demo's log {}", log.display()))?;
    let result = run_in(&args, &dir, &found, git, &mut stop).await;
    match temp {
        Some(temp) => {
            let shown = temp.path().display().to_string();
            match temp.close() {
                Ok(()) => say_err(&format!("sextant demo: removed {shown}")),
                Err(e) => say_err(&format!("sextant demo: could not remove {shown}: {e}")),
            }
        }
        None => say_err(&format!("sextant demo: kept {}", dir.display())),
    }
    result
}

/// The demo folder: `--dir` (created if needed) or a fresh temporary one.
fn demo_dir(dir: Option<&Path>) -> anyhow::Result<(PathBuf, Option<tempfile::TempDir>)> {
    match dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("could not create the demo folder {}", dir.display()))?;
            let dir = dir
                .canonicalize()
                .with_context(|| format!("could not resolve the demo folder {}", dir.display()))?;
            Ok((dir, None))
        }
        None => {
            let temp = tempfile::Builder::new()
                .prefix("sextant-demo-")
                .tempdir()
                .context(
                    "could not create a temporary folder for the demo (set TMPDIR or pass --dir)",
                )?;
            let dir = temp
                .path()
                .canonicalize()
                .unwrap_or_else(|_| temp.path().to_owned());
            Ok((dir, Some(temp)))
        }
    }
}

/// Create the repository, start localkube, run, stop localkube.
async fn run_in(
    args: &DemoArgs,
    dir: &Path,
    found: &tools::Found,
    git: PathBuf,
    stop: &mut watch::Receiver<bool>,
) -> anyhow::Result<ExitCode> {
    let repo_path = dir.join("gitops");
    let git_bin = git.clone();
    let mut repo = tokio::task::spawn_blocking(move || repo::create(&git, &repo_path))
        .await
        .context("the repository task stopped unexpectedly")?
        .context("could not create the demo repository")?;
    if args.clusters > 1 && args.kubeconfig.is_some() {
        anyhow::bail!(
            "--clusters starts more localkube clusters beside the demo's own; it cannot be combined with --kubeconfig"
        );
    }
    let fleet = fleet::start(&fleet::names(args.clusters), dir).await?;
    fleet.add_to_repo(&git_bin, &mut repo)?;
    let result = run_on(args, dir, found, &repo, &fleet, stop).await;
    fleet.shutdown().await;
    result
}

/// Start localkube (or use --kubeconfig's cluster) and run the demo on it.
async fn run_on(
    args: &DemoArgs,
    dir: &Path,
    found: &tools::Found,
    repo: &repo::Repo,
    fleet: &fleet::Fleet,
    stop: &mut watch::Receiver<bool>,
) -> anyhow::Result<ExitCode> {
    if let Some(kubeconfig) = &args.kubeconfig {
        let kubeconfig = kubeconfig
            .canonicalize()
            .unwrap_or_else(|_| kubeconfig.clone());
        let client = sextant_cluster::connect(&kubeconfig, None)
            .await
            .with_context(|| {
                format!(
                    "could not connect to the cluster of {}",
                    kubeconfig.display()
                )
            })?;
        let cluster = Cluster {
            about: format!("the cluster of {}", kubeconfig.display()),
            client,
            kubeconfig,
        };
        return with_cluster(args, dir, found, repo, fleet, &cluster, stop).await;
    }
    let config = localkube::Config {
        listen: args.listen,
        kubeconfig: Some(dir.join("kubeconfig")),
        simulation: localkube::controllers::SimulationConfig {
            // Slow enough to watch a rollout, fast enough not to wait.
            pod_start_delay: Duration::from_secs(1),
            pod_ready_delay: Duration::from_secs(1),
            ..Default::default()
        },
        ..Default::default()
    };
    let server = localkube::LocalKube::start(config)
        .await
        .context("could not start localkube")?;
    let result = match server.client().await {
        Ok(client) => {
            let cluster = Cluster {
                client,
                about: format!(
                    "localkube at {} (simulated: Deployments roll out, no containers run)",
                    server.url()
                ),
                kubeconfig: server.kubeconfig_path().to_owned(),
            };
            with_cluster(args, dir, found, repo, fleet, &cluster, stop).await
        }
        Err(e) => Err(anyhow::Error::new(e).context("could not connect to localkube")),
    };
    server.shutdown().await;
    result
}

/// Install the Applications, start the controller, wait, print, idle.
async fn with_cluster(
    args: &DemoArgs,
    dir: &Path,
    found: &tools::Found,
    repo: &repo::Repo,
    fleet: &fleet::Fleet,
    cluster: &Cluster,
    stop: &mut watch::Receiver<bool>,
) -> anyhow::Result<ExitCode> {
    let client = cluster.client.clone();
    let (selected, skipped) = select_apps(found);
    for (app, why) in &skipped {
        say(&format!("skipping {}: {why}", app.name));
    }
    // The services come from an ApplicationSet (a folder under
    // clusters/demo/apps is an app); the rest are Applications of their own.
    let applications: Vec<_> = selected
        .iter()
        .filter(|app| !apps::from_set(app))
        .map(|app| apps::application(app, &repo.url, repo::BRANCH))
        .collect();
    let left_out: Vec<&apps::DemoApp> = skipped
        .iter()
        .map(|(app, _)| app)
        .filter(|a| apps::from_set(a))
        .collect();
    let set = apps::application_set(&repo.url, repo::BRANCH, &left_out);
    apps::install(&client, &applications, &set).await?;
    if !fleet.clusters.is_empty() {
        fleet.install(&client, repo).await?;
    }

    let mut config = ControllerConfig::new(apps::NAMESPACE, dir.join("cache"));
    let tools = ToolConfig {
        helm: found.helm.clone(),
        kustomize: found.kustomize.clone(),
        kubectl: found.kubectl.clone(),
        ..Default::default()
    };
    config.tools = tools.clone();
    config.repo_poll_interval = REPO_POLL_INTERVAL;
    config.self_heal_delay = args.self_heal_delay;
    let controller = Controller::start(client.clone(), config)
        .await
        .context("could not start the Application controller")?;
    let (api_server, password) = start_server(args, dir, &client, tools).await?;

    let kubeconfig = cluster.kubeconfig.as_path();
    let fleet_apps = fleet.app_names();
    let names: Vec<&str> = selected
        .iter()
        .map(|a| a.name)
        .chain(fleet_apps.iter().map(String::as_str))
        .collect();
    let clusters: Vec<String> = fleet
        .clusters
        .iter()
        .map(|(n, c)| {
            format!(
                "{n} at {} (kubeconfig {})",
                c.url(),
                c.kubeconfig_path().display()
            )
        })
        .collect();
    say(&format!(
        "sextant demo\n\
         cluster:    {about}\n\
         kubeconfig: {kc}\n\
         \x20           export KUBECONFIG={kc_q}\n\
         repository: {repo} (branch {branch}, commit {commit}{reused})\n\
         apps:       {apps} (Applications in namespace {ns})\n\
         server:     {url} (web UI and REST API; log in as admin)\n\
         \x20           admin password: {password}\n\
         \x20           sextant login {url} --username admin\n\
         log:        {log}{fleet}",
        about = cluster.about,
        kc = kubeconfig.display(),
        kc_q = shell_quote(&kubeconfig.display().to_string()),
        repo = repo.path.display(),
        branch = repo::BRANCH,
        commit = short(&repo.head),
        reused = if repo.reused {
            ", kept from an earlier run"
        } else {
            ""
        },
        apps = names.join(", "),
        ns = apps::NAMESPACE,
        url = api_server.url(),
        log = dir.join("sextant-demo.log").display(),
        fleet = if clusters.is_empty() {
            String::new()
        } else {
            format!(
                "\nclusters:   in-cluster (above), {}\n\x20           (`sextant cluster list`; their apps come from the ApplicationSet {})",
                clusters.join(",\n\x20           "),
                fleet::SET_NAME
            )
        },
    ));

    let stopped = if args.no_wait {
        false
    } else {
        say(&format!(
            "waiting until every app is Synced and Healthy (at most {} s) ...",
            WAIT_LIMIT.as_secs()
        ));
        match wait_ready(&client, &names, stop).await {
            Waited::Ready => {
                say(&format!(
                    "ready: {} apps are Synced and Healthy",
                    names.len()
                ));
                false
            }
            Waited::TimedOut(states) => {
                let pending: Vec<String> = states
                    .iter()
                    .filter(|s| !s.ready())
                    .map(ToString::to_string)
                    .collect();
                say(&format!(
                    "not ready after {} s: {}\n(the demo keeps running; `kubectl get applications -n {} -o yaml` shows why)",
                    WAIT_LIMIT.as_secs(),
                    pending.join(", "),
                    apps::NAMESPACE
                ));
                false
            }
            Waited::Stopped => true,
        }
    };
    if !stopped {
        say(&try_this(
            kubeconfig,
            repo,
            &selected,
            args.self_heal_delay,
            dir,
            args.dir.is_none(),
        ));
        // An Err only means the signal task is gone: stop as well.
        let _ = stop.wait_for(|s| *s).await;
    }
    say_err("sextant demo: stopping");
    api_server.shutdown().await;
    if tokio::time::timeout(SHUTDOWN_LIMIT, controller.shutdown())
        .await
        .is_err()
    {
        say_err(&format!(
            "sextant demo: the controller did not stop within {} s; stopping anyway",
            SHUTDOWN_LIMIT.as_secs()
        ));
    }
    Ok(ExitCode::SUCCESS)
}

/// Start the API server over plain HTTP (the demo is on loopback), on
/// `--server-listen` or, when that is taken, a free port; returns it and
/// the admin password (generated now, or the one kept from an earlier run).
async fn start_server(
    args: &DemoArgs,
    dir: &Path,
    client: &kube::Client,
    tools: ToolConfig,
) -> anyhow::Result<(sextant_server::Server, String)> {
    let mut config =
        sextant_server::ServerConfig::new(apps::NAMESPACE, dir.join("cache").join("server"));
    config.listen = args.server_listen;
    config.tls = sextant_server::TlsMode::Insecure;
    // The same helm and kustomize as the controller's, for diffs.
    config.tools = tools;
    let server = match sextant_server::Server::start(client.clone(), config.clone()).await {
        Ok(s) => s,
        Err(sextant_server::StartError::Bind { addr, .. }) if addr.port() != 0 => {
            say_err(&format!(
                "sextant demo: {addr} is taken; the API server uses a free port"
            ));
            config.listen = SocketAddr::new(addr.ip(), 0);
            sextant_server::Server::start(client.clone(), config)
                .await
                .context("could not start the API server")?
        }
        Err(e) => return Err(anyhow::Error::new(e).context("could not start the API server")),
    };
    let password = match server.initial_admin_password() {
        Some(p) => p.to_owned(),
        None => {
            let secrets: kube::Api<k8s_openapi::api::core::v1::Secret> =
                kube::Api::namespaced(client.clone(), apps::NAMESPACE);
            secrets
                .get_opt("sextant-initial-admin-secret")
                .await
                .ok()
                .flatten()
                .and_then(|s| s.data)
                .and_then(|d| {
                    d.get("password")
                        .map(|p| String::from_utf8_lossy(&p.0).into_owned())
                })
                .unwrap_or_else(|| {
                    "(set earlier; not in Secret sextant-initial-admin-secret any more)".into()
                })
        }
    };
    Ok((server, password))
}

/// The apps whose tools are present, and the others with the reason.
fn select_apps(found: &tools::Found) -> (Vec<DemoApp>, Vec<(DemoApp, String)>) {
    let mut selected = Vec::new();
    let mut skipped = Vec::new();
    for app in apps::APPS {
        match app.needs {
            Needs::Helm if found.helm.is_none() => skipped.push((
                *app,
                "it is a Helm chart and `helm` was found neither on PATH nor in .tools/bin \
                 (nor in SEXTANT_HELM_BIN); run ./scripts/install-tools.sh in the Sextant \
                 checkout (it installs helm into .tools/bin), or put helm 3+ on PATH, and \
                 start the demo again"
                    .to_owned(),
            )),
            Needs::Kustomize if !found.can_kustomize() => skipped.push((
                *app,
                "it is a Kustomize overlay and neither `kustomize` nor `kubectl` is on PATH; \
                 install either and start the demo again"
                    .to_owned(),
            )),
            _ => selected.push(*app),
        }
    }
    (selected, skipped)
}

/// How waiting for the apps ended.
enum Waited {
    /// Every app Synced and Healthy.
    Ready,
    /// [`WAIT_LIMIT`] passed; the last states seen.
    TimedOut(Vec<AppState>),
    /// Ctrl-C.
    Stopped,
}

/// Poll the Applications every second, printing their states whenever
/// they change, until all are Synced and Healthy, time runs out or Ctrl-C.
async fn wait_ready(
    client: &kube::Client,
    names: &[&str],
    stop: &mut watch::Receiver<bool>,
) -> Waited {
    let deadline = tokio::time::Instant::now() + WAIT_LIMIT;
    let mut last_line = String::new();
    let mut last = Vec::new();
    loop {
        let line = match apps::states(client, names).await {
            Ok(states) => {
                if states.iter().all(AppState::ready) {
                    return Waited::Ready;
                }
                let line = states
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ");
                last = states;
                line
            }
            Err(e) => format!("{e:#}"),
        };
        if line != last_line {
            say(&format!("  {line}"));
            last_line = line;
        }
        if tokio::time::Instant::now() >= deadline {
            return Waited::TimedOut(last);
        }
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return Waited::Stopped,
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

/// The commands to try, for the apps that run.
fn try_this(
    kubeconfig: &Path,
    repo: &repo::Repo,
    selected: &[DemoApp],
    self_heal_delay: Duration,
    dir: &Path,
    temporary: bool,
) -> String {
    let app = selected
        .iter()
        .find(|a| a.name == "payments")
        .or_else(|| selected.first())
        .copied()
        .unwrap_or(apps::APPS[0]);
    let (name, ns, deploy) = (app.name, app.namespace, app.deployment);
    let file = format!("{}/deployment.yaml", app.path);
    let mut setup = format!(
        "  export KUBECONFIG={}\n",
        shell_quote(&kubeconfig.display().to_string())
    );
    if let Some(exe) = sextant_alias() {
        setup.push_str(&format!("  alias sextant={}\n", shell_quote(&exe)));
    }
    setup.push_str(&format!(
        "  cd {}\n  sextant app list                # or: kubectl get applications -n {}\n",
        shell_quote(&repo.path.display().to_string()),
        apps::NAMESPACE
    ));
    let ending = if temporary {
        format!(
            "Ctrl-C stops the demo and removes {}.",
            shell_quote(&dir.display().to_string())
        )
    } else {
        format!(
            "Ctrl-C stops the demo; {} is kept (its repository is reused next time).",
            dir.display()
        )
    };
    format!(
        "\nTry it, in another terminal:\n\
         {setup}\n\
         1. Change Git and watch it sync (the repository is polled every {poll} s):\n\
         \x20 sed -i 's/replicas: 2/replicas: 3/' {file}\n\
         \x20 git commit -am \"{name}: 3 replicas\"\n\
         \x20 sextant app get {name}\n\
         \x20 kubectl get deployment {deploy} -n {ns}\n\n\
         2. Change the cluster and watch self-heal put Git's state back (after {heal}):\n\
         \x20 kubectl scale deployment {deploy} -n {ns} --replicas=5\n\
         \x20 kubectl get deployment {deploy} -n {ns} --watch\n\n\
         3. Commit an image that cannot be pulled and watch the app turn Degraded\n\
         \x20  (once the rollout has made no progress for 30 s):\n\
         \x20 sed -i 's/image: nginx:1.27/image: nginx:doesnotexist/' {file}\n\
         \x20 git commit -am \"{name}: bad image\"\n\
         \x20 sextant app get {name}\n\
         \x20 git revert --no-edit HEAD       # and it is Healthy again\n\n\
         (On macOS write `sed -i ''` for `sed -i`.)\n\
         {ending}",
        poll = REPO_POLL_INTERVAL.as_secs(),
        heal = show_duration(self_heal_delay),
    )
}

/// `alias sextant=...` is worth printing when `sextant` on PATH is not
/// this binary (e.g. under `cargo run`).
fn sextant_alias() -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    let exe = exe.canonicalize().unwrap_or(exe);
    let on_path = sextant_render::which("sextant").and_then(|p| p.canonicalize().ok());
    (on_path.as_ref() != Some(&exe)).then(|| exe.display().to_string())
}

/// The first 12 characters of a commit id.
fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

fn show_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
}

/// `text` as one shell word.
fn shell_quote(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@%".contains(c));
    if plain {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// `500ms`, `2s`, `1m30s`, or a bare number of seconds (the grammar of
/// every duration Sextant reads).
fn parse_duration(text: &str) -> Result<Duration, String> {
    sextant_model::duration::parse(text)
}

/// A watch that turns true on the first SIGINT or SIGTERM; a second one
/// exits at once.
fn stop_signal() -> std::io::Result<watch::Receiver<bool>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        let _ = tx.send(true);
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        say_err("sextant demo: second signal, exiting without cleaning up");
        std::process::exit(130);
    });
    Ok(rx)
}

/// A line on stdout. Written without println!: a closed stdout (the
/// reader went away) must not bring the demo down.
fn say(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}

/// A line on stderr.
fn say_err(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{text}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_milliseconds_seconds_minutes_or_bare_seconds() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert!(
            parse_duration("fast")
                .unwrap_err()
                .contains("invalid duration")
        );
        assert!(parse_duration("-1s").is_err());
    }

    #[test]
    fn shell_quote_leaves_plain_paths_alone_and_quotes_the_rest() {
        assert_eq!(
            shell_quote("/tmp/sextant-demo-x/kubeconfig"),
            "/tmp/sextant-demo-x/kubeconfig"
        );
        assert_eq!(shell_quote("/tmp/my demo"), "'/tmp/my demo'");
        assert_eq!(shell_quote("/tmp/it's"), r"'/tmp/it'\''s'");
    }

    #[test]
    fn apps_whose_tool_is_missing_are_skipped_with_how_to_get_it() {
        let none = tools::Found::default();
        let (selected, skipped) = select_apps(&none);
        let names: Vec<_> = selected.iter().map(|a| a.name).collect();
        assert_eq!(names, ["payments", "infrastructure"]);
        let frontend = skipped.iter().find(|(a, _)| a.name == "frontend").unwrap();
        assert!(frontend.1.contains("install-tools.sh"), "{}", frontend.1);

        let all = tools::Found {
            git: Some("git".into()),
            helm: Some("helm".into()),
            kustomize: None,
            kubectl: Some("kubectl".into()),
        };
        let (selected, skipped) = select_apps(&all);
        assert_eq!(selected.len(), apps::APPS.len());
        assert!(skipped.is_empty());
    }
}
