//! The one place Sextant starts a subprocess (helm, kustomize, kubectl):
//! an argument vector (never a shell), a clean environment, a working
//! folder, a timeout and a cap on output. Nothing else in the workspace
//! spawns the tools.

use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Errors from running a tool.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The program could not be started.
    #[error("could not start `{program}`")]
    Spawn {
        /// The program.
        program: String,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
    /// The program ran longer than allowed and was killed.
    #[error("`{program}` did not finish within {seconds} s and was stopped")]
    Timeout {
        /// The program.
        program: String,
        /// The timeout.
        seconds: u64,
    },
    /// The program wrote more than allowed and was killed.
    #[error("`{program}` wrote more than {limit} bytes and was stopped")]
    OutputTooLarge {
        /// The program.
        program: String,
        /// The cap.
        limit: usize,
    },
    /// The program exited unsuccessfully.
    #[error("`{program}` failed ({status}): {stderr}")]
    Failed {
        /// The program.
        program: String,
        /// The exit status.
        status: String,
        /// The end of its standard error.
        stderr: String,
    },
    /// Waiting for the program failed.
    #[error("could not wait for `{program}`")]
    Wait {
        /// The program.
        program: String,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
}

/// Limits applied to every run.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// How long a run may take.
    pub timeout: Duration,
    /// How many bytes of standard output are kept; more kills the run.
    pub max_output: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(90),
            max_output: 64 << 20,
        }
    }
}

/// A command to run: program, arguments, working folder, environment
/// (nothing is inherited).
#[derive(Clone, Debug)]
pub struct Invocation {
    program: PathBuf,
    args: Vec<OsString>,
    cwd: PathBuf,
    env: Vec<(String, OsString)>,
}

impl Invocation {
    /// Run `program` in `cwd` with an empty environment.
    pub fn new(program: &Path, cwd: &Path) -> Self {
        Self {
            program: program.to_owned(),
            args: Vec::new(),
            cwd: cwd.to_owned(),
            env: Vec::new(),
        }
    }

    /// Add an argument.
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Add arguments.
    pub fn args(mut self, args: impl IntoIterator<Item = impl Into<OsString>>) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Set an environment variable.
    pub fn env(mut self, key: &str, value: impl Into<OsString>) -> Self {
        self.env.push((key.to_owned(), value.into()));
        self
    }

    fn name(&self) -> String {
        self.program.file_name().map_or_else(
            || self.program.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    }
}

/// What a successful run printed.
#[derive(Debug)]
pub struct Output {
    /// Standard output.
    pub stdout: Vec<u8>,
    /// Standard error (its last 8 KiB), for warnings.
    pub stderr: String,
}

const STDERR_KEEP: usize = 8 << 10;

/// ETXTBSY: the program file is open for writing somewhere, typically in
/// a child another thread forked while the file was being written (the
/// descriptor lives until that child's exec). It passes within moments.
const TEXT_FILE_BUSY: i32 = 26;

/// Spawn `cmd`, waiting out a busy program file for a short while (tool
/// binaries that were just installed or replaced).
fn spawn(cmd: &mut Command) -> std::io::Result<std::process::Child> {
    let mut attempt = 0;
    loop {
        match cmd.spawn() {
            Err(e) if e.raw_os_error() == Some(TEXT_FILE_BUSY) && attempt < 20 => {
                attempt += 1;
                std::thread::sleep(Duration::from_millis(10 * attempt));
            }
            outcome => return outcome,
        }
    }
}

/// Run `invocation` within `limits`.
pub fn run(invocation: &Invocation, limits: Limits) -> Result<Output, RunError> {
    let program = invocation.name();
    let mut cmd = Command::new(&invocation.program);
    cmd.args(&invocation.args)
        .current_dir(&invocation.cwd)
        .env_clear()
        .envs(invocation.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = spawn(&mut cmd).map_err(|source| RunError::Spawn {
        program: program.clone(),
        source,
    })?;
    let overflow = Arc::new(AtomicBool::new(false));
    let (out_tx, out_rx) = mpsc::channel();
    let (err_tx, err_rx) = mpsc::channel();
    if let Some(stdout) = child.stdout.take() {
        let overflow = overflow.clone();
        let cap = limits.max_output;
        std::thread::spawn(move || {
            let _ = out_tx.send(read_capped(stdout, cap, &overflow));
        });
    }
    if let Some(stderr) = child.stderr.take() {
        std::thread::spawn(move || {
            let _ = err_tx.send(read_tail(stderr));
        });
    }
    let mut pause = Duration::from_millis(1);
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|source| RunError::Wait {
            program: program.clone(),
            source,
        })? {
            break status;
        }
        let timed_out = started.elapsed() > limits.timeout;
        if timed_out || overflow.load(Ordering::SeqCst) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(if timed_out {
                RunError::Timeout {
                    program,
                    seconds: limits.timeout.as_secs(),
                }
            } else {
                RunError::OutputTooLarge {
                    program,
                    limit: limits.max_output,
                }
            });
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(25));
    };
    // A grandchild may keep the pipes open; do not wait for it forever.
    let grace = Duration::from_secs(5);
    let stdout = out_rx.recv_timeout(grace).unwrap_or_default();
    let stderr = err_rx.recv_timeout(grace).unwrap_or_default();
    if overflow.load(Ordering::SeqCst) {
        return Err(RunError::OutputTooLarge {
            program,
            limit: limits.max_output,
        });
    }
    if !status.success() {
        return Err(RunError::Failed {
            program,
            status: status.to_string(),
            stderr: stderr.trim().to_owned(),
        });
    }
    Ok(Output { stdout, stderr })
}

fn read_capped(mut r: impl Read, cap: usize, overflow: &AtomicBool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 64 << 10];
    loop {
        match r.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if out.len() + n > cap {
                    overflow.store(true, Ordering::SeqCst);
                    break;
                }
                out.extend_from_slice(&buf[..n]);
            }
        }
    }
    out
}

fn read_tail(mut r: impl Read) -> String {
    let mut kept: Vec<u8> = Vec::new();
    let mut buf = [0u8; 8 << 10];
    loop {
        match r.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                kept.extend_from_slice(&buf[..n]);
                if kept.len() > STDERR_KEEP {
                    kept.drain(..kept.len() - STDERR_KEEP);
                }
            }
        }
    }
    String::from_utf8_lossy(&kept).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Invocation {
        Invocation::new(Path::new("/bin/sh"), Path::new("/"))
            .arg("-c")
            .arg(script)
    }

    #[test]
    fn output_is_captured_and_the_environment_is_empty_but_for_what_is_set() {
        let out = run(
            &sh("echo $A-$HOME-$SECRET; echo warn >&2").env("A", "x"),
            Limits::default(),
        )
        .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "x--\n");
        assert_eq!(out.stderr, "warn\n");
    }

    #[test]
    fn a_run_past_its_timeout_is_stopped() {
        let limits = Limits {
            timeout: Duration::from_millis(200),
            ..Limits::default()
        };
        let err = run(&sh("sleep 30"), limits).unwrap_err();
        assert!(matches!(err, RunError::Timeout { .. }), "{err}");
    }

    #[test]
    fn a_run_that_writes_too_much_is_stopped() {
        let limits = Limits {
            max_output: 1000,
            ..Limits::default()
        };
        let err = run(&sh("yes"), limits).unwrap_err();
        assert!(matches!(err, RunError::OutputTooLarge { .. }), "{err}");
    }

    #[test]
    fn a_failing_run_reports_its_standard_error() {
        let err = run(&sh("echo boom >&2; exit 3"), Limits::default()).unwrap_err();
        assert_eq!(err.to_string(), "`sh` failed (exit status: 3): boom");
        let err = run(
            &Invocation::new(Path::new("/no/such/tool"), Path::new("/")),
            Limits::default(),
        )
        .unwrap_err();
        assert!(matches!(err, RunError::Spawn { .. }));
    }
}
