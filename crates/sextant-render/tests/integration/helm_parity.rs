//! `helm template` through Sextant gives the same objects as `helm
//! template` run directly on the same chart (charts made by `helm create`),
//! with value files, sets, release names, namespaces, CRDs, capabilities
//! and vendored dependencies.

use crate::support;

use std::path::Path;

use sextant_render::{HelmOptions, HelmParameter, RenderOptions, SourceKind, render_path};
use support::{helm_bin, helm_create, normalised, run, tools, write_files};

/// Render `chart` through Sextant and directly with `direct_args`, and
/// compare the objects.
fn check(
    root: &Path,
    chart: &str,
    helm: HelmOptions,
    namespace: &str,
    direct_args: &[&str],
) -> usize {
    let options = RenderOptions {
        namespace: namespace.into(),
        helm,
        ..RenderOptions::default()
    };
    let ours = render_path(root, chart, &options, &tools()).unwrap();
    assert_eq!(ours.kind, SourceKind::Helm);
    let direct = run(&helm_bin(), direct_args, root);
    let theirs = normalised(&direct, namespace);
    assert_eq!(ours.objects, theirs, "{chart} {direct_args:?}");
    ours.objects.len()
}

fn set(name: &str, value: &str, force_string: bool) -> HelmParameter {
    HelmParameter {
        name: name.into(),
        value: value.into(),
        force_string,
    }
}

#[test]
fn a_helm_create_chart_renders_like_helm_template_with_defaults() {
    let dir = tempfile::tempdir().unwrap();
    helm_create(dir.path(), "web");
    let n = check(
        dir.path(),
        "web",
        HelmOptions::default(),
        "default",
        &[
            "template",
            "web",
            "web",
            "--namespace",
            "default",
            "--include-crds",
        ],
    );
    assert!(
        n >= 4,
        "service account, service, deployment, test pod: {n}"
    );
}

#[test]
fn value_files_sets_and_set_strings_apply_in_helms_order() {
    let dir = tempfile::tempdir().unwrap();
    helm_create(dir.path(), "web");
    write_files(
        dir.path(),
        &[
            (
                "web/values-prod.yaml",
                "replicaCount: 4\nservice:\n  type: NodePort\n  port: 8080\n",
            ),
            (
                "env/extra.yaml",
                "ingress:\n  enabled: true\nautoscaling:\n  enabled: true\n",
            ),
        ],
    );
    let helm = HelmOptions {
        release_name: Some("shop".into()),
        value_files: vec!["values-prod.yaml".into(), "../env/extra.yaml".into()],
        parameters: vec![
            set("image.tag", "1.2.3", false),
            set("podAnnotations.build", "42", true),
            set("autoscaling.maxReplicas", "7", false),
        ],
        ..HelmOptions::default()
    };
    let n = check(
        dir.path(),
        "web",
        helm,
        "shop-prod",
        &[
            "template",
            "shop",
            "web",
            "--namespace",
            "shop-prod",
            "--include-crds",
            "--values",
            "web/values-prod.yaml",
            "--values",
            "env/extra.yaml",
            "--set",
            "image.tag=1.2.3",
            "--set-string",
            "podAnnotations.build=42",
            "--set",
            "autoscaling.maxReplicas=7",
        ],
    );
    assert!(n >= 6, "ingress and HPA added: {n}");
}

#[test]
fn inline_values_apply_after_value_files() {
    let dir = tempfile::tempdir().unwrap();
    helm_create(dir.path(), "web");
    write_files(
        dir.path(),
        &[
            ("web/v.yaml", "replicaCount: 2\n"),
            ("inline.yaml", "replicaCount: 5\n"),
        ],
    );
    let helm = HelmOptions {
        value_files: vec!["v.yaml".into()],
        values: Some("replicaCount: 5\n".into()),
        ..HelmOptions::default()
    };
    check(
        dir.path(),
        "web",
        helm,
        "default",
        &[
            "template",
            "web",
            "web",
            "--namespace",
            "default",
            "--include-crds",
            "-f",
            "web/v.yaml",
            "-f",
            "inline.yaml",
        ],
    );
}

#[test]
fn crds_are_included_unless_skipped_and_capabilities_pass_through() {
    let dir = tempfile::tempdir().unwrap();
    helm_create(dir.path(), "op");
    let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  names: {kind: Widget, plural: widgets}\n  scope: Namespaced\n  versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}]\n";
    let caps = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caps\ndata:\n  kube: {{ .Capabilities.KubeVersion.Version | quote }}\n  monitoring: {{ .Capabilities.APIVersions.Has \"monitoring.coreos.com/v1\" | quote }}\n";
    write_files(
        dir.path(),
        &[
            ("op/crds/widget.yaml", crd),
            ("op/templates/caps.yaml", caps),
        ],
    );
    let helm = HelmOptions {
        api_versions: vec!["monitoring.coreos.com/v1".into()],
        kube_version: Some("1.31.0".into()),
        ..HelmOptions::default()
    };
    let args = [
        "template",
        "op",
        "op",
        "--namespace",
        "default",
        "--include-crds",
        "--api-versions",
        "monitoring.coreos.com/v1",
        "--kube-version",
        "1.31.0",
    ];
    check(dir.path(), "op", helm.clone(), "default", &args);
    let options = RenderOptions {
        helm: helm.clone(),
        ..RenderOptions::default()
    };
    let with = render_path(dir.path(), "op", &options, &tools()).unwrap();
    let crd = with
        .objects
        .iter()
        .find(|o| o["kind"] == "CustomResourceDefinition")
        .unwrap();
    assert!(
        crd["metadata"].get("namespace").is_none(),
        "CRDs are cluster-scoped"
    );
    let caps = with
        .objects
        .iter()
        .find(|o| o["metadata"]["name"] == "caps")
        .unwrap();
    assert_eq!(caps["data"]["kube"], "v1.31.0");
    assert_eq!(caps["data"]["monitoring"], "true");

    let skip = HelmOptions {
        skip_crds: true,
        ..helm
    };
    let mut skip_args = args.to_vec();
    skip_args[5] = "--skip-crds";
    check(dir.path(), "op", skip, "default", &skip_args);
}

#[test]
fn dependencies_come_from_the_charts_folder() {
    let dir = tempfile::tempdir().unwrap();
    helm_create(dir.path(), "app");
    helm_create(&dir.path().join("app/charts"), "db");
    let chart_yaml = std::fs::read_to_string(dir.path().join("app/Chart.yaml")).unwrap();
    write_files(
        dir.path(),
        &[(
            "app/Chart.yaml",
            &format!(
                "{chart_yaml}\ndependencies:\n- name: db\n  version: 0.1.0\n  repository: file://charts/db\n"
            ),
        )],
    );
    let n = check(
        dir.path(),
        "app",
        HelmOptions {
            parameters: vec![set("db.replicaCount", "2", false)],
            ..HelmOptions::default()
        },
        "data",
        &[
            "template",
            "app",
            "app",
            "--namespace",
            "data",
            "--include-crds",
            "--set",
            "db.replicaCount=2",
        ],
    );
    assert!(n >= 8, "the parent's and the dependency's objects: {n}");
}
