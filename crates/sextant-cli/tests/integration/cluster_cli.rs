//! `sextant cluster add|list|get|rm` between two localkube instances: the
//! Secret it writes is the one the controller reads, credentials are
//! checked against the cluster before they are saved, and never printed.

use std::process::Output;

use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::Api;
use kube::api::PostParams;
use localkube::{Config, LocalKube};
use serde_json::{Value, json};
use sextant_cluster::ClusterCredentials;

async fn localkube(tls: bool) -> LocalKube {
    let mut config = Config {
        tls,
        ..Config::default()
    };
    config.simulation.enabled = false;
    LocalKube::start(config).await.unwrap()
}

async fn run(home: &LocalKube, tmp: &std::path::Path, args: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_sextant"))
        .arg("cluster")
        .args(args)
        .arg("--kubeconfig")
        .arg(home.kubeconfig_path())
        .env_remove("KUBECONFIG")
        .env_remove("SEXTANT_NAMESPACE")
        .env("HOME", tmp)
        .output()
        .await
        .unwrap()
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_add_writes_the_secret_the_controller_reads() {
    let home = localkube(false).await;
    let target = localkube(true).await;
    let tmp = tempfile::tempdir().unwrap();
    let client = home.client().await.unwrap();
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "sextant"}})).unwrap(),
        )
        .await
        .unwrap();
    let target_kc = target.kubeconfig_path().to_str().unwrap().to_owned();
    let target_text = std::fs::read_to_string(&target_kc).unwrap();
    let token = target_text
        .lines()
        .find_map(|l| l.trim().strip_prefix("token: "))
        .unwrap()
        .to_owned();

    let out = run(
        &home,
        tmp.path(),
        &[
            "add",
            "localkube",
            "--target-kubeconfig",
            &target_kc,
            "--name",
            "east",
        ],
    )
    .await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("cluster east")
            && stdout.contains("token credentials")
            && stdout.contains("added"),
        "{stdout}"
    );
    assert!(
        !stdout.contains(&token) && !stderr.contains(&token),
        "the token is never printed"
    );
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "sextant");
    let secret = secrets.get("cluster-east").await.unwrap();
    assert_eq!(
        secret
            .metadata
            .labels
            .as_ref()
            .unwrap()
            .get("sextant.dev/secret-type")
            .map(String::as_str),
        Some("cluster")
    );
    let saved = ClusterCredentials::from_secret(&secret).unwrap();
    assert_eq!(saved.name, "east");
    assert_eq!(saved.server, target.url().trim_end_matches('/'));
    assert_eq!(saved.config.bearer_token.as_deref(), Some(token.as_str()));
    assert!(
        saved
            .config
            .tls_client_config
            .as_ref()
            .unwrap()
            .ca_data
            .is_some()
    );
    // The saved credentials work.
    let c = saved
        .client(std::time::Duration::from_secs(5))
        .await
        .unwrap();
    c.apiserver_version().await.unwrap();

    // Twice: refused without --upsert.
    let out = run(
        &home,
        tmp.path(),
        &[
            "add",
            "localkube",
            "--target-kubeconfig",
            &target_kc,
            "--name",
            "east",
        ],
    )
    .await;
    assert!(!out.status.success());
    assert!(text(&out).1.contains("--upsert"));
    let out = run(
        &home,
        tmp.path(),
        &[
            "add",
            "localkube",
            "--target-kubeconfig",
            &target_kc,
            "--name",
            "east",
            "--upsert",
            "--namespaces",
            "a,b",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out).1);
    assert_eq!(
        ClusterCredentials::from_secret(&secrets.get("cluster-east").await.unwrap())
            .unwrap()
            .namespaces,
        vec!["a", "b"]
    );

    // A cluster that does not answer is not saved.
    let dead = tmp.path().join("dead.yaml");
    std::fs::write(
        &dead,
        localkube::kubeconfig_yaml("http://127.0.0.1:1", None, None),
    )
    .unwrap();
    let out = run(
        &home,
        tmp.path(),
        &[
            "add",
            "localkube",
            "--target-kubeconfig",
            dead.to_str().unwrap(),
            "--name",
            "dead",
        ],
    )
    .await;
    assert!(!out.status.success());
    assert!(text(&out).1.contains("did not answer"), "{}", text(&out).1);
    assert!(secrets.get_opt("cluster-dead").await.unwrap().is_none());

    // list, get, rm.
    let out = run(&home, tmp.path(), &["list"]).await;
    let (stdout, _) = text(&out);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[1].starts_with("in-cluster") && lines[2].starts_with("east"),
        "{stdout}"
    );
    assert!(!stdout.contains(&token));
    let out = run(&home, tmp.path(), &["get", "east", "-o", "json"]).await;
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["auth"], "token");
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&token));
    let out = run(&home, tmp.path(), &["rm", target.url()]).await;
    assert!(out.status.success(), "{}", text(&out).1);
    assert!(secrets.get_opt("cluster-east").await.unwrap().is_none());
    let out = run(&home, tmp.path(), &["get", "east"]).await;
    assert!(text(&out).1.contains("no cluster named or at east"));
}

/// Whether the tests run against a real control plane.
fn real() -> bool {
    std::env::var("SEXTANT_TEST_CLUSTER").is_ok_and(|v| v == "real")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_add_with_a_service_account_saves_its_token_not_the_admins() {
    let home = localkube(false).await;
    let tmp = tempfile::tempdir().unwrap();
    let client = home.client().await.unwrap();
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "sextant"}})).unwrap(),
        )
        .await
        .unwrap();
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "sextant");
    // A real API server (kube-controller-manager fills token Secrets); on
    // localkube, which issues no ServiceAccount tokens, the clear refusal.
    let (plane, local_target) = if real() {
        (Some(sextant_testkit::ControlPlane::start().await), None)
    } else {
        (None, Some(localkube(true).await))
    };
    let target_kc = match (&plane, &local_target) {
        (Some(p), _) => p.kubeconfig().to_owned(),
        (_, Some(l)) => l.kubeconfig_path().to_owned(),
        _ => unreachable!(),
    };
    let kc_text = std::fs::read_to_string(&target_kc).unwrap();
    let context = kc_text
        .lines()
        .find_map(|l| l.strip_prefix("current-context: "))
        .unwrap()
        .trim()
        .to_owned();
    let out = run(
        &home,
        tmp.path(),
        &[
            "add",
            &context,
            "--target-kubeconfig",
            target_kc.to_str().unwrap(),
            "--name",
            "target",
            "--service-account",
            "--token-wait",
            "3s",
        ],
    )
    .await;
    let (stdout, stderr) = text(&out);
    match &plane {
        Some(plane) => {
            assert!(out.status.success(), "{stderr}");
            assert!(stdout.contains("token credentials"), "{stdout}");
            let saved =
                ClusterCredentials::from_secret(&secrets.get("cluster-target").await.unwrap())
                    .unwrap();
            let admin = ClusterCredentials::from_kubeconfig(&kc_text, None, None).unwrap();
            assert_ne!(
                saved.config.bearer_token, admin.config.bearer_token,
                "the ServiceAccount's token, not the admin's"
            );
            assert!(
                saved
                    .config
                    .tls_client_config
                    .as_ref()
                    .and_then(|t| t.cert_data.as_ref())
                    .is_none()
            );
            // The token works and has the rights the controller needs.
            let c = saved
                .client(std::time::Duration::from_secs(5))
                .await
                .unwrap();
            let all: Api<Namespace> = Api::all(c);
            assert!(
                all.list(&Default::default())
                    .await
                    .unwrap()
                    .items
                    .iter()
                    .any(|n| n.metadata.name.as_deref() == Some("kube-system"))
            );
            let sa: Api<k8s_openapi::api::core::v1::ServiceAccount> =
                Api::namespaced(plane.client().await, "kube-system");
            assert!(sa.get_opt("sextant-manager").await.unwrap().is_some());
        }
        None => {
            assert!(!out.status.success(), "{stdout}");
            assert!(
                stderr.contains(
                    "did not put a token into Secret kube-system/sextant-manager-token within 3s"
                ),
                "{stderr}"
            );
            assert!(
                secrets.get_opt("cluster-target").await.unwrap().is_none(),
                "nothing saved"
            );
        }
    }
}
