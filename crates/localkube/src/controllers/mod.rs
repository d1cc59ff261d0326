//! Simulated cluster controllers, kwok-style: no containers run, but
//! Deployments roll out through ReplicaSets to Pods that become Ready (or
//! fail to pull, crash-loop, never get ready), Jobs complete or fail,
//! CronJobs fire, Services and Ingresses get addresses, PVCs bind,
//! Endpoints follow ready Pods, and Events record it all.
//!
//! Every controller is level-based: a pass reads the whole state and writes
//! only what differs, through the same API semantics clients use (so
//! resourceVersions, managedFields and watch events are real). Passes run
//! after any change and on a short tick for time-based transitions.

mod api;
mod cron;
mod events;
mod jobs;
mod network;
mod pods;
mod remote;
mod workloads;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::task::JoinHandle;

pub use remote::{RemoteError, StandIn};

use self::api::{LocalApi, Res, SimApi};
use crate::cluster::Cluster;

/// How the simulated controllers behave.
#[derive(Debug, Clone)]
pub struct SimulationConfig {
    /// Run the controllers at all.
    pub enabled: bool,
    /// Number of Ready Nodes created at start.
    pub nodes: usize,
    /// From Pod creation to containers running.
    pub pod_start_delay: Duration,
    /// From running to Ready.
    pub pod_ready_delay: Duration,
    /// How long a Job's Pod runs before it succeeds (or fails).
    pub job_run_time: Duration,
    /// Interval of time-based passes.
    pub tick: Duration,
}

impl Default for SimulationConfig {
    fn default() -> Self {
        SimulationConfig {
            enabled: true,
            nodes: 3,
            pod_start_delay: Duration::from_millis(300),
            pod_ready_delay: Duration::from_millis(300),
            job_run_time: Duration::from_millis(500),
            tick: Duration::from_millis(100),
        }
    }
}

/// Which controllers a pass runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// localkube's own cluster: every simulated controller.
    Everything,
    /// The kubelet stand-in beside a real kube-controller-manager: Nodes,
    /// scheduling, the Pod lifecycle, removal of terminating Pods, load
    /// balancer and Ingress addresses, volume provisioning. Never what
    /// kube-controller-manager does (workloads, jobs, endpoints, GC).
    KubeletOnly,
}

/// State shared by the controllers between passes.
pub(crate) struct Sim {
    pub api: Arc<dyn SimApi>,
    pub role: Role,
    pub cfg: SimulationConfig,
    /// When each Pod (by uid) was first seen, for its lifecycle clock.
    pub first_seen: Mutex<HashMap<String, Instant>>,
    /// Counter for Pod and load-balancer addresses.
    pub next_ip: Mutex<u32>,
}

/// Field managers the controllers write as.
pub(crate) const CONTROLLER_MANAGER: &str = "kube-controller-manager";
pub(crate) const KUBELET: &str = "kubelet";
pub(crate) const SCHEDULER: &str = "kube-scheduler";

/// Start the controllers; they stop when the returned task is aborted.
pub fn spawn(cluster: Arc<Cluster>, cfg: SimulationConfig) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut rx = cluster.store.read().subscribe();
        let sim = Sim::new(Arc::new(LocalApi(cluster)), Role::Everything, cfg);
        network::create_nodes(&sim);
        loop {
            sim.pass();
            // Wait for a change or the next tick, then drain the burst.
            tokio::select! {
                _ = rx.recv() => {}
                _ = tokio::time::sleep(sim.cfg.tick) => {}
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
            while rx.try_recv().is_ok() {}
        }
    })
}

impl Sim {
    pub(crate) fn new(api: Arc<dyn SimApi>, role: Role, cfg: SimulationConfig) -> Self {
        Sim {
            api,
            role,
            cfg,
            first_seen: Mutex::new(HashMap::new()),
            next_ip: Mutex::new(10),
        }
    }

    pub(crate) fn pass(&self) {
        if self.role == Role::Everything {
            workloads::deployments(self);
            workloads::replicasets(self);
            workloads::statefulsets(self);
            workloads::daemonsets(self);
            jobs::cronjobs(self);
            jobs::jobs(self);
        }
        pods::kubelet(self);
        if self.role == Role::KubeletOnly {
            pods::remove_terminated(self);
        }
        network::services(self);
        if self.role == Role::Everything {
            network::endpoints(self);
        }
        network::ingresses(self);
        network::claims(self);
    }

    /// All objects of a resource.
    pub fn list(&self, group: &str, plural: &str) -> Vec<Arc<Value>> {
        self.api.list(group, plural)
    }

    /// One object.
    pub fn get(&self, group: &str, plural: &str, ns: &str, name: &str) -> Option<Arc<Value>> {
        self.api.get(group, plural, ns, name)
    }

    /// Objects owned (ownerReferences) by `owner`, of one resource.
    pub fn owned(&self, owner: &Value, group: &str, plural: &str) -> Vec<Arc<Value>> {
        self.api.owned(s(owner, "/metadata/uid"), group, plural)
    }

    /// Create an object as `manager`; failures are logged (the next pass retries).
    pub fn create(
        &self,
        group: &str,
        version: &str,
        plural: &str,
        ns: &str,
        body: Value,
        manager: &str,
    ) -> Option<Value> {
        let r = Res {
            group,
            version,
            plural,
        };
        match self.api.create(&r, ns, body, manager) {
            Ok(o) => Some(o),
            Err(e) => {
                tracing::debug!(error = %e, plural, "simulated controller could not create");
                None
            }
        }
    }

    /// Replace an object (main resource or `sub`) if it changed.
    pub fn update(
        &self,
        group: &str,
        version: &str,
        plural: &str,
        obj: &Value,
        sub: Option<&str>,
        manager: &str,
    ) -> Option<Value> {
        let r = Res {
            group,
            version,
            plural,
        };
        match self.api.update(&r, obj, sub, manager) {
            Ok(o) => Some(o),
            Err(e) => {
                let name = s(obj, "/metadata/name");
                tracing::debug!(error = %e, plural, name, "simulated controller could not update");
                None
            }
        }
    }

    /// Write `status` if it differs from the object's current status.
    pub fn set_status(
        &self,
        group: &str,
        version: &str,
        plural: &str,
        obj: &Value,
        status: Value,
        manager: &str,
    ) {
        if obj.get("status") == Some(&status) {
            return;
        }
        let mut o = obj.clone();
        o["status"] = status;
        self.update(group, version, plural, &o, Some("status"), manager);
    }

    /// Delete an object (background propagation).
    pub fn delete(&self, group: &str, version: &str, plural: &str, obj: &Value) {
        self.delete_with(group, version, plural, obj, false);
    }

    /// Delete an object; `now` without a grace period.
    pub fn delete_with(&self, group: &str, version: &str, plural: &str, obj: &Value, now: bool) {
        let ns = s(obj, "/metadata/namespace");
        let name = s(obj, "/metadata/name");
        let r = Res {
            group,
            version,
            plural,
        };
        if let Err(e) = self.api.delete(&r, ns, name, now) {
            tracing::debug!(error = %e, plural, name, "simulated controller could not delete");
        }
    }

    /// Seconds-resolution age of a Pod by our clock (first seen).
    pub fn age(&self, uid: &str) -> Duration {
        let mut seen = self.first_seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.entry(uid.to_string())
            .or_insert_with(Instant::now)
            .elapsed()
    }

    /// A fresh address in 10.244.0.0/16.
    pub fn pod_ip(&self) -> String {
        let mut n = self.next_ip.lock().unwrap_or_else(|e| e.into_inner());
        *n += 1;
        format!("10.244.{}.{}", (*n >> 8) & 0xff, *n & 0xff)
    }

    /// Record an Event about `obj`.
    pub fn event(
        &self,
        obj: &Value,
        kind_type: &str,
        reason: &str,
        message: &str,
        component: &str,
    ) {
        events::record(self, obj, kind_type, reason, message, component);
    }
}

/// String at a JSON pointer, or "".
pub(crate) fn s<'a>(v: &'a Value, p: &str) -> &'a str {
    v.pointer(p).and_then(Value::as_str).unwrap_or("")
}

/// Integer at a JSON pointer, or `default`.
pub(crate) fn i(v: &Value, p: &str, default: i64) -> i64 {
    v.pointer(p).and_then(Value::as_i64).unwrap_or(default)
}

/// An ownerReference to `owner` as its controller.
pub(crate) fn controller_ref(owner: &Value) -> Value {
    json!({
        "apiVersion": s(owner, "/apiVersion"),
        "kind": s(owner, "/kind"),
        "name": s(owner, "/metadata/name"),
        "uid": s(owner, "/metadata/uid"),
        "controller": true,
        "blockOwnerDeletion": true,
    })
}

/// A short stable hash in the alphabet Kubernetes uses for generated names.
pub(crate) fn short_hash(v: &Value) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    // FNV-1a over the canonical JSON text.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in v.to_string().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut out = String::new();
    for _ in 0..10 {
        out.push(ALPHABET[(h % ALPHABET.len() as u64) as usize] as char);
        h /= ALPHABET.len() as u64;
    }
    out
}

/// Whether a Pod is Ready.
pub(crate) fn pod_ready(p: &Value) -> bool {
    p.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter()
                .any(|c| s(c, "/type") == "Ready" && s(c, "/status") == "True")
        })
}

/// Whether a Pod is finished (Succeeded or Failed) or being deleted.
pub(crate) fn pod_inactive(p: &Value) -> bool {
    matches!(s(p, "/status/phase"), "Succeeded" | "Failed")
        || p.pointer("/metadata/deletionTimestamp").is_some()
}

/// The labels a selector's matchLabels requires, all present in `labels`.
pub(crate) fn selector_matches(selector: &Value, labels: &Value) -> bool {
    let Some(ml) = selector
        .get("matchLabels")
        .and_then(Value::as_object)
        .or_else(|| selector.as_object())
    else {
        return false;
    };
    if ml.is_empty() && selector.get("matchExpressions").is_none() {
        return false;
    }
    let ok = ml
        .iter()
        .filter(|(k, _)| *k != "matchExpressions" && *k != "matchLabels")
        .all(|(k, v)| labels.get(k) == Some(v));
    let exprs_ok = selector
        .get("matchExpressions")
        .and_then(Value::as_array)
        .is_none_or(|es| {
            es.iter().all(|e| {
                let key = s(e, "/key");
                let vals: Vec<&str> = e
                    .get("values")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let have = labels.get(key).and_then(Value::as_str);
                match s(e, "/operator") {
                    "In" => have.is_some_and(|h| vals.contains(&h)),
                    "NotIn" => !have.is_some_and(|h| vals.contains(&h)),
                    "Exists" => have.is_some(),
                    "DoesNotExist" => have.is_none(),
                    _ => false,
                }
            })
        });
    ok && exprs_ok
}

/// Now, in the API's timestamp format.
pub(crate) fn now() -> String {
    crate::cluster::now()
}
