//! One Jsonnet evaluation, in this thread: a file of a checkout, with the
//! app's libraries, external variables and top-level arguments, to JSON
//! text. Imports are confined to the checkout (see [`super::imports`]);
//! errors carry the file and line, relative to the checkout.

use std::path::{Path, PathBuf};

use jrsonnet_evaluator::function::TlaArg;
use jrsonnet_evaluator::gc::GcHashMap;
use jrsonnet_evaluator::manifest::JsonFormat;
use jrsonnet_evaluator::parser::{ParserSettings, Source};
use jrsonnet_evaluator::trace::{CompactFormat, PathResolver, TraceFormat};
use jrsonnet_evaluator::{IStr, State, apply_tla};
use serde::{Deserialize, Serialize};

use super::imports::CheckoutImports;
use crate::options::JsonnetVar;

/// How deep Jsonnet calls may nest (go-jsonnet's default; jrsonnet's own
/// is 200, too shallow for libraries such as kube-libsonnet).
const MAX_STACK: usize = 500;

/// What to evaluate: everything a child process needs, so it can be
/// passed as one argument.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// The checkout.
    pub root: PathBuf,
    /// The file, relative to the checkout.
    pub file: String,
    /// Library folders, relative to the checkout (`directory.jsonnet.libs`).
    pub libs: Vec<String>,
    /// `std.extVar` values.
    pub ext_vars: Vec<JsonnetVar>,
    /// Top-level arguments, when the file is a function.
    pub tlas: Vec<JsonnetVar>,
}

/// Evaluate `job` and manifest the result as JSON, or say why not (the
/// message names file, line and column, and the call trace).
pub fn evaluate(job: &Job) -> Result<String, String> {
    let root = job
        .root
        .canonicalize()
        .map_err(|e| format!("could not open the checkout: {e}"))?;
    let libs = job
        .libs
        .iter()
        .map(|l| lib_folder(&root, l))
        .collect::<Result<Vec<_>, _>>()?;
    let resolver = PathResolver::Relative(root.clone());
    let context = jrsonnet_stdlib::ContextInitializer::new(resolver.clone());
    for var in &job.ext_vars {
        if var.code {
            context
                .add_ext_code(&var.name, &var.value)
                .map_err(|e| format!("extVar {}: {e}", var.name))?;
        } else {
            context.add_ext_str(var.name.as_str().into(), var.value.as_str().into());
        }
    }
    let mut tlas: GcHashMap<IStr, TlaArg> = GcHashMap::new();
    for v in &job.tlas {
        let arg = if v.code {
            let source =
                Source::new_virtual(format!("<tla:{}>", v.name).into(), v.value.as_str().into());
            let parsed = jrsonnet_evaluator::parser::parse(&v.value, &ParserSettings { source })
                .map_err(|e| format!("TLA {}: {e}", v.name))?;
            TlaArg::Code(parsed)
        } else {
            TlaArg::String(v.value.as_str().into())
        };
        tlas.insert(v.name.as_str().into(), arg);
    }
    let state = {
        let mut builder = State::builder();
        builder
            .import_resolver(CheckoutImports::new(root.clone(), libs))
            .context_initializer(context);
        builder.build()
    };
    let format = CompactFormat {
        resolver,
        max_trace: 20,
        padding: 4,
    };
    let explain =
        |e: jrsonnet_evaluator::Error| format.format(&e).unwrap_or_else(|_| e.to_string());
    let _depth = jrsonnet_evaluator::stack::limit_stack_depth(MAX_STACK);
    let file = root.join(&job.file);
    let value = state.import(file.as_path()).map_err(explain)?;
    let value = apply_tla(state.clone(), &tlas, value).map_err(explain)?;
    value.manifest(JsonFormat::minify()).map_err(explain)
}

/// A library folder of the checkout, refused when it leaves it.
fn lib_folder(root: &Path, lib: &str) -> Result<PathBuf, String> {
    let joined = root.join(lib.trim_start_matches('/'));
    let folder = joined.canonicalize().map_err(|_| {
        format!(
            "Jsonnet library folder `{lib}` does not exist in the repository (libs are relative to the repository root)"
        )
    })?;
    if !folder.starts_with(root) || !folder.is_dir() {
        return Err(format!(
            "Jsonnet library folder `{lib}` is not a folder inside the repository"
        ));
    }
    Ok(folder)
}
