//! Workload controllers: Deployment (ReplicaSets per template, rolling
//! updates within maxSurge/maxUnavailable, Recreate, revision history,
//! status and the Available/Progressing conditions with the reasons a real
//! cluster uses, ProgressDeadlineExceeded), ReplicaSet, StatefulSet
//! (ordered Pods, rolling update by revision) and DaemonSet (a Pod per Node).

use serde_json::{Map, Value, json};

use super::{
    CONTROLLER_MANAGER, Sim, controller_ref, i, now, pod_inactive, pod_ready, s, short_hash,
};

const REVISION: &str = "deployment.kubernetes.io/revision";
/// Deployment annotations kube-controller-manager does not copy to
/// ReplicaSets.
const ANNOTATIONS_NOT_COPIED: &[&str] = &[
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
];

/// Resolve an int-or-percent against `total` (percent rounds up for surge,
/// down for unavailable, as the deployment controller does).
fn int_or_percent(v: Option<&Value>, total: i64, round_up: bool, default: i64) -> i64 {
    match v {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(default),
        Some(Value::String(p)) => {
            let pct: f64 = p.trim_end_matches('%').parse().unwrap_or(0.0);
            let x = pct * total as f64 / 100.0;
            if round_up {
                x.ceil() as i64
            } else {
                x.floor() as i64
            }
        }
        _ => default,
    }
}

fn template_without_hash(template: &Value) -> Value {
    let mut t = template.clone();
    if let Some(l) = t
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        l.remove("pod-template-hash");
    }
    t
}

fn pod_from_template(
    owner: &Value,
    template: &Value,
    name: Option<String>,
    extra_labels: &Map<String, Value>,
) -> Value {
    let mut labels = template
        .pointer("/metadata/labels")
        .cloned()
        .unwrap_or(json!({}));
    if let Some(l) = labels.as_object_mut() {
        for (k, v) in extra_labels {
            l.insert(k.clone(), v.clone());
        }
    }
    let mut meta = json!({
        "namespace": s(owner, "/metadata/namespace"),
        "labels": labels,
        "ownerReferences": [controller_ref(owner)],
    });
    match name {
        Some(n) => meta["name"] = json!(n),
        None => meta["generateName"] = json!(format!("{}-", s(owner, "/metadata/name"))),
    }
    if let Some(a) = template.pointer("/metadata/annotations") {
        meta["annotations"] = a.clone();
    }
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": template.get("spec").cloned().unwrap_or(json!({}))})
}

fn active_pods(sim: &Sim, owner: &Value) -> Vec<Value> {
    sim.owned(owner, "", "pods")
        .into_iter()
        .filter(|p| !pod_inactive(p))
        .map(|p| (*p).clone())
        .collect()
}

fn set_condition(
    conds: &mut Vec<Value>,
    old: &[Value],
    kind: &str,
    status: &str,
    reason: &str,
    message: &str,
    progress: bool,
) {
    let t = now();
    let prev = old.iter().find(|c| s(c, "/type") == kind);
    let same = prev.is_some_and(|p| s(p, "/status") == status && s(p, "/reason") == reason);
    let transition = match prev {
        Some(p) if s(p, "/status") == status => {
            p.get("lastTransitionTime").cloned().unwrap_or(json!(t))
        }
        _ => json!(t),
    };
    let update = if same && !progress {
        prev.and_then(|p| p.get("lastUpdateTime").cloned())
            .unwrap_or(json!(t))
    } else {
        json!(t)
    };
    conds.push(json!({"type": kind, "status": status, "lastUpdateTime": update, "lastTransitionTime": transition, "reason": reason, "message": message}));
}

/// Deployment controller.
pub fn deployments(sim: &Sim) {
    for d in sim.list("apps", "deployments") {
        if d.pointer("/metadata/deletionTimestamp").is_some() {
            continue;
        }
        deployment(sim, &d);
    }
}

fn deployment(sim: &Sim, d: &Value) {
    let name = s(d, "/metadata/name");
    let replicas = i(d, "/spec/replicas", 1);
    let template = d.pointer("/spec/template").cloned().unwrap_or(json!({}));
    let hash = short_hash(&template_without_hash(&template));
    let mut rss: Vec<Value> = sim
        .owned(d, "apps", "replicasets")
        .iter()
        .map(|r| (**r).clone())
        .collect();
    let paused = d.pointer("/spec/paused").and_then(Value::as_bool) == Some(true);
    let max_revision = rss
        .iter()
        .filter_map(|r| {
            s(
                r,
                &format!("/metadata/annotations/{}", REVISION.replace('/', "~1")),
            )
            .parse::<i64>()
            .ok()
        })
        .max()
        .unwrap_or(0);
    let new_idx = rss
        .iter()
        .position(|r| s(r, "/metadata/labels/pod-template-hash") == hash);
    let recreate = s(d, "/spec/strategy/type") == "Recreate";
    let surge = if recreate {
        0
    } else {
        int_or_percent(
            d.pointer("/spec/strategy/rollingUpdate/maxSurge"),
            replicas,
            true,
            1,
        )
    };
    let mut unavailable = if recreate {
        replicas
    } else {
        int_or_percent(
            d.pointer("/spec/strategy/rollingUpdate/maxUnavailable"),
            replicas,
            false,
            0,
        )
    };
    if surge == 0 && unavailable == 0 {
        unavailable = 1;
    }
    let mut created_new = false;
    let new_idx = match new_idx {
        Some(ix) => {
            // The current template's ReplicaSet becomes the newest revision.
            let rev = s(
                &rss[ix],
                &format!("/metadata/annotations/{}", REVISION.replace('/', "~1")),
            )
            .parse::<i64>()
            .unwrap_or(0);
            if rev < max_revision && !paused {
                let mut r = rss[ix].clone();
                r["metadata"]["annotations"][REVISION] = json!((max_revision + 1).to_string());
                if let Some(u) =
                    sim.update("apps", "v1", "replicasets", &r, None, CONTROLLER_MANAGER)
                {
                    rss[ix] = u;
                }
            }
            Some(ix)
        }
        None if !paused => {
            let mut t = template.clone();
            t["metadata"]["labels"]["pod-template-hash"] = json!(hash);
            let mut selector = d.pointer("/spec/selector").cloned().unwrap_or(json!({}));
            selector["matchLabels"]["pod-template-hash"] = json!(hash);
            let others_total: i64 = rss.iter().map(|r| i(r, "/spec/replicas", 0)).sum();
            let initial = if recreate {
                if others_total == 0 { replicas } else { 0 }
            } else {
                (replicas + surge - others_total).clamp(0, replicas)
            };
            let mut labels = t.pointer("/metadata/labels").cloned().unwrap_or(json!({}));
            labels["pod-template-hash"] = json!(hash);
            // As kube-controller-manager does: the Deployment's own
            // annotations are copied to its ReplicaSets (a tracking
            // annotation among them), except kubectl's and the rollout
            // bookkeeping ones.
            let mut annotations = serde_json::Map::new();
            if let Some(own) = d
                .pointer("/metadata/annotations")
                .and_then(Value::as_object)
            {
                for (k, v) in own {
                    if !ANNOTATIONS_NOT_COPIED.contains(&k.as_str()) {
                        annotations.insert(k.clone(), v.clone());
                    }
                }
            }
            annotations.insert(REVISION.into(), json!((max_revision + 1).to_string()));
            annotations.insert(
                "deployment.kubernetes.io/desired-replicas".into(),
                json!(replicas.to_string()),
            );
            annotations.insert(
                "deployment.kubernetes.io/max-replicas".into(),
                json!((replicas + surge).to_string()),
            );
            let body = json!({
                "apiVersion": "apps/v1", "kind": "ReplicaSet",
                "metadata": {
                    "name": format!("{name}-{hash}"),
                    "namespace": s(d, "/metadata/namespace"),
                    "labels": labels,
                    "annotations": annotations,
                    "ownerReferences": [controller_ref(d)],
                },
                "spec": {"replicas": initial, "minReadySeconds": i(d, "/spec/minReadySeconds", 0), "selector": selector, "template": t},
            });
            match sim.create(
                "apps",
                "v1",
                "replicasets",
                s(d, "/metadata/namespace"),
                body,
                CONTROLLER_MANAGER,
            ) {
                Some(rs) => {
                    sim.event(
                        d,
                        "Normal",
                        "ScalingReplicaSet",
                        &format!("Scaled up replica set {name}-{hash} from 0 to {initial}"),
                        "deployment-controller",
                    );
                    rss.push(rs);
                    created_new = true;
                    Some(rss.len() - 1)
                }
                None => None,
            }
        }
        None => None,
    };
    // Scale.
    if !paused && let Some(ni) = new_idx {
        let pods_of = |r: &Value| active_pods(sim, r);
        let available: i64 = rss
            .iter()
            .map(|r| pods_of(r).iter().filter(|p| pod_ready(p)).count() as i64)
            .sum();
        let total: i64 = rss.iter().map(|r| i(r, "/spec/replicas", 0)).sum();
        let new_replicas = i(&rss[ni], "/spec/replicas", 0);
        let old_total: i64 = total - new_replicas;
        // Scale up the new ReplicaSet within the surge.
        let target_new = if recreate {
            if old_total == 0
                && rss
                    .iter()
                    .enumerate()
                    .all(|(k, r)| k == ni || pods_of(r).is_empty())
            {
                replicas
            } else {
                0
            }
        } else {
            let allowed = replicas + surge - total;
            (new_replicas + allowed.max(0))
                .min(replicas)
                .max(if new_replicas > replicas {
                    replicas
                } else {
                    new_replicas
                })
        };
        if target_new != new_replicas {
            scale_rs(sim, d, &mut rss[ni], target_new);
        }
        // Scale down old ReplicaSets within the unavailability budget.
        let min_available = replicas - unavailable;
        let mut budget = if recreate {
            old_total
        } else {
            (available - min_available).max(0)
        };
        // Old ReplicaSets' unready pods can always go.
        for (k, rs) in rss.iter_mut().enumerate() {
            if k == ni {
                continue;
            }
            let cur = i(rs, "/spec/replicas", 0);
            if cur == 0 {
                continue;
            }
            let unready = pods_of(rs).iter().filter(|p| !pod_ready(p)).count() as i64;
            let down = (budget + unready).min(cur);
            if down > 0 {
                scale_rs(sim, d, rs, cur - down);
                budget = (budget - (down - unready).max(0)).max(0);
            }
        }
        // Revision history: drop the oldest empty ReplicaSets beyond the limit.
        let limit = i(d, "/spec/revisionHistoryLimit", 10);
        let mut old_empty: Vec<&Value> = rss
            .iter()
            .enumerate()
            .filter(|(k, r)| {
                *k != ni && i(r, "/spec/replicas", 0) == 0 && i(r, "/status/replicas", 0) == 0
            })
            .map(|(_, r)| r)
            .collect();
        old_empty.sort_by_key(|r| {
            s(
                r,
                &format!("/metadata/annotations/{}", REVISION.replace('/', "~1")),
            )
            .parse::<i64>()
            .unwrap_or(0)
        });
        let excess = old_empty.len() as i64 - limit;
        for r in old_empty.iter().take(excess.max(0) as usize) {
            sim.delete("apps", "v1", "replicasets", r);
        }
    }
    deployment_status(
        sim,
        d,
        &rss,
        new_idx,
        replicas,
        unavailable,
        paused,
        created_new,
    );
}

fn scale_rs(sim: &Sim, d: &Value, rs: &mut Value, to: i64) {
    let from = i(rs, "/spec/replicas", 0);
    let mut r = rs.clone();
    r["spec"]["replicas"] = json!(to);
    if let Some(updated) = sim.update("apps", "v1", "replicasets", &r, None, CONTROLLER_MANAGER) {
        *rs = updated;
        let verb = if to > from { "up" } else { "down" };
        sim.event(
            d,
            "Normal",
            "ScalingReplicaSet",
            &format!(
                "Scaled {verb} replica set {} from {from} to {to}",
                s(rs, "/metadata/name")
            ),
            "deployment-controller",
        );
    }
}

#[allow(
    clippy::too_many_arguments,
    reason = "the inputs of one status computation"
)]
fn deployment_status(
    sim: &Sim,
    d: &Value,
    rss: &[Value],
    new_idx: Option<usize>,
    replicas: i64,
    unavailable: i64,
    paused: bool,
    created_new: bool,
) {
    let sum = |p: &str| -> i64 { rss.iter().map(|r| i(r, p, 0)).sum() };
    let status_replicas = sum("/status/replicas");
    let ready = sum("/status/readyReplicas");
    let available = sum("/status/availableReplicas");
    let updated = new_idx
        .map(|ni| i(&rss[ni], "/status/replicas", 0))
        .unwrap_or(0);
    let new_name = new_idx
        .map(|ni| s(&rss[ni], "/metadata/name").to_string())
        .unwrap_or_default();
    let old = d.get("status").cloned().unwrap_or(json!({}));
    let old_conds: Vec<Value> = old
        .get("conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let progressed = [
        ("updatedReplicas", updated),
        ("readyReplicas", ready),
        ("availableReplicas", available),
        ("replicas", status_replicas),
    ]
    .iter()
    .any(|(k, v)| i(&old, &format!("/{k}"), 0) != *v)
        || created_new
        || old.get("observedGeneration") != d.pointer("/metadata/generation");
    let mut conds = Vec::new();
    if available >= replicas - unavailable {
        set_condition(
            &mut conds,
            &old_conds,
            "Available",
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.",
            false,
        );
    } else {
        set_condition(
            &mut conds,
            &old_conds,
            "Available",
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
            false,
        );
    }
    let complete = updated == replicas
        && available == replicas
        && status_replicas == replicas
        && new_idx.is_some_and(|ni| i(&rss[ni], "/status/readyReplicas", 0) == replicas);
    let deadline = i(d, "/spec/progressDeadlineSeconds", 600);
    let prev_progress = old_conds.iter().find(|c| s(c, "/type") == "Progressing");
    if paused {
        set_condition(
            &mut conds,
            &old_conds,
            "Progressing",
            "Unknown",
            "DeploymentPaused",
            "Deployment is paused",
            false,
        );
    } else if complete {
        set_condition(
            &mut conds,
            &old_conds,
            "Progressing",
            "True",
            "NewReplicaSetAvailable",
            &format!("ReplicaSet \"{new_name}\" has successfully progressed."),
            false,
        );
    } else {
        let last_progress = prev_progress
            .and_then(|c| c.get("lastUpdateTime"))
            .and_then(Value::as_str)
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| chrono::Utc::now().signed_duration_since(t).num_seconds())
            .unwrap_or(0);
        let already_exceeded =
            prev_progress.is_some_and(|c| s(c, "/reason") == "ProgressDeadlineExceeded");
        if !progressed && (already_exceeded || last_progress > deadline) {
            set_condition(
                &mut conds,
                &old_conds,
                "Progressing",
                "False",
                "ProgressDeadlineExceeded",
                &format!("ReplicaSet \"{new_name}\" has timed out progressing."),
                false,
            );
        } else if created_new {
            set_condition(
                &mut conds,
                &old_conds,
                "Progressing",
                "True",
                "NewReplicaSetCreated",
                &format!("Created new replica set \"{new_name}\""),
                true,
            );
        } else {
            set_condition(
                &mut conds,
                &old_conds,
                "Progressing",
                "True",
                "ReplicaSetUpdated",
                &format!("ReplicaSet \"{new_name}\" is progressing."),
                progressed,
            );
        }
    }
    if prev_progress.is_some_and(|c| s(c, "/reason") != "ProgressDeadlineExceeded")
        && conds
            .iter()
            .any(|c| s(c, "/reason") == "ProgressDeadlineExceeded")
    {
        sim.event(
            d,
            "Warning",
            "ProgressDeadlineExceeded",
            &format!("ReplicaSet \"{new_name}\" has timed out progressing."),
            "deployment-controller",
        );
    }
    let mut status = json!({
        "observedGeneration": d.pointer("/metadata/generation").cloned().unwrap_or(json!(1)),
        "replicas": status_replicas,
        "updatedReplicas": updated,
        "readyReplicas": ready,
        "availableReplicas": available,
        "unavailableReplicas": (status_replicas.max(replicas) - available).max(0),
        "conditions": conds,
    });
    let obj = status.as_object_mut();
    if let Some(m) = obj {
        // Real servers omit zero counters.
        m.retain(|_, v| v.as_i64() != Some(0));
    }
    sim.set_status("apps", "v1", "deployments", d, status, CONTROLLER_MANAGER);
}

/// ReplicaSet controller.
pub fn replicasets(sim: &Sim) {
    for rs in sim.list("apps", "replicasets") {
        if rs.pointer("/metadata/deletionTimestamp").is_some() {
            continue;
        }
        let want = i(&rs, "/spec/replicas", 1);
        let mut pods = active_pods(sim, &rs);
        let have = pods.len() as i64;
        let template = rs.pointer("/spec/template").cloned().unwrap_or(json!({}));
        if have < want {
            for _ in have..want {
                if let Some(p) = sim.create(
                    "",
                    "v1",
                    "pods",
                    s(&rs, "/metadata/namespace"),
                    pod_from_template(&rs, &template, None, &Map::new()),
                    CONTROLLER_MANAGER,
                ) {
                    sim.event(
                        &rs,
                        "Normal",
                        "SuccessfulCreate",
                        &format!("Created pod: {}", s(&p, "/metadata/name")),
                        "replicaset-controller",
                    );
                }
            }
        } else if have > want {
            // Unready and newest Pods go first.
            pods.sort_by_key(|p| {
                (
                    pod_ready(p),
                    std::cmp::Reverse(s(p, "/metadata/creationTimestamp").to_string()),
                )
            });
            for p in pods.iter().take((have - want) as usize) {
                sim.delete("", "v1", "pods", p);
                sim.event(
                    &rs,
                    "Normal",
                    "SuccessfulDelete",
                    &format!("Deleted pod: {}", s(p, "/metadata/name")),
                    "replicaset-controller",
                );
            }
        }
        let pods = active_pods(sim, &rs);
        let ready = pods.iter().filter(|p| pod_ready(p)).count() as i64;
        let mut status = json!({
            "replicas": pods.len(),
            "fullyLabeledReplicas": pods.len(),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "observedGeneration": rs.pointer("/metadata/generation").cloned().unwrap_or(json!(1)),
        });
        if let Some(m) = status.as_object_mut() {
            m.retain(|k, v| k == "replicas" || v.as_i64() != Some(0));
        }
        sim.set_status("apps", "v1", "replicasets", &rs, status, CONTROLLER_MANAGER);
    }
}

/// StatefulSet controller: Pods `NAME-0..N-1`, created in order (each
/// after the previous is Ready), updated from the highest ordinal down.
pub fn statefulsets(sim: &Sim) {
    for sts in sim.list("apps", "statefulsets") {
        if sts.pointer("/metadata/deletionTimestamp").is_some() {
            continue;
        }
        let name = s(&sts, "/metadata/name").to_string();
        let ns = s(&sts, "/metadata/namespace").to_string();
        let want = i(&sts, "/spec/replicas", 1);
        let template = sts.pointer("/spec/template").cloned().unwrap_or(json!({}));
        let revision = format!("{name}-{}", &short_hash(&template)[..10]);
        let parallel = s(&sts, "/spec/podManagementPolicy") == "Parallel";
        let pods = active_pods(sim, &sts);
        let by_ordinal = |k: i64| {
            pods.iter()
                .find(|p| s(p, "/metadata/name") == format!("{name}-{k}"))
        };
        let mut acted = false;
        for k in 0..want {
            if by_ordinal(k).is_none() {
                let all_before_ready = (0..k).all(|j| by_ordinal(j).is_some_and(pod_ready));
                if parallel || all_before_ready {
                    let mut extra = Map::new();
                    extra.insert("controller-revision-hash".into(), json!(revision));
                    extra.insert(
                        "statefulset.kubernetes.io/pod-name".into(),
                        json!(format!("{name}-{k}")),
                    );
                    extra.insert("apps.kubernetes.io/pod-index".into(), json!(k.to_string()));
                    let mut pod =
                        pod_from_template(&sts, &template, Some(format!("{name}-{k}")), &extra);
                    pod["spec"]["hostname"] = json!(format!("{name}-{k}"));
                    if let Some(svc) = sts.pointer("/spec/serviceName").and_then(Value::as_str) {
                        pod["spec"]["subdomain"] = json!(svc);
                    }
                    if sim
                        .create("", "v1", "pods", &ns, pod, CONTROLLER_MANAGER)
                        .is_some()
                    {
                        sim.event(
                            &sts,
                            "Normal",
                            "SuccessfulCreate",
                            &format!("create Pod {name}-{k} in StatefulSet {name} successful"),
                            "statefulset-controller",
                        );
                    }
                    acted = true;
                }
                if !parallel {
                    break;
                }
            }
        }
        // Scale down from the top.
        for p in &pods {
            let ord: i64 = s(p, "/metadata/name")
                .rsplit('-')
                .next()
                .and_then(|o| o.parse().ok())
                .unwrap_or(0);
            if ord >= want {
                sim.delete("", "v1", "pods", p);
                acted = true;
            }
        }
        // Rolling update: replace the highest outdated Pod once all are Ready.
        if !acted
            && pods.len() as i64 == want
            && pods.iter().all(pod_ready)
            && s(&sts, "/spec/updateStrategy/type") != "OnDelete"
        {
            let partition = i(&sts, "/spec/updateStrategy/rollingUpdate/partition", 0);
            let mut outdated: Vec<&Value> = pods
                .iter()
                .filter(|p| s(p, "/metadata/labels/controller-revision-hash") != revision)
                .collect();
            outdated.sort_by_key(|p| {
                std::cmp::Reverse(
                    s(p, "/metadata/name")
                        .rsplit('-')
                        .next()
                        .and_then(|o| o.parse::<i64>().ok())
                        .unwrap_or(0),
                )
            });
            if let Some(p) = outdated.first() {
                let ord: i64 = s(p, "/metadata/name")
                    .rsplit('-')
                    .next()
                    .and_then(|o| o.parse().ok())
                    .unwrap_or(0);
                if ord >= partition {
                    sim.delete("", "v1", "pods", p);
                }
            }
        }
        let pods = active_pods(sim, &sts);
        let ready = pods.iter().filter(|p| pod_ready(p)).count() as i64;
        let updated = pods
            .iter()
            .filter(|p| s(p, "/metadata/labels/controller-revision-hash") == revision)
            .count() as i64;
        let old_current = s(&sts, "/status/currentRevision").to_string();
        let current = if updated == want && ready == want || old_current.is_empty() {
            revision.clone()
        } else {
            old_current
        };
        let current_replicas = pods
            .iter()
            .filter(|p| s(p, "/metadata/labels/controller-revision-hash") == current)
            .count() as i64;
        let status = json!({
            "observedGeneration": sts.pointer("/metadata/generation").cloned().unwrap_or(json!(1)),
            "replicas": pods.len(),
            "readyReplicas": ready,
            "currentReplicas": current_replicas,
            "updatedReplicas": updated,
            "availableReplicas": ready,
            "currentRevision": current,
            "updateRevision": revision,
            "collisionCount": 0,
        });
        sim.set_status(
            "apps",
            "v1",
            "statefulsets",
            &sts,
            status,
            CONTROLLER_MANAGER,
        );
    }
}

/// DaemonSet controller: one Pod per Node, replaced one at a time on update.
pub fn daemonsets(sim: &Sim) {
    let nodes: Vec<String> = sim
        .list("", "nodes")
        .iter()
        .map(|n| s(n, "/metadata/name").to_string())
        .collect();
    for ds in sim.list("apps", "daemonsets") {
        if ds.pointer("/metadata/deletionTimestamp").is_some() {
            continue;
        }
        let template = ds.pointer("/spec/template").cloned().unwrap_or(json!({}));
        let revision = short_hash(&template)[..10].to_string();
        let pods = active_pods(sim, &ds);
        for node in &nodes {
            if !pods.iter().any(|p| s(p, "/spec/nodeName") == node) {
                let mut extra = Map::new();
                extra.insert("controller-revision-hash".into(), json!(revision));
                extra.insert(
                    "pod-template-generation".into(),
                    json!(i(&ds, "/metadata/generation", 1).to_string()),
                );
                let mut pod = pod_from_template(&ds, &template, None, &extra);
                pod["spec"]["nodeName"] = json!(node);
                if let Some(p) = sim.create(
                    "",
                    "v1",
                    "pods",
                    s(&ds, "/metadata/namespace"),
                    pod,
                    CONTROLLER_MANAGER,
                ) {
                    sim.event(
                        &ds,
                        "Normal",
                        "SuccessfulCreate",
                        &format!("Created pod: {}", s(&p, "/metadata/name")),
                        "daemonset-controller",
                    );
                }
            }
        }
        if pods.len() == nodes.len()
            && pods.iter().all(pod_ready)
            && let Some(p) = pods
                .iter()
                .find(|p| s(p, "/metadata/labels/controller-revision-hash") != revision)
        {
            sim.delete("", "v1", "pods", p);
        }
        let pods = active_pods(sim, &ds);
        let ready = pods.iter().filter(|p| pod_ready(p)).count();
        let updated = pods
            .iter()
            .filter(|p| s(p, "/metadata/labels/controller-revision-hash") == revision)
            .count();
        let mut status = json!({
            "observedGeneration": ds.pointer("/metadata/generation").cloned().unwrap_or(json!(1)),
            "desiredNumberScheduled": nodes.len(),
            "currentNumberScheduled": pods.len(),
            "numberMisscheduled": 0,
            "numberReady": ready,
            "updatedNumberScheduled": updated,
            "numberAvailable": ready,
            "numberUnavailable": nodes.len().saturating_sub(ready),
        });
        if let Some(m) = status.as_object_mut() {
            m.retain(|k, v| {
                matches!(
                    k.as_str(),
                    "desiredNumberScheduled"
                        | "currentNumberScheduled"
                        | "numberMisscheduled"
                        | "numberReady"
                ) || v.as_i64() != Some(0)
            });
        }
        sim.set_status("apps", "v1", "daemonsets", &ds, status, CONTROLLER_MANAGER);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pct(v: &str, total: i64, up: bool) -> i64 {
        int_or_percent(Some(&json!(v)), total, up, 0)
    }

    #[test]
    fn percentages_round_like_the_deployment_controller() {
        assert_eq!(pct("25%", 3, true), 1);
        assert_eq!(pct("25%", 3, false), 0);
        assert_eq!(pct("50%", 5, true), 3);
        assert_eq!(int_or_percent(Some(&json!(2)), 10, true, 0), 2);
    }
}
