//! The demo's sample GitOps repository: the files under
//! `crates/sextant-cli/demo-repo/` (compiled in), written to a folder and
//! committed once on `main` with the `git` binary.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

/// `(path in the repository, content)`, compiled in from `demo-repo/`.
macro_rules! demo_files {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/demo-repo/", $path)))),*]
    };
}

/// Every file of the sample repository. A test checks that this lists
/// exactly the files under `demo-repo/`.
pub const FILES: &[(&str, &str)] = demo_files![
    "README.md",
    "bases/checkout/deployment.yaml",
    "bases/checkout/kustomization.yaml",
    "bases/checkout/service.yaml",
    "clusters/demo/apps/checkout/kustomization.yaml",
    "clusters/demo/apps/frontend/Chart.yaml",
    "clusters/demo/apps/frontend/templates/_helpers.tpl",
    "clusters/demo/apps/frontend/templates/deployment.yaml",
    "clusters/demo/apps/frontend/templates/service.yaml",
    "clusters/demo/apps/frontend/values.yaml",
    "clusters/demo/apps/payments/configmap.yaml",
    "clusters/demo/apps/payments/deployment.yaml",
    "clusters/demo/apps/payments/service.yaml",
    "clusters/demo/infrastructure/monitoring/configmap.yaml",
    "clusters/demo/infrastructure/monitoring/deployment.yaml",
    "clusters/demo/infrastructure/monitoring/namespace.yaml",
];

/// The branch the demo commits on.
pub const BRANCH: &str = "main";

/// The sample repository on disk.
#[derive(Debug, Clone)]
pub struct Repo {
    /// Its working tree.
    pub path: PathBuf,
    /// `file://` URL of it, as the Applications name it.
    pub url: String,
    /// The commit `HEAD` points at.
    pub head: String,
    /// Whether it was already there (kept from an earlier `--dir` run).
    pub reused: bool,
}

/// Write the sample files into `path` (which must not exist or be empty)
/// and commit them; or, when `path` already holds a Git repository from an
/// earlier run, use it as it is.
pub fn create(git: &Path, path: &Path) -> anyhow::Result<Repo> {
    let reused = path.join(".git").exists();
    if !reused {
        if path.exists()
            && std::fs::read_dir(path)
                .with_context(|| format!("could not read {}", path.display()))?
                .next()
                .is_some()
        {
            bail!(
                "{} exists and is not a Git repository; remove it or choose another --dir",
                path.display()
            );
        }
        write_files(path)?;
        run_git(git, path, &["init", "--quiet"])?;
        run_git(
            git,
            path,
            &["symbolic-ref", "HEAD", &format!("refs/heads/{BRANCH}")],
        )?;
        // A committer of its own, so `git commit` in the demo works on a
        // machine with no Git identity configured.
        run_git(git, path, &["config", "user.name", "Sextant Demo"])?;
        run_git(git, path, &["config", "user.email", "demo@sextant.invalid"])?;
        run_git(git, path, &["config", "commit.gpgsign", "false"])?;
        run_git(git, path, &["add", "--all"])?;
        run_git(
            git,
            path,
            &[
                "commit",
                "--quiet",
                "--no-verify",
                "-m",
                "Initial commit: the Sextant demo repository",
            ],
        )?;
    }
    let head = run_git(git, path, &["rev-parse", "HEAD"])?
        .trim()
        .to_owned();
    let path = path
        .canonicalize()
        .with_context(|| format!("could not resolve {}", path.display()))?;
    let url = format!("file://{}", path.display());
    Ok(Repo {
        path,
        url,
        head,
        reused,
    })
}

/// Write [`FILES`] under `root`.
pub fn write_files(root: &Path) -> anyhow::Result<()> {
    for (rel, text) in FILES {
        let file = root.join(rel);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("could not create {}", parent.display()))?;
        }
        std::fs::write(&file, text)
            .with_context(|| format!("could not write {}", file.display()))?;
    }
    Ok(())
}

/// Run `git ARGS` in `dir`, returning its standard output.
pub(super) fn run_git(git: &Path, dir: &Path, args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new(git)
        .args(args)
        .current_dir(dir)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .with_context(|| format!("could not run {} {}", git.display(), args.join(" ")))?;
    if !out.status.success() {
        bail!(
            "`git {}` in {} failed ({}): {}",
            args.join(" "),
            dir.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push(
                    path.strip_prefix(root)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }

    #[test]
    fn the_file_table_lists_exactly_the_files_under_demo_repo() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo-repo");
        let mut on_disk = Vec::new();
        walk(&root, &root, &mut on_disk);
        on_disk.sort();
        let mut listed: Vec<String> = FILES.iter().map(|(p, _)| (*p).to_owned()).collect();
        listed.sort();
        assert_eq!(listed, on_disk, "update FILES in demo_cmd/repo.rs");
    }

    #[test]
    fn create_commits_every_file_on_main_and_reuses_the_repository_next_time() {
        let git = sextant_render::which("git").expect("git is required by this test");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gitops");
        let repo = create(&git, &path).unwrap();
        assert!(!repo.reused);
        assert_eq!(repo.head.len(), 40, "{}", repo.head);
        assert!(repo.url.starts_with("file:///"), "{}", repo.url);
        let tracked = run_git(&git, &path, &["ls-files"]).unwrap();
        assert_eq!(tracked.lines().count(), FILES.len(), "{tracked}");
        let branch = run_git(&git, &path, &["branch", "--show-current"]).unwrap();
        assert_eq!(branch.trim(), BRANCH);
        let status = run_git(&git, &path, &["status", "--porcelain"]).unwrap();
        assert!(status.is_empty(), "clean tree: {status}");

        let again = create(&git, &path).unwrap();
        assert!(again.reused);
        assert_eq!(again.head, repo.head);
    }

    #[test]
    fn create_refuses_a_folder_that_holds_something_else() {
        let git = sextant_render::which("git").expect("git is required by this test");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
        let err = create(&git, dir.path()).unwrap_err().to_string();
        assert!(err.contains("is not a Git repository"), "{err}");
    }
}
