//! The verbs Argo CD users reach for, on the real binary against an
//! in-process localkube (issue 19): `app sync` with its per-sync options,
//! retry and `--preview-changes`; `app patch`; `app edit`; `app manifests`;
//! `app resources` and `app get -o tree`; `app diff --local` and revisions
//! as Git users type them (`HEAD~1`); and `sextant notifications` (issue 18).

use crate::app_env;

use app_env::*;
use kube::api::{Api, DynamicObject, PostParams};
use serde_json::{Value, json};

/// An app `web` following `main` of a repository whose first commit has a
/// blue ConfigMap and whose second (main) a red one; the live ConfigMap
/// is blue. Returns the env, the repo and the first commit.
async fn blue_live_red_in_git() -> (Env, std::path::PathBuf, String) {
    let env = env().await;
    env.namespace("shop").await;
    let (repo, first) = repo(env.tmp.path());
    let mut app_spec = spec();
    app_spec["source"] = json!({"repoURL": repo.display().to_string(), "path": "apps/web", "targetRevision": "main"});
    app_spec["ignoreDifferences"] =
        json!([{"kind": "ConfigMap", "jsonPointers": ["/data/ignored"]}]);
    env.app("web", app_spec, json!({})).await;
    env.status(
        "web",
        json!({"resources": [{"version": "v1", "kind": "ConfigMap", "namespace": "shop", "name": "web-config", "status": "OutOfSync", "health": {"status": "Healthy"}}]}),
    )
    .await;
    live(&env, "web-config", "blue", "web:/ConfigMap:shop/web-config").await;
    (env, repo, first)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_flags_become_the_operations_sync_options_and_retry() {
    let env = env().await;
    env.app("web", spec(), json!({})).await;
    let out = env
        .run(&[
            "sync",
            "web",
            "--async",
            "--apply-out-of-sync-only",
            "--replace",
            "--force",
            "--sync-option",
            "Validate=false",
            "--retry-limit",
            "3",
            "--retry-backoff-duration",
            "10s",
        ])
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let op = serde_json::to_value(env.get("web").await.operation.unwrap()).unwrap();
    assert_eq!(
        op["sync"]["syncOptions"],
        json!([
            "Validate=false",
            "ApplyOutOfSyncOnly=true",
            "Replace=true",
            "Force=true"
        ])
    );
    assert_eq!(
        op["retry"],
        json!({"limit": 3, "backoff": {"duration": "10s", "factor": 2, "maxDuration": "180s"}})
    );

    // An option the controller would refuse is refused here, before
    // anything is written.
    env.app("other", spec(), json!({})).await;
    let out = env
        .run(&[
            "sync",
            "other",
            "--async",
            "--sync-option",
            "CreateNamespaces=true",
        ])
        .await;
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        text(&out.stderr).contains("CreateNamespaces"),
        "{}",
        show(&out)
    );
    assert!(env.get("other").await.operation.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preview_changes_prints_the_diff_and_syncs_only_when_confirmed() {
    let (env, _repo, _) = blue_live_red_in_git().await;
    // Not a terminal and no --yes: the preview is printed, nothing synced.
    let out = env.run(&["sync", "web", "--preview-changes"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        text(&out.stdout).contains("-  color: blue\n+  color: red\n"),
        "{}",
        show(&out)
    );
    assert!(text(&out.stderr).contains("add --yes"), "{}", show(&out));
    assert!(env.get("web").await.operation.is_none());

    let out = env
        .run(&["sync", "web", "--preview-changes", "--yes", "--async"])
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(
        text(&out.stdout).contains("+  color: red"),
        "{}",
        show(&out)
    );
    assert!(env.get("web").await.operation.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patch_changes_the_spec_and_refuses_a_bad_patch_without_writing() {
    let env = env().await;
    env.app("web", spec(), json!({})).await;
    let out = env
        .run(&[
            "patch",
            "web",
            "--patch",
            r#"[{"op": "replace", "path": "/spec/source/path", "value": "apps/api"}]"#,
        ])
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(
        text(&out.stdout).contains(r#"spec.source.path: "apps/web" -> "apps/api""#),
        "{}",
        show(&out)
    );
    let out = env
        .run(&[
            "patch",
            "web",
            "--type",
            "merge",
            "--patch",
            r#"{"spec": {"destination": {"namespace": "web"}}}"#,
        ])
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let app = env.get("web").await;
    assert_eq!(
        app.spec.source.as_ref().unwrap().path.as_deref(),
        Some("apps/api")
    );
    assert_eq!(app.spec.destination.namespace.as_deref(), Some("web"));

    let version = app.metadata.resource_version.clone();
    for (patch, kind, why) in [
        (
            r#"{"spec": {"destination": "x"}}"#,
            "merge",
            "not a valid Application spec",
        ),
        (
            r#"[{"op": "remove", "path": "/spec/nothing"}]"#,
            "json",
            "does not apply",
        ),
        (r#"{"spec": "#, "json", "not JSON"),
        (
            r#"{"spec": {"syncPolicy": {"syncOptions": ["Bogus=1"]}}}"#,
            "merge",
            "Bogus",
        ),
    ] {
        let out = env
            .run(&["patch", "web", "--type", kind, "--patch", patch])
            .await;
        assert_eq!(out.status.code(), Some(2), "{patch}: {}", show(&out));
        assert!(text(&out.stderr).contains(why), "{patch}: {}", show(&out));
    }
    assert_eq!(
        env.get("web").await.metadata.resource_version,
        version,
        "a refused patch writes nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edit_writes_a_checked_spec_and_never_a_broken_one() {
    let env = env().await;
    env.app("web", spec(), json!({})).await;
    let edit = |editor: &str| {
        let mut cmd = env.command(&["edit", "web"]);
        cmd.env_remove("VISUAL").env("EDITOR", editor);
        cmd
    };
    let out = edit("sed -i s#apps/web#apps/edited#")
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(text(&out.stdout).contains("apps/edited"), "{}", show(&out));
    assert_eq!(
        env.get("web").await.spec.source.unwrap().path.as_deref(),
        Some("apps/edited")
    );
    // The editor leaves it as it was: nothing is written.
    let version = env.get("web").await.metadata.resource_version;
    let out = edit("true").output().await.unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(text(&out.stdout).contains("unchanged"), "{}", show(&out));
    // Broken YAML, no terminal to ask on: an error, nothing written.
    let out = edit("sed -i s#^project:.*#project:#")
        .output()
        .await
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "an empty project is valid: {}",
        show(&out)
    );
    let version_after_valid = env.get("web").await.metadata.resource_version;
    assert_ne!(version_after_valid, version);
    let out = edit("sed -i s#^destination:#destination:[#")
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        text(&out.stderr).contains("was not changed"),
        "{}",
        show(&out)
    );
    assert_eq!(
        env.get("web").await.metadata.resource_version,
        version_after_valid
    );
    // An editor that fails: nothing written either.
    let out = edit("false").output().await.unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        text(&out.stderr).contains("nothing was written"),
        "{}",
        show(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manifests_prints_what_git_renders_or_what_is_live() {
    let (env, _repo, first) = blue_live_red_in_git().await;
    let out = env.run(&["manifests", "web"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let git = text(&out.stdout);
    assert!(git.starts_with("---\n"), "{git}");
    assert!(git.contains("color: red"), "{git}");
    assert!(
        git.contains("sextant.dev/tracking-id: web:/ConfigMap:shop/web-config"),
        "with the tracking a sync adds: {git}"
    );
    let out = env.run(&["manifests", "web", "--revision", &first]).await;
    assert!(text(&out.stdout).contains("color: blue"), "{}", show(&out));
    let out = env.run(&["manifests", "web", "--source", "live"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let live = text(&out.stdout);
    assert!(
        live.contains("color: blue") && live.contains("uid:"),
        "{live}"
    );
    assert!(!live.contains("managedFields"), "{live}");
}

/// A Deployment owning a ReplicaSet owning two Pods, made by hand (the
/// simulation that would make them is off).
async fn owned_chain(env: &Env) {
    let client = env.client();
    let create = |api_version: &str,
                  kind: &str,
                  plural: &str,
                  name: &str,
                  owner: Option<(&str, &str, &str)>| {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let api: Api<DynamicObject> = Api::namespaced_with(
            client.clone(),
            "shop",
            &resource(group, version, kind, plural),
        );
        let mut obj = json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": name}});
        match kind {
            "Deployment" | "ReplicaSet" => {
                obj["spec"] = json!({"selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}});
            }
            _ => obj["spec"] = json!({"containers": [{"name": "c", "image": "nginx"}]}),
        }
        if let Some((okind, oname, ouid)) = owner {
            obj["metadata"]["ownerReferences"] =
                json!([{"apiVersion": "apps/v1", "kind": okind, "name": oname, "uid": ouid}]);
        }
        async move {
            let made = api
                .create(
                    &PostParams::default(),
                    &serde_json::from_value(obj).unwrap(),
                )
                .await
                .unwrap();
            made.metadata.uid.unwrap()
        }
    };
    let d = create("apps/v1", "Deployment", "deployments", "web", None).await;
    let rs = create(
        "apps/v1",
        "ReplicaSet",
        "replicasets",
        "web-7f",
        Some(("Deployment", "web", &d)),
    )
    .await;
    create(
        "v1",
        "Pod",
        "pods",
        "web-7f-b",
        Some(("ReplicaSet", "web-7f", &rs)),
    )
    .await;
    create(
        "v1",
        "Pod",
        "pods",
        "web-7f-a",
        Some(("ReplicaSet", "web-7f", &rs)),
    )
    .await;
    create("v1", "Pod", "pods", "stray", None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resources_and_get_tree_show_what_the_apps_objects_own() {
    let env = env().await;
    env.namespace("shop").await;
    env.app("web", spec(), json!({})).await;
    env.status(
        "web",
        json!({"resources": [
            {"group": "apps", "version": "v1", "kind": "Deployment", "namespace": "shop", "name": "web", "status": "Synced", "health": {"status": "Healthy"}},
            {"version": "v1", "kind": "Service", "namespace": "shop", "name": "web", "status": "OutOfSync", "health": {"status": "Missing"}},
        ]}),
    )
    .await;
    owned_chain(&env).await;

    let out = env.run(&["resources", "web"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(
        rows(&out),
        [
            vec!["GROUP", "KIND", "NAMESPACE", "NAME", "STATUS", "HEALTH"],
            vec!["apps", "Deployment", "shop", "web", "Synced", "Healthy"],
            vec!["-", "Service", "shop", "web", "OutOfSync", "Missing"],
        ]
    );
    let out = env.run(&["resources", "web", "-o", "json"]).await;
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc.as_array().unwrap().len(), 2);

    for args in [
        vec!["resources", "web", "--tree"],
        vec!["get", "web", "-o", "tree"],
    ] {
        let out = env.run(&args).await;
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", show(&out));
        let stdout = text(&out.stdout);
        let tree: Vec<&str> = stdout
            .lines()
            .skip_while(|l| !l.starts_with("NAME "))
            .map(|l| {
                l.split("  shop")
                    .next()
                    .unwrap()
                    .split("  NAMESPACE")
                    .next()
                    .unwrap()
                    .trim_end()
            })
            .collect();
        assert_eq!(
            tree,
            [
                "NAME",
                "Service/web",
                "Deployment.apps/web",
                "└─ ReplicaSet.apps/web-7f",
                "   ├─ Pod/web-7f-a",
                "   └─ Pod/web-7f-b",
            ],
            "{args:?}: {stdout}"
        );
        assert!(!stdout.contains("stray"), "{stdout}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diff_local_renders_a_folder_as_it_is_and_revisions_take_ancestry() {
    let (env, repo, first) = blue_live_red_in_git().await;
    // HEAD~1 of main is the first commit: blue, as live.
    let out = env.run(&["diff", "web", "--revision", "HEAD~1"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(text(&out.stderr).contains(&first[..7]), "{}", show(&out));
    // An uncommitted change in the work tree: --local sees it, Git does not.
    std::fs::write(
        repo.join("apps/web/config.yaml"),
        config_map("web-config", "green", "a"),
    )
    .unwrap();
    let dir = repo.join("apps/web");
    let out = env
        .run(&["diff", "web", "--local", dir.to_str().unwrap()])
        .await;
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        text(&out.stdout).contains("-  color: blue\n+  color: green\n"),
        "{}",
        show(&out)
    );
    assert!(text(&out.stderr).contains("files in"), "{}", show(&out));
    // With the repository root: the same folder, named from the root.
    let out = env
        .run(&[
            "diff",
            "web",
            "--local",
            dir.to_str().unwrap(),
            "--local-repo-root",
            repo.to_str().unwrap(),
        ])
        .await;
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        text(&out.stdout).contains("+  color: green"),
        "{}",
        show(&out)
    );
    let out = env
        .run(&[
            "diff",
            "web",
            "--local",
            repo.to_str().unwrap(),
            "--local-repo-root",
            dir.to_str().unwrap(),
        ])
        .await;
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        text(&out.stderr).contains("is not inside"),
        "{}",
        show(&out)
    );
}

/// A spinner with the status on a terminal (`script` gives the command a
/// pseudo-terminal); none of it when the output is piped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_shows_a_spinner_on_a_terminal_and_plain_lines_when_piped() {
    let env = env().await;
    env.app("web", spec(), json!({})).await;
    env.status(
        "web",
        json!({"sync": {"status": "OutOfSync"}, "health": {"status": "Progressing"}}),
    )
    .await;
    let piped = env.run(&["wait", "web", "--timeout", "1500ms"]).await;
    assert_eq!(piped.status.code(), Some(1), "{}", show(&piped));
    assert!(
        !text(&piped.stderr).contains("waiting for web"),
        "{}",
        show(&piped)
    );

    let line = format!(
        "{} app wait web --timeout 1500ms --kubeconfig {}",
        env!("CARGO_BIN_EXE_sextant"),
        env.server.kubeconfig_path().display()
    );
    let out = tokio::process::Command::new("script")
        .args(["-q", "-e", "-c", &line, "/dev/null"])
        .env_remove("KUBECONFIG")
        .env_remove("SEXTANT_NAMESPACE")
        .env("HOME", env.tmp.path())
        .env("TERM", "xterm")
        .output()
        .await
        .unwrap();
    let seen = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{seen}");
    assert!(
        seen.contains("waiting for web: sync OutOfSync, health Progressing"),
        "the spinner's status line: {seen:?}"
    );
    assert!(seen.contains("timed out after 1.5s"), "{seen:?}");
}

/// `sextant notifications` (issue 18): a template rendered for a real app
/// and a trigger evaluated, from the ConfigMap and Secret in the cluster;
/// nothing is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_render_a_template_and_run_a_trigger_without_sending() {
    let env = env().await;
    env.app("web", spec(), json!({})).await;
    env.status(
        "web",
        json!({"sync": {"status": "Synced", "revision": "0123456789abcdef0123456789abcdef01234567"},
               "health": {"status": "Healthy"},
               "operationState": {"operation": {"sync": {}}, "phase": "Succeeded", "startedAt": "2026-01-01T00:00:00Z"}}),
    )
    .await;
    let cms: Api<DynamicObject> = Api::namespaced_with(
        env.client(),
        "sextant",
        &resource("", "v1", "ConfigMap", "configmaps"),
    );
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
    "metadata": {"name": "argocd-notifications-cm"},
    "data": {
        "context": "argocdUrl: https://cd.example.com\n",
        "template.my": "message: '{{.app.metadata.name}} is {{.app.status.health.status}} ({{.commit.sha | trunc 7}})'\ntitle: hi\nslack:\n  attachments: '[{\"title\": {{.app.metadata.name | quote}}, \"title_link\": {{.context.appUrl | quote}}}]'\n",
        "trigger.on-broken": "- when: app.status.health.status == 'Degraded'\n  send: [my]\n",
    }});
    cms.create(&PostParams::default(), &serde_json::from_value(cm).unwrap())
        .await
        .unwrap();
    let run = |args: &[&str]| {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_sextant"));
        cmd.arg("notifications")
            .args(args)
            .arg("--kubeconfig")
            .arg(env.server.kubeconfig_path())
            .env_remove("KUBECONFIG")
            .env_remove("SEXTANT_NAMESPACE");
        cmd
    };
    let out = run(&["template", "notify", "my", "web", "-o", "json"])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["message"], "web is Healthy (0123456)");
    assert_eq!(doc["title"], "hi");
    assert!(
        doc["fields"]["slack"]["attachments"]
            .as_str()
            .unwrap()
            .contains("https://cd.example.com/applications/sextant/web"),
        "{doc}"
    );
    // A built-in template and trigger.
    let out = run(&["template", "notify", "app-deployed", "web"])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(
        text(&out.stdout).contains("Application web is now running revision 0123456789abcdef"),
        "{}",
        show(&out)
    );
    let out = run(&["trigger", "run", "on-deployed", "web"])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(
        text(&out.stdout).starts_with("0: true, once per \"0123456789abcdef"),
        "{}",
        show(&out)
    );
    let out = run(&["trigger", "run", "on-broken", "web"])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let out = run(&["template", "notify", "nope", "web"])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        text(&out.stderr).contains("no template `nope`"),
        "{}",
        show(&out)
    );
}
