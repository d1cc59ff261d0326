//! The API server beside a running controller: live updates after a Git
//! commit (and resumption), syncs and rollbacks asked through the API and
//! recorded with the user, the resource tree, managed resources, diffs
//! and manifests, and Secret values that never leave the server.

use crate::support;

use std::time::{Duration, Instant};

use futures::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{World, configmap, deployment, health, sync_status};

/// Read SSE events from a response until `done` says stop (or 60 s).
async fn read_events(
    resp: reqwest::Response,
    mut done: impl FnMut(&[(String, Option<String>, Value)]) -> bool,
) -> Vec<(String, Option<String>, Value)> {
    let mut stream = resp.bytes_stream();
    let mut buf = String::new();
    let mut events = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let next = tokio::time::timeout(Duration::from_secs(5), stream.next()).await;
        let Ok(Some(Ok(chunk))) = next else { continue };
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let (mut name, mut id, mut data) = (String::new(), None, String::new());
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    name = v.trim().to_owned();
                } else if let Some(v) = line.strip_prefix("id:") {
                    id = Some(v.trim().to_owned());
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim());
                }
            }
            if !name.is_empty() {
                events.push((name, id, serde_json::from_str(&data).unwrap_or(Value::Null)));
            }
        }
        if done(&events) {
            return events;
        }
    }
    panic!("the stream did not deliver what was expected; got {events:?}");
}

fn revision(app: &Value) -> &str {
    app["status"]["sync"]["revision"].as_str().unwrap_or("")
}

#[tokio::test]
async fn the_stream_delivers_a_change_after_a_git_commit_and_resumes_from_the_last_id() {
    let mut w = World::new().await;
    let first = w.commit(&[("web/cm.yaml", &configmap("settings", "one"))], "one");
    w.create_app(w.app("web", "default", "web", "web", true))
        .await;
    w.start_controller().await;
    let token = w.admin().await;
    w.wait_app(&token, "web", "is Synced at the first commit", |a| {
        sync_status(a) == "Synced" && revision(a) == first
    })
    .await;
    let (_, list) = w.get("/api/v1/applications", &token).await;
    let current = list["eventId"].as_str().unwrap().to_owned();

    let resp = w
        .http
        .get(format!("{}/api/v1/stream/applications", w.url))
        .bearer_auth(&token)
        .header("last-event-id", &current)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let second = w.commit(&[("web/cm.yaml", &configmap("settings", "two"))], "two");
    let events = read_events(resp, |evs| {
        evs.iter().any(|(_, _, d)| {
            d["application"]["name"] == "web"
                && d["application"]["revision"] == second
                && d["application"]["syncStatus"] == "Synced"
        })
    })
    .await;
    assert!(
        events
            .iter()
            .all(|(name, id, _)| name == "application" && id.is_some())
    );
    assert!(events.iter().any(|(_, _, d)| d["type"] == "MODIFIED"));
    let last_id = events.last().unwrap().1.clone().unwrap();

    // Missed while disconnected: delivered on reconnect, nothing twice.
    let third = w.commit(&[("web/cm.yaml", &configmap("settings", "three"))], "three");
    w.wait_app(&token, "web", "is Synced at the third commit", |a| {
        sync_status(a) == "Synced" && revision(a) == third
    })
    .await;
    let resp = w
        .http
        .get(format!("{}/api/v1/stream/applications", w.url))
        .bearer_auth(&token)
        .header("last-event-id", &last_id)
        .send()
        .await
        .unwrap();
    let replayed = read_events(resp, |evs| {
        evs.iter()
            .any(|(_, _, d)| d["application"]["revision"] == third)
    })
    .await;
    assert!(
        replayed
            .iter()
            .all(|(_, id, _)| id.as_deref() != Some(last_id.as_str()))
    );
    // An unknown id asks the client to list again.
    let resp = w
        .http
        .get(format!("{}/api/v1/stream/applications", w.url))
        .bearer_auth(&token)
        .header("last-event-id", "someone-else-7")
        .send()
        .await
        .unwrap();
    let reset = read_events(resp, |evs| !evs.is_empty()).await;
    assert_eq!(reset[0].0, "reset");
}

#[tokio::test]
async fn syncs_and_rollbacks_asked_through_the_api_are_recorded_with_the_user() {
    let mut w = World::new().await;
    w.accounts(
        &[("alice", "login")],
        "password-123",
        "p, role:ops, applications, *, */*, allow\ng, alice, role:ops\n",
        None,
    )
    .await;
    let first = w.commit(&[("web/cm.yaml", &configmap("settings", "one"))], "one");
    w.create_app(w.app("web", "default", "web", "web", false))
        .await;
    w.start_controller().await;
    let alice = w.login("alice", "password-123").await;
    w.wait_app(&alice, "web", "is compared", |a| {
        sync_status(a) == "OutOfSync"
    })
    .await;

    let (status, asked) = w
        .call(
            Method::POST,
            "/api/v1/applications/web/sync",
            Some(&alice),
            Some(json!({"prune": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{asked}");
    let request = asked["requestId"].as_str().unwrap().to_owned();
    let app = w
        .wait_app(&alice, "web", "is synced by alice's request", |a| {
            a["status"]["operationState"]["phase"] == "Succeeded" && sync_status(a) == "Synced"
        })
        .await;
    assert_eq!(revision(&app), first);
    assert_eq!(
        app["status"]["operationState"]["operation"]["initiatedBy"]["username"],
        "alice"
    );
    assert!(
        app["status"]["operationState"]["operation"]["info"]
            .to_string()
            .contains(&request)
    );

    let second = w.commit(&[("web/cm.yaml", &configmap("settings", "two"))], "two");
    w.wait_app(&alice, "web", "sees the new commit", |a| {
        sync_status(a) == "OutOfSync"
    })
    .await;
    // The diff shows what a sync would change, before it runs.
    let (status, diff) = w.get("/api/v1/applications/web/diff", &alice).await;
    assert_eq!(status, StatusCode::OK, "{diff}");
    assert_eq!(diff["commit"], second);
    assert_eq!(diff["differs"], true);
    assert!(diff["objects"].to_string().contains("two"), "{diff}");
    w.eventually("no operation is pending", async || {
        w.call(
            Method::POST,
            "/api/v1/applications/web/sync",
            Some(&alice),
            Some(json!({})),
        )
        .await
        .0 == StatusCode::OK
    })
    .await;
    // The outcome is written, then the operation cleared: wait for both,
    // or the rollback below finds the app still busy.
    w.wait_app(&alice, "web", "is synced at the second commit", |a| {
        sync_status(a) == "Synced"
            && revision(a) == second
            && a["status"]["operationState"]["phase"] == "Succeeded"
            && a["operation"].is_null()
    })
    .await;

    let (_, history) = w.get("/api/v1/applications/web/history", &alice).await;
    let history = history.as_array().unwrap().clone();
    assert_eq!(history.len(), 2, "{history:?}");
    assert!(
        history
            .iter()
            .all(|h| h["initiatedBy"]["username"] == "alice")
    );
    let first_id = history[0]["id"].clone();
    let (status, body) = w
        .call(
            Method::POST,
            "/api/v1/applications/web/rollback",
            Some(&alice),
            Some(json!({"id": first_id})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let app = w
        .wait_app(&alice, "web", "is rolled back to the first commit", |a| {
            // The app is still compared with main (OutOfSync again, as in
            // Argo CD); the rollback's own result names the old commit.
            a["status"]["operationState"]["syncResult"]["revision"] == first
                && a["status"]["operationState"]["phase"] == "Succeeded"
        })
        .await;
    assert_eq!(app["status"]["history"].as_array().unwrap().len(), 3);
    let (_, events) = w.get("/api/v1/applications/web/events", &alice).await;
    let said: Vec<String> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["reason"].as_str().unwrap(),
                e["message"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        said.iter()
            .any(|e| e.starts_with("SyncRequested") && e.contains("alice")),
        "{said:?}"
    );
    assert!(
        said.iter()
            .any(|e| e.starts_with("RollbackRequested") && e.contains("alice")),
        "{said:?}"
    );

    // A rollback is refused while the app syncs by itself.
    // (No resourceVersion: the spec is replaced whatever the controller
    // wrote to the status meanwhile.)
    let auto = w.app("web", "default", "web", "web", true);
    let (status, body) = w
        .call(
            Method::PUT,
            "/api/v1/applications/web",
            Some(&alice),
            Some(auto),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    w.eventually("the rollback is refused", async || {
        w.call(
            Method::POST,
            "/api/v1/applications/web/rollback",
            Some(&alice),
            Some(json!({"id": 1})),
        )
        .await
        .0 == StatusCode::CONFLICT
    })
    .await;
}

#[tokio::test]
async fn the_resource_tree_and_managed_resources_show_what_the_app_owns() {
    let mut w = World::new().await;
    w.commit(
        &[
            ("web/deploy.yaml", &deployment("web", "nginx:1.27")),
            ("web/cm.yaml", &configmap("settings", "one")),
        ],
        "web",
    );
    w.create_app(w.app("web", "default", "web", "web", true))
        .await;
    w.start_controller().await;
    let token = w.admin().await;
    w.wait_app(&token, "web", "is Synced and Healthy", |a| {
        sync_status(a) == "Synced" && health(a) == "Healthy"
    })
    .await;
    let mut tree = Value::Null;
    // The server's own watch cache catches up on its own time: wait for
    // every kind the assertions below read, not only the Pods.
    w.eventually("the tree reaches the Pods and the ConfigMap", async || {
        tree = w
            .get("/api/v1/applications/web/resource-tree", &token)
            .await
            .1;
        tree["nodes"].as_array().is_some_and(|n| {
            let count = |kind: &str| n.iter().filter(|n| n["kind"] == kind).count();
            count("Pod") == 2
                && count("ConfigMap") == 1
                && count("Deployment") == 1
                && count("ReplicaSet") == 1
        })
    })
    .await;
    let nodes = tree["nodes"].as_array().unwrap();
    let find = |kind: &str| {
        nodes
            .iter()
            .filter(|n| n["kind"] == kind)
            .cloned()
            .collect::<Vec<_>>()
    };
    let deploy = &find("Deployment")[0];
    assert_eq!(deploy["tracked"], true);
    assert_eq!(deploy["syncStatus"], "Synced");
    assert_eq!(deploy["health"]["status"], "Healthy");
    let rs = &find("ReplicaSet")[0];
    assert_eq!(rs["tracked"], false);
    assert_eq!(rs["parentRefs"][0]["kind"], "Deployment");
    for pod in find("Pod") {
        assert_eq!(pod["parentRefs"][0]["kind"], "ReplicaSet");
        assert_eq!(pod["parentRefs"][0]["name"], rs["name"]);
        assert!(pod["info"].to_string().contains("nginx:1.27"));
    }
    assert_eq!(find("ConfigMap")[0]["syncStatus"], "Synced");

    let (status, managed) = w
        .get("/api/v1/applications/web/managed-resources", &token)
        .await;
    assert_eq!(status, StatusCode::OK);
    let cm = managed
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "ConfigMap")
        .unwrap();
    assert_eq!(cm["liveState"]["data"]["key"], "one");
    assert_eq!(cm["targetState"]["data"]["key"], "one");
    let (status, manifests) = w.get("/api/v1/applications/web/manifests", &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(manifests["manifests"].as_array().unwrap().len(), 2);
    assert_eq!(manifests["sourceType"], "directory");

    // The per-app stream sends the tree now and again when it changes.
    let resp = w
        .http
        .get(format!(
            "{}/api/v1/stream/applications/web/resource-tree",
            w.url
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    w.commit(
        &[("web/deploy.yaml", &deployment("web", "nginx:1.28"))],
        "1.28",
    );
    let events = read_events(resp, |evs| {
        evs.iter()
            .any(|(name, _, d)| name == "tree" && d.to_string().contains("nginx:1.28"))
    })
    .await;
    assert_eq!(events[0].0, "tree");

    // Deleting through the API takes the app's objects with it (here in
    // the background, Argo CD's `/background` finalizer form).
    let (status, body) = w
        .call(
            Method::DELETE,
            "/api/v1/applications/web?propagationPolicy=background",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let cms: kube::Api<k8s_openapi::api::core::v1::ConfigMap> =
        kube::Api::namespaced(w.client.clone(), "web");
    let apps: kube::Api<sextant_model::Application> =
        kube::Api::namespaced(w.client.clone(), support::NS);
    w.eventually("the app and its ConfigMap are gone", async || {
        apps.get_opt("web").await.unwrap().is_none()
            && cms.get_opt("settings").await.unwrap().is_none()
    })
    .await;
}

#[tokio::test]
async fn secret_values_never_leave_the_server() {
    let mut w = World::new().await;
    let plain = "hunter2-plain-s3cret";
    let encoded = "c3VwZXItc2VjcmV0LWJhc2U2NA=="; // "super-secret-base64"
    let secret = |p: &str, e: &str| {
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: {p}\ndata:\n  token: {e}\n"
        )
    };
    w.commit(&[("web/secret.yaml", &secret(plain, encoded))], "secret");
    let mut app = w.app("web", "default", "web", "web", false);
    app["spec"]["syncPolicy"]["syncOptions"] =
        json!(["CreateNamespace=true", "ServerSideApply=false"]);
    w.create_app(app).await;
    w.start_controller().await;
    let token = w.admin().await;
    w.wait_app(&token, "web", "is compared", |a| {
        sync_status(a) == "OutOfSync"
    })
    .await;
    w.call(
        Method::POST,
        "/api/v1/applications/web/sync",
        Some(&token),
        Some(json!({})),
    )
    .await;
    w.wait_app(&token, "web", "is Synced", |a| sync_status(a) == "Synced")
        .await;
    // Git changes the values: the diff must show that keys changed, not what to.
    let new_plain = "rotated-plain-s3cret";
    let new_encoded = "cm90YXRlZC1iYXNlNjQtdmFsdWU="; // "rotated-base64-value"
    w.commit(
        &[("web/secret.yaml", &secret(new_plain, new_encoded))],
        "rotate",
    );
    w.wait_app(&token, "web", "sees the rotation", |a| {
        sync_status(a) == "OutOfSync"
    })
    .await;

    let forbidden = [
        plain.to_owned(),
        encoded.to_owned(),
        new_plain.to_owned(),
        new_encoded.to_owned(),
        base64_of(plain),
        base64_of(new_plain),
        "super-secret-base64".to_owned(),
        "rotated-base64-value".to_owned(),
    ];
    let mut bodies = Vec::new();
    for path in [
        "/api/v1/applications",
        "/api/v1/applications/web",
        "/api/v1/applications/web/resource-tree",
        "/api/v1/applications/web/managed-resources",
        "/api/v1/applications/web/diff",
        "/api/v1/applications/web/manifests",
        "/api/v1/applications/web/manifests?revision=main",
        "/api/v1/applications/web/events",
        "/api/v1/applications/web/history",
    ] {
        let resp = w
            .http
            .get(format!("{}{path}", w.url))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        bodies.push((path, resp.text().await.unwrap()));
    }
    // Live streams too.
    for path in ["/api/v1/stream/applications/web/resource-tree"] {
        let resp = w
            .http
            .get(format!("{}{path}", w.url))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        let events = read_events(resp, |evs| !evs.is_empty()).await;
        bodies.push((
            path,
            serde_json::to_string(&events.iter().map(|e| &e.2).collect::<Vec<_>>()).unwrap(),
        ));
    }
    for (path, body) in &bodies {
        for value in &forbidden {
            assert!(
                !body.contains(value.as_str()),
                "{path} leaks {value}: {body}"
            );
        }
    }
    let managed = &bodies
        .iter()
        .find(|(p, _)| p.ends_with("managed-resources"))
        .unwrap()
        .1;
    assert!(
        managed.contains("++++++++"),
        "values are masked, keys kept: {managed}"
    );
    assert!(managed.contains("password") && managed.contains("token"));
    let diff = &bodies.iter().find(|(p, _)| p.ends_with("/diff")).unwrap().1;
    assert!(
        diff.contains("++++++++ (new)"),
        "the diff says which keys change: {diff}"
    );
}

fn base64_of(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[tokio::test]
async fn a_filtered_stream_says_when_an_app_starts_and_stops_matching() {
    let w = World::new().await;
    w.create_app(w.app("web", "default", "web", "web", false))
        .await;
    let token = w.admin().await;
    w.eventually("the server sees web", async || {
        w.get("/api/v1/applications/web", &token).await.0 == StatusCode::OK
    })
    .await;
    let resp = w
        .http
        .get(format!(
            "{}/api/v1/stream/applications?health=Degraded",
            w.url
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let apps: kube::Api<sextant_model::Application> =
        kube::Api::namespaced(w.client.clone(), support::NS);
    let set = async |h: &str| {
        let patch = json!({"status": {"health": {"status": h}}});
        apps.patch_status(
            "web",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(&patch),
        )
        .await
        .unwrap();
    };
    set("Degraded").await;
    set("Healthy").await;
    let events = read_events(resp, |evs| {
        evs.iter().any(|(_, _, d)| d["type"] == "DELETED")
    })
    .await;
    let kinds: Vec<&str> = events
        .iter()
        .map(|(_, _, d)| d["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["ADDED", "DELETED"], "{events:?}");
    assert_eq!(events[1].2["application"]["healthStatus"], "Healthy");
}

/// A multi-source app through the API: a chart of the repository whose
/// values come from another source (`ref: values`, `$values/...`) and a
/// folder, rendered together for the manifests and the managed resources
/// as the controller syncs them.
#[tokio::test]
async fn a_multi_source_apps_manifests_and_resources_combine_its_sources() {
    let mut w = World::new().await;
    let commit = w.commit(
        &[
            ("chart/Chart.yaml", "apiVersion: v2\nname: greeter\nversion: 0.1.0\n"),
            ("chart/values.yaml", "greeting: hello\n"),
            (
                "chart/templates/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: greeter\ndata:\n  greeting: {{ .Values.greeting | quote }}\n",
            ),
            ("env/prod/values.yaml", "greeting: hello from values\n"),
            ("extra/cm.yaml", &configmap("extra", "two")),
        ],
        "three sources",
    );
    let repo = format!("file://{}", w.repo.display());
    let mut app = w.app("multi", "default", "unused", "multi", true);
    let spec = app["spec"].as_object_mut().unwrap();
    spec.remove("source");
    spec.insert(
        "sources".into(),
        json!([
            {"repoURL": repo, "path": "chart", "targetRevision": "main",
             "helm": {"valueFiles": ["$values/env/prod/values.yaml"]}},
            {"repoURL": repo, "targetRevision": "main", "ref": "values"},
            {"repoURL": repo, "path": "extra", "targetRevision": "main"},
        ]),
    );
    w.create_app(app).await;
    w.start_controller().await;
    let token = w.admin().await;
    let revision = format!("{commit},{commit},{commit}");
    w.wait_app(&token, "multi", "is Synced at each source's commit", |a| {
        sync_status(a) == "Synced" && a["status"]["sync"]["revision"] == revision.as_str()
    })
    .await;
    let (status, manifests) = w.get("/api/v1/applications/multi/manifests", &token).await;
    assert_eq!(status, StatusCode::OK, "{manifests}");
    let objects = manifests["manifests"].as_array().unwrap();
    let names: Vec<&str> = objects
        .iter()
        .map(|o| o["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["extra", "greeter"], "{manifests}");
    let greeter = objects
        .iter()
        .find(|o| o["metadata"]["name"] == "greeter")
        .unwrap();
    assert_eq!(greeter["data"]["greeting"], "hello from values");
    let (status, managed) = w
        .get("/api/v1/applications/multi/managed-resources", &token)
        .await;
    assert_eq!(status, StatusCode::OK);
    let greeter = managed
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "greeter")
        .unwrap();
    assert_eq!(
        greeter["liveState"]["data"]["greeting"],
        "hello from values"
    );
    // A revision per source, commas between; a wrong count is refused.
    let (status, body) = w
        .get(
            &format!("/api/v1/applications/multi/manifests?revision={commit}"),
            &token,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body.to_string()
            .contains("one revision for each of the app's 3 sources"),
        "{body}"
    );
}

/// Resource actions through the API, as Argo CD's UI and CLI call them:
/// the list of what a Deployment offers, a restart (the body the action's
/// name as a JSON string) that needs `action/apps/Deployment/restart`, a
/// custom action of the settings ConfigMap through the v2 route, and the
/// app staying Synced (what an action writes is not Git's).
#[tokio::test]
async fn resource_actions_run_through_the_api_under_rbac() {
    let mut w = World::new().await;
    w.commit(
        &[
            ("web/deploy.yaml", &deployment("web", "nginx:1.27")),
            ("web/cm.yaml", &configmap("settings", "one")),
        ],
        "web",
    );
    w.create_app(w.app("web", "default", "web", "web", true))
        .await;
    w.start_controller().await;
    w.accounts(
        &[("alice", "login"), ("bob", "login")],
        "password-123",
        "p, role:restarter, applications, get, */*, allow\n\
         p, role:restarter, applications, action/apps/Deployment/restart, default/*, allow\n\
         g, alice, role:restarter\n\
         g, bob, role:readonly\n",
        None,
    )
    .await;
    // The accounts and a custom action for ConfigMaps in one ConfigMap.
    w.set_configmap(
        "sextant-cm",
        json!({
            "accounts.alice": "login",
            "accounts.bob": "login",
            "resource.customizations.actions.ConfigMap": "discovery.lua: |\n  return {bump = {}}\ndefinitions:\n- name: bump\n  action.lua: |\n    obj.data.key = \"bumped\"\n    return obj\n",
        }),
    )
    .await;
    let admin = w.admin().await;
    w.wait_app(&admin, "web", "is Synced and Healthy", |a| {
        sync_status(a) == "Synced" && health(a) == "Healthy"
    })
    .await;
    let query = "namespace=web&resourceName=web&group=apps&kind=Deployment&version=v1";
    let (status, listed) = w
        .get(
            &format!("/api/v1/applications/web/resource/actions?{query}"),
            &admin,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let names: Vec<(&str, bool)> = listed["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap(),
                a["disabled"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [("pause", false), ("restart", false), ("resume", true)]
    );

    let bob = w.login("bob", "password-123").await;
    let alice = w.login("alice", "password-123").await;
    let path = format!("/api/v1/applications/web/resource/actions?{query}");
    let (status, body) = w
        .call(Method::POST, &path, Some(&bob), Some(json!("restart")))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "readonly may not: {body}");
    let (status, body) = w
        .call(Method::POST, &path, Some(&alice), Some(json!("pause")))
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "only restart is granted: {body}"
    );
    let (status, body) = w
        .call(Method::POST, &path, Some(&alice), Some(json!("restart")))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["changes"], json!(["patched Deployment.apps web/web"]));

    let deployments: kube::Api<k8s_openapi::api::apps::v1::Deployment> =
        kube::Api::namespaced(w.client.clone(), "web");
    let web = deployments.get("web").await.unwrap();
    let restarted = web
        .spec
        .and_then(|s| s.template.metadata)
        .and_then(|m| m.annotations)
        .and_then(|a| a.get("kubectl.kubernetes.io/restartedAt").cloned());
    assert!(restarted.is_some(), "the pod template carries the restart");

    // The custom action, through v2 (the object in the body).
    let (status, body) = w
        .call(
            Method::POST,
            "/api/v1/applications/web/resource/actions/v2",
            Some(&admin),
            Some(json!({"action": "bump", "kind": "ConfigMap", "group": "",
                "namespace": "web", "resourceName": "settings", "version": "v1"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let cms: kube::Api<k8s_openapi::api::core::v1::ConfigMap> =
        kube::Api::namespaced(w.client.clone(), "web");
    let cm = cms.get("settings").await.unwrap();
    assert_eq!(
        cm.data.unwrap_or_default().get("key").map(String::as_str),
        Some("bumped")
    );
    // An object the app does not have.
    let (status, body) = w
        .get(
            "/api/v1/applications/web/resource/actions?namespace=web&resourceName=nope&group=apps&kind=Deployment",
            &admin,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    // The restart is not a difference from Git (self-heal then brings the
    // bumped ConfigMap back to Git's value).
    w.wait_app(&admin, "web", "is Synced again", |a| {
        sync_status(a) == "Synced"
    })
    .await;
    let (_, events) = w.get("/api/v1/applications/web/events", &admin).await;
    let ran = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["reason"] == "ResourceActionRan")
        .count();
    assert_eq!(ran, 2, "{events}");
}
