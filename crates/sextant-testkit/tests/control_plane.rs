//! The real control plane starts, tells its true version, runs
//! kube-controller-manager, and leaves no process behind when dropped.
//! Runs only with `SEXTANT_TEST_CLUSTER=real` (it needs the binaries
//! `scripts/build-control-plane.sh` builds).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use sextant_testkit::ControlPlane;

fn real() -> bool {
    std::env::var("SEXTANT_TEST_CLUSTER").is_ok_and(|v| v == "real")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_control_plane_serves_its_release_and_stops_every_process_when_dropped() {
    if !real() {
        eprintln!(
            "SEXTANT_TEST_CLUSTER is not `real`: the localkube profile has no control plane to start"
        );
        return;
    }
    let cp = ControlPlane::start().await;
    let client = cp.client().await;
    let v = client.apiserver_version().await.unwrap();
    let pinned = std::fs::read_to_string(
        sextant_testkit::control_plane::workspace_root().join("tools/kube/go.mod"),
    )
    .unwrap();
    assert!(
        pinned.contains(&format!("k8s.io/kubernetes {}", v.git_version)),
        "/version says {} but tools/kube/go.mod pins another release",
        v.git_version
    );
    let text = std::fs::read_to_string(cp.kubeconfig()).unwrap();
    assert!(text.contains(cp.url()));
    let pids = cp.pids();
    let root = cp.root().to_path_buf();
    drop(cp);
    for pid in pids {
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}")).exists(),
            "process {pid} outlived its control plane"
        );
    }
    assert!(
        !root.exists(),
        "the data folder {} was left behind",
        root.display()
    );
}
