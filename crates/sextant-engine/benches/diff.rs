//! What diffing costs without the API round trip: 10,000 (desired, live,
//! predicted) Deployment triples through normalisation, ignore rules and
//! comparison, in server-side mode (the prediction given) and in
//! structural mode (overlay and ownership), one in ten with a real change.
//! Run with `cargo bench -p sextant-engine --bench diff`; prints
//! milliseconds per 10,000 pairs (target: under 1,000).
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "benchmark code")]

use std::hint::black_box;
use std::time::Instant;

use serde_json::{Value, json};
use sextant_engine::diff::{IgnoreDifferences, IgnoreRule, Input, diff_object};

const PAIRS: usize = 10_000;

fn desired(i: usize, image: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": format!("web-{i}"), "namespace": "shop",
            "labels": {"app": "web", "tier": "frontend"},
            "annotations": {"sextant.dev/tracking-id": format!("shop:apps/Deployment:shop/web-{i}")}},
        "spec": {"selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": image,
                    "ports": [{"containerPort": 80, "name": "http"}],
                    "env": [{"name": "MODE", "value": "prod"}, {"name": "LOG", "value": "info"}],
                    "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}}}]}}}})
}

/// `obj` as the server keeps it: defaults, metadata, managedFields, status.
fn served(obj: &Value, replicas: i64) -> Value {
    let mut v = obj.clone();
    let meta = &mut v["metadata"];
    meta["uid"] = json!("0f6a3c1e-7d1b-4a55-9c3e-2b8f7f0d9a11");
    meta["resourceVersion"] = json!("123456");
    meta["generation"] = json!(3);
    meta["creationTimestamp"] = json!("2025-01-01T00:00:00Z");
    meta["managedFields"] = json!([
        {"manager": "sextant", "operation": "Apply", "apiVersion": "apps/v1", "fieldsType": "FieldsV1",
         "fieldsV1": {"f:metadata": {"f:labels": {"f:app": {}, "f:tier": {}}},
            "f:spec": {"f:selector": {}, "f:template": {"f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {"f:containers": {"k:{\"name\":\"web\"}": {".": {}, "f:image": {}, "f:name": {},
                    "f:ports": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}, "f:name": {}}}}}}}}}},
        {"manager": "kubectl", "operation": "Update", "apiVersion": "apps/v1", "fieldsType": "FieldsV1",
         "fieldsV1": {"f:spec": {"f:replicas": {}}}, "subresource": "scale"},
        {"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "apps/v1",
         "fieldsType": "FieldsV1", "fieldsV1": {"f:status": {"f:replicas": {}}}, "subresource": "status"}]);
    let spec = &mut v["spec"];
    spec["replicas"] = json!(replicas);
    spec["revisionHistoryLimit"] = json!(10);
    spec["progressDeadlineSeconds"] = json!(600);
    spec["strategy"] = json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}});
    let pod = &mut spec["template"]["spec"];
    pod["restartPolicy"] = json!("Always");
    pod["dnsPolicy"] = json!("ClusterFirst");
    pod["schedulerName"] = json!("default-scheduler");
    pod["terminationGracePeriodSeconds"] = json!(30);
    pod["securityContext"] = json!({});
    let c = &mut pod["containers"][0];
    c["imagePullPolicy"] = json!("IfNotPresent");
    c["terminationMessagePath"] = json!("/dev/termination-log");
    c["terminationMessagePolicy"] = json!("File");
    c["ports"][0]["protocol"] = json!("TCP");
    v["status"] = json!({"observedGeneration": 3, "replicas": replicas, "readyReplicas": replicas,
        "conditions": [{"type": "Available", "status": "True"}]});
    v
}

fn main() {
    let triples: Vec<(Value, Value, Value)> = (0..PAIRS)
        .map(|i| {
            let image = if i % 10 == 0 {
                "nginx:1.28"
            } else {
                "nginx:1.27"
            };
            let d = desired(i, image);
            (
                d.clone(),
                served(&desired(i, "nginx:1.27"), 3),
                served(&d, 3),
            )
        })
        .collect();
    let none = IgnoreDifferences::none();
    let rules: Vec<IgnoreRule> = serde_json::from_value(json!([
        {"group": "apps", "kind": "Deployment", "jsonPointers": ["/spec/replicas"],
         "managedFieldsManagers": ["kube-controller-manager"]}]))
    .unwrap();
    let ignore = IgnoreDifferences::new(&rules, &[]).unwrap();
    let run = |label: &str, ignore: &IgnoreDifferences, server_side: bool| {
        let mut best = f64::MAX;
        let mut changed = 0;
        for _ in 0..5 {
            let start = Instant::now();
            changed = 0;
            for (d, live, predicted) in &triples {
                let diff = diff_object(
                    Input {
                        desired: Some(d),
                        live: Some(live),
                        predicted: server_side.then_some(predicted),
                        fallback_reason: None,
                        overlay: true,
                    },
                    ignore,
                );
                changed += usize::from(black_box(diff).differs());
            }
            best = best.min(start.elapsed().as_secs_f64() * 1000.0);
        }
        println!("{label:<48} {best:>8.1} ms per {PAIRS} pairs ({changed} changed)");
    };
    run("server-side (prediction given)", &none, true);
    run("server-side + jsonPointer + managers rules", &ignore, true);
    run("structural (overlay + ownership)", &none, false);
    let start = Instant::now();
    let mut bytes = 0;
    for (d, live, predicted) in triples.iter().step_by(10) {
        let diff = diff_object(
            Input {
                desired: Some(d),
                live: Some(live),
                predicted: Some(predicted),
                fallback_reason: None,
                overlay: true,
            },
            &none,
        );
        bytes += diff.unified().len();
    }
    println!(
        "{:<48} {:>8.1} ms for {} changed objects ({bytes} bytes)",
        "unified YAML text of the changed ones",
        start.elapsed().as_secs_f64() * 1000.0,
        PAIRS / 10
    );
}
