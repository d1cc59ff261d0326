//! Running a plugin: a private copy of the checkout (plugins write files,
//! e.g. `helm dependency build`; the snapshot is shared and must stay as
//! Git has it), then init and generate in the source folder, each through
//! the runner with the tools' sandbox environment plus what Argo CD gives
//! a plugin: the build environment, the app's variables prefixed
//! `ARGOCD_ENV_`, and its parameters (`ARGOCD_APP_PARAMETERS` and
//! `PARAM_*`).

use std::path::{Path, PathBuf};

use super::{Plugin, PluginCommand, PluginError, PluginParameter};
use crate::build_env::substitute;
use crate::options::RenderOptions;
use crate::runner::{self, Output};
use crate::tools::{Tools, which};

/// The private copy of a checkout plugins run in, made on first need and
/// removed when dropped.
#[derive(Debug, Default)]
pub struct WorkTree {
    copy: Option<(tempfile::TempDir, bool)>,
}

impl WorkTree {
    /// The source folder in the copy, making the copy (file modes reset
    /// unless `plugin` keeps them) if there is none of that kind yet.
    pub(super) fn folder(
        &mut self,
        root: &Path,
        folder: &Path,
        plugin: &Plugin,
    ) -> Result<PathBuf, PluginError> {
        let keep_modes = plugin.preserve_file_mode;
        let fresh = !matches!(&self.copy, Some((_, k)) if *k == keep_modes);
        if fresh {
            let failed = |source| PluginError::WorkTree {
                plugin: plugin.name.clone(),
                source,
            };
            let dir = tempfile::Builder::new()
                .prefix("sextant-plugin-")
                .tempdir()
                .map_err(failed)?;
            copy_tree(root, dir.path(), keep_modes).map_err(failed)?;
            self.copy = Some((dir, keep_modes));
        }
        match &self.copy {
            Some((dir, _)) => Ok(dir.path().join(folder)),
            None => Err(PluginError::WorkTree {
                plugin: plugin.name.clone(),
                source: std::io::Error::other("no copy"),
            }),
        }
    }
}

/// Copy `from` into `to`, leaving out `.git`; symbolic links are copied
/// as links (the snapshot's links are known to stay inside it).
fn copy_tree(from: &Path, to: &Path, keep_modes: bool) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if name == ".git" {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        let kind = entry.file_type()?;
        if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&src)?, &dst)?;
        } else if kind.is_dir() {
            std::fs::create_dir(&dst)?;
            copy_tree(&src, &dst, keep_modes)?;
        } else if kind.is_file() {
            std::fs::copy(&src, &dst)?;
            if !keep_modes {
                std::fs::set_permissions(&dst, std::fs::Permissions::from_mode(0o644))?;
            }
        }
    }
    Ok(())
}

/// Run `plugin`'s init (if any) and generate commands for the source at
/// `folder` of `root`; the objects it printed, and its standard error.
pub fn generate(
    root: &Path,
    folder: &Path,
    plugin: &Plugin,
    options: &RenderOptions,
    tools: &Tools,
    work: &mut WorkTree,
) -> Result<(String, String), PluginError> {
    let cwd = work.folder(root, folder, plugin)?;
    if let Some(init) = &plugin.init {
        run_step(plugin, "init", init, &cwd, options, tools)?;
    }
    let out = run_step(plugin, "generate", &plugin.generate, &cwd, options, tools)?;
    Ok((
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.stderr,
    ))
}

/// Run one command of `plugin` in `cwd`.
pub(super) fn run_step(
    plugin: &Plugin,
    step: &'static str,
    command: &PluginCommand,
    cwd: &Path,
    options: &RenderOptions,
    tools: &Tools,
) -> Result<Output, PluginError> {
    let mut argv = command.argv();
    let program = argv.next().ok_or_else(|| PluginError::EmptyCommand {
        plugin: plugin.name.clone(),
        step,
    })?;
    let not_found = || PluginError::ProgramNotFound {
        plugin: plugin.name.clone(),
        step,
        program: program.to_owned(),
    };
    let path = if program.starts_with('/') {
        Some(PathBuf::from(program)).filter(|p| p.is_file())
    } else if program.contains('/') {
        None
    } else {
        which(program)
    };
    let path = path.ok_or_else(not_found)?;
    let mut invocation = tools.invocation(&path, cwd).args(argv);
    for (key, value) in environment(options) {
        invocation = invocation.env(&key, value);
    }
    runner::run(&invocation, tools.limits()).map_err(|source| PluginError::Run {
        plugin: plugin.name.clone(),
        step,
        source,
    })
}

/// What a plugin's commands get besides the sandbox: the build
/// environment, `KUBE_API_VERSIONS`, the app's variables as
/// `ARGOCD_ENV_<name>` (the build environment substituted in them) and its
/// parameters.
pub(super) fn environment(options: &RenderOptions) -> Vec<(String, String)> {
    let vars = options
        .build_env
        .as_ref()
        .map(|env| env.vars(&env.revision))
        .unwrap_or_default();
    let mut out: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    if !options.helm.api_versions.is_empty() {
        out.push((
            "KUBE_API_VERSIONS".to_owned(),
            options.helm.api_versions.join(","),
        ));
    }
    let Some(asked) = &options.plugin else {
        return out;
    };
    for e in &asked.env {
        out.push((
            format!("ARGOCD_ENV_{}", e.name),
            substitute(&e.value, &vars),
        ));
    }
    if !asked.parameters.is_empty() {
        out.push((
            "ARGOCD_APP_PARAMETERS".to_owned(),
            serde_json::to_string(&asked.parameters).unwrap_or_default(),
        ));
        for p in &asked.parameters {
            out.extend(parameter_vars(p));
        }
    }
    out
}

/// `PARAM_<NAME>` for a string, `PARAM_<NAME>_<i>` for each item of an
/// array, `PARAM_<NAME>_<KEY>` for each entry of a map; names upper-cased
/// with anything but letters and digits made `_`.
fn parameter_vars(p: &PluginParameter) -> Vec<(String, String)> {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect()
    };
    let base = format!("PARAM_{}", clean(&p.name));
    let mut out = Vec::new();
    if let Some(s) = &p.string {
        out.push((base.clone(), s.clone()));
    }
    for (i, item) in p.array.iter().flatten().enumerate() {
        out.push((format!("{base}_{i}"), item.clone()));
    }
    for (k, v) in p.map.iter().flatten() {
        out.push((format!("{base}_{}", clean(k)), v.clone()));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::build_env::BuildEnv;
    use crate::plugin::{PluginEnv, PluginSource};

    #[test]
    fn the_environment_has_the_build_variables_prefixed_app_variables_and_parameters() {
        let options = RenderOptions {
            build_env: Some(BuildEnv {
                app_name: "web".into(),
                project: "shop".into(),
                revision: "0123456789".into(),
                ..BuildEnv::default()
            }),
            plugin: Some(PluginSource {
                name: None,
                env: vec![PluginEnv {
                    name: "REV".into(),
                    value: "r-$ARGOCD_APP_REVISION_SHORT".into(),
                }],
                parameters: vec![
                    PluginParameter {
                        name: "values-files".into(),
                        array: Some(vec!["a.yaml".into(), "b.yaml".into()]),
                        ..PluginParameter::default()
                    },
                    PluginParameter {
                        name: "helm-parameters".into(),
                        map: Some(BTreeMap::from([("image.tag".into(), "v1.2.3".into())])),
                        ..PluginParameter::default()
                    },
                    PluginParameter {
                        name: "mode".into(),
                        string: Some("fast".into()),
                        ..PluginParameter::default()
                    },
                ],
            }),
            ..RenderOptions::default()
        };
        let env: BTreeMap<String, String> = environment(&options).into_iter().collect();
        assert_eq!(env["ARGOCD_APP_NAME"], "web");
        assert_eq!(env["ARGOCD_APP_PROJECT_NAME"], "shop");
        assert_eq!(env["ARGOCD_ENV_REV"], "r-0123456");
        assert!(!env.contains_key("REV"), "never unprefixed");
        assert_eq!(env["PARAM_VALUES_FILES_0"], "a.yaml");
        assert_eq!(env["PARAM_VALUES_FILES_1"], "b.yaml");
        assert_eq!(env["PARAM_HELM_PARAMETERS_IMAGE_TAG"], "v1.2.3");
        assert_eq!(env["PARAM_MODE"], "fast");
        assert_eq!(
            env["ARGOCD_APP_PARAMETERS"],
            r#"[{"name":"values-files","array":["a.yaml","b.yaml"]},{"name":"helm-parameters","map":{"image.tag":"v1.2.3"}},{"name":"mode","string":"fast"}]"#
        );
    }

    #[test]
    fn the_copy_leaves_out_git_and_resets_modes_unless_kept() {
        use std::os::unix::fs::PermissionsExt;
        let src = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(src.path().join(".git")).unwrap();
        std::fs::create_dir_all(src.path().join("app")).unwrap();
        let script = src.path().join("app/gen.sh");
        std::fs::write(&script, "echo hi").unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mode = |keep: bool| {
            let mut work = WorkTree::default();
            let plugin = Plugin {
                preserve_file_mode: keep,
                ..Plugin::default()
            };
            let dir = work.folder(src.path(), Path::new("app"), &plugin).unwrap();
            assert!(!dir.join("../.git").exists());
            std::fs::metadata(dir.join("gen.sh"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(mode(false), 0o644);
        assert_eq!(mode(true), 0o755);
    }
}
