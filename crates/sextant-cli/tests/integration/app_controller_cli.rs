//! The whole loop through the binaries a user runs: `sextant controller`
//! as its own process against localkube, driven by `sextant app create,
//! sync, wait, list, get --refresh, diff, history, rollback, delete
//! --cascade`. Checks the CLI and the controller agree on their contract
//! (operations with request ids, refresh, history, finalizer).

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use kube::api::{Api, DynamicObject, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use localkube::controllers::SimulationConfig;
use localkube::{Config, LocalKube};

use sextant_testkit::git;

fn deployment(image: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
      - name: web
        image: {image}
"
    )
}

/// `sextant ARGS --kubeconfig K`, with HOME and caches in the test's
/// temp dir (the kubeconfig's) and no SEXTANT_* settings inherited.
fn command(kubeconfig: &Path, args: &[&str]) -> tokio::process::Command {
    let home = kubeconfig.parent().unwrap();
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_sextant"));
    cmd.args(args)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .env_remove("KUBECONFIG")
        .env_remove("SEXTANT_NAMESPACE")
        .env_remove("SEXTANT_SYSTEM_IGNORE_DIFFERENCES")
        .env("HOME", home)
        .env("SEXTANT_CACHE_DIR", home.join("cli-cache"))
        .env("USER", "e2e-tester")
        .kill_on_drop(true);
    cmd
}

async fn sextant(kubeconfig: &Path, args: &[&str]) -> Output {
    let out = command(kubeconfig, args).output().await.unwrap();
    eprintln!(
        "$ sextant {}\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Prints the controller's log when the test fails.
struct ShowLog(std::path::PathBuf);

impl Drop for ShowLog {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.0).unwrap_or_default();
            eprintln!("--- controller log\n{log}");
        }
    }
}

/// localkube with the CRDs and namespace `sextant`, and a repository
/// whose `main` has a Deployment in `app/`: (temp dir, server, kubeconfig,
/// repository, first commit).
async fn world() -> (
    tempfile::TempDir,
    LocalKube,
    std::path::PathBuf,
    std::path::PathBuf,
    String,
) {
    let tmp = tempfile::tempdir().unwrap();
    let server = LocalKube::start(Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        kubeconfig: Some(tmp.path().join("kubeconfig")),
        simulation: SimulationConfig {
            pod_start_delay: Duration::from_millis(50),
            pod_ready_delay: Duration::from_millis(50),
            ..SimulationConfig::default()
        },
        ..Config::default()
    })
    .await
    .unwrap();
    let kc = server.kubeconfig_path().to_owned();
    let client = server.client().await.unwrap();
    let crd = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("apiextensions.k8s.io", "v1", "CustomResourceDefinition"),
        "customresourcedefinitions",
    );
    let crds: Api<DynamicObject> = Api::all_with(client.clone(), &crd);
    for c in sextant_model::crd::all() {
        crds.create(&PostParams::default(), &serde_json::from_value(c).unwrap())
            .await
            .unwrap();
    }
    let nss: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    nss.create(
        &PostParams::default(),
        &serde_json::from_value(serde_json::json!({"metadata": {"name": "sextant"}})).unwrap(),
    )
    .await
    .unwrap();

    let repo = tmp.path().join("repo");
    std::fs::create_dir_all(repo.join("app")).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    std::fs::write(repo.join("app/deploy.yaml"), deployment("nginx:1.27")).unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "v1"]);
    let c1 = git(&repo, &["rev-parse", "HEAD"]);

    (tmp, server, kc, repo, c1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_and_the_controller_process_drive_an_app_through_its_life() {
    let (tmp, server, kc, repo, c1) = world().await;
    let client = server.client().await.unwrap();
    // The controller's log goes to a file: a pipe nobody reads would block
    // it once full.
    let log = tmp.path().join("controller.log");
    let mut controller = command(
        &kc,
        &[
            "controller",
            "--repo-poll-interval",
            "1h",
            "--self-heal-delay",
            "1s",
        ],
    )
    .arg("--cache-dir")
    .arg(tmp.path().join("cache"))
    .stdout(Stdio::null())
    .stderr(std::fs::File::create(&log).unwrap())
    .spawn()
    .unwrap();
    let _show_log_on_failure = ShowLog(log);

    let repo_url = format!("file://{}", repo.display());
    let out = sextant(
        &kc,
        &[
            "app",
            "create",
            "web",
            "--repo",
            &repo_url,
            "--path",
            "app",
            "--revision",
            "main",
            "--dest-namespace",
            "shop",
            "--sync-option",
            "CreateNamespace=true",
        ],
    )
    .await;
    assert!(out.status.success());

    // A manual app: OutOfSync until synced by hand.
    let out = sextant(&kc, &["app", "sync", "web", "--timeout", "60s"]).await;
    assert!(out.status.success(), "sync must succeed");
    let shown = text(&out);
    assert!(
        shown.contains("Deployment") && shown.contains("web"),
        "{shown}"
    );
    assert!(shown.contains("Succeeded"), "{shown}");
    let out = sextant(
        &kc,
        &[
            "app",
            "wait",
            "web",
            "--sync",
            "--health",
            "--timeout",
            "60s",
        ],
    )
    .await;
    assert!(out.status.success());
    let list = text(&sextant(&kc, &["app", "list"]).await);
    assert!(
        list.contains("web") && list.contains("Synced") && list.contains("Healthy"),
        "{list}"
    );
    assert!(list.contains(&c1[..7]), "{list}");
    let out = sextant(&kc, &["app", "diff", "web"]).await;
    assert_eq!(out.status.code(), Some(0), "in sync: diff exits 0");

    // A commit is seen at once with --refresh (the poll is an hour).
    std::fs::write(repo.join("app/deploy.yaml"), deployment("nginx:1.28")).unwrap();
    git(&repo, &["commit", "-qam", "v2"]);
    let c2 = git(&repo, &["rev-parse", "HEAD"]);
    let got = sextant(&kc, &["app", "get", "web", "--refresh"]).await;
    assert!(got.status.success());
    let shown = text(&got);
    assert!(
        shown.contains("OutOfSync") && shown.contains(&c2[..7]),
        "{shown}"
    );
    let out = sextant(&kc, &["app", "diff", "web"]).await;
    assert_eq!(out.status.code(), Some(1), "out of sync: diff exits 1");
    assert!(text(&out).contains("nginx:1.28"));

    let out = sextant(&kc, &["app", "sync", "web", "--timeout", "60s"]).await;
    assert!(out.status.success());
    let history = text(&sextant(&kc, &["app", "history", "web"]).await);
    assert!(
        history.contains(&c1[..7]) && history.contains(&c2[..7]),
        "{history}"
    );
    assert!(history.contains("e2e-tester"), "{history}");

    // A commit synced at once, with no refresh and the poll an hour away:
    // the diff shows it and the sync deploys it, saying so first.
    std::fs::write(repo.join("app/deploy.yaml"), deployment("nginx:1.29")).unwrap();
    git(&repo, &["commit", "-qam", "v3"]);
    let c3 = git(&repo, &["rev-parse", "HEAD"]);
    let out = sextant(&kc, &["app", "diff", "web"]).await;
    assert_eq!(out.status.code(), Some(1), "the new commit differs");
    assert!(text(&out).contains("nginx:1.29"), "{}", text(&out));
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(said.contains(&c3[..7]), "the diff names the commit: {said}");
    let out = sextant(&kc, &["app", "sync", "web", "--timeout", "60s"]).await;
    assert!(out.status.success());
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        said.contains(&format!(
            "syncing web to {} (main, the app's targetRevision)",
            &c3[..7]
        )),
        "{said}"
    );
    assert!(text(&out).contains(&c3[..7]), "{}", text(&out));
    let history = text(&sextant(&kc, &["app", "history", "web"]).await);
    assert!(history.contains(&c3[..7]), "{history}");

    let deployments = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("apps", "v1", "Deployment"),
        "deployments",
    );
    let live: Api<DynamicObject> = Api::namespaced_with(client.clone(), "shop", &deployments);
    let image = |d: DynamicObject| {
        d.data["spec"]["template"]["spec"]["containers"][0]["image"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(image(live.get("web").await.unwrap()), "nginx:1.29");
    let out = sextant(&kc, &["app", "rollback", "web", "0", "--timeout", "60s"]).await;
    assert!(out.status.success(), "rollback must succeed");
    assert_eq!(image(live.get("web").await.unwrap()), "nginx:1.27");

    let out = sextant(
        &kc,
        &[
            "app",
            "delete",
            "web",
            "--yes",
            "--wait",
            "--timeout",
            "60s",
        ],
    )
    .await;
    assert!(out.status.success(), "delete --cascade --wait must succeed");
    assert!(
        live.get_opt("web").await.unwrap().is_none(),
        "cascade deletes the Deployment"
    );

    // A second controller for the namespace waits for the Lease and does
    // nothing; stopped, it exits cleanly.
    let standby_log = tmp.path().join("standby.log");
    let mut standby = command(&kc, &["controller"])
        .arg("--cache-dir")
        .arg(tmp.path().join("cache-standby"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&standby_log).unwrap())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !std::fs::read_to_string(&standby_log)
        .unwrap()
        .contains("taking the lease sextant/sextant-controller")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the standby never started"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let said = std::fs::read_to_string(&standby_log).unwrap();
    assert!(!said.contains("reconciling"), "{said}");
    Command::new("kill")
        .args(["-INT", &standby.id().unwrap().to_string()])
        .status()
        .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(60), standby.wait())
        .await
        .expect("the standby stops on SIGINT")
        .unwrap();
    let said = std::fs::read_to_string(&standby_log).unwrap();
    assert!(status.success(), "{said}");
    assert!(said.contains("stopped before it led"), "{said}");

    let pid = controller.id().unwrap();
    Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(60), controller.wait())
        .await
        .expect("the controller stops within a minute of SIGINT")
        .unwrap();
    assert!(status.success(), "the controller stops cleanly on SIGINT");
    server.shutdown().await;
}

/// GET `url` over plain HTTP/1.0 (no client library needed for a scrape).
async fn http_get(addr: &str, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    conn.write_all(format!("GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut text = String::new();
    conn.read_to_string(&mut text).await.unwrap();
    text
}

/// The value of the first series whose line starts with `prefix` and
/// contains every one of `labels`.
fn value(metrics: &str, prefix: &str, labels: &[&str]) -> Option<f64> {
    metrics
        .lines()
        .filter(|l| l.starts_with(prefix))
        .find(|l| labels.iter().all(|want| l.contains(want)))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

/// `sextant controller --metrics-listen` (issue 18): after a sync, the
/// scrape has the app's info series with its state, the sync counted by
/// phase, reconciles, Git fetches, renders and API requests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_controller_serves_metrics_that_follow_a_sync() {
    let (tmp, _server, kc, repo, c1) = world().await;
    let log = tmp.path().join("controller.log");
    let mut controller = command(
        &kc,
        &[
            "controller",
            "--metrics-listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
            "--log-level",
            "info",
        ],
    )
    .arg("--cache-dir")
    .arg(tmp.path().join("cache"))
    .stdout(Stdio::null())
    .stderr(std::fs::File::create(&log).unwrap())
    .spawn()
    .unwrap();
    let _show_log_on_failure = ShowLog(log.clone());
    // Where the metrics are: the controller says it on stderr.
    let mut addr = None;
    for _ in 0..200 {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        addr = text
            .lines()
            .find_map(|l| l.split_once("metrics on http://"))
            .map(|(_, rest)| rest.trim_end_matches("/metrics").to_owned());
        if addr.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let addr = addr.expect("the controller names its metrics address");

    let repo_url = format!("file://{}", repo.display());
    let out = sextant(
        &kc,
        &[
            "app",
            "create",
            "web",
            "--repo",
            &repo_url,
            "--path",
            "app",
            "--revision",
            "main",
            "--dest-namespace",
            "shop",
            "--sync-option",
            "CreateNamespace=true",
        ],
    )
    .await;
    assert!(out.status.success());
    let out = sextant(&kc, &["app", "sync", "web", "--timeout", "60s"]).await;
    assert!(out.status.success());
    let out = sextant(&kc, &["app", "wait", "web", "--timeout", "60s"]).await;
    assert!(out.status.success());

    let mut scraped = String::new();
    for _ in 0..100 {
        scraped = http_get(&addr, "/metrics").await;
        if value(
            &scraped,
            "sextant_app_info{",
            &[
                "name=\"web\"",
                "sync_status=\"Synced\"",
                "health_status=\"Healthy\"",
            ],
        )
        .is_some()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        scraped.starts_with("HTTP/1.0 200") || scraped.starts_with("HTTP/1.1 200"),
        "{scraped}"
    );
    let info = [
        "name=\"web\"",
        "namespace=\"sextant\"",
        "project=\"default\"",
        "dest_namespace=\"shop\"",
        "sync_status=\"Synced\"",
        "health_status=\"Healthy\"",
    ];
    assert_eq!(
        value(&scraped, "sextant_app_info{", &info),
        Some(1.0),
        "{scraped}"
    );
    assert!(
        scraped.contains(&format!("repo=\"{repo_url}\"")),
        "{scraped}"
    );
    assert_eq!(
        value(
            &scraped,
            "sextant_app_sync_total{",
            &["name=\"web\"", "phase=\"Succeeded\"", "dry_run=\"false\""]
        ),
        Some(1.0),
        "{scraped}"
    );
    assert!(
        value(
            &scraped,
            "sextant_app_sync_duration_seconds_count",
            &["phase=\"Succeeded\""]
        ) >= Some(1.0),
        "{scraped}"
    );
    assert!(
        value(
            &scraped,
            "sextant_app_reconcile_seconds_count",
            &["result=\"ok\""]
        ) >= Some(2.0),
        "{scraped}"
    );
    assert!(
        value(&scraped, "sextant_git_requests_total{", &["result=\"ok\""]) >= Some(1.0),
        "{scraped}"
    );
    assert!(
        value(
            &scraped,
            "sextant_render_duration_seconds_count",
            &["tool=\"directory\""]
        ) >= Some(1.0),
        "{scraped}"
    );
    assert!(
        value(
            &scraped,
            "sextant_kube_requests_total{",
            &["verb=\"PATCH\"", "code=\"200\""]
        ) >= Some(1.0),
        "{scraped}"
    );
    assert!(
        value(&scraped, "sextant_workqueue_depth", &[]).is_some(),
        "{scraped}"
    );
    assert!(
        value(&scraped, "sextant_workqueue_wait_seconds_count", &[]) >= Some(1.0),
        "{scraped}"
    );
    assert!(
        value(
            &scraped,
            "sextant_cluster_cache_objects{",
            &["held=\"whole\""]
        ) >= Some(1.0),
        "{scraped}"
    );
    let _ = c1;

    // JSON logs: one object per line.
    let logged = std::fs::read_to_string(&log).unwrap();
    let json_lines: Vec<serde_json::Value> = logged
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert!(
        json_lines.iter().any(|l| l["level"] == "INFO"),
        "--log-format json --log-level info: {logged}"
    );

    // A deleted app's info series goes with it.
    let out = sextant(
        &kc,
        &[
            "app",
            "delete",
            "web",
            "--yes",
            "--cascade=false",
            "--wait",
            "--timeout",
            "60s",
        ],
    )
    .await;
    assert!(out.status.success());
    let mut gone = false;
    for _ in 0..100 {
        let scraped = http_get(&addr, "/metrics").await;
        if value(&scraped, "sextant_app_info{", &["name=\"web\""]).is_none() {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(gone, "the info series of a deleted app is dropped");
    controller.kill().await.unwrap();
}
