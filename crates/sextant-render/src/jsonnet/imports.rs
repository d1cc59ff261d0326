//! Jsonnet imports confined to the checkout: `import`, `importstr` and
//! `importbin` resolve against the importing file's folder, then the app's
//! library folders, and are refused when the file found lies outside the
//! checkout (absolute paths, `..`, symlinks). Only regular files are read
//! (never a FIFO or a device), up to the manifest size limit.

use std::any::Any;
use std::path::{Path, PathBuf};

use jrsonnet_evaluator::error::Result;
use jrsonnet_evaluator::parser::{SourceFifo, SourceFile, SourcePath};
use jrsonnet_evaluator::{ImportFileNotFound, ImportResolver, RuntimeError, bail};
use jrsonnet_gcmodule::Trace;

use crate::directory::MAX_FILE_BYTES;

/// Resolves and loads imports inside one checkout.
#[derive(Trace)]
pub struct CheckoutImports {
    #[trace(skip)]
    root: PathBuf,
    #[trace(skip)]
    libs: Vec<PathBuf>,
}

impl CheckoutImports {
    /// Imports of the (canonical) checkout `root`, searching `libs`
    /// (canonical folders inside it) after the importing file's folder.
    pub fn new(root: PathBuf, libs: Vec<PathBuf>) -> Self {
        Self { root, libs }
    }

    fn display(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .unwrap_or(path)
            .display()
            .to_string()
    }

    /// `candidate`, when it is a regular file inside the checkout; an
    /// error when it exists outside.
    fn inside(&self, candidate: &Path, asked: &str) -> Result<Option<SourcePath>> {
        let Ok(real) = candidate.canonicalize() else {
            return Ok(None);
        };
        if !real.starts_with(&self.root) {
            bail!(RuntimeError(
                format!(
                    "import `{asked}` leaves the repository; only files inside it (and the app's Jsonnet libs) can be imported"
                )
                .into()
            ));
        }
        if !real.is_file() {
            return Ok(None);
        }
        Ok(Some(SourcePath::new(SourceFile::new(real))))
    }
}

impl ImportResolver for CheckoutImports {
    fn resolve_from(&self, from: &SourcePath, path: &str) -> Result<SourcePath> {
        let base = match from.downcast_ref::<SourceFile>() {
            Some(f) => f.path().parent().unwrap_or(&self.root).to_owned(),
            None => self.root.clone(),
        };
        if let Some(found) = self.inside(&base.join(path), path)? {
            return Ok(found);
        }
        if Path::new(path).is_relative() {
            for lib in &self.libs {
                if let Some(found) = self.inside(&lib.join(path), path)? {
                    return Ok(found);
                }
            }
        }
        bail!(ImportFileNotFound(from.clone(), path.to_owned()))
    }

    fn resolve(&self, path: &Path) -> Result<SourcePath> {
        let shown = path.display().to_string();
        match self.inside(&self.root.join(path), &shown)? {
            Some(found) => Ok(found),
            None => bail!(RuntimeError(
                format!("`{}` is not a file", self.display(path)).into()
            )),
        }
    }

    fn load_file_contents(&self, resolved: &SourcePath) -> Result<Vec<u8>> {
        if let Some(f) = resolved.downcast_ref::<SourceFifo>() {
            // Code given inline, not a file.
            return Ok(f.1.to_vec());
        }
        let Some(file) = resolved.downcast_ref::<SourceFile>() else {
            bail!(RuntimeError(
                "only files of the repository can be imported".into()
            ));
        };
        let path = file.path();
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        if size > MAX_FILE_BYTES {
            bail!(RuntimeError(
                format!(
                    "`{}` is larger than the {MAX_FILE_BYTES}-byte limit for an imported file",
                    self.display(path)
                )
                .into()
            ));
        }
        std::fs::read(path).map_err(|e| {
            RuntimeError(format!("could not read `{}`: {e}", self.display(path)).into()).into()
        })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}
