//! The Lua runtime across many evaluations: one state reused per thread,
//! with nothing a script does carried over to the next object.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use sextant_engine::health::lua::{LuaError, LuaLimits, LuaRuntime};
use sextant_engine::health::{Health, HealthCustomizations, HealthStatus, Script, assess};

fn widget(name: &str) -> Value {
    json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": name}})
}

fn script(source: &str) -> Script {
    Script {
        name: "test".to_owned(),
        source: Arc::from(source),
    }
}

fn with_script(source: &str) -> HealthCustomizations {
    let mut custom = HealthCustomizations::new();
    custom.insert("example.com/Widget", source).unwrap();
    custom
}

#[test]
fn globals_set_by_one_evaluation_are_gone_in_the_next() {
    let custom = with_script(
        r#"
        local seen = tostring(leftover) .. " " .. type(string.upper)
        leftover = obj.metadata.name
        string.upper = nil
        return {status = "Healthy", message = seen}
        "#,
    );
    let first = assess(&widget("a"), &custom);
    let second = assess(&widget("b"), &custom);
    assert_eq!(first, Health::healthy("nil function"));
    assert_eq!(second, Health::healthy("nil function"));
}

#[test]
fn a_runtime_evaluates_many_objects_with_one_compiled_script() {
    let mut runtime = LuaRuntime::new().unwrap();
    let check = script(r#"return {status = "Healthy", message = obj.metadata.name}"#);
    for i in 0..100 {
        let name = format!("w{i}");
        let health = runtime
            .evaluate(&check, &widget(&name), &LuaLimits::default())
            .unwrap();
        assert_eq!(health, Some(Health::healthy(name)));
    }
}

#[test]
fn a_changed_script_is_compiled_again() {
    let mut runtime = LuaRuntime::new().unwrap();
    let limits = LuaLimits::default();
    let old = script(r#"return {status = "Healthy"}"#);
    let new = script(r#"return {status = "Degraded"}"#);
    let obj = widget("w");
    assert_eq!(
        runtime
            .evaluate(&old, &obj, &limits)
            .unwrap()
            .map(|h| h.status),
        Some(HealthStatus::Healthy)
    );
    assert_eq!(
        runtime
            .evaluate(&new, &obj, &limits)
            .unwrap()
            .map(|h| h.status),
        Some(HealthStatus::Degraded)
    );
}

#[test]
fn a_runtime_keeps_working_after_a_script_times_out() {
    let mut runtime = LuaRuntime::new().unwrap();
    let limits = LuaLimits {
        timeout: Duration::from_millis(20),
        ..LuaLimits::default()
    };
    let obj = widget("w");
    let stuck = runtime.evaluate(&script("while true do end"), &obj, &limits);
    assert!(matches!(stuck, Err(LuaError::Timeout { .. })), "{stuck:?}");
    let fine = runtime.evaluate(&script(r#"return {status = "Healthy"}"#), &obj, &limits);
    assert_eq!(fine.unwrap(), Some(Health::healthy("")));
}

#[test]
fn a_runtime_keeps_working_after_a_script_runs_out_of_memory() {
    let mut runtime = LuaRuntime::new().unwrap();
    let limits = LuaLimits {
        memory_bytes: 1_000_000,
        ..LuaLimits::default()
    };
    let obj = widget("w");
    let greedy = runtime.evaluate(
        &script("local s = 'x' while true do s = s .. s end"),
        &obj,
        &limits,
    );
    assert!(matches!(greedy, Err(LuaError::Memory { .. })), "{greedy:?}");
    let fine = runtime.evaluate(&script(r#"return {status = "Healthy"}"#), &obj, &limits);
    assert_eq!(fine.unwrap(), Some(Health::healthy("")));
}

#[test]
fn customizations_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<HealthCustomizations>();

    let custom = Arc::new(with_script(
        r#"return {status = "Healthy", message = obj.metadata.name}"#,
    ));
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let custom = Arc::clone(&custom);
            std::thread::spawn(move || {
                (0..50)
                    .map(|i| assess(&widget(&format!("t{t}-{i}")), &custom).message)
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for (t, handle) in handles.into_iter().enumerate() {
        let messages = handle.join().unwrap();
        assert_eq!(messages.len(), 50);
        assert_eq!(messages[49], format!("t{t}-49"));
    }
}
