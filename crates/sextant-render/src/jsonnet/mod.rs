//! Jsonnet, as Argo CD renders it: every `.jsonnet` file of a plain
//! directory (never `.libsonnet`) is evaluated with the app's
//! `directory.jsonnet` libs, extVars and TLAs, and must give an object or
//! an array of objects.
//!
//! The evaluation (jrsonnet, in [`eval`]) runs in a child process when the
//! tools know a program that embeds Sextant (`ToolConfig::jsonnet_exe`,
//! the `sextant` binary re-running itself): the child caps its memory and
//! the runner its time and output, so a runaway program fails its app
//! alone. Without one (library use, tests), it runs on a thread of this
//! process with the same time limit and no memory cap.

mod child;
mod eval;
mod imports;

use std::path::Path;
use std::sync::mpsc;

use serde_json::Value;

pub use child::{CHILD_COMMAND, run_if_child};
use eval::Job;

use crate::manifest::Document;
use crate::options::JsonnetOptions;
use crate::runner::{self, RunError};
use crate::tools::Tools;

/// Why a Jsonnet file gave no objects.
#[derive(Debug, thiserror::Error)]
pub enum JsonnetError {
    /// The program failed: syntax, a runtime error, an import refused.
    #[error("Jsonnet `{file}` failed: {message}")]
    Eval {
        /// The file, relative to the repository.
        file: String,
        /// The evaluator's message, with file, line and trace.
        message: String,
    },
    /// It ran longer than the tools' timeout.
    #[error("Jsonnet `{file}` did not finish within {seconds} s and was stopped")]
    Timeout {
        /// The file.
        file: String,
        /// The limit.
        seconds: u64,
    },
    /// It needed more memory than an evaluation may use.
    #[error(
        "Jsonnet `{file}` needed more than the {mib} MiB an evaluation may use and was stopped (raise --jsonnet-max-memory if it is meant)"
    )]
    OutOfMemory {
        /// The file.
        file: String,
        /// The cap.
        mib: u64,
    },
    /// The child process could not be run.
    #[error("Jsonnet `{file}` could not be evaluated")]
    Run {
        /// The file.
        file: String,
        /// Why.
        #[source]
        source: RunError,
    },
    /// The result is not Kubernetes objects.
    #[error("Jsonnet `{file}` must give an object or an array of objects, but {found}")]
    NotObjects {
        /// The file.
        file: String,
        /// What it gave instead.
        found: String,
    },
}

/// Evaluate the `.jsonnet` file `file` (relative to the checkout `root`)
/// into documents, numbered from 1 in the order of the result.
pub fn render_file(
    root: &Path,
    file: &str,
    options: &JsonnetOptions,
    tools: &Tools,
) -> Result<Vec<Document>, JsonnetError> {
    // The child runs in the checkout: a relative root would not name it.
    let root = std::path::absolute(root).unwrap_or_else(|_| root.to_owned());
    let job = Job {
        root,
        file: file.to_owned(),
        libs: options.libs.clone(),
        ext_vars: options.ext_vars.clone(),
        tlas: options.tlas.clone(),
    };
    let json = match tools.jsonnet_exe() {
        Some(exe) => in_child(exe, &job, tools)?,
        None => on_thread(job, tools)?,
    };
    let value: Value = serde_json::from_str(&json).map_err(|e| JsonnetError::NotObjects {
        file: file.to_owned(),
        found: format!("its output is not JSON ({e})"),
    })?;
    let mut docs = Vec::new();
    collect(file, value, &mut docs)?;
    Ok(docs)
}

fn in_child(exe: &Path, job: &Job, tools: &Tools) -> Result<String, JsonnetError> {
    let file = job.file.clone();
    let spec = serde_json::to_string(job).map_err(|e| JsonnetError::Eval {
        file: file.clone(),
        message: format!("could not describe the job: {e}"),
    })?;
    let invocation = tools
        .invocation(exe, &job.root)
        .arg(CHILD_COMMAND)
        .arg(spec)
        .arg(tools.jsonnet_max_memory().to_string());
    match runner::run(&invocation, tools.limits()) {
        Ok(out) => String::from_utf8(out.stdout).map_err(|_| JsonnetError::NotObjects {
            file,
            found: "its output is not UTF-8".into(),
        }),
        Err(RunError::Timeout { seconds, .. }) => Err(JsonnetError::Timeout { file, seconds }),
        Err(RunError::Failed { stderr, status, .. })
            if out_of_memory(&stderr)
                || status.contains(&format!("exit status: {}", child::OUT_OF_MEMORY)) =>
        {
            tracing::debug!(%status, "jsonnet child ran out of memory");
            Err(JsonnetError::OutOfMemory {
                file,
                mib: tools.jsonnet_max_memory() >> 20,
            })
        }
        Err(RunError::Failed { stderr, status, .. })
            if status.contains(&format!("exit status: {}", child::EVAL_FAILED)) =>
        {
            Err(JsonnetError::Eval {
                file,
                message: stderr.trim().to_owned(),
            })
        }
        Err(source) => Err(JsonnetError::Run { file, source }),
    }
}

/// What Rust prints when an allocation fails (the child's address space
/// is capped, so a runaway program ends there).
fn out_of_memory(stderr: &str) -> bool {
    stderr.contains("memory allocation of") || stderr.contains("out of memory")
}

fn on_thread(job: Job, tools: &Tools) -> Result<String, JsonnetError> {
    let file = job.file.clone();
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("jsonnet".into())
        .spawn(move || {
            let _ = tx.send(eval::evaluate(&job));
        });
    if let Err(e) = spawned {
        return Err(JsonnetError::Eval {
            file,
            message: format!("could not start an evaluation thread: {e}"),
        });
    }
    let timeout = tools.limits().timeout;
    match rx.recv_timeout(timeout) {
        Ok(Ok(json)) => Ok(json),
        Ok(Err(message)) => Err(JsonnetError::Eval { file, message }),
        Err(mpsc::RecvTimeoutError::Timeout) => Err(JsonnetError::Timeout {
            file,
            seconds: timeout.as_secs(),
        }),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(JsonnetError::Eval {
            file,
            message: "the evaluator stopped unexpectedly".into(),
        }),
    }
}

/// The objects of a result: an object, or arrays (nested too) of objects;
/// `null` gives none.
fn collect(file: &str, value: Value, docs: &mut Vec<Document>) -> Result<(), JsonnetError> {
    match value {
        Value::Null => Ok(()),
        Value::Object(_) => {
            docs.push(Document {
                index: docs.len() + 1,
                value,
            });
            Ok(())
        }
        Value::Array(items) => {
            for item in items {
                collect(file, item, docs)?;
            }
            Ok(())
        }
        other => Err(JsonnetError::NotObjects {
            file: file.to_owned(),
            found: format!("it gave {}", kind_of(&other)),
        }),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        _ => "something else",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn objects_and_nested_arrays_of_objects_are_documents_and_null_is_none() {
        let mut docs = Vec::new();
        collect("a.jsonnet", json!([{"a": 1}, [{"b": 2}, null]]), &mut docs).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].value, json!({"b": 2}));
        assert_eq!(docs[1].index, 2);
        let err = collect("a.jsonnet", json!(["x"]), &mut Vec::new()).unwrap_err();
        assert!(err.to_string().contains("a string"), "{err}");
    }

    #[test]
    fn a_failed_allocation_is_recognised_as_out_of_memory() {
        assert!(out_of_memory("memory allocation of 1048576 bytes failed\n"));
        assert!(!out_of_memory("RUNTIME ERROR: boom"));
    }
}
