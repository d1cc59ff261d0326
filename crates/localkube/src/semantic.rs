//! Semantic validation of built-in kinds beyond what their types enforce:
//! the mistakes a GitOps tool must see rejected at dry-run time.

use serde_json::Value;

use crate::error::Cause;
use crate::resources::ResourceType;

fn required(field: &str) -> Cause {
    Cause {
        reason: "FieldValueRequired".into(),
        message: "Required value".into(),
        field: field.into(),
    }
}

fn invalid(field: &str, value: &Value, why: &str) -> Cause {
    Cause {
        reason: "FieldValueInvalid".into(),
        message: format!("Invalid value: {value}: {why}"),
        field: field.into(),
    }
}

fn pod_spec_causes(spec: &Value, prefix: &str, out: &mut Vec<Cause>) {
    let containers = spec.get("containers").and_then(Value::as_array);
    match containers {
        None => out.push(required(&format!("{prefix}.containers"))),
        Some(cs) if cs.is_empty() => out.push(required(&format!("{prefix}.containers"))),
        Some(cs) => {
            let mut seen = std::collections::BTreeSet::new();
            for (i, c) in cs.iter().enumerate() {
                let name = c.get("name").and_then(Value::as_str).unwrap_or("");
                if !seen.insert(name.to_string()) {
                    out.push(Cause {
                        reason: "FieldValueDuplicate".into(),
                        message: format!("Duplicate value: \"{name}\""),
                        field: format!("{prefix}.containers[{i}].name"),
                    });
                }
                if c.get("image")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
                {
                    out.push(required(&format!("{prefix}.containers[{i}].image")));
                }
            }
        }
    }
}

fn job_restart_policy(spec: &Value, field: &str, out: &mut Vec<Cause>) {
    let policy = spec
        .get("restartPolicy")
        .and_then(Value::as_str)
        .unwrap_or("Always");
    if policy != "OnFailure" && policy != "Never" {
        out.push(Cause {
            reason: "FieldValueNotSupported".into(),
            message: format!(
                "Unsupported value: \"{policy}\": supported values: \"OnFailure\", \"Never\""
            ),
            field: field.into(),
        });
    }
}

fn selector_matches_template(sel: &Value, labels: &Value) -> bool {
    sel.get("matchLabels")
        .and_then(Value::as_object)
        .is_none_or(|m| m.iter().all(|(k, v)| labels.get(k) == Some(v)))
}

/// Causes that make a write of `new` invalid.
pub fn causes(rt: &ResourceType, old: Option<&Value>, new: &Value) -> Vec<Cause> {
    let mut out = Vec::new();
    if rt.custom.is_some() {
        return out;
    }
    match (rt.group.as_str(), rt.kind.as_str()) {
        ("apps", "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet") => {
            let sel = new.pointer("/spec/selector");
            match sel {
                None => out.push(required("spec.selector")),
                Some(sel) => {
                    let labels = new
                        .pointer("/spec/template/metadata/labels")
                        .cloned()
                        .unwrap_or(Value::Null);
                    if !selector_matches_template(sel, &labels) {
                        out.push(invalid(
                            "spec.template.metadata.labels",
                            &labels,
                            "`selector` does not match template `labels`",
                        ));
                    }
                    if let Some(old_sel) = old.and_then(|o| o.pointer("/spec/selector"))
                        && old_sel != sel
                    {
                        out.push(invalid("spec.selector", sel, "field is immutable"));
                    }
                }
            }
            if let Some(spec) = new.pointer("/spec/template/spec") {
                pod_spec_causes(spec, "spec.template.spec", &mut out);
            }
        }
        ("batch", "Job") => {
            if let Some(spec) = new.pointer("/spec/template/spec") {
                pod_spec_causes(spec, "spec.template.spec", &mut out);
                job_restart_policy(spec, "spec.template.spec.restartPolicy", &mut out);
            }
            if let Some(old_t) = old.and_then(|o| o.pointer("/spec/template"))
                && Some(old_t) != new.pointer("/spec/template")
            {
                out.push(invalid(
                    "spec.template",
                    &Value::String("...".into()),
                    "field is immutable",
                ));
            }
        }
        ("batch", "CronJob") => {
            if let Some(spec) = new.pointer("/spec/jobTemplate/spec/template/spec") {
                pod_spec_causes(spec, "spec.jobTemplate.spec.template.spec", &mut out);
                job_restart_policy(
                    spec,
                    "spec.jobTemplate.spec.template.spec.restartPolicy",
                    &mut out,
                );
            }
            if new
                .pointer("/spec/schedule")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                out.push(required("spec.schedule"));
            }
        }
        ("", "Pod") => {
            if let Some(spec) = new.get("spec") {
                pod_spec_causes(spec, "spec", &mut out);
            }
        }
        ("", "Service") => {
            if let Some(ports) = new.pointer("/spec/ports").and_then(Value::as_array) {
                for (i, p) in ports.iter().enumerate() {
                    match p.get("port").and_then(Value::as_i64) {
                        Some(n) if (1..=65535).contains(&n) => {}
                        Some(n) => out.push(invalid(
                            &format!("spec.ports[{i}].port"),
                            &Value::from(n),
                            "must be between 1 and 65535, inclusive",
                        )),
                        None => out.push(required(&format!("spec.ports[{i}].port"))),
                    }
                }
            }
        }
        ("", "ConfigMap" | "Secret") => {
            for field in ["data", "binaryData", "stringData"] {
                if let Some(m) = new.get(field).and_then(Value::as_object) {
                    for k in m.keys() {
                        let ok = !k.is_empty()
                            && k.len() <= 253
                            && k.chars()
                                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
                        if !ok {
                            out.push(invalid(
                                &format!("{field}[{k}]"),
                                &Value::String(k.clone()),
                                "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
                            ));
                        }
                    }
                }
            }
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::Registry;
    use serde_json::json;

    #[test]
    fn deployment_selector_must_match_template_and_is_immutable() {
        let rt = Registry::with_builtins()
            .get("apps", "v1", "deployments")
            .unwrap();
        let d = |sel: &str, lbl: &str| {
            json!({"spec": {"selector": {"matchLabels": {"app": sel}},
                "template": {"metadata": {"labels": {"app": lbl}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})
        };
        assert!(causes(&rt, None, &d("a", "a")).is_empty());
        let c = causes(&rt, None, &d("a", "b"));
        assert_eq!(c[0].field, "spec.template.metadata.labels");
        let c = causes(&rt, Some(&d("a", "a")), &d("b", "b"));
        assert!(
            c.iter()
                .any(|c| c.field == "spec.selector" && c.message.contains("immutable"))
        );
    }

    #[test]
    fn containers_need_an_image() {
        let rt = Registry::with_builtins().get("", "v1", "pods").unwrap();
        let c = causes(&rt, None, &json!({"spec": {"containers": [{"name": "c"}]}}));
        assert_eq!(c[0].field, "spec.containers[0].image");
    }
}
