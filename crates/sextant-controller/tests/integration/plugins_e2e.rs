//! Config management plugins end to end: an app that names a plugin and
//! one found by discovery render through it once `sextant-cmp-cm`
//! declares it (the app that names it fails, saying so, before), with the
//! app's environment and parameters; a changed declaration renders again,
//! and a commit to the templates is synced like any other.

use kube::api::{Patch, PatchParams, PostParams};
use serde_json::json;
use sextant_model::Application;

use crate::support::*;

/// A team's templating program: a script of the repository.
const RENDER: &str = r#"set -e
cat <<EOF
apiVersion: v1
kind: ConfigMap
metadata:
  name: $ARGOCD_APP_NAME-settings
data:
  tier: "${ARGOCD_ENV_TIER:-none}"
  size: "${PARAM_SIZE:-1}"
  project: "$ARGOCD_APP_PROJECT_NAME"
  revision: "$ARGOCD_APP_REVISION"
  template: "TEMPLATE"
EOF
"#;

fn declaration(generate: &str) -> serde_json::Value {
    json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "sextant-cmp-cm", "namespace": NS},
        "data": {"plugin.yaml": format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: ConfigManagementPlugin\nmetadata:\n  name: tmpl\nspec:\n  version: v2\n  generate:\n    command: [sh, -c]\n    args: [{generate:?}]\n  discover:\n    fileName: render.sh\n"
        )},
    })
}

async fn create(
    w: &World,
    name: &str,
    path: &str,
    plugin: Option<serde_json::Value>,
    self_heal: bool,
) {
    let mut source = json!({
        "repoURL": format!("file://{}", w.repo.display()),
        "path": path,
        "targetRevision": "main",
    });
    if let Some(p) = plugin {
        source["plugin"] = p;
    }
    let app: Application = serde_json::from_value(json!({
        "apiVersion": "sextant.dev/v1alpha1", "kind": "Application",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "project": "default",
            "source": source,
            "destination": {"server": "https://kubernetes.default.svc", "namespace": name},
            "syncPolicy": automated(true, self_heal),
        },
    }))
    .unwrap();
    w.apps().create(&PostParams::default(), &app).await.unwrap();
}

fn data(cm: &serde_json::Value, key: &str) -> String {
    cm["data"][key].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn apps_render_through_a_declared_plugin_named_or_discovered() {
    let mut w = World::new().await;
    let c1 = w.commit(
        &[
            ("named/render.sh", &RENDER.replace("TEMPLATE", "one")),
            ("found/render.sh", &RENDER.replace("TEMPLATE", "one")),
        ],
        "one",
    );
    w.start_controller().await;
    create(
        &w,
        "named",
        "named",
        Some(json!({
            "name": "tmpl-v2",
            "env": [{"name": "TIER", "value": "gold-$ARGOCD_APP_NAME"}],
            "parameters": [{"name": "size", "string": "3"}],
        })),
        false,
    )
    .await;
    create(&w, "found", "found", None, true).await;

    // Not declared yet: the app that names it says what to do.
    let app = w
        .wait_app("named", 60, "a render error naming the plugin", |a| {
            condition(a, "ComparisonError").is_some()
        })
        .await;
    let error = condition(&app, "ComparisonError").unwrap_or_default();
    assert!(
        error.contains("`tmpl-v2`, which is not declared") && error.contains("sextant-cmp-cm"),
        "{error}"
    );

    let config_maps = w.api("v1", "ConfigMap", "configmaps", Some(NS));
    config_maps
        .create(
            &PostParams::default(),
            &serde_json::from_value(declaration("sh render.sh")).unwrap(),
        )
        .await
        .unwrap();
    let app = w.wait_synced_healthy("named", &c1).await;
    assert_eq!(
        app.status.as_ref().and_then(|s| s.source_type.as_deref()),
        Some("Plugin")
    );
    let cm = w.configmap("named", "named-settings").await.unwrap();
    assert_eq!(data(&cm, "tier"), "gold-named");
    assert_eq!(data(&cm, "size"), "3");
    assert_eq!(data(&cm, "project"), "default");
    assert_eq!(data(&cm, "revision"), c1);
    // No plugin block, no type: its discovery rule matches render.sh.
    w.wait_synced_healthy("found", &c1).await;
    let cm = w.configmap("found", "found-settings").await.unwrap();
    assert_eq!(data(&cm, "tier"), "none");

    // A changed declaration renders every app again: the app that heals
    // itself takes the new output, the other one shows the difference
    // (an automated sync is not repeated for the same revision).
    config_maps
        .patch(
            "sextant-cmp-cm",
            &PatchParams::default(),
            &Patch::Merge(&declaration("sh render.sh | sed s/one/patched/")),
        )
        .await
        .unwrap();
    wait_for_value(&w, "found", "found-settings", "patched").await;
    w.wait_app("named", 60, "OutOfSync by the new declaration", |a| {
        sync_status(a) == "OutOfSync"
    })
    .await;

    // A commit to the template is synced like any other.
    let c2 = w.commit(
        &[("named/render.sh", &RENDER.replace("TEMPLATE", "two"))],
        "two",
    );
    w.wait_synced_healthy("named", &c2).await;
    wait_for_value(&w, "named", "named-settings", "two").await;
    w.stop_controller().await;
}

async fn wait_for_value(w: &World, ns: &str, name: &str, want: &str) {
    for _ in 0..120 {
        if let Some(cm) = w.configmap(ns, name).await
            && data(&cm, "template") == want
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    let now = w.configmap(ns, name).await;
    panic!("ConfigMap {ns}/{name} never had template {want}: {now:?}");
}
