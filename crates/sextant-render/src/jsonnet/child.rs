//! The child side of a sandboxed evaluation: a binary that embeds Sextant
//! (the `sextant` command) re-runs itself as
//! `sextant __jsonnet-eval JOB MAX_MEMORY`; the child caps its own data
//! memory (heap and private mappings, not the binary), evaluates, prints the JSON on standard output and exits, so a
//! runaway program costs one short-lived process, never the controller.

use std::io::Write;
use std::process::ExitCode;

use super::eval::{self, Job};

/// The first argument that makes a binary act as the Jsonnet child.
pub const CHILD_COMMAND: &str = "__jsonnet-eval";

/// Exit code of an evaluation error (the message is on standard error).
pub(crate) const EVAL_FAILED: u8 = 3;

/// Exit code of an evaluation that ran out of its memory where the
/// evaluator panics instead of aborting (an allocation it checks itself).
pub(crate) const OUT_OF_MEMORY: u8 = 4;

/// Run as the Jsonnet child when the arguments say so: `args` are the
/// process arguments after the program name. `None` when they do not
/// start with [`CHILD_COMMAND`] (the binary goes on as usual).
pub fn run_if_child(args: &[std::ffi::OsString]) -> Option<ExitCode> {
    if args.first().is_none_or(|a| a != CHILD_COMMAND) {
        return None;
    }
    Some(run(&args[1..]))
}

fn run(args: &[std::ffi::OsString]) -> ExitCode {
    let fail = |code: u8, message: &str| {
        let _ = writeln!(std::io::stderr(), "{message}");
        ExitCode::from(code)
    };
    let (Some(job), Some(max_memory)) = (
        args.first().and_then(|a| a.to_str()),
        args.get(1).and_then(|a| a.to_str()),
    ) else {
        return fail(2, "usage: __jsonnet-eval JOB-JSON MAX-MEMORY-BYTES");
    };
    let job: Job = match serde_json::from_str(job) {
        Ok(job) => job,
        Err(e) => return fail(2, &format!("the job is not valid: {e}")),
    };
    let Ok(max_memory) = max_memory.parse::<u64>() else {
        return fail(2, "MAX-MEMORY-BYTES is not a number");
    };
    if max_memory > 0 {
        let limit = rustix::process::Rlimit {
            current: Some(max_memory),
            maximum: Some(max_memory),
        };
        if let Err(e) = rustix::process::setrlimit(rustix::process::Resource::Data, limit) {
            return fail(
                2,
                &format!("could not cap the memory of the evaluation: {e}"),
            );
        }
    }
    // A failed allocation inside the evaluator may panic rather than abort:
    // catch it to say what happened instead of printing a backtrace.
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = std::panic::catch_unwind(|| eval::evaluate(&job));
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            if message.contains("is_null") || message.contains("alloc") {
                return fail(OUT_OF_MEMORY, "out of memory");
            }
            return fail(
                EVAL_FAILED,
                &format!("the Jsonnet evaluator stopped on an internal error: {message}"),
            );
        }
    };
    match outcome {
        Ok(json) => {
            let mut out = std::io::stdout().lock();
            if out
                .write_all(json.as_bytes())
                .and_then(|()| out.flush())
                .is_err()
            {
                return ExitCode::from(2);
            }
            ExitCode::SUCCESS
        }
        Err(message) => fail(EVAL_FAILED, &message),
    }
}
