//! Defaulting the API server does on write (the values `kubectl get -o yaml`
//! shows although nobody set them), address allocation for Services, and the
//! initial status of new objects. The list of defaults is in
//! docs/localkube.md; each follows the Kubernetes API reference.

use std::collections::BTreeSet;
use std::sync::Mutex;

use serde_json::{Map, Value, json};

use crate::resources::ResourceType;

/// The status a freshly created object starts with, when the kind has a
/// status subresource (clients cannot set it on create).
pub fn initial_status(rt: &ResourceType) -> Option<Value> {
    if rt.custom.is_some() {
        return None;
    }
    match (rt.group.as_str(), rt.kind.as_str()) {
        ("", "Namespace") => Some(json!({"phase": "Active"})),
        ("", "Pod") => Some(json!({"phase": "Pending", "qosClass": "BestEffort"})),
        ("", "PersistentVolumeClaim") => Some(json!({"phase": "Pending"})),
        ("", "Service") => Some(json!({"loadBalancer": {}})),
        _ => Some(json!({})),
    }
}

/// Service address allocators (cluster IPs from 10.96.0.0/12, node ports
/// from 30000-32767).
#[derive(Debug, Default)]
pub struct Allocators {
    inner: Mutex<AllocState>,
}

#[derive(Debug, Default)]
struct AllocState {
    next_ip: u32,
    used_ports: BTreeSet<u16>,
    next_port: u16,
}

impl Allocators {
    /// Mark a Service's addresses as taken (after a restart from disk).
    pub fn reserve(&self, service: &Value) {
        let mut s = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(ip) = service.pointer("/spec/clusterIP").and_then(Value::as_str) {
            let parts: Vec<u32> = ip.split('.').filter_map(|p| p.parse().ok()).collect();
            if let [10, b, c, d] = parts[..]
                && b >= 96
            {
                let n = ((b - 96) << 16) + (c << 8) + d;
                s.next_ip = s.next_ip.max(n.saturating_sub(10));
            }
        }
        if let Some(ports) = service.pointer("/spec/ports").and_then(Value::as_array) {
            for p in ports {
                if let Some(np) = p
                    .get("nodePort")
                    .and_then(Value::as_u64)
                    .and_then(|n| u16::try_from(n).ok())
                {
                    s.used_ports.insert(np);
                }
            }
        }
    }

    fn cluster_ip(&self) -> String {
        let mut s = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        // 10.96.0.1 is the kubernetes Service; start after it.
        s.next_ip = s.next_ip.wrapping_add(1);
        let n = (s.next_ip % 0x000f_fffe) + 10;
        format!("10.{}.{}.{}", 96 + (n >> 16), (n >> 8) & 0xff, n & 0xff)
    }

    fn node_port(&self) -> u16 {
        let mut s = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        for _ in 0..2768 {
            s.next_port = if s.next_port < 30000 || s.next_port >= 32767 {
                30000
            } else {
                s.next_port + 1
            };
            let p = s.next_port;
            if s.used_ports.insert(p) {
                return p;
            }
        }
        30000
    }
}

fn obj_mut<'a>(v: &'a mut Value, key: &str) -> Option<&'a mut Map<String, Value>> {
    v.get_mut(key).and_then(Value::as_object_mut)
}

fn set_default(m: &mut Map<String, Value>, key: &str, value: Value) {
    if m.get(key).is_none_or(Value::is_null) {
        m.insert(key.to_string(), value);
    }
}

/// `Always` for `:latest` or untagged images, else `IfNotPresent`.
pub fn image_pull_policy(image: &str) -> &'static str {
    if image.contains('@') {
        return "IfNotPresent";
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        None => "Always",
        Some((_, "latest")) => "Always",
        Some(_) => "IfNotPresent",
    }
}

fn default_probe(p: &mut Value) {
    let Some(m) = p.as_object_mut() else { return };
    set_default(m, "timeoutSeconds", json!(1));
    set_default(m, "periodSeconds", json!(10));
    set_default(m, "successThreshold", json!(1));
    set_default(m, "failureThreshold", json!(3));
    if let Some(h) = m.get_mut("httpGet").and_then(Value::as_object_mut) {
        set_default(h, "path", json!("/"));
        set_default(h, "scheme", json!("HTTP"));
    }
}

fn default_container(c: &mut Value) {
    let Some(m) = c.as_object_mut() else { return };
    set_default(m, "terminationMessagePath", json!("/dev/termination-log"));
    set_default(m, "terminationMessagePolicy", json!("File"));
    set_default(m, "resources", json!({}));
    if let Some(image) = m.get("image").and_then(Value::as_str).map(str::to_string) {
        set_default(m, "imagePullPolicy", json!(image_pull_policy(&image)));
    }
    if let Some(ports) = m.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports.iter_mut().filter_map(Value::as_object_mut) {
            set_default(p, "protocol", json!("TCP"));
        }
    }
    if let Some(env) = m.get_mut("env").and_then(Value::as_array_mut) {
        for e in env {
            if let Some(f) = e
                .pointer_mut("/valueFrom/fieldRef")
                .and_then(Value::as_object_mut)
            {
                set_default(f, "apiVersion", json!("v1"));
            }
        }
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(p) = m.get_mut(probe) {
            default_probe(p);
        }
    }
}

/// Defaults of a PodSpec (in Pods and every pod template).
fn default_pod_spec(spec: &mut Value, is_pod: bool) {
    let Some(m) = spec.as_object_mut() else {
        return;
    };
    set_default(m, "restartPolicy", json!("Always"));
    set_default(m, "dnsPolicy", json!("ClusterFirst"));
    set_default(m, "schedulerName", json!("default-scheduler"));
    set_default(m, "securityContext", json!({}));
    set_default(m, "terminationGracePeriodSeconds", json!(30));
    if is_pod {
        set_default(m, "enableServiceLinks", json!(true));
        set_default(m, "preemptionPolicy", json!("PreemptLowerPriority"));
        set_default(m, "priority", json!(0));
        let sa = m
            .get("serviceAccountName")
            .and_then(Value::as_str)
            .unwrap_or("default")
            .to_string();
        set_default(m, "serviceAccountName", json!(sa.clone()));
        set_default(m, "serviceAccount", json!(sa));
    }
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        if let Some(cs) = m.get_mut(list).and_then(Value::as_array_mut) {
            cs.iter_mut().for_each(default_container);
        }
    }
    if let Some(vols) = m.get_mut("volumes").and_then(Value::as_array_mut) {
        for v in vols.iter_mut().filter_map(Value::as_object_mut) {
            for src in ["configMap", "secret"] {
                if let Some(s) = v.get_mut(src).and_then(Value::as_object_mut) {
                    set_default(s, "defaultMode", json!(420));
                }
            }
        }
    }
}

fn default_template(obj: &mut Value, pointer: &str) {
    if let Some(spec) = obj.pointer_mut(pointer) {
        default_pod_spec(spec, false);
    }
}

/// Fill in the defaults a real API server sets on every write. `old` is the
/// stored object for updates (allocated addresses are kept from it).
pub fn apply(rt: &ResourceType, obj: &mut Value, old: Option<&Value>, alloc: &Allocators) {
    if rt.custom.is_some() {
        return;
    }
    match (rt.group.as_str(), rt.kind.as_str()) {
        ("", "Namespace") => {
            let name = obj
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if let Some(meta) = obj_mut(obj, "metadata") {
                let labels = meta.entry("labels").or_insert_with(|| json!({}));
                if let Some(l) = labels.as_object_mut() {
                    l.insert("kubernetes.io/metadata.name".into(), Value::String(name));
                }
            }
            if obj.pointer("/spec/finalizers").is_none() {
                obj["spec"] = json!({"finalizers": ["kubernetes"]});
            }
        }
        ("", "Pod") => {
            if let Some(spec) = obj.get_mut("spec") {
                default_pod_spec(spec, true);
            }
        }
        ("", "PodTemplate") => default_template(obj, "/template/spec"),
        ("", "ReplicationController") => {
            if let Some(s) = obj_mut(obj, "spec") {
                set_default(s, "replicas", json!(1));
            }
            default_template(obj, "/spec/template/spec");
        }
        ("apps", "Deployment") => {
            if let Some(s) = obj_mut(obj, "spec") {
                set_default(s, "replicas", json!(1));
                set_default(s, "revisionHistoryLimit", json!(10));
                set_default(s, "progressDeadlineSeconds", json!(600));
                let strategy = s.entry("strategy").or_insert_with(|| json!({}));
                if let Some(st) = strategy.as_object_mut() {
                    set_default(st, "type", json!("RollingUpdate"));
                    if st.get("type").and_then(Value::as_str) == Some("RollingUpdate") {
                        let ru = st.entry("rollingUpdate").or_insert_with(|| json!({}));
                        if let Some(ru) = ru.as_object_mut() {
                            set_default(ru, "maxSurge", json!("25%"));
                            set_default(ru, "maxUnavailable", json!("25%"));
                        }
                    }
                }
            }
            default_template(obj, "/spec/template/spec");
        }
        ("apps", "ReplicaSet") => {
            if let Some(s) = obj_mut(obj, "spec") {
                set_default(s, "replicas", json!(1));
            }
            default_template(obj, "/spec/template/spec");
        }
        ("apps", "StatefulSet") => {
            if let Some(s) = obj_mut(obj, "spec") {
                set_default(s, "replicas", json!(1));
                set_default(s, "podManagementPolicy", json!("OrderedReady"));
                set_default(s, "revisionHistoryLimit", json!(10));
                set_default(
                    s,
                    "persistentVolumeClaimRetentionPolicy",
                    json!({"whenDeleted": "Retain", "whenScaled": "Retain"}),
                );
                let us = s.entry("updateStrategy").or_insert_with(|| json!({}));
                if let Some(us) = us.as_object_mut() {
                    set_default(us, "type", json!("RollingUpdate"));
                    if us.get("type").and_then(Value::as_str) == Some("RollingUpdate") {
                        set_default(us, "rollingUpdate", json!({"partition": 0}));
                    }
                }
            }
            default_template(obj, "/spec/template/spec");
        }
        ("apps", "DaemonSet") => {
            if let Some(s) = obj_mut(obj, "spec") {
                set_default(s, "revisionHistoryLimit", json!(10));
                let us = s.entry("updateStrategy").or_insert_with(|| json!({}));
                if let Some(us) = us.as_object_mut() {
                    set_default(us, "type", json!("RollingUpdate"));
                    if us.get("type").and_then(Value::as_str) == Some("RollingUpdate") {
                        set_default(
                            us,
                            "rollingUpdate",
                            json!({"maxSurge": 0, "maxUnavailable": 1}),
                        );
                    }
                }
            }
            default_template(obj, "/spec/template/spec");
        }
        ("batch", "Job") => default_job(obj),
        ("batch", "CronJob") => {
            if let Some(s) = obj_mut(obj, "spec") {
                set_default(s, "concurrencyPolicy", json!("Allow"));
                set_default(s, "suspend", json!(false));
                set_default(s, "successfulJobsHistoryLimit", json!(3));
                set_default(s, "failedJobsHistoryLimit", json!(1));
            }
            default_template(obj, "/spec/jobTemplate/spec/template/spec");
        }
        ("", "Service") => default_service(obj, old, alloc),
        ("", "Secret") => {
            if let Some(m) = obj.as_object_mut() {
                set_default(m, "type", json!("Opaque"));
                // stringData is write-only: folded into data, base64-encoded.
                if let Some(Value::Object(sd)) = m.remove("stringData") {
                    use base64::Engine;
                    let data = m.entry("data").or_insert_with(|| json!({}));
                    if let Some(d) = data.as_object_mut() {
                        for (k, v) in sd {
                            let text = v.as_str().unwrap_or("").to_string();
                            d.insert(
                                k,
                                json!(base64::engine::general_purpose::STANDARD.encode(text)),
                            );
                        }
                    }
                }
            }
        }
        ("", "PersistentVolumeClaim") => {
            if let Some(s) = obj_mut(obj, "spec") {
                set_default(s, "volumeMode", json!("Filesystem"));
            }
        }
        _ => {}
    }
}

fn default_job(obj: &mut Value) {
    let uid = obj
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let Some(s) = obj_mut(obj, "spec") else {
        return;
    };
    set_default(s, "backoffLimit", json!(6));
    let parallelism_set = s.get("parallelism").is_some_and(|v| !v.is_null());
    set_default(s, "parallelism", json!(1));
    if !parallelism_set {
        set_default(s, "completions", json!(1));
    } else if s.get("completions").is_none() {
        // Work-queue jobs (parallelism without completions) keep it unset.
    }
    set_default(s, "completionMode", json!("NonIndexed"));
    set_default(s, "suspend", json!(false));
    if s.get("podFailurePolicy").is_none() {
        set_default(s, "podReplacementPolicy", json!("TerminatingOrFailed"));
    }
    let manual = s.get("manualSelector").and_then(Value::as_bool) == Some(true);
    if !manual && !uid.is_empty() && s.get("selector").is_none() {
        s.insert(
            "selector".into(),
            json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}),
        );
        let labels = json!({
            "batch.kubernetes.io/controller-uid": uid,
            "batch.kubernetes.io/job-name": name,
            "controller-uid": uid,
            "job-name": name,
        });
        let template = s.entry("template").or_insert_with(|| json!({}));
        if let Some(t) = template.as_object_mut() {
            let meta = t.entry("metadata").or_insert_with(|| json!({}));
            if let Some(meta) = meta.as_object_mut() {
                let l = meta.entry("labels").or_insert_with(|| json!({}));
                if let (Some(l), Some(add)) = (l.as_object_mut(), labels.as_object()) {
                    for (k, v) in add {
                        l.insert(k.clone(), v.clone());
                    }
                }
            }
        }
    }
    default_template(obj, "/spec/template/spec");
}

fn default_service(obj: &mut Value, old: Option<&Value>, alloc: &Allocators) {
    let old_spec = old
        .and_then(|o| o.get("spec"))
        .cloned()
        .unwrap_or(json!({}));
    let Some(s) = obj_mut(obj, "spec") else {
        return;
    };
    set_default(s, "type", json!("ClusterIP"));
    set_default(s, "sessionAffinity", json!("None"));
    let ty = s
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP")
        .to_string();
    if ty == "ExternalName" {
        return;
    }
    set_default(s, "internalTrafficPolicy", json!("Cluster"));
    set_default(s, "ipFamilies", json!(["IPv4"]));
    set_default(s, "ipFamilyPolicy", json!("SingleStack"));
    // Allocated values survive updates that omit them, as on a real server.
    for k in ["clusterIP", "clusterIPs"] {
        if s.get(k).is_none()
            && let Some(v) = old_spec.get(k)
        {
            s.insert(k.into(), v.clone());
        }
    }
    if s.get("clusterIP").is_none() {
        let ip = match s
            .get("clusterIPs")
            .and_then(|v| v.get(0))
            .and_then(Value::as_str)
        {
            Some(ip) => ip.to_string(),
            None => alloc.cluster_ip(),
        };
        s.insert("clusterIP".into(), json!(ip));
    }
    if s.get("clusterIPs").is_none()
        && let Some(ip) = s.get("clusterIP").cloned()
    {
        s.insert("clusterIPs".into(), json!([ip]));
    }
    let needs_node_port = ty == "NodePort" || ty == "LoadBalancer";
    if needs_node_port {
        set_default(s, "externalTrafficPolicy", json!("Cluster"));
    }
    if ty == "LoadBalancer" {
        set_default(s, "allocateLoadBalancerNodePorts", json!(true));
    }
    let old_ports: Vec<Value> = old_spec
        .get("ports")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if let Some(ports) = s.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports.iter_mut().filter_map(Value::as_object_mut) {
            set_default(p, "protocol", json!("TCP"));
            if let Some(port) = p.get("port").cloned() {
                set_default(p, "targetPort", port);
            }
            if needs_node_port && p.get("nodePort").is_none() {
                let kept = old_ports
                    .iter()
                    .find(|o| {
                        o.get("port") == p.get("port")
                            && o.get("protocol").or(Some(&json!("TCP"))) == p.get("protocol")
                    })
                    .and_then(|o| o.get("nodePort").cloned());
                p.insert(
                    "nodePort".into(),
                    kept.unwrap_or_else(|| json!(alloc.node_port())),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::Registry;

    fn rt(group: &str, plural: &str) -> std::sync::Arc<ResourceType> {
        Registry::with_builtins().get(group, "v1", plural).unwrap()
    }

    #[test]
    fn image_pull_policy_follows_the_tag() {
        assert_eq!(image_pull_policy("nginx"), "Always");
        assert_eq!(image_pull_policy("nginx:latest"), "Always");
        assert_eq!(image_pull_policy("nginx:1.25"), "IfNotPresent");
        assert_eq!(image_pull_policy("registry:5000/app"), "Always");
        assert_eq!(image_pull_policy("app@sha256:abc"), "IfNotPresent");
    }

    #[test]
    fn deployment_and_its_pod_template_get_defaults() {
        let mut d = json!({"metadata": {"name": "d"}, "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "nginx:1.25", "ports": [{"containerPort": 80}]}]}}}});
        apply(
            &rt("apps", "deployments"),
            &mut d,
            None,
            &Allocators::default(),
        );
        assert_eq!(d["spec"]["replicas"], 1);
        assert_eq!(d["spec"]["strategy"]["rollingUpdate"]["maxSurge"], "25%");
        assert_eq!(d["spec"]["progressDeadlineSeconds"], 600);
        let pod = &d["spec"]["template"]["spec"];
        assert_eq!(pod["restartPolicy"], "Always");
        assert_eq!(pod["dnsPolicy"], "ClusterFirst");
        assert_eq!(pod["terminationGracePeriodSeconds"], 30);
        let c = &pod["containers"][0];
        assert_eq!(c["imagePullPolicy"], "IfNotPresent");
        assert_eq!(c["terminationMessagePath"], "/dev/termination-log");
        assert_eq!(c["ports"][0]["protocol"], "TCP");
    }

    #[test]
    fn services_get_an_ip_and_keep_it_across_updates() {
        let alloc = Allocators::default();
        let svc = rt("", "services");
        let mut s = json!({"spec": {"type": "NodePort", "ports": [{"port": 80}]}});
        apply(&svc, &mut s, None, &alloc);
        let ip = s["spec"]["clusterIP"].as_str().unwrap().to_string();
        assert!(ip.starts_with("10.96."));
        assert_eq!(s["spec"]["ports"][0]["targetPort"], 80);
        let node_port = s["spec"]["ports"][0]["nodePort"].as_u64().unwrap();
        assert!((30000..=32767).contains(&node_port));
        let mut again = json!({"spec": {"type": "NodePort", "ports": [{"port": 80}]}});
        apply(&svc, &mut again, Some(&s), &alloc);
        assert_eq!(again["spec"]["clusterIP"], ip.as_str());
        assert_eq!(again["spec"]["ports"][0]["nodePort"], node_port);
    }

    #[test]
    fn jobs_get_a_generated_selector() {
        let mut j = json!({"metadata": {"name": "j", "uid": "u-1"}, "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}});
        apply(&rt("batch", "jobs"), &mut j, None, &Allocators::default());
        assert_eq!(
            j["spec"]["selector"]["matchLabels"]["batch.kubernetes.io/controller-uid"],
            "u-1"
        );
        assert_eq!(j["spec"]["template"]["metadata"]["labels"]["job-name"], "j");
        assert_eq!(j["spec"]["backoffLimit"], 6);
        assert_eq!(j["spec"]["completions"], 1);
    }
}
