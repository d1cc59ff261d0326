//! Job and CronJob controllers: Jobs run Pods up to `parallelism` until
//! `completions` succeed (Complete) or more than `backoffLimit` fail
//! (Failed, BackoffLimitExceeded); CronJobs create Jobs on their schedule
//! and keep the configured history.

use serde_json::{Map, Value, json};

use super::cron::Schedule;
use super::{CONTROLLER_MANAGER, Sim, controller_ref, i, now, s};

fn has_condition(obj: &Value, kind: &str) -> bool {
    obj.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter()
                .any(|c| s(c, "/type") == kind && s(c, "/status") == "True")
        })
}

fn finished(job: &Value) -> bool {
    has_condition(job, "Complete") || has_condition(job, "Failed")
}

fn condition(kind: &str, reason: &str, message: &str) -> Value {
    let t = now();
    json!({"type": kind, "status": "True", "lastProbeTime": t, "lastTransitionTime": t, "reason": reason, "message": message})
}

/// Job controller.
pub fn jobs(sim: &Sim) {
    for job in sim.list("batch", "jobs") {
        if job.pointer("/metadata/deletionTimestamp").is_some() || finished(&job) {
            continue;
        }
        if job.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        let pods = sim.owned(&job, "", "pods");
        let succeeded = pods
            .iter()
            .filter(|p| s(p, "/status/phase") == "Succeeded")
            .count() as i64;
        let failed = pods
            .iter()
            .filter(|p| s(p, "/status/phase") == "Failed")
            .count() as i64;
        let active: Vec<_> = pods
            .iter()
            .filter(|p| {
                !matches!(s(p, "/status/phase"), "Succeeded" | "Failed")
                    && p.pointer("/metadata/deletionTimestamp").is_none()
            })
            .collect();
        let completions = i(&job, "/spec/completions", 1);
        let parallelism = i(&job, "/spec/parallelism", 1);
        let backoff = i(&job, "/spec/backoffLimit", 6);
        let start = job
            .pointer("/status/startTime")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(now);
        let mut status = json!({"startTime": start, "active": active.len(), "succeeded": succeeded, "failed": failed, "ready": active.iter().filter(|p| super::pod_ready(p)).count(), "uncountedTerminatedPods": {}});
        if failed > backoff {
            for p in &active {
                sim.delete("", "v1", "pods", p);
            }
            status["active"] = json!(0);
            status["conditions"] = json!([
                condition(
                    "FailureTarget",
                    "BackoffLimitExceeded",
                    "Job has reached the specified backoff limit"
                ),
                condition(
                    "Failed",
                    "BackoffLimitExceeded",
                    "Job has reached the specified backoff limit"
                ),
            ]);
            sim.event(
                &job,
                "Warning",
                "BackoffLimitExceeded",
                "Job has reached the specified backoff limit",
                "job-controller",
            );
        } else if succeeded >= completions {
            status["completionTime"] = json!(now());
            status["conditions"] = json!([
                condition(
                    "SuccessCriteriaMet",
                    "CompletionsReached",
                    "Reached expected number of succeeded pods"
                ),
                condition(
                    "Complete",
                    "CompletionsReached",
                    "Reached expected number of succeeded pods"
                ),
            ]);
            sim.event(
                &job,
                "Normal",
                "Completed",
                "Job completed",
                "job-controller",
            );
        } else {
            let want = parallelism.min(completions - succeeded).max(0);
            let template = job.pointer("/spec/template").cloned().unwrap_or(json!({}));
            for _ in (active.len() as i64)..want {
                let mut labels: Map<String, Value> = template
                    .pointer("/metadata/labels")
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default();
                labels.insert(
                    "batch.kubernetes.io/job-name".into(),
                    json!(s(&job, "/metadata/name")),
                );
                let mut meta = json!({
                    "generateName": format!("{}-", s(&job, "/metadata/name")),
                    "labels": labels,
                    "ownerReferences": [controller_ref(&job)],
                });
                if let Some(a) = template.pointer("/metadata/annotations") {
                    meta["annotations"] = a.clone();
                }
                let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": template.get("spec").cloned().unwrap_or(json!({}))});
                if let Some(p) = sim.create(
                    "",
                    "v1",
                    "pods",
                    s(&job, "/metadata/namespace"),
                    pod,
                    CONTROLLER_MANAGER,
                ) {
                    sim.event(
                        &job,
                        "Normal",
                        "SuccessfulCreate",
                        &format!("Created pod: {}", s(&p, "/metadata/name")),
                        "job-controller",
                    );
                }
            }
        }
        if let Some(m) = status.as_object_mut() {
            m.retain(|k, v| {
                k == "startTime"
                    || k == "uncountedTerminatedPods"
                    || k == "conditions"
                    || k == "completionTime"
                    || v.as_i64() != Some(0)
            });
        }
        sim.set_status("batch", "v1", "jobs", &job, status, CONTROLLER_MANAGER);
    }
}

/// CronJob controller.
pub fn cronjobs(sim: &Sim) {
    let now_t = chrono::Utc::now();
    for cj in sim.list("batch", "cronjobs") {
        if cj.pointer("/metadata/deletionTimestamp").is_some() {
            continue;
        }
        let jobs = sim.owned(&cj, "batch", "jobs");
        let active: Vec<Value> = jobs
            .iter()
            .filter(|j| !finished(j))
            .map(|j| json!({"apiVersion": "batch/v1", "kind": "Job", "name": s(j, "/metadata/name"), "namespace": s(j, "/metadata/namespace"), "uid": s(j, "/metadata/uid")}))
            .collect();
        let mut status = cj.get("status").cloned().unwrap_or(json!({}));
        if let Some(schedule) = Schedule::parse(s(&cj, "/spec/schedule"))
            && cj.pointer("/spec/suspend").and_then(Value::as_bool) != Some(true)
        {
            let after = status
                .get("lastScheduleTime")
                .and_then(Value::as_str)
                .or_else(|| {
                    cj.pointer("/metadata/creationTimestamp")
                        .and_then(Value::as_str)
                })
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&chrono::Utc))
                .unwrap_or(now_t);
            let forbid = s(&cj, "/spec/concurrencyPolicy") == "Forbid" && !active.is_empty();
            if let Some(at) = schedule.latest_between(after, now_t)
                && !forbid
            {
                let name = format!("{}-{}", s(&cj, "/metadata/name"), at.timestamp() / 60);
                let tmpl = cj
                    .pointer("/spec/jobTemplate")
                    .cloned()
                    .unwrap_or(json!({}));
                let mut meta = tmpl.get("metadata").cloned().unwrap_or(json!({}));
                meta["name"] = json!(name);
                meta["ownerReferences"] = json!([controller_ref(&cj)]);
                meta["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"] =
                    json!(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
                let body = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": meta, "spec": tmpl.get("spec").cloned().unwrap_or(json!({}))});
                if sim
                    .create(
                        "batch",
                        "v1",
                        "jobs",
                        s(&cj, "/metadata/namespace"),
                        body,
                        CONTROLLER_MANAGER,
                    )
                    .is_some()
                {
                    sim.event(
                        &cj,
                        "Normal",
                        "SuccessfulCreate",
                        &format!("Created job {name}"),
                        "cronjob-controller",
                    );
                }
                status["lastScheduleTime"] =
                    json!(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
            }
        }
        // History limits.
        for (cond, limit) in [
            ("Complete", i(&cj, "/spec/successfulJobsHistoryLimit", 3)),
            ("Failed", i(&cj, "/spec/failedJobsHistoryLimit", 1)),
        ] {
            let mut done: Vec<_> = jobs.iter().filter(|j| has_condition(j, cond)).collect();
            done.sort_by_key(|j| s(j, "/metadata/creationTimestamp").to_string());
            let excess = done.len() as i64 - limit;
            for j in done.iter().take(excess.max(0) as usize) {
                sim.delete("batch", "v1", "jobs", j);
            }
            if cond == "Complete"
                && let Some(last) = done.last()
                && let Some(t) = last.pointer("/status/completionTime")
            {
                status["lastSuccessfulTime"] = t.clone();
            }
        }
        if active.is_empty() {
            if let Some(m) = status.as_object_mut() {
                m.remove("active");
            }
        } else {
            status["active"] = json!(active);
        }
        sim.set_status("batch", "v1", "cronjobs", &cj, status, CONTROLLER_MANAGER);
    }
}
