//! The real `sextant diff` against an in-process localkube: exit 1 and
//! "added" objects on an empty cluster, exit 0 once they are applied,
//! exit 1 with a unified diff (or JSON) for a real change, ignore rules
//! from a file, Secret values masked, and exit 2 with `sextant: ...` on
//! errors.

use std::path::Path;
use std::process::Output;

use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::discovery::ApiResource;
use localkube::{Config, LocalKube};
use serde_json::{Value, json};

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
";

const SECRET: &str = "apiVersion: v1
kind: Secret
metadata:
  name: db
stringData:
  password: hunter2
";

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(name), text).unwrap();
}

async fn sextant(args: Vec<String>) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_sextant"))
        .args(args)
        .env_remove("KUBECONFIG")
        .output()
        .await
        .unwrap()
}

async fn diff(server: &LocalKube, dir: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<String> = vec![
        "diff".into(),
        "--kubeconfig".into(),
        server.kubeconfig_path().display().to_string(),
        "--path".into(),
        dir.display().to_string(),
        "--cache-dir".into(),
        dir.parent().unwrap().join("cache").display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    sextant(args).await
}

async fn apply(server: &LocalKube, yaml: &str, resource: ApiResource) {
    let client = server.client().await.unwrap();
    let mut obj: Value = serde_yaml_ng::from_str(yaml).unwrap();
    obj["metadata"]["namespace"] = json!("default");
    let api: Api<DynamicObject> = Api::namespaced_with(client, "default", &resource);
    let name = obj["metadata"]["name"].as_str().unwrap().to_owned();
    api.patch(
        &name,
        &PatchParams::apply("sextant").force(),
        &Patch::Apply(&obj),
    )
    .await
    .unwrap();
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn resource(group: &str, version: &str, kind: &str, plural: &str) -> ApiResource {
    let gvk = kube::core::GroupVersionKind::gvk(group, version, kind);
    ApiResource::from_gvk_with_plural(&gvk, plural)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diff_exits_1_with_added_objects_then_0_once_they_are_applied() {
    let server = LocalKube::start(Config::default()).await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("app");
    write(&dir, "deployment.yaml", DEPLOYMENT);
    write(&dir, "secret.yaml", SECRET);

    let out = diff(&server, &dir, &[]).await;
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("===== Deployment.apps default/web (added) =====\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("===== Secret default/db (added) =====\n"),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("2 objects compared: 2 added, 0 changed, 0 unchanged\n"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("hunter2") && !stdout.contains("aHVudGVyMg"),
        "{stdout}"
    );
    assert!(
        stderr.contains("only the objects the repository renders are compared"),
        "{stderr}"
    );

    apply(
        &server,
        DEPLOYMENT,
        resource("apps", "v1", "Deployment", "deployments"),
    )
    .await;
    apply(&server, SECRET, resource("", "v1", "Secret", "secrets")).await;
    let out = diff(&server, &dir, &[]).await;
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert_eq!(
        stdout,
        "2 objects compared: 0 added, 0 changed, 2 unchanged\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_change_prints_a_unified_diff_or_json_and_an_ignore_file_hides_it() {
    let server = LocalKube::start(Config::default()).await.unwrap();
    apply(
        &server,
        DEPLOYMENT,
        resource("apps", "v1", "Deployment", "deployments"),
    )
    .await;
    apply(&server, SECRET, resource("", "v1", "Secret", "secrets")).await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("app");
    write(
        &dir,
        "deployment.yaml",
        &DEPLOYMENT.replace("nginx:1.27", "nginx:1.28"),
    );
    write(&dir, "secret.yaml", &SECRET.replace("hunter2", "hunter3"));

    let out = diff(&server, &dir, &[]).await;
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(
        stdout.contains("-      - image: nginx:1.27\n+      - image: nginx:1.28\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("-  password: ++++++++ (old)\n+  password: ++++++++ (new)\n"),
        "{stdout}"
    );
    assert!(!stdout.contains("hunter"), "{stdout}");

    let out = diff(&server, &dir, &["--output", "json"]).await;
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["summary"]["changed"], json!(2));
    let deployment = doc["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "Deployment")
        .unwrap();
    assert_eq!(deployment["outcome"], "changed");
    assert_eq!(deployment["mode"], "server-side");
    assert_eq!(
        deployment["changes"][0]["path"],
        "/spec/template/spec/containers/0/image"
    );
    assert!(!text(&out.stdout).contains("hunter"));

    let rules = tmp.path().join("ignore.yaml");
    std::fs::write(
        &rules,
        "apiVersion: sextant.dev/v1alpha1\nkind: Application\nmetadata: {name: web}\nspec:\n  ignoreDifferences:\n  - group: apps\n    kind: Deployment\n    jqPathExpressions: ['.spec.template.spec.containers[].image']\n",
    )
    .unwrap();
    let out = diff(
        &server,
        &dir,
        &["--ignore-differences", rules.to_str().unwrap()],
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(1),
        "the Secret still differs: {}",
        text(&out.stdout)
    );
    assert!(text(&out.stdout).ends_with("2 objects compared: 0 added, 1 changed, 1 unchanged\n"));
    let system = tmp.path().join("system.yaml");
    std::fs::write(
        &system,
        "ignoreDifferences:\n- kind: Secret\n  jsonPointers: [/data/password]\n",
    )
    .unwrap();
    let out = diff(
        &server,
        &dir,
        &[
            "--ignore-differences",
            rules.to_str().unwrap(),
            "--system-ignore-differences",
            system.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_exit_2_with_the_sextant_prefix() {
    let server = LocalKube::start(Config::default()).await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("app");
    write(&dir, "deployment.yaml", DEPLOYMENT);

    let missing = tmp.path().join("nowhere.kubeconfig");
    let out = sextant(vec![
        "diff".into(),
        "--kubeconfig".into(),
        missing.display().to_string(),
        "--path".into(),
        dir.display().to_string(),
        "--cache-dir".into(),
        tmp.path().join("cache").display().to_string(),
    ])
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("sextant: could not read kubeconfig"),
        "{}",
        text(&out.stderr)
    );

    let bad = tmp.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "- kind: Deployment\n  jqPathExpressions: ['.spec[[']\n",
    )
    .unwrap();
    let out = diff(
        &server,
        &dir,
        &["--ignore-differences", bad.to_str().unwrap()],
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr)
            .contains("sextant: ignoreDifferences: jq path expression `.spec[[` is invalid"),
        "{}",
        text(&out.stderr)
    );

    write(
        &dir,
        "broken.yaml",
        &DEPLOYMENT
            .replace("name: web\nspec", "name: broken\nspec")
            .replace("app: web}\n  template", "app: other}\n  template"),
    );
    let out = diff(&server, &dir, &[]).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("===== Deployment.apps default/broken (error) ====="),
        "{}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stderr).contains("sextant: 1 of 2 objects could not be compared"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_scale_on_a_deployment_without_replicas_in_git_is_not_drift() {
    let server = LocalKube::start(Config::default()).await.unwrap();
    apply(
        &server,
        DEPLOYMENT,
        resource("apps", "v1", "Deployment", "deployments"),
    )
    .await;
    let out = tokio::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(server.kubeconfig_path())
        .args(["scale", "deployment", "web", "--replicas=3"])
        .output()
        .await
        .unwrap_or_else(|e| {
            panic!("kubectl is required by this test (scripts/test.sh checks for it): {e}")
        });
    assert!(out.status.success(), "{}", text(&out.stderr));
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("app");
    write(&dir, "deployment.yaml", DEPLOYMENT);
    let out = diff(&server, &dir, &[]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));

    let with_replicas = DEPLOYMENT.replace("spec:\n  selector", "spec:\n  replicas: 1\n  selector");
    write(&dir, "deployment.yaml", &with_replicas);
    let out = diff(&server, &dir, &[]).await;
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "Git now sets replicas, so 3 is drift: {stdout}"
    );
    assert!(
        stdout.contains("-  replicas: 3\n+  replicas: 1\n"),
        "{stdout}"
    );
}
