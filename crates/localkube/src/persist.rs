//! `--data-dir`: the cluster's state on disk, so a restarted localkube keeps
//! every object and continues its resourceVersions. The state is one JSON
//! file, written atomically (temp file + rename) a moment after changes and
//! on shutdown.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::cluster::Cluster;

const STATE_FILE: &str = "state.json";

/// Errors reading or writing the state.
#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    /// File system error.
    #[error("could not access {path}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The state file is not what we wrote.
    #[error("{path} is not a localkube state file")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: serde_json::Error,
    },
}

/// Load the state in `dir`, or a fresh cluster when there is none yet.
pub fn load(dir: &Path) -> Result<Cluster, crate::StartError> {
    let path = dir.join(STATE_FILE);
    let fail = |source| crate::StartError::Load {
        path: path.clone(),
        source,
    };
    match std::fs::read(&path) {
        Ok(bytes) => {
            let snapshot: serde_json::Value = serde_json::from_slice(&bytes).map_err(|source| {
                fail(PersistError::Corrupt {
                    path: path.clone(),
                    source,
                })
            })?;
            Ok(Cluster::from_snapshot(&snapshot))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Cluster::new()),
        Err(source) => Err(fail(PersistError::Io {
            path: path.clone(),
            source,
        })),
    }
}

/// Write the state to `dir` atomically.
pub fn save(cluster: &Cluster, dir: &Path) -> Result<(), PersistError> {
    std::fs::create_dir_all(dir).map_err(|source| PersistError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let path = dir.join(STATE_FILE);
    let tmp = dir.join(format!("{STATE_FILE}.tmp"));
    let bytes = cluster.snapshot().to_string();
    std::fs::write(&tmp, bytes).map_err(|source| PersistError::Io {
        path: tmp.clone(),
        source,
    })?;
    std::fs::rename(&tmp, &path).map_err(|source| PersistError::Io { path, source })
}

/// Save whenever the resourceVersion moved, at most every half second.
pub async fn save_periodically(cluster: Arc<Cluster>, dir: PathBuf) {
    let mut saved = 0;
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let rv = cluster.store.read().current_rv();
        if rv == saved {
            continue;
        }
        let (c, d) = (cluster.clone(), dir.clone());
        match tokio::task::spawn_blocking(move || save(&c, &d)).await {
            Ok(Ok(())) => saved = rv,
            Ok(Err(e)) => tracing::error!(error = %e, "could not save the state"),
            Err(e) => tracing::error!(error = %e, "the state saver stopped"),
        }
    }
}
