//! The real `sextant render`: objects on stdout (sorted, YAML or JSON),
//! the commit and source kind on stderr, `sextant: <chain>` and exit 2 on
//! errors, and a second run of the same commit answered from the cache.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Fixture {
    dir: tempfile::TempDir,
    commit: String,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        write(
            &repo,
            "apps/plain/b.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\n",
        );
        write(
            &repo,
            "apps/plain/a.json",
            "{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"a\"}}",
        );
        write(&repo, "apps/plain/notes.txt", "hello");
        std::fs::create_dir_all(repo.join("charts")).unwrap();
        let helm = helm_bin();
        let out = Command::new(&helm)
            .args(["create", "web"])
            .current_dir(repo.join("charts"))
            .env("HOME", dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        write(&repo, "charts/web/values-prod.yaml", "replicaCount: 3\n");
        git(&repo, &["init", "-q", "-b", "main"]);
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-q", "-m", "fixture"]);
        let commit = git(&repo, &["rev-parse", "HEAD"]);
        Self { dir, commit }
    }

    fn repo(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    fn render(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_sextant"))
            .arg("render")
            .arg("--repo")
            .arg(self.repo())
            .arg("--cache-dir")
            .arg(self.dir.path().join("cache"))
            .args(args)
            .env("HOME", self.dir.path())
            .env("SEXTANT_HELM_BIN", helm_bin())
            .output()
            .unwrap()
    }
}

fn helm_bin() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("helm"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("helm is required by these tests: run ./scripts/install-tools.sh and put .tools/bin on PATH")
        })
}

fn write(root: &Path, path: &str, content: &str) {
    let path = root.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

use sextant_testkit::git;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn render_prints_sorted_objects_and_reports_the_commit_and_source_kind() {
    let fx = Fixture::new();
    let out = fx.render(&["--path", "apps/plain", "--namespace", "team"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("commit: {}", fx.commit)),
        "{stderr}"
    );
    assert!(stderr.contains("source: directory"), "{stderr}");
    assert!(
        stderr
            .contains("skipped: apps/plain/notes.txt (not a .yaml, .yml, .json or .jsonnet file)"),
        "{stderr}"
    );
    let a = stdout.find("name: a").unwrap();
    let b = stdout.find("name: b").unwrap();
    let ns = stdout.find("kind: Namespace").unwrap();
    assert!(a < b && b < ns, "sorted by kind then name: {stdout}");
    assert_eq!(stdout.matches("namespace: team").count(), 2, "{stdout}");
    assert_eq!(stdout.matches("---\n").count(), 3);
}

#[test]
fn render_a_helm_chart_with_value_files_sets_and_a_release_name_as_json() {
    let fx = Fixture::new();
    let args = [
        "--revision",
        "main",
        "--path",
        "charts/web",
        "--helm-values",
        "values-prod.yaml",
        "--helm-set",
        "image.tag=9.9.9",
        "--release-name",
        "shop",
        "--namespace",
        "prod",
        "-o",
        "json",
    ];
    let out = fx.render(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("source: helm"));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list["kind"], "List");
    let deploy = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "Deployment")
        .unwrap();
    assert_eq!(deploy["metadata"]["name"], "shop-web");
    assert_eq!(deploy["metadata"]["namespace"], "prod");
    assert_eq!(deploy["spec"]["replicas"], 3);
    assert_eq!(
        deploy["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:9.9.9"
    );

    let again = fx.render(&args);
    assert!(
        text(&again.stderr).contains("source: helm (cached)"),
        "{}",
        text(&again.stderr)
    );
    assert_eq!(again.stdout, out.stdout);
}

#[test]
fn render_errors_exit_2_with_the_chain_naming_the_file() {
    let fx = Fixture::new();
    let out = fx.render(&[
        "--path",
        "charts/web",
        "--helm-values",
        "../../../../etc/passwd",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("sextant: could not render `charts/web` at commit"),
        "{stderr}"
    );
    assert!(
        stderr.contains("`../../../../etc/passwd`, which is outside the repository"),
        "{stderr}"
    );

    let out = fx.render(&["--revision", "no-such-branch", "--path", "apps/plain"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("revision `no-such-branch` was not found"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn render_without_helm_says_how_to_provide_it() {
    let fx = Fixture::new();
    // Only git on PATH (gix runs `git upload-pack` for local repositories).
    let bin = fx.dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let git_path = std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .map(|d| d.join("git"))
        .find(|p| p.is_file())
        .unwrap();
    std::os::unix::fs::symlink(git_path, bin.join("git")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sextant"))
        .args(["render", "--path", "charts/web", "--repo"])
        .arg(fx.repo())
        .arg("--cache-dir")
        .arg(fx.dir.path().join("cache"))
        .env("PATH", &bin)
        .env_remove("SEXTANT_HELM_BIN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("`helm` is needed to render this source but was not found on PATH (set --helm-bin or SEXTANT_HELM_BIN)"), "{stderr}");
}

#[test]
fn render_a_chart_of_a_chart_repository_and_of_an_oci_registry() {
    use sextant_testkit::{OciRegistry, StaticHttpServer, index_repo, package_chart};
    let fx = Fixture::new();
    let charts = fx.dir.path().join("charts");
    package_chart(&charts, "site", "0.9.0", &[]);
    package_chart(&charts, "site", "1.3.0", &[]);
    index_repo(&charts);
    let server = StaticHttpServer::start(&charts, None);
    // Like Fixture::render, with a chart repository for --repo.
    let render = |repo: &str, args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_sextant"))
            .args(["render", "--repo", repo, "--helm-chart", "site"])
            .args(args)
            .arg("--cache-dir")
            .arg(fx.dir.path().join("cache"))
            .env("HOME", fx.dir.path())
            .env("SEXTANT_HELM_BIN", helm_bin())
            .output()
            .unwrap()
    };
    let out = render(
        &server.url(""),
        &[
            "--revision",
            ">=0.1 <1.0",
            "--release-name",
            "r1",
            "--helm-set",
            "greeting=yo",
        ],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("chart version: 0.9.0"), "{stderr}");
    assert!(
        stdout.contains("name: r1-site") && stdout.contains("greeting: yo"),
        "{stdout}"
    );
    assert!(stdout.contains("version: 0.9.0"), "{stdout}");

    let registry = OciRegistry::start();
    registry.push(&charts.join("site-1.3.0.tgz"), "charts");
    let out = render(
        &format!("oci://{}/charts", registry.host),
        &["--plain-http"],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("chart version: 1.3.0"), "{stderr}");
    assert!(stdout.contains("version: 1.3.0"), "{stdout}");

    // A version that is not there: exit 2 with what there is.
    let out = render(&server.url(""), &["--revision", "2.*"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("no version of chart site") && stderr.contains("newest: 1.3.0, 0.9.0"),
        "{stderr}"
    );
}

/// Jsonnet through the `sextant` binary: each file is evaluated in a
/// child of it, so the flags reach the program, a program that wants
/// more memory than `--jsonnet-max-memory` and one that runs past
/// `--tool-timeout` are stopped with a message saying which limit, and an
/// error names the file and line.
#[test]
fn render_jsonnet_in_a_child_process_within_its_memory_and_time_limits() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "ok/main.jsonnet",
        "function(replicas=1) { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: std.extVar('env') }, data: { replicas: std.toString(replicas) } }",
    );
    write(
        root,
        "hungry/main.jsonnet",
        "{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { n: std.toString(std.length(std.repeat('x', 100000000))) } }",
    );
    write(
        root,
        "slow/main.jsonnet",
        "{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { n: std.toString(std.foldl(function(a, b) a + b, std.range(1, 300000000), 0)) } }",
    );
    write(
        root,
        "bad/main.jsonnet",
        "local x = 1;\n{\n  a: error 'boom ' + x,\n}\n",
    );
    let render = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_sextant"))
            .arg("render")
            .args(args)
            .current_dir(root)
            .env("HOME", root)
            .output()
            .unwrap()
    };

    let out = render(&[
        "--path",
        "ok",
        "--jsonnet-ext-var-str",
        "env=prod",
        "--jsonnet-tla-code",
        "replicas=1+2",
        "-o",
        "json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list["items"][0]["metadata"]["name"], "prod");
    assert_eq!(list["items"][0]["data"]["replicas"], "3");

    // 100 MB of string fits the default 1024 MiB, not 64.
    let out = render(&["--path", "hungry", "--jsonnet-max-memory", "64"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("at hungry: Jsonnet `main.jsonnet`")
            && stderr.contains("needed more than the 64 MiB"),
        "{stderr}"
    );
    let out = render(&["--path", "hungry", "-o", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("100000000"));

    let out = render(&["--path", "slow", "--tool-timeout", "1"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("did not finish within 1 s"), "{stderr}");

    let out = render(&["--path", "bad"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("boom 1") && stderr.contains("main.jsonnet:3:"),
        "{stderr}"
    );
}

#[test]
fn render_with_a_config_management_plugin_declared_in_a_file() {
    let fx = Fixture::new();
    let config = fx.dir.path().join("cmp-cm.yaml");
    // The ConfigMap as a cluster holds it: one plugin per key.
    std::fs::write(
        &config,
        r#"apiVersion: v1
kind: ConfigMap
metadata: {name: argocd-cmp-cm}
data:
  plugin.yaml: |
    apiVersion: argoproj.io/v1alpha1
    kind: ConfigManagementPlugin
    metadata: {name: stamp}
    spec:
      generate:
        command: [sh, -c]
        args:
          - |
            echo "{kind: ConfigMap, apiVersion: v1, metadata: {name: gen, labels: {stamped: $ARGOCD_ENV_STAMP-$PARAM_LEVEL}}}"
      discover:
        find:
          glob: "**/b.yaml"
"#,
    )
    .unwrap();
    let cfg = config.to_str().unwrap();
    let out = fx.render(&[
        "--path",
        "apps/plain",
        "--plugin-config",
        cfg,
        "--plugin",
        "stamp",
        "--plugin-env",
        "STAMP=ok",
        "--plugin-parameter",
        "level=3",
        "-o",
        "json",
    ]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("source: plugin"), "{stderr}");
    let list: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let labels: Vec<&str> = list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| o["metadata"]["labels"]["stamped"].as_str())
        .collect();
    assert_eq!(labels, ["ok-3"], "{stdout}");
    // Without --plugin, its discovery rule picks it; a forced type wins.
    let out = fx.render(&["--path", "apps/plain", "--plugin-config", cfg]);
    assert!(
        text(&out.stderr).contains("source: plugin"),
        "{}",
        text(&out.stderr)
    );
    let out = fx.render(&[
        "--path",
        "apps/plain",
        "--plugin-config",
        cfg,
        "--source-type",
        "directory",
    ]);
    assert!(
        text(&out.stderr).contains("source: directory"),
        "{}",
        text(&out.stderr)
    );
    // A plugin nobody declared: exit 2, naming the ones that are.
    let out = fx.render(&[
        "--path",
        "apps/plain",
        "--plugin-config",
        cfg,
        "--plugin",
        "x",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("plugin `x`, which is not declared (declared: `stamp`)"),
        "{}",
        text(&out.stderr)
    );
}
