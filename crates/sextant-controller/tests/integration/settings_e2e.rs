//! The settings ConfigMap (`sextant-cm` under Sextant's group, Argo CD's
//! keys) read while the controller runs: a health script and an ignore
//! rule written into it apply without a restart, and removing it restores
//! the flags' settings.

use std::time::Duration;

use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn the_settings_config_map_applies_while_the_controller_runs() {
    let mut w = World::new().await;
    let c1 = w.commit(&[("app/cm.yaml", &configmap("feature", "off"))], "one");
    w.start_controller().await;
    w.create_app("feature", "app", "feature", automated(true, false))
        .await;
    w.wait_synced_healthy("feature", &c1).await;

    let settings = w.api("v1", "ConfigMap", "configmaps", Some(NS));
    let cm = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "sextant-cm", "namespace": NS},
        "data": {
            "resource.customizations":
                "ConfigMap:\n  health.lua: |\n    return {status = \"Degraded\", message = \"sextant-cm says so\"}\n",
            "resource.customizations.ignoreDifferences.ConfigMap":
                "jsonPointers:\n- /data/key\n",
        },
    });
    settings
        .create(&PostParams::default(), &serde_json::from_value(cm).unwrap())
        .await
        .unwrap();
    let app = w
        .wait_app("feature", 60, "Degraded by the ConfigMap's script", |a| {
            health(a) == "Degraded"
        })
        .await;
    let message = app
        .status
        .unwrap()
        .health
        .unwrap()
        .message
        .unwrap_or_default();
    assert!(message.contains("sextant-cm says so"), "{message}");

    // A change of the ignored field by hand: still Synced.
    let cms = w.api("v1", "ConfigMap", "configmaps", Some("feature"));
    let by_hand = PatchParams {
        field_manager: Some("kubectl-edit".into()),
        ..Default::default()
    };
    cms.patch(
        "feature",
        &by_hand,
        &Patch::Merge(&json!({"data": {"key": "changed"}})),
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(sync_status(&w.app("feature").await), "Synced");

    // Without the ConfigMap, the flags' settings (none): Healthy again, and
    // the hand-made change shows.
    settings
        .delete("sextant-cm", &DeleteParams::default())
        .await
        .unwrap();
    w.wait_app("feature", 60, "Healthy and OutOfSync", |a| {
        health(a) == "Healthy" && sync_status(a) == "OutOfSync"
    })
    .await;
    w.stop_controller().await;
}
