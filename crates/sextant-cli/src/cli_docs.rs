//! The CLI reference in `docs/cli/`, generated from the clap definitions:
//! `sextant.md` (every command and flag, one Markdown page) and `man/`
//! (a man page per command, `sextant-app-sync.1`). The test fails when the
//! committed files differ from what the code says;
//! `SEXTANT_BLESS=1 cargo test -p sextant-cli --bin sextant cli_docs`
//! writes them.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is a failure report"
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::CommandFactory;

fn docs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/cli")
}

/// The command tree with environment values hidden (the help of a run in
/// a shell with SEXTANT_NAMESPACE set would otherwise differ).
fn command() -> clap::Command {
    fn hide(cmd: clap::Command) -> clap::Command {
        let ids: Vec<clap::Id> = cmd.get_arguments().map(|a| a.get_id().clone()).collect();
        let mut cmd = ids
            .into_iter()
            .fold(cmd, |c, id| c.mut_arg(id, |a| a.hide_env_values(true)));
        let names: Vec<String> = cmd
            .get_subcommands()
            .map(|s| s.get_name().to_owned())
            .collect();
        for name in names {
            cmd = cmd.mut_subcommand(name, hide);
        }
        cmd
    }
    hide(crate::cli::Cli::command())
}

/// Every generated file, by path under docs/cli.
fn generate() -> BTreeMap<String, Vec<u8>> {
    let cmd = command();
    let mut files = BTreeMap::new();
    files.insert(
        "sextant.md".to_owned(),
        clap_markdown::help_markdown_command(&cmd).into_bytes(),
    );
    let tmp = tempfile::tempdir().unwrap();
    clap_mangen::generate_to(cmd, tmp.path()).unwrap();
    for entry in std::fs::read_dir(tmp.path()).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        // clap's generated `help` subcommands get no page of their own.
        if name.split(['-', '.']).any(|w| w == "help") {
            continue;
        }
        files.insert(format!("man/{name}"), std::fs::read(entry.path()).unwrap());
    }
    files
}

fn committed() -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let dir = docs_dir();
    for sub in ["", "man"] {
        let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
            continue;
        };
        for entry in entries {
            let entry = entry.unwrap();
            if entry.path().is_file() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name == "README.md" {
                    continue;
                }
                let key = if sub.is_empty() {
                    name
                } else {
                    format!("{sub}/{name}")
                };
                files.insert(key, std::fs::read(entry.path()).unwrap());
            }
        }
    }
    files
}

#[test]
fn the_cli_reference_in_docs_cli_matches_the_code() {
    let fresh = generate();
    assert!(fresh.len() > 30, "a page per command: {:?}", fresh.keys());
    assert!(
        fresh.contains_key("man/sextant-app-sync.1"),
        "{:?}",
        fresh.keys()
    );
    let markdown = String::from_utf8(fresh["sextant.md"].clone()).unwrap();
    assert!(
        markdown.contains("--preview-changes"),
        "every flag is there"
    );
    if std::env::var_os("SEXTANT_BLESS").is_some() {
        let dir = docs_dir();
        let _ = std::fs::remove_dir_all(dir.join("man"));
        std::fs::create_dir_all(dir.join("man")).unwrap();
        for (name, bytes) in &fresh {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
        return;
    }
    let old = committed();
    let stale: Vec<&String> = fresh
        .keys()
        .chain(old.keys())
        .filter(|k| fresh.get(*k) != old.get(*k))
        .collect();
    assert!(
        stale.is_empty(),
        "docs/cli is stale ({} file(s): {:?}): run `SEXTANT_BLESS=1 cargo test -p sextant-cli --bin sextant cli_docs`",
        stale.len(),
        stale.iter().take(5).collect::<Vec<_>>()
    );
}
