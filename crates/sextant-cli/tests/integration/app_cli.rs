//! The real `sextant app ...` against an in-process localkube with the
//! Sextant CRDs. Until the controller exists, the tests play it where a
//! verb needs one: a task that sees the operation (or annotation, or
//! finalizer), writes `status` through the status subresource and clears
//! what it handled, as the controller's contract says.

use std::process::Output;
use std::time::Duration;

use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use sextant_model::Application;
use sextant_model::annotations::{
    ARGOCD_RESOURCES_FINALIZER, REFRESH, REQUEST_ID_INFO, RESOURCES_FINALIZER,
};

use crate::app_env;
use app_env::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_writes_the_application_and_refuses_a_second_one_unless_upsert() {
    let env = env().await;
    let out = env
        .run(&[
            "create",
            "--validate=false",
            "web",
            "--repo",
            "https://git.example.invalid/deploy.git",
            "--path",
            "charts/web",
            "--dest-namespace",
            "shop",
            "--self-heal",
            "--sync-option",
            "CreateNamespace=true",
            "--helm-set",
            "image.tag=1.2",
            "--values-file",
            "values-prod.yaml",
        ])
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(
        text(&out.stdout).contains("application web created in namespace sextant"),
        "{}",
        show(&out)
    );
    let app = env.get("web").await;
    assert_eq!(app.api_version, "sextant.dev/v1alpha1");
    let source = app.spec.source.as_ref().unwrap();
    assert_eq!(source.repo_url, "https://git.example.invalid/deploy.git");
    assert_eq!(source.path.as_deref(), Some("charts/web"));
    assert_eq!(source.target_revision.as_deref(), Some("HEAD"));
    let helm = source.helm.as_ref().unwrap();
    assert_eq!(helm.parameters.as_ref().unwrap()[0].name, "image.tag");
    assert_eq!(helm.parameters.as_ref().unwrap()[0].value, "1.2");
    assert_eq!(
        helm.value_files.as_deref(),
        Some(&["values-prod.yaml".to_owned()][..])
    );
    assert_eq!(app.spec.project, "default");
    assert_eq!(
        app.spec.destination.server.as_deref(),
        Some("https://kubernetes.default.svc")
    );
    assert_eq!(app.spec.destination.namespace.as_deref(), Some("shop"));
    let policy = app.spec.sync_policy.as_ref().unwrap();
    let automated = policy
        .automated
        .as_ref()
        .expect("--self-heal implies automated");
    assert_eq!(automated.self_heal, Some(true));
    assert_eq!(automated.prune, None);
    assert_eq!(
        policy.sync_options.as_deref(),
        Some(&["CreateNamespace=true".to_owned()][..])
    );

    let again = [
        "create",
        "--validate=false",
        "web",
        "--repo",
        "https://git.example.invalid/deploy.git",
        "--path",
        "charts/other",
        "--dest-namespace",
        "shop",
    ];
    let out = env.run(&again).await;
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        text(&out.stderr).contains(
            "sextant: application web already exists in namespace sextant; pass --upsert"
        ),
        "{}",
        show(&out)
    );
    assert_eq!(
        env.get("web").await.spec.source.unwrap().path.as_deref(),
        Some("charts/web")
    );

    let mut upsert = again.to_vec();
    upsert.extend([
        "--upsert",
        "--plugin",
        "tmpl-v1",
        "--plugin-env",
        "TIER=gold",
    ]);
    let out = env.run(&upsert).await;
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(text(&out.stdout).contains("application web updated"));
    let app = env.get("web").await;
    let source = app.spec.source.unwrap();
    assert_eq!(source.path.as_deref(), Some("charts/other"));
    let plugin = source.plugin.expect("--plugin");
    assert_eq!(plugin.name.as_deref(), Some("tmpl-v1"));
    let env_entry = &plugin.env.unwrap()[0];
    assert_eq!(
        (env_entry.name.as_str(), env_entry.value.as_str()),
        ("TIER", "gold")
    );
    assert_eq!(app.spec.sync_policy, None, "upsert replaces the whole spec");

    let out = env
        .run(&[
            "create",
            "--validate=false",
            "bad",
            "--repo",
            "r",
            "--path",
            "p",
            "--dest-namespace",
            "x",
            "--sync-option",
            "novalue",
        ])
        .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--sync-option expects KEY=VALUE, got `novalue`"),
        "{}",
        show(&out)
    );
    // Unknown options are refused, not carried into the app.
    let out = env
        .run(&[
            "create",
            "--validate=false",
            "bad",
            "--repo",
            "r",
            "--path",
            "p",
            "--dest-namespace",
            "x",
            "--sync-option",
            "CreateNamespaces=true",
        ])
        .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("unknown sync option `CreateNamespaces=true`"),
        "{}",
        show(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_crds_every_verb_says_how_to_install_them_and_a_missing_app_is_named() {
    let bare = start(false).await;
    let out = bare
        .run(&[
            "create",
            "--validate=false",
            "web",
            "--repo",
            "r",
            "--path",
            "p",
            "--dest-namespace",
            "shop",
        ])
        .await;
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        text(&out.stderr).contains("(sextant.dev/v1alpha1): the CRDs are not installed")
            && text(&out.stderr).contains("sextant crds | kubectl apply -f -"),
        "{}",
        show(&out)
    );
    for args in [&["list"][..], &["get", "web"][..], &["sync", "web"][..]] {
        let out = bare.run(args).await;
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", show(&out));
        assert!(
            text(&out.stderr).contains("sextant crds | kubectl apply -f -"),
            "{args:?}: {}",
            show(&out)
        );
    }

    let env = env().await;
    for args in [
        &["get", "nope"][..],
        &["sync", "nope"][..],
        &["wait", "nope", "--timeout", "1s"][..],
        &["history", "nope"][..],
        &["delete", "nope"][..],
        &["diff", "nope"][..],
    ] {
        let out = env.run(args).await;
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", show(&out));
        assert!(
            text(&out.stderr).contains("sextant: application nope not found in namespace sextant"),
            "{args:?}: {}",
            show(&out)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kubeconfig_and_namespace_come_from_flags_or_the_environment() {
    let env = env().await;
    env.namespace("team").await;
    let team: Api<Application> = Api::namespaced(env.client(), "team");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_sextant"))
        .args([
            "app",
            "create",
            "--validate=false",
            "web",
            "--repo",
            "r",
            "--path",
            "p",
            "--dest-namespace",
            "shop",
        ])
        .env("KUBECONFIG", env.server.kubeconfig_path())
        .env("SEXTANT_NAMESPACE", "team")
        .env("HOME", env.tmp.path())
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(team.get_opt("web").await.unwrap().is_some());
    assert!(env.apps.get_opt("web").await.unwrap().is_none());

    let out = env.run(&["list", "-n", "team"]).await;
    assert_eq!(rows(&out)[1][0], "web", "{}", show(&out));
    let out = env.run(&["list"]).await;
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text(&out.stderr).contains("no applications in namespace sextant"),
        "{}",
        show(&out)
    );

    let out = env.run(&["list", "--context", "elsewhere"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("could not use kubeconfig"),
        "--context is passed on: {}",
        show(&out)
    );

    let home = env.tmp.path().join("home");
    std::fs::create_dir_all(home.join(".kube")).unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_sextant"))
        .args(["app", "list", "--namespace", "team"])
        .env_remove("KUBECONFIG")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env("HOME", &home)
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no kubeconfig: pass --kubeconfig, set KUBECONFIG"),
        "{}",
        show(&out)
    );
    std::fs::copy(env.server.kubeconfig_path(), home.join(".kube/config")).unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_sextant"))
        .args(["app", "list", "--namespace", "team"])
        .env_remove("KUBECONFIG")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env("HOME", &home)
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(rows(&out)[1][0], "web", "~/.kube/config is the default");
}

// ---------------------------------------------------------------- list, get

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_and_get_show_the_status_the_controller_reported() {
    let env = env().await;
    env.app("web", spec(), json!({})).await;
    env.app("db", spec(), json!({})).await;
    env.status(
        "web",
        json!({
            "sync": {"status": "Synced", "revision": COMMIT},
            "health": {"status": "Healthy", "message": "all good"},
            "resources": [
                {"group": "apps", "version": "v1", "kind": "Deployment", "namespace": "shop", "name": "web",
                 "status": "Synced", "health": {"status": "Healthy"}},
                {"group": "", "version": "v1", "kind": "ConfigMap", "namespace": "shop", "name": "old",
                 "status": "OutOfSync", "requiresPruning": true},
            ],
            "conditions": [{"type": "SyncError", "message": "boom"}],
            "operationState": {"operation": {"sync": {}}, "phase": "Failed",
                               "message": "one or more objects failed to apply", "startedAt": "2025-01-01T00:00:00Z"},
        }),
    )
    .await;

    let out = env.run(&["list"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let table = rows(&out);
    assert_eq!(table[0], ["NAME", "PROJECT", "SYNC", "HEALTH", "REVISION"]);
    assert_eq!(table[1], ["db", "default", "-", "-", "-"]);
    assert_eq!(table[2], ["web", "default", "Synced", "Healthy", "0123456"]);

    let out = env.run(&["list", "-o", "wide"]).await;
    assert_eq!(
        rows(&out)[2][5..],
        [
            "https://kubernetes.default.svc/shop",
            "https://git.example.invalid/deploy.git",
            "apps/web",
            "HEAD"
        ],
        "{}",
        show(&out)
    );
    let out = env.run(&["list", "-o", "json"]).await;
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = doc["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&"web") && names.contains(&"db"));
    // managedFields are left out, as kubectl does, unless asked for.
    assert!(
        doc["items"][0]["metadata"].get("managedFields").is_none(),
        "{doc}"
    );
    let out = env
        .run(&["list", "-o", "json", "--show-managed-fields"])
        .await;
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        doc["items"][0]["metadata"]["managedFields"].is_array(),
        "{doc}"
    );

    let out = env.run(&["get", "web"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let stdout = text(&out.stdout);
    for expected in [
        "Name:          web\n",
        "Repo:          https://git.example.invalid/deploy.git\n",
        "Sync Policy:   manual\n",
        "Sync Status:   Synced to 0123456\n",
        "Health:        Healthy (all good)\n",
        "  SyncError: boom\n",
        "Last Sync:     Failed: one or more objects failed to apply\n",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in\n{stdout}"
        );
    }
    let table = rows(&out);
    let header = table
        .iter()
        .position(|r| r.first().map(String::as_str) == Some("GROUP"))
        .unwrap();
    assert_eq!(
        table[header],
        [
            "GROUP",
            "KIND",
            "NAMESPACE",
            "NAME",
            "STATUS",
            "HEALTH",
            "MESSAGE"
        ]
    );
    assert_eq!(
        table[header + 1],
        [
            "apps",
            "Deployment",
            "shop",
            "web",
            "Synced",
            "Healthy",
            "-"
        ]
    );
    assert_eq!(
        table[header + 2],
        [
            "-",
            "ConfigMap",
            "shop",
            "old",
            "OutOfSync",
            "-",
            "requires",
            "pruning"
        ]
    );

    let out = env.run(&["get", "web", "-o", "yaml"]).await;
    let doc: Value = serde_yaml_ng::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["status"]["sync"]["status"], "Synced");
    assert_eq!(doc["kind"], "Application");
    assert!(
        !text(&out.stdout).contains("managedFields"),
        "{}",
        show(&out)
    );
    let out = env
        .run(&["get", "web", "-o", "yaml", "--show-managed-fields"])
        .await;
    assert!(
        text(&out.stdout).contains("managedFields"),
        "{}",
        show(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_refresh_waits_until_the_controller_removes_the_annotation() {
    let env = env().await;
    env.app("web", spec(), json!({})).await;
    env.status(
        "web",
        json!({"health": {"status": "Progressing", "message": "stale"}}),
    )
    .await;

    let apps = env.apps.clone();
    let controller = tokio::spawn(async move {
        eventually(|| {
            let apps = apps.clone();
            async move {
                let app = apps.get("web").await.unwrap();
                app.metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get(REFRESH))
                    .filter(|v| *v == "normal")
                    .map(|_| ())
            }
        })
        .await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        apps.patch_status(
            "web",
            &PatchParams::default(),
            &Patch::Merge(
                json!({"status": {"health": {"status": "Healthy", "message": "refreshed"}}}),
            ),
        )
        .await
        .unwrap();
        apps.patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"annotations": {REFRESH: null}}})),
        )
        .await
        .unwrap();
    });
    let out = env.run(&["get", "web", "--refresh"]).await;
    controller.await.unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(
        text(&out.stdout).contains("Health:        Healthy (refreshed)"),
        "the status written before the annotation went is shown: {}",
        show(&out)
    );

    // No controller: bounded wait, exit 1, the last state still shown.
    let out = env
        .run(&["get", "web", "--refresh", "--timeout", "1s"])
        .await;
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        text(&out.stderr).contains("the controller has not refreshed application web within 1s"),
        "{}",
        show(&out)
    );
    assert!(text(&out.stdout).contains("Name:          web"));
    let app = env.get("web").await;
    assert_eq!(
        app.metadata
            .annotations
            .unwrap()
            .get(REFRESH)
            .map(String::as_str),
        Some("normal")
    );
}

// ---------------------------------------------------------------- sync

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_writes_the_operation_prints_each_result_once_and_exits_0_on_success() {
    let env = env().await;
    env.app("web", spec(), json!({})).await;
    let steps = vec![
        Step {
            phase: "Running",
            message: "",
            resources: json!([result(
                "ConfigMap",
                "config",
                "Synced",
                "configmap/config created"
            )]),
        },
        Step {
            phase: "Running",
            message: "",
            resources: json!([
                result("ConfigMap", "config", "Synced", "configmap/config created"),
                result("Deployment", "web", "Synced", "deployment.apps/web created"),
            ]),
        },
        Step {
            phase: "Succeeded",
            message: "successfully synced (all tasks run)",
            resources: json!([
                result("ConfigMap", "config", "Synced", "configmap/config created"),
                result("Deployment", "web", "Synced", "deployment.apps/web created"),
                result("ConfigMap", "old", "Pruned", "pruned"),
            ]),
        },
    ];
    let (out, op) = tokio::join!(
        env.run(&["sync", "web", "--revision", "v2", "--prune"]),
        play_sync(&env, "web", steps)
    );
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));

    assert_eq!(op["sync"]["revision"], "v2");
    assert_eq!(op["sync"]["prune"], true);
    assert_eq!(op["sync"]["dryRun"], false);
    assert_eq!(op["initiatedBy"]["username"], "tester");
    assert_eq!(op["info"][0]["name"], REQUEST_ID_INFO);
    let id = op["info"][0]["value"].as_str().unwrap();
    assert_eq!(id.len(), 36, "a uuid: {id}");
    assert!(
        text(&out.stderr).contains(&format!("request id {id}")),
        "{}",
        show(&out)
    );

    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    let count = |needle: &str| lines.iter().filter(|l| l.contains(needle)).count();
    assert_eq!(count("shop/config"), 1, "printed once: {stdout}");
    assert_eq!(count("shop/web"), 1, "printed once: {stdout}");
    let words = |needle: &str| -> Vec<String> {
        lines
            .iter()
            .find(|l| l.contains(needle))
            .unwrap()
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(
        words("shop/config"),
        [
            "ConfigMap",
            "shop/config",
            "Synced",
            "configmap/config",
            "created"
        ]
    );
    assert_eq!(words("shop/web")[..3], ["Deployment", "shop/web", "Synced"]);
    assert_eq!(words("shop/old")[..3], ["ConfigMap", "shop/old", "Pruned"]);
    assert!(
        lines.iter().position(|l| l.contains("shop/config"))
            < lines.iter().position(|l| l.contains("shop/web")),
        "in the order they appeared: {stdout}"
    );
    assert_eq!(
        lines.last().copied(),
        Some("Succeeded: successfully synced (all tasks run) (revision 0123456)"),
        "{stdout}"
    );
    assert!(
        !stdout.contains('\x1b'),
        "no colour when stdout is not a terminal"
    );
    assert!(env.get("web").await.operation.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_exits_1_when_the_sync_fails_and_prints_a_result_again_when_it_changes() {
    let env = env().await;
    env.app("web", spec(), json!({})).await;
    let steps = vec![
        Step {
            phase: "Running",
            message: "",
            resources: json!([result("Deployment", "web", "Running", "applying")]),
        },
        Step {
            phase: "Failed",
            message: "one or more objects failed to apply",
            resources: json!([result(
                "Deployment",
                "web",
                "SyncFailed",
                "admission webhook denied"
            )]),
        },
    ];
    let (out, op) = tokio::join!(
        env.run(&["sync", "web", "--dry-run"]),
        play_sync(&env, "web", steps)
    );
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert_eq!(op["sync"]["dryRun"], true);
    assert!(
        op["sync"].get("revision").is_none(),
        "no --revision, no revision: {op}"
    );
    let stdout = text(&out.stdout);
    let web: Vec<&str> = stdout.lines().filter(|l| l.contains("shop/web")).collect();
    assert_eq!(web.len(), 2, "{stdout}");
    assert!(
        web[0].contains("Running") && web[0].ends_with("applying"),
        "{stdout}"
    );
    assert!(
        web[1].contains("SyncFailed") && web[1].ends_with("admission webhook denied"),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("Failed: one or more objects failed to apply (revision 0123456)\n"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_refuses_while_an_operation_is_present_async_returns_at_once_and_a_wait_times_out() {
    let env = env().await;
    env.app("web", spec(), json!({})).await;

    let out = env.run(&["sync", "web", "--async"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(text(&out.stdout).contains("sync requested for application web (request id "));
    let op = env
        .get("web")
        .await
        .operation
        .expect("the operation is written");
    assert_eq!(op.initiated_by.unwrap().username.as_deref(), Some("tester"));

    let out = env.run(&["sync", "web"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        text(&out.stderr).contains(
            "application web already has an operation: sync initiated by tester (pending)"
        ),
        "{}",
        show(&out)
    );

    env.apps
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"operation": null})),
        )
        .await
        .unwrap();
    let out = env.run(&["sync", "web", "--timeout", "1s"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        text(&out.stderr)
            .contains("timed out after 1s waiting for the operation on application web"),
        "{}",
        show(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_resource_asks_for_a_partial_sync_of_the_objects_named() {
    let env = env().await;
    env.app("web", spec(), json!({})).await;
    let out = env
        .run(&[
            "sync",
            "web",
            "--async",
            "--resource",
            "apps:Deployment:shop/web",
            "--resource",
            ":ConfigMap:settings",
        ])
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let op = serde_json::to_value(env.get("web").await.operation.unwrap()).unwrap();
    assert_eq!(
        op["sync"]["resources"],
        json!([
            {"group": "apps", "kind": "Deployment", "namespace": "shop", "name": "web"},
            {"group": "", "kind": "ConfigMap", "name": "settings"},
        ])
    );

    let out = env
        .run(&["sync", "other", "--resource", "Deployment/web"])
        .await;
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        text(&out.stderr).contains("is not GROUP:KIND:[NAMESPACE/]NAME"),
        "{}",
        show(&out)
    );
}

/// Answer every `every`-th write (patch or update) of an Application with
/// 409 Conflict, as the API server answers a write conditional on a
/// resourceVersion the controller has since moved.
fn conflicts(env: &Env, every: u64) {
    env.server
        .faults()
        .set(localkube::faults::FaultRules {
            errors: Some(localkube::faults::ErrorFault {
                code: 409,
                every: Some(every),
                matches: localkube::faults::Match {
                    resources: vec!["applications.sextant.dev".into()],
                    verbs: vec!["patch".into(), "update".into()],
                    ..Default::default()
                },
                ..Default::default()
            }),
            ..Default::default()
        })
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_that_lose_a_race_with_the_controller_are_read_again_and_retried() {
    let env = env().await;
    env.app("web", spec(), json!({})).await;
    // The first write of each command conflicts; the second goes through.
    conflicts(&env, 2);

    let out = env.run(&["sync", "web", "--async"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(env.get("web").await.operation.is_some());
    env.server.faults().clear();
    env.apps
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"operation": null})),
        )
        .await
        .unwrap();

    conflicts(&env, 2);
    let out = env
        .run(&[
            "create",
            "--validate=false",
            "web",
            "--repo",
            "https://git.example.invalid/deploy.git",
            "--path",
            "apps/web-v2",
            "--dest-namespace",
            "shop",
            "--upsert",
        ])
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(
        text(&out.stdout).contains("application web updated"),
        "{}",
        show(&out)
    );
    assert_eq!(
        env.get("web").await.spec.source.unwrap().path.as_deref(),
        Some("apps/web-v2")
    );

    // A race lost every time is given to the user, and nothing is written.
    conflicts(&env, 1);
    let out = env.run(&["sync", "web", "--async"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        text(&out.stderr).contains("application web kept changing while it was being written"),
        "{}",
        show(&out)
    );
    assert!(env.get("web").await.operation.is_none());
    assert_eq!(env.server.faults().stats().errors, 1 + 1 + 8);

    conflicts(&env, 2);
    let out = env.run(&["delete", "web", "--cascade", "--yes"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    // No controller here: the app waits on the finalizer the CLI added.
    let app = env.get("web").await;
    assert!(app.metadata.deletion_timestamp.is_some());
    assert_eq!(finalizers(&app), [RESOURCES_FINALIZER]);
}

// ---------------------------------------------------------------- wait

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_returns_once_the_state_is_reached_and_exits_1_on_timeout_with_what_it_saw() {
    let env = env().await;
    env.app("web", spec(), json!({})).await;
    env.status(
        "web",
        json!({"sync": {"status": "Synced"}, "health": {"status": "Progressing", "message": "rolling out"},
               "conditions": [{"type": "DependencyWait", "message": "automated sync waits for its dependencies to be Synced and Healthy: db (OutOfSync/Missing)"}]}),
    )
    .await;

    let out = env
        .run(&["wait", "web", "--sync", "--timeout", "10s"])
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(text(&out.stdout), "application web: sync Synced\n");

    let out = env.run(&["wait", "web", "--timeout", "1s"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        text(&out.stdout).contains("timed out after 1s waiting for application web: not Healthy (last seen: sync Synced, health Progressing (rolling out), no operation)"),
        "{}",
        show(&out)
    );
    // The condition that explains it.
    assert!(
        text(&out.stdout).contains("\n  DependencyWait: automated sync waits for its dependencies to be Synced and Healthy: db (OutOfSync/Missing)\n"),
        "{}",
        show(&out)
    );

    let apps = env.apps.clone();
    let later = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(700)).await;
        apps.patch_status(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"health": {"status": "Healthy", "message": null}}})),
        )
        .await
        .unwrap();
    });
    let out = env
        .run(&["wait", "web", "--health", "--timeout", "30s"])
        .await;
    later.await.unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(text(&out.stdout), "application web: health Healthy\n");

    env.apps
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"operation": {"sync": {"prune": false}, "initiatedBy": {"username": "alice"}}})),
        )
        .await
        .unwrap();
    let out = env
        .run(&["wait", "web", "--operation", "--timeout", "1s"])
        .await;
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        text(&out.stdout)
            .contains("operation in progress (last seen: sync initiated by alice (pending))"),
        "{}",
        show(&out)
    );
    let out = env.run(&["wait", "web", "--timeout", "soon"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("invalid duration `soon`"),
        "{}",
        show(&out)
    );
}

// ---------------------------------------------------------------- history, rollback

fn history() -> Value {
    json!([
        {"id": 1, "revision": "a".repeat(40), "deployedAt": "2025-01-01T10:00:00Z",
         "source": {"repoURL": "https://git.example.invalid/deploy.git", "path": "apps/web-v1", "targetRevision": "v1"},
         "initiatedBy": {"username": "alice"}},
        {"id": 2, "revision": "b".repeat(40), "deployedAt": "2025-01-02T10:00:00Z",
         "source": {"repoURL": "https://git.example.invalid/deploy.git", "path": "apps/web", "targetRevision": "HEAD"},
         "initiatedBy": {"automated": true}},
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_lists_the_syncs_and_rollback_syncs_to_an_entrys_revision_and_source() {
    let env = env().await;
    env.app("web", spec(), json!({})).await;
    env.status("web", json!({"history": history()})).await;

    let out = env.run(&["history", "web"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(
        rows(&out),
        [
            ["ID", "DATE", "REVISION", "INITIATOR"],
            ["1", "2025-01-01T10:00:00Z", "aaaaaaa", "alice"],
            ["2", "2025-01-02T10:00:00Z", "bbbbbbb", "automated"],
        ]
    );

    let steps = vec![Step {
        phase: "Succeeded",
        message: "rolled back",
        resources: json!([result("Deployment", "web", "Synced", "configured")]),
    }];
    let (out, op) = tokio::join!(
        env.run(&["rollback", "web", "1", "--prune"]),
        play_sync(&env, "web", steps)
    );
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(op["sync"]["revision"], "a".repeat(40));
    assert_eq!(op["sync"]["source"]["path"], "apps/web-v1");
    assert_eq!(op["sync"]["source"]["targetRevision"], "v1");
    assert_eq!(op["sync"]["prune"], true);
    assert_eq!(op["info"][0]["name"], REQUEST_ID_INFO);
    assert!(
        text(&out.stdout).ends_with("Succeeded: rolled back (revision 0123456)\n"),
        "{}",
        show(&out)
    );

    let out = env.run(&["rollback", "web", "9"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("application web has no history entry 9 (it has 1, 2"),
        "{}",
        show(&out)
    );

    let mut auto = spec();
    auto["syncPolicy"] = json!({"automated": {"selfHeal": true}});
    env.app("auto", auto, json!({})).await;
    env.status("auto", json!({"history": history()})).await;
    let out = env.run(&["rollback", "auto", "1"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        text(&out.stderr).contains("disable auto-sync first"),
        "{}",
        show(&out)
    );
    assert!(env.get("auto").await.operation.is_none(), "nothing written");
}

// ---------------------------------------------------------------- delete

fn finalizers(app: &Application) -> Vec<String> {
    app.metadata.finalizers.clone().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_cascade_adds_the_finalizer_and_no_cascade_removes_it() {
    let env = env().await;
    env.app("web", spec(), json!({})).await;

    let out = env
        .run(&["delete", "web", "--yes", "--wait", "--timeout", "1s"])
        .await;
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        text(&out.stdout).contains(&format!("finalizers left: {RESOURCES_FINALIZER}")),
        "{}",
        show(&out)
    );
    let app = env.get("web").await;
    assert_eq!(finalizers(&app), [RESOURCES_FINALIZER]);
    assert!(
        app.metadata.deletion_timestamp.is_some(),
        "deletion requested"
    );

    // The controller deletes the resources, then lets go: once the CLI
    // is watching (before that, the app would already be gone when the
    // CLI first reads it).
    let watching = env.watches_started() + 1;
    let cli = env
        .command(&["delete", "web", "--cascade", "--yes", "--wait"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    eventually(|| async { (env.watches_started() >= watching).then_some(()) }).await;
    env.apps
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"finalizers": null}})),
        )
        .await
        .unwrap();
    let out = cli.wait_with_output().await.unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(
        text(&out.stdout).contains("application web is gone"),
        "{}",
        show(&out)
    );
    assert!(env.apps.get_opt("web").await.unwrap().is_none());

    env.app(
        "keep",
        spec(),
        json!({"finalizers": [RESOURCES_FINALIZER, ARGOCD_RESOURCES_FINALIZER, "example.com/other"]}),
    )
    .await;
    let out = env.run(&["delete", "keep", "--no-cascade", "--yes"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(
        text(&out.stdout).contains("its resources stay"),
        "{}",
        show(&out)
    );
    let app = env.get("keep").await;
    assert_eq!(
        finalizers(&app),
        ["example.com/other"],
        "only other finalizers stay"
    );
    assert!(app.metadata.deletion_timestamp.is_some());

    env.app("plain", spec(), json!({})).await;
    // Not on a terminal, without --yes: refused, nothing changes.
    let out = env.run(&["delete", "plain"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(text(&out.stderr).contains("pass --yes"), "{}", show(&out));
    let app = env.get("plain").await;
    assert!(app.metadata.deletion_timestamp.is_none() && finalizers(&app).is_empty());
    let out = env
        .run(&["delete", "plain", "--cascade=false", "--yes", "--wait"])
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(env.apps.get_opt("plain").await.unwrap().is_none());

    let out = env
        .run(&["delete", "plain", "--cascade", "--no-cascade"])
        .await;
    assert_eq!(out.status.code(), Some(2), "the flags conflict");
}

// ---------------------------------------------------------------- get, a failed sync

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_shows_why_the_last_sync_refused_an_object_next_to_it() {
    let env = env().await;
    env.app("web", spec(), json!({})).await;
    let why = "kind Widget in example.com/v1 is not served by the cluster (is its CustomResourceDefinition installed?)";
    env.status(
        "web",
        json!({
            "sync": {"status": "OutOfSync"},
            "operationState": {
                "phase": "Failed",
                "message": format!("preflight: the API server refused 1 of 2 object(s); nothing was changed: Widget shop/w: {why}"),
                "operation": {"sync": {}},
                "startedAt": "2026-12-07T00:00:00Z",
                "syncResult": {"revision": "a".repeat(40), "resources": [
                    {"group": "example.com", "version": "v1", "kind": "Widget", "namespace": "shop", "name": "w",
                     "status": "SyncFailed", "message": why},
                ]},
            },
            "resources": [
                {"group": "example.com", "version": "v1", "kind": "Widget", "namespace": "shop", "name": "w",
                 "status": "OutOfSync", "health": {"status": "Missing"}},
                {"version": "v1", "kind": "ConfigMap", "namespace": "shop", "name": "c", "status": "OutOfSync"},
            ],
        }),
    )
    .await;
    let out = env.run(&["get", "web"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let stdout = text(&out.stdout);
    let row = stdout
        .lines()
        .find(|l| l.contains("Widget") && l.contains(" w "))
        .unwrap_or_else(|| panic!("no Widget row: {stdout}"));
    assert!(row.contains(&format!("sync failed: {why}")), "{stdout}");
    assert!(
        stdout.contains("Widget shop/w: kind Widget"),
        "the Last Sync line names it too: {stdout}"
    );
}

// ---------------------------------------------------------------- create checks

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_checks_the_path_at_the_revision_and_the_project() {
    let env = env().await;
    let repo = env.tmp.path().join("gitops");
    std::fs::create_dir_all(repo.join("apps/web")).unwrap();
    std::fs::write(
        repo.join("apps/web/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
    )
    .unwrap();
    sextant_testkit::git(&repo, &["init", "-q", "-b", "main"]);
    sextant_testkit::git(&repo, &["add", "-A"]);
    sextant_testkit::git(&repo, &["commit", "-q", "-m", "web"]);
    let url = format!("file://{}", repo.display());
    let create = |name: &'static str, path: &'static str, extra: &'static [&'static str]| {
        let mut args = vec![
            "create",
            name,
            "--repo",
            &url,
            "--path",
            path,
            "--dest-namespace",
            "shop",
        ];
        args.extend_from_slice(extra);
        args.into_iter().map(str::to_owned).collect::<Vec<String>>()
    };
    let run = async |args: Vec<String>| {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        env.run(&refs).await
    };

    let out = run(create("web", "apps/web", &["--revision", "main"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));

    let out = run(create("typo", "apps/wbe", &["--revision", "main"])).await;
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        text(&out.stderr).contains("path apps/wbe does not exist in"),
        "{}",
        show(&out)
    );
    assert!(
        text(&out.stderr).contains("--validate=false"),
        "{}",
        show(&out)
    );
    assert!(
        env.apps.get_opt("typo").await.unwrap().is_none(),
        "nothing was created"
    );

    let out = run(create(
        "typo",
        "apps/web",
        &["--revision", "no-such-branch"],
    ))
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        text(&out.stderr).contains("could not find revision no-such-branch"),
        "{}",
        show(&out)
    );

    let out = run(create(
        "typo",
        "apps/web",
        &["--revision", "main", "--project", "payments"],
    ))
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        text(&out.stderr).contains("project payments does not exist in namespace sextant"),
        "{}",
        show(&out)
    );

    // GitOps-first: the path comes later.
    let out = run(create(
        "later",
        "apps/later",
        &["--revision", "main", "--validate=false"],
    ))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(env.apps.get_opt("later").await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_with_a_helm_chart_checks_the_version_and_writes_source_chart() {
    let env = env().await;
    let charts = env.tmp.path().join("charts");
    sextant_testkit::package_chart(&charts, "web", "1.0.0", &[]);
    sextant_testkit::package_chart(&charts, "web", "1.5.0", &[]);
    sextant_testkit::index_repo(&charts);
    let server = sextant_testkit::StaticHttpServer::start(&charts, None);
    let url = server.url("");
    let cache = env.tmp.path().join("cache");
    let create = |name: &str, extra: &[&str]| {
        let mut args = vec![
            "create",
            name,
            "--repo",
            &url,
            "--helm-chart",
            "web",
            "--dest-namespace",
            "shop",
        ];
        args.extend_from_slice(extra);
        args.push("--cache-dir");
        args.push(cache.to_str().unwrap());
        args.into_iter().map(str::to_owned).collect::<Vec<String>>()
    };
    let run = async |args: Vec<String>| {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        env.run(&refs).await
    };

    let out = run(create(
        "web",
        &["--revision", "1.*", "--sync-option", "CreateNamespace=true"],
    ))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(
        text(&out.stderr).contains("1.* resolves to version 1.5.0"),
        "{}",
        show(&out)
    );
    let app = env.apps.get("web").await.unwrap();
    let source = app.spec.source.unwrap();
    assert_eq!(source.chart.as_deref(), Some("web"));
    assert_eq!(source.target_revision.as_deref(), Some("1.*"));
    assert!(source.path.is_none());

    // A diff renders the chart at the newest version of the range.
    let out = env.run(&["diff", "web"]).await;
    assert_eq!(out.status.code(), Some(1), "different: {}", show(&out));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("ConfigMap shop/web-web (added)"),
        "{}",
        show(&out)
    );
    assert!(stdout.contains("version: 1.5.0"), "{}", show(&out));

    let out = run(create("nope", &["--revision", "3.*"])).await;
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        text(&out.stderr).contains("no version of chart web"),
        "{}",
        show(&out)
    );
    assert!(
        env.apps.get_opt("nope").await.unwrap().is_none(),
        "nothing was created"
    );

    let out = run(create("nope", &[])).await;
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        text(&out.stderr).contains("--helm-chart needs --revision"),
        "{}",
        show(&out)
    );
}

// ---------------------------------------------------------------- list filters

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_filters_by_label_and_project_across_namespaces() {
    let env = env().await;
    let mut payments = spec();
    payments["project"] = json!("payments");
    env.app("web", spec(), json!({"labels": {"team": "web"}}))
        .await;
    env.app("db", spec(), json!({"labels": {"team": "data"}}))
        .await;
    env.app("billing", payments, json!({"labels": {"team": "data"}}))
        .await;
    // An app in another namespace, seen with -A only.
    let client = env.server.client().await.unwrap();
    let nss: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    nss.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": "team-b"}})).unwrap(),
    )
    .await
    .unwrap();
    let other: Api<Application> = Api::namespaced(client, "team-b");
    other
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"apiVersion": "sextant.dev/v1alpha1", "kind": "Application",
                "metadata": {"name": "edge", "namespace": "team-b", "labels": {"team": "data"}}, "spec": spec()}))
            .unwrap(),
        )
        .await
        .unwrap();

    let names = |out: &Output| text(&out.stdout);
    let out = env.run(&["list", "-l", "team=data", "-o", "name"]).await;
    assert_eq!(
        names(&out),
        "application/billing\napplication/db\n",
        "{}",
        show(&out)
    );
    let out = env
        .run(&["list", "-l", "team=data", "-p", "payments", "-o", "name"])
        .await;
    assert_eq!(names(&out), "application/billing\n", "{}", show(&out));
    let out = env.run(&["list", "-p", "default", "-o", "json"]).await;
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["items"].as_array().unwrap().len(), 2, "{doc}");

    let out = env.run(&["list", "-A", "-l", "team=data"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let table = text(&out.stdout);
    assert!(table.starts_with("NAMESPACE"), "{table}");
    assert!(
        table.contains("team-b") && table.contains("edge"),
        "{table}"
    );
    assert_eq!(table.lines().count(), 4, "{table}");

    let out = env.run(&["list", "-l", "team=nobody"]).await;
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text(&out.stderr).contains("no applications in namespace sextant match"),
        "{}",
        show(&out)
    );
    let out = env.run(&["list", "-l", "team in (("]).await;
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
}

// ---------------------------------------------------------------- set, unset

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_and_unset_change_only_the_fields_asked_for() {
    let env = env().await;
    env.app("web", spec(), json!({})).await;
    let out = env
        .run(&[
            "set",
            "web",
            "--sync-policy",
            "automated",
            "--self-heal",
            "--revision",
            "v2",
            "--sync-option",
            "CreateNamespace=true",
            "--helm-set",
            "replicas=3",
            "--kustomize-image",
            "nginx=nginx:1.28",
        ])
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let said = text(&out.stdout);
    assert!(said.starts_with("application web updated:\n"), "{said}");
    assert!(
        said.contains("  spec.source.targetRevision: \"HEAD\" -> \"v2\"\n"),
        "{said}"
    );
    let app = env.get("web").await;
    let policy = app.spec.sync_policy.clone().unwrap();
    assert_eq!(policy.automated.unwrap().self_heal, Some(true));
    assert_eq!(policy.sync_options.unwrap(), ["CreateNamespace=true"]);
    let source = app.spec.source.clone().unwrap();
    assert_eq!(source.target_revision.as_deref(), Some("v2"));
    assert_eq!(source.path.as_deref(), Some("apps/web"), "untouched");
    assert_eq!(source.helm.unwrap().parameters.unwrap()[0].value, "3");
    assert_eq!(
        source.kustomize.unwrap().images.unwrap(),
        ["nginx=nginx:1.28"]
    );

    // The same again changes nothing; a key given again is replaced.
    let out = env.run(&["set", "web", "--revision", "v2"]).await;
    assert_eq!(
        text(&out.stdout),
        "application web unchanged\n",
        "{}",
        show(&out)
    );
    let out = env
        .run(&[
            "set",
            "web",
            "--sync-option",
            "CreateNamespace=false",
            "--kustomize-image",
            "nginx:1.29",
        ])
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let app = env.get("web").await;
    let policy = app.spec.sync_policy.clone().unwrap();
    assert_eq!(policy.sync_options.unwrap(), ["CreateNamespace=false"]);
    assert_eq!(
        app.spec
            .source
            .clone()
            .unwrap()
            .kustomize
            .unwrap()
            .images
            .unwrap(),
        ["nginx:1.29"]
    );

    // Turning auto-sync off, as a rollback asks.
    let out = env.run(&["set", "web", "--sync-policy", "none"]).await;
    assert!(
        text(&out.stdout).contains("spec.syncPolicy.automated: removed"),
        "{}",
        show(&out)
    );
    assert!(
        env.get("web")
            .await
            .spec
            .sync_policy
            .unwrap()
            .automated
            .is_none()
    );

    // An unknown sync option is refused and nothing is written.
    let before = env.get("web").await.metadata.resource_version;
    let out = env
        .run(&["set", "web", "--sync-option", "Frobnicate=true"])
        .await;
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(text(&out.stderr).contains("Frobnicate"), "{}", show(&out));
    assert_eq!(env.get("web").await.metadata.resource_version, before);

    let out = env
        .run(&[
            "unset",
            "web",
            "--helm-set",
            "replicas",
            "--kustomize-image",
            "nginx",
            "--sync-option",
            "CreateNamespace",
        ])
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let app = env.get("web").await;
    let source = app.spec.source.clone().unwrap();
    assert!(
        source.helm.is_none() && source.kustomize.is_none(),
        "{source:?}"
    );
    assert!(app.spec.sync_policy.is_none(), "{:?}", app.spec.sync_policy);

    let out = env.run(&["set", "nope", "--revision", "v1"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("application nope not found"),
        "{}",
        show(&out)
    );
}

// ---------------------------------------------------------------- diff

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_diff_of_a_new_app_whose_namespace_the_sync_creates() {
    let env = env().await;
    let (repo, _) = repo(env.tmp.path());
    let mut app_spec = spec();
    app_spec["source"] = json!({"repoURL": repo.display().to_string(), "path": "apps/web", "targetRevision": "main"});
    app_spec["destination"]["namespace"] = json!("brand-new");
    app_spec["syncPolicy"] = json!({"syncOptions": ["CreateNamespace=true"]});
    env.app("web", app_spec.clone(), json!({})).await;
    // As the sync's dry-run: the namespace comes with the sync, the
    // objects would be added.
    let out = env.run(&["diff", "web"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        text(&out.stdout).contains("ConfigMap brand-new/web-config"),
        "{}",
        show(&out)
    );
    assert!(!text(&out.stderr).contains("not found"), "{}", show(&out));

    // Without CreateNamespace the missing namespace is an error (exit 2).
    app_spec["syncPolicy"] = json!({});
    env.app("plain", app_spec, json!({})).await;
    let out = env.run(&["diff", "plain"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_diff_renders_the_asked_revision_with_tracking_and_lists_what_would_be_pruned() {
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
        json!({
            "sync": {"status": "OutOfSync", "revision": first},
            "resources": [
                {"version": "v1", "kind": "ConfigMap", "namespace": "shop", "name": "web-config"},
                {"version": "v1", "kind": "ConfigMap", "namespace": "shop", "name": "old-config"},
            ],
        }),
    )
    .await;
    live(&env, "web-config", "blue", "web:/ConfigMap:shop/web-config").await;
    live(&env, "old-config", "blue", "web:/ConfigMap:shop/old-config").await;
    live(
        &env,
        "other-config",
        "blue",
        "other:/ConfigMap:shop/other-config",
    )
    .await;
    live(&env, "copied", "blue", "web:/ConfigMap:shop/web-config").await;

    let out = env.run(&["diff", "web", "--revision", &first]).await;
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        text(&out.stderr).contains(&format!("commit: {first}")),
        "{}",
        show(&out)
    );
    assert!(
        stdout.contains("===== ConfigMap shop/old-config (would be pruned) =====\n"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("other-config") && !stdout.contains("copied"),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("1 object compared: 0 added, 0 changed, 1 unchanged; 1 would be pruned\n"),
        "the first commit (blue) is rendered and /data/ignored ignored: {stdout}"
    );

    let out = env
        .run(&["diff", "web", "--revision", &first, "-o", "json"])
        .await;
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["wouldBePruned"][0]["name"], "old-config");
    assert_eq!(doc["commit"], first.as_str());

    let cms: Api<DynamicObject> = Api::namespaced_with(
        env.client(),
        "shop",
        &resource("", "v1", "ConfigMap", "configmaps"),
    );
    cms.delete("old-config", &Default::default()).await.unwrap();
    let out = env.run(&["diff", "web", "--revision", &first]).await;
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(
        text(&out.stdout),
        "1 object compared: 0 added, 0 changed, 1 unchanged\n"
    );

    // Without --revision, what a sync would deploy: the target revision
    // as Git has it now (main: red), not the revision the status compared.
    let out = env.run(&["diff", "web"]).await;
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        stdout.contains("===== ConfigMap shop/web-config (changed) ====="),
        "{stdout}"
    );
    assert!(
        stdout.contains("-  color: blue\n+  color: red\n"),
        "{stdout}"
    );
}

#[tokio::test]
async fn terminate_op_asks_the_controller_to_stop_a_running_sync_and_refuses_when_none_runs() {
    let env = env().await;
    env.app("web", spec(), json!({})).await;
    let out = env.run(&["terminate-op", "web"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        text(&out.stderr).contains("has no sync running"),
        "{}",
        show(&out)
    );
    env.status(
        "web",
        json!({"operationState": {"operation": {"sync": {}}, "phase": "Running", "startedAt": "2026-01-01T00:00:00Z"}}),
    )
    .await;
    // No controller here: the request is written, and the wait times out.
    let out = env.run(&["terminate-op", "web", "--timeout", "1s"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        text(&out.stderr).contains("termination requested"),
        "{}",
        show(&out)
    );
    let app = env.apps.get("web").await.unwrap();
    let state = app.status.unwrap().operation_state.unwrap();
    assert_eq!(state.phase, "Terminating");
    assert!(
        state
            .message
            .unwrap_or_default()
            .starts_with("terminated by "),
        "who asked is said"
    );
}
