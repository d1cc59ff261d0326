//! `sextant completion SHELL`: the script each shell loads, and bash
//! actually completing a subcommand with it; `sextant version -o json`.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use std::process::Command;

fn script(shell: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_sextant"))
        .args(["completion", shell])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn bash_completes_subcommands_with_the_script() {
    let bash = script("bash");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sextant.bash");
    std::fs::write(&file, bash).unwrap();
    // What bash does on `sextant app s<TAB>`.
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source '{}'; COMP_WORDS=(sextant app s); COMP_CWORD=2; _sextant sextant s app; echo \"${{COMPREPLY[@]}}\"",
            file.display()
        ))
        .output()
        .unwrap();
    let words = String::from_utf8_lossy(&out.stdout);
    let mut got: Vec<&str> = words.split_whitespace().collect();
    got.sort();
    assert_eq!(
        got,
        ["set", "sync"],
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_shell_gets_a_script_and_an_unknown_one_is_refused() {
    assert!(script("zsh").starts_with("#compdef sextant"));
    assert!(script("fish").contains("complete -c sextant"));
    assert!(script("powershell").contains("Register-ArgumentCompleter"));
    let out = Command::new(env!("CARGO_BIN_EXE_sextant"))
        .args(["completion", "nushell"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("possible values"));
}

#[test]
fn version_prints_json_for_scripts() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sextant"))
        .args(["version", "--client", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["client"], env!("CARGO_PKG_VERSION"));
    assert!(
        doc.get("server").is_none(),
        "--client asks no server: {doc}"
    );
}
