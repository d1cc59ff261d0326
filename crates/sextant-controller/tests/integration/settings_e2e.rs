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

/// Argo CD 2.x tracked by the instance label: what it deployed carries
/// `app.kubernetes.io/instance: <app>` and no annotation. With
/// `application.resourceTrackingMethod: label` those objects are the app's
/// without a write, and what Git dropped is pruned; a switch to
/// `annotation` while the controller runs lists the live state again, and
/// the label alone no longer makes an object the app's.
#[tokio::test]
async fn label_tracking_adopts_what_argo_cd_2_deployed_and_a_new_method_applies_at_once() {
    let mut w = World::new().await;
    let nss = w.api("v1", "Namespace", "namespaces", None);
    nss.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": "legacy"}})).unwrap(),
    )
    .await
    .unwrap();
    let settings = w.api("v1", "ConfigMap", "configmaps", Some(NS));
    let cm = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "sextant-cm", "namespace": NS},
        "data": {"application.resourceTrackingMethod": "label"},
    });
    settings
        .create(&PostParams::default(), &serde_json::from_value(cm).unwrap())
        .await
        .unwrap();
    // As Argo CD 2.x left them: labelled with the app's name.
    let live = w.api("v1", "ConfigMap", "configmaps", Some("legacy"));
    for (name, label) in [
        ("a", Some("legacy")),
        ("old", Some("legacy")),
        ("stranger", None),
    ] {
        let mut obj = json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "legacy"},
            "data": {"key": "one"},
        });
        if let Some(app) = label {
            obj["metadata"]["labels"] = json!({"app.kubernetes.io/instance": app});
        }
        live.create(
            &PostParams::default(),
            &serde_json::from_value(obj).unwrap(),
        )
        .await
        .unwrap();
    }
    let version_of = |o: &kube::api::DynamicObject| o.metadata.resource_version.clone();
    let before = version_of(&live.get("a").await.unwrap());

    let c1 = w.commit(&[("app/a.yaml", &configmap("a", "one"))], "one");
    w.start_controller().await;
    w.create_app("legacy", "app", "legacy", manual()).await;
    let app = w
        .wait_app("legacy", 60, "a Synced, old to prune", |a| {
            let resources = a
                .status
                .as_ref()
                .and_then(|s| s.resources.clone())
                .unwrap_or_default();
            resources.len() == 2
                && resources
                    .iter()
                    .any(|r| r.name == "a" && r.status.as_deref() == Some("Synced"))
                && resources
                    .iter()
                    .any(|r| r.name == "old" && r.requires_pruning == Some(true))
        })
        .await;
    assert_eq!(
        condition(&app, "SharedResourceWarning"),
        None,
        "the labelled object is the app's"
    );
    assert_eq!(
        version_of(&live.get("a").await.unwrap()),
        before,
        "adopted without a write"
    );

    w.request_sync("legacy", json!({"prune": true})).await;
    w.wait_synced_healthy("legacy", &c1).await;
    assert!(live.get_opt("old").await.unwrap().is_none(), "pruned");
    assert!(
        live.get_opt("stranger").await.unwrap().is_some(),
        "an object without the label is not the app's"
    );

    // Annotation tracking from now on: the label alone does not count.
    settings
        .patch(
            "sextant-cm",
            &PatchParams::default(),
            &Patch::Merge(&json!({"data": {"application.resourceTrackingMethod": "annotation"}})),
        )
        .await
        .unwrap();
    let app = w
        .wait_app(
            "legacy",
            60,
            "a not adopted under annotation tracking",
            |a| condition(a, "SharedResourceWarning").is_some(),
        )
        .await;
    let warning = condition(&app, "SharedResourceWarning").unwrap_or_default();
    assert!(
        warning.contains("kubectl annotate configmap a -n legacy sextant.dev/tracking-id=legacy:/ConfigMap:legacy/a"),
        "{warning}"
    );
    w.stop_controller().await;
}

/// `resource.exclusions`, `kustomize.buildOptions` and
/// `timeout.reconciliation` of the settings ConfigMap, applied while the
/// controller runs: an excluded kind is left alone and named in a
/// condition, a kustomization that reads a file outside its folder renders
/// once the flags allow it, and a new commit is found at the ConfigMap's
/// interval when the flag's is an hour.
#[tokio::test]
async fn exclusions_kustomize_flags_and_the_poll_interval_come_from_the_settings() {
    let mut w = World::new().await;
    let settings = w.api("v1", "ConfigMap", "configmaps", Some(NS));
    let cm = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "sextant-cm", "namespace": NS},
        "data": {
            "resource.exclusions": "- apiGroups: ['']\n  kinds: [Secret]\n",
        },
    });
    settings
        .create(&PostParams::default(), &serde_json::from_value(cm).unwrap())
        .await
        .unwrap();
    let secret =
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: token\nstringData:\n  token: t\n";
    let kustomization = "resources:\n- ../shared/extra.yaml\n- cm.yaml\n";
    let c1 = w.commit(
        &[
            ("app/cm.yaml", &configmap("main", "one")),
            ("app/secret.yaml", secret),
            ("kust/base/kustomization.yaml", kustomization),
            ("kust/base/cm.yaml", &configmap("base", "one")),
            ("kust/shared/extra.yaml", &configmap("extra", "one")),
        ],
        "one",
    );
    w.start_controller_with(|c| c.repo_poll_interval = Duration::from_secs(3600))
        .await;
    w.create_app("plain", "app", "plain", automated(true, false))
        .await;
    w.create_app("kust", "kust/base", "kust", automated(true, false))
        .await;

    let app = w.wait_synced_healthy("plain", &c1).await;
    let warning = condition(&app, "ExcludedResourceWarning").unwrap_or_default();
    assert!(
        warning.contains("Secret") && warning.contains("token"),
        "{warning}"
    );
    assert!(w.configmap("plain", "main").await.is_some());
    let secrets = w.api("v1", "Secret", "secrets", Some("plain"));
    assert!(
        secrets.get_opt("token").await.unwrap().is_none(),
        "excluded: not applied"
    );

    // kustomize's own load restrictor refuses ../shared/extra.yaml ...
    let app = w
        .wait_app("kust", 60, "a render error", |a| {
            condition(a, "ComparisonError").is_some()
        })
        .await;
    let error = condition(&app, "ComparisonError").unwrap_or_default();
    assert!(
        error.contains("extra.yaml") || error.contains("restrict"),
        "{error}"
    );
    // ... until the settings pass kustomize the flag that allows it; and
    // Git is asked every second from now on.
    settings
        .patch(
            "sextant-cm",
            &PatchParams::default(),
            &Patch::Merge(&json!({"data": {
                "kustomize.buildOptions": "--load-restrictor LoadRestrictionsNone",
                "timeout.reconciliation": "1s",
            }})),
        )
        .await
        .unwrap();
    w.wait_synced_healthy("kust", &c1).await;
    assert!(w.configmap("kust", "extra").await.is_some());

    let c2 = w.commit(&[("app/cm.yaml", &configmap("main", "two"))], "two");
    w.wait_synced_healthy("plain", &c2).await;
    w.stop_controller().await;
}
