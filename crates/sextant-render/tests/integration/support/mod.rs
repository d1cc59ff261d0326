//! Shared helpers for the rendering tests: fixture trees, Git repos made
//! with the real `git`, the tools (helm must be installed: the tests fail,
//! not skip, without it) and normalising a tool's direct output the same
//! way Sextant does, for comparisons.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use sextant_render::{Scope, ToolConfig, Tools, manifest, normalize};

/// The helm binary, or a failure telling how to install it.
pub fn helm_bin() -> PathBuf {
    sextant_render::which("helm").unwrap_or_else(|| {
        panic!(
            "helm is required by the rendering tests but is not on PATH: run ./scripts/install-tools.sh \
             and put .tools/bin on PATH (./scripts/test.sh does both)"
        )
    })
}

pub fn kubectl_bin() -> PathBuf {
    sextant_render::which("kubectl")
        .unwrap_or_else(|| panic!("kubectl is required by the kustomize tests but is not on PATH"))
}

pub fn tools() -> Tools {
    Tools::new(ToolConfig {
        helm: Some(helm_bin()),
        kubectl: Some(kubectl_bin()),
        ..ToolConfig::default()
    })
    .unwrap()
}

pub fn write_files(dir: &Path, files: &[(&str, &str)]) {
    for (path, content) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
}

/// Run a tool directly (for comparisons) with a private HOME.
pub fn run(program: &Path, args: &[&str], cwd: &Path) -> String {
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .env("HOME", home.path())
        .env("HELM_CACHE_HOME", home.path().join("c"))
        .env("HELM_CONFIG_HOME", home.path().join("f"))
        .env("HELM_DATA_HOME", home.path().join("d"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{} {args:?}: {}",
        program.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `helm create NAME` in `dir`.
pub fn helm_create(dir: &Path, name: &str) {
    run(&helm_bin(), &["create", name], dir);
}

/// Parse a tool's output and normalise it as Sextant does, sorted.
pub fn normalised(text: &str, namespace: &str) -> Vec<Value> {
    let docs =
        manifest::flatten_lists("direct", manifest::parse_yaml("direct", text).unwrap()).unwrap();
    let mut objects: Vec<Value> = docs
        .into_iter()
        .map(|mut d| {
            normalize(
                &mut d.value,
                "direct",
                d.index,
                namespace,
                Default::default(),
                &Scope::default(),
            )
            .unwrap();
            d.value
        })
        .collect();
    objects.sort_by_cached_key(sextant_render::identity);
    objects
}

pub use sextant_testkit::git;

/// Make `dir` a Git repository with everything in it committed; returns
/// the commit.
pub fn commit_all(dir: &Path) -> String {
    if !dir.join(".git").exists() {
        git(dir, &["init", "-q", "-b", "main"]);
    }
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "--allow-empty", "-m", "fixture"]);
    git(dir, &["rev-parse", "HEAD"])
}

pub fn names(objects: &[Value]) -> Vec<String> {
    objects
        .iter()
        .map(|o| {
            format!(
                "{}/{}",
                o["kind"].as_str().unwrap_or(""),
                o["metadata"]["name"].as_str().unwrap_or("")
            )
        })
        .collect()
}

pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut next = e.source();
    while let Some(s) = next {
        parts.push(s.to_string());
        next = s.source();
    }
    parts.join(": ")
}
