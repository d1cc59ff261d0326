//! `sextant-control-plane DIR`: start the real control plane of the test
//! harness (etcd, kube-apiserver, kube-controller-manager) with its data
//! in DIR, write DIR/kubeconfig, print its path and run until SIGTERM or
//! Ctrl-C, then stop every process. `scripts/control-plane.sh up` runs it
//! in the background (with the kubelet stand-in beside it).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test helper: a panic is the report"
)]

use std::path::PathBuf;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: sextant-control-plane DIR");
        std::process::exit(2);
    };
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    let cp = sextant_testkit::ControlPlane::start_in(&dir).await;
    println!("{}", cp.kubeconfig().display());
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("listen for SIGTERM");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    drop(cp);
}
