//! One control-plane process: started with its output in a log file,
//! killed and reaped when dropped.

use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A running binary.
pub struct Proc {
    name: String,
    child: Child,
}

impl Proc {
    /// Start `bin` with `args`, stdout and stderr appended to `log`.
    pub fn spawn(bin: &Path, args: &[String], log: &Path) -> Proc {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap_or_else(|e| panic!("open {}: {e}", log.display()));
        let err = out.try_clone().expect("clone a log file handle");
        let child = Command::new(bin)
            .args(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", bin.display()));
        let name = bin
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Proc { name, child }
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// "NAME exited with STATUS" when it is no longer running.
    pub fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(format!("{} exited with {status}", self.name)),
            _ => None,
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
