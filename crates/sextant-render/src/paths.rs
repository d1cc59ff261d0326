//! Checked paths: every path Sextant reads or hands to a tool must stay
//! inside the checkout. Lexical checks refuse `..` and absolute paths that
//! escape; canonical checks refuse symlinks that point out.

use std::path::{Component, Path, PathBuf};

/// A path that would leave the checkout.
#[derive(Debug, thiserror::Error)]
pub enum PathError {
    /// An absolute path where a repository path is expected.
    #[error(
        "`{file}` refers to the absolute path `{path}`; only paths inside the repository are allowed"
    )]
    Absolute {
        /// The file (or option) holding the reference.
        file: String,
        /// The path.
        path: String,
    },
    /// A relative path that climbs out of the checkout.
    #[error("`{file}` refers to `{path}`, which is outside the repository")]
    Escapes {
        /// The file (or option) holding the reference.
        file: String,
        /// The path.
        path: String,
    },
    /// A symlink whose target is outside the checkout.
    #[error("symlink `{file}` points to `{target}`, outside the repository")]
    Symlink {
        /// The symlink, relative to the repository root.
        file: String,
        /// Where it points.
        target: String,
    },
    /// A path that does not exist.
    #[error("`{file}` refers to `{path}`, which does not exist")]
    Missing {
        /// The file (or option) holding the reference.
        file: String,
        /// The path.
        path: String,
    },
    /// The tree is too large to scan.
    #[error("the repository has more than {0} files and folders")]
    TooManyEntries(usize),
    /// Listing a folder failed.
    #[error("could not read `{path}`")]
    Io {
        /// The folder.
        path: String,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
}

/// The most entries [`check_symlinks`] looks at.
pub const MAX_ENTRIES: usize = 200_000;

/// Normalise `path` lexically (`.` dropped, `..` popped); `None` when it
/// climbs above its start.
pub fn normalize_lexically(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::Normal(p) => out.push(p),
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

/// Join `reference` (as written in `file`) to `base` (a folder relative to
/// `root`) and check the result stays inside `root`, following symlinks.
/// Returns the path relative to `root`.
pub fn resolve_inside(
    root: &Path,
    base: &Path,
    reference: &str,
    file: &str,
) -> Result<PathBuf, PathError> {
    let reference_path = Path::new(reference);
    if reference_path.is_absolute() {
        return Err(PathError::Absolute {
            file: file.to_owned(),
            path: reference.to_owned(),
        });
    }
    let escapes = || PathError::Escapes {
        file: file.to_owned(),
        path: reference.to_owned(),
    };
    let rel = normalize_lexically(&base.join(reference_path)).ok_or_else(escapes)?;
    let full = root.join(&rel);
    if let (Ok(canonical), Ok(root_canonical)) = (full.canonicalize(), root.canonicalize())
        && !canonical.starts_with(&root_canonical)
    {
        return Err(escapes());
    }
    Ok(rel)
}

/// Like [`resolve_inside`], and the path must exist.
pub fn existing_inside(
    root: &Path,
    base: &Path,
    reference: &str,
    file: &str,
) -> Result<PathBuf, PathError> {
    let rel = resolve_inside(root, base, reference, file)?;
    if root.join(&rel).exists() {
        Ok(rel)
    } else {
        Err(PathError::Missing {
            file: file.to_owned(),
            path: reference.to_owned(),
        })
    }
}

/// Refuse any symlink under `root` whose target is outside `root`
/// (including dangling links that would resolve outside).
pub fn check_symlinks(root: &Path) -> Result<(), PathError> {
    let root_canonical = root.canonicalize().map_err(|source| PathError::Io {
        path: root.display().to_string(),
        source,
    })?;
    let mut stack = vec![PathBuf::new()];
    let mut seen = 0usize;
    while let Some(rel_dir) = stack.pop() {
        let dir = root.join(&rel_dir);
        let entries = std::fs::read_dir(&dir).map_err(|source| PathError::Io {
            path: rel_dir.display().to_string(),
            source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| PathError::Io {
                path: rel_dir.display().to_string(),
                source,
            })?;
            seen += 1;
            if seen > MAX_ENTRIES {
                return Err(PathError::TooManyEntries(MAX_ENTRIES));
            }
            let rel = rel_dir.join(entry.file_name());
            let Ok(file_type) = entry.file_type() else {
                continue;
            };
            if file_type.is_symlink() {
                check_link(root, &root_canonical, &rel)?;
            } else if file_type.is_dir() && entry.file_name() != ".git" {
                stack.push(rel);
            }
        }
    }
    Ok(())
}

fn check_link(root: &Path, root_canonical: &Path, rel: &Path) -> Result<(), PathError> {
    let full = root.join(rel);
    let target = std::fs::read_link(&full).unwrap_or_default();
    let outside = || PathError::Symlink {
        file: rel.display().to_string(),
        target: target.display().to_string(),
    };
    match full.canonicalize() {
        Ok(resolved) if resolved.starts_with(root_canonical) => Ok(()),
        Ok(_) => Err(outside()),
        // Dangling: judge the target lexically.
        Err(_) => {
            if target.is_absolute() {
                return if target.starts_with(root_canonical) || target.starts_with(root) {
                    Ok(())
                } else {
                    Err(outside())
                };
            }
            let parent = rel.parent().unwrap_or(Path::new(""));
            normalize_lexically(&parent.join(&target))
                .map(|_| ())
                .ok_or_else(outside)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexical_normalisation_refuses_climbing_above_the_start() {
        assert_eq!(
            normalize_lexically(Path::new("a/./b/../c")),
            Some(PathBuf::from("a/c"))
        );
        assert_eq!(normalize_lexically(Path::new("a/../../b")), None);
        assert_eq!(normalize_lexically(Path::new("/etc")), None);
    }

    #[test]
    fn references_are_resolved_relative_to_their_folder_and_kept_inside() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("apps/web")).unwrap();
        std::fs::write(dir.path().join("apps/shared.yaml"), "").unwrap();
        let base = Path::new("apps/web");
        let rel = existing_inside(dir.path(), base, "../shared.yaml", "apps/web/k.yaml").unwrap();
        assert_eq!(rel, PathBuf::from("apps/shared.yaml"));
        let e =
            resolve_inside(dir.path(), base, "../../../etc/passwd", "apps/web/k.yaml").unwrap_err();
        assert_eq!(
            e.to_string(),
            "`apps/web/k.yaml` refers to `../../../etc/passwd`, which is outside the repository"
        );
        let e = resolve_inside(dir.path(), base, "/etc/passwd", "values").unwrap_err();
        assert!(matches!(e, PathError::Absolute { .. }));
        let e = existing_inside(dir.path(), base, "nope.yaml", "k.yaml").unwrap_err();
        assert!(matches!(e, PathError::Missing { .. }));
    }

    #[test]
    fn symlinks_out_of_the_tree_are_refused_and_inside_ones_allowed() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        std::fs::create_dir_all(root.join("a")).unwrap();
        std::fs::write(root.join("a/x.yaml"), "").unwrap();
        std::os::unix::fs::symlink("x.yaml", root.join("a/inside.yaml")).unwrap();
        std::os::unix::fs::symlink("../a", root.join("a/loop")).unwrap();
        check_symlinks(&root).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", root.join("a/passwd")).unwrap();
        let e = check_symlinks(&root).unwrap_err();
        assert_eq!(
            e.to_string(),
            "symlink `a/passwd` points to `/etc/passwd`, outside the repository"
        );
        std::fs::remove_file(root.join("a/passwd")).unwrap();
        std::os::unix::fs::symlink("../../../nowhere", root.join("a/dangling")).unwrap();
        assert!(check_symlinks(&root).is_err());
    }

    #[test]
    fn a_symlink_into_a_sibling_of_the_root_is_refused_even_through_a_folder_link() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        std::fs::create_dir_all(root.join("a")).unwrap();
        std::fs::create_dir_all(dir.path().join("secret")).unwrap();
        std::fs::write(dir.path().join("secret/key"), "k").unwrap();
        std::os::unix::fs::symlink("../../secret", root.join("a/s")).unwrap();
        assert!(check_symlinks(&root).is_err());
        let e = resolve_inside(&root, Path::new("a"), "s/key", "values").unwrap_err();
        assert!(matches!(e, PathError::Escapes { .. }));
    }
}
