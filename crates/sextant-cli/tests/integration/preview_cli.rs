//! The real `sextant preview` on a fixture repository with two commits: a
//! Helm chart's version bump that adds a ClusterRole, a removed Service and
//! an image change, found through the Applications in the repository (and
//! by `--path`); text, Markdown and JSON output; `--fail-on` gates.
//! Needs helm (`./scripts/install-tools.sh`); fails, not skips, without it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const REMOTE: &str = "https://git.example.invalid/platform/fixture.git";

fn helm_bin() -> PathBuf {
    let tools = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.tools/bin/helm");
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("helm"))
        .chain([tools])
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("helm is required by these tests: run ./scripts/install-tools.sh (it installs .tools/bin/helm)")
        })
}

fn write(root: &Path, path: &str, content: &str) {
    let path = root.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

use sextant_testkit::git;

fn deployment(image: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels: {{app: web}}\n  template:\n    metadata:\n      labels: {{app: web}}\n    spec:\n      containers:\n      - name: web\n        image: {image}\n"
    )
}

const SERVICE: &str = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: web}\n  ports:\n  - port: 80\n";

const APPS: &str = "apiVersion: sextant.dev/v1alpha1
kind: Application
metadata:
  name: web
spec:
  project: default
  source:
    repoURL: REMOTE
    path: apps/web
  destination:
    namespace: shop
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: monitor
spec:
  project: default
  source:
    repoURL: REMOTE
    path: charts/monitor
    helm:
      releaseName: mon
  destination:
    namespace: monitoring
---
apiVersion: sextant.dev/v1alpha1
kind: Application
metadata:
  name: elsewhere
spec:
  source:
    repoURL: https://git.example.invalid/other/repo.git
    path: x
  destination:
    namespace: x
---
apiVersion: sextant.dev/v1alpha1
kind: ApplicationSet
metadata:
  name: teams
spec:
  generators: []
";

const AGENT: &str = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: {{ .Release.Name }}-agent\nspec:\n  selector:\n    matchLabels: {app: agent}\n  template:\n    metadata:\n      labels: {app: agent}\n    spec:\n      containers:\n      - name: agent\n        image: \"monitor/agent:{{ .Chart.AppVersion }}\"\n";

const CLUSTER_ROLE: &str = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: {{ .Release.Name }}-reader\nrules:\n- apiGroups: [\"\"]\n  resources: [pods]\n  verbs: [get, list, watch]\n";

/// A repository with two commits; returns (temp dir, repo, base commit).
fn fixture() -> (tempfile::TempDir, PathBuf, String) {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    write(&repo, "apps.yaml", &APPS.replace("REMOTE", REMOTE));
    write(&repo, "apps/web/deployment.yaml", &deployment("nginx:1.27"));
    write(&repo, "apps/web/service.yaml", SERVICE);
    write(
        &repo,
        "charts/monitor/Chart.yaml",
        "apiVersion: v2\nname: monitor\nversion: 1.0.0\nappVersion: \"2.0\"\n",
    );
    write(&repo, "charts/monitor/templates/agent.yaml", AGENT);
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "base"]);
    let base = git(&repo, &["rev-parse", "HEAD"]);
    write(&repo, "apps/web/deployment.yaml", &deployment("nginx:1.28"));
    std::fs::remove_file(repo.join("apps/web/service.yaml")).unwrap();
    write(
        &repo,
        "charts/monitor/Chart.yaml",
        "apiVersion: v2\nname: monitor\nversion: 1.1.0\nappVersion: \"2.1\"\n",
    );
    write(
        &repo,
        "charts/monitor/templates/clusterrole.yaml",
        CLUSTER_ROLE,
    );
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "head"]);
    (tmp, repo, base)
}

fn preview(tmp: &Path, repo: &Path, base: &str, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sextant"))
        .arg("preview")
        .arg("--repo")
        .arg(repo)
        .args([
            "--base",
            base,
            "--head",
            "main",
            "--repo-url",
            REMOTE.trim_end_matches(".git"),
        ])
        .arg("--cache-dir")
        .arg(tmp.join("cache"))
        .arg("--helm-bin")
        .arg(helm_bin())
        .args(extra)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn preview_reports_added_removed_and_changed_objects_per_application() {
    let (tmp, repo, base) = fixture();
    let out = preview(tmp.path(), &repo, &base, &[]);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(
        stdout.contains("== app monitor (charts/monitor) ==\n"),
        "{stdout}"
    );
    assert!(
        stdout
            .contains("added: ClusterRole.rbac.authorization.k8s.io mon-reader (cluster-scoped)\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("new kinds: ClusterRole.rbac.authorization.k8s.io\n"),
        "{stdout}"
    );
    assert!(stdout.contains("image: DaemonSet.apps monitoring/mon-agent container agent: monitor/agent:2.0 -> monitor/agent:2.1\n"), "{stdout}");
    assert!(stdout.contains("== app web (apps/web) ==\n"), "{stdout}");
    assert!(stdout.contains("removed: Service shop/web\n"), "{stdout}");
    assert!(
        stdout.contains("changed: Deployment.apps shop/web\n"),
        "{stdout}"
    );
    assert!(
        stdout
            .contains("image: Deployment.apps shop/web container web: nginx:1.27 -> nginx:1.28\n"),
        "{stdout}"
    );
    assert!(stdout.contains("--- base\n+++ head\n"), "{stdout}");
    assert!(
        stdout.contains("-      - image: nginx:1.27\n+      - image: nginx:1.28\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "skipped: Application elsewhere (apps.yaml) (its source is another repository"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "skipped: ApplicationSet teams (apps.yaml) (spec.generators is empty: add at least one generator)"
        ),
        "{stdout}"
    );
    let summary = stdout.lines().last().unwrap();
    assert!(
        summary.starts_with(&format!("preview {base} (")),
        "{summary}"
    );
    assert!(
        summary.ends_with(": 2 apps, 1 added (1 cluster-scoped), 1 removed, 2 changed, 1 new kind, 2 image changes, 2 skipped"),
        "{summary}"
    );
}

#[test]
fn fail_on_gates_set_the_exit_code() {
    let (tmp, repo, base) = fixture();
    let out = preview(
        tmp.path(),
        &repo,
        &base,
        &["--fail-on", "added-cluster-scoped"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains(
            "fail-on: monitor: adds cluster-scoped ClusterRole.rbac.authorization.k8s.io mon-reader"
        ),
        "{}",
        text(&out.stderr)
    );
    let out = preview(tmp.path(), &repo, &base, &["--fail-on", "removed"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("fail-on: web: removes Service shop/web"),
        "{}",
        text(&out.stderr)
    );
    let out = preview(
        tmp.path(),
        &repo,
        &base,
        &["--path", "apps/web", "--fail-on", "added-cluster-scoped"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let out = preview(
        tmp.path(),
        &repo,
        &base,
        &["--path", "apps/web", "--fail-on", "any"],
    );
    assert_eq!(out.status.code(), Some(1));
    let out = preview(tmp.path(), &repo, "main", &["--fail-on", "any"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "no change between a revision and itself: {}",
        text(&out.stdout)
    );
}

#[test]
fn json_and_markdown_carry_the_same_findings() {
    let (tmp, repo, base) = fixture();
    let out = preview(tmp.path(), &repo, &base, &["--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let monitor = doc["apps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "monitor")
        .unwrap();
    assert_eq!(
        monitor["newClusterScoped"][0],
        "ClusterRole.rbac.authorization.k8s.io mon-reader"
    );
    assert_eq!(monitor["images"][0]["old"], "monitor/agent:2.0");
    let web = doc["apps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "web")
        .unwrap();
    let outcomes: Vec<&str> = web["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        ["removed", "changed"],
        "ordered by group, kind, namespace, name"
    );
    assert!(
        web["objects"][1]["diff"]
            .as_str()
            .unwrap()
            .contains("+      - image: nginx:1.28")
    );

    let out = preview(tmp.path(), &repo, &base, &["--format", "markdown"]);
    let md = text(&out.stdout);
    assert!(md.starts_with("## Sextant preview\n\n**preview "), "{md}");
    assert!(
        md.contains("### App `monitor` (`charts/monitor`)\n"),
        "{md}"
    );
    assert!(
        md.contains("- added: ClusterRole.rbac.authorization.k8s.io mon-reader (cluster-scoped)\n"),
        "{md}"
    );
    assert!(md.contains("```diff\n===== "), "{md}");
}

#[test]
fn a_path_that_does_not_render_is_exit_2_after_the_report() {
    let (tmp, repo, base) = fixture();
    write(
        &repo,
        "apps/broken/bad.yaml",
        "kind: ConfigMap\nmetadata: {name: x}\n",
    );
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "broken"]);
    let out = preview(
        tmp.path(),
        &repo,
        &base,
        &["--path", "apps/broken", "--path", "apps/web"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("== app apps/web (apps/web) =="));
    assert!(
        text(&out.stderr).contains("sextant: could not preview apps/broken"),
        "{}",
        text(&out.stderr)
    );
}

/// Revisions as a Git user types them (issue 19): `HEAD~1` for the base
/// and `origin/main` for the head give the same preview as the commit ids.
#[test]
fn preview_accepts_ancestry_suffixes_and_remote_branch_names() {
    let (tmp, repo, base) = fixture();
    let by_id = preview(tmp.path(), &repo, &base, &["-o", "json"]);
    assert_eq!(by_id.status.code(), Some(0), "{}", text(&by_id.stderr));
    let typed = Command::new(env!("CARGO_BIN_EXE_sextant"))
        .arg("preview")
        .arg("--repo")
        .arg(&repo)
        .args(["--base", "HEAD~1", "--head", "origin/main"])
        .args(["--repo-url", REMOTE.trim_end_matches(".git")])
        .arg("--cache-dir")
        .arg(tmp.path().join("cache-typed"))
        .arg("--helm-bin")
        .arg(helm_bin())
        .args(["-o", "json"])
        .output()
        .unwrap();
    assert_eq!(typed.status.code(), Some(0), "{}", text(&typed.stderr));
    let a: Value = serde_json::from_slice(&by_id.stdout).unwrap();
    let b: Value = serde_json::from_slice(&typed.stdout).unwrap();
    let short = format!("({})", &base[..12]);
    assert!(b["base"].as_str().unwrap().ends_with(&short), "{b}");
    assert_eq!(a["apps"], b["apps"]);
    let bad = Command::new(env!("CARGO_BIN_EXE_sextant"))
        .arg("preview")
        .arg("--repo")
        .arg(&repo)
        .args(["--base", "HEAD~5", "--head", "main"])
        .arg("--cache-dir")
        .arg(tmp.path().join("cache-bad"))
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        text(&bad.stderr).contains("HEAD~5"),
        "{}",
        text(&bad.stderr)
    );
}

#[test]
fn a_chart_version_bump_lists_what_the_new_version_adds_removes_and_changes() {
    use sextant_testkit::{StaticHttpServer, index_repo, package_chart};
    let tmp = tempfile::tempdir().unwrap();
    let charts = tmp.path().join("charts");
    package_chart(&charts, "monitor", "1.0.0", &[]);
    package_chart(
        &charts,
        "monitor",
        "1.1.0",
        &[("templates/clusterrole.yaml", CLUSTER_ROLE)],
    );
    index_repo(&charts);
    let server = StaticHttpServer::start(&charts, None);
    let app = |version: &str| {
        format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: monitoring\nspec:\n  project: default\n  source:\n    repoURL: {}\n    chart: monitor\n    targetRevision: {version}\n    helm:\n      releaseName: mon\n  destination:\n    namespace: monitoring\n",
            server.url("")
        )
    };
    let repo = tmp.path().join("repo");
    write(&repo, "infra/monitoring.yaml", &app("1.0.0"));
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "base"]);
    let base = git(&repo, &["rev-parse", "HEAD"]);
    write(&repo, "infra/monitoring.yaml", &app("1.1.0"));
    git(&repo, &["commit", "-q", "-am", "bump monitor"]);

    let out = preview(
        tmp.path(),
        &repo,
        &base,
        &["--fail-on", "added-cluster-scoped"],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(
        out.status.code(),
        Some(1),
        "the gate fails: {stdout}{stderr}"
    );
    assert!(stdout.contains("monitoring"), "{stdout}");
    assert!(stdout.contains("chart monitor 1.0.0 -> 1.1.0"), "{stdout}");
    assert!(
        stdout.contains("ClusterRole") && stdout.contains("mon-reader"),
        "{stdout}"
    );
    assert!(stderr.contains("fail-on"), "{stderr}");

    let out = preview(tmp.path(), &repo, &base, &["-o", "json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let app = v["apps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "monitoring")
        .unwrap_or_else(|| panic!("{v}"));
    let changed = app.to_string();
    assert!(
        changed.contains("mon-monitor"),
        "the ConfigMap's version changed: {changed}"
    );
}

/// A multi-source app: a chart of a chart repository whose values are in
/// this repository (`ref: values`). A commit that changes the values and
/// bumps the chart previews both: what the new values change, and the
/// chart's version move in the note.
#[test]
fn a_multi_source_app_previews_its_values_and_chart_changes_together() {
    use sextant_testkit::{StaticHttpServer, index_repo, package_chart};
    let tmp = tempfile::tempdir().unwrap();
    let charts = tmp.path().join("charts");
    package_chart(&charts, "web", "1.0.0", &[]);
    package_chart(
        &charts,
        "web",
        "1.1.0",
        &[("templates/clusterrole.yaml", CLUSTER_ROLE)],
    );
    index_repo(&charts);
    let server = StaticHttpServer::start(&charts, None);
    let app = |version: &str| {
        format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: web\nspec:\n  project: default\n  sources:\n  - repoURL: {}\n    chart: web\n    targetRevision: {version}\n    helm:\n      releaseName: shop\n      valueFiles: [$values/envs/prod/web.yaml]\n  - repoURL: {REMOTE}\n    targetRevision: main\n    ref: values\n  destination:\n    namespace: shop\n",
            server.url("")
        )
    };
    let repo = tmp.path().join("repo");
    write(&repo, "apps/web.yaml", &app("1.0.0"));
    write(&repo, "envs/prod/web.yaml", "greeting: hello\n");
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "base"]);
    let base = git(&repo, &["rev-parse", "HEAD"]);
    write(&repo, "apps/web.yaml", &app("1.1.0"));
    write(&repo, "envs/prod/web.yaml", "greeting: bonjour\n");
    git(&repo, &["commit", "-q", "-am", "new values, chart 1.1.0"]);

    let out = preview(tmp.path(), &repo, &base, &["-o", "json"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}{stderr}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let web = v["apps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "web")
        .unwrap_or_else(|| panic!("{v}"))
        .to_string();
    assert!(web.contains("other sources 1.0.0 -> 1.1.0"), "{web}");
    assert!(
        web.contains("shop-reader"),
        "the chart's new ClusterRole: {web}"
    );
    assert!(web.contains("bonjour"), "the values' change: {web}");
}
