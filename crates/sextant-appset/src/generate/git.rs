//! The git generator: the directories of a repository matching its
//! patterns, or the content of the files matching them.

use std::path::Path;

use serde_json::Value;
use sextant_model::appset::{GitGenerator, GitPathPattern};
use sextant_render::Glob;

use super::{Context, add_values};
use crate::params::{Params, path_params};

/// Folders and files at most this deep are looked at (a guard against a
/// repository built to make the walk endless).
const MAX_DEPTH: usize = 32;

pub fn generate(ctx: &Context<'_>, g: &GitGenerator) -> Result<Vec<Params>, String> {
    let repo = g.repo_url.trim();
    if repo.is_empty() {
        return Err("git: repoURL is empty".into());
    }
    let which = match (g.directories.is_empty(), g.files.is_empty()) {
        (false, true) => Which::Directories,
        (true, false) => Which::Files,
        (true, true) => return Err("git: set directories or files".into()),
        (false, false) => {
            return Err("git: set directories or files, not both (use two generators)".into());
        }
    };
    let revision = match g.revision.trim() {
        "" => "HEAD",
        r => r,
    };
    let root = ctx
        .repos
        .checkout(repo, revision)
        .map_err(|e| format!("git: {repo} at {revision}: {e}"))?;
    let mut entries = Vec::new();
    walk(&root, "", 0, &mut entries).map_err(|e| format!("git: reading {repo}: {e}"))?;
    let patterns = match which {
        Which::Directories => &g.directories,
        Which::Files => &g.files,
    };
    let compiled = compile(patterns)?;
    let mut out = Vec::new();
    for (rel, is_dir) in entries {
        if is_dir != matches!(which, Which::Directories) || !selected(&compiled, &rel) {
            continue;
        }
        match which {
            Which::Directories => {
                let mut p = Params::new();
                insert_path(&mut p, &g.path_param_prefix, path_params(&rel, false));
                add_values(ctx, &mut p, &g.values).map_err(|e| format!("git: values: {e}"))?;
                out.push(p);
            }
            Which::Files => {
                for mut p in file_sets(&root.join(&rel), &rel)? {
                    insert_path(&mut p, &g.path_param_prefix, path_params(&rel, true));
                    add_values(ctx, &mut p, &g.values).map_err(|e| format!("git: values: {e}"))?;
                    out.push(p);
                }
            }
        }
    }
    Ok(out)
}

enum Which {
    Directories,
    Files,
}

fn insert_path(p: &mut Params, prefix: &str, path: Value) {
    match prefix.trim() {
        "" => {
            p.insert("path".into(), path);
        }
        prefix => {
            let mut inner = Params::new();
            inner.insert("path".into(), path);
            p.insert(prefix.to_owned(), Value::Object(inner));
        }
    }
}

fn compile(patterns: &[GitPathPattern]) -> Result<Vec<(Glob, bool, bool)>, String> {
    patterns
        .iter()
        .map(|p| {
            let pat = p.path.trim().trim_start_matches("./").trim_matches('/');
            Glob::new(pat)
                .map(|g| (g, p.exclude, pat.contains('/')))
                .map_err(|e| format!("git: {e}"))
        })
        .collect()
}

/// Taken in by some include pattern and left out by no exclude pattern.
/// A pattern without `/` names top-level entries only (as `path.Match`
/// would), not names at any depth.
fn selected(patterns: &[(Glob, bool, bool)], rel: &str) -> bool {
    let hit = |(g, _, has_slash): &(Glob, bool, bool)| {
        (*has_slash || !rel.contains('/')) && g.matches(rel)
    };
    patterns.iter().any(|p| !p.1 && hit(p)) && !patterns.iter().any(|p| p.1 && hit(p))
}

/// Every folder and file under `dir` as (path relative to the root, is a
/// folder), `.git` and symbolic links left out, sorted.
fn walk(dir: &Path, rel: &str, depth: usize, out: &mut Vec<(String, bool)>) -> std::io::Result<()> {
    if depth > MAX_DEPTH {
        return Ok(());
    }
    let mut names: Vec<(String, std::fs::FileType)> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter_map(|e| Some((e.file_name().into_string().ok()?, e.file_type().ok()?)))
        .collect();
    names.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, kind) in names {
        if name == ".git" || kind.is_symlink() {
            continue;
        }
        let path = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        if kind.is_dir() {
            out.push((path.clone(), true));
            walk(&dir.join(&name), &path, depth + 1, out)?;
        } else if kind.is_file() {
            out.push((path, false));
        }
    }
    Ok(())
}

/// A file's parameter sets: its object, or one per element of its list.
fn file_sets(file: &Path, rel: &str) -> Result<Vec<Params>, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("git: reading {rel}: {e}"))?;
    let parsed: Value = if rel.ends_with(".json") {
        serde_json::from_str(&text).map_err(|e| format!("git: {rel} is not valid JSON: {e}"))?
    } else {
        serde_yaml_ng::from_str(&text).map_err(|e| format!("git: {rel} is not valid YAML: {e}"))?
    };
    match parsed {
        Value::Object(m) => Ok(vec![m]),
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::Object(m) => Ok(m),
                _ => Err(format!(
                    "git: {rel}: element {i} of its list is not an object"
                )),
            })
            .collect(),
        Value::Null => Ok(vec![Params::new()]),
        _ => Err(format!(
            "git: {rel} holds neither an object nor a list of objects"
        )),
    }
}
