//! Whether a plugin's discovery rule matches a source folder: a one-level
//! glob (`fileName`), a glob across folders (`find.glob`) or a command
//! that succeeds and prints something (`find.command`), the first one set.

use std::path::Path;

use super::generate::{self, WorkTree};
use super::{Plugin, PluginError};
use crate::glob::Glob;
use crate::options::RenderOptions;
use crate::tools::Tools;

/// Whether `plugin`'s rule matches the source at `folder` of `root`.
pub(super) fn matches(
    root: &Path,
    folder: &Path,
    plugin: &Plugin,
    options: &RenderOptions,
    tools: &Tools,
    work: &mut WorkTree,
) -> Result<bool, PluginError> {
    let Some(rule) = &plugin.discover else {
        return Ok(false);
    };
    let dir = root.join(folder);
    let compile = |pattern: &str| {
        Glob::new(pattern).map_err(|source| PluginError::Pattern {
            plugin: plugin.name.clone(),
            source,
        })
    };
    if let Some(pattern) = rule.file_name.as_deref().filter(|s| !s.is_empty()) {
        let segments: Vec<&str> = pattern
            .split('/')
            .filter(|s| !s.is_empty() && *s != ".")
            .collect();
        if segments.contains(&"..") || pattern.starts_with('/') {
            return Ok(false);
        }
        let globs = segments
            .iter()
            .map(|s| compile(s))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(level_by_level(&dir, &globs));
    }
    if let Some(pattern) = rule.find_glob.as_deref().filter(|s| !s.is_empty()) {
        let pattern = pattern.trim_start_matches("./");
        if pattern.split('/').any(|s| s == "..") || pattern.starts_with('/') {
            return Ok(false);
        }
        let glob = compile(pattern)?;
        let top_only = !pattern.contains('/');
        let mut found = false;
        walk(&dir, "", &mut |rel, depth| {
            if !(top_only && depth > 1) && glob.matches(rel) {
                found = true;
            }
            !found
        });
        return Ok(found);
    }
    if let Some(command) = &rule.find_command {
        let cwd = work.folder(root, folder, plugin)?;
        let out = generate::run_step(plugin, "discover", command, &cwd, options, tools);
        return Ok(match out {
            Ok(out) => !String::from_utf8_lossy(&out.stdout).trim().is_empty(),
            // A failing command means "not mine"; a missing program or a
            // timeout is the plugin's fault, and said.
            Err(PluginError::Run {
                source: crate::runner::RunError::Failed { .. },
                ..
            }) => false,
            Err(e) => return Err(e),
        });
    }
    Ok(false)
}

/// Go's `filepath.Glob` of the segments under `dir`: each segment matches
/// one level, files and folders alike.
fn level_by_level(dir: &Path, globs: &[Glob]) -> bool {
    let Some((first, rest)) = globs.split_first() else {
        return true;
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|entry| {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !first.matches(&name) {
            return false;
        }
        rest.is_empty()
            || (entry.file_type().is_ok_and(|t| t.is_dir()) && level_by_level(&entry.path(), rest))
    })
}

/// Visit every entry under `dir` (symbolic links are not followed) with
/// its `/`-separated path and depth; stops when `visit` says so.
fn walk(dir: &Path, prefix: &str, visit: &mut dyn FnMut(&str, usize) -> bool) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return true;
    };
    let depth = prefix.matches('/').count() + 1;
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == ".git" {
            continue;
        }
        let rel = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        if !visit(&rel, depth) {
            return false;
        }
        if entry.file_type().is_ok_and(|t| t.is_dir()) && !walk(&entry.path(), &rel, visit) {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::{Discover, PluginCommand};
    use crate::tools::ToolConfig;

    fn plugin(discover: Discover) -> Plugin {
        Plugin {
            name: "p".into(),
            generate: PluginCommand {
                command: vec!["true".into()],
                args: vec![],
            },
            discover: Some(discover),
            ..Plugin::default()
        }
    }

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let app = dir.path().join("apps/web");
        std::fs::create_dir_all(app.join("subdir/deep")).unwrap();
        std::fs::write(app.join("subdir/settings.yaml"), "a: 1").unwrap();
        std::fs::write(app.join("subdir/deep/Chart.yaml"), "name: x").unwrap();
        std::fs::write(app.join("app.cue"), "x: 1").unwrap();
        dir
    }

    fn check(d: Discover) -> bool {
        let dir = tree();
        let tools = Tools::new(ToolConfig::default()).unwrap();
        let mut work = WorkTree::default();
        matches(
            dir.path(),
            Path::new("apps/web"),
            &plugin(d),
            &RenderOptions::default(),
            &tools,
            &mut work,
        )
        .unwrap()
    }

    fn file_name(p: &str) -> Discover {
        Discover {
            file_name: Some(p.into()),
            ..Discover::default()
        }
    }

    fn find_glob(p: &str) -> Discover {
        Discover {
            find_glob: Some(p.into()),
            ..Discover::default()
        }
    }

    #[test]
    fn file_name_matches_one_level_at_a_time_from_the_source_folder() {
        assert!(check(file_name("./subdir/s*.yaml")));
        assert!(check(file_name("*.cue")));
        assert!(!check(file_name("Chart.yaml")), "not one level deep");
        assert!(!check(file_name("subdir/*.json")));
        assert!(!check(file_name("../web/app.cue")), "never outside");
    }

    #[test]
    fn find_glob_crosses_folders_with_double_stars_only() {
        assert!(check(find_glob("**/Chart.yaml")));
        assert!(check(find_glob("*.cue")));
        assert!(
            !check(find_glob("Chart.yaml")),
            "a bare name is the top level"
        );
        assert!(!check(find_glob("**/*.jsonnet")));
    }

    #[test]
    fn find_command_matches_when_it_succeeds_and_prints() {
        let cmd = |script: &str| Discover {
            find_command: Some(PluginCommand {
                command: vec!["sh".into(), "-c".into(), script.into()],
                args: vec![],
            }),
            ..Discover::default()
        };
        assert!(check(cmd("find . -name '*.cue'")));
        assert!(!check(cmd("find . -name '*.jsonnet'")), "no output");
        assert!(!check(cmd("echo yes; exit 1")), "failed");
    }
}
