//! Hostile repositories: symlinks out of the checkout, value files and
//! kustomize references that escape, remote bases, file:// chart
//! dependencies outside the repo, malformed files, tools that hang, flood
//! their output or look for credentials. Every case is an error naming the
//! file, never a panic and never a read outside.

use crate::support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use sextant_render::{
    HelmOptions, KustomizeOptions, RenderError, RenderOptions, ToolConfig, Tools, render_path,
    runner::Limits,
};
use support::{error_chain, helm_create, tools, write_files};

fn render_err(root: &Path, path: &str, options: &RenderOptions, tools: &Tools) -> String {
    let err = render_path(root, path, options, tools).expect_err("must be refused");
    error_chain(&err)
}

const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n";

#[test]
fn a_symlink_to_a_file_outside_the_checkout_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    write_files(&root, &[("app/cm.yaml", CM)]);
    write_files(dir.path(), &[("secret.yaml", CM)]);
    std::os::unix::fs::symlink("../../secret.yaml", root.join("app/stolen.yaml")).unwrap();
    let e = render_err(&root, "app", &RenderOptions::default(), &tools());
    assert!(
        e.contains("symlink `app/stolen.yaml`") && e.contains("outside the repository"),
        "{e}"
    );
}

#[test]
fn a_symlinked_folder_pointing_outside_is_refused_even_when_not_rendered() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    write_files(&root, &[("app/cm.yaml", CM), ("docs/readme.md", "x")]);
    std::os::unix::fs::symlink("/etc", root.join("docs/etc")).unwrap();
    let e = render_err(&root, "app", &RenderOptions::default(), &tools());
    assert!(e.contains("symlink `docs/etc` points to `/etc`"), "{e}");
}

#[test]
fn symlinks_inside_the_checkout_are_followed() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[("shared/cm.yaml", CM), ("app/.keep", "")]);
    std::os::unix::fs::symlink("../shared/cm.yaml", dir.path().join("app/cm.yaml")).unwrap();
    let out = render_path(dir.path(), "app", &RenderOptions::default(), &tools()).unwrap();
    assert_eq!(out.objects.len(), 1);
}

#[test]
fn a_source_path_that_climbs_out_or_is_absolute_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[("repo/app/cm.yaml", CM), ("outside/cm.yaml", CM)],
    );
    let root = dir.path().join("repo");
    let e = render_err(&root, "../outside", &RenderOptions::default(), &tools());
    assert!(e.contains("outside the repository"), "{e}");
    let e = render_err(&root, "/etc", &RenderOptions::default(), &tools());
    assert!(e.contains("absolute path `/etc`"), "{e}");
    let e = render_err(&root, "nope", &RenderOptions::default(), &tools());
    assert!(e.contains("path `nope` is not a folder"), "{e}");
}

fn chart_repo() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    std::fs::create_dir_all(root.join("charts")).unwrap();
    helm_create(&root.join("charts"), "web");
    write_files(dir.path(), &[("outside-values.yaml", "replicaCount: 9\n")]);
    (dir, root)
}

fn with_values(files: &[&str]) -> RenderOptions {
    RenderOptions {
        helm: HelmOptions {
            value_files: files.iter().map(|f| (*f).to_owned()).collect(),
            ..HelmOptions::default()
        },
        ..RenderOptions::default()
    }
}

#[test]
fn value_files_that_escape_are_absolute_or_urls_are_refused_by_name() {
    let (_dir, root) = chart_repo();
    let t = tools();
    let e = render_err(
        &root,
        "charts/web",
        &with_values(&["../../../outside-values.yaml"]),
        &t,
    );
    assert!(
        e.contains("`../../../outside-values.yaml`, which is outside the repository"),
        "{e}"
    );
    let abs = root.parent().unwrap().join("outside-values.yaml");
    let e = render_err(
        &root,
        "charts/web",
        &with_values(&[abs.to_str().unwrap()]),
        &t,
    );
    assert!(e.contains("absolute path"), "{e}");
    let e = render_err(
        &root,
        "charts/web",
        &with_values(&["https://example.com/v.yaml"]),
        &t,
    );
    assert!(e.contains("is a URL"), "{e}");
    let e = render_err(&root, "charts/web", &with_values(&["missing.yaml"]), &t);
    assert!(e.contains("`missing.yaml`, which does not exist"), "{e}");
    // `..` that stays inside is fine.
    write_files(&root, &[("env/prod.yaml", "replicaCount: 3\n")]);
    assert!(
        render_path(
            &root,
            "charts/web",
            &with_values(&["../../env/prod.yaml"]),
            &t
        )
        .is_ok()
    );
}

/// `$name/...` value files (multi-source apps) are read from the source
/// whose `ref` is `name`, inside its checkout only.
#[test]
fn ref_value_files_come_from_their_source_and_stay_inside_it() {
    let (dir, root) = chart_repo();
    let t = tools();
    let values = dir.path().join("values-repo");
    write_files(
        &values,
        &[(
            "envs/prod.yaml",
            "replicaCount: 7
",
        )],
    );
    let with_ref = |file: &str| {
        let mut options = with_values(&[file]);
        options.refs.insert(
            "values".into(),
            sextant_render::SourceRef {
                identity: "values@1".into(),
                dir: values.clone(),
            },
        );
        options
    };
    let out = render_path(&root, "charts/web", &with_ref("$values/envs/prod.yaml"), &t).unwrap();
    let deployment = out
        .objects
        .iter()
        .find(|o| o["kind"] == "Deployment")
        .unwrap();
    assert_eq!(deployment["spec"]["replicas"], 7);
    let e = render_err(
        &root,
        "charts/web",
        &with_ref("$values/../outside-values.yaml"),
        &t,
    );
    assert!(e.contains("outside the repository"), "{e}");
    let e = render_err(&root, "charts/web", &with_ref("$other/envs/prod.yaml"), &t);
    assert!(
        e.contains("no source of the app has `ref: other`") && e.contains("values"),
        "{e}"
    );
}

#[test]
fn a_value_file_reached_through_a_symlinked_folder_outside_is_refused() {
    let (dir, root) = chart_repo();
    std::fs::create_dir_all(dir.path().join("elsewhere")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("elsewhere"), root.join("charts/web/linked"))
        .unwrap();
    let e = render_err(
        &root,
        "charts/web",
        &with_values(&["linked/v.yaml"]),
        &tools(),
    );
    assert!(e.contains("symlink `charts/web/linked`"), "{e}");
}

#[test]
fn a_chart_dependency_outside_the_repository_is_refused() {
    let (_dir, root) = chart_repo();
    let chart = std::fs::read_to_string(root.join("charts/web/Chart.yaml")).unwrap();
    write_files(
        &root,
        &[(
            "charts/web/Chart.yaml",
            &format!(
                "{chart}\ndependencies:\n- name: x\n  version: 0.1.0\n  repository: file://../../../x\n"
            ),
        )],
    );
    let e = render_err(&root, "charts/web", &RenderOptions::default(), &tools());
    assert!(
        e.contains("charts/web/Chart.yaml` refers to `../../../x`"),
        "{e}"
    );
}

#[test]
fn kustomize_references_that_escape_are_refused_by_file() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    write_files(
        dir.path(),
        &[
            ("outside/cm.yaml", CM),
            ("outside/kustomization.yaml", "resources: [cm.yaml]\n"),
        ],
    );
    let cases = [
        (
            "resources: [../../outside]\n",
            "`app/kustomization.yaml` refers to `../../outside`",
        ),
        (
            "configMapGenerator:\n- name: x\n  files: [key=../../outside/cm.yaml]\n",
            "refers to `../../outside/cm.yaml`",
        ),
        (
            "patches:\n- path: /etc/hostname\n",
            "absolute path `/etc/hostname`",
        ),
        (
            "resources: [base]\n",
            "`app/base/kustomization.yaml` refers to `../../../outside`",
        ),
    ];
    for (kustomization, want) in cases {
        let _ = std::fs::remove_dir_all(&root);
        write_files(
            &root,
            &[
                ("app/kustomization.yaml", kustomization),
                (
                    "app/base/kustomization.yaml",
                    "resources: [../../../outside]\n",
                ),
            ],
        );
        let e = render_err(&root, "app", &RenderOptions::default(), &tools());
        assert!(e.contains(want), "{kustomization}: {e}");
    }
}

#[test]
fn remote_bases_are_refused_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[(
            "app/kustomization.yaml",
            "resources:\n- https://github.com/example/repo//base?ref=v1\n",
        )],
    );
    let e = render_err(dir.path(), "app", &RenderOptions::default(), &tools());
    assert!(
        e.contains("uses the remote base `https://github.com/example/repo//base?ref=v1`"),
        "{e}"
    );
    assert!(e.contains("app/kustomization.yaml"), "{e}");
    // Allowed, it reaches kustomize, whose network goes nowhere: still an
    // error, but from the build.
    let options = RenderOptions {
        kustomize: KustomizeOptions {
            allow_remote_bases: true,
            ..KustomizeOptions::default()
        },
        ..RenderOptions::default()
    };
    let tools = Tools::new(ToolConfig {
        kubectl: Some(support::kubectl_bin()),
        limits: Limits {
            timeout: Duration::from_secs(60),
            ..Limits::default()
        },
        ..ToolConfig::default()
    })
    .unwrap();
    let e = render_err(dir.path(), "app", &options, &tools);
    assert!(e.contains("kustomize build of `app` failed"), "{e}");
}

#[test]
fn a_malformed_file_is_an_error_with_its_path_and_line_and_other_files_are_still_read() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[
            ("app/good.yaml", CM),
            (
                "app/bad.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [oops\n",
            ),
        ],
    );
    let err = render_path(dir.path(), "app", &RenderOptions::default(), &tools()).unwrap_err();
    let e = error_chain(&err);
    assert!(
        e.starts_with("could not parse `app/bad.yaml` at line 5"),
        "{e}"
    );
    write_files(dir.path(), &[("app/worse.json", "{\n  \"a\": \n}")]);
    let err = render_path(dir.path(), "app", &RenderOptions::default(), &tools()).unwrap_err();
    assert!(
        matches!(err, RenderError::Manifests(ref all) if all.len() == 2),
        "{err}"
    );
    let e = err.to_string();
    assert!(
        e.contains("`app/bad.yaml` at line 5") && e.contains("`app/worse.json` at line 3"),
        "{e}"
    );
}

fn fake_tool(dir: &Path, script: &str) -> std::path::PathBuf {
    let path = dir.join("fake-helm");
    std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn fake_chart() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[(
            "chart/Chart.yaml",
            "apiVersion: v2\nname: c\nversion: 0.1.0\n",
        )],
    );
    dir
}

#[test]
fn a_tool_that_hangs_is_stopped_at_the_timeout() {
    let dir = fake_chart();
    let tools = Tools::new(ToolConfig {
        helm: Some(fake_tool(dir.path(), "sleep 30")),
        limits: Limits {
            timeout: Duration::from_millis(300),
            ..Limits::default()
        },
        ..ToolConfig::default()
    })
    .unwrap();
    let e = render_err(dir.path(), "chart", &RenderOptions::default(), &tools);
    assert!(
        e.contains("helm template of `chart` failed") && e.contains("did not finish"),
        "{e}"
    );
}

#[test]
fn a_tool_that_floods_its_output_is_stopped_at_the_cap() {
    let dir = fake_chart();
    let tools = Tools::new(ToolConfig {
        helm: Some(fake_tool(dir.path(), "yes 'apiVersion: v1'")),
        limits: Limits {
            max_output: 1 << 20,
            ..Limits::default()
        },
        ..ToolConfig::default()
    })
    .unwrap();
    let e = render_err(dir.path(), "chart", &RenderOptions::default(), &tools);
    assert!(e.contains("wrote more than 1048576 bytes"), "{e}");
}

#[test]
fn tools_run_with_a_clean_environment_a_private_home_and_no_network() {
    let dir = fake_chart();
    // The fake helm reports its environment as a ConfigMap.
    let script = "echo 'apiVersion: v1'; echo 'kind: ConfigMap'; echo 'metadata: {name: env}'; echo 'data:'; \
                  env | sort | sed -e 's/^\\([^=]*\\)=\\(.*\\)$/  \"\\1\": \"\\2\"/'";
    let tools = Tools::new(ToolConfig {
        helm: Some(fake_tool(dir.path(), script)),
        ..ToolConfig::default()
    })
    .unwrap();
    let out = render_path(dir.path(), "chart", &RenderOptions::default(), &tools).unwrap();
    let env = out.objects[0]["data"].as_object().unwrap();
    let allowed = [
        "PATH",
        "HOME",
        "TMPDIR",
        "XDG_CONFIG_HOME",
        "XDG_CACHE_HOME",
        "XDG_DATA_HOME",
        "KUBECONFIG",
        "HELM_CACHE_HOME",
        "HELM_CONFIG_HOME",
        "HELM_DATA_HOME",
        "HELM_PLUGINS",
        "KUSTOMIZE_PLUGIN_HOME",
        "GIT_TERMINAL_PROMPT",
        "GIT_CONFIG_NOSYSTEM",
        "LANG",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
        "PWD",
        "SHLVL",
        "_",
    ];
    for key in env.keys() {
        assert!(
            allowed.contains(&key.as_str()),
            "unexpected variable {key} reached the tool"
        );
    }
    assert_eq!(env["HTTPS_PROXY"], "http://127.0.0.1:9");
    let home = env["HOME"].as_str().unwrap();
    assert_ne!(Some(home), std::env::var("HOME").ok().as_deref());
    assert!(home.contains("sextant-tools-"), "{home}");
}
