//! A test world: localkube with its simulated controllers, Sextant's CRDs,
//! a Git repository on disk, and a controller, all in temp dirs. With
//! `SEXTANT_TEST_CLUSTER=real` the cluster is a real control plane
//! (sextant-testkit) with localkube's kubelet stand-in instead.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube::discovery::ApiResource;
use localkube::controllers::SimulationConfig;
use localkube::{Config, LocalKube};
use serde_json::{Value, json};
use sextant_controller::{Controller, ControllerConfig};
use sextant_model::Application;

pub const NS: &str = "sextant";

/// The cluster of the test profile.
pub enum Server {
    Local(LocalKube),
    Real(sextant_testkit::ControlPlane),
}

impl Server {
    /// localkube's fault injection; tests that use it run on localkube only
    /// (see `World::localkube_only`).
    pub fn faults(&self) -> &localkube::faults::Faults {
        match self {
            Server::Local(l) => l.faults(),
            Server::Real(_) => panic!("fault injection needs localkube"),
        }
    }
}

/// Whether the tests run against a real control plane.
pub fn real() -> bool {
    std::env::var("SEXTANT_TEST_CLUSTER").is_ok_and(|v| v == "real")
}

pub struct World {
    pub server: Server,
    pub client: kube::Client,
    pub dir: tempfile::TempDir,
    pub repo: PathBuf,
    pub controller: Option<Controller>,
}

pub use sextant_testkit::git;

pub fn deployment(name: &str, image: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: 1
  progressDeadlineSeconds: 2
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
      - name: main
        image: {image}
"
    )
}

pub fn configmap(name: &str, value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  key: \"{value}\"\n"
    )
}

impl World {
    pub async fn new() -> Self {
        // SEXTANT_LOG=debug shows the controller's reasoning when a test fails.
        if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_env("SEXTANT_LOG") {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_test_writer()
                .try_init();
        }
        let dir = tempfile::tempdir().unwrap();
        let simulation = SimulationConfig {
            pod_start_delay: Duration::from_millis(50),
            pod_ready_delay: Duration::from_millis(50),
            ..SimulationConfig::default()
        };
        let (server, client) = if real() {
            let mut cp = sextant_testkit::ControlPlane::start().await;
            let stand_in =
                localkube::controllers::StandIn::start(cp.kubeconfig(), simulation).unwrap();
            cp.attach(stand_in);
            let client = cp.client().await;
            (Server::Real(cp), client)
        } else {
            let server = LocalKube::start(Config {
                listen: "127.0.0.1:0".parse().unwrap(),
                kubeconfig: Some(dir.path().join("kubeconfig")),
                simulation,
                ..Config::default()
            })
            .await
            .unwrap();
            let client = server.client().await.unwrap();
            (Server::Local(server), client)
        };
        let crds = ApiResource::erase::<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition>(&());
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &crds);
        for crd in sextant_model::crd::all() {
            let v = serde_json::to_value(&crd).unwrap();
            let obj: DynamicObject = serde_json::from_value(v).unwrap();
            api.create(&PostParams::default(), &obj).await.unwrap();
        }
        // A real API server serves a CRD's kind only once it is Established.
        for crd in sextant_model::crd::all() {
            let name = crd["metadata"]["name"].as_str().unwrap().to_string();
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                let v = serde_json::to_value(api.get(&name).await.unwrap()).unwrap();
                let established = v["status"]["conditions"].as_array().is_some_and(|cs| {
                    cs.iter()
                        .any(|c| c["type"] == "Established" && c["status"] == "True")
                });
                if established {
                    break;
                }
                assert!(Instant::now() < deadline, "CRD {name} was not established");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        let nss: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
        nss.create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": NS}})).unwrap(),
        )
        .await
        .unwrap();
        let repo = dir.path().join("repo");
        std::fs::create_dir_all(&repo).unwrap();
        git(&repo, &["init", "-q", "-b", "main"]);
        Self {
            server,
            client,
            dir,
            repo,
            controller: None,
        }
    }

    /// The admin kubeconfig of the cluster, for kubectl (either profile).
    pub fn kubeconfig(&self) -> PathBuf {
        match &self.server {
            Server::Local(_) => self.dir.path().join("kubeconfig"),
            Server::Real(cp) => cp.kubeconfig().to_path_buf(),
        }
    }

    /// True (and says why) when the test needs localkube (fault
    /// injection) and the profile is the real control plane.
    pub fn localkube_only(&self, why: &str) -> bool {
        let skip = matches!(self.server, Server::Real(_));
        if skip {
            eprintln!("runs on localkube only: {why}");
        }
        skip
    }

    pub fn config(&self) -> ControllerConfig {
        let mut c = ControllerConfig::new(NS, self.dir.path().join("cache"));
        c.repo_poll_interval = Duration::from_millis(500);
        c.self_heal_delay = Duration::from_millis(300);
        c.workers = 4;
        c
    }

    pub async fn start_controller(&mut self) {
        self.start_controller_with(|_| {}).await;
    }

    pub async fn start_controller_with(&mut self, tweak: impl FnOnce(&mut ControllerConfig)) {
        let mut config = self.config();
        tweak(&mut config);
        let c = Controller::start(self.client.clone(), config)
            .await
            .unwrap();
        self.controller = Some(c);
    }

    /// Stop the controller as a crash would: no chance to finish.
    pub fn kill_controller(&mut self) {
        drop(self.controller.take());
    }

    pub async fn stop_controller(&mut self) {
        if let Some(c) = self.controller.take() {
            c.shutdown().await;
        }
    }

    /// Write files (path, text; empty text deletes) and commit; returns the commit.
    pub fn commit(&self, files: &[(&str, &str)], message: &str) -> String {
        for (path, text) in files {
            let p = self.repo.join(path);
            if text.is_empty() {
                let _ = std::fs::remove_file(&p);
            } else {
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(&p, text).unwrap();
            }
        }
        git(&self.repo, &["add", "-A"]);
        git(
            &self.repo,
            &["commit", "-q", "--allow-empty", "-m", message],
        );
        git(&self.repo, &["rev-parse", "HEAD"])
    }

    pub fn controller(&self) -> &Controller {
        self.controller.as_ref().expect("the controller runs")
    }

    pub fn apps(&self) -> Api<Application> {
        Api::namespaced(self.client.clone(), NS)
    }

    /// Create an app deploying `path` to namespace `dest`.
    pub async fn create_app(&self, name: &str, path: &str, dest: &str, policy: Value) {
        self.create_app_at(name, path, dest, policy, "main").await;
    }

    /// Create an app following `revision`.
    pub async fn create_app_at(
        &self,
        name: &str,
        path: &str,
        dest: &str,
        policy: Value,
        revision: &str,
    ) {
        let repo = format!("file://{}", self.repo.display());
        self.create_app_from(name, &repo, path, dest, policy, revision)
            .await;
    }

    /// An app on `repo_url` (any URL, e.g. an HTTP server's).
    pub async fn create_app_from(
        &self,
        name: &str,
        repo_url: &str,
        path: &str,
        dest: &str,
        policy: Value,
        revision: &str,
    ) {
        let app = json!({
            "apiVersion": "sextant.dev/v1alpha1",
            "kind": "Application",
            "metadata": {"name": name, "namespace": NS},
            "spec": {
                "project": "default",
                "source": {"repoURL": repo_url, "path": path, "targetRevision": revision},
                "destination": {"server": "https://kubernetes.default.svc", "namespace": dest},
                "syncPolicy": policy,
            }
        });
        let app: Application = serde_json::from_value(app).unwrap();
        self.apps()
            .create(&PostParams::default(), &app)
            .await
            .unwrap();
    }

    pub async fn app(&self, name: &str) -> Application {
        self.apps().get(name).await.unwrap()
    }

    /// Wait until `check` holds for the app (fails the test after `secs`).
    pub async fn wait_app(
        &self,
        name: &str,
        secs: u64,
        what: &str,
        check: impl Fn(&Application) -> bool,
    ) -> Application {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let app = self.apps().get(name).await.unwrap();
            if check(&app) {
                return app;
            }
            if Instant::now() > deadline {
                panic!(
                    "app {name}: timed out waiting for {what}; status: {}",
                    serde_json::to_string_pretty(&app.status).unwrap()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn wait_synced_healthy(&self, name: &str, revision: &str) -> Application {
        self.wait_app(name, 120, &format!("Synced+Healthy at {revision}"), |a| {
            sync_status(a) == "Synced" && health(a) == "Healthy" && synced_revision(a) == revision
        })
        .await
    }

    /// Write an operation, as `sextant app sync` or kubectl would.
    pub async fn request_sync(&self, name: &str, sync: Value) {
        let patch = json!({"operation": {"sync": sync, "initiatedBy": {"username": "tester"}}});
        self.apps()
            .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .unwrap();
    }

    pub fn api(
        &self,
        api_version: &str,
        kind: &str,
        plural: &str,
        ns: Option<&str>,
    ) -> Api<DynamicObject> {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let ar = ApiResource {
            group: group.into(),
            version: version.into(),
            api_version: api_version.into(),
            kind: kind.into(),
            plural: plural.into(),
        };
        match ns {
            Some(ns) => Api::namespaced_with(self.client.clone(), ns, &ar),
            None => Api::all_with(self.client.clone(), &ar),
        }
    }

    pub async fn deployment(&self, ns: &str, name: &str) -> Option<Value> {
        let api = self.api("apps/v1", "Deployment", "deployments", Some(ns));
        api.get_opt(name)
            .await
            .unwrap()
            .map(|d| serde_json::to_value(d).unwrap())
    }

    pub async fn configmap(&self, ns: &str, name: &str) -> Option<Value> {
        let api = self.api("v1", "ConfigMap", "configmaps", Some(ns));
        api.get_opt(name)
            .await
            .unwrap()
            .map(|d| serde_json::to_value(d).unwrap())
    }

    /// The reasons of the Events recorded on an app, oldest first.
    pub async fn event_reasons(&self, app: &str) -> Vec<String> {
        let api: Api<k8s_openapi::api::core::v1::Event> = Api::namespaced(self.client.clone(), NS);
        let mut events: Vec<_> = api
            .list(&Default::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .filter(|e| e.involved_object.name.as_deref() == Some(app))
            .collect();
        events.sort_by_key(|e| {
            e.metadata
                .resource_version
                .clone()
                .unwrap_or_default()
                .parse::<u64>()
                .unwrap_or(0)
        });
        events.into_iter().filter_map(|e| e.reason).collect()
    }
}

pub fn sync_status(a: &Application) -> String {
    a.status
        .as_ref()
        .and_then(|s| s.sync.as_ref())
        .map(|s| s.status.clone())
        .unwrap_or_default()
}

pub fn synced_revision(a: &Application) -> String {
    a.status
        .as_ref()
        .and_then(|s| s.sync.as_ref())
        .and_then(|s| s.revision.clone())
        .unwrap_or_default()
}

pub fn health(a: &Application) -> String {
    a.status
        .as_ref()
        .and_then(|s| s.health.as_ref())
        .map(|h| h.status.clone())
        .unwrap_or_default()
}

pub fn op_phase(a: &Application) -> String {
    a.status
        .as_ref()
        .and_then(|s| s.operation_state.as_ref())
        .map(|o| o.phase.clone())
        .unwrap_or_default()
}

pub fn condition(a: &Application, type_: &str) -> Option<String> {
    a.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_)
        .map(|c| c.message.clone())
}

pub fn image_of(d: &Value) -> String {
    d["spec"]["template"]["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

pub fn automated(prune: bool, self_heal: bool) -> Value {
    json!({"automated": {"prune": prune, "selfHeal": self_heal}, "syncOptions": ["CreateNamespace=true"]})
}

pub fn manual() -> Value {
    json!({"syncOptions": ["CreateNamespace=true"]})
}
