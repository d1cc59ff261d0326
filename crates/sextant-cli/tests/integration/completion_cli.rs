//! `sextant completion SHELL`: the script each shell loads, and bash
//! actually completing a subcommand with it; `sextant version -o json`; typo suggestions and help headings.

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

#[test]
fn a_mistyped_command_or_flag_gets_a_suggestion_and_exit_2() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_sextant"))
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["app", "synk", "web"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("a similar subcommand exists: 'sync'"), "{err}");
    let out = run(&["app", "sync", "web", "--prun"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("a similar argument exists: '--prune'"),
        "{err}"
    );
}

#[test]
fn help_puts_the_connection_flags_apart_from_the_commands_own() {
    let out = Command::new(env!("CARGO_BIN_EXE_sextant"))
        .args(["app", "sync", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    let (own, connection) = help
        .split_once("Connection (every app command):")
        .unwrap_or_else(|| panic!("no connection heading: {help}"));
    assert!(
        own.contains("--prune") && !own.contains("--kubeconfig"),
        "{help}"
    );
    assert!(
        connection.contains("--kubeconfig") && connection.contains("--namespace"),
        "{help}"
    );
}
