//! The repo server end to end: detection (kustomization, then Chart.yaml,
//! else plain) and forcing, plain-directory options, normalisation, and the
//! render cache: a second render of a commit does no Git or tool work.

use crate::support;

use std::os::unix::fs::PermissionsExt;

use sextant_render::{
    DirectoryOptions, RenderOptions, Renderer, RendererConfig, Request, SourceKind, ToolConfig,
    render_path,
};
use support::{commit_all, helm_bin, helm_create, names, tools, write_files};

const PLAIN: &[(&str, &str)] = &[
    (
        "app/a.yaml",
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n---\n# nothing\n",
    ),
    (
        "app/list.yaml",
        "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Namespace, metadata: {name: team}}\n- {apiVersion: apps/v1, kind: Deployment, metadata: {name: d, namespace: other}}\n",
    ),
    (
        "app/b.json",
        "{\"apiVersion\": \"rbac.authorization.k8s.io/v1\", \"kind\": \"ClusterRole\", \"metadata\": {\"name\": \"r\"}}",
    ),
    ("app/README.md", "# not a manifest"),
    ("app/config.yaml", "logLevel: debug\nfeatures: [a, b]\n"),
    ("app/empty.yaml", "\n"),
    (
        "app/sub/c.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: c\n",
    ),
    (
        "app/sub/test/d.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: d\n",
    ),
];

fn plain(options: DirectoryOptions) -> sextant_render::Rendered {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), PLAIN);
    let options = RenderOptions {
        namespace: "dest".into(),
        directory: options,
        ..RenderOptions::default()
    };
    render_path(dir.path(), "app", &options, &tools()).unwrap()
}

#[test]
fn a_plain_folder_yields_normalised_sorted_objects_and_says_what_it_skipped() {
    let out = plain(DirectoryOptions::default());
    assert_eq!(out.kind, SourceKind::Directory);
    assert_eq!(
        names(&out.objects),
        [
            "ConfigMap/a",
            "Namespace/team",
            "Deployment/d",
            "ClusterRole/r"
        ]
    );
    let ns: Vec<_> = out
        .objects
        .iter()
        .map(|o| o["metadata"].get("namespace").cloned())
        .collect();
    assert_eq!(ns[0].as_ref().unwrap(), "dest");
    assert!(
        ns[1].is_none() && ns[3].is_none(),
        "cluster-scoped objects have no namespace"
    );
    assert_eq!(ns[2].as_ref().unwrap(), "other");
    let skipped: Vec<_> = out
        .skipped
        .iter()
        .map(|s| (s.path.as_str(), s.reason.as_str()))
        .collect();
    assert!(
        skipped.contains(&("app/README.md", "not a .yaml, .yml, .json or .jsonnet file")),
        "{skipped:?}"
    );
    assert!(
        skipped
            .iter()
            .any(|(p, r)| *p == "app/config.yaml" && r.contains("no Kubernetes objects"))
    );
    assert!(
        skipped.contains(&("app/empty.yaml", "no documents")),
        "{skipped:?}"
    );
}

#[test]
fn recursion_and_include_exclude_globs_pick_the_files() {
    let all = plain(DirectoryOptions {
        recurse: true,
        ..DirectoryOptions::default()
    });
    assert!(names(&all.objects).contains(&"Service/d".to_owned()));
    assert_eq!(all.objects.len(), 6);
    let only_sub = plain(DirectoryOptions {
        recurse: true,
        include: Some("sub/*.yaml".into()),
        ..DirectoryOptions::default()
    });
    assert_eq!(names(&only_sub.objects), ["Service/c"]);
    let no_tests = plain(DirectoryOptions {
        recurse: true,
        exclude: Some("{**/test/*,*.json}".into()),
        ..DirectoryOptions::default()
    });
    let got = names(&no_tests.objects);
    assert!(
        !got.contains(&"Service/d".to_owned()) && !got.contains(&"ClusterRole/r".to_owned()),
        "{got:?}"
    );
    assert!(got.contains(&"Service/c".to_owned()));
}

#[test]
fn detection_prefers_kustomize_then_helm_and_a_kind_can_be_forced() {
    let dir = tempfile::tempdir().unwrap();
    helm_create(dir.path(), "both");
    write_files(
        dir.path(),
        &[
            ("both/kustomization.yaml", "resources: [cm.yaml]\n"),
            (
                "both/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-kustomize\n",
            ),
        ],
    );
    let t = tools();
    let detected = render_path(dir.path(), "both", &RenderOptions::default(), &t).unwrap();
    assert_eq!(detected.kind, SourceKind::Kustomize);
    assert_eq!(names(&detected.objects), ["ConfigMap/from-kustomize"]);
    let forced = RenderOptions {
        kind: Some(SourceKind::Helm),
        ..RenderOptions::default()
    };
    let helm = render_path(dir.path(), "both", &forced, &t).unwrap();
    assert_eq!(helm.kind, SourceKind::Helm);
    assert!(names(&helm.objects).contains(&"Deployment/both".to_owned()));
    assert_eq!(
        sextant_render::detect(&dir.path().join("both/templates")),
        SourceKind::Directory
    );
}

/// A helm that counts its runs and then runs the real one.
fn counting_helm(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("helm");
    let count = dir.join("count");
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\necho run >> '{}'\nexec '{}' \"$@\"\n",
            count.display(),
            helm_bin().display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn runs(dir: &std::path::Path) -> usize {
    std::fs::read_to_string(dir.join("count")).map_or(0, |t| t.lines().count())
}

#[test]
fn a_second_render_of_the_same_commit_does_no_git_or_tool_work() {
    let repo = tempfile::tempdir().unwrap();
    helm_create(&repo.path().join("charts").tap_mkdir(), "web");
    let commit = commit_all(repo.path());
    let bin = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let renderer = Renderer::new(RendererConfig {
        cache_dir: cache.path().to_owned(),
        tools: ToolConfig {
            helm: Some(counting_helm(bin.path())),
            ..ToolConfig::default()
        },
        ..RendererConfig::default()
    })
    .unwrap();
    let options = RenderOptions {
        namespace: "web".into(),
        ..RenderOptions::default()
    };
    let url = repo.path().to_str().unwrap();
    let request = |revision| Request {
        repo: url,
        revision,
        path: "charts/web",
        options: &options,
        credentials: None,
        chart: None,
    };
    let first = renderer.render(&request("main")).unwrap();
    assert_eq!(first.commit.as_ref().unwrap().to_string(), commit);
    assert!(!first.cache_hit);
    assert_eq!(runs(bin.path()), 1);

    let second = renderer.render(&request("main")).unwrap();
    assert!(second.cache_hit);
    assert_eq!(runs(bin.path()), 1, "helm did not run again");
    assert_eq!(second.rendered, first.rendered);

    // With the repository gone, a full commit is still answered.
    let moved = repo.path().with_extension("moved");
    std::fs::rename(repo.path(), &moved).unwrap();
    let third = renderer.render(&request(&commit)).unwrap();
    assert!(third.cache_hit);
    assert_eq!(runs(bin.path()), 1);
    std::fs::rename(&moved, repo.path()).unwrap();

    // Different options are a different key.
    let other = RenderOptions {
        namespace: "elsewhere".into(),
        ..RenderOptions::default()
    };
    let fourth = renderer
        .render(&Request {
            options: &other,
            ..request(&commit)
        })
        .unwrap();
    assert!(!fourth.cache_hit);
    assert_eq!(runs(bin.path()), 2);
}

#[test]
fn a_plain_folder_that_is_not_a_git_repository_is_rendered_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), PLAIN);
    let cache = tempfile::tempdir().unwrap();
    let renderer = Renderer::new(RendererConfig {
        cache_dir: cache.path().to_owned(),
        ..RendererConfig::default()
    })
    .unwrap();
    let options = RenderOptions::default();
    let request = Request {
        repo: dir.path().to_str().unwrap(),
        revision: "",
        path: "app",
        options: &options,
        credentials: None,
        chart: None,
    };
    let out = renderer.render(&request).unwrap();
    assert!(out.commit.is_none());
    assert_eq!(out.rendered.objects.len(), 4);
    let err = renderer
        .render(&Request {
            revision: "main",
            ..request
        })
        .unwrap_err();
    assert!(err.to_string().contains("is not a Git repository"), "{err}");
}

#[test]
fn a_commit_of_one_repository_is_never_served_for_another() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    write_files(
        a.path(),
        &[(
            "app/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: secret-a\n",
        )],
    );
    write_files(
        b.path(),
        &[(
            "app/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n",
        )],
    );
    let commit_a = commit_all(a.path());
    commit_all(b.path());
    let cache = tempfile::tempdir().unwrap();
    let renderer = Renderer::new(RendererConfig {
        cache_dir: cache.path().to_owned(),
        ..RendererConfig::default()
    })
    .unwrap();
    let options = RenderOptions::default();
    let (dir_a, dir_b) = (a.path().to_str().unwrap(), b.path().to_str().unwrap());
    let request = |repo| Request {
        repo,
        revision: &commit_a,
        path: "app",
        options: &options,
        credentials: None,
        chart: None,
    };
    let from_a = renderer.render(&request(dir_a)).unwrap();
    assert_eq!(names(&from_a.rendered.objects), ["ConfigMap/secret-a"]);
    let err = renderer.render(&request(dir_b)).unwrap_err();
    assert!(err.to_string().contains("was not found"), "{err}");
}

trait TapMkdir {
    fn tap_mkdir(self) -> Self;
}

impl TapMkdir for std::path::PathBuf {
    fn tap_mkdir(self) -> Self {
        std::fs::create_dir_all(&self).unwrap();
        self
    }
}
