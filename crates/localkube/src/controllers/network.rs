//! Nodes, Service load balancers, Ingress addresses, Endpoints and
//! EndpointSlices following ready Pods, and PersistentVolumeClaims binding
//! to volumes made for them.

use serde_json::{Value, json};

use super::{CONTROLLER_MANAGER, Sim, now, pod_inactive, pod_ready, s, selector_matches};

/// Create the simulated Nodes (Ready, with capacity and addresses).
pub fn create_nodes(sim: &Sim) {
    for n in 0..sim.cfg.nodes {
        let name = format!("localkube-node-{n}");
        if sim.get("", "nodes", "", &name).is_some() {
            continue;
        }
        let body = json!({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {
                "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": "amd64",
                "topology.kubernetes.io/zone": format!("zone-{}", n % 3)}},
            "spec": {"podCIDR": format!("10.244.{n}.0/24"), "podCIDRs": [format!("10.244.{n}.0/24")]},
        });
        if let Some(node) = sim.create("", "v1", "nodes", "", body, "kubelet") {
            let t = now();
            let capacity =
                json!({"cpu": "8", "memory": "32Gi", "pods": "110", "ephemeral-storage": "100Gi"});
            let status = json!({
                "capacity": capacity, "allocatable": capacity,
                "conditions": [
                    {"type": "MemoryPressure", "status": "False", "lastHeartbeatTime": t, "lastTransitionTime": t, "reason": "KubeletHasSufficientMemory", "message": "kubelet has sufficient memory available"},
                    {"type": "DiskPressure", "status": "False", "lastHeartbeatTime": t, "lastTransitionTime": t, "reason": "KubeletHasNoDiskPressure", "message": "kubelet has no disk pressure"},
                    {"type": "PIDPressure", "status": "False", "lastHeartbeatTime": t, "lastTransitionTime": t, "reason": "KubeletHasSufficientPID", "message": "kubelet has sufficient PID available"},
                    {"type": "Ready", "status": "True", "lastHeartbeatTime": t, "lastTransitionTime": t, "reason": "KubeletReady", "message": "kubelet is posting ready status"},
                ],
                "addresses": [{"type": "InternalIP", "address": format!("172.18.0.{}", n + 2)}, {"type": "Hostname", "address": name}],
                "nodeInfo": {"kubeletVersion": crate::KUBERNETES_VERSION, "kubeProxyVersion": crate::KUBERNETES_VERSION, "operatingSystem": "linux", "architecture": "amd64", "containerRuntimeVersion": "containerd://2.0.0", "osImage": "localkube", "kernelVersion": "6.1.0", "machineID": "", "systemUUID": "", "bootID": ""},
            });
            sim.set_status("", "v1", "nodes", &node, status, "kubelet");
        }
    }
}

fn lb_ip(sim: &Sim, uid: &str) -> String {
    let _ = sim;
    let n = uid.bytes().map(u32::from).sum::<u32>() % 200 + 20;
    format!("172.18.255.{n}")
}

/// LoadBalancer Services get an ingress address.
pub fn services(sim: &Sim) {
    for svc in sim.list("", "services") {
        if s(&svc, "/spec/type") != "LoadBalancer"
            || svc.pointer("/status/loadBalancer/ingress").is_some()
        {
            continue;
        }
        let ip = lb_ip(sim, s(&svc, "/metadata/uid"));
        let status = json!({"loadBalancer": {"ingress": [{"ip": ip, "ipMode": "VIP"}]}});
        sim.set_status("", "v1", "services", &svc, status, "service-controller");
        sim.event(
            &svc,
            "Normal",
            "EnsuredLoadBalancer",
            "Ensured load balancer",
            "service-controller",
        );
    }
}

/// Ingresses get a load-balancer address.
pub fn ingresses(sim: &Sim) {
    for ing in sim.list("networking.k8s.io", "ingresses") {
        if ing.pointer("/status/loadBalancer/ingress").is_some() {
            continue;
        }
        let status = json!({"loadBalancer": {"ingress": [{"ip": "172.18.255.200"}]}});
        sim.set_status(
            "networking.k8s.io",
            "v1",
            "ingresses",
            &ing,
            status,
            "ingress-controller",
        );
    }
}

/// Endpoints and EndpointSlices for every Service with a selector.
pub fn endpoints(sim: &Sim) {
    let pods = sim.list("", "pods");
    for svc in sim.list("", "services") {
        let Some(selector) = svc
            .pointer("/spec/selector")
            .filter(|v| v.as_object().is_some_and(|m| !m.is_empty()))
        else {
            continue;
        };
        let ns = s(&svc, "/metadata/namespace");
        let name = s(&svc, "/metadata/name");
        let selected: Vec<&Value> = pods
            .iter()
            .filter(|p| {
                s(p, "/metadata/namespace") == ns
                    && !pod_inactive(p)
                    && !s(p, "/status/podIP").is_empty()
            })
            .filter(|p| {
                selector_matches(
                    selector,
                    p.pointer("/metadata/labels").unwrap_or(&Value::Null),
                )
            })
            .map(|p| &**p)
            .collect();
        let address = |p: &Value| json!({"ip": s(p, "/status/podIP"), "nodeName": s(p, "/spec/nodeName"), "targetRef": {"kind": "Pod", "namespace": ns, "name": s(p, "/metadata/name"), "uid": s(p, "/metadata/uid")}});
        let ready: Vec<Value> = selected
            .iter()
            .filter(|p| pod_ready(p))
            .map(|p| address(p))
            .collect();
        let not_ready: Vec<Value> = selected
            .iter()
            .filter(|p| !pod_ready(p))
            .map(|p| address(p))
            .collect();
        let ports: Vec<Value> = svc
            .pointer("/spec/ports")
            .and_then(Value::as_array)
            .map(|ps| {
                ps.iter()
                    .map(|p| {
                        let target = p
                            .get("targetPort")
                            .and_then(Value::as_i64)
                            .or_else(|| p.get("port").and_then(Value::as_i64))
                            .unwrap_or(0);
                        let mut e = json!({"port": target, "protocol": s(p, "/protocol")});
                        if let Some(n) = p.get("name") {
                            e["name"] = n.clone();
                        }
                        e
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut subset = json!({"ports": ports});
        if !ready.is_empty() {
            subset["addresses"] = json!(ready);
        }
        if !not_ready.is_empty() {
            subset["notReadyAddresses"] = json!(not_ready);
        }
        let subsets = if selected.is_empty() {
            json!([])
        } else {
            json!([subset])
        };
        let labels = svc
            .pointer("/metadata/labels")
            .cloned()
            .unwrap_or(json!({}));
        match sim.get("", "endpoints", ns, name) {
            Some(ep) => {
                if ep.get("subsets").cloned().unwrap_or(json!([])) != subsets {
                    let mut e = (*ep).clone();
                    e["subsets"] = subsets.clone();
                    sim.update("", "v1", "endpoints", &e, None, "endpoint-controller");
                }
            }
            None => {
                let mut body = json!({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": name, "namespace": ns, "labels": labels}});
                if !selected.is_empty() {
                    body["subsets"] = subsets.clone();
                }
                sim.create("", "v1", "endpoints", ns, body, "endpoint-controller");
            }
        }
        let slice_endpoints: Vec<Value> = selected
            .iter()
            .map(|p| {
                let r = pod_ready(p);
                json!({"addresses": [s(p, "/status/podIP")], "conditions": {"ready": r, "serving": r, "terminating": false}, "nodeName": s(p, "/spec/nodeName"), "targetRef": {"kind": "Pod", "namespace": ns, "name": s(p, "/metadata/name"), "uid": s(p, "/metadata/uid")}})
            })
            .collect();
        let slice_name = format!(
            "{name}-{}",
            &super::short_hash(&json!(s(&svc, "/metadata/uid")))[..5]
        );
        match sim.get("discovery.k8s.io", "endpointslices", ns, &slice_name) {
            Some(sl) => {
                if sl.get("endpoints").cloned().unwrap_or(json!([])) != json!(slice_endpoints) {
                    let mut e = (*sl).clone();
                    e["endpoints"] = json!(slice_endpoints);
                    sim.update(
                        "discovery.k8s.io",
                        "v1",
                        "endpointslices",
                        &e,
                        None,
                        "endpointslice-controller",
                    );
                }
            }
            None => {
                let body = json!({
                    "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                    "metadata": {"name": slice_name, "namespace": ns,
                        "labels": {"kubernetes.io/service-name": name, "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"},
                        "ownerReferences": [super::controller_ref(&svc)]},
                    "addressType": "IPv4",
                    "endpoints": slice_endpoints,
                    "ports": ports,
                });
                sim.create(
                    "discovery.k8s.io",
                    "v1",
                    "endpointslices",
                    ns,
                    body,
                    "endpointslice-controller",
                );
            }
        }
    }
}

/// PersistentVolumeClaims bind to a volume made for them.
pub fn claims(sim: &Sim) {
    for pvc in sim.list("", "persistentvolumeclaims") {
        if s(&pvc, "/status/phase") == "Bound"
            || pvc.pointer("/metadata/deletionTimestamp").is_some()
        {
            continue;
        }
        let ns = s(&pvc, "/metadata/namespace");
        let pv_name = format!("pvc-{}", s(&pvc, "/metadata/uid"));
        let storage = pvc
            .pointer("/spec/resources/requests/storage")
            .cloned()
            .unwrap_or(json!("1Gi"));
        let modes = pvc
            .pointer("/spec/accessModes")
            .cloned()
            .unwrap_or(json!(["ReadWriteOnce"]));
        if sim.get("", "persistentvolumes", "", &pv_name).is_none() {
            let mut spec = json!({
                "capacity": {"storage": storage}, "accessModes": modes,
                "persistentVolumeReclaimPolicy": "Delete", "volumeMode": "Filesystem",
                "hostPath": {"path": format!("/var/localkube/{pv_name}"), "type": ""},
                "claimRef": {"kind": "PersistentVolumeClaim", "namespace": ns, "name": s(&pvc, "/metadata/name"), "uid": s(&pvc, "/metadata/uid"), "apiVersion": "v1"},
            });
            if let Some(sc) = pvc.pointer("/spec/storageClassName") {
                spec["storageClassName"] = sc.clone();
            }
            let body = json!({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": pv_name}, "spec": spec});
            if let Some(pv) = sim.create(
                "",
                "v1",
                "persistentvolumes",
                "",
                body,
                "persistentvolume-controller",
            ) {
                sim.set_status(
                    "",
                    "v1",
                    "persistentvolumes",
                    &pv,
                    json!({"phase": "Bound"}),
                    "persistentvolume-controller",
                );
            }
        }
        if s(&pvc, "/spec/volumeName").is_empty() {
            let mut p = (*pvc).clone();
            p["spec"]["volumeName"] = json!(pv_name);
            if let Some(updated) = sim.update(
                "",
                "v1",
                "persistentvolumeclaims",
                &p,
                None,
                CONTROLLER_MANAGER,
            ) {
                let status = json!({"phase": "Bound", "accessModes": modes, "capacity": {"storage": storage}});
                sim.set_status(
                    "",
                    "v1",
                    "persistentvolumeclaims",
                    &updated,
                    status,
                    CONTROLLER_MANAGER,
                );
            }
        } else {
            let status =
                json!({"phase": "Bound", "accessModes": modes, "capacity": {"storage": storage}});
            sim.set_status(
                "",
                "v1",
                "persistentvolumeclaims",
                &pvc,
                status,
                CONTROLLER_MANAGER,
            );
        }
    }
}
