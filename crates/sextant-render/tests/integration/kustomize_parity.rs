//! Kustomize through Sextant gives the same objects as `kubectl
//! kustomize` run directly: overlays with strategic-merge and JSON 6902
//! patches, ConfigMap and Secret generators, image overrides, components;
//! and Argo-CD-style options give what the same options written into an
//! overlay give.

use crate::support;

use std::path::Path;

use sextant_render::{KustomizeOptions, RenderOptions, SourceKind, render_path};
use support::{kubectl_bin, normalised, run, tools, write_files};

const BASE: &[(&str, &str)] = &[
    (
        "base/kustomization.yaml",
        "resources:\n- deployment.yaml\n- service.yaml\nconfigMapGenerator:\n- name: web-config\n  literals: [MODE=base]\n",
    ),
    (
        "base/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.25\n        envFrom:\n        - configMapRef: {name: web-config}\n",
    ),
    (
        "base/service.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n",
    ),
    (
        "components/monitoring/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: [monitor.yaml]\n",
    ),
    (
        "components/monitoring/monitor.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: monitor\ndata: {scrape: \"true\"}\n",
    ),
    (
        "overlays/prod/kustomization.yaml",
        "namespace: prod\nnamePrefix: prod-\nresources:\n- ../../base\n- namespace.yaml\ncomponents:\n- ../../components/monitoring\npatches:\n- path: replicas.yaml\n- target: {kind: Service, name: web}\n  patch: |-\n    - op: replace\n      path: /spec/ports/0/port\n      value: 8080\nconfigMapGenerator:\n- name: web-config\n  behavior: merge\n  files: [settings.properties]\n  literals: [MODE=prod]\nsecretGenerator:\n- name: db\n  envs: [db.env]\nimages:\n- name: nginx\n  newName: registry.example.com/nginx\n  newTag: \"1.27\"\nlabels:\n- pairs: {env: prod}\n  includeSelectors: true\n",
    ),
    (
        "overlays/prod/namespace.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: prod\n",
    ),
    (
        "overlays/prod/replicas.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 5\n",
    ),
    ("overlays/prod/settings.properties", "timeout=30\n"),
    (
        "overlays/prod/db.env",
        "USER=app\nPASSWORD=not-a-real-secret\n",
    ),
];

fn direct(root: &Path, dir: &str) -> String {
    run(&kubectl_bin(), &["kustomize", dir], root)
}

#[test]
fn an_overlay_with_patches_generators_images_and_components_matches_kubectl_kustomize() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), BASE);
    let options = RenderOptions {
        namespace: "ignored".into(),
        ..RenderOptions::default()
    };
    let ours = render_path(dir.path(), "overlays/prod", &options, &tools()).unwrap();
    assert_eq!(ours.kind, SourceKind::Kustomize);
    assert_eq!(
        ours.objects,
        normalised(&direct(dir.path(), "overlays/prod"), "ignored")
    );
    let deploy = ours
        .objects
        .iter()
        .find(|o| o["kind"] == "Deployment")
        .unwrap();
    assert_eq!(deploy["metadata"]["name"], "prod-web");
    assert_eq!(deploy["spec"]["replicas"], 5);
    assert_eq!(
        deploy["spec"]["template"]["spec"]["containers"][0]["image"],
        "registry.example.com/nginx:1.27"
    );
    assert!(ours.objects.iter().any(|o| o["kind"] == "Secret"));
    assert_eq!(
        ours.objects
            .iter()
            .filter(|o| o["kind"] == "ConfigMap")
            .count(),
        2
    );
}

#[test]
fn the_base_alone_matches_kubectl_kustomize_and_gets_the_destination_namespace() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), BASE);
    let options = RenderOptions {
        namespace: "team-a".into(),
        ..RenderOptions::default()
    };
    let ours = render_path(dir.path(), "base", &options, &tools()).unwrap();
    assert_eq!(
        ours.objects,
        normalised(&direct(dir.path(), "base"), "team-a")
    );
    assert!(
        ours.objects
            .iter()
            .all(|o| o["metadata"]["namespace"] == "team-a")
    );
}

#[test]
fn argo_style_options_equal_the_same_options_written_into_an_overlay() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), BASE);
    write_files(
        dir.path(),
        &[(
            "by-hand/kustomization.yaml",
            "resources: [../base]\nnamePrefix: a-\nnameSuffix: -z\nnamespace: staging\nimages:\n- name: nginx\n  newTag: \"1.26\"\nlabels:\n- pairs: {team: payments}\n  includeSelectors: true\ncommonAnnotations:\n  owner: payments@example.com\n",
        )],
    );
    let options = RenderOptions {
        kustomize: KustomizeOptions {
            name_prefix: Some("a-".into()),
            name_suffix: Some("-z".into()),
            namespace: Some("staging".into()),
            images: vec!["nginx:1.26".into()],
            common_labels: [("team".to_owned(), "payments".to_owned())].into(),
            common_annotations: [("owner".to_owned(), "payments@example.com".to_owned())].into(),
            ..KustomizeOptions::default()
        },
        ..RenderOptions::default()
    };
    let ours = render_path(dir.path(), "base", &options, &tools()).unwrap();
    assert_eq!(
        ours.objects,
        normalised(&direct(dir.path(), "by-hand"), "default")
    );
    let svc = ours
        .objects
        .iter()
        .find(|o| o["kind"] == "Service")
        .unwrap();
    assert_eq!(svc["metadata"]["name"], "a-web-z");
    assert_eq!(svc["spec"]["selector"]["team"], "payments");
    // The shared checkout was not written to.
    assert!(!dir.path().join("base/kustomization.yaml.bak").exists());
    let text = std::fs::read_to_string(dir.path().join("base/kustomization.yaml")).unwrap();
    assert_eq!(text, BASE[0].1);
}
