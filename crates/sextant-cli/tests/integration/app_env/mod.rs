//! The test environment of the `sextant app` CLI tests: an in-process
//! localkube with the Sextant CRDs, the real binary pointed at it, and a
//! stand-in for the controller where a verb needs one (`play_sync`).

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::GroupVersionKind;
use localkube::{Config, LocalKube};
use serde_json::{Value, json};
use sextant_model::Application;
use sextant_testkit::git;

pub const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

/// A localkube (simulation off), a temp dir, and the Applications API.
pub struct Env {
    pub server: LocalKube,
    pub tmp: tempfile::TempDir,
    pub apps: Api<Application>,
}

pub fn resource(group: &str, version: &str, kind: &str, plural: &str) -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural)
}

pub async fn start(crds: bool) -> Env {
    let mut config = Config::default();
    config.simulation.enabled = false;
    let server = LocalKube::start(config).await.unwrap();
    let client = server.client().await.unwrap();
    if crds {
        let crd_api: Api<DynamicObject> = Api::all_with(
            client.clone(),
            &resource(
                "apiextensions.k8s.io",
                "v1",
                "CustomResourceDefinition",
                "customresourcedefinitions",
            ),
        );
        for crd in sextant_model::crd::all() {
            crd_api
                .create(
                    &PostParams::default(),
                    &serde_json::from_value(crd).unwrap(),
                )
                .await
                .unwrap();
        }
    }
    let env = Env {
        apps: Api::namespaced(client, "sextant"),
        server,
        tmp: tempfile::tempdir().unwrap(),
    };
    env.namespace("sextant").await;
    env
}

pub async fn env() -> Env {
    start(true).await
}

impl Env {
    pub fn client(&self) -> kube::Client {
        self.apps.clone().into_client()
    }

    pub async fn namespace(&self, name: &str) {
        let ns: Api<DynamicObject> = Api::all_with(
            self.client(),
            &resource("", "v1", "Namespace", "namespaces"),
        );
        ns.create(
            &PostParams::default(),
            &serde_json::from_value(json!({
                "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}
            }))
            .unwrap(),
        )
        .await
        .unwrap();
    }

    /// `sextant app ARGS --kubeconfig FILE`, with a clean environment.
    pub fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_sextant"));
        cmd.arg("app")
            .args(args)
            .arg("--kubeconfig")
            .arg(self.server.kubeconfig_path())
            .env_remove("KUBECONFIG")
            .env_remove("SEXTANT_NAMESPACE")
            .env_remove("SEXTANT_SYSTEM_IGNORE_DIFFERENCES")
            .env("HOME", self.tmp.path())
            .env("USER", "tester")
            .env("SEXTANT_CACHE_DIR", self.tmp.path().join("cache"))
            .kill_on_drop(true);
        cmd
    }

    pub async fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().await.unwrap()
    }

    /// An Application in `sextant` with this spec (and metadata extras).
    pub async fn app(&self, name: &str, spec: Value, metadata: Value) -> Application {
        let mut meta = json!({"name": name, "namespace": "sextant"});
        if let (Some(m), Some(extra)) = (meta.as_object_mut(), metadata.as_object()) {
            m.extend(extra.clone());
        }
        let app: Application = serde_json::from_value(json!({
            "apiVersion": "sextant.dev/v1alpha1",
            "kind": "Application",
            "metadata": meta,
            "spec": spec,
        }))
        .unwrap();
        self.apps
            .create(&PostParams::default(), &app)
            .await
            .unwrap()
    }

    /// Merge `status` into the app's status (status subresource).
    pub async fn status(&self, name: &str, status: Value) {
        self.apps
            .patch_status(
                name,
                &PatchParams::default(),
                &Patch::Merge(json!({ "status": status })),
            )
            .await
            .unwrap();
    }

    /// How many watches the server has opened so far (the CLI's follow
    /// and wait commands watch the app).
    pub fn watches_started(&self) -> u64 {
        self.server.faults().stats().watches_started
    }

    pub async fn get(&self, name: &str) -> Application {
        self.apps.get(name).await.unwrap()
    }
}

pub fn spec() -> Value {
    json!({
        "project": "default",
        "source": {"repoURL": "https://git.example.invalid/deploy.git", "path": "apps/web", "targetRevision": "HEAD"},
        "destination": {"server": "https://kubernetes.default.svc", "namespace": "shop"},
    })
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn show(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    )
}

/// The rows of a table printed on stdout, each split into words.
pub fn rows(out: &Output) -> Vec<Vec<String>> {
    text(&out.stdout)
        .lines()
        .map(|l| l.split_whitespace().map(str::to_owned).collect())
        .collect()
}

/// Poll until `f` returns Some (at most 30 s).
pub async fn eventually<T, F, Fut>(mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..600 {
        if let Some(t) = f().await {
            return t;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("condition not reached in 30 s");
}

/// One step of a played sync: phase, message, per-object results.
pub struct Step {
    pub phase: &'static str,
    pub message: &'static str,
    pub resources: Value,
}

/// Play the controller for one operation on `name`: wait for it and for
/// the CLI to watch the app (so it sees every step), report each step in
/// `status.operationState` (a pause between steps), then clear
/// `operation`. Returns the operation as the CLI wrote it.
pub async fn play_sync(env: &Env, name: &str, steps: Vec<Step>) -> Value {
    let apps = &env.apps;
    let watching = env.watches_started() + 1;
    let op = eventually(|| async move {
        let app = apps.get(name).await.unwrap();
        app.operation.map(|op| serde_json::to_value(op).unwrap())
    })
    .await;
    eventually(|| async { (env.watches_started() >= watching).then_some(()) }).await;
    for step in steps {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let terminal = step.phase != "Running";
        let mut state = json!({
            "operation": op,
            "phase": step.phase,
            "message": step.message,
            "startedAt": "2025-01-01T00:00:00Z",
            "syncResult": {"revision": COMMIT, "resources": step.resources},
        });
        if terminal {
            state["finishedAt"] = json!("2025-01-01T00:00:05Z");
        }
        apps.patch_status(
            name,
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"operationState": state}})),
        )
        .await
        .unwrap();
        if terminal {
            apps.patch(
                name,
                &PatchParams::default(),
                &Patch::Merge(json!({"operation": null})),
            )
            .await
            .unwrap();
        }
    }
    op
}

pub fn result(kind: &str, name: &str, status: &str, message: &str) -> Value {
    json!({"group": if kind == "Deployment" {"apps"} else {""}, "version": "v1", "kind": kind,
           "namespace": "shop", "name": name, "status": status, "message": message})
}

// ---------------------------------------------------------------- create

pub fn config_map(name: &str, color: &str, ignored: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  color: {color}\n  ignored: {ignored}\n"
    )
}

/// A repository whose first commit has color blue and whose second has
/// red; returns (repo, first commit).
pub fn repo(root: &Path) -> (PathBuf, String) {
    let repo = root.join("repo");
    std::fs::create_dir_all(repo.join("apps/web")).unwrap();
    std::fs::write(
        repo.join("apps/web/config.yaml"),
        config_map("web-config", "blue", "a"),
    )
    .unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "blue"]);
    let first = git(&repo, &["rev-parse", "HEAD"]);
    std::fs::write(
        repo.join("apps/web/config.yaml"),
        config_map("web-config", "red", "a"),
    )
    .unwrap();
    git(&repo, &["commit", "-q", "-am", "red"]);
    (repo, first)
}

/// Server-side apply a ConfigMap into `shop` as the controller would.
pub async fn live(env: &Env, name: &str, color: &str, tracking: &str) {
    let api: Api<DynamicObject> = Api::namespaced_with(
        env.client(),
        "shop",
        &resource("", "v1", "ConfigMap", "configmaps"),
    );
    let mut obj: Value = serde_yaml_ng::from_str(&config_map(name, color, "b")).unwrap();
    obj["metadata"]["namespace"] = json!("shop");
    obj["metadata"]["annotations"] = json!({"sextant.dev/tracking-id": tracking});
    api.patch(
        name,
        &PatchParams::apply("sextant").force(),
        &Patch::Apply(&obj),
    )
    .await
    .unwrap();
}
