//! Fault injection seen by kube-rs: latency, 429 with Retry-After, 500 and
//! 503 for chosen resources, dropped watches, expired resourceVersions, and
//! the admin endpoint that switches them on and off.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret};
use kube::api::{Api, ListParams, PostParams, WatchEvent, WatchParams};
use kube::runtime::watcher;
use localkube::faults::{ErrorFault, FaultRules, FaultStats, Match};
use localkube::{Config, LocalKube};
use serde_json::{Value, json};

async fn server() -> LocalKube {
    LocalKube::start(Config::default()).await.unwrap()
}

/// kube-rs retries 429 and 503 by itself (honouring Retry-After); tests
/// that want to see the first answer use a client without that layer.
async fn client_without_retries(server: &LocalKube) -> kube::Client {
    let kubeconfig = kube::config::Kubeconfig::read_from(server.kubeconfig_path()).unwrap();
    let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .unwrap();
    config.default_retry = false;
    kube::Client::try_from(config).unwrap()
}

async fn admin(
    client: &kube::Client,
    method: http::Method,
    path: &str,
    body: Option<Value>,
) -> Result<Value, kube::Error> {
    let request = http::Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .body(body.map(|b| b.to_string().into_bytes()).unwrap_or_default())
        .unwrap();
    client.request::<Value>(request).await
}

fn rules(v: Value) -> FaultRules {
    serde_json::from_value(v).unwrap()
}

fn configmap(name: &str) -> ConfigMap {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name},
        "data": {"k": "v"}
    }))
    .unwrap()
}

fn api_status(err: kube::Error) -> Box<kube::core::Status> {
    match err {
        kube::Error::Api(s) => s,
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// Wait (polling) until `cond` holds; panics after 20 seconds.
async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// What a kube-runtime watcher delivered.
#[derive(Debug, Default)]
struct Seen {
    inits: usize,
    names: Vec<String>,
    errors: Vec<String>,
}

/// Drive a watcher in the background, recording what it delivers.
fn watch_configmaps(api: Api<ConfigMap>) -> (Arc<Mutex<Seen>>, tokio::task::JoinHandle<()>) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let record = seen.clone();
    let task = tokio::spawn(async move {
        let mut stream = watcher(api, watcher::Config::default()).boxed();
        while let Some(ev) = stream.next().await {
            let mut seen = record.lock().unwrap();
            match ev {
                Ok(watcher::Event::Init) => seen.inits += 1,
                Ok(watcher::Event::InitApply(cm) | watcher::Event::Apply(cm)) => {
                    seen.names.push(cm.metadata.name.unwrap())
                }
                Ok(_) => {}
                Err(e) => seen.errors.push(e.to_string()),
            }
        }
    });
    (seen, task)
}

fn has(seen: &Mutex<Seen>, name: &str) -> bool {
    seen.lock().unwrap().names.iter().any(|n| n == name)
}

#[tokio::test]
async fn a_fresh_server_injects_no_faults() {
    let server = server().await;
    assert_eq!(server.faults().rules(), FaultRules::default());
    let client = server.client().await.unwrap();
    assert_eq!(
        admin(&client, http::Method::GET, "/localkube/v1/faults", None)
            .await
            .unwrap(),
        json!({})
    );
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    api.create(&PostParams::default(), &configmap("a"))
        .await
        .unwrap();
    api.list(&ListParams::default()).await.unwrap();
    let stats = server.faults().stats();
    assert_eq!(
        (
            stats.delayed,
            stats.throttled,
            stats.errors,
            stats.watches_dropped
        ),
        (0, 0, 0, 0)
    );
}

#[tokio::test]
async fn the_admin_endpoint_round_trips_the_fault_rules_as_json() {
    let server = server().await;
    let client = server.client().await.unwrap();
    let full = json!({
        "seed": 7,
        "latency": {"delayMs": 1, "maxDelayMs": 3, "rate": 0.5,
                    "match": {"resources": ["pods", "deployments.apps"], "verbs": ["get", "list"]}},
        "throttle": {"retryAfterSeconds": 2, "every": 10, "match": {"namespaces": ["team-a"]}},
        "errors": {"code": 503, "rate": 0.25, "match": {"resources": ["apps/replicasets"]}},
        "dropWatches": {"afterMs": 30000, "match": {"resources": ["configmaps"]}}
    });
    let put = admin(
        &client,
        http::Method::PUT,
        "/localkube/v1/faults",
        Some(full.clone()),
    )
    .await
    .unwrap();
    assert_eq!(put, full);
    let got = admin(&client, http::Method::GET, "/localkube/v1/faults", None)
        .await
        .unwrap();
    assert_eq!(got, full);
    assert_eq!(server.faults().rules(), rules(full));

    // Defaults are filled in: 500 for errors, one second for Retry-After.
    let short = admin(
        &client,
        http::Method::POST,
        "/localkube/v1/faults",
        Some(json!({"errors": {}, "throttle": {"rate": 0.1}})),
    )
    .await
    .unwrap();
    assert_eq!(
        short,
        json!({"errors": {"code": 500}, "throttle": {"retryAfterSeconds": 1, "rate": 0.1}})
    );

    // Mistakes are 400s that say what is wrong, and change nothing.
    for (bad, says) in [
        (
            json!({"throttle": {"rate": 2}}),
            "throttle.rate must be between 0 and 1",
        ),
        (
            json!({"errors": {"code": 502}}),
            "errors.code must be 409, 500 or 503",
        ),
        (json!({"latncy": {"delayMs": 5}}), "unknown field `latncy`"),
    ] {
        let status = api_status(
            admin(
                &client,
                http::Method::PUT,
                "/localkube/v1/faults",
                Some(bad),
            )
            .await
            .unwrap_err(),
        );
        assert_eq!((status.code, status.reason.as_str()), (400, "BadRequest"));
        assert!(status.message.contains(says), "{}", status.message);
    }
    assert!(server.faults().rules().errors.is_some());

    let stats: FaultStats = serde_json::from_value(
        admin(
            &client,
            http::Method::GET,
            "/localkube/v1/faults/stats",
            None,
        )
        .await
        .unwrap(),
    )
    .unwrap();
    assert_eq!(stats, server.faults().stats());

    let cleared = admin(&client, http::Method::DELETE, "/localkube/v1/faults", None)
        .await
        .unwrap();
    assert_eq!(cleared, json!({}));
    assert_eq!(server.faults().rules(), FaultRules::default());

    let status = api_status(
        admin(
            &client,
            http::Method::GET,
            "/localkube/v1/faults/nope",
            None,
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(status.code, 404);
}

#[tokio::test]
async fn a_throttled_list_surfaces_429_with_retry_after_to_kube_rs() {
    let server = server().await;
    let client = client_without_retries(&server).await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    api.create(&PostParams::default(), &configmap("a"))
        .await
        .unwrap();
    server
        .faults()
        .set(rules(json!({"throttle": {
            "retryAfterSeconds": 7,
            "match": {"resources": ["configmaps"], "verbs": ["list"]}
        }})))
        .unwrap();

    let status = api_status(api.list(&ListParams::default()).await.unwrap_err());
    assert_eq!(
        (status.code, status.reason.as_str()),
        (429, "TooManyRequests")
    );
    assert_eq!(status.details.unwrap().retry_after_seconds, 7);

    let raw = client
        .send(
            http::Request::get("/api/v1/namespaces/default/configmaps")
                .body(kube::client::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(raw.status(), 429);
    assert_eq!(raw.headers()["retry-after"], "7");

    // Only lists were chosen: a get of the same resource goes through.
    api.get("a").await.unwrap();
    assert_eq!(server.faults().stats().throttled, 2);
}

#[tokio::test]
async fn kube_rs_retries_injected_429s_after_retry_after_and_503s_and_succeeds() {
    let server = server().await;
    let client = server.client().await.unwrap();
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    server
        .faults()
        .set(rules(json!({
            "throttle": {"retryAfterSeconds": 1, "every": 2,
                         "match": {"resources": ["configmaps"], "verbs": ["list"]}},
            "errors": {"code": 503, "every": 2,
                       "match": {"resources": ["configmaps"], "verbs": ["create"]}}
        })))
        .unwrap();
    let started = Instant::now();
    api.list(&ListParams::default()).await.unwrap();
    // The first attempt was throttled; kube-rs waited as told, then retried.
    assert!(started.elapsed() >= Duration::from_secs(1));
    api.create(&PostParams::default(), &configmap("after-503"))
        .await
        .unwrap();
    let stats = server.faults().stats();
    assert_eq!((stats.throttled, stats.errors), (1, 1));
}

#[tokio::test]
async fn injected_409_500_and_503_fail_only_the_chosen_resource() {
    let server = server().await;
    let client = client_without_retries(&server).await;
    let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "default");
    let namespaces: Api<Namespace> = Api::all(client.clone());

    for (code, reason) in [
        (500, "InternalError"),
        (503, "ServiceUnavailable"),
        (409, "Conflict"),
    ] {
        server
            .faults()
            .set(FaultRules {
                errors: Some(ErrorFault {
                    code,
                    rate: Some(1.0),
                    matches: Match {
                        resources: vec!["configmaps".into()],
                        ..Default::default()
                    },
                    ..Default::default()
                }),
                ..Default::default()
            })
            .unwrap();
        let status = api_status(configmaps.list(&ListParams::default()).await.unwrap_err());
        assert_eq!((status.code, status.reason.as_str()), (code, reason));
        let status = api_status(
            configmaps
                .create(&PostParams::default(), &configmap("x"))
                .await
                .unwrap_err(),
        );
        assert_eq!(status.code, code);
        if code == 409 {
            // As the API server words a lost optimistic-concurrency race.
            let status = api_status(configmaps.get("web").await.unwrap_err());
            assert!(
                status
                    .message
                    .starts_with("Operation cannot be fulfilled on configmaps \"web\": the object has been modified"),
                "{}",
                status.message
            );
        }
        secrets.list(&ListParams::default()).await.unwrap();
        namespaces.get("default").await.unwrap();
    }

    // A group-qualified resource picks that group's resource only.
    server
        .faults()
        .set(rules(
            json!({"errors": {"match": {"resources": ["deployments.apps"]}}}),
        ))
        .unwrap();
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let replicasets: Api<ReplicaSet> = Api::namespaced(client.clone(), "default");
    let status = api_status(deployments.list(&ListParams::default()).await.unwrap_err());
    assert_eq!(status.code, 500);
    replicasets.list(&ListParams::default()).await.unwrap();

    server.faults().clear();
    configmaps.list(&ListParams::default()).await.unwrap();
    deployments.list(&ListParams::default()).await.unwrap();
}

#[tokio::test]
async fn injected_latency_delays_matching_requests_by_at_least_the_delay() {
    let server = server().await;
    let client = server.client().await.unwrap();
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    server
        .faults()
        .set(rules(
            json!({"latency": {"delayMs": 300, "match": {"resources": ["configmaps"]}}}),
        ))
        .unwrap();
    let started = Instant::now();
    api.list(&ListParams::default()).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));

    server
        .faults()
        .set(rules(
            json!({"latency": {"delayMs": 200, "maxDelayMs": 400}}),
        ))
        .unwrap();
    let started = Instant::now();
    api.list(&ListParams::default()).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(server.faults().stats().delayed, 2);
}

#[tokio::test]
async fn a_watcher_whose_watch_is_dropped_resumes_without_relisting_and_keeps_delivering() {
    let server = server().await;
    let api: Api<ConfigMap> = Api::namespaced(server.client().await.unwrap(), "default");
    let (seen, task) = watch_configmaps(api.clone());
    wait_for("the watch to open", || {
        server.faults().stats().watches_open == 1
    })
    .await;
    api.create(&PostParams::default(), &configmap("before"))
        .await
        .unwrap();
    wait_for("before", || has(&seen, "before")).await;

    assert_eq!(server.faults().drop_watches(), 1);
    wait_for("the drop", || server.faults().stats().watches_dropped == 1).await;
    api.create(&PostParams::default(), &configmap("after"))
        .await
        .unwrap();
    wait_for("after", || has(&seen, "after")).await;
    wait_for("the watch to reopen", || {
        let s = server.faults().stats();
        s.watches_started == 2 && s.watches_open == 1
    })
    .await;
    let seen = seen.lock().unwrap();
    assert_eq!(seen.inits, 1, "resumed without re-listing: {seen:?}");
    assert_eq!(seen.names, ["before", "after"]);
    task.abort();
}

#[tokio::test]
async fn watches_dropped_every_few_hundred_milliseconds_resume_without_relisting() {
    let server = server().await;
    server
        .faults()
        .set(rules(
            json!({"dropWatches": {"afterMs": 300, "match": {"resources": ["configmaps"]}}}),
        ))
        .unwrap();
    let api: Api<ConfigMap> = Api::namespaced(server.client().await.unwrap(), "default");
    let (seen, task) = watch_configmaps(api.clone());
    for i in 0..4 {
        api.create(&PostParams::default(), &configmap(&format!("c{i}")))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    wait_for("every object", || {
        (0..4).all(|i| has(&seen, &format!("c{i}")))
    })
    .await;
    wait_for("several drops", || {
        server.faults().stats().watches_dropped >= 2
    })
    .await;
    let seen = seen.lock().unwrap();
    assert_eq!(seen.inits, 1, "resumed without re-listing: {seen:?}");
    task.abort();
}

#[tokio::test]
async fn drop_watches_over_http_cuts_only_the_matching_watches() {
    let server = server().await;
    let client = server.client().await.unwrap();
    let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "default");
    let mut cm_watch = configmaps
        .watch(&WatchParams::default(), "0")
        .await
        .unwrap()
        .boxed();
    let mut secret_watch = secrets
        .watch(&WatchParams::default(), "0")
        .await
        .unwrap()
        .boxed();
    assert_eq!(server.faults().stats().watches_open, 2);

    let answer = admin(
        &client,
        http::Method::POST,
        "/localkube/v1/faults/drop-watches",
        Some(json!({"resources": ["configmaps"]})),
    )
    .await
    .unwrap();
    assert_eq!(answer, json!({"openWatches": 2}));
    // The configmap watch ends (kube-rs reads the cut as the end of the stream).
    let ended = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(Ok(_)) = cm_watch.next().await {}
    })
    .await;
    assert!(ended.is_ok(), "the configmap watch was cut");

    let secret: Secret = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}
    }))
    .unwrap();
    secrets
        .create(&PostParams::default(), &secret)
        .await
        .unwrap();
    let ev = tokio::time::timeout(Duration::from_secs(20), secret_watch.try_next())
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(ev, Some(WatchEvent::Added(s)) if s.metadata.name.as_deref() == Some("s")));
    assert_eq!(server.faults().stats().watches_dropped, 1);
}

#[tokio::test]
async fn after_expire_old_versions_are_gone_and_a_watcher_relists_and_keeps_delivering() {
    // No bookmarks during the test: one could move the watcher's version
    // past the compaction before the drop reaches it.
    let server = LocalKube::start(Config {
        bookmark_interval: Duration::from_secs(3600),
        ..Config::default()
    })
    .await
    .unwrap();
    let client = server.client().await.unwrap();
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let old = api
        .create(&PostParams::default(), &configmap("old"))
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let (seen, task) = watch_configmaps(api.clone());
    wait_for("old", || has(&seen, "old")).await;
    wait_for("the watch to open", || {
        server.faults().stats().watches_open == 1
    })
    .await;

    let answer = admin(
        &client,
        http::Method::POST,
        "/localkube/v1/faults/expire",
        None,
    )
    .await
    .unwrap();
    let compacted: u64 = answer["compactedResourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(compacted > old.parse::<u64>().unwrap());

    // A raw watch from a version handed out before is 410 Gone.
    let mut raw = api
        .watch(&WatchParams::default(), &old)
        .await
        .unwrap()
        .boxed();
    match raw.try_next().await.unwrap() {
        Some(WatchEvent::Error(status)) => {
            assert_eq!((status.code, status.reason.as_str()), (410, "Expired"))
        }
        other => panic!("expected 410 Gone, got {other:?}"),
    }

    // The watcher was cut, got 410 re-watching, re-listed, and goes on.
    wait_for("a re-list", || seen.lock().unwrap().inits >= 2).await;
    api.create(&PostParams::default(), &configmap("new"))
        .await
        .unwrap();
    wait_for("new", || has(&seen, "new")).await;
    let seen = seen.lock().unwrap();
    assert!(
        seen.errors
            .iter()
            .any(|e| e.contains("410") || e.contains("too old")),
        "{seen:?}"
    );
    task.abort();
}

#[tokio::test]
async fn health_endpoints_and_the_admin_endpoint_are_never_faulted() {
    let server = server().await;
    let client = client_without_retries(&server).await;
    server
        .faults()
        .set(rules(json!({"errors": {}, "latency": {"delayMs": 1}})))
        .unwrap();
    for path in ["/healthz", "/readyz", "/livez"] {
        let text = client
            .request_text(http::Request::get(path).body(Vec::new()).unwrap())
            .await
            .unwrap();
        assert_eq!(text, "ok");
    }
    let status = api_status(client.apiserver_version().await.unwrap_err());
    assert_eq!(status.code, 500);
    admin(&client, http::Method::GET, "/localkube/v1/faults", None)
        .await
        .unwrap();
    admin(&client, http::Method::DELETE, "/localkube/v1/faults", None)
        .await
        .unwrap();
    client.apiserver_version().await.unwrap();
    assert_eq!(server.faults().stats().errors, 1);
}

#[tokio::test]
async fn with_tls_the_admin_endpoint_needs_the_bearer_token() {
    let server = LocalKube::start(Config {
        tls: true,
        ..Config::default()
    })
    .await
    .unwrap();
    let with_token = server.client().await.unwrap();
    admin(
        &with_token,
        http::Method::PUT,
        "/localkube/v1/faults",
        Some(json!({"errors": {"match": {"resources": ["secrets"]}}})),
    )
    .await
    .unwrap();

    let kubeconfig = kube::config::Kubeconfig::read_from(server.kubeconfig_path()).unwrap();
    let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .unwrap();
    config.auth_info = Default::default();
    let without_token = kube::Client::try_from(config).unwrap();
    for method in [http::Method::GET, http::Method::DELETE] {
        let status = api_status(
            admin(&without_token, method, "/localkube/v1/faults", None)
                .await
                .unwrap_err(),
        );
        assert_eq!(status.code, 401);
    }
    assert!(server.faults().rules().errors.is_some());
}
