//! Leader election: of two controllers started for one namespace only the
//! one holding the Lease reconciles; when it shuts down the other takes
//! over; a leader whose Lease is taken away stops.

use crate::support;

use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use kube::Api;
use kube::api::{Patch, PatchParams};
use serde_json::json;
use sextant_controller::Controller;
use sextant_controller::leader::LeaseConfig;
use support::*;

fn lease(identity: &str) -> LeaseConfig {
    LeaseConfig {
        name: "sextant-controller".into(),
        identity: identity.into(),
        duration: Duration::from_secs(15),
        renew_every: Duration::from_millis(300),
    }
}

async fn holder(w: &World) -> Option<String> {
    let api: Api<Lease> = Api::namespaced(w.client.clone(), NS);
    api.get_opt("sextant-controller")
        .await
        .unwrap()
        .and_then(|l| l.spec?.holder_identity)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_leader_reconciles_and_a_standby_takes_over_when_it_stops() {
    let w = World::new().await;
    let c1 = w.commit(&[("app/cm.yaml", &configmap("cfg", "1"))], "one");
    let mut config_a = w.config();
    config_a.leader_election = Some(lease("a"));
    let mut config_b = w.config();
    config_b.leader_election = Some(lease("b"));

    let a = Controller::start(w.client.clone(), config_a).await.unwrap();
    assert_eq!(holder(&w).await.as_deref(), Some("a"));
    // b waits for the Lease in the background.
    let client = w.client.clone();
    let standby = tokio::spawn(async move { Controller::start(client, config_b).await.unwrap() });

    w.create_app("web", "app", "web", automated(true, false))
        .await;
    w.wait_synced_healthy("web", &c1).await;
    assert!(a.reconciles("web") > 0);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(!standby.is_finished(), "b must not start while a leads");

    // a stops cleanly and releases the Lease: b leads at once and acts.
    a.shutdown().await;
    let b = tokio::time::timeout(Duration::from_secs(30), standby)
        .await
        .expect("b takes over")
        .unwrap();
    assert_eq!(holder(&w).await.as_deref(), Some("b"));
    let c2 = w.commit(&[("app/cm.yaml", &configmap("cfg", "2"))], "two");
    w.apps()
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"annotations": {"sextant.dev/refresh": "normal"}}})),
        )
        .await
        .unwrap();
    w.wait_synced_healthy("web", &c2).await;
    assert!(b.reconciles("web") > 0);
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_whose_lease_is_taken_stops_reconciling() {
    let w = World::new().await;
    let c1 = w.commit(&[("app/cm.yaml", &configmap("cfg", "1"))], "one");
    let mut config = w.config();
    config.leader_election = Some(lease("a"));
    let a = Controller::start(w.client.clone(), config).await.unwrap();
    w.create_app("web", "app", "web", automated(true, true))
        .await;
    w.wait_synced_healthy("web", &c1).await;

    // Another controller takes the Lease (as one would after a's renewals
    // failed for its whole duration).
    let api: Api<Lease> = Api::namespaced(w.client.clone(), NS);
    api.patch(
        "sextant-controller",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"holderIdentity": "intruder"}})),
    )
    .await
    .unwrap();
    tokio::time::timeout(Duration::from_secs(30), a.lost())
        .await
        .expect("a notices it lost the lease");
    // Stopped (its workers aborted): a live edit is no longer healed.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = a.reconciles("web");
    w.api("v1", "ConfigMap", "configmaps", Some("web"))
        .patch(
            "cfg",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"key": "edited"}})),
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(a.reconciles("web"), before);
    assert_eq!(
        w.configmap("web", "cfg").await.unwrap()["data"]["key"],
        "edited"
    );
    a.shutdown().await;
    assert_eq!(holder(&w).await.as_deref(), Some("intruder"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_that_cannot_renew_in_time_stops_before_its_lease_runs_out() {
    let w = World::new().await;
    if w.localkube_only("slow Lease answers are injected by localkube's faults") {
        return;
    }
    let mut config = w.config();
    config.leader_election = Some(LeaseConfig {
        duration: Duration::from_secs(2),
        renew_every: Duration::from_millis(200),
        ..lease("a")
    });
    let a = Controller::start(w.client.clone(), config).await.unwrap();
    // The API server stops answering Lease requests in time.
    w.server
        .faults()
        .set(localkube::faults::FaultRules {
            latency: Some(localkube::faults::LatencyFault {
                delay_ms: 10_000,
                matches: localkube::faults::Match {
                    resources: vec!["leases".into()],
                    ..Default::default()
                },
                ..Default::default()
            }),
            ..Default::default()
        })
        .unwrap();
    let since = std::time::Instant::now();
    tokio::time::timeout(Duration::from_secs(30), a.lost())
        .await
        .expect("a gives up leading");
    // It gave up on the hung renewal (10 s) instead of waiting for it: the
    // renewal is bounded by the lease (2 s here, less one period).
    assert!(
        since.elapsed() < Duration::from_secs(8),
        "{:?}",
        since.elapsed()
    );
    w.server.faults().clear();
    a.shutdown().await;
}
