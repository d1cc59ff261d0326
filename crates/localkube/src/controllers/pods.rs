//! The scheduler and kubelet of the simulation: Pods are bound to a Node,
//! then move Pending -> Running -> Ready on the configured clock, unless
//! their manifest asks for a failure.
//!
//! How a manifest asks (documented in docs/localkube.md): the annotation
//! `localkube.sextant.dev/simulate` on the Pod (or its template) with value
//! `image-pull-error`, `crash-loop`, `never-ready` or `fail`; or by image
//! name: an image containing `doesnotexist` or `invalid` cannot be pulled,
//! `crashloop` crash-loops, `neverready` never becomes ready, and a Job Pod
//! whose image contains `fail` exits with code 1.

use std::time::Duration;

use serde_json::{Value, json};

use super::{KUBELET, SCHEDULER, Sim, now, s};

/// The annotation that selects a simulated behaviour.
pub const SIMULATE_ANNOTATION: &str = "localkube.sextant.dev/simulate";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    Normal,
    ImagePullError,
    CrashLoop,
    NeverReady,
    Fail,
}

fn behaviour(pod: &Value) -> Behaviour {
    match s(
        pod,
        &format!(
            "/metadata/annotations/{}",
            SIMULATE_ANNOTATION.replace('/', "~1")
        ),
    ) {
        "image-pull-error" => return Behaviour::ImagePullError,
        "crash-loop" => return Behaviour::CrashLoop,
        "never-ready" => return Behaviour::NeverReady,
        "fail" => return Behaviour::Fail,
        _ => {}
    }
    let images: Vec<String> = containers(pod)
        .iter()
        .map(|c| s(c, "/image").to_lowercase())
        .collect();
    if images
        .iter()
        .any(|i| i.contains("doesnotexist") || i.contains("invalid"))
    {
        Behaviour::ImagePullError
    } else if images.iter().any(|i| i.contains("crashloop")) {
        Behaviour::CrashLoop
    } else if images.iter().any(|i| i.contains("neverready")) {
        Behaviour::NeverReady
    } else if images.iter().any(|i| i.contains("fail")) && runs_to_completion(pod) {
        Behaviour::Fail
    } else {
        Behaviour::Normal
    }
}

fn containers(pod: &Value) -> Vec<Value> {
    pod.pointer("/spec/containers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn runs_to_completion(pod: &Value) -> bool {
    matches!(s(pod, "/spec/restartPolicy"), "Never" | "OnFailure")
}

fn condition(kind: &str, status: bool, reason: Option<&str>, t: &str) -> Value {
    // No `lastProbeTime: null`: the API server drops nulls, so the stored
    // status would never equal this one and every pass would resubmit it.
    let mut c = json!({"type": kind, "status": if status { "True" } else { "False" }, "lastTransitionTime": t});
    if let Some(r) = reason {
        c["reason"] = json!(r);
    }
    c
}

/// Keep the lastTransitionTime of conditions whose status did not change.
fn keep_transition_times(new: &mut Value, old: &Value) {
    let Some(olds) = old.get("conditions").and_then(Value::as_array) else {
        return;
    };
    if let Some(news) = new.get_mut("conditions").and_then(Value::as_array_mut) {
        for c in news.iter_mut() {
            if let Some(o) = olds
                .iter()
                .find(|o| o.get("type") == c.get("type") && o.get("status") == c.get("status"))
            {
                c["lastTransitionTime"] =
                    o.get("lastTransitionTime").cloned().unwrap_or(Value::Null);
            }
        }
    }
}

/// Bind an unscheduled Pod to a Node: the one its required node affinity
/// names by `metadata.name` (as DaemonSet Pods ask), else one picked by uid.
fn schedule(sim: &Sim, pod: &Value, nodes: &[String]) -> bool {
    if !s(pod, "/spec/nodeName").is_empty() || nodes.is_empty() {
        return false;
    }
    let uid = s(pod, "/metadata/uid");
    let idx = (uid.bytes().map(u32::from).sum::<u32>() as usize) % nodes.len();
    let node = required_node(pod).unwrap_or_else(|| nodes[idx].clone());
    match sim.api.bind(pod, &node, SCHEDULER) {
        Ok(()) => {
            let msg = format!(
                "Successfully assigned {}/{} to {node}",
                s(pod, "/metadata/namespace"),
                s(pod, "/metadata/name"),
            );
            sim.event(pod, "Normal", "Scheduled", &msg, "default-scheduler");
        }
        Err(e) => {
            tracing::debug!(error = %e, pod = s(pod, "/metadata/name"), "could not bind");
        }
    }
    true
}

/// The Node a Pod's required affinity pins it to by `metadata.name`.
fn required_node(pod: &Value) -> Option<String> {
    let terms = pod
        .pointer("/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms")?
        .as_array()?;
    terms.iter().find_map(|t| {
        t.get("matchFields")?.as_array()?.iter().find_map(|f| {
            (s(f, "/key") == "metadata.name" && s(f, "/operator") == "In")
                .then(|| f.pointer("/values/0")?.as_str().map(str::to_string))
                .flatten()
        })
    })
}

/// Remove Pods the API server marked for deletion, as a kubelet does once
/// their containers stopped (at once: no container runs here). Only needed
/// beside a real API server; localkube deletes Pods without a grace period.
pub fn remove_terminated(sim: &Sim) {
    for pod in sim.list("", "pods") {
        if pod.pointer("/metadata/deletionTimestamp").is_some()
            && !s(&pod, "/spec/nodeName").is_empty()
        {
            sim.delete_with("", "v1", "pods", &pod, true);
        }
    }
}

/// Advance every Pod's status along its lifecycle.
pub fn kubelet(sim: &Sim) {
    let nodes: Vec<String> = sim
        .list("", "nodes")
        .iter()
        .map(|n| s(n, "/metadata/name").to_string())
        .collect();
    for pod in sim.list("", "pods") {
        if pod.pointer("/metadata/deletionTimestamp").is_some() {
            continue;
        }
        if schedule(sim, &pod, &nodes) {
            continue;
        }
        let phase = s(&pod, "/status/phase");
        if phase == "Succeeded" || phase == "Failed" {
            continue;
        }
        let Some(status) = next_status(sim, &pod) else {
            continue;
        };
        let before_phase = phase.to_string();
        let was_ready = super::pod_ready(&pod);
        sim.set_status("", "v1", "pods", &pod, status.clone(), KUBELET);
        report_transitions(sim, &pod, &before_phase, was_ready, &status);
    }
}

/// The status the kubelet wants `pod` to have now: its lifecycle stage,
/// with what is fixed once set (transition times, addresses, start times,
/// container IDs) kept from the stored status. `None` when it has no say.
fn next_status(sim: &Sim, pod: &Value) -> Option<Value> {
    let age = sim.age(s(pod, "/metadata/uid"));
    let mut status = desired_status(sim, pod, age)?;
    if let Some(old) = pod.get("status") {
        keep_transition_times(&mut status, old);
        for k in [
            "podIP",
            "podIPs",
            "startTime",
            "hostIP",
            "hostIPs",
            "qosClass",
        ] {
            if let Some(v) = old.get(k) {
                status[k] = v.clone();
            }
        }
        // Container start times and IDs are fixed once set.
        if let (Some(olds), Some(news)) = (
            old.get("containerStatuses").and_then(Value::as_array),
            status
                .get_mut("containerStatuses")
                .and_then(Value::as_array_mut),
        ) {
            for n in news.iter_mut() {
                if let Some(o) = olds.iter().find(|o| o.get("name") == n.get("name")) {
                    if let (Some(os), Some(ns)) = (
                        o.pointer("/state/running/startedAt"),
                        n.pointer_mut("/state/running/startedAt"),
                    ) {
                        *ns = os.clone();
                    }
                    if let Some(id) = o.get("containerID") {
                        n["containerID"] = id.clone();
                    }
                }
            }
        }
    }
    if status.get("podIP").is_none() && status.get("phase") != Some(&json!("Pending")) {
        let ip = sim.pod_ip();
        status["podIP"] = json!(ip);
        status["podIPs"] = json!([{"ip": ip}]);
    }
    Some(status)
}

fn report_transitions(sim: &Sim, pod: &Value, before_phase: &str, was_ready: bool, status: &Value) {
    let phase = s(status, "/phase");
    let first_waiting = status
        .pointer("/containerStatuses/0/state/waiting/reason")
        .and_then(Value::as_str)
        .unwrap_or("");
    let old_waiting = s(pod, "/status/containerStatuses/0/state/waiting/reason");
    if first_waiting != old_waiting {
        match first_waiting {
            "ErrImagePull" => {
                let img = s(pod, "/spec/containers/0/image");
                sim.event(pod, "Warning", "Failed", &format!("Failed to pull image \"{img}\": rpc error: code = NotFound desc = failed to pull and unpack image \"{img}\": not found"), KUBELET);
            }
            "ImagePullBackOff" => {
                let img = s(pod, "/spec/containers/0/image");
                sim.event(
                    pod,
                    "Normal",
                    "BackOff",
                    &format!("Back-off pulling image \"{img}\""),
                    KUBELET,
                );
            }
            "CrashLoopBackOff" => {
                sim.event(
                    pod,
                    "Warning",
                    "BackOff",
                    "Back-off restarting failed container",
                    KUBELET,
                );
            }
            _ => {}
        }
    }
    if before_phase != "Running" && phase == "Running" {
        for c in containers(pod) {
            let name = s(&c, "/name");
            sim.event(
                pod,
                "Normal",
                "Pulled",
                &format!(
                    "Container image \"{}\" already present on machine",
                    s(&c, "/image")
                ),
                KUBELET,
            );
            sim.event(
                pod,
                "Normal",
                "Created",
                &format!("Created container: {name}"),
                KUBELET,
            );
            sim.event(
                pod,
                "Normal",
                "Started",
                &format!("Started container {name}"),
                KUBELET,
            );
        }
    }
    let _ = was_ready;
}

fn container_id(pod: &Value, name: &str) -> String {
    format!(
        "containerd://{}{}",
        super::short_hash(&json!([s(pod, "/metadata/uid"), name])),
        super::short_hash(&json!([name, s(pod, "/metadata/uid")]))
    )
}

/// The status a Pod of this age and behaviour has; `None` to leave it.
fn desired_status(sim: &Sim, pod: &Value, age: Duration) -> Option<Value> {
    let t = now();
    let cfg = &sim.cfg;
    let behaviour = behaviour(pod);
    let started = age >= cfg.pod_start_delay;
    let ready_time = cfg.pod_start_delay + cfg.pod_ready_delay;
    let node = s(pod, "/spec/nodeName");
    let host_ip = sim
        .get("", "nodes", "", node)
        .map(|n| s(&n, "/status/addresses/0/address").to_string())
        .unwrap_or_default();
    let mut status = json!({
        "phase": "Pending",
        "hostIP": host_ip,
        "hostIPs": [{"ip": host_ip}],
        "startTime": t,
        "qosClass": "BestEffort",
    });
    let cs = containers(pod);
    let created = s(pod, "/metadata/creationTimestamp").to_string();
    let waiting = |reason: &str, message: Option<String>| -> Vec<Value> {
        cs.iter()
            .map(|c| {
                let mut w = json!({"reason": reason});
                if let Some(m) = &message {
                    w["message"] = json!(m);
                }
                json!({"name": s(c, "/name"), "image": s(c, "/image"), "imageID": "", "ready": false, "started": false, "restartCount": 0, "state": {"waiting": w}, "lastState": {}})
            })
            .collect()
    };
    let running = |ready: bool, restarts: i64| -> Vec<Value> {
        cs.iter()
            .map(|c| {
                let image = s(c, "/image");
                json!({
                    "name": s(c, "/name"), "image": image, "imageID": format!("{image}@sha256:{}", super::short_hash(&json!(image)).repeat(6)),
                    "containerID": container_id(pod, s(c, "/name")),
                    "ready": ready, "started": true, "restartCount": restarts,
                    "state": {"running": {"startedAt": now()}}, "lastState": {}
                })
            })
            .collect()
    };
    let not_ready = Some("ContainersNotReady");
    if !started {
        status["conditions"] = json!([
            condition("PodReadyToStartContainers", false, None, &t),
            condition("Initialized", true, None, &t),
            condition("Ready", false, not_ready, &t),
            condition("ContainersReady", false, not_ready, &t),
            condition("PodScheduled", true, None, &t),
        ]);
        status["containerStatuses"] = json!(waiting("ContainerCreating", None));
        return Some(status);
    }
    let base_conditions = |ready: bool| {
        let r = if ready { None } else { not_ready };
        json!([
            condition("PodReadyToStartContainers", true, None, &t),
            condition("Initialized", true, None, &t),
            condition("Ready", ready, r, &t),
            condition("ContainersReady", ready, r, &t),
            condition("PodScheduled", true, None, &t),
        ])
    };
    match behaviour {
        Behaviour::ImagePullError => {
            let image = cs
                .first()
                .map(|c| s(c, "/image").to_string())
                .unwrap_or_default();
            let (reason, msg) = if age < cfg.pod_start_delay * 2 {
                (
                    "ErrImagePull",
                    format!("failed to pull and unpack image \"{image}\": not found"),
                )
            } else {
                (
                    "ImagePullBackOff",
                    format!("Back-off pulling image \"{image}\""),
                )
            };
            status["conditions"] = base_conditions(false);
            status["containerStatuses"] = json!(waiting(reason, Some(msg)));
        }
        Behaviour::CrashLoop => {
            status["phase"] = json!("Running");
            status["conditions"] = base_conditions(false);
            let restarts =
                1 + (age.as_millis() / (cfg.pod_start_delay.as_millis().max(1) * 4)) as i64;
            let statuses: Vec<Value> = cs
                .iter()
                .map(|c| {
                    json!({
                        "name": s(c, "/name"), "image": s(c, "/image"), "imageID": "", "containerID": container_id(pod, s(c, "/name")),
                        "ready": false, "started": false, "restartCount": restarts.min(20),
                        "state": {"waiting": {"reason": "CrashLoopBackOff", "message": format!("back-off 5m0s restarting failed container={} pod={}", s(c, "/name"), s(pod, "/metadata/name"))}},
                        "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": created, "finishedAt": created}}
                    })
                })
                .collect();
            status["containerStatuses"] = json!(statuses);
        }
        Behaviour::Fail | Behaviour::Normal
            if runs_to_completion(pod) && age >= cfg.pod_start_delay + cfg.job_run_time =>
        {
            let ok = behaviour == Behaviour::Normal;
            status["phase"] = json!(if ok { "Succeeded" } else { "Failed" });
            status["conditions"] = base_conditions(false);
            let statuses: Vec<Value> = cs
                .iter()
                .map(|c| {
                    json!({
                        "name": s(c, "/name"), "image": s(c, "/image"), "imageID": "", "containerID": container_id(pod, s(c, "/name")),
                        "ready": false, "started": false, "restartCount": 0,
                        "state": {"terminated": {"exitCode": if ok { 0 } else { 1 }, "reason": if ok { "Completed" } else { "Error" }, "startedAt": created, "finishedAt": now()}},
                        "lastState": {}
                    })
                })
                .collect();
            status["containerStatuses"] = json!(statuses);
        }
        Behaviour::NeverReady => {
            status["phase"] = json!("Running");
            status["conditions"] = base_conditions(false);
            status["containerStatuses"] = json!(running(false, 0));
        }
        _ => {
            let ready = age >= ready_time;
            status["phase"] = json!("Running");
            status["conditions"] = base_conditions(ready);
            status["containerStatuses"] = json!(running(ready, 0));
        }
    }
    Some(status)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::cluster::Cluster;
    use crate::controllers::api::LocalApi;
    use crate::controllers::{Role, SimulationConfig};

    #[test]
    fn a_ready_pods_status_is_stored_as_the_kubelet_computes_it_so_later_passes_write_nothing() {
        let sim = Sim::new(
            Arc::new(LocalApi(Arc::new(Cluster::new()))),
            Role::Everything,
            SimulationConfig {
                pod_start_delay: Duration::ZERO,
                pod_ready_delay: Duration::ZERO,
                ..SimulationConfig::default()
            },
        );
        crate::controllers::network::create_nodes(&sim);
        let pod = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "default"},
            "spec": {"containers": [{"name": "main", "image": "nginx:1.27"}]},
        });
        assert!(
            sim.create("", "v1", "pods", "default", pod, "test")
                .is_some()
        );
        for _ in 0..3 {
            kubelet(&sim);
        }
        let stored = sim.get("", "pods", "default", "p").unwrap_or_default();
        assert!(crate::controllers::pod_ready(&stored), "{stored}");
        // `set_status` skips the write only when these are equal; when they
        // differ in a way the API server normalises away (a null), every
        // pass (10 a second) runs a full no-op update for every Pod.
        assert_eq!(
            next_status(&sim, &stored).as_ref(),
            stored.get("status"),
            "the kubelet would resubmit an unchanged status"
        );
    }
}
