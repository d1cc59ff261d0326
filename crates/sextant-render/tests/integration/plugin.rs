//! Config management plugins, rendered for real: the common "helm, then
//! kustomize over its output" plugin and a team's own templating script,
//! picked by name or by discovery, with Argo CD's environment
//! (`ARGOCD_APP_*`, `ARGOCD_ENV_*`, `PARAM_*`), run in a private copy so
//! the snapshot stays as Git has it; errors name the plugin and the step.

use crate::support;

use sextant_render::plugin::{Plugin, PluginEnv, PluginParameter, PluginSource};
use sextant_render::{
    BuildEnv, RenderOptions, Renderer, RendererConfig, Request, SourceKind, ToolConfig, render_path,
};
use support::{commit_all, error_chain, helm_bin, kubectl_bin, names, tools, write_files};

/// `helm template` of the chart in the folder, then `kustomize build` of a
/// kustomization over its output: Argo CD's most common sidecar plugin.
const HELM_THEN_KUSTOMIZE: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: ConfigManagementPlugin
metadata:
  name: helm-kustomize
spec:
  version: v1
  init:
    command: [sh, -c]
    args: ["test -f Chart.yaml && test -f kustomization.yaml"]
  generate:
    command: [sh, -c]
    args:
      - |
        set -e
        helm template "$ARGOCD_APP_NAME" . --namespace "$ARGOCD_APP_NAMESPACE" --set team="$ARGOCD_ENV_TEAM" > all.yaml
        kubectl kustomize .
"#;

/// A team's templating tool: a script of the repository, run with `sh`
/// (files lose their modes in the copy), found by discovery.
const TEAM_TOOL: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: ConfigManagementPlugin
metadata:
  name: tmpl
spec:
  generate:
    command: [sh, render.sh]
  discover:
    fileName: render.sh
"#;

fn plugin(text: &str) -> Plugin {
    Plugin::parse(text, "test").unwrap().0
}

fn chart_repo(dir: &std::path::Path) {
    write_files(
        dir,
        &[
            (
                "apps/web/Chart.yaml",
                "apiVersion: v2\nname: web\nversion: 0.1.0\n",
            ),
            ("apps/web/values.yaml", "team: nobody\n"),
            (
                "apps/web/templates/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-settings\n  labels: {team: {{ .Values.team | quote }}}\ndata: {release: {{ .Release.Name | quote }}}\n",
            ),
            (
                "apps/web/kustomization.yaml",
                "resources: [all.yaml]\nnamePrefix: k-\ncommonAnnotations: {patched-by: kustomize}\n",
            ),
            (
                "apps/team/render.sh",
                "set -e\necho \"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: $ARGOCD_APP_NAME-$PARAM_TIER\ndata:\n  revision: '$ARGOCD_APP_REVISION'\n  project: '$ARGOCD_APP_PROJECT_NAME'\n  first: '$PARAM_FILES_0'\n  region: '$ARGOCD_ENV_REGION'\n  parameters: '$ARGOCD_APP_PARAMETERS'\"\n",
            ),
            (
                "apps/plain/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain}\n",
            ),
        ],
    );
}

fn options(plugins: Vec<Plugin>, asked: Option<PluginSource>) -> RenderOptions {
    RenderOptions {
        namespace: "shop".into(),
        build_env: Some(BuildEnv {
            app_name: "web".into(),
            app_namespace: "shop".into(),
            project: "retail".into(),
            ..BuildEnv::default()
        }),
        plugin: asked,
        plugins,
        ..RenderOptions::default()
    }
}

fn named(name: &str, env: Vec<PluginEnv>, parameters: Vec<PluginParameter>) -> PluginSource {
    PluginSource {
        name: Some(name.into()),
        env,
        parameters,
    }
}

fn with_tools_on_path() {
    // The plugin's commands find helm and kubectl on the controller's PATH.
    assert!(helm_bin().is_file() && kubectl_bin().is_file());
}

#[test]
fn helm_then_kustomize_renders_with_the_apps_environment_and_leaves_the_checkout_alone() {
    with_tools_on_path();
    let repo = tempfile::tempdir().unwrap();
    chart_repo(repo.path());
    let asked = named(
        "helm-kustomize-v1",
        vec![PluginEnv {
            name: "TEAM".into(),
            value: "payments-$ARGOCD_APP_NAME".into(),
        }],
        vec![],
    );
    let out = render_path(
        repo.path(),
        "apps/web",
        &options(vec![plugin(HELM_THEN_KUSTOMIZE)], Some(asked)),
        &tools(),
    )
    .unwrap();
    assert_eq!(out.kind, SourceKind::Plugin);
    assert_eq!(names(&out.objects), ["ConfigMap/k-web-settings"]);
    let cm = &out.objects[0];
    assert_eq!(cm["metadata"]["namespace"], "shop");
    assert_eq!(cm["metadata"]["labels"]["team"], "payments-web");
    assert_eq!(cm["metadata"]["annotations"]["patched-by"], "kustomize");
    assert!(
        !repo.path().join("apps/web/all.yaml").exists(),
        "the plugin wrote into its copy, not the checkout"
    );
}

#[test]
fn a_plugin_is_found_by_discovery_only_where_its_rule_matches_and_gets_its_parameters() {
    let repo = tempfile::tempdir().unwrap();
    chart_repo(repo.path());
    let plugins = vec![plugin(HELM_THEN_KUSTOMIZE), plugin(TEAM_TOOL)];
    let asked = PluginSource {
        name: None,
        env: vec![PluginEnv {
            name: "REGION".into(),
            value: "eu-west".into(),
        }],
        parameters: vec![
            PluginParameter {
                name: "tier".into(),
                string: Some("gold".into()),
                ..PluginParameter::default()
            },
            PluginParameter {
                name: "files".into(),
                array: Some(vec!["a.yaml".into()]),
                ..PluginParameter::default()
            },
        ],
    };
    // `plugin: {...}` without a name: the rule picks `tmpl`.
    let out = render_path(
        repo.path(),
        "apps/team",
        &options(plugins.clone(), Some(asked)),
        &tools(),
    )
    .unwrap();
    assert_eq!(out.kind, SourceKind::Plugin);
    assert_eq!(names(&out.objects), ["ConfigMap/web-gold"]);
    let data = &out.objects[0]["data"];
    assert_eq!(data["project"], "retail");
    assert_eq!(data["first"], "a.yaml");
    assert_eq!(data["region"], "eu-west");
    assert_eq!(
        data["parameters"],
        r#"[{"name":"tier","string":"gold"},{"name":"files","array":["a.yaml"]}]"#
    );

    // No plugin block and no forced kind: discovery first, as Argo CD.
    let out = render_path(
        repo.path(),
        "apps/team",
        &options(plugins.clone(), None),
        &tools(),
    )
    .unwrap();
    assert_eq!(out.kind, SourceKind::Plugin);
    // Where no rule matches, the usual detection.
    let out = render_path(
        repo.path(),
        "apps/plain",
        &options(plugins.clone(), None),
        &tools(),
    )
    .unwrap();
    assert_eq!(out.kind, SourceKind::Directory);
    assert_eq!(names(&out.objects), ["ConfigMap/plain"]);
    // A forced kind is never taken over by discovery.
    let mut forced = options(plugins, None);
    forced.kind = Some(SourceKind::Directory);
    let out = render_path(repo.path(), "apps/team", &forced, &tools()).unwrap();
    assert_eq!(out.kind, SourceKind::Directory);
    assert!(out.objects.is_empty());
}

#[test]
fn plugin_errors_name_the_plugin_the_step_and_what_to_do() {
    let repo = tempfile::tempdir().unwrap();
    chart_repo(repo.path());
    let err = |plugins: Vec<Plugin>, asked: PluginSource, path: &str| {
        error_chain(
            &render_path(repo.path(), path, &options(plugins, Some(asked)), &tools()).unwrap_err(),
        )
    };
    let e = err(
        vec![plugin(TEAM_TOOL)],
        named("cue", vec![], vec![]),
        "apps/team",
    );
    assert!(
        e.contains("config management plugin `cue`, which is not declared (declared: `tmpl`)")
            && e.contains("sextant-cmp-cm"),
        "{e}"
    );
    let e = err(
        vec![plugin(TEAM_TOOL)],
        named("tmpl", vec![], vec![]),
        "apps/plain",
    );
    assert!(
        e.contains("`tmpl` does not apply to `apps/plain`: its discover.fileName `render.sh` matches nothing"),
        "{e}"
    );
    let e = err(
        vec![plugin(TEAM_TOOL)],
        PluginSource::default(),
        "apps/plain",
    );
    assert!(
        e.contains("no declared plugin's discovery rule matches `apps/plain`"),
        "{e}"
    );

    let failing = plugin(
        "kind: ConfigManagementPlugin\nmetadata: {name: broken}\nspec:\n  generate:\n    command: [sh, -c, 'echo template error at line 3 >&2; exit 2']\n",
    );
    let e = err(vec![failing], named("broken", vec![], vec![]), "apps/team");
    assert!(
        e.contains("the generate command of config management plugin `broken` failed")
            && e.contains("template error at line 3"),
        "{e}"
    );
    let missing = plugin(
        "kind: ConfigManagementPlugin\nmetadata: {name: gone}\nspec:\n  init: {command: [no-such-tool-here]}\n  generate: {command: ['true']}\n",
    );
    let e = err(vec![missing], named("gone", vec![], vec![]), "apps/team");
    assert!(
        e.contains("the init command of config management plugin `gone` names `no-such-tool-here`, which is not on the controller's PATH"),
        "{e}"
    );
    let garbage = plugin(
        "kind: ConfigManagementPlugin\nmetadata: {name: garbage}\nspec:\n  generate: {command: [echo, 'kind: [']}\n",
    );
    let e = err(vec![garbage], named("garbage", vec![], vec![]), "apps/team");
    assert!(
        e.contains("the output of config management plugin `garbage`"),
        "{e}"
    );
}

#[test]
fn a_changed_plugin_renders_again_and_an_unchanged_one_comes_from_the_cache() {
    let repo = tempfile::tempdir().unwrap();
    chart_repo(repo.path());
    commit_all(repo.path());
    let cache = tempfile::tempdir().unwrap();
    let renderer = Renderer::new(RendererConfig {
        cache_dir: cache.path().to_owned(),
        tools: ToolConfig {
            helm: Some(helm_bin()),
            kubectl: Some(kubectl_bin()),
            ..ToolConfig::default()
        },
        ..RendererConfig::default()
    })
    .unwrap();
    let url = repo.path().to_str().unwrap();
    let render = |options: &RenderOptions| {
        renderer
            .render(&Request {
                repo: url,
                revision: "main",
                path: "apps/team",
                options,
                credentials: None,
                chart: None,
            })
            .unwrap()
    };
    let asked = named(
        "tmpl",
        vec![],
        vec![PluginParameter {
            name: "tier".into(),
            string: Some("gold".into()),
            ..PluginParameter::default()
        }],
    );
    let first = render(&options(vec![plugin(TEAM_TOOL)], Some(asked.clone())));
    assert!(!first.cache_hit);
    let commit = first.commit.as_ref().unwrap().to_string();
    assert_eq!(
        first.rendered.objects[0]["data"]["revision"],
        commit.as_str()
    );
    assert!(render(&options(vec![plugin(TEAM_TOOL)], Some(asked.clone()))).cache_hit);

    let changed = plugin(&TEAM_TOOL.replace(
        "[sh, render.sh]",
        "[sh, -c, 'sh render.sh | sed s/gold/silver/']",
    ));
    let second = render(&options(vec![changed], Some(asked)));
    assert!(!second.cache_hit, "a new plugin definition is a new key");
    assert_eq!(names(&second.rendered.objects), ["ConfigMap/web-silver"]);
}
