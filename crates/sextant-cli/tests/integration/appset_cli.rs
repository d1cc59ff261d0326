//! `sextant appset generate` on a folder laid out as the field report's
//! repository, and `sextant preview` of a commit that adds a service
//! directory: the ApplicationSet's new app shows, with its objects.

use std::path::Path;
use std::process::{Command, Output};

use sextant_testkit::git;

const REMOTE: &str = "https://git.example.invalid/acme/gitops.git";

const SET: &str = "apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: prod-us-east
spec:
  generators:
  - git:
      repoURL: REMOTE
      revision: HEAD
      directories:
      - path: clusters/prod-us-east/apps/*
      - path: clusters/prod-us-east/apps/legacy
        exclude: true
  template:
    metadata:
      name: '{{path.basename}}-prod-us-east'
    spec:
      project: default
      source:
        repoURL: REMOTE
        targetRevision: HEAD
        path: '{{path}}'
      destination:
        server: https://kubernetes.default.svc
        namespace: '{{path.basename}}'
";

fn write(root: &Path, path: &str, content: &str) {
    let path = root.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

fn cm(name: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  k: v\n")
}

fn sextant(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sextant"))
        .args(args)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn layout(root: &Path) {
    write(
        root,
        "appsets/prod-us-east.yaml",
        &SET.replace("REMOTE", REMOTE),
    );
    for svc in ["web", "api", "legacy"] {
        write(
            root,
            &format!("clusters/prod-us-east/apps/{svc}/cm.yaml"),
            &cm(svc),
        );
    }
}

#[test]
fn generate_prints_one_application_per_service_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    layout(root);
    let set = root.join("appsets/prod-us-east.yaml");
    let out = sextant(&[
        "appset",
        "generate",
        set.to_str().unwrap(),
        "--repo",
        root.to_str().unwrap(),
        "-o",
        "names",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "api-prod-us-east\tclusters/prod-us-east/apps/api\thttps://kubernetes.default.svc/api\n\
         web-prod-us-east\tclusters/prod-us-east/apps/web\thttps://kubernetes.default.svc/web\n"
    );

    let out = sextant(&[
        "appset",
        "generate",
        set.to_str().unwrap(),
        "--repo",
        root.to_str().unwrap(),
    ]);
    let yaml = text(&out.stdout);
    assert!(
        yaml.contains("kind: Application\n") && yaml.contains("name: web-prod-us-east\n"),
        "{yaml}"
    );

    // No checkout: a clear error, exit 2.
    let out = sextant(&["appset", "generate", set.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("pass --repo DIR"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn preview_shows_the_app_a_new_directory_adds() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    layout(&repo);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "base"]);
    let base = git(&repo, &["rev-parse", "HEAD"]);
    write(
        &repo,
        "clusters/prod-us-east/apps/worker/cm.yaml",
        &cm("worker"),
    );
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "worker"]);

    let out = Command::new(env!("CARGO_BIN_EXE_sextant"))
        .arg("preview")
        .arg("--repo")
        .arg(&repo)
        .args(["--base", &base, "--head", "main", "--repo-url", REMOTE])
        .arg("--cache-dir")
        .arg(tmp.path().join("cache"))
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(
        stdout.contains("== app worker-prod-us-east (clusters/prod-us-east/apps/worker) =="),
        "{stdout}"
    );
    assert!(
        stdout.contains("added: ConfigMap worker/worker"),
        "{stdout}"
    );
    assert!(!stdout.contains("legacy-prod-us-east"), "{stdout}");
}
