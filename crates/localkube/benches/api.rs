//! localkube benchmark: creates per second (over HTTP with kube-rs, and
//! in-process without HTTP as a baseline), list latency at 10,000 objects,
//! and watch delivery latency. Run with `cargo bench -p localkube`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test and benchmark code: a panic is a failure report"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, PostParams, WatchEvent, WatchParams};
use localkube::cluster::{Cluster, Target, WriteOptions};
use localkube::{Config, LocalKube};
use serde_json::json;

fn cm(name: &str) -> ConfigMap {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"bench": "yes"}},
        "data": {"key": "value"}
    }))
    .expect("valid ConfigMap")
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let idx = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[idx]
}

async fn http_creates(api: &Api<ConfigMap>, prefix: &str, n: usize, concurrency: usize) -> f64 {
    let start = Instant::now();
    futures::stream::iter(0..n)
        .map(|i| {
            let api = api.clone();
            let name = format!("{prefix}-{i}");
            async move {
                api.create(&PostParams::default(), &cm(&name))
                    .await
                    .map(|_| ())
            }
        })
        .buffer_unordered(concurrency)
        .try_collect::<Vec<()>>()
        .await
        .expect("creates succeed");
    n as f64 / start.elapsed().as_secs_f64()
}

fn in_process_creates(cluster: &Arc<Cluster>, n: usize) -> f64 {
    let rt = cluster
        .registry()
        .get("", "v1", "configmaps")
        .expect("configmaps served");
    let target = Target {
        rt,
        namespace: "default".into(),
        name: None,
        subresource: None,
    };
    let opts = WriteOptions {
        field_manager: "bench".into(),
        ..Default::default()
    };
    let start = Instant::now();
    for i in 0..n {
        let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": format!("inproc-{i}")}, "data": {"key": "value"}});
        cluster.create(&target, body, &opts).expect("create");
    }
    n as f64 / start.elapsed().as_secs_f64()
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    // The API server alone: the simulated controllers would add their own
    // passes to every write.
    let config = Config {
        simulation: localkube::controllers::SimulationConfig {
            enabled: false,
            ..Default::default()
        },
        ..Config::default()
    };
    let server = LocalKube::start(config).await.expect("start");
    let client = server.client().await.expect("client");
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");

    // Warm up connections and code paths.
    http_creates(&api, "warm", 200, 16).await;

    let mut rates = Vec::new();
    for round in 0..3 {
        rates.push(http_creates(&api, &format!("r{round}"), 3000, 32).await);
    }
    let http_rate = median(rates.clone());
    println!("creates over HTTP (kube-rs, 32 in flight): median {http_rate:.0}/s of {rates:.0?}");

    let inproc = in_process_creates(server.cluster(), 3000);
    println!("creates in-process (no HTTP): {inproc:.0}/s");

    // Fill up to 10,000 objects, then time full lists.
    let have = api
        .list(&ListParams::default())
        .await
        .expect("list")
        .items
        .len();
    if have < 10_000 {
        http_creates(&api, "fill", 10_000 - have, 32).await;
    }
    let mut lists = Vec::new();
    for _ in 0..7 {
        let t = Instant::now();
        let items = api
            .list(&ListParams::default())
            .await
            .expect("list")
            .items
            .len();
        assert!(items >= 10_000);
        lists.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    // The same list as raw bytes: the server's part without client decoding.
    let mut raw = Vec::new();
    for _ in 0..7 {
        let req = http::Request::get("/api/v1/namespaces/default/configmaps")
            .body(Vec::new())
            .expect("request");
        let t = Instant::now();
        let text = client.request_text(req).await.expect("raw list");
        assert!(text.len() > 1_000_000);
        raw.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let mut selected = Vec::new();
    for _ in 0..7 {
        let t = Instant::now();
        api.list(&ListParams::default().labels("bench=no"))
            .await
            .expect("list");
        selected.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    println!(
        "list of {} objects: median {:.1} ms as raw JSON, {:.1} ms with kube-rs typed decoding; label-selected empty list over them: median {:.1} ms",
        have.max(10_000),
        median(raw),
        median(lists),
        median(selected)
    );

    // Watch delivery: time from create request sent to event received.
    let rv = api
        .list(&ListParams::default().limit(1))
        .await
        .expect("list")
        .metadata
        .resource_version
        .expect("rv");
    let mut stream = api
        .watch(&WatchParams::default().labels("bench=watch"), &rv)
        .await
        .expect("watch")
        .boxed();
    let mut lat = Vec::new();
    for i in 0..300 {
        let mut obj = cm(&format!("watch-{i}"));
        obj.metadata.labels = Some([("bench".to_string(), "watch".to_string())].into());
        let t = Instant::now();
        api.create(&PostParams::default(), &obj)
            .await
            .expect("create");
        loop {
            let ev = tokio::time::timeout(Duration::from_secs(5), stream.try_next())
                .await
                .expect("event in time")
                .expect("watch ok")
                .expect("stream open");
            if matches!(ev, WatchEvent::Added(_)) {
                break;
            }
        }
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    println!(
        "watch delivery (create sent -> ADDED received, 300 samples): p50 {:.2} ms, p99 {:.2} ms",
        percentile(lat.clone(), 0.5),
        percentile(lat, 0.99)
    );
    server.shutdown().await;
}
