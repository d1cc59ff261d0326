//! Kubernetes Events (core/v1) for what the simulated controllers do, as a
//! real cluster records them: involvedObject, reason, message, source and
//! counts, so `kubectl describe` and `kubectl get events` show a history.

use serde_json::{Value, json};

use super::{Sim, now, s};

/// Record one Event about `obj` (type `Normal` or `Warning`). A repeat of
/// the same reason and message on the same object bumps the count.
pub fn record(
    sim: &Sim,
    obj: &Value,
    event_type: &str,
    reason: &str,
    message: &str,
    component: &str,
) {
    let ns = match s(obj, "/metadata/namespace") {
        "" => "default",
        ns => ns,
    };
    let uid = s(obj, "/metadata/uid");
    let name = format!(
        "{}.{}",
        s(obj, "/metadata/name"),
        &super::short_hash(&json!([uid, reason, message]))[..8]
    );
    let t = now();
    if let Some(existing) = sim.get("", "events", ns, &name) {
        let mut e = (*existing).clone();
        e["count"] = json!(super::i(&e, "/count", 1) + 1);
        e["lastTimestamp"] = json!(t);
        sim.update("", "v1", "events", &e, None, component);
        return;
    }
    let body = json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": ns},
        "involvedObject": {
            "apiVersion": s(obj, "/apiVersion"),
            "kind": s(obj, "/kind"),
            "name": s(obj, "/metadata/name"),
            "namespace": s(obj, "/metadata/namespace"),
            "uid": uid,
            "resourceVersion": s(obj, "/metadata/resourceVersion"),
        },
        "reason": reason,
        "message": message,
        "source": {"component": component},
        "firstTimestamp": t,
        "lastTimestamp": t,
        "count": 1,
        "type": event_type,
        "reportingComponent": component,
        "reportingInstance": "localkube",
    });
    sim.create("", "v1", "events", ns, body, component);
    if sim.role == super::Role::KubeletOnly {
        // A real API server serves events.k8s.io/v1 from the same storage.
        return;
    }
    // The events.k8s.io/v1 view (what `kubectl events` reads). A real server
    // serves both from one storage; localkube keeps a second copy instead.
    let series = json!({
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": ns},
        "eventTime": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "reportingController": component,
        "reportingInstance": "localkube",
        "action": reason,
        "reason": reason,
        "regarding": {
            "apiVersion": s(obj, "/apiVersion"),
            "kind": s(obj, "/kind"),
            "name": s(obj, "/metadata/name"),
            "namespace": s(obj, "/metadata/namespace"),
            "uid": uid,
        },
        "note": message,
        "type": event_type,
        "deprecatedSource": {"component": component},
        "deprecatedFirstTimestamp": t,
        "deprecatedLastTimestamp": t,
        "deprecatedCount": 1,
    });
    sim.create("events.k8s.io", "v1", "events", ns, series, component);
}
