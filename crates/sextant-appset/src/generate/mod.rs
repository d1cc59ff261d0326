//! Generators: from a set's `generators` to its parameter sets.
//!
//! Generation reads Git through [`Repos`] (the controller's Git cache, or a
//! folder for `sextant appset generate`) and the clusters it is given; it
//! is otherwise pure, so the same code runs in the controller and the CLI.

mod clusters;
mod git;
mod list;
mod selector;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;
use sextant_model::appset::{CombiningGenerator, Generator};

use crate::params::{Params, lookup, text};
use crate::template::Renderer;

pub use selector::matches as selector_matches;

/// A cluster a clusters generator can produce.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cluster {
    /// Its name (`in-cluster` for the local one).
    pub name: String,
    /// Its API server URL.
    pub server: String,
    /// The project its Secret names, if any.
    pub project: String,
    /// The Secret's labels.
    pub labels: BTreeMap<String, String>,
    /// The Secret's annotations.
    pub annotations: BTreeMap<String, String>,
    /// The cluster Sextant runs in (it has no Secret).
    pub local: bool,
}

impl Cluster {
    /// The cluster Sextant runs in.
    pub fn local() -> Self {
        Cluster {
            name: "in-cluster".into(),
            server: "https://kubernetes.default.svc".into(),
            local: true,
            ..Cluster::default()
        }
    }
}

/// Git as the generators read it.
pub trait Repos {
    /// A folder holding `repo` at `revision` (read-only), or why not.
    fn checkout(&self, repo: &str, revision: &str) -> Result<PathBuf, String>;
}

/// What generation reads.
pub struct Context<'a> {
    /// Git.
    pub repos: &'a dyn Repos,
    /// The clusters known.
    pub clusters: &'a [Cluster],
    /// How templates in generators (a matrix's second child, `values`)
    /// are rendered.
    pub render: Renderer,
}

/// Run every generator of a set, in order, and concatenate their sets.
pub fn generate_all(ctx: &Context<'_>, generators: &[Generator]) -> Result<Vec<Params>, String> {
    if generators.is_empty() {
        return Err("spec.generators is empty: add at least one generator".into());
    }
    let mut out = Vec::new();
    for (i, g) in generators.iter().enumerate() {
        let sets = generate(ctx, g).map_err(|e| format!("generators[{i}]: {e}"))?;
        out.extend(sets);
    }
    Ok(out)
}

/// Run one generator, then its selector.
pub fn generate(ctx: &Context<'_>, g: &Generator) -> Result<Vec<Params>, String> {
    let kinds = [
        g.list.is_some(),
        g.clusters.is_some(),
        g.git.is_some(),
        g.matrix.is_some(),
        g.merge.is_some(),
    ];
    match kinds.iter().filter(|k| **k).count() {
        1 => {}
        0 => return Err("sets none of list, clusters, git, matrix, merge".into()),
        _ => return Err("sets more than one of list, clusters, git, matrix, merge: split it into several generators".into()),
    }
    let sets = if let Some(l) = &g.list {
        list::generate(l)?
    } else if let Some(c) = &g.clusters {
        clusters::generate(ctx, c)?
    } else if let Some(gg) = &g.git {
        git::generate(ctx, gg)?
    } else if let Some(m) = &g.matrix {
        matrix(ctx, m).map_err(|e| format!("matrix: {e}"))?
    } else if let Some(m) = &g.merge {
        merge(ctx, m).map_err(|e| format!("merge: {e}"))?
    } else {
        Vec::new()
    };
    match &g.selector {
        Some(sel) => {
            let mut kept = Vec::with_capacity(sets.len());
            for p in sets {
                if selector::matches(sel, &p)? {
                    kept.push(p);
                }
            }
            Ok(kept)
        }
        None => Ok(sets),
    }
}

/// Every set of the first child combined with every set the second child
/// makes when its own templates are rendered with the first one's set.
fn matrix(ctx: &Context<'_>, m: &CombiningGenerator) -> Result<Vec<Params>, String> {
    let [first, second] = m.generators.as_slice() else {
        return Err(format!(
            "has {} child generators; a matrix combines exactly two",
            m.generators.len()
        ));
    };
    let firsts = generate(ctx, first).map_err(|e| format!("generators[0]: {e}"))?;
    let raw = serde_json::to_value(second).map_err(|e| e.to_string())?;
    let templated = raw.to_string().contains("{{");
    let fixed = if templated {
        None
    } else {
        Some(generate(ctx, second).map_err(|e| format!("generators[1]: {e}"))?)
    };
    let mut out = Vec::new();
    for p in &firsts {
        let seconds = match &fixed {
            Some(s) => s.clone(),
            None => {
                let rendered = ctx
                    .render
                    .value(&raw, p)
                    .map_err(|e| format!("generators[1]: {e}"))?;
                let g: Generator = serde_json::from_value(rendered)
                    .map_err(|e| format!("generators[1] is not a generator once rendered: {e}"))?;
                generate(ctx, &g).map_err(|e| format!("generators[1]: {e}"))?
            }
        };
        for q in seconds {
            let mut both = p.clone();
            both.extend(q);
            out.push(both);
        }
    }
    Ok(out)
}

/// The first child's sets, each extended with the sets of the others that
/// have the same values for every merge key (later children win).
fn merge(ctx: &Context<'_>, m: &CombiningGenerator) -> Result<Vec<Params>, String> {
    if m.merge_keys.is_empty() {
        return Err("mergeKeys is empty: name the parameters that identify a set".into());
    }
    let Some((base, others)) = m.generators.split_first() else {
        return Err("has no child generators".into());
    };
    let key = |p: &Params| -> Option<Vec<String>> {
        m.merge_keys
            .iter()
            .map(|k| lookup(p, k).map(text))
            .collect()
    };
    let mut sets = generate(ctx, base).map_err(|e| format!("generators[0]: {e}"))?;
    for (i, other) in others.iter().enumerate() {
        let theirs = generate(ctx, other).map_err(|e| format!("generators[{}]: {e}", i + 1))?;
        let mut by_key: BTreeMap<Vec<String>, Params> = BTreeMap::new();
        for p in theirs {
            if let Some(k) = key(&p) {
                by_key.insert(k, p);
            }
        }
        for set in &mut sets {
            if let Some(k) = key(set)
                && let Some(extra) = by_key.get(&k)
            {
                deep_extend(set, extra);
            }
        }
    }
    Ok(sets)
}

/// `extra`'s keys over `base`'s, nested objects merged key by key.
fn deep_extend(base: &mut Params, extra: &Params) {
    for (k, v) in extra {
        match (base.get_mut(k), v) {
            (Some(Value::Object(b)), Value::Object(e)) => deep_extend(b, e),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

/// The shortest `requeueAfterSeconds` among the generators, nested ones
/// included.
pub fn requeue_after(generators: &[Generator]) -> Option<u64> {
    generators
        .iter()
        .filter_map(|g| {
            let own = g.git.as_ref().and_then(|x| x.requeue_after_seconds);
            let nested = g
                .matrix
                .as_ref()
                .or(g.merge.as_ref())
                .and_then(|c| requeue_after(&c.generators));
            own.into_iter().chain(nested).min()
        })
        .min()
}

/// Add `values` (each rendered with the set's other parameters) under
/// `values`.
fn add_values(
    ctx: &Context<'_>,
    params: &mut Params,
    values: &BTreeMap<String, String>,
) -> Result<(), String> {
    if values.is_empty() {
        return Ok(());
    }
    let mut rendered = serde_json::Map::new();
    for (k, v) in values {
        rendered.insert(k.clone(), Value::String(ctx.render.string(v, params)?));
    }
    params.insert("values".into(), Value::Object(rendered));
    Ok(())
}

#[cfg(test)]
mod tests;
