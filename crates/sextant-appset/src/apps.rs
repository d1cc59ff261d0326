//! From parameter sets to Applications: the template rendered once per
//! set, `templatePatch` merged over it, then checked as an Application.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use sextant_model::Application;
use sextant_model::appset::ApplicationSetSpec;

use crate::params::{Mode, Params};
use crate::template::{Renderer, go};

/// The finalizers that make deleting an Application delete its objects.
const RESOURCE_FINALIZERS: [&str; 2] = [
    "resources-finalizer.sextant.dev",
    "resources-finalizer.argocd.argoproj.io",
];

/// How a set's templates render.
pub fn renderer(spec: &ApplicationSetSpec) -> Result<Renderer, String> {
    Ok(Renderer {
        mode: if spec.go_template {
            Mode::Go
        } else {
            Mode::Plain
        },
        go: go::Options::parse(&spec.go_template_options)?,
    })
}

/// The Applications a set makes of `sets`, in `namespace`, as JSON
/// objects ready to apply (without owner references), in order. Any set
/// that does not give a valid Application, and two sets giving the same
/// name, are errors: the caller changes nothing then.
pub fn render(
    spec: &ApplicationSetSpec,
    sets: &[Params],
    namespace: &str,
) -> Result<Vec<Value>, String> {
    let r = renderer(spec)?;
    let template = spec
        .template
        .as_object()
        .ok_or("spec.template is not an object")?;
    let template = Value::Object(template.clone());
    let preserve = spec
        .sync_policy
        .as_ref()
        .is_some_and(|p| p.preserve_resources_on_deletion);
    let mut out = Vec::with_capacity(sets.len());
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (i, params) in sets.iter().enumerate() {
        let app = one(&r, spec, &template, params, namespace, preserve)
            .map_err(|e| format!("parameter set {i} ({}): {e}", describe(params)))?;
        let name = app["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if let Some(first) = seen.insert(name.clone(), i) {
            return Err(format!(
                "parameter sets {first} and {i} both make an Application named `{name}`: make the template's metadata.name tell them apart"
            ));
        }
        out.push(app);
    }
    Ok(out)
}

fn one(
    r: &Renderer,
    spec: &ApplicationSetSpec,
    template: &Value,
    params: &Params,
    namespace: &str,
    preserve: bool,
) -> Result<Value, String> {
    let mut rendered = r.value(template, params)?;
    if let Some(patch) = spec
        .template_patch
        .as_deref()
        .filter(|p| !p.trim().is_empty())
    {
        let text = r
            .string(patch, params)
            .map_err(|e| format!("templatePatch: {e}"))?;
        let patch: Value = serde_yaml_ng::from_str(&text)
            .map_err(|e| format!("templatePatch does not render to YAML: {e}"))?;
        json_patch::merge(&mut rendered, &patch);
    }
    let meta = rendered.get("metadata").cloned().unwrap_or(json!({}));
    let name = meta["name"].as_str().unwrap_or_default().to_owned();
    check_name(&name)?;
    let mut finalizers: Vec<Value> = meta["finalizers"].as_array().cloned().unwrap_or_default();
    if preserve {
        finalizers.retain(|f| {
            !f.as_str()
                .is_some_and(|f| RESOURCE_FINALIZERS.iter().any(|r| f.starts_with(r)))
        });
    }
    let mut metadata = json!({"name": name, "namespace": namespace});
    for key in ["labels", "annotations"] {
        if let Some(m) = meta
            .get(key)
            .filter(|m| m.as_object().is_some_and(|m| !m.is_empty()))
        {
            metadata[key] = m.clone();
        }
    }
    if !finalizers.is_empty() {
        metadata["finalizers"] = Value::Array(finalizers);
    }
    let app = json!({
        "apiVersion": sextant_model::group::selected().api_version(),
        "kind": "Application",
        "metadata": metadata,
        "spec": rendered.get("spec").cloned().unwrap_or(json!({})),
    });
    // The spec must be an Application's: types and required fields.
    let typed: Application = serde_json::from_value(app.clone())
        .map_err(|e| format!("Application `{name}` is not valid: {e}"))?;
    let mut app = app;
    app["spec"] = serde_json::to_value(&typed.spec).map_err(|e| e.to_string())?;
    Ok(app)
}

/// A Kubernetes object name (DNS-1123 subdomain).
fn check_name(name: &str) -> Result<(), String> {
    if sextant_model::names::is_dns_subdomain(name) {
        Ok(())
    } else if name.contains("{{") {
        Err(format!(
            "metadata.name `{name}` still holds a template: the parameter it reads does not exist"
        ))
    } else {
        Err(format!(
            "metadata.name `{name}` is not a valid name (lowercase letters, digits, `-` and `.`, at most 253): use basenameNormalized or normalize"
        ))
    }
}

/// A short description of a parameter set for error messages.
fn describe(params: &Params) -> String {
    let flat = crate::params::flatten(params);
    let mut parts: Vec<String> = flat
        .iter()
        .filter(|(k, _)| ["path", "name", "server", "cluster"].contains(&k.as_str()))
        .map(|(k, v)| format!("{k}={}", crate::params::text(v)))
        .collect();
    if parts.is_empty() {
        parts = flat
            .iter()
            .take(2)
            .map(|(k, v)| format!("{k}={}", crate::params::text(v)))
            .collect();
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::path_params;

    fn spec(v: Value) -> ApplicationSetSpec {
        serde_json::from_value(v).unwrap_or_default()
    }

    fn dir(path: &str) -> Params {
        let mut p = Params::new();
        p.insert("path".into(), path_params(path, false));
        p
    }

    fn template() -> Value {
        json!({
            "metadata": {"name": "{{path.basename}}-prod-us-east", "labels": {"team": "{{path[2]}}"}},
            "spec": {
                "project": "default",
                "source": {"repoURL": "https://git.example/gitops.git", "path": "{{path}}", "targetRevision": "main"},
                "destination": {"server": "https://kubernetes.default.svc", "namespace": "{{path.basename}}"},
            },
        })
    }

    #[test]
    fn plain_template_makes_one_app_per_directory() {
        let s = spec(json!({"generators": [], "template": template()}));
        let apps = render(
            &s,
            &[
                dir("clusters/prod-us-east/apps/web"),
                dir("clusters/prod-us-east/apps/api"),
            ],
            "sextant",
        )
        .unwrap_or_default();
        assert_eq!(apps.len(), 2);
        assert_eq!(apps[0]["metadata"]["name"], "web-prod-us-east");
        assert_eq!(apps[0]["metadata"]["namespace"], "sextant");
        assert_eq!(apps[0]["metadata"]["labels"]["team"], "apps");
        assert_eq!(
            apps[0]["spec"]["source"]["path"],
            "clusters/prod-us-east/apps/web"
        );
        assert_eq!(apps[1]["spec"]["destination"]["namespace"], "api");
    }

    #[test]
    fn duplicates_and_bad_names_are_errors() {
        let mut t = template();
        t["metadata"]["name"] = json!("same");
        let s = spec(json!({"generators": [], "template": t}));
        let e = render(&s, &[dir("a/x"), dir("a/y")], "ns").unwrap_err();
        assert!(e.contains("both make an Application named `same`"), "{e}");

        let mut t = template();
        t["metadata"]["name"] = json!("{{path.basename}}");
        let s = spec(json!({"generators": [], "template": t}));
        let e = render(&s, &[dir("apps/Web_API")], "ns").unwrap_err();
        assert!(
            e.contains("not a valid name") && e.contains("path=apps/Web_API"),
            "{e}"
        );

        let mut t = template();
        t["metadata"]["name"] = json!("{{nope}}");
        let s = spec(json!({"generators": [], "template": t}));
        let e = render(&s, &[dir("apps/web")], "ns").unwrap_err();
        assert!(e.contains("still holds a template"), "{e}");
    }

    #[test]
    fn go_template_with_patch_and_preserved_resources() {
        let s = spec(json!({
            "goTemplate": true,
            "goTemplateOptions": ["missingkey=error"],
            "generators": [],
            "template": {
                "metadata": {"name": "{{ .path.basenameNormalized }}", "finalizers": ["resources-finalizer.sextant.dev"]},
                "spec": {
                    "project": "default",
                    "source": {"repoURL": "https://git.example/r.git", "path": "{{ .path.path }}"},
                    "destination": {"server": "https://kubernetes.default.svc", "namespace": "{{ .path.basename | lower }}"},
                },
            },
            "templatePatch": "spec:\n  syncPolicy:\n    automated:\n      prune: {{ eq .path.basename \"Web_API\" }}\n",
            "syncPolicy": {"preserveResourcesOnDeletion": true},
        }));
        let apps = render(&s, &[dir("apps/Web_API")], "ns").unwrap_or_default();
        assert_eq!(apps.len(), 1);
        assert_eq!(apps[0]["metadata"]["name"], "web-api");
        assert_eq!(apps[0]["spec"]["destination"]["namespace"], "web_api");
        assert_eq!(apps[0]["spec"]["syncPolicy"]["automated"]["prune"], true);
        assert!(
            apps[0]["metadata"].get("finalizers").is_none(),
            "{}",
            apps[0]
        );

        let mut strict = s.clone();
        strict.template["spec"]["source"]["path"] = json!("{{ .nope }}");
        assert!(
            render(&strict, &[dir("apps/web")], "ns")
                .unwrap_err()
                .contains("missingkey=error")
        );
    }

    #[test]
    fn a_spec_that_is_not_an_application_is_refused() {
        let mut t = template();
        t["spec"]["destination"] = json!("nowhere");
        let s = spec(json!({"generators": [], "template": t}));
        let e = render(&s, &[dir("apps/web")], "ns").unwrap_err();
        assert!(
            e.contains("Application `web-prod-us-east` is not valid"),
            "{e}"
        );
    }
}
