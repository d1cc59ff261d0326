//! Multi-source Applications (`spec.sources`), as Argo CD runs them: a
//! chart of a chart repository with its values kept in Git (`ref: values`
//! and `$values/...` value files), plus a folder of Git. Each source's
//! revision in the status and history, a values commit synced at the next
//! poll, an object two sources render taken from the later one with a
//! RepeatedResourceWarning, and a rollback to the first sync that puts
//! every source back.

use crate::support;

use kube::api::PostParams;
use serde_json::json;
use sextant_model::Application;
use sextant_testkit::{StaticHttpServer, index_repo, package_chart};
use support::*;

fn revisions(a: &Application) -> Vec<String> {
    a.status
        .as_ref()
        .and_then(|s| s.sync.as_ref())
        .and_then(|s| s.revisions.clone())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_chart_with_values_from_git_and_a_folder_sync_as_one_app() {
    let mut w = World::new().await;
    let charts = w.dir.path().join("charts");
    package_chart(&charts, "web", "1.0.0", &[]);
    index_repo(&charts);
    let server = StaticHttpServer::start(&charts, None);
    let chart_repo = server.url("");
    let c1 = w.commit(
        &[
            ("envs/prod/web.yaml", "greeting: hello from git\n"),
            ("extra/cm.yaml", &configmap("extra-settings", "one")),
            // The chart's ConfigMap again: the later source's copy wins.
            (
                "extra/override.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-web\ndata:\n  greeting: from the folder\n",
            ),
        ],
        "values",
    );
    w.start_controller().await;
    let git = format!("file://{}", w.repo.display());
    let app: Application = serde_json::from_value(json!({
        "apiVersion": "sextant.dev/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "web", "namespace": NS},
        "spec": {
            "project": "default",
            "sources": [
                {"repoURL": chart_repo, "chart": "web", "targetRevision": "1.*",
                 "helm": {"valueFiles": ["$values/envs/prod/web.yaml"]}},
                {"repoURL": git, "targetRevision": "main", "ref": "values"},
            ],
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "web"},
            "syncPolicy": {"automated": {"prune": true}, "syncOptions": ["CreateNamespace=true"]},
        }
    }))
    .unwrap();
    w.apps().create(&PostParams::default(), &app).await.unwrap();
    let first = format!("1.0.0,{c1}");
    let app = w.wait_synced_healthy("web", &first).await;
    assert_eq!(revisions(&app), ["1.0.0", c1.as_str()]);
    let cm = w.configmap("web", "web-web").await.unwrap();
    assert_eq!(cm["data"]["greeting"], "hello from git", "{cm}");
    let history = app.status.as_ref().unwrap().history.clone().unwrap();
    assert_eq!(
        history[0].revisions.as_deref().unwrap(),
        ["1.0.0", c1.as_str()]
    );
    assert_eq!(history[0].sources.as_ref().unwrap().len(), 2);

    // New values in Git: the poll of the ref's branch syncs them.
    let c2 = w.commit(
        &[("envs/prod/web.yaml", "greeting: hello again\n")],
        "new values",
    );
    let second = format!("1.0.0,{c2}");
    w.wait_synced_healthy("web", &second).await;
    let cm = w.configmap("web", "web-web").await.unwrap();
    assert_eq!(cm["data"]["greeting"], "hello again");

    // A third source, a folder that renders the chart's ConfigMap too.
    let mut spec = w.app("web").await.spec;
    spec.sources.as_mut().unwrap().push(
        serde_json::from_value(json!({"repoURL": git, "path": "extra", "targetRevision": "main"}))
            .unwrap(),
    );
    w.apps()
        .patch(
            "web",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(json!({"spec": {"sources": spec.sources}})),
        )
        .await
        .unwrap();
    let third = format!("1.0.0,{c2},{c2}");
    let app = w.wait_synced_healthy("web", &third).await;
    let st = app.status.as_ref().unwrap();
    assert_eq!(
        st.source_types.as_deref().unwrap(),
        ["Helm", "Directory", "Directory"],
        "one type per source, in order"
    );
    let warning = condition(&app, "RepeatedResourceWarning").expect("the repeated object");
    assert!(
        warning.contains("ConfigMap web/web-web is rendered by sources 1 and 3"),
        "{warning}"
    );
    let cm = w.configmap("web", "web-web").await.unwrap();
    assert_eq!(cm["data"]["greeting"], "from the folder");
    assert!(w.configmap("web", "extra-settings").await.is_some());

    // Roll back to the first sync: its sources and revisions, as recorded.
    let history = app.status.as_ref().unwrap().history.clone().unwrap();
    let entry = &history[0];
    w.apps()
        .patch(
            "web",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(json!({"spec": {"syncPolicy": null}})),
        )
        .await
        .unwrap();
    w.request_sync(
        "web",
        json!({"revisions": entry.revisions, "sources": entry.sources, "prune": true}),
    )
    .await;
    let app = w
        .wait_app("web", 90, "the rollback to the first sync", |a| {
            a.status
                .as_ref()
                .and_then(|s| s.operation_state.as_ref())
                .is_some_and(|o| {
                    o.phase == "Succeeded"
                        && o.sync_result.as_ref().is_some_and(|r| r.revision == first)
                })
        })
        .await;
    let cm = w.configmap("web", "web-web").await.unwrap();
    assert_eq!(cm["data"]["greeting"], "hello from git");
    assert!(
        w.configmap("web", "extra-settings").await.is_none(),
        "the folder is not a source of the first sync: its object is pruned"
    );
    let last = app
        .status
        .unwrap()
        .history
        .unwrap()
        .last()
        .cloned()
        .unwrap();
    assert_eq!(last.revisions.as_deref().unwrap(), ["1.0.0", c1.as_str()]);
    w.stop_controller().await;
}

#[tokio::test]
async fn a_value_file_naming_an_unknown_ref_fails_the_comparison_and_changes_nothing() {
    let mut w = World::new().await;
    let charts = w.dir.path().join("charts");
    package_chart(&charts, "web", "1.0.0", &[]);
    index_repo(&charts);
    let server = StaticHttpServer::start(&charts, None);
    w.commit(&[("values.yaml", "greeting: x\n")], "values");
    w.start_controller().await;
    let git = format!("file://{}", w.repo.display());
    let app: Application = serde_json::from_value(json!({
        "apiVersion": "sextant.dev/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "typo", "namespace": NS},
        "spec": {
            "project": "default",
            "sources": [
                {"repoURL": server.url(""), "chart": "web", "targetRevision": "1.0.0",
                 "helm": {"valueFiles": ["$valeus/values.yaml"]}},
                {"repoURL": git, "targetRevision": "main", "ref": "values"},
            ],
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "typo"},
            "syncPolicy": {"automated": {}, "syncOptions": ["CreateNamespace=true"]},
        }
    }))
    .unwrap();
    w.apps().create(&PostParams::default(), &app).await.unwrap();
    let app = w
        .wait_app("typo", 60, "a ComparisonError about the ref", |a| {
            condition(a, "ComparisonError").is_some()
        })
        .await;
    let message = condition(&app, "ComparisonError").unwrap();
    assert!(
        message.contains("source 1") && message.contains("`$valeus`") && message.contains("values"),
        "{message}"
    );
    assert!(w.configmap("typo", "typo-web").await.is_none());
    w.stop_controller().await;
}
