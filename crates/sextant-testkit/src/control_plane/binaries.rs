//! Where the control plane's binaries are: `$SEXTANT_CONTROL_PLANE_BIN` (a
//! folder holding etcd, kube-apiserver and kube-controller-manager) when
//! set, else the cache folder `scripts/build-control-plane.sh` prints
//! (building them the first time, which takes minutes). Asked once per
//! process.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The folder holding the three binaries.
pub fn folder() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = match std::env::var_os("SEXTANT_CONTROL_PLANE_BIN") {
            Some(d) => PathBuf::from(d),
            None => build(),
        };
        for bin in ["etcd", "kube-apiserver", "kube-controller-manager"] {
            assert!(
                dir.join(bin).is_file(),
                "{} has no {bin}; run scripts/build-control-plane.sh (or unset SEXTANT_CONTROL_PLANE_BIN)",
                dir.display()
            );
        }
        dir
    })
}

/// The workspace's root (this crate is `crates/sextant-testkit`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("the testkit crate lives two levels below the workspace root")
        .to_path_buf()
}

fn build() -> PathBuf {
    let script = workspace_root().join("scripts/build-control-plane.sh");
    let out = Command::new("bash")
        .arg(&script)
        .stderr(std::process::Stdio::inherit())
        .output()
        .unwrap_or_else(|e| panic!("could not run {}: {e}", script.display()));
    assert!(
        out.status.success(),
        "{} failed ({}); see its messages above",
        script.display(),
        out.status
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text
        .lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or_else(|| panic!("{} printed no folder", script.display()));
    PathBuf::from(last.trim())
}
