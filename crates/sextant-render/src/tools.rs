//! Finding helm and kustomize (an explicit path, else `PATH`; kustomize
//! falls back to `kubectl kustomize`) and the Jsonnet child program, the
//! clean environment they run in
//! (a private home, no credentials, no network unless allowed), and a
//! fingerprint of the binaries for the render cache key.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::runner::{Invocation, Limits};

/// A tool that is needed and cannot be found.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// Not configured and not on `PATH`.
    #[error("`{tool}` is needed to render this source but was not found on PATH (set {hint})")]
    NotFound {
        /// The tool.
        tool: &'static str,
        /// How to point Sextant at it.
        hint: &'static str,
    },
    /// The scratch folder for tool homes could not be created.
    #[error("could not create a scratch folder for helm and kustomize")]
    Scratch(#[source] std::io::Error),
}

/// How to find and run the tools.
#[derive(Clone, Debug)]
pub struct ToolConfig {
    /// The helm binary (default: `helm` on `PATH`).
    pub helm: Option<PathBuf>,
    /// The kustomize binary (default: `kustomize` on `PATH`, else
    /// `kubectl kustomize`).
    pub kustomize: Option<PathBuf>,
    /// The kubectl binary used when there is no kustomize.
    pub kubectl: Option<PathBuf>,
    /// Timeout and output cap of each run.
    pub limits: Limits,
    /// Let the tools reach the network (off: proxies point nowhere).
    pub allow_network: bool,
    /// A program that embeds Sextant (the `sextant` binary) to evaluate
    /// Jsonnet in a child process with a memory cap; none: on a thread of
    /// this process, with the time limit only.
    pub jsonnet_exe: Option<PathBuf>,
    /// Bytes of data memory a Jsonnet child may use.
    pub jsonnet_max_memory: u64,
}

/// The default cap of a Jsonnet evaluation's data memory.
pub const DEFAULT_JSONNET_MAX_MEMORY: u64 = 1 << 30;

impl Default for ToolConfig {
    fn default() -> Self {
        Self {
            helm: None,
            kustomize: None,
            kubectl: None,
            limits: Limits::default(),
            allow_network: false,
            jsonnet_exe: None,
            jsonnet_max_memory: DEFAULT_JSONNET_MAX_MEMORY,
        }
    }
}

/// How kustomize is run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kustomize {
    /// `kustomize build DIR`.
    Standalone(PathBuf),
    /// `kubectl kustomize DIR`.
    Kubectl(PathBuf),
}

/// The located tools and their sandbox.
#[derive(Debug)]
pub struct Tools {
    helm: Option<PathBuf>,
    kustomize: Option<Kustomize>,
    limits: Limits,
    allow_network: bool,
    jsonnet_exe: Option<PathBuf>,
    jsonnet_max_memory: u64,
    scratch: tempfile::TempDir,
    fingerprint: String,
}

impl Tools {
    /// Locate the tools and prepare their private home.
    pub fn new(config: ToolConfig) -> Result<Self, ToolError> {
        let helm = config.helm.or_else(|| which("helm"));
        let kustomize = match config.kustomize.or_else(|| which("kustomize")) {
            Some(path) => Some(Kustomize::Standalone(path)),
            None => config
                .kubectl
                .or_else(|| which("kubectl"))
                .map(Kustomize::Kubectl),
        };
        let scratch = tempfile::Builder::new()
            .prefix("sextant-tools-")
            .tempdir()
            .map_err(ToolError::Scratch)?;
        for sub in [
            "home",
            "tmp",
            "helm/cache",
            "helm/config",
            "helm/data",
            "plugins",
        ] {
            std::fs::create_dir_all(scratch.path().join(sub)).map_err(ToolError::Scratch)?;
        }
        let kustomize_path = match &kustomize {
            Some(Kustomize::Standalone(p) | Kustomize::Kubectl(p)) => Some(p.as_path()),
            None => None,
        };
        let fingerprint = format!(
            "helm={};kustomize={}",
            binary_fingerprint(helm.as_deref()),
            binary_fingerprint(kustomize_path)
        );
        Ok(Self {
            helm,
            kustomize,
            limits: config.limits,
            allow_network: config.allow_network,
            jsonnet_exe: config.jsonnet_exe,
            jsonnet_max_memory: config.jsonnet_max_memory,
            scratch,
            fingerprint,
        })
    }

    /// The helm binary.
    pub fn helm(&self) -> Result<&Path, ToolError> {
        self.helm.as_deref().ok_or(ToolError::NotFound {
            tool: "helm",
            hint: "--helm-bin or SEXTANT_HELM_BIN",
        })
    }

    /// How to run kustomize.
    pub fn kustomize(&self) -> Result<&Kustomize, ToolError> {
        self.kustomize.as_ref().ok_or(ToolError::NotFound {
            tool: "kustomize (or kubectl)",
            hint: "--kustomize-bin or SEXTANT_KUSTOMIZE_BIN",
        })
    }

    /// Identifies the binaries, so a new tool version invalidates cached
    /// renders (path, size and modification time; no tool is run).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Run limits.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The program that evaluates Jsonnet in a child process, if any.
    pub fn jsonnet_exe(&self) -> Option<&Path> {
        self.jsonnet_exe.as_deref()
    }

    /// Bytes of data memory a Jsonnet child may use.
    pub fn jsonnet_max_memory(&self) -> u64 {
        self.jsonnet_max_memory
    }

    /// A private folder for files made for one render (value files,
    /// wrapping kustomizations).
    pub fn scratch(&self) -> &Path {
        self.scratch.path()
    }

    /// An invocation of `program` in `cwd` with the sandbox environment.
    pub fn invocation(&self, program: &Path, cwd: &Path) -> Invocation {
        let s = self.scratch.path();
        let mut inv = Invocation::new(program, cwd)
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", s.join("home"))
            .env("TMPDIR", s.join("tmp"))
            .env("XDG_CONFIG_HOME", s.join("home/.config"))
            .env("XDG_CACHE_HOME", s.join("home/.cache"))
            .env("XDG_DATA_HOME", s.join("home/.local/share"))
            .env("KUBECONFIG", s.join("no-kubeconfig"))
            .env("HELM_CACHE_HOME", s.join("helm/cache"))
            .env("HELM_CONFIG_HOME", s.join("helm/config"))
            .env("HELM_DATA_HOME", s.join("helm/data"))
            .env("HELM_PLUGINS", s.join("plugins"))
            .env("KUSTOMIZE_PLUGIN_HOME", s.join("plugins"))
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("LANG", "C");
        if self.allow_network {
            for key in [
                "HTTP_PROXY",
                "HTTPS_PROXY",
                "NO_PROXY",
                "http_proxy",
                "https_proxy",
                "no_proxy",
            ] {
                if let Some(v) = std::env::var_os(key) {
                    inv = inv.env(key, v);
                }
            }
        } else {
            // Every HTTP(S) request goes to a closed local port and fails.
            let nowhere = OsString::from("http://127.0.0.1:9");
            for key in [
                "HTTP_PROXY",
                "HTTPS_PROXY",
                "ALL_PROXY",
                "http_proxy",
                "https_proxy",
                "all_proxy",
            ] {
                inv = inv.env(key, nowhere.clone());
            }
            inv = inv.env("NO_PROXY", "").env("no_proxy", "");
        }
        inv
    }
}

/// `name` on `PATH`, if it is an executable file.
pub fn which(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

fn binary_fingerprint(path: Option<&Path>) -> String {
    let Some(path) = path else {
        return "none".into();
    };
    let canonical = path.canonicalize().unwrap_or_else(|_| path.to_owned());
    match std::fs::metadata(&canonical) {
        Ok(m) => {
            let modified = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            format!("{}:{}:{}", canonical.display(), m.len(), modified)
        }
        Err(_) => format!("{}:missing", canonical.display()),
    }
}
