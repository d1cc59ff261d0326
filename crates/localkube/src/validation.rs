//! Name and metadata validation with the API server's rules and messages.

use serde_json::Value;

use crate::error::Cause;

const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

fn is_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// RFC 1123 subdomain (most object names).
pub fn is_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_label)
}

/// Which naming rule a kind's names follow.
pub fn name_errors(kind: &str, name: &str) -> Vec<String> {
    match kind {
        "Namespace" => {
            if is_label(name) {
                vec![]
            } else if name.len() > 63 {
                vec!["must be no more than 63 characters".into()]
            } else {
                vec![LABEL_MSG.into()]
            }
        }
        "Service" => {
            if is_label(name) && name.as_bytes()[0].is_ascii_lowercase() {
                vec![]
            } else {
                vec![DNS1035_MSG.into()]
            }
        }
        "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding" => {
            if name == "." || name == ".." {
                vec![format!("may not be '{name}'")]
            } else if name.contains('/') || name.contains('%') {
                vec![format!("may not contain '/' or '%'")]
            } else {
                vec![]
            }
        }
        _ => {
            if name.len() > 253 {
                vec!["must be no more than 253 characters".into()]
            } else if is_subdomain(name) {
                vec![]
            } else {
                vec![SUBDOMAIN_MSG.into()]
            }
        }
    }
}

fn qualified_name_ok(key: &str) -> bool {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(p) = prefix
        && (p.is_empty() || !is_subdomain(p))
    {
        return false;
    }
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

fn label_value_ok(v: &str) -> bool {
    let b = v.as_bytes();
    b.is_empty()
        || (b.len() <= 63
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric()
            && b.iter()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.')))
}

/// Validate `metadata` (name, labels, annotations) of an object.
pub fn metadata_causes(kind: &str, obj: &Value) -> Vec<Cause> {
    let mut causes = Vec::new();
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    if name.is_empty() {
        causes.push(Cause {
            reason: "FieldValueRequired".into(),
            message: "Required value: name or generateName is required".into(),
            field: "metadata.name".into(),
        });
    } else {
        for msg in name_errors(kind, name) {
            causes.push(Cause {
                reason: "FieldValueInvalid".into(),
                message: format!("Invalid value: \"{name}\": {msg}"),
                field: "metadata.name".into(),
            });
        }
    }
    if let Some(labels) = obj.pointer("/metadata/labels").and_then(Value::as_object) {
        for (k, v) in labels {
            if !qualified_name_ok(k) {
                causes.push(Cause {
                    reason: "FieldValueInvalid".into(),
                    message: format!("Invalid value: \"{k}\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"),
                    field: "metadata.labels".into(),
                });
            }
            match v.as_str() {
                Some(s) if label_value_ok(s) => {}
                _ => causes.push(Cause {
                    reason: "FieldValueInvalid".into(),
                    message: format!("Invalid value: {v}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"),
                    field: format!("metadata.labels.{k}"),
                }),
            }
        }
    }
    if let Some(ann) = obj
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
    {
        let total: usize = ann
            .iter()
            .map(|(k, v)| k.len() + v.as_str().map_or(0, str::len))
            .sum();
        for (k, _) in ann {
            if !qualified_name_ok(k) {
                causes.push(Cause {
                    reason: "FieldValueInvalid".into(),
                    message: format!("Invalid value: \"{k}\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"),
                    field: "metadata.annotations".into(),
                });
            }
        }
        if total > 256 * 1024 {
            causes.push(Cause {
                reason: "FieldValueTooLong".into(),
                message: "Too long: must have at most 262144 bytes".into(),
                field: "metadata.annotations".into(),
            });
        }
    }
    causes
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_follow_the_kind_specific_rule() {
        assert!(name_errors("ConfigMap", "my.config-1").is_empty());
        assert!(!name_errors("ConfigMap", "My_Config").is_empty());
        assert!(!name_errors("Namespace", "a.b").is_empty());
        assert!(!name_errors("Service", "1abc").is_empty());
        assert!(name_errors("ClusterRole", "system:controller:x").is_empty());
    }

    #[test]
    fn bad_label_values_are_reported_with_the_field() {
        let obj = json!({"metadata": {"name": "x", "labels": {"app": "-bad-", "ok/key": "v"}}});
        let causes = metadata_causes("ConfigMap", &obj);
        assert_eq!(causes.len(), 1);
        assert_eq!(causes[0].field, "metadata.labels.app");
    }
}
