//! Data-driven health tests: each document of `tests/health/*.yaml` holds a
//! sentence naming the case, an object, optional inline Lua customizations
//! and limits, and the expected status and message substring; one `check()`
//! runs a file's cases and reports every mismatch at once.

use std::fs;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;
use sextant_engine::health::lua::LuaLimits;
use sextant_engine::health::{HealthCustomizations, HealthStatus, assess};

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/health")
}

fn field<'a>(case: &'a Value, name: &str) -> Option<&'a Value> {
    case.get(name).filter(|v| !v.is_null())
}

/// Run every case in `file`; fail listing each case whose health differs.
fn check(file: &str) {
    let text = fs::read_to_string(fixture_dir().join(file)).unwrap();
    let mut failures = Vec::new();
    let mut count = 0;
    for document in serde_yaml_ng::Deserializer::from_str(&text) {
        let case = Value::deserialize(document).unwrap();
        count += 1;
        let name = field(&case, "case")
            .and_then(Value::as_str)
            .expect("a case sentence");
        let expected: HealthStatus = field(&case, "expect")
            .and_then(Value::as_str)
            .expect("an expected status")
            .parse()
            .unwrap();
        let message = field(&case, "message")
            .and_then(Value::as_str)
            .unwrap_or("");
        let object = field(&case, "object").expect("an object");

        let mut limits = LuaLimits::default();
        if let Some(ms) = field(&case, "timeoutMs").and_then(Value::as_u64) {
            limits.timeout = Duration::from_millis(ms);
        }
        if let Some(bytes) = field(&case, "memoryBytes").and_then(Value::as_u64) {
            limits.memory_bytes = usize::try_from(bytes).unwrap();
        }
        let mut custom = HealthCustomizations::new().with_limits(limits);
        if let Some(scripts) = field(&case, "customizations").and_then(Value::as_object) {
            for (key, source) in scripts {
                custom
                    .insert(key, source.as_str().expect("a script"))
                    .unwrap();
            }
        }

        let got = assess(object, &custom);
        if got.status != expected || !got.message.contains(message) {
            failures.push(format!(
                "{file}: {name}\n  expected {expected} with message containing {message:?}\n  got      {} with message {:?}",
                got.status, got.message
            ));
        }
    }
    assert!(count > 0, "{file} has no cases");
    assert!(failures.is_empty(), "\n{}\n", failures.join("\n"));
}

/// Every fixture file, each checked by one test below.
const FILES: &[&str] = &[
    "apiservice.yaml",
    "application.yaml",
    "cronjob.yaml",
    "crd.yaml",
    "daemonset.yaml",
    "deployment.yaml",
    "generic.yaml",
    "hpa.yaml",
    "ingress.yaml",
    "job.yaml",
    "lua.yaml",
    "lua_sandbox.yaml",
    "namespace.yaml",
    "pod.yaml",
    "pvc.yaml",
    "replicaset.yaml",
    "service.yaml",
    "statefulset.yaml",
    "workflow.yaml",
];

#[test]
fn every_fixture_file_has_a_test() {
    let mut on_disk: Vec<String> = fs::read_dir(fixture_dir())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".yaml"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = FILES.iter().map(|f| (*f).to_owned()).collect();
    listed.sort();
    assert_eq!(on_disk, listed);
}

#[test]
fn deployments_are_assessed_by_their_rollout() {
    check("deployment.yaml");
}

#[test]
fn api_services_are_healthy_once_available() {
    check("apiservice.yaml");
}

#[test]
fn child_applications_report_their_own_health() {
    check("application.yaml");
}

#[test]
fn cronjobs_are_assessed_by_suspension_and_their_last_run() {
    check("cronjob.yaml");
}

#[test]
fn crds_are_healthy_once_established_with_accepted_names() {
    check("crd.yaml");
}

#[test]
fn daemonsets_are_assessed_by_their_rollout() {
    check("daemonset.yaml");
}

#[test]
fn other_kinds_follow_the_standard_conditions_and_observed_generation() {
    check("generic.yaml");
}

#[test]
fn autoscalers_are_assessed_by_their_conditions() {
    check("hpa.yaml");
}

#[test]
fn ingresses_wait_for_an_address() {
    check("ingress.yaml");
}

#[test]
fn jobs_are_assessed_by_their_terminal_conditions() {
    check("job.yaml");
}

#[test]
fn lua_scripts_decide_in_argo_cds_dialect_and_layout() {
    check("lua.yaml");
}

#[test]
fn lua_scripts_are_sandboxed_and_their_failures_are_unknown() {
    check("lua_sandbox.yaml");
}

#[test]
fn namespaces_are_healthy_while_active() {
    check("namespace.yaml");
}

#[test]
fn pods_are_assessed_by_phase_containers_and_readiness() {
    check("pod.yaml");
}

#[test]
fn claims_are_assessed_by_their_phase() {
    check("pvc.yaml");
}

#[test]
fn replicasets_are_assessed_by_available_replicas() {
    check("replicaset.yaml");
}

#[test]
fn load_balancer_services_wait_for_an_address() {
    check("service.yaml");
}

#[test]
fn statefulsets_are_assessed_by_readiness_and_revision() {
    check("statefulset.yaml");
}
