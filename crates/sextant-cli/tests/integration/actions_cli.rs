//! `sextant app actions list|run` against localkube: the built-in restart
//! of a Deployment and run-now of a CronJob, a custom action from the
//! settings ConfigMap (`resource.customizations.actions.ConfigMap`), the
//! refusals (an object the app does not track, a disabled action, several
//! objects without --all), and the Event each run leaves on the app.

use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

use crate::app_env::*;

async fn apply(env: &Env, api_version: &str, kind: &str, plural: &str, obj: Value) {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let api: Api<DynamicObject> = Api::namespaced_with(
        env.client(),
        "shop",
        &resource(group, version, kind, plural),
    );
    let name = obj["metadata"]["name"].as_str().unwrap().to_owned();
    api.patch(
        &name,
        &PatchParams::apply("sextant").force(),
        &Patch::Apply(&obj),
    )
    .await
    .unwrap();
}

fn tracked(app: &str, group: &str, kind: &str, name: &str) -> Value {
    json!({"sextant.dev/tracking-id": format!("{app}:{group}/{kind}:shop/{name}")})
}

fn entry(group: &str, version: &str, kind: &str, name: &str) -> Value {
    json!({"group": group, "version": version, "kind": kind, "namespace": "shop",
        "name": name, "status": "Synced"})
}

#[tokio::test]
async fn actions_restart_a_deployment_run_a_cronjob_now_and_run_custom_ones() {
    let env = env().await;
    env.namespace("shop").await;
    env.app("web", spec(), json!({})).await;
    env.status(
        "web",
        json!({"resources": [
            entry("apps", "v1", "Deployment", "web"),
            entry("apps", "v1", "Deployment", "api"),
            entry("batch", "v1", "CronJob", "report"),
            entry("", "v1", "ConfigMap", "settings"),
            entry("", "v1", "ConfigMap", "stranger"),
        ]}),
    )
    .await;
    for name in ["web", "api"] {
        apply(
            &env,
            "apps/v1",
            "Deployment",
            "deployments",
            json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": name, "namespace": "shop",
                    "annotations": tracked("web", "apps", "Deployment", name)},
                "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                    "template": {"metadata": {"labels": {"app": name}},
                        "spec": {"containers": [{"name": "main", "image": "nginx"}]}}},
            }),
        )
        .await;
    }
    apply(&env, "batch/v1", "CronJob", "cronjobs", json!({
        "apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": "report", "namespace": "shop",
            "annotations": tracked("web", "batch", "CronJob", "report")},
        "spec": {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template": {"spec": {
            "restartPolicy": "Never", "containers": [{"name": "report", "image": "busybox"}]}}}}},
    }))
    .await;
    apply(
        &env,
        "v1",
        "ConfigMap",
        "configmaps",
        json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": "shop",
                "annotations": tracked("web", "", "ConfigMap", "settings")},
            "data": {"mode": "normal"},
        }),
    )
    .await;
    // Same name in the app's status, but not tracked by it.
    apply(
        &env,
        "v1",
        "ConfigMap",
        "configmaps",
        json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "stranger", "namespace": "shop"},
            "data": {"mode": "normal"},
        }),
    )
    .await;
    let settings: Api<DynamicObject> = Api::namespaced_with(
        env.client(),
        "sextant",
        &resource("", "v1", "ConfigMap", "configmaps"),
    );
    let cm = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "sextant-cm", "namespace": "sextant"},
        "data": {"resource.customizations.actions.ConfigMap": concat!(
            "discovery.lua: |\n",
            "  return {maintenance = {displayName = \"Maintenance mode\", disabled = obj.data.mode == \"maintenance\"}}\n",
            "definitions:\n",
            "- name: maintenance\n",
            "  action.lua: |\n",
            "    obj.data.mode = \"maintenance\"\n",
            "    return obj\n",
        )},
    });
    settings
        .create(&PostParams::default(), &serde_json::from_value(cm).unwrap())
        .await
        .unwrap();

    // The list: built-in actions, the custom one, nothing for the stranger.
    let out = env.run(&["actions", "list", "web"]).await;
    assert!(out.status.success(), "{}", show(&out));
    let listed: Vec<(String, String, String)> = rows(&out)
        .into_iter()
        .skip(1)
        .map(|r| (r[1].clone(), r[r.len() - 3].clone(), r[r.len() - 2].clone()))
        .collect();
    let has = |kind: &str, name: &str, action: &str| {
        listed
            .iter()
            .any(|(k, n, a)| k == kind && n == name && a == action)
    };
    assert!(has("Deployment", "web", "restart"), "{listed:?}");
    assert!(has("Deployment", "web", "pause"), "{listed:?}");
    assert!(has("CronJob", "report", "create-job"), "{listed:?}");
    assert!(has("ConfigMap", "settings", "maintenance"), "{listed:?}");
    assert!(
        !listed.iter().any(|(_, n, _)| n == "stranger"),
        "{listed:?}"
    );

    // Two Deployments: one must be named, or --all given.
    let out = env
        .run(&["actions", "run", "web", "restart", "--kind", "Deployment"])
        .await;
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(text(&out.stderr).contains("pass --all"), "{}", show(&out));

    let deployments: Api<DynamicObject> = Api::namespaced_with(
        env.client(),
        "shop",
        &resource("apps", "v1", "Deployment", "deployments"),
    );
    let out = env
        .run(&[
            "actions",
            "run",
            "web",
            "restart",
            "--kind",
            "Deployment",
            "--resource-name",
            "web",
        ])
        .await;
    assert!(out.status.success(), "{}", show(&out));
    assert!(
        text(&out.stdout).contains("patched Deployment.apps shop/web"),
        "{}",
        show(&out)
    );
    let web = deployments.get("web").await.unwrap();
    let stamp = web
        .data
        .pointer("/spec/template/metadata/annotations/kubectl.kubernetes.io~1restartedAt")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    assert!(stamp.ends_with('Z'), "restartedAt set: {:?}", web.data);
    let api = deployments.get("api").await.unwrap();
    assert!(
        api.data
            .pointer("/spec/template/metadata/annotations")
            .is_none(),
        "the other Deployment is untouched"
    );

    // A disabled action is refused; an enabled one works.
    let out = env
        .run(&[
            "actions",
            "run",
            "web",
            "resume",
            "--kind",
            "Deployment",
            "--resource-name",
            "web",
        ])
        .await;
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(text(&out.stderr).contains("disabled"), "{}", show(&out));

    let out = env
        .run(&["actions", "run", "web", "create-job", "--kind", "CronJob"])
        .await;
    assert!(out.status.success(), "{}", show(&out));
    let jobs: Api<DynamicObject> = Api::namespaced_with(
        env.client(),
        "shop",
        &resource("batch", "v1", "Job", "jobs"),
    );
    let made = jobs.list(&ListParams::default()).await.unwrap().items;
    assert_eq!(made.len(), 1, "one Job started");
    let job = &made[0];
    assert!(
        job.metadata
            .name
            .as_deref()
            .unwrap_or("")
            .starts_with("report-")
    );
    assert_eq!(
        job.metadata
            .owner_references
            .as_ref()
            .map(|o| o[0].name.clone()),
        Some("report".to_owned())
    );

    // The settings ConfigMap's custom action.
    let out = env
        .run(&[
            "actions",
            "run",
            "web",
            "maintenance",
            "--kind",
            "ConfigMap",
        ])
        .await;
    assert!(out.status.success(), "{}", show(&out));
    let configmaps: Api<DynamicObject> = Api::namespaced_with(
        env.client(),
        "shop",
        &resource("", "v1", "ConfigMap", "configmaps"),
    );
    let cm = configmaps.get("settings").await.unwrap();
    assert_eq!(cm.data["data"]["mode"], "maintenance");
    let stranger = configmaps.get("stranger").await.unwrap();
    assert_eq!(
        stranger.data["data"]["mode"], "normal",
        "not the app's: untouched"
    );

    // Each run is an Event on the Application.
    let events: Api<k8s_openapi::api::core::v1::Event> = Api::namespaced(env.client(), "sextant");
    let reasons: Vec<String> = events
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|e| e.reason.as_deref() == Some("ResourceActionRan"))
        .filter_map(|e| e.message)
        .collect();
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert!(
        reasons
            .iter()
            .any(|m| m.contains("tester") && m.contains("restart") && m.contains("shop/web")),
        "{reasons:?}"
    );
}
