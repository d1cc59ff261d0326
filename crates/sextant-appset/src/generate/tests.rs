//! Generators over a folder laid out as the field report's repository.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use sextant_model::appset::Generator;

use super::*;
use crate::params::{Mode, flatten};
use crate::template::{Renderer, go};

/// A folder standing for every repository and revision.
struct Folder(PathBuf);

impl Repos for Folder {
    fn checkout(&self, repo: &str, _revision: &str) -> Result<PathBuf, String> {
        if repo.contains("unreachable") {
            return Err("could not connect".into());
        }
        Ok(self.0.clone())
    }
}

fn layout() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let w = |p: &str, text: &str| {
        let path = dir.path().join(p);
        std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))
            .unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(path, text).unwrap_or_else(|e| panic!("{e}"));
    };
    for c in ["prod-us-east", "prod-eu-west"] {
        for svc in ["web", "api", "legacy"] {
            w(
                &format!("clusters/{c}/apps/{svc}/deployment.yaml"),
                "kind: Deployment\n",
            );
        }
        w(
            &format!("clusters/{c}/config.json"),
            &format!("{{\"cluster\": {{\"name\": \"{c}\", \"tier\": \"gold\"}}}}"),
        );
    }
    w(
        "envs/list.yaml",
        "- env: dev\n  replicas: 1\n- env: prod\n  replicas: 3\n",
    );
    w("envs/broken.yaml", "a: [unclosed\n");
    dir
}

fn ctx<'a>(repos: &'a Folder, clusters: &'a [Cluster], mode: Mode) -> Context<'a> {
    Context {
        repos,
        clusters,
        render: Renderer {
            mode,
            go: go::Options::default(),
        },
    }
}

fn generator(v: Value) -> Generator {
    serde_json::from_value(v).unwrap_or_else(|e| panic!("generator: {e}"))
}

fn plain(sets: &[Params], key: &str) -> Vec<String> {
    sets.iter()
        .map(|p| {
            flatten(p)
                .get(key)
                .map(crate::params::text)
                .unwrap_or_default()
        })
        .collect()
}

#[test]
fn git_directories_with_include_and_exclude() {
    let dir = layout();
    let f = Folder(dir.path().into());
    let c = ctx(&f, &[], Mode::Plain);
    let g = generator(
        json!({"git": {"repoURL": "https://git.example/gitops.git", "revision": "main", "directories": [
            {"path": "clusters/prod-us-east/apps/*"},
            {"path": "clusters/prod-us-east/apps/legacy", "exclude": true},
        ]}}),
    );
    let sets = generate(&c, &g).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plain(&sets, "path.basename"), vec!["api", "web"]);
    assert_eq!(
        plain(&sets, "path"),
        vec![
            "clusters/prod-us-east/apps/api",
            "clusters/prod-us-east/apps/web"
        ]
    );
    assert_eq!(
        plain(&sets, "path[1]"),
        vec!["prod-us-east", "prod-us-east"]
    );

    // `*` alone is the top level only.
    let top = generator(json!({"git": {"repoURL": "r", "directories": [{"path": "*"}]}}));
    assert_eq!(
        plain(&generate(&c, &top).unwrap_or_default(), "path"),
        vec!["clusters", "envs"]
    );
}

#[test]
fn git_files_flatten_nested_keys_and_lists() {
    let dir = layout();
    let f = Folder(dir.path().into());
    let c = ctx(&f, &[], Mode::Plain);
    let g =
        generator(json!({"git": {"repoURL": "r", "files": [{"path": "clusters/**/config.json"}]}}));
    let sets = generate(&c, &g).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        plain(&sets, "cluster.name"),
        vec!["prod-eu-west", "prod-us-east"]
    );
    assert_eq!(
        plain(&sets, "path"),
        vec!["clusters/prod-eu-west", "clusters/prod-us-east"]
    );
    assert_eq!(
        plain(&sets, "path.filename"),
        vec!["config.json", "config.json"]
    );

    let list = generator(json!({"git": {"repoURL": "r", "files": [{"path": "envs/list.yaml"}]}}));
    let sets = generate(&c, &list).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plain(&sets, "env"), vec!["dev", "prod"]);
    assert_eq!(plain(&sets, "replicas"), vec!["1", "3"]);

    let broken = generator(json!({"git": {"repoURL": "r", "files": [{"path": "envs/*.yaml"}]}}));
    let e = generate(&c, &broken).unwrap_err();
    assert!(e.contains("envs/broken.yaml is not valid YAML"), "{e}");

    let unreachable = generator(
        json!({"git": {"repoURL": "https://unreachable/r.git", "directories": [{"path": "*"}]}}),
    );
    let e = generate(&c, &unreachable).unwrap_err();
    assert!(
        e.contains("https://unreachable/r.git at HEAD: could not connect"),
        "{e}"
    );
}

#[test]
fn path_param_prefix_and_values() {
    let dir = layout();
    let f = Folder(dir.path().into());
    let c = ctx(&f, &[], Mode::Plain);
    let g = generator(json!({"git": {"repoURL": "r", "pathParamPrefix": "svc",
        "directories": [{"path": "clusters/prod-eu-west/apps/web"}],
        "values": {"ns": "team-{{svc.path.basename}}"}}}));
    let sets = generate(&c, &g).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plain(&sets, "svc.path.basename"), vec!["web"]);
    assert_eq!(plain(&sets, "values.ns"), vec!["team-web"]);
}

fn clusters() -> Vec<Cluster> {
    vec![
        Cluster::local(),
        Cluster {
            name: "prod-us-east".into(),
            server: "https://10.0.0.1:6443".into(),
            labels: [("env".to_owned(), "prod".to_owned())].into(),
            ..Cluster::default()
        },
        Cluster {
            name: "Staging_1".into(),
            server: "https://10.0.0.2:6443".into(),
            labels: [("env".to_owned(), "staging".to_owned())].into(),
            ..Cluster::default()
        },
    ]
}

#[test]
fn clusters_with_and_without_a_selector() {
    let dir = layout();
    let f = Folder(dir.path().into());
    let cl = clusters();
    let c = ctx(&f, &cl, Mode::Plain);
    let all = generate(
        &c,
        &generator(json!({"clusters": {"values": {"region": "{{name}}-r"}}})),
    )
    .unwrap_or_default();
    assert_eq!(
        plain(&all, "name"),
        vec!["in-cluster", "prod-us-east", "Staging_1"]
    );
    assert_eq!(
        plain(&all, "nameNormalized"),
        vec!["in-cluster", "prod-us-east", "staging-1"]
    );
    assert_eq!(plain(&all, "values.region")[1], "prod-us-east-r");
    let prod = generate(
        &c,
        &generator(json!({"clusters": {"selector": {"matchLabels": {"env": "prod"}}}})),
    )
    .unwrap_or_default();
    assert_eq!(plain(&prod, "server"), vec!["https://10.0.0.1:6443"]);
    assert_eq!(plain(&prod, "metadata.labels.env"), vec!["prod"]);
}

#[test]
fn matrix_of_clusters_and_directories_templated_by_the_first() {
    let dir = layout();
    let f = Folder(dir.path().into());
    let cl = clusters();
    let c = ctx(&f, &cl, Mode::Plain);
    let g = generator(json!({"matrix": {"generators": [
        {"clusters": {"selector": {"matchExpressions": [{"key": "env", "operator": "In", "values": ["prod"]}]}}},
        {"git": {"repoURL": "r", "directories": [{"path": "clusters/{{name}}/apps/*"}]}},
    ]}}));
    let sets = generate(&c, &g).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plain(&sets, "path.basename"), vec!["api", "legacy", "web"]);
    assert_eq!(plain(&sets, "server"), vec!["https://10.0.0.1:6443"; 3]);

    let three = generator(json!({"matrix": {"generators": [{"list": {"elements": []}}]}}));
    assert!(generate(&c, &three).unwrap_err().contains("exactly two"));
}

#[test]
fn merge_by_keys_and_selector_on_the_result() {
    let dir = layout();
    let f = Folder(dir.path().into());
    let cl = clusters();
    let c = ctx(&f, &cl, Mode::Plain);
    let g = generator(json!({
        "merge": {"mergeKeys": ["server"], "generators": [
            {"clusters": {"values": {"kafka": "false"}}},
            {"list": {"elements": [{"server": "https://10.0.0.1:6443", "values": {"kafka": "true"}}]}},
        ]},
        "selector": {"matchLabels": {"values.kafka": "true"}},
    }));
    let sets = generate(&c, &g).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plain(&sets, "name"), vec!["prod-us-east"]);
    assert!(
        generate(&c, &generator(json!({"merge": {"generators": []}})))
            .unwrap_err()
            .contains("mergeKeys")
    );
}

#[test]
fn list_elements_yaml_and_go_mode_nesting() {
    let dir = layout();
    let f = Folder(dir.path().into());
    let c = ctx(&f, &[], Mode::Go);
    let g = generator(
        json!({"list": {"elements": [{"cluster": "a", "values": {"x": "1"}}], "elementsYaml": "- cluster: b\n"}}),
    );
    let sets = generate(&c, &g).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sets.len(), 2);
    assert_eq!(sets[0]["values"]["x"], "1");
    assert_eq!(sets[1]["cluster"], "b");
    assert!(
        generate(&c, &generator(json!({"list": {"elements": ["x"]}})))
            .unwrap_err()
            .contains("not an object")
    );
    assert!(
        generate(&c, &generator(json!({})))
            .unwrap_err()
            .contains("sets none")
    );
}

#[test]
fn requeue_after_is_the_shortest() {
    let gs: Vec<Generator> = vec![
        generator(
            json!({"git": {"repoURL": "r", "directories": [{"path": "*"}], "requeueAfterSeconds": 300}}),
        ),
        generator(json!({"matrix": {"generators": [
            {"git": {"repoURL": "r", "directories": [{"path": "*"}], "requeueAfterSeconds": 30}},
            {"list": {"elements": []}},
        ]}})),
    ];
    assert_eq!(requeue_after(&gs), Some(30));
    assert_eq!(
        requeue_after(&[generator(json!({"list": {"elements": []}}))]),
        None
    );
}
