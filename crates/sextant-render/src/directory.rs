//! Plain directories: every `.yaml`, `.yml` and `.json` file (recursively
//! if asked, filtered by include/exclude globs), parsed into objects, and
//! every `.jsonnet` file evaluated ([`crate::jsonnet`]). Other
//! files, and YAML that holds no Kubernetes object, are skipped with a
//! reason; a malformed file is an error naming the file and line.

use std::path::{Path, PathBuf};

use crate::Skipped;
use crate::glob::{Glob, GlobError};
use crate::jsonnet::{self, JsonnetError};
use crate::manifest::{self, Document, ParseError};
use crate::options::DirectoryOptions;
use crate::tools::Tools;

/// Errors from reading a plain directory.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// An include or exclude pattern is malformed.
    #[error("invalid directory {which} pattern")]
    Pattern {
        /// `include` or `exclude`.
        which: &'static str,
        /// Why.
        #[source]
        source: GlobError,
    },
    /// A file or folder could not be read.
    #[error("could not read `{path}`")]
    Read {
        /// The path, relative to the repository root.
        path: String,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
    /// A file is larger than the limit.
    #[error("`{path}` is larger than the {limit}-byte limit for a manifest file")]
    TooLarge {
        /// The path.
        path: String,
        /// The limit.
        limit: u64,
    },
}

/// The largest manifest file read.
pub const MAX_FILE_BYTES: u64 = 64 << 20;

/// The documents of one file, with its path relative to the repository.
pub struct FileDocuments {
    /// The file, relative to the repository root.
    pub file: String,
    /// Its Kubernetes-looking documents.
    pub docs: Vec<Document>,
}

/// A file that gave no objects: it does not parse, or its Jsonnet fails.
#[derive(Debug, thiserror::Error)]
pub enum FileProblem {
    /// YAML or JSON that does not parse.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// A Jsonnet file that fails.
    #[error(transparent)]
    Jsonnet(#[from] JsonnetError),
}

/// Read the manifests under `root/path`. Files that do not parse or
/// evaluate are added to `problems` and the others still read.
pub fn read(
    root: &Path,
    path: &Path,
    options: &DirectoryOptions,
    tools: &Tools,
    skipped: &mut Vec<Skipped>,
    problems: &mut Vec<FileProblem>,
) -> Result<Vec<FileDocuments>, DirectoryError> {
    let pattern = |which, p: &Option<String>| {
        p.as_deref()
            .filter(|s| !s.is_empty())
            .map(Glob::new)
            .transpose()
            .map_err(|source| DirectoryError::Pattern { which, source })
    };
    let include = pattern("include", &options.include)?;
    let exclude = pattern("exclude", &options.exclude)?;
    let mut files = Vec::new();
    collect(
        root,
        path,
        PathBuf::new(),
        options.recurse,
        &mut files,
        skipped,
    )?;
    files.sort();
    let mut out = Vec::new();
    for rel in files {
        let repo_rel = path.join(&rel).display().to_string();
        let rel_str = rel.display().to_string();
        if include.as_ref().is_some_and(|g| !g.matches(&rel_str)) {
            continue;
        }
        if exclude.as_ref().is_some_and(|g| g.matches(&rel_str)) {
            continue;
        }
        let ext = rel.extension().and_then(|e| e.to_str()).unwrap_or("");
        if ext == "jsonnet" {
            match jsonnet::render_file(root, &repo_rel, &options.jsonnet, tools) {
                Ok(docs) if docs.is_empty() => {
                    skipped.push(Skipped::new(&repo_rel, "its Jsonnet gives no objects"));
                }
                Ok(docs) => match manifest::flatten_lists(&repo_rel, docs) {
                    Ok(docs) => out.push(FileDocuments {
                        file: repo_rel,
                        docs,
                    }),
                    Err(e) => problems.push(e.into()),
                },
                Err(e) => problems.push(e.into()),
            }
            continue;
        }
        if !matches!(ext, "yaml" | "yml" | "json") {
            let reason = if ext == "libsonnet" {
                "a Jsonnet library (imported, not rendered on its own)"
            } else {
                "not a .yaml, .yml, .json or .jsonnet file"
            };
            skipped.push(Skipped::new(&repo_rel, reason));
            continue;
        }
        let text = read_file(&root.join(path).join(&rel), &repo_rel)?;
        let parsed = if ext == "json" {
            manifest::parse_json(&repo_rel, &text)
        } else {
            manifest::parse_yaml(&repo_rel, &text)
        };
        let docs = match parsed {
            Ok(docs) => docs,
            Err(e) => {
                problems.push(e.into());
                continue;
            }
        };
        let total = docs.len();
        let docs: Vec<Document> = docs.into_iter().filter(looks_like_object).collect();
        if docs.is_empty() {
            let reason = if total == 0 {
                "no documents"
            } else {
                "no Kubernetes objects (documents without apiVersion and kind)"
            };
            skipped.push(Skipped::new(&repo_rel, reason));
            continue;
        }
        let docs = match manifest::flatten_lists(&repo_rel, docs) {
            Ok(docs) => docs,
            Err(e) => {
                problems.push(e.into());
                continue;
            }
        };
        out.push(FileDocuments {
            file: repo_rel,
            docs,
        });
    }
    Ok(out)
}

/// A document is taken as a Kubernetes object when it is a mapping with
/// `apiVersion` or `kind`; anything else (a values file, a scalar) is not
/// a manifest.
fn looks_like_object(doc: &Document) -> bool {
    doc.value
        .as_object()
        .is_some_and(|o| o.contains_key("apiVersion") || o.contains_key("kind"))
}

fn read_file(full: &Path, rel: &str) -> Result<String, DirectoryError> {
    let err = |source| DirectoryError::Read {
        path: rel.to_owned(),
        source,
    };
    let meta = std::fs::metadata(full).map_err(err)?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(DirectoryError::TooLarge {
            path: rel.to_owned(),
            limit: MAX_FILE_BYTES,
        });
    }
    let bytes = std::fs::read(full).map_err(err)?;
    String::from_utf8(bytes).map_err(|e| {
        err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            e.utf8_error(),
        ))
    })
}

fn collect(
    root: &Path,
    base: &Path,
    rel: PathBuf,
    recurse: bool,
    files: &mut Vec<PathBuf>,
    skipped: &mut Vec<Skipped>,
) -> Result<(), DirectoryError> {
    let dir = root.join(base).join(&rel);
    let entries = std::fs::read_dir(&dir).map_err(|source| DirectoryError::Read {
        path: base.join(&rel).display().to_string(),
        source,
    })?;
    for entry in entries {
        let entry = entry.map_err(|source| DirectoryError::Read {
            path: base.join(&rel).display().to_string(),
            source,
        })?;
        let name = entry.file_name();
        let child = rel.join(&name);
        let link = entry.file_type().is_ok_and(|t| t.is_symlink());
        let full = entry.path();
        if full.is_dir() {
            if !recurse {
                continue;
            }
            if link {
                let repo_rel = base.join(&child).display().to_string();
                skipped.push(Skipped::new(&repo_rel, "symlinked folder not followed"));
            } else if !name.to_string_lossy().starts_with('.') {
                collect(root, base, child, recurse, files, skipped)?;
            }
        } else if full.is_file() {
            files.push(child);
        }
    }
    Ok(())
}
