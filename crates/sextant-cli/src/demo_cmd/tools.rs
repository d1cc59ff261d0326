//! Finding the programs the demo needs: `git` (always), `helm` (for the
//! Helm app) and kustomize or kubectl (for the Kustomize app).

use std::path::{Path, PathBuf};

use sextant_render::which;

/// The located programs.
#[derive(Debug, Clone, Default)]
pub struct Found {
    /// The `git` binary.
    pub git: Option<PathBuf>,
    /// The `helm` binary.
    pub helm: Option<PathBuf>,
    /// A standalone `kustomize`.
    pub kustomize: Option<PathBuf>,
    /// `kubectl` (whose `kubectl kustomize` stands in for kustomize).
    pub kubectl: Option<PathBuf>,
}

impl Found {
    /// Whether a Kustomize overlay can be rendered.
    pub fn can_kustomize(&self) -> bool {
        self.kustomize.is_some() || self.kubectl.is_some()
    }
}

/// Look for every program: an explicit `SEXTANT_*_BIN`, then `PATH`, then
/// (helm only) `.tools/bin` of the current folder and of the Sextant
/// checkout this binary was built from, where `scripts/install-tools.sh`
/// puts it.
pub fn find() -> Found {
    let helm = env_path("SEXTANT_HELM_BIN")
        .or_else(|| which("helm"))
        .or_else(|| {
            tools_dirs()
                .into_iter()
                .map(|d| d.join("helm"))
                .find(|p| is_executable(p))
        });
    Found {
        git: which("git"),
        helm,
        kustomize: env_path("SEXTANT_KUSTOMIZE_BIN").or_else(|| which("kustomize")),
        kubectl: which("kubectl"),
    }
}

/// Where `scripts/install-tools.sh` installs tools: `.tools/bin` under the
/// current folder and under the workspace this binary was built in.
fn tools_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Ok(cwd) = std::env::current_dir() {
        dirs.push(cwd.join(".tools/bin"));
    }
    // crates/sextant-cli -> the workspace root.
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    dirs.push(workspace.join(".tools/bin"));
    dirs
}

fn env_path(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .filter(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
