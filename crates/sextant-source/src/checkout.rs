//! Writing a commit's tree into a directory (a snapshot): files,
//! executable bits and symlinks as Git stores them, with every path
//! component checked and the total size bounded.

use std::path::Path;

use gix::ObjectId;
use gix::objs::tree::EntryKind;

/// Errors from writing a snapshot.
#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    /// An object could not be read from the mirror.
    #[error("could not read object {id} of commit {commit} from the local mirror")]
    Read {
        /// The commit being written.
        commit: String,
        /// The object that could not be read.
        id: String,
        /// The library's message.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A tree entry has a name no file may have (`..`, a slash, `.git`).
    #[error("commit {commit} contains the unsafe path `{path}`")]
    UnsafePath {
        /// The commit being written.
        commit: String,
        /// The offending path.
        path: String,
    },
    /// The snapshot would exceed the configured size.
    #[error("commit {commit} is larger than the {limit}-byte snapshot limit")]
    TooLarge {
        /// The commit being written.
        commit: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// Writing to the cache directory failed.
    #[error("could not write `{path}`")]
    Write {
        /// The file or directory being written.
        path: String,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
}

/// Write the tree of `commit` into `dest` (an empty directory).
pub(crate) fn write_tree(
    repo: &gix::Repository,
    commit: ObjectId,
    dest: &Path,
    max_bytes: u64,
) -> Result<u64, CheckoutError> {
    let commit_hex = commit.to_string();
    let read = |id: ObjectId, e: Box<dyn std::error::Error + Send + Sync>| CheckoutError::Read {
        commit: commit_hex.clone(),
        id: id.to_string(),
        source: e,
    };
    let tree_id = repo
        .find_commit(commit)
        .map_err(|e| read(commit, Box::new(e)))?
        .tree_id()
        .map_err(|e| read(commit, Box::new(e)))?
        .detach();
    let mut writer = Writer {
        repo,
        commit: commit_hex.clone(),
        written: 0,
        max_bytes,
    };
    writer.tree(tree_id, dest, "")?;
    Ok(writer.written)
}

struct Writer<'r> {
    repo: &'r gix::Repository,
    commit: String,
    written: u64,
    max_bytes: u64,
}

impl Writer<'_> {
    fn tree(&mut self, id: ObjectId, dir: &Path, prefix: &str) -> Result<(), CheckoutError> {
        let tree = self.repo.find_tree(id).map_err(|e| self.read(id, e))?;
        let decoded = tree.decode().map_err(|e| self.read(id, e))?;
        for entry in &decoded.entries {
            let name = entry.filename.to_string();
            let rel = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}/{name}")
            };
            if !safe_component(&name) {
                return Err(CheckoutError::UnsafePath {
                    commit: self.commit.clone(),
                    path: rel,
                });
            }
            let path = dir.join(&name);
            let oid = entry.oid.to_owned();
            match entry.mode.kind() {
                EntryKind::Tree => {
                    create_dir(&path)?;
                    self.tree(oid, &path, &rel)?;
                }
                EntryKind::Commit => create_dir(&path)?,
                kind @ (EntryKind::Blob | EntryKind::BlobExecutable | EntryKind::Link) => {
                    let blob = self.repo.find_blob(oid).map_err(|e| self.read(oid, e))?;
                    self.written += blob.data.len() as u64;
                    if self.written > self.max_bytes {
                        return Err(CheckoutError::TooLarge {
                            commit: self.commit.clone(),
                            limit: self.max_bytes,
                        });
                    }
                    write_entry(&path, &blob.data, kind)?;
                }
            }
        }
        Ok(())
    }

    fn read(
        &self,
        id: ObjectId,
        e: impl std::error::Error + Send + Sync + 'static,
    ) -> CheckoutError {
        CheckoutError::Read {
            commit: self.commit.clone(),
            id: id.to_string(),
            source: Box::new(e),
        }
    }
}

/// A single path component Git would check out on Linux.
fn safe_component(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name.eq_ignore_ascii_case(".git")
        && !name.contains(['/', '\0'])
}

fn create_dir(path: &Path) -> Result<(), CheckoutError> {
    std::fs::create_dir(path).map_err(|source| CheckoutError::Write {
        path: path.display().to_string(),
        source,
    })
}

fn write_entry(path: &Path, data: &[u8], kind: EntryKind) -> Result<(), CheckoutError> {
    let err = |source| CheckoutError::Write {
        path: path.display().to_string(),
        source,
    };
    if kind == EntryKind::Link {
        let target = String::from_utf8_lossy(data).into_owned();
        return std::os::unix::fs::symlink(target, path).map_err(err);
    }
    std::fs::write(path, data).map_err(err)?;
    if kind == EntryKind::BlobExecutable {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).map_err(err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::safe_component;

    #[test]
    fn path_components_that_escape_or_touch_git_metadata_are_unsafe() {
        for bad in ["", ".", "..", ".git", ".GIT", "a/b", "a\0b"] {
            assert!(!safe_component(bad), "{bad:?}");
        }
        assert!(safe_component("values.yaml"));
        assert!(safe_component("..hidden"));
    }
}
