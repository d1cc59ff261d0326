//! Private repositories: the controller reads them with credentials from
//! labelled Secrets in its namespace, picks up a Secret added or changed
//! while it runs, and says what to do when credentials are missing or
//! wrong, without ever showing a password.

use crate::support;

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;
use sextant_testkit::HttpGitServer;
use support::*;

fn credentials_secret(name: &str, label: &str, kind: &str, data: serde_json::Value) -> Secret {
    serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": NS, "labels": {label: kind}},
        "stringData": data,
    }))
    .unwrap()
}

#[tokio::test]
async fn a_private_repository_syncs_once_a_secret_holds_its_credentials() {
    let mut w = World::new().await;
    let c1 = w.commit(&[("app/cm.yaml", &configmap("cfg", "1"))], "one");
    // The work tree's parent is served: `.../repo` is the repository.
    let server = HttpGitServer::with_account(w.dir.path(), "deployer", "right-pass-123");
    let url = server.url("repo");
    let secrets: Api<Secret> = Api::namespaced(w.client.clone(), NS);
    w.start_controller().await;
    w.create_app_from(
        "private",
        &url,
        "app",
        "private",
        automated(true, false),
        "main",
    )
    .await;

    // No Secret: the error says which Secret to create.
    let app = w
        .wait_app("private", 90, "ComparisonError", |a| {
            condition(a, "ComparisonError").is_some()
        })
        .await;
    let message = condition(&app, "ComparisonError").unwrap();
    assert!(message.contains("requires authentication"), "{message}");
    assert!(
        message.contains("labelled sextant.dev/secret-type=repository"),
        "{message}"
    );

    // A wrong password: the error names the Secret, never the password.
    secrets
        .create(
            &PostParams::default(),
            &credentials_secret(
                "private-repo",
                "sextant.dev/secret-type",
                "repository",
                json!({"url": format!("{url}.git"), "username": "deployer", "password": "wrong-pass-456"}),
            ),
        )
        .await
        .unwrap();
    let app = w
        .wait_app("private", 90, "the Secret to be used", |a| {
            condition(a, "ComparisonError")
                .is_some_and(|m| m.contains("Secret sextant/private-repo"))
        })
        .await;
    let message = condition(&app, "ComparisonError").unwrap();
    assert!(message.contains("authentication"), "{message}");
    let status = serde_json::to_string(&app.status).unwrap();
    assert!(!status.contains("wrong-pass-456"), "{status}");

    // Corrected while the controller runs: synced, no restart.
    secrets
        .patch(
            "private-repo",
            &PatchParams::default(),
            &Patch::Merge(json!({"stringData": {"password": "right-pass-123"}})),
        )
        .await
        .unwrap();
    let app = w.wait_synced_healthy("private", &c1).await;
    assert!(condition(&app, "ComparisonError").is_none());
    assert_eq!(
        w.configmap("private", "cfg").await.unwrap()["data"]["key"],
        "1"
    );
    let events: Api<k8s_openapi::api::core::v1::Event> = Api::namespaced(w.client.clone(), NS);
    for e in events.list(&Default::default()).await.unwrap().items {
        let text = serde_json::to_string(&e).unwrap();
        assert!(
            !text.contains("wrong-pass-456") && !text.contains("right-pass-123"),
            "{text}"
        );
    }
    w.stop_controller().await;
}

#[tokio::test]
async fn argo_cd_credential_templates_cover_every_repository_under_their_url() {
    let mut w = World::new().await;
    let c1 = w.commit(&[("app/cm.yaml", &configmap("cfg", "1"))], "one");
    let server = HttpGitServer::start(w.dir.path(), Some("org-token"));
    // An Argo CD `repo-creds` Secret, token only, created before the app.
    let secrets: Api<Secret> = Api::namespaced(w.client.clone(), NS);
    secrets
        .create(
            &PostParams::default(),
            &credentials_secret(
                "org-creds",
                "argocd.argoproj.io/secret-type",
                "repo-creds",
                json!({"url": server.url(""), "password": "org-token"}),
            ),
        )
        .await
        .unwrap();
    w.start_controller().await;
    w.create_app_from(
        "templated",
        &server.url("repo"),
        "app",
        "templated",
        automated(true, false),
        "main",
    )
    .await;
    w.wait_synced_healthy("templated", &c1).await;

    // Removing the Secret: the next fetch (the next poll) is refused again.
    secrets
        .delete("org-creds", &Default::default())
        .await
        .unwrap();
    w.wait_app(
        "templated",
        90,
        "ComparisonError after the Secret went",
        |a| condition(a, "ComparisonError").is_some_and(|m| m.contains("requires authentication")),
    )
    .await;
    // A new commit is not read without credentials, even on refresh.
    let c2 = w.commit(&[("app/cm.yaml", &configmap("cfg", "2"))], "two");
    w.apps()
        .patch(
            "templated",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"annotations": {"sextant.dev/refresh": "normal"}}})),
        )
        .await
        .unwrap();
    let app = w
        .wait_app("templated", 90, "the refresh to be served", |a| {
            condition(a, "ComparisonError").is_some()
                && !a
                    .metadata
                    .annotations
                    .as_ref()
                    .is_some_and(|m| m.contains_key("sextant.dev/refresh"))
        })
        .await;
    assert!(
        condition(&app, "ComparisonError")
            .unwrap()
            .contains("requires authentication")
    );
    assert_ne!(synced_revision(&app), c2);
    w.stop_controller().await;
}

/// A repository over SSH (OpenSSH's sshd on a loopback port): the key from
/// an Argo CD-labelled Secret's `sshPrivateKey`; the server refused while
/// its host key is not known (the condition names the line to add), then
/// synced once Argo CD's known-hosts ConfigMap lists it, without a
/// restart; the key never shows in the status.
#[tokio::test]
async fn an_ssh_repository_syncs_with_a_key_once_its_host_is_known() {
    let mut w = World::new().await;
    let c1 = w.commit(&[("app/cm.yaml", &configmap("cfg", "ssh"))], "one");
    let server = sextant_testkit::SshGitServer::start();
    let url = server.url(&w.repo);
    let key = server.client_key();
    let secrets: Api<Secret> = Api::namespaced(w.client.clone(), NS);
    secrets
        .create(
            &PostParams::default(),
            &credentials_secret(
                "ssh-repo",
                "argocd.argoproj.io/secret-type",
                "repository",
                json!({"url": url, "sshPrivateKey": key}),
            ),
        )
        .await
        .unwrap();
    w.start_controller().await;
    w.create_app_from(
        "overssh",
        &url,
        "app",
        "overssh",
        automated(true, false),
        "main",
    )
    .await;
    let app = w
        .wait_app("overssh", 90, "the unknown host refused", |a| {
            condition(a, "ComparisonError").is_some_and(|m| m.contains("not known"))
        })
        .await;
    let message = condition(&app, "ComparisonError").unwrap();
    assert!(message.contains("sextant-ssh-known-hosts-cm"), "{message}");
    let offered = server.known_hosts();
    let host_key = offered.split_whitespace().nth(2).unwrap();
    assert!(message.contains(host_key), "the key to add: {message}");

    let configmaps: Api<k8s_openapi::api::core::v1::ConfigMap> =
        Api::namespaced(w.client.clone(), NS);
    configmaps
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "argocd-ssh-known-hosts-cm", "namespace": NS},
                "data": {"ssh_known_hosts": offered},
            }))
            .unwrap(),
        )
        .await
        .unwrap();
    let app = w.wait_synced_healthy("overssh", &c1).await;
    let status = serde_json::to_string(&app.status).unwrap();
    let body = key.lines().nth(1).unwrap();
    assert!(!status.contains(body), "{status}");
    assert!(w.configmap("overssh", "cfg").await.is_some());
    w.stop_controller().await;
}
