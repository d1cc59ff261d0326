//! What assessing one object costs: the built-in rule, a Lua script on the
//! per-thread runtime that `assess` reuses, and (for comparison) a fresh Lua
//! state per object. Run with `cargo bench -p sextant-engine`; prints
//! microseconds per object.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "benchmark code")]

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use serde_json::{Value, json};
use sextant_engine::health::lua::{LuaLimits, LuaRuntime};
use sextant_engine::health::{HealthCustomizations, Script, assess};

/// A health script of the usual size: walk the conditions, build a message.
const SCRIPT: &str = r#"
local hs = {status = "Progressing", message = "Waiting for the rollout"}
if obj.status ~= nil and obj.status.conditions ~= nil then
  for _, condition in ipairs(obj.status.conditions) do
    if condition.type == "Progressing" and condition.reason == "ProgressDeadlineExceeded" then
      return {status = "Degraded", message = condition.message}
    end
  end
  if obj.status.availableReplicas == obj.spec.replicas then
    hs.status = "Healthy"
    hs.message = obj.status.availableReplicas .. " of " .. obj.spec.replicas .. " available"
  end
end
return hs
"#;

fn deployment(i: usize) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": format!("web-{i}"), "namespace": "shop", "generation": 2,
            "labels": {"app": "web", "tier": "frontend"}},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27",
                    "ports": [{"containerPort": 80}]}]}}},
        "status": {"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3,
            "readyReplicas": 3, "availableReplicas": 3, "conditions": [
                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}]}
    })
}

/// The best of five runs over `objects`, in microseconds per object (the
/// best, as other work on the machine only ever adds time).
fn per_object(label: &str, objects: &[Value], mut f: impl FnMut(&Value)) {
    let best = (0..5)
        .map(|_| {
            let start = Instant::now();
            for obj in objects {
                f(obj);
            }
            start.elapsed().as_secs_f64() * 1e6 / objects.len() as f64
        })
        .fold(f64::INFINITY, f64::min);
    println!(
        "{label:<40} {best:>8.2} µs/object (best of 5 x {})",
        objects.len()
    );
}

fn main() {
    let objects: Vec<Value> = (0..10_000).map(deployment).collect();
    let none = HealthCustomizations::new();
    let mut custom = HealthCustomizations::new();
    custom.insert("apps/Deployment", SCRIPT).unwrap();

    per_object("built-in rule", &objects, |obj| {
        black_box(assess(obj, &none));
    });
    // The first call creates this thread's runtime and compiles the script.
    black_box(assess(&objects[0], &custom));
    per_object("Lua script, reused per-thread runtime", &objects, |obj| {
        black_box(assess(obj, &custom));
    });
    let tiny: Vec<Value> = (0..10_000)
        .map(|i| {
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": format!("web-{i}")}, "spec": {"replicas": 3},
            "status": {"availableReplicas": 3}})
        })
        .collect();
    per_object("Lua script, reused runtime, tiny object", &tiny, |obj| {
        black_box(assess(obj, &custom));
    });
    let script = Script {
        name: "bench".to_owned(),
        source: Arc::from(SCRIPT),
    };
    let limits = LuaLimits::default();
    per_object(
        "Lua script, new state per object",
        &objects[..1_000],
        |obj| {
            let mut runtime = LuaRuntime::new().unwrap();
            black_box(runtime.evaluate(&script, obj, &limits).unwrap());
        },
    );
}
