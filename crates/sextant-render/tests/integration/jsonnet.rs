//! Jsonnet directories, rendered in-process (the library's mode; the
//! `sextant` binary's child process is tested in `render_cli`): libs,
//! extVars and TLAs as strings and code, `.libsonnet` left alone, errors
//! with file and line, imports confined to the repository.

use crate::support;

use std::path::Path;

use serde_json::{Value, json};
use sextant_render::{JsonnetOptions, JsonnetVar, RenderOptions, SourceKind, render_path};
use support::{tools, write_files};

fn var(name: &str, value: &str, code: bool) -> JsonnetVar {
    JsonnetVar {
        name: name.into(),
        value: value.into(),
        code,
    }
}

fn with_jsonnet(jsonnet: JsonnetOptions) -> RenderOptions {
    let mut options = RenderOptions {
        namespace: "apps".into(),
        ..RenderOptions::default()
    };
    options.directory.jsonnet = jsonnet;
    options
}

fn names(objects: &[Value]) -> Vec<String> {
    objects
        .iter()
        .map(|o| {
            format!(
                "{}/{}",
                o["kind"].as_str().unwrap(),
                o["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect()
}

const MAIN: &str = r#"
local util = import 'util.libsonnet';
local k = import 'k.libsonnet';
function(replicas, tier='web') [
  k.configMap(std.extVar('env') + '-settings', { debug: std.toString(std.extVar('debug')) }),
  util.deployment('api', replicas, tier),
]
"#;

const UTIL: &str = r#"
{
  deployment(name, replicas, tier):: {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: name, labels: { tier: tier } },
    spec: { replicas: replicas },
  },
}
"#;

const K: &str = r#"
{
  configMap(name, data):: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: name }, data: data },
}
"#;

fn fixture(dir: &Path) {
    write_files(
        dir,
        &[
            ("apps/main.jsonnet", MAIN),
            ("apps/util.libsonnet", UTIL),
            ("vendor/k.libsonnet", K),
            (
                "apps/plain.yaml",
                "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: runner}\n",
            ),
        ],
    );
}

#[test]
fn jsonnet_files_render_with_libs_ext_vars_and_tlas_beside_plain_manifests() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    let options = with_jsonnet(JsonnetOptions {
        libs: vec!["vendor".into()],
        ext_vars: vec![var("env", "prod", false), var("debug", "1 + 1 == 2", true)],
        tlas: vec![var("replicas", "3", true), var("tier", "backend", false)],
    });
    let out = render_path(dir.path(), "apps", &options, &tools()).unwrap();
    assert_eq!(out.kind, SourceKind::Directory);
    assert_eq!(
        names(&out.objects),
        [
            "ConfigMap/prod-settings",
            "ServiceAccount/runner",
            "Deployment/api"
        ]
    );
    let deployment = &out.objects[2];
    assert_eq!(deployment["spec"]["replicas"], 3, "a code TLA is a number");
    assert_eq!(deployment["metadata"]["labels"]["tier"], "backend");
    assert_eq!(deployment["metadata"]["namespace"], "apps");
    assert_eq!(out.objects[0]["data"], json!({"debug": "true"}));
    // The library is not a manifest of its own.
    assert!(
        out.skipped.iter().any(|s| s.path == "apps/util.libsonnet"),
        "{:?}",
        out.skipped
    );
}

#[test]
fn without_its_lib_folder_the_import_fails_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    let options = with_jsonnet(JsonnetOptions {
        ext_vars: vec![var("env", "prod", false), var("debug", "true", true)],
        tlas: vec![var("replicas", "1", true)],
        ..JsonnetOptions::default()
    });
    let err = render_path(dir.path(), "apps", &options, &tools()).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("apps/main.jsonnet"), "{text}");
    assert!(text.contains("k.libsonnet"), "{text}");
}

#[test]
fn a_runtime_error_names_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[(
            "app/broken.jsonnet",
            "local x = 1;\n{\n  apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: error 'no name for ' + x },\n}\n",
        )],
    );
    let err = render_path(dir.path(), "app", &RenderOptions::default(), &tools()).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("app/broken.jsonnet"), "{text}");
    assert!(text.contains("no name for 1"), "{text}");
    assert!(
        text.contains("broken.jsonnet:3:"),
        "the line of the error: {text}"
    );
}

#[test]
fn a_syntax_error_names_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[("app/bad.jsonnet", "{\n  a: 1,\n  b: ,\n}\n")],
    );
    let err = render_path(dir.path(), "app", &RenderOptions::default(), &tools()).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("bad.jsonnet:3"), "{text}");
}

#[test]
fn imports_outside_the_repository_are_refused() {
    let outside = tempfile::tempdir().unwrap();
    write_files(outside.path(), &[("secret.libsonnet", "{ token: 'x' }")]);
    let secret = outside.path().join("secret.libsonnet");
    let dir = tempfile::tempdir().unwrap();
    for (file, import) in [
        ("absolute", secret.display().to_string()),
        (
            "climbing",
            format!("../../../../../../../..{}", secret.display()),
        ),
    ] {
        let repo = dir.path().join(file);
        write_files(
            &repo,
            &[(
                "app/main.jsonnet",
                &format!(
                    "{{ apiVersion: 'v1', kind: 'ConfigMap', metadata: {{ name: (import '{import}').token }} }}"
                ),
            )],
        );
        let err = render_path(&repo, "app", &RenderOptions::default(), &tools()).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("leaves the repository"), "{file}: {text}");
    }
    // Lib folders are relative to the repository root and stay inside.
    let repo = dir.path().join("lib");
    write_files(&repo, &[("app/main.jsonnet", "{}")]);
    let libs = |lib: String| {
        with_jsonnet(JsonnetOptions {
            libs: vec![lib],
            ..JsonnetOptions::default()
        })
    };
    let climbing = format!("../../../../../../../..{}", outside.path().display());
    let err = render_path(&repo, "app", &libs(climbing), &tools()).unwrap_err();
    assert!(
        err.to_string()
            .contains("not a folder inside the repository"),
        "{err}"
    );
    let absolute = outside.path().display().to_string();
    let err = render_path(&repo, "app", &libs(absolute), &tools()).unwrap_err();
    assert!(
        err.to_string().contains("does not exist in the repository"),
        "{err}"
    );
}

#[test]
fn a_result_that_is_not_objects_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[("app/s.jsonnet", "'just a string'")]);
    let err = render_path(dir.path(), "app", &RenderOptions::default(), &tools()).unwrap_err();
    assert!(
        err.to_string()
            .contains("must give an object or an array of objects"),
        "{err}"
    );
}

#[test]
fn include_and_exclude_apply_to_jsonnet_files() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[
            (
                "app/a.jsonnet",
                "{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } }",
            ),
            ("app/b.jsonnet", "error 'b must not be evaluated'"),
        ],
    );
    let mut options = RenderOptions::default();
    options.directory.exclude = Some("b.jsonnet".into());
    let out = render_path(dir.path(), "app", &options, &tools()).unwrap();
    assert_eq!(names(&out.objects), ["ConfigMap/a"]);
}
