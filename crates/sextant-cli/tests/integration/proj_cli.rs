//! `sextant proj` against an in-process localkube: each verb changes the
//! AppProject as the controller reads it, refuses what it cannot do with a
//! reason, and `proj windows list` says which windows are open.

use std::process::Output;

use k8s_openapi::api::core::v1::Namespace;
use kube::Api;
use kube::api::{ApiResource, DynamicObject, PostParams};
use localkube::{Config, LocalKube};
use serde_json::{Value, json};
use sextant_model::AppProject;

struct Env {
    server: LocalKube,
    tmp: tempfile::TempDir,
    projects: Api<AppProject>,
    client: kube::Client,
}

async fn env() -> Env {
    let mut config = Config::default();
    config.simulation.enabled = false;
    let server = LocalKube::start(config).await.unwrap();
    let client = server.client().await.unwrap();
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "sextant"}})).unwrap(),
        )
        .await
        .unwrap();
    let crds: Api<DynamicObject> = Api::all_with(
        client.clone(),
        &ApiResource::from_gvk_with_plural(
            &kube::core::GroupVersionKind::gvk(
                "apiextensions.k8s.io",
                "v1",
                "CustomResourceDefinition",
            ),
            "customresourcedefinitions",
        ),
    );
    for crd in sextant_model::crd::all() {
        crds.create(
            &PostParams::default(),
            &serde_json::from_value(crd).unwrap(),
        )
        .await
        .unwrap();
    }
    Env {
        projects: Api::namespaced(client.clone(), "sextant"),
        client,
        server,
        tmp: tempfile::tempdir().unwrap(),
    }
}

impl Env {
    async fn run(&self, args: &[&str]) -> Output {
        self.sextant("proj", args).await
    }

    async fn sextant(&self, command: &str, args: &[&str]) -> Output {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_sextant"))
            .arg(command)
            .args(args)
            .arg("--kubeconfig")
            .arg(self.server.kubeconfig_path())
            .env_remove("KUBECONFIG")
            .env_remove("SEXTANT_NAMESPACE")
            .env("HOME", self.tmp.path())
            .output()
            .await
            .unwrap()
    }

    /// Run and expect success; its stdout.
    async fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args).await;
        assert!(
            out.status.success(),
            "sextant proj {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Run and expect failure; its stderr.
    async fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args).await;
        assert!(!out.status.success(), "sextant proj {args:?} succeeded");
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    async fn spec(&self, name: &str) -> Value {
        serde_json::to_value(self.projects.get(name).await.unwrap().spec).unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proj_verbs_change_the_project_the_controller_reads() {
    let env = env().await;
    let out = env
        .ok(&[
            "create",
            "team",
            "--description",
            "team A",
            "--src",
            "https://git.example.com/team-a/*",
            "--dest",
            "https://kubernetes.default.svc,team-a-*",
            "--allow-cluster-resource",
            "/Namespace",
        ])
        .await;
    assert!(out.contains("project team created"), "{out}");
    let spec = env.spec("team").await;
    assert_eq!(
        spec["sourceRepos"],
        json!(["https://git.example.com/team-a/*"])
    );
    assert_eq!(
        spec["destinations"],
        json!([{"server": "https://kubernetes.default.svc", "namespace": "team-a-*"}])
    );
    assert_eq!(
        spec["clusterResourceWhitelist"],
        json!([{"group": "", "kind": "Namespace"}])
    );
    assert!(env.fails(&["create", "team"]).await.contains("--upsert"));

    env.ok(&[
        "add-source",
        "team",
        "!https://git.example.com/team-a/secret*",
    ])
    .await;
    let again = env
        .ok(&[
            "add-source",
            "team",
            "!https://git.example.com/team-a/secret*",
        ])
        .await;
    assert!(again.contains("nothing changed"), "{again}");
    env.ok(&["add-destination", "team", "staging", "*", "--name"])
        .await;
    env.ok(&[
        "deny-namespace-resource",
        "team",
        "",
        "Secret",
        "--list",
        "black",
    ])
    .await;
    env.ok(&["deny-cluster-resource", "team", "", "Namespace"])
        .await;
    env.ok(&[
        "add-orphaned-ignore",
        "team",
        "",
        "ConfigMap",
        "--name",
        "kube-root-ca.crt",
    ])
    .await;
    let spec = env.spec("team").await;
    assert_eq!(
        spec["sourceRepos"][1],
        "!https://git.example.com/team-a/secret*"
    );
    assert_eq!(
        spec["destinations"][1],
        json!({"name": "staging", "namespace": "*"})
    );
    assert_eq!(
        spec["namespaceResourceBlacklist"],
        json!([{"group": "", "kind": "Secret"}])
    );
    assert!(spec.get("clusterResourceWhitelist").is_none(), "{spec}");
    assert_eq!(
        spec["orphanedResources"]["ignore"],
        json!([{"group": "", "kind": "ConfigMap", "name": "kube-root-ca.crt"}])
    );

    // Windows: added (checked first), listed with their state, changed.
    let bad = env
        .fails(&[
            "windows",
            "add",
            "team",
            "--kind",
            "deny",
            "--schedule",
            "at night",
            "--duration",
            "1h",
            "--applications",
            "*",
        ])
        .await;
    assert!(bad.contains("cron"), "{bad}");
    env.ok(&[
        "windows",
        "add",
        "team",
        "--kind",
        "deny",
        "--schedule",
        "* * * * *",
        "--duration",
        "1h",
        "--applications",
        "web,api",
    ])
    .await;
    env.ok(&[
        "windows",
        "add",
        "team",
        "--kind",
        "allow",
        "--schedule",
        "0 0 1 1 *",
        "--duration",
        "1m",
        "--namespaces",
        "team-a-*",
        "--time-zone",
        "Europe/Paris",
    ])
    .await;
    env.ok(&["windows", "enable-manual-sync", "team", "0"])
        .await;
    let table = env.ok(&["windows", "list", "team"]).await;
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("ID") && lines[0].contains("STATUS"),
        "{table}"
    );
    assert!(
        lines[1].contains("Active") && lines[1].contains("web,api") && lines[1].contains("Enabled"),
        "{table}"
    );
    assert!(
        lines[2].contains("Inactive")
            && lines[2].contains("Europe/Paris")
            && lines[2].contains("opens 20"),
        "{table}"
    );
    let json_out: Value =
        serde_json::from_str(&env.ok(&["windows", "list", "team", "-o", "json"]).await).unwrap();
    assert_eq!(json_out[0]["active"], true);
    assert_eq!(json_out[0]["manualSync"], true);
    assert!(
        json_out[1]["opensAt"]
            .as_str()
            .unwrap()
            .contains("T23:00:00Z")
    );
    env.ok(&["windows", "update", "team", "1", "--duration", "2h"])
        .await;
    assert_eq!(env.spec("team").await["syncWindows"][1]["duration"], "2h");
    let missing = env.fails(&["windows", "delete", "team", "5"]).await;
    assert!(missing.contains("0 to 1"), "{missing}");
    env.ok(&["windows", "delete", "team", "0"]).await;
    assert_eq!(
        env.spec("team").await["syncWindows"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // get and list.
    let shown = env.ok(&["get", "team"]).await;
    assert!(
        shown.contains("team A")
            && shown.contains("Sync windows:")
            && shown.contains("enabled (warn: true, ignored: 1)"),
        "{shown}"
    );
    let listed = env.ok(&["list"]).await;
    assert!(
        listed.lines().nth(1).is_some_and(|l| l.starts_with("team")),
        "{listed}"
    );

    // A project in use is not deleted; an unused one is.
    let apps: Api<sextant_model::Application> = Api::namespaced(env.client.clone(), "sextant");
    apps.create(
        &PostParams::default(),
        &serde_json::from_value(json!({
            "apiVersion": "sextant.dev/v1alpha1", "kind": "Application",
            "metadata": {"name": "web", "namespace": "sextant"},
            "spec": {"project": "team",
                     "source": {"repoURL": "https://git.example.com/team-a/web", "path": "."},
                     "destination": {"server": "https://kubernetes.default.svc", "namespace": "team-a-web"}},
        }))
        .unwrap(),
    )
    .await
    .unwrap();
    // `app get` says what the project's windows mean for the app now.
    let got = env.sextant("app", &["get", "web"]).await;
    let shown = String::from_utf8_lossy(&got.stdout);
    assert!(
        got.status.success(),
        "{}",
        String::from_utf8_lossy(&got.stderr)
    );
    assert!(
        shown.contains("Sync Window:   Sync Denied: sync blocked outside allow window 0"),
        "{shown}"
    );
    let used = env.fails(&["delete", "team"]).await;
    assert!(used.contains("used by 1 Application(s): web"), "{used}");
    apps.delete("web", &Default::default()).await.unwrap();
    env.ok(&["delete", "team"]).await;
    assert!(env.projects.get_opt("team").await.unwrap().is_none());
    assert!(env.fails(&["get", "team"]).await.contains("does not exist"));

    // From a manifest.
    let file = env.tmp.path().join("p.yaml");
    std::fs::write(
        &file,
        "apiVersion: sextant.dev/v1alpha1\nkind: AppProject\nmetadata:\n  name: from-file\nspec:\n  sourceRepos: ['*']\n  syncWindows:\n  - kind: deny\n    schedule: '0 22 * * *'\n    duration: 1h\n    clusters: ['*']\n",
    )
    .unwrap();
    env.ok(&["create", "-f", file.to_str().unwrap()]).await;
    assert_eq!(
        env.spec("from-file").await["syncWindows"][0]["schedule"],
        "0 22 * * *"
    );
}
