//! Plain templates: `{{key}}` (spaces inside the braces allowed) becomes
//! the parameter's value; a key the set does not have is left as it is,
//! braces included, as Argo CD does.

use crate::params::{Params, text};

/// Render `s` with flat parameters.
pub fn render(s: &str, flat: &Params) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                let key = after[..end].trim();
                match flat.get(key) {
                    Some(v) => out.push_str(&text(v)),
                    None => out.push_str(&rest[start..start + 2 + end + 2]),
                }
                rest = &after[end + 2..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn params(v: Value) -> Params {
        match v {
            Value::Object(m) => m,
            _ => Params::new(),
        }
    }

    #[test]
    fn table() {
        let p = params(json!({
            "path": "clusters/prod-us-east/apps/web",
            "path.basename": "web",
            "path[1]": "prod-us-east",
            "replicas": 3,
            "values.team": "payments",
        }));
        for (template, want) in [
            ("{{path.basename}}-prod-us-east", "web-prod-us-east"),
            ("{{ path.basename }}", "web"),
            ("{{path}}", "clusters/prod-us-east/apps/web"),
            ("{{path[1]}}", "prod-us-east"),
            ("n={{replicas}}", "n=3"),
            ("{{values.team}}/{{path.basename}}", "payments/web"),
            ("{{unknown}}-x", "{{unknown}}-x"),
            ("{{ unclosed", "{{ unclosed"),
            ("no template", "no template"),
            ("{{path.basename}}{{path.basename}}", "webweb"),
        ] {
            assert_eq!(render(template, &p), want, "{template}");
        }
    }
}
