//! kube-rs against localkube: typed and dynamic APIs, discovery, watchers
//! that resume from a resourceVersion, server-side apply ownership, TLS.
//! With `SEXTANT_TEST_CLUSTER=real` the same tests run against a real
//! control plane (see `support`), except the two about localkube's own
//! features (compaction on demand, `--data-dir` restarts).

use crate::support;

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::discovery::{ApiResource, Discovery, Scope};
use kube::runtime::watcher;
use localkube::{Config, LocalKube};
use serde_json::json;
use support::Server;

async fn server() -> (Server, kube::Client) {
    let server = Server::start().await;
    let client = server.client().await;
    (server, client)
}

/// True (and says why) when the test is about a feature of localkube
/// itself and the profile is the real control plane.
fn localkube_only(why: &str) -> bool {
    let skip = support::real();
    if skip {
        eprintln!("runs on localkube only: {why}");
    }
    skip
}

/// Wait until `done` holds (the real API server finishes deletions in its
/// controllers, after the request returned); fails after 60 s.
async fn eventually<F, Fut>(what: &str, done: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !done().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn configmap(name: &str, value: &str) -> ConfigMap {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "labels": {"suite": "kube"}},
        "data": {"value": value}
    }))
    .unwrap()
}

#[tokio::test]
async fn typed_api_crud_with_conflicts_and_not_found() {
    let (_s, client) = server().await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let created = api
        .create(&PostParams::default(), &configmap("a", "1"))
        .await
        .unwrap();
    let rv = created.metadata.resource_version.clone().unwrap();
    assert!(created.metadata.uid.is_some());

    let err = api
        .create(&PostParams::default(), &configmap("a", "1"))
        .await
        .unwrap_err();
    match err {
        kube::Error::Api(s) => {
            assert_eq!(s.code, 409);
            assert_eq!(s.reason, "AlreadyExists");
        }
        other => panic!("unexpected {other:?}"),
    }

    let mut updated = created.clone();
    updated.data = Some([("value".to_string(), "2".to_string())].into());
    let after = api
        .replace("a", &PostParams::default(), &updated)
        .await
        .unwrap();
    assert_ne!(
        after.metadata.resource_version.as_deref(),
        Some(rv.as_str())
    );
    // The same stale resourceVersion again is a conflict.
    let err = api
        .replace("a", &PostParams::default(), &updated)
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 409 && s.reason == "Conflict"),
        "{err:?}"
    );

    let list = api
        .list(&ListParams::default().labels("suite=kube"))
        .await
        .unwrap();
    assert_eq!(list.items.len(), 1);
    api.delete("a", &DeleteParams::default()).await.unwrap();
    let err = api.get("a").await.unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 404 && s.reason == "NotFound"),
        "{err:?}"
    );

    let nsapi: Api<ConfigMap> = Api::namespaced(client, "missing");
    let err = nsapi
        .create(&PostParams::default(), &configmap("b", "1"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 404 && s.message.contains("namespaces \"missing\" not found")),
        "{err:?}"
    );
}

#[tokio::test]
async fn discovery_and_dynamic_api_find_builtins() {
    let (_s, client) = server().await;
    let discovery = Discovery::new(client.clone()).run().await.unwrap();
    let (ar, caps) = discovery
        .groups()
        .flat_map(|g| g.recommended_resources())
        .find(|(ar, _)| ar.kind == "Deployment")
        .expect("Deployment discovered");
    assert_eq!(ar.group, "apps");
    assert_eq!(ar.plural, "deployments");
    assert_eq!(caps.scope, Scope::Namespaced);
    assert!(
        caps.subresources
            .iter()
            .any(|(sub, _)| sub.plural == "deployments/scale" || sub.plural == "scale")
    );

    let api: Api<DynamicObject> = Api::namespaced_with(client, "default", &ar);
    let obj: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "dyn"},
        "spec": {"selector": {"matchLabels": {"app": "dyn"}},
                 "template": {"metadata": {"labels": {"app": "dyn"}},
                              "spec": {"containers": [{"name": "c", "image": "nginx:1.25"}]}}}
    }))
    .unwrap();
    let created = api.create(&PostParams::default(), &obj).await.unwrap();
    assert_eq!(created.metadata.generation, Some(1));
    let got = api.get("dyn").await.unwrap();
    assert_eq!(
        got.data["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.25"
    );
}

#[tokio::test]
async fn server_side_apply_tracks_ownership_and_reports_conflicts() {
    let (_s, client) = server().await;
    let api: Api<Deployment> = Api::namespaced(client, "default");
    let desired = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"team": "a"}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]}}}
    });
    let pp = PatchParams::apply("sextant");
    let d = api
        .patch("web", &pp, &Patch::Apply(&desired))
        .await
        .unwrap();
    let managed = d.metadata.managed_fields.clone().unwrap();
    assert_eq!(managed.len(), 1);
    assert_eq!(managed[0].manager.as_deref(), Some("sextant"));
    assert_eq!(managed[0].operation.as_deref(), Some("Apply"));
    let fields = serde_json::to_value(&managed[0].fields_v1).unwrap();
    assert!(
        fields["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"web\"}"]
            .is_object(),
        "{fields}"
    );

    // Another manager takes replicas with an update.
    let scale = json!({"spec": {"replicas": 5}});
    api.patch(
        "web",
        &PatchParams {
            field_manager: Some("hpa".into()),
            ..Default::default()
        },
        &Patch::Merge(&scale),
    )
    .await
    .unwrap();
    let err = api
        .patch("web", &pp, &Patch::Apply(&desired))
        .await
        .unwrap_err();
    match err {
        kube::Error::Api(s) => {
            assert_eq!(s.code, 409);
            assert!(s.message.contains("conflict with \"hpa\""), "{}", s.message);
            assert!(s.message.contains(".spec.replicas"), "{}", s.message);
        }
        other => panic!("unexpected {other:?}"),
    }
    // Not setting replicas means not owning it: no conflict, value kept.
    let mut without = desired.clone();
    without["spec"].as_object_mut().unwrap().remove("replicas");
    without["metadata"]["labels"] = json!({});
    let d = api
        .patch("web", &pp, &Patch::Apply(&without))
        .await
        .unwrap();
    assert_eq!(d.spec.unwrap().replicas, Some(5));
    assert!(
        d.metadata.labels.unwrap_or_default().is_empty(),
        "dropped label removed"
    );
    // Forcing takes ownership back.
    let d = api
        .patch("web", &pp.clone().force(), &Patch::Apply(&desired))
        .await
        .unwrap();
    assert_eq!(d.spec.unwrap().replicas, Some(2));
    let owners: Vec<String> = d
        .metadata
        .managed_fields
        .unwrap()
        .iter()
        .filter_map(|m| m.manager.clone())
        .collect();
    assert!(owners.contains(&"sextant".to_string()));

    // dryRun=All reports the result and persists nothing.
    let mut changed = desired.clone();
    changed["spec"]["replicas"] = json!(9);
    let dry = api
        .patch(
            "web",
            &pp.clone().force().dry_run(),
            &Patch::Apply(&changed),
        )
        .await
        .unwrap();
    assert_eq!(dry.spec.unwrap().replicas, Some(9));
    assert_eq!(
        api.get("web").await.unwrap().spec.unwrap().replicas,
        Some(2)
    );
}

#[tokio::test]
async fn watcher_resumes_from_its_resource_version_across_watch_restarts() {
    let (_server, client) = server().await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    // Short server-side timeouts force the watcher to re-watch often, each
    // time from the last resourceVersion it saw.
    // The label keeps out what a real cluster puts in every namespace
    // (the kube-root-ca.crt ConfigMap).
    let cfg = watcher::Config::default().timeout(1).labels("suite=kube");
    let mut stream = watcher(api.clone(), cfg).boxed();
    let mut inits = 0;
    let mut seen = Vec::new();
    let writer = {
        let api = api.clone();
        tokio::spawn(async move {
            for i in 0..6 {
                api.create(&PostParams::default(), &configmap(&format!("w{i}"), "x"))
                    .await
                    .unwrap();
                tokio::time::sleep(Duration::from_millis(700)).await;
            }
        })
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while seen.len() < 6 {
        let ev = tokio::time::timeout_at(deadline, stream.try_next())
            .await
            .expect("events in time")
            .unwrap()
            .unwrap();
        match ev {
            watcher::Event::Init => inits += 1,
            // w0 may land in the initial list or in the first watch.
            watcher::Event::InitApply(cm) | watcher::Event::Apply(cm) => {
                seen.push(cm.metadata.name.unwrap())
            }
            _ => {}
        }
    }
    writer.await.unwrap();
    assert_eq!(seen, vec!["w0", "w1", "w2", "w3", "w4", "w5"]);
    assert_eq!(inits, 1, "resumed without re-listing");
}

#[tokio::test]
async fn raw_watch_from_a_compacted_version_gets_410_gone() {
    if localkube_only("compacts localkube's store on demand") {
        return;
    }
    let server = LocalKube::start(Config::default()).await.unwrap();
    let client = server.client().await.unwrap();
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let first = api
        .create(&PostParams::default(), &configmap("x", "1"))
        .await
        .unwrap();
    let rv = first.metadata.resource_version.unwrap();
    api.create(&PostParams::default(), &configmap("y", "1"))
        .await
        .unwrap();
    server.cluster().store.write().compact();
    // Watching from the newest version is still fine after a compaction...
    let newest = api
        .get("y")
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let mut ok = api
        .watch(&kube::api::WatchParams::default().timeout(1), &newest)
        .await
        .unwrap()
        .boxed();
    assert!(
        ok.try_next().await.unwrap().is_none(),
        "no events, no error"
    );
    // ...but an older one is gone.
    let mut events = api
        .watch(&kube::api::WatchParams::default(), &rv)
        .await
        .unwrap()
        .boxed();
    let ev = events.try_next().await;
    match ev {
        Ok(Some(kube::api::WatchEvent::Error(e))) => {
            assert_eq!(e.code, 410);
            assert_eq!(e.reason, "Expired");
        }
        Err(kube::Error::Api(s)) => assert_eq!(s.code, 410),
        other => panic!("expected 410 Gone, got {other:?}"),
    }
}

#[tokio::test]
async fn generate_name_status_and_generation() {
    let (_s, client) = server().await;
    let api: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let d: Deployment = serde_json::from_value(json!({
        "metadata": {"generateName": "gen-"},
        "spec": {"selector": {"matchLabels": {"a": "b"}},
                 "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "i:1"}]}}},
        "status": {"replicas": 7}
    }))
    .unwrap();
    let created = api.create(&PostParams::default(), &d).await.unwrap();
    let name = created.metadata.name.clone().unwrap();
    assert!(name.starts_with("gen-") && name.len() == 9, "{name}");
    assert_eq!(
        created.status.as_ref().and_then(|s| s.replicas),
        None,
        "status is ignored on create"
    );

    // A metadata-only change does not bump generation; a spec change does.
    let labelled = api
        .patch(
            &name,
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"x": "y"}}})),
        )
        .await
        .unwrap();
    assert_eq!(labelled.metadata.generation, Some(1));
    let scaled = api
        .patch(
            &name,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 3}})),
        )
        .await
        .unwrap();
    assert_eq!(scaled.metadata.generation, Some(2));
    // The status subresource changes only status.
    let st = api
        .patch_status(
            &name,
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"replicas": 3}, "spec": {"replicas": 9}})),
        )
        .await
        .unwrap();
    assert_eq!(st.status.unwrap().replicas, Some(3));
    assert_eq!(st.spec.unwrap().replicas, Some(3));
    let scale = api.get_scale(&name).await.unwrap();
    assert_eq!(scale.spec.unwrap().replicas, Some(3));
}

#[tokio::test]
async fn finalizers_hold_deletion_until_removed() {
    let (_s, client) = server().await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let mut cm = configmap("held", "1");
    cm.metadata.finalizers = Some(vec!["example.com/hold".into()]);
    api.create(&PostParams::default(), &cm).await.unwrap();
    api.delete("held", &DeleteParams::default()).await.unwrap();
    let still = api.get("held").await.unwrap();
    assert!(still.metadata.deletion_timestamp.is_some());
    api.patch(
        "held",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .unwrap();
    assert!(api.get_opt("held").await.unwrap().is_none());
}

#[tokio::test]
async fn namespace_deletion_removes_its_objects() {
    let (_s, client) = server().await;
    let nss: Api<Namespace> = Api::all(client.clone());
    nss.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": "gone"}})).unwrap(),
    )
    .await
    .unwrap();
    let api: Api<ConfigMap> = Api::namespaced(client, "gone");
    api.create(&PostParams::default(), &configmap("c", "1"))
        .await
        .unwrap();
    nss.delete("gone", &DeleteParams::default()).await.unwrap();
    // localkube removes it at once; kube-apiserver marks it Terminating
    // and kube-controller-manager's namespace controller empties it.
    eventually("the namespace to go", || async {
        nss.get_opt("gone").await.unwrap().is_none()
    })
    .await;
    assert!(
        api.list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

#[tokio::test]
async fn tls_server_requires_the_token_and_verifies_with_the_ca() {
    // The real control plane serves TLS only, with a bearer token.
    let server = if support::real() {
        Server::start().await
    } else {
        Server::Local(
            LocalKube::start(Config {
                tls: true,
                ..Config::default()
            })
            .await
            .unwrap(),
        )
    };
    let client = server.client().await;
    let api: Api<Namespace> = Api::all(client);
    let names: Vec<String> = api
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|n| n.metadata.name)
        .collect();
    assert!(names.contains(&"default".to_string()));

    // The same server without the token is refused.
    let text = std::fs::read_to_string(server.kubeconfig_path()).unwrap();
    let no_token: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("token:"))
        .map(|l| format!("{l}\n"))
        .collect();
    let no_token = no_token.replace("  user:\n", "  user: {}\n");
    let kc = kube::config::Kubeconfig::from_yaml(&no_token).unwrap();
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .unwrap();
    assert_eq!(cfg.cluster_url.scheme_str(), Some("https"));
    let anon: Api<Namespace> = Api::all(kube::Client::try_from(cfg).unwrap());
    let err = anon.list(&ListParams::default()).await.unwrap_err();
    // localkube refuses a request without the token (401); kube-apiserver
    // (anonymous auth on, its default) takes it as system:anonymous, whom
    // RBAC refuses (403).
    let expected = if support::real() { 403 } else { 401 };
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == expected),
        "{err:?}"
    );
}

#[tokio::test]
async fn custom_resources_are_served_after_their_crd() {
    let (_s, client) = server().await;
    let crds: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
        Api::all(client.clone());
    let crd = serde_json::from_value(json!({
        "metadata": {"name": "gadgets.example.com"},
        "spec": {"group": "example.com", "scope": "Cluster",
                 "names": {"plural": "gadgets", "kind": "Gadget"},
                 "versions": [{"name": "v1", "served": true, "storage": true,
                               "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}
    }))
    .unwrap();
    crds.create(&PostParams::default(), &crd).await.unwrap();
    // localkube establishes it on create; kube-apiserver a moment later.
    eventually("the CRD to be Established", || async {
        crds.get("gadgets.example.com")
            .await
            .unwrap()
            .status
            .and_then(|s| s.conditions)
            .unwrap_or_default()
            .iter()
            .any(|c| c.type_ == "Established" && c.status == "True")
    })
    .await;
    let ar = ApiResource {
        group: "example.com".into(),
        version: "v1".into(),
        api_version: "example.com/v1".into(),
        kind: "Gadget".into(),
        plural: "gadgets".into(),
    };
    let api: Api<DynamicObject> = Api::all_with(client, &ar);
    let obj: DynamicObject = serde_json::from_value(json!({"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": "g"}, "spec": {"any": "thing"}})).unwrap();
    api.create(&PostParams::default(), &obj).await.unwrap();
    assert_eq!(api.get("g").await.unwrap().data["spec"]["any"], "thing");
    crds.delete("gadgets.example.com", &DeleteParams::default())
        .await
        .unwrap();
    // kube-apiserver removes the custom resources before the CRD.
    eventually("the custom resource to go with its CRD", || async {
        api.get("g").await.is_err()
    })
    .await;
}

#[tokio::test]
async fn metadata_only_requests_return_partial_object_metadata() {
    let (_s, client) = server().await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    api.create(&PostParams::default(), &configmap("meta", "secret-ish"))
        .await
        .unwrap();
    let list = api.list_metadata(&ListParams::default()).await.unwrap();
    let item = list
        .items
        .iter()
        .find(|m| m.metadata.name.as_deref() == Some("meta"))
        .unwrap();
    assert_eq!(item.metadata.labels.as_ref().unwrap()["suite"], "kube");
    let one = api.get_metadata("meta").await.unwrap();
    assert_eq!(one.metadata.name.as_deref(), Some("meta"));
    // The metadata watcher of kube-runtime sees changes.
    let meta_api: Api<kube::core::PartialObjectMeta<ConfigMap>> =
        Api::namespaced(client, "default");
    let mut stream = watcher(meta_api, watcher::Config::default()).boxed();
    let mut seen = false;
    while let Some(ev) = tokio::time::timeout(Duration::from_secs(10), stream.try_next())
        .await
        .unwrap()
        .unwrap()
    {
        if let watcher::Event::InitApply(m) | watcher::Event::Apply(m) = ev
            && m.metadata.name.as_deref() == Some("meta")
        {
            seen = true;
            break;
        }
    }
    assert!(seen);
}

#[tokio::test]
async fn a_restart_with_a_data_dir_keeps_objects_versions_and_crd_kinds() {
    if localkube_only("restarts localkube on its --data-dir") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = || Config {
        data_dir: Some(dir.path().to_path_buf()),
        ..Config::default()
    };
    let server = LocalKube::start(config()).await.unwrap();
    let client = server.client().await.unwrap();
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let kept = api
        .create(&PostParams::default(), &configmap("kept", "1"))
        .await
        .unwrap();
    let crds: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
        Api::all(client.clone());
    let crd = serde_json::from_value(json!({
        "metadata": {"name": "gadgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
                 "names": {"plural": "gadgets", "kind": "Gadget"},
                 "versions": [{"name": "v1", "served": true, "storage": true,
                               "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}
    }))
    .unwrap();
    crds.create(&PostParams::default(), &crd).await.unwrap();
    server.shutdown().await;

    let again = LocalKube::start(config()).await.unwrap();
    let client = again.client().await.unwrap();
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let back = api.get("kept").await.unwrap();
    assert_eq!(
        back.metadata.resource_version,
        kept.metadata.resource_version
    );
    assert_eq!(back.metadata.uid, kept.metadata.uid);
    let newer = api
        .create(&PostParams::default(), &configmap("newer", "1"))
        .await
        .unwrap();
    let rv = |c: &ConfigMap| {
        c.metadata
            .resource_version
            .clone()
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    assert!(rv(&newer) > rv(&back), "resourceVersions continue");
    let ar = ApiResource {
        group: "example.com".into(),
        version: "v1".into(),
        api_version: "example.com/v1".into(),
        kind: "Gadget".into(),
        plural: "gadgets".into(),
    };
    let gadgets: Api<DynamicObject> = Api::namespaced_with(client, "default", &ar);
    assert!(
        gadgets
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty(),
        "the CRD's kind is served again"
    );
}
