//! From an Application to what rendering needs: the render options its
//! source sets and its ignoreDifferences as engine rules. `sextant preview`
//! (Applications found in a repository) and `sextant app diff` (an
//! Application in a cluster) share it, so both render an app the same way.

use sextant_engine::diff::IgnoreRule;
use sextant_model::Application;
use sextant_model::application::ApplicationSource;
use sextant_render::{HelmParameter, RenderOptions};

/// The render options `source` of the Application `app_name` sets, with
/// `namespace` for namespaced objects that set none. A Helm release is
/// named after the app unless the source names it (as in Argo CD).
pub fn render_options(
    app_name: &str,
    source: &ApplicationSource,
    namespace: String,
) -> Result<RenderOptions, String> {
    let mut o = RenderOptions {
        namespace,
        ..RenderOptions::default()
    };
    if let Some(d) = &source.directory {
        o.directory.recurse = d.recurse.unwrap_or(false);
        o.directory.include = d.include.clone();
        o.directory.exclude = d.exclude.clone();
    }
    if !app_name.is_empty() {
        o.helm.release_name = Some(app_name.to_owned());
    }
    if let Some(h) = &source.helm {
        if let Some(name) = h.release_name.as_ref().filter(|n| !n.is_empty()) {
            o.helm.release_name = Some(name.clone());
        }
        o.helm.value_files = h.value_files.clone().unwrap_or_default();
        o.helm.values = match (&h.values, &h.values_object) {
            (Some(v), _) => Some(v.clone()),
            (None, Some(obj)) => {
                Some(serde_yaml_ng::to_string(obj).map_err(|e| format!("valuesObject: {e}"))?)
            }
            (None, None) => None,
        };
        o.helm.parameters = h
            .parameters
            .iter()
            .flatten()
            .map(|p| HelmParameter {
                name: p.name.clone(),
                value: p.value.clone(),
                force_string: p.force_string.unwrap_or(false),
            })
            .collect();
        o.helm.skip_crds = h.skip_crds.unwrap_or(false);
        o.helm.api_versions = h.api_versions.clone().unwrap_or_default();
        o.helm.kube_version = h.kube_version.clone();
    }
    if let Some(k) = &source.kustomize {
        o.kustomize.name_prefix = k.name_prefix.clone();
        o.kustomize.name_suffix = k.name_suffix.clone();
        o.kustomize.images = k.images.clone().unwrap_or_default();
        o.kustomize.common_labels = k.common_labels.clone().unwrap_or_default();
        o.kustomize.common_annotations = k.common_annotations.clone().unwrap_or_default();
        o.kustomize.namespace = k.namespace.clone();
    }
    Ok(o)
}

/// The Application's `spec.ignoreDifferences` as engine rules.
pub fn ignore_rules(app: &Application) -> Result<Vec<IgnoreRule>, String> {
    match &app.spec.ignore_differences {
        Some(rules) => serde_json::to_value(rules)
            .and_then(serde_json::from_value)
            .map_err(|e| format!("its ignoreDifferences are invalid: {e}")),
        None => Ok(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sextant_model::application::{ApplicationSourceHelm, HelmParameter as ModelParam};

    #[test]
    fn a_helm_release_is_named_after_the_app_unless_the_source_names_it() {
        let mut source = ApplicationSource {
            repo_url: "https://git.example.invalid/r.git".into(),
            path: Some("chart".into()),
            ..ApplicationSource::default()
        };
        let o = render_options("web", &source, "shop".into()).unwrap_or_default();
        assert_eq!(o.helm.release_name.as_deref(), Some("web"));
        assert_eq!(o.namespace, "shop");
        source.helm = Some(ApplicationSourceHelm {
            release_name: Some("prod-web".into()),
            parameters: Some(vec![ModelParam {
                name: "image.tag".into(),
                value: "1.2".into(),
                force_string: Some(true),
            }]),
            ..ApplicationSourceHelm::default()
        });
        let o = render_options("web", &source, "shop".into()).unwrap_or_default();
        assert_eq!(o.helm.release_name.as_deref(), Some("prod-web"));
        assert_eq!(
            o.helm.parameters,
            vec![HelmParameter {
                name: "image.tag".into(),
                value: "1.2".into(),
                force_string: true
            }]
        );
    }
}
