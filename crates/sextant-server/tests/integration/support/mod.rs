//! A test world for the API server: a cluster (localkube with its
//! simulated controllers, or with `SEXTANT_TEST_CLUSTER=real` a real
//! control plane with the kubelet stand-in), Sextant's CRDs, the
//! `sextant` namespace, a Git repository in a temp dir, the server on a
//! free loopback port (plain HTTP), and an HTTP client. A controller is
//! started only by tests that need one.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube::discovery::ApiResource;
use localkube::controllers::SimulationConfig;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sextant_controller::{Controller, ControllerConfig};
use sextant_server::{Server, ServerConfig};

pub const NS: &str = "sextant";

pub use sextant_testkit::git;

/// The cluster of the test profile.
pub enum Cluster {
    Local(
        #[allow(dead_code, reason = "held so the cluster lives as long as the world")]
        localkube::LocalKube,
    ),
    Real(sextant_testkit::ControlPlane),
}

/// Whether the tests run against a real control plane.
pub fn real() -> bool {
    std::env::var("SEXTANT_TEST_CLUSTER").is_ok_and(|v| v == "real")
}

pub struct World {
    pub cluster: Cluster,
    pub client: kube::Client,
    pub dir: tempfile::TempDir,
    pub repo: PathBuf,
    pub server: Option<Server>,
    pub url: String,
    pub http: reqwest::Client,
    pub admin_password: String,
    pub controller: Option<Controller>,
}

/// Install `crds` and wait until a real API server serves them.
pub async fn install_crds(client: &kube::Client) {
    let crds = ApiResource::erase::<
        k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
    >(&());
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &crds);
    for crd in sextant_model::crd::all() {
        let obj: DynamicObject = serde_json::from_value(crd.clone()).unwrap();
        api.create(&PostParams::default(), &obj).await.unwrap();
    }
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
}

impl World {
    pub async fn new() -> Self {
        Self::with_config(|_| {}).await
    }

    /// A world whose server config `tweak` adjusts.
    pub async fn with_config(tweak: impl FnOnce(&mut ServerConfig)) -> Self {
        if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_env("SEXTANT_LOG") {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_test_writer()
                .try_init();
        }
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().unwrap();
        let simulation = SimulationConfig {
            pod_start_delay: Duration::from_millis(50),
            pod_ready_delay: Duration::from_millis(50),
            ..SimulationConfig::default()
        };
        let (cluster, client) = if real() {
            let mut cp = sextant_testkit::ControlPlane::start().await;
            let stand_in =
                localkube::controllers::StandIn::start(cp.kubeconfig(), simulation).unwrap();
            cp.attach(stand_in);
            let client = cp.client().await;
            (Cluster::Real(cp), client)
        } else {
            let server = localkube::LocalKube::start(localkube::Config {
                kubeconfig: Some(dir.path().join("kubeconfig")),
                simulation,
                ..localkube::Config::default()
            })
            .await
            .unwrap();
            let client = server.client().await.unwrap();
            (Cluster::Local(server), client)
        };
        install_crds(&client).await;
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
        let mut config = ServerConfig::new(NS, dir.path().join("server-cache"));
        tweak(&mut config);
        let server = Server::start(client.clone(), config).await.unwrap();
        server.ready().await;
        let admin_password = server
            .initial_admin_password()
            .expect("a first start generates the admin password")
            .to_owned();
        let http = reqwest::Client::builder()
            .danger_accept_invalid_certs(true)
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        World {
            cluster,
            url: server.url().to_owned(),
            server: Some(server),
            client,
            dir,
            repo,
            http,
            admin_password,
            controller: None,
        }
    }

    pub fn server(&self) -> &Server {
        self.server.as_ref().unwrap()
    }

    /// The admin kubeconfig of the cluster.
    pub fn kubeconfig(&self) -> PathBuf {
        match &self.cluster {
            Cluster::Local(_) => self.dir.path().join("kubeconfig"),
            Cluster::Real(cp) => cp.kubeconfig().to_path_buf(),
        }
    }

    pub async fn start_controller(&mut self) {
        self.start_controller_polling(Duration::from_millis(500))
            .await;
    }

    /// A controller that asks Git for new commits every `poll`.
    pub async fn start_controller_polling(&mut self, poll: Duration) {
        let mut c = ControllerConfig::new(NS, self.dir.path().join("controller-cache"));
        c.repo_poll_interval = poll;
        c.self_heal_delay = Duration::from_millis(300);
        c.workers = 4;
        self.controller = Some(Controller::start(self.client.clone(), c).await.unwrap());
    }

    /// A request; the status and the body as JSON (`Null` when not JSON).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.url));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, Some(token), None).await
    }

    /// Log in; the bearer token.
    pub async fn login(&self, user: &str, password: &str) -> String {
        let (status, body) = self
            .call(
                Method::POST,
                "/api/v1/session",
                None,
                Some(json!({"username": user, "password": password, "token": true})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "login of {user}: {body}");
        body["token"].as_str().unwrap().to_owned()
    }

    pub async fn admin(&self) -> String {
        self.login("admin", &self.admin_password).await
    }

    /// Apply a ConfigMap of the server's namespace (server-side apply).
    pub async fn set_configmap(&self, name: &str, data: Value) {
        let api: Api<k8s_openapi::api::core::v1::ConfigMap> =
            Api::namespaced(self.client.clone(), NS);
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": NS}, "data": data});
        api.patch(
            name,
            &PatchParams::apply("test").force(),
            &Patch::Apply(&cm),
        )
        .await
        .unwrap();
    }

    /// Local accounts `name: capabilities` and the RBAC policy; each
    /// account with a login gets `password` (set by the admin through the
    /// API). Waits until the server sees them.
    pub async fn accounts(
        &self,
        accounts: &[(&str, &str)],
        password: &str,
        policy: &str,
        default_role: Option<&str>,
    ) {
        let mut cm = serde_json::Map::new();
        for (name, caps) in accounts {
            cm.insert(format!("accounts.{name}"), json!(caps));
        }
        self.set_configmap("sextant-cm", Value::Object(cm)).await;
        let mut rbac = json!({"policy.csv": policy});
        if let Some(d) = default_role {
            rbac["policy.default"] = json!(d);
        }
        self.set_configmap("sextant-rbac-cm", rbac).await;
        let admin = self.admin().await;
        for (name, caps) in accounts {
            self.eventually(&format!("account {name} is known"), async || {
                self.get(&format!("/api/v1/account/{name}"), &admin).await.0 == StatusCode::OK
            })
            .await;
            if caps.contains("login") {
                let (status, body) = self
                    .call(
                        Method::PUT,
                        "/api/v1/account/password",
                        Some(&admin),
                        Some(json!({"currentPassword": self.admin_password, "newPassword": password, "name": name})),
                    )
                    .await;
                assert_eq!(status, StatusCode::OK, "{body}");
            }
        }
        // The policy is rebuilt asynchronously: wait until it answers.
        self.eventually("the RBAC policy is in force", async || {
            let (_, s) = self.get("/api/v1/settings", &admin).await;
            s["defaultRole"].as_str() == default_role
        })
        .await;
    }

    /// Wait (at most 60 s) until `check` holds.
    pub async fn eventually(&self, what: &str, mut check: impl AsyncFnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if check().await {
                return;
            }
            assert!(Instant::now() < deadline, "timed out waiting until {what}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Write files (empty text deletes) and commit; the commit.
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

    /// An Application spec for `path` of the test repository.
    pub fn app(&self, name: &str, project: &str, path: &str, dest: &str, automated: bool) -> Value {
        let mut spec = json!({
            "project": project,
            "source": {"repoURL": format!("file://{}", self.repo.display()), "path": path, "targetRevision": "main"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": dest},
            "syncPolicy": {"syncOptions": ["CreateNamespace=true"]},
        });
        if automated {
            spec["syncPolicy"]["automated"] = json!({"prune": true, "selfHeal": true});
        }
        json!({"apiVersion": "sextant.dev/v1alpha1", "kind": "Application",
               "metadata": {"name": name, "namespace": NS}, "spec": spec})
    }

    /// Create an Application directly in the cluster.
    pub async fn create_app(&self, app: Value) {
        let api: Api<sextant_model::Application> = Api::namespaced(self.client.clone(), NS);
        let app: sextant_model::Application = serde_json::from_value(app).unwrap();
        api.create(&PostParams::default(), &app).await.unwrap();
    }

    /// Wait until the server's view of app `name` satisfies `check`.
    pub async fn wait_app(
        &self,
        token: &str,
        name: &str,
        what: &str,
        check: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let (status, app) = self
                .get(&format!("/api/v1/applications/{name}"), token)
                .await;
            if status == StatusCode::OK && check(&app) {
                return app;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting until {name} {what}; last: {}",
                serde_json::to_string_pretty(&app["status"]).unwrap()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

pub fn configmap(name: &str, value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  key: \"{value}\"\n"
    )
}

pub fn deployment(name: &str, image: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: 2
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

pub fn sync_status(app: &Value) -> &str {
    app["status"]["sync"]["status"].as_str().unwrap_or("")
}

pub fn health(app: &Value) -> &str {
    app["status"]["health"]["status"].as_str().unwrap_or("")
}
