//! Argo CD's build environment: `$ARGOCD_APP_NAME`, `$ARGOCD_APP_REVISION`
//! and the rest, substituted into the options that Argo CD substitutes
//! them into — Helm parameter values and value file paths, Kustomize
//! images and common labels (annotations only when asked), Jsonnet extVars
//! and TLAs — so an Application that relies on them renders the same.
//!
//! `$NAME` and `${NAME}` are replaced; a name that is not a build variable
//! becomes empty (as Argo CD does); `$$` is a literal `$`. The revision is
//! known only once Git has been asked, so the render service applies the
//! environment after resolving it.

use serde::{Deserialize, Serialize};

use crate::options::RenderOptions;

/// What the build environment says of an app, except the revision.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildEnv {
    /// `ARGOCD_APP_NAME`.
    pub app_name: String,
    /// `ARGOCD_APP_NAMESPACE`: the destination namespace.
    pub app_namespace: String,
    /// `ARGOCD_APP_SOURCE_PATH`.
    pub source_path: String,
    /// `ARGOCD_APP_SOURCE_REPO_URL`.
    pub repo_url: String,
    /// `ARGOCD_APP_SOURCE_TARGET_REVISION`.
    pub target_revision: String,
    /// `KUBE_VERSION`, when the destination's version is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kube_version: Option<String>,
    /// `ARGOCD_APP_PROJECT_NAME`: the app's project.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub project: String,
    /// The resolved revision, set by [`apply`] for the commands of a
    /// config management plugin (not part of a cache key: the commit is).
    #[serde(skip)]
    pub revision: String,
}

impl BuildEnv {
    /// The variables, with `revision` the resolved commit (or chart
    /// version).
    pub fn vars(&self, revision: &str) -> Vec<(&'static str, String)> {
        let short = |n: usize| revision.chars().take(n).collect::<String>();
        let mut vars = vec![
            ("ARGOCD_APP_NAME", self.app_name.clone()),
            ("ARGOCD_APP_NAMESPACE", self.app_namespace.clone()),
            ("ARGOCD_APP_REVISION", revision.to_owned()),
            ("ARGOCD_APP_REVISION_SHORT", short(7)),
            ("ARGOCD_APP_REVISION_SHORT_8", short(8)),
            ("ARGOCD_APP_SOURCE_PATH", self.source_path.clone()),
            ("ARGOCD_APP_SOURCE_REPO_URL", self.repo_url.clone()),
            (
                "ARGOCD_APP_SOURCE_TARGET_REVISION",
                self.target_revision.clone(),
            ),
            ("ARGOCD_APP_PROJECT_NAME", self.project.clone()),
        ];
        if let Some(v) = &self.kube_version {
            vars.push(("KUBE_VERSION", v.clone()));
        }
        vars
    }
}

/// `text` with `$NAME`, `${NAME}` replaced from `vars` (unknown names:
/// empty) and `$$` made `$`. A `$` followed by anything else stays.
pub fn substitute(text: &str, vars: &[(&str, String)]) -> String {
    let lookup = |name: &str| {
        vars.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(braced) = after.strip_prefix('{') {
            match braced.find('}') {
                Some(end) => {
                    out.push_str(lookup(&braced[..end]));
                    rest = &braced[end + 1..];
                }
                None => {
                    out.push('$');
                    rest = after;
                }
            }
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            if end == 0 {
                out.push('$');
            } else {
                out.push_str(lookup(&after[..end]));
            }
            rest = &after[end..];
        }
    }
    out.push_str(rest);
    out
}

/// A value file `$name/path` names the source `name` of a multi-source
/// app lending its files, not a variable: the `$name/` prefix is kept as
/// is (an unknown name is the Helm step's error to report) and only the
/// rest is substituted.
fn split_ref(file: &str) -> (&str, &str) {
    if let Some(rest) = file.strip_prefix('$')
        && let Some((name, _)) = rest.split_once('/')
        && !name.is_empty()
        && !name.starts_with('{')
    {
        let cut = name.len() + 2;
        return (&file[..cut], &file[cut..]);
    }
    ("", file)
}

/// Call `f` on every option the environment is substituted into, the one
/// list both [`needed`] and [`apply`] go by. Value files come with their
/// `$ref/` prefix split off (see [`split_ref`]): `f` sees the rest only.
fn each_target(o: &mut RenderOptions, mut f: impl FnMut(&mut String)) {
    o.helm.parameters.iter_mut().for_each(|p| f(&mut p.value));
    for file in o.helm.value_files.iter_mut() {
        let (reference, rest) = split_ref(file);
        let reference = reference.to_owned();
        let mut rest = rest.to_owned();
        f(&mut rest);
        *file = reference + &rest;
    }
    o.kustomize.images.iter_mut().for_each(&mut f);
    o.kustomize.common_labels.values_mut().for_each(&mut f);
    if o.kustomize.common_annotations_envsubst {
        o.kustomize.common_annotations.values_mut().for_each(&mut f);
    }
    let jsonnet = &mut o.directory.jsonnet;
    jsonnet
        .ext_vars
        .iter_mut()
        .chain(jsonnet.tlas.iter_mut())
        .for_each(|v| f(&mut v.value));
}

/// Whether any option the environment is substituted into holds a `$`:
/// when none does, the environment changes nothing, and leaving it out of
/// the options keeps one render shared by the apps that render alike.
/// A config management plugin may read any of it, so it always needs it.
pub fn needed(options: &RenderOptions) -> bool {
    if options.plugin.is_some() || !options.plugins.is_empty() {
        return true;
    }
    let mut any = false;
    each_target(&mut options.clone(), |s| any |= s.contains('$'));
    any
}

/// `options` with the build environment substituted where Argo CD
/// substitutes it; unchanged when there is none.
pub fn apply(options: &RenderOptions, revision: &str) -> RenderOptions {
    let mut o = options.clone();
    if let Some(env) = &options.build_env {
        let vars = env.vars(revision);
        each_target(&mut o, |s| *s = substitute(s, &vars));
    }
    if let Some(env) = &mut o.build_env {
        env.revision = revision.to_owned();
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> BuildEnv {
        BuildEnv {
            app_name: "web".into(),
            app_namespace: "shop".into(),
            source_path: "apps/web".into(),
            repo_url: "https://git.example/gitops.git".into(),
            target_revision: "main".into(),
            kube_version: Some("1.36.3".into()),
            ..BuildEnv::default()
        }
    }

    #[test]
    fn both_spellings_are_replaced_unknown_names_are_empty_and_double_dollars_stay() {
        let vars = env().vars("0123456789abcdef");
        assert_eq!(
            substitute("$ARGOCD_APP_NAME-${ARGOCD_APP_REVISION_SHORT}", &vars),
            "web-0123456"
        );
        assert_eq!(substitute("x$NOPE.y", &vars), "x.y");
        assert_eq!(substitute("cost: $$5 and $", &vars), "cost: $5 and $");
        assert_eq!(substitute("${ARGOCD_APP_NAME", &vars), "${ARGOCD_APP_NAME");
        assert_eq!(substitute("$KUBE_VERSION", &vars), "1.36.3");
        assert_eq!(
            substitute("$ARGOCD_APP_REVISION_SHORT_8", &vars),
            "01234567"
        );
    }

    #[test]
    fn helm_kustomize_and_jsonnet_options_get_the_values_and_nothing_else_does() {
        let mut o = RenderOptions {
            build_env: Some(env()),
            ..RenderOptions::default()
        };
        o.helm.parameters.push(crate::HelmParameter {
            name: "app".into(),
            value: "$ARGOCD_APP_NAME@$ARGOCD_APP_REVISION".into(),
            force_string: false,
        });
        o.helm
            .value_files
            .push("values-$ARGOCD_APP_NAMESPACE.yaml".into());
        o.helm.values = Some("name: $ARGOCD_APP_NAME".into());
        o.kustomize
            .images
            .push("nginx:$ARGOCD_APP_REVISION_SHORT".into());
        o.kustomize
            .common_labels
            .insert("app".into(), "$ARGOCD_APP_NAME".into());
        o.kustomize
            .common_annotations
            .insert("rev".into(), "$ARGOCD_APP_REVISION".into());
        o.directory.jsonnet.ext_vars.push(crate::JsonnetVar {
            name: "project".into(),
            value: "$ARGOCD_APP_SOURCE_REPO_URL".into(),
            code: false,
        });
        o.directory.jsonnet.tlas.push(crate::JsonnetVar {
            name: "path".into(),
            value: "$ARGOCD_APP_SOURCE_PATH".into(),
            code: false,
        });
        let done = apply(&o, "abcdef0123");
        assert_eq!(done.helm.parameters[0].value, "web@abcdef0123");
        assert_eq!(done.helm.value_files[0], "values-shop.yaml");
        assert_eq!(
            done.helm.values.as_deref(),
            Some("name: $ARGOCD_APP_NAME"),
            "inline values are the chart's to read, as in Argo CD"
        );
        assert_eq!(done.kustomize.images[0], "nginx:abcdef0");
        assert_eq!(done.kustomize.common_labels["app"], "web");
        assert_eq!(
            done.kustomize.common_annotations["rev"], "$ARGOCD_APP_REVISION",
            "annotations only with commonAnnotationsEnvsubst"
        );
        assert_eq!(
            done.directory.jsonnet.ext_vars[0].value,
            "https://git.example/gitops.git"
        );
        assert_eq!(done.directory.jsonnet.tlas[0].value, "apps/web");

        o.kustomize.common_annotations_envsubst = true;
        let done = apply(&o, "abcdef0123");
        assert_eq!(done.kustomize.common_annotations["rev"], "abcdef0123");

        assert!(needed(&o));
        o.build_env = None;
        assert_eq!(apply(&o, "abcdef0123"), o, "no environment, no change");

        // `$values/...` names a multi-source app's ref source, not a variable.
        let mut refs = RenderOptions {
            build_env: Some(env()),
            ..RenderOptions::default()
        };
        refs.refs
            .insert("values".into(), crate::SourceRef::default());
        refs.helm.value_files = vec![
            "$values/envs/prod.yaml".into(),
            "$values/envs/$ARGOCD_APP_NAME.yaml".into(),
            "$other/x.yaml".into(),
        ];
        let done = apply(&refs, "abc");
        assert_eq!(
            done.helm.value_files,
            [
                "$values/envs/prod.yaml",
                "$values/envs/web.yaml",
                "$other/x.yaml"
            ]
        );
        refs.helm.value_files.truncate(1);
        assert!(!needed(&refs), "a ref alone needs no environment");
        assert!(!needed(&RenderOptions::default()));
    }
}
