//! The web UI (`ui/dist`, built by `./scripts/build-ui.sh`) is compiled
//! into the server by rust-embed when it exists. Cargo does not know
//! that, so tell it to build this crate again when the folder appears,
//! changes or goes.

use std::path::Path;

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let ui = Path::new(&manifest).join("../../ui");
    let dist = ui.join("dist");
    // A missing path would rerun this every build; watch what exists.
    let watched = if dist.exists() { dist } else { ui };
    if watched.exists() {
        println!("cargo:rerun-if-changed={}", watched.display());
    }
    println!("cargo:rerun-if-changed=build.rs");
}
