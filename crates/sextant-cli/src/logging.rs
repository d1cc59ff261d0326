//! Logs: `--log-format text|json` and `--log-level` (else `SEXTANT_LOG`,
//! an EnvFilter such as `info,sextant_controller=debug`; else `warn`), on
//! stderr, or in a file once a command asks for one ([`to_file`]: the demo
//! keeps stderr for what it tells the user).

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

use clap::ValueEnum;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// `--log-format`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One readable line per event.
    #[default]
    Text,
    /// One JSON object per line (for log shippers).
    Json,
}

fn file() -> &'static Mutex<Option<File>> {
    static FILE: OnceLock<Mutex<Option<File>>> = OnceLock::new();
    FILE.get_or_init(|| Mutex::new(None))
}

/// Where each log line goes: the file, when one was set, else stderr.
#[derive(Clone, Copy)]
struct Sink;

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut f) = file().lock()
            && let Some(f) = f.as_mut()
        {
            return f.write(buf);
        }
        std::io::stderr().write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if let Ok(mut f) = file().lock()
            && let Some(f) = f.as_mut()
        {
            return f.flush();
        }
        std::io::stderr().flush()
    }
}

impl<'a> MakeWriter<'a> for Sink {
    type Writer = Sink;
    fn make_writer(&'a self) -> Self::Writer {
        Sink
    }
}

/// Set up logging for the process.
pub fn init(format: LogFormat, level: Option<&str>, default: &str) -> anyhow::Result<()> {
    let filter = match level {
        Some(l) => EnvFilter::try_new(l).map_err(|e| {
            anyhow::anyhow!(
                "--log-level {l}: {e} (a level such as info or debug, or a filter such as `info,sextant_controller=debug`)"
            )
        })?,
        None => EnvFilter::try_from_env("SEXTANT_LOG").unwrap_or_else(|_| EnvFilter::new(default)),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(Sink);
    match format {
        // No colour codes: lines may end up in a file (the demo's log).
        LogFormat::Text => builder.with_ansi(false).init(),
        LogFormat::Json => builder.json().init(),
    }
    Ok(())
}

/// From now on, log into `path` (appended) instead of stderr.
pub fn to_file(path: &Path) -> std::io::Result<()> {
    let f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    if let Ok(mut slot) = file().lock() {
        *slot = Some(f);
    }
    Ok(())
}
