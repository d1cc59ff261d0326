//! The kubelet stand-in against a real control plane: localkube's Nodes,
//! scheduler and kubelet beside kube-controller-manager make a Deployment
//! available, fail Pods the way failure images ask, remove terminating
//! Pods and give LoadBalancer Services addresses. Runs only with
//! `SEXTANT_TEST_CLUSTER=real`.

use crate::support;

use std::time::Duration;

use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::json;

async fn wait_for(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_of_a_deployment_run_fail_and_go_away_beside_kube_controller_manager() {
    if !support::real() {
        eprintln!(
            "SEXTANT_TEST_CLUSTER is not `real`: localkube's own simulation is tested elsewhere"
        );
        return;
    }
    let (server, _k) = support::start().await;
    let client = server.client().await;
    let deploys: Api<k8s_openapi::api::apps::v1::Deployment> =
        Api::namespaced(client.clone(), "default");
    let d = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}
    });
    deploys
        .create(&PostParams::default(), &serde_json::from_value(d).unwrap())
        .await
        .unwrap();
    wait_for("2 available replicas", async || {
        let d = deploys.get("web").await.unwrap();
        d.status.and_then(|s| s.available_replicas) == Some(2)
    })
    .await;

    let pods: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(client.clone(), "default");
    let patch = json!({"spec": {"replicas": 0}});
    deploys
        .patch("web", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    wait_for("terminating Pods removed", async || {
        pods.list(&Default::default())
            .await
            .unwrap()
            .items
            .is_empty()
    })
    .await;

    let p = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "crash"},
        "spec": {"containers": [{"name": "c", "image": "example/crashloop:1"}]}});
    pods.create(&PostParams::default(), &serde_json::from_value(p).unwrap())
        .await
        .unwrap();
    wait_for("CrashLoopBackOff", async || {
        let p = pods.get("crash").await.unwrap();
        p.status
            .and_then(|s| s.container_statuses)
            .and_then(|cs| cs.into_iter().next())
            .and_then(|c| c.state)
            .and_then(|s| s.waiting)
            .and_then(|w| w.reason)
            .as_deref()
            == Some("CrashLoopBackOff")
    })
    .await;
    pods.delete("crash", &DeleteParams::default())
        .await
        .unwrap();

    let svcs: Api<k8s_openapi::api::core::v1::Service> = Api::namespaced(client.clone(), "default");
    let s = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "lb"},
        "spec": {"type": "LoadBalancer", "selector": {"app": "web"}, "ports": [{"port": 80}]}});
    svcs.create(&PostParams::default(), &serde_json::from_value(s).unwrap())
        .await
        .unwrap();
    wait_for("a load-balancer address", async || {
        let s = svcs.get("lb").await.unwrap();
        s.status
            .and_then(|s| s.load_balancer)
            .and_then(|l| l.ingress)
            .is_some_and(|i| !i.is_empty())
    })
    .await;
    let nodes: Api<k8s_openapi::api::core::v1::Node> = Api::all(client);
    assert_eq!(
        nodes.list(&Default::default()).await.unwrap().items.len(),
        3
    );
}
