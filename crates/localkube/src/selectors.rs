//! Label and field selectors: parsing the query-string syntax and matching
//! objects against it.

use serde_json::Value;

use crate::error::ApiError;

/// One requirement of a label selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelReq {
    /// `key=value` / `key==value`
    Eq(String, String),
    /// `key!=value`
    NotEq(String, String),
    /// `key in (a,b)`
    In(String, Vec<String>),
    /// `key notin (a,b)`
    NotIn(String, Vec<String>),
    /// `key`
    Exists(String),
    /// `!key`
    NotExists(String),
}

/// A parsed label selector: all requirements must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector(pub Vec<LabelReq>);

/// A parsed field selector: `field=value` / `field!=value` pairs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSelector(pub Vec<(String, bool, String)>);

/// Split on commas that are not inside parentheses.
fn split_top(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

fn set_values(s: &str, original: &str) -> Result<Vec<String>, ApiError> {
    let s = s.trim();
    let inner = s
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "unable to parse requirement: found '{s}', expected: '(' in label selector \"{original}\""
            ))
        })?;
    Ok(inner
        .split(',')
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect())
}

impl LabelSelector {
    /// Parse `app=web,tier in (a,b),!legacy`.
    pub fn parse(s: &str) -> Result<Self, ApiError> {
        let mut reqs = Vec::new();
        if s.trim().is_empty() {
            return Ok(LabelSelector(reqs));
        }
        for part in split_top(s) {
            let p = part.trim();
            if p.is_empty() {
                continue;
            }
            let words: Vec<&str> = p.splitn(2, char::is_whitespace).collect();
            if words.len() == 2 {
                let rest = words[1].trim_start();
                if let Some(vals) = rest.strip_prefix("notin") {
                    reqs.push(LabelReq::NotIn(words[0].to_string(), set_values(vals, s)?));
                    continue;
                }
                if let Some(vals) = rest.strip_prefix("in") {
                    reqs.push(LabelReq::In(words[0].to_string(), set_values(vals, s)?));
                    continue;
                }
            }
            if let Some((k, v)) = p.split_once("!=") {
                reqs.push(LabelReq::NotEq(k.trim().into(), v.trim().into()));
            } else if let Some((k, v)) = p.split_once("==") {
                reqs.push(LabelReq::Eq(k.trim().into(), v.trim().into()));
            } else if let Some((k, v)) = p.split_once('=') {
                reqs.push(LabelReq::Eq(k.trim().into(), v.trim().into()));
            } else if let Some(k) = p.strip_prefix('!') {
                reqs.push(LabelReq::NotExists(k.trim().into()));
            } else if p.contains(char::is_whitespace) || p.contains('(') {
                return Err(ApiError::bad_request(format!(
                    "unable to parse requirement: \"{p}\" in label selector \"{s}\""
                )));
            } else {
                reqs.push(LabelReq::Exists(p.into()));
            }
        }
        Ok(LabelSelector(reqs))
    }

    /// Whether an object's labels satisfy every requirement.
    pub fn matches(&self, obj: &Value) -> bool {
        let labels = obj.pointer("/metadata/labels");
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        self.0.iter().all(|r| match r {
            LabelReq::Eq(k, v) => get(k) == Some(v.as_str()),
            LabelReq::NotEq(k, v) => get(k) != Some(v.as_str()),
            LabelReq::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            LabelReq::NotIn(k, vs) => !get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            LabelReq::Exists(k) => get(k).is_some(),
            LabelReq::NotExists(k) => get(k).is_none(),
        })
    }

    /// Whether the selector selects everything.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Fields every kind can be selected on, plus per-kind ones a real server
/// supports. Anything else is rejected as the real server does.
/// The field selectors a kind supports beyond `metadata.name` and
/// `metadata.namespace`, as kube-apiserver lists them.
fn kind_fields(kind: &str) -> &'static [&'static str] {
    match kind {
        "Pod" => &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ],
        "Event" => &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
            "regarding.name",
            "regarding.kind",
        ],
        "Secret" => &["type"],
        "Namespace" => &["status.phase"],
        "Node" => &["spec.unschedulable"],
        "ReplicaSet" | "ReplicationController" => &["status.replicas"],
        "Job" => &["status.successful"],
        "CertificateSigningRequest" => &["spec.signerName"],
        _ => &[],
    }
}

fn field_supported(kind: &str, field: &str) -> bool {
    matches!(field, "metadata.name" | "metadata.namespace") || kind_fields(kind).contains(&field)
}

/// kube-apiserver's answer to an unknown field selector.
fn unknown_field(field: &str, kind: &str, custom: bool) -> String {
    let mut known = vec!["metadata.name", "metadata.namespace"];
    if !custom {
        known.extend(kind_fields(kind));
    }
    let list: Vec<String> = known.iter().map(|f| format!("\"{f}\"")).collect();
    format!(
        "\"{field}\" is not a known field selector: only {}",
        list.join(", ")
    )
}

fn field_value(obj: &Value, field: &str) -> String {
    let mut cur = obj;
    for part in field.split('.') {
        match cur.get(part) {
            Some(v) => cur = v,
            None => return String::new(),
        }
    }
    match cur {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

impl FieldSelector {
    /// Parse `metadata.name=x,status.phase!=Running` for objects of `kind`.
    pub fn parse(s: &str, kind: &str, custom: bool) -> Result<Self, ApiError> {
        let mut reqs = Vec::new();
        for part in s.split(',') {
            let p = part.trim();
            if p.is_empty() {
                continue;
            }
            let (field, neg, value) = if let Some((k, v)) = p.split_once("!=") {
                (k, true, v)
            } else if let Some((k, v)) = p.split_once("==") {
                (k, false, v)
            } else if let Some((k, v)) = p.split_once('=') {
                (k, false, v)
            } else {
                return Err(ApiError::bad_request(format!(
                    "invalid selector: '{s}'; can't understand '{p}'"
                )));
            };
            let field = field.trim();
            let supported = if custom {
                matches!(field, "metadata.name" | "metadata.namespace")
            } else {
                field_supported(kind, field)
            };
            if !supported {
                return Err(ApiError::bad_request(unknown_field(field, kind, custom)));
            }
            reqs.push((field.to_string(), neg, value.trim().to_string()));
        }
        Ok(FieldSelector(reqs))
    }

    /// Whether the object satisfies every requirement.
    pub fn matches(&self, obj: &Value) -> bool {
        self.0.iter().all(|(field, neg, value)| {
            let actual = field_value(obj, field);
            (actual == *value) != *neg
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(labels: Value) -> Value {
        json!({"metadata": {"name": "p", "namespace": "default", "labels": labels}, "status": {"phase": "Running"}})
    }

    #[test]
    fn label_selector_supports_equality_sets_and_existence() {
        let p = pod(json!({"app": "web", "tier": "front"}));
        let check = |s: &str| LabelSelector::parse(s).unwrap().matches(&p);
        assert!(check("app=web"));
        assert!(check("app==web,tier"));
        assert!(!check("app!=web"));
        assert!(check("tier in (front, back)"));
        assert!(!check("tier notin (front)"));
        assert!(check("!legacy"));
        assert!(!check("legacy"));
        assert!(check(""));
        assert!(check("app in (web),tier=front"));
    }

    #[test]
    fn field_selector_matches_and_rejects_unknown_fields() {
        let p = pod(json!({}));
        let fs =
            FieldSelector::parse("metadata.name=p,status.phase!=Pending", "Pod", false).unwrap();
        assert!(fs.matches(&p));
        let fs = FieldSelector::parse("status.phase=Pending", "Pod", false).unwrap();
        assert!(!fs.matches(&p));
        let err = FieldSelector::parse("spec.foo=x", "ConfigMap", false).unwrap_err();
        assert_eq!(err.code, 400);
        assert!(
            err.message.contains("is not a known field selector"),
            "{}",
            err.message
        );
    }
}
