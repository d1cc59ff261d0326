//! The real `sextant health`: objects from YAML and JSON files (and stdin)
//! in, one JSON line per object out, with Lua checks from a customizations
//! directory; errors print `sextant: ...` and exit 2.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn sextant() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sextant"))
}

fn write(dir: &Path, relative: &str, text: &str) -> String {
    let path = dir.join(relative);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

fn lines(output: &Output) -> Vec<Value> {
    assert!(
        output.status.success(),
        "exit {:?}, stderr: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone())
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

const MANIFESTS: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, generation: 2}
spec: {replicas: 3}
status: {observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 3}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {type: LoadBalancer}
---
# an empty document is skipped
---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
"#;

#[test]
fn health_prints_one_json_line_per_object_with_its_identity_and_status() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "app.yaml", MANIFESTS);
    let output = sextant().args(["health", &file]).output().unwrap();
    let stdout = String::from_utf8(output.stdout.clone()).unwrap();
    let first = stdout.lines().next().unwrap();
    assert_eq!(
        first,
        r#"{"apiVersion":"apps/v1","kind":"Deployment","namespace":"shop","name":"web","status":"Healthy","message":"3 of 3 replicas available"}"#
    );
    let lines = lines(&output);
    let statuses: Vec<(&str, &str)> = lines
        .iter()
        .map(|l| (l["kind"].as_str().unwrap(), l["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("Deployment", "Healthy"),
            ("Service", "Progressing"),
            ("Namespace", "Healthy")
        ]
    );
    assert_eq!(lines[2]["namespace"], Value::Null);
}

#[test]
fn health_reads_json_lists_and_several_files_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let json = write(
        dir.path(),
        "pods.json",
        r#"{
	"apiVersion": "v1",
	"kind": "List",
	"items": [
		{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a", "namespace": "shop"},
		 "status": {"phase": "Failed", "reason": "Evicted", "message": "The node was low on resource: memory."}},
		{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "b", "namespace": "shop"},
		 "status": {"phase": "Succeeded"}}
	]
}"#,
    );
    let yaml = write(dir.path(), "app.yaml", MANIFESTS);
    let lines = lines(&sextant().args(["health", &json, &yaml]).output().unwrap());
    let names: Vec<&str> = lines.iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["a", "b", "web", "web", "shop"]);
    assert_eq!(lines[0]["status"], "Degraded");
    assert_eq!(
        lines[0]["message"],
        "Evicted: The node was low on resource: memory."
    );
}

#[test]
fn health_reads_standard_input_for_a_dash() {
    let mut child = sextant()
        .args(["health", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(
            b"apiVersion: batch/v1\nkind: Job\nmetadata: {name: report}\nspec: {suspend: true}\n",
        )
        .unwrap();
    let lines = lines(&child.wait_with_output().unwrap());
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["status"], "Suspended");
}

#[test]
fn health_runs_lua_checks_from_a_customizations_directory() {
    let dir = tempfile::tempdir().unwrap();
    let custom = dir.path().join("customizations");
    write(
        &custom,
        "apps/Deployment/health.lua",
        "if obj.spec.replicas < 5 then\n  return {status = \"Degraded\", message = \"only \" .. obj.spec.replicas .. \" replicas\"}\nend\n",
    );
    write(
        &custom,
        "_.crossplane.io/_/health.lua",
        "return {status = \"Suspended\", message = \"every crossplane kind\"}\n",
    );
    write(&custom, "Service/health.lua", "return nil\n");
    // Argo CD keeps tests and actions beside the scripts; they are ignored.
    write(&custom, "apps/Deployment/health_test.yaml", "tests: []\n");
    write(
        &custom,
        "apps/Deployment/actions/restart/action.lua",
        "error('not a health check')\n",
    );
    let file = write(
        dir.path(),
        "app.yaml",
        &format!(
            "{MANIFESTS}---\napiVersion: s3.aws.crossplane.io/v1beta1\nkind: Bucket\nmetadata: {{name: assets}}\n"
        ),
    );
    let output = sextant()
        .args(["health", &file, "--customizations"])
        .arg(&custom)
        .output()
        .unwrap();
    let lines = lines(&output);
    let got: Vec<(&str, &str)> = lines
        .iter()
        .map(|l| {
            (
                l["status"].as_str().unwrap(),
                l["message"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(got[0], ("Degraded", "only 3 replicas"));
    assert_eq!(
        got[1].0, "Progressing",
        "a nil result falls back to the built-in rule"
    );
    assert_eq!(got[3], ("Suspended", "every crossplane kind"));
}

#[test]
fn a_failing_script_is_reported_as_unknown_and_the_command_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let custom = dir.path().join("custom");
    write(
        &custom,
        "Namespace/health.lua",
        "return {status = obj.status.phase.x.y}\n",
    );
    let file = write(
        dir.path(),
        "ns.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n",
    );
    let output = sextant()
        .args(["health", &file, "--customizations"])
        .arg(&custom)
        .output()
        .unwrap();
    let lines = lines(&output);
    assert_eq!(lines[0]["status"], "Unknown");
    let message = lines[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "health script Namespace/health.lua failed: Namespace/health.lua:1: attempt to index"
        ),
        "{message}"
    );
}

#[test]
fn unreadable_input_is_an_error_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.yaml");
    let output = sextant().arg("health").arg(&missing).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.starts_with("sextant: could not read "), "{stderr}");
    assert!(stderr.contains("missing.yaml"), "{stderr}");

    let bad = write(dir.path(), "bad.yaml", "kind: Pod\n---\nkind: [unclosed\n");
    let output = sextant().args(["health", &bad]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("could not parse") && stderr.contains("YAML document 2"),
        "{stderr}"
    );
}

#[test]
fn a_missing_customizations_directory_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "ns.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n",
    );
    let output = sextant()
        .args(["health", &file, "--customizations"])
        .arg(dir.path().join("nope"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with("sextant: could not load health customizations from "),
        "{stderr}"
    );
}
