//! A chart archive (`.tgz`) unpacked into a folder: regular files and
//! folders only (a link could point out of the folder), every path
//! relative and without `..`, and a cap on the unpacked size.

use std::io::Read;
use std::path::{Component, Path};

use super::ChartError;

/// Most bytes a chart may unpack to.
const MAX_UNPACKED_BYTES: u64 = 256 << 20;

/// Unpack `archive` into `dest` (which must exist and be empty); returns
/// the name of the top folder (the chart's name in a packaged chart).
pub fn unpack(archive: &[u8], dest: &Path, what: &str) -> Result<String, ChartError> {
    let bad = |why: String| ChartError::Archive {
        chart: what.to_owned(),
        why,
    };
    let gz = flate2::read::GzDecoder::new(archive);
    let mut tar = tar::Archive::new(gz);
    let mut total: u64 = 0;
    let mut top: Option<String> = None;
    let entries = tar
        .entries()
        .map_err(|e| bad(format!("not a gzip tar archive: {e}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| bad(format!("a corrupt entry: {e}")))?;
        let path = entry
            .path()
            .map_err(|e| bad(format!("an entry with an unreadable path: {e}")))?
            .into_owned();
        let shown = path.display().to_string();
        if path
            .components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
        {
            return Err(bad(format!("entry `{shown}` leaves the chart's folder")));
        }
        let kind = entry.header().entry_type();
        if kind.is_pax_global_extensions()
            || kind.is_pax_local_extensions()
            || kind.is_gnu_longname()
        {
            continue;
        }
        if !(kind.is_file() || kind.is_dir()) {
            return Err(bad(format!(
                "entry `{shown}` is a link or a special file; charts hold only files and folders"
            )));
        }
        if let Some(Component::Normal(first)) =
            path.components().find(|c| !matches!(c, Component::CurDir))
        {
            top.get_or_insert_with(|| first.to_string_lossy().into_owned());
        }
        let target = dest.join(&path);
        if kind.is_dir() {
            std::fs::create_dir_all(&target).map_err(|e| bad(format!("writing `{shown}`: {e}")))?;
            continue;
        }
        total = total.saturating_add(entry.header().size().unwrap_or(0));
        if total > MAX_UNPACKED_BYTES {
            return Err(bad(format!(
                "it unpacks to more than {} MiB",
                MAX_UNPACKED_BYTES >> 20
            )));
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| bad(format!("writing `{shown}`: {e}")))?;
        }
        let mut content = Vec::new();
        (&mut entry)
            .take(MAX_UNPACKED_BYTES)
            .read_to_end(&mut content)
            .map_err(|e| bad(format!("reading `{shown}`: {e}")))?;
        std::fs::write(&target, content).map_err(|e| bad(format!("writing `{shown}`: {e}")))?;
    }
    top.ok_or_else(|| bad("the archive is empty".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive(
        build: impl FnOnce(&mut tar::Builder<flate2::write::GzEncoder<Vec<u8>>>),
    ) -> Vec<u8> {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let mut b = tar::Builder::new(gz);
        build(&mut b);
        b.into_inner()
            .and_then(|gz| gz.finish())
            .unwrap_or_default()
    }

    fn file(b: &mut tar::Builder<flate2::write::GzEncoder<Vec<u8>>>, path: &str, text: &str) {
        let mut h = tar::Header::new_gnu();
        h.set_size(text.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        let _ = b.append_data(&mut h, path, text.as_bytes());
    }

    #[test]
    fn a_chart_unpacks_and_its_top_folder_is_named() {
        let bytes = archive(|b| {
            file(b, "web/Chart.yaml", "name: web\n");
            file(b, "web/templates/cm.yaml", "kind: ConfigMap\n");
        });
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let top = unpack(&bytes, dir.path(), "web 1.0.0").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(top, "web");
        assert!(dir.path().join("web/templates/cm.yaml").is_file());
    }

    #[test]
    fn links_and_garbage_are_refused() {
        let bytes = archive(|b| {
            file(b, "web/Chart.yaml", "name: web\n");
            let mut h = tar::Header::new_gnu();
            h.set_size(0);
            h.set_entry_type(tar::EntryType::Symlink);
            let _ = b.append_link(&mut h, "web/values.yaml", "/etc/passwd");
        });
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let e = unpack(&bytes, dir.path(), "web 1.0.0")
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(e.contains("`web/values.yaml` is a link"), "{e}");
        let e = unpack(b"not gzip", dir.path(), "web 1.0.0")
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(e.contains("web 1.0.0"), "{e}");
    }
}
