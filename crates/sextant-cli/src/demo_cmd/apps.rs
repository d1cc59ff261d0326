//! The demo's Applications (one per app folder of the sample repository)
//! and putting them into the cluster: the CRDs, the `sextant` namespace,
//! the `default` AppProject, the Applications; then reading their status.

use std::time::Duration;

use anyhow::{Context, bail};
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::json;
use sextant_model::Application;
use sextant_model::application::{
    ApplicationDestination, ApplicationSource, ApplicationSourceDirectory, ApplicationSpec,
    SyncPolicy, SyncPolicyAutomated,
};

/// The namespace the Applications live in and the controller serves.
pub const NAMESPACE: &str = "sextant";
/// The in-cluster API server, as Applications name their destination.
pub const IN_CLUSTER: &str = "https://kubernetes.default.svc";
/// Field manager of what the demo applies.
const MANAGER: &str = "sextant-demo";

/// What rendering an app needs besides Git.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Needs {
    /// Plain YAML.
    Nothing,
    /// A Kustomize overlay: `kustomize` or `kubectl`.
    Kustomize,
    /// A Helm chart: `helm`.
    Helm,
}

/// One app of the sample repository.
#[derive(Clone, Copy, Debug)]
pub struct DemoApp {
    /// Application name.
    pub name: &'static str,
    /// Folder in the repository.
    pub path: &'static str,
    /// Destination namespace.
    pub namespace: &'static str,
    /// Whether sub-folders are read too.
    pub recurse: bool,
    /// The tool it needs.
    pub needs: Needs,
    /// A Deployment it runs (for the commands the demo suggests).
    pub deployment: &'static str,
}

/// The apps, in the order they are listed.
pub const APPS: &[DemoApp] = &[
    DemoApp {
        name: "payments",
        path: "clusters/demo/apps/payments",
        namespace: "payments",
        recurse: false,
        needs: Needs::Nothing,
        deployment: "payments",
    },
    DemoApp {
        name: "checkout",
        path: "clusters/demo/apps/checkout",
        namespace: "checkout",
        recurse: false,
        needs: Needs::Kustomize,
        deployment: "checkout",
    },
    DemoApp {
        name: "frontend",
        path: "clusters/demo/apps/frontend",
        namespace: "frontend",
        recurse: false,
        needs: Needs::Helm,
        deployment: "frontend",
    },
    DemoApp {
        name: "infrastructure",
        path: "clusters/demo/infrastructure",
        namespace: "monitoring",
        recurse: true,
        needs: Needs::Nothing,
        deployment: "prometheus",
    },
];

/// The Application for `app`, reading `repo_url` at `revision`: synced
/// automatically with pruning and self-heal, creating its namespace.
pub fn application(app: &DemoApp, repo_url: &str, revision: &str) -> Application {
    let mut application = Application::new(
        app.name,
        ApplicationSpec {
            project: "default".to_owned(),
            source: Some(ApplicationSource {
                repo_url: repo_url.to_owned(),
                path: Some(app.path.to_owned()),
                target_revision: Some(revision.to_owned()),
                directory: app.recurse.then(|| ApplicationSourceDirectory {
                    recurse: Some(true),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            destination: ApplicationDestination {
                server: Some(IN_CLUSTER.to_owned()),
                namespace: Some(app.namespace.to_owned()),
                name: None,
            },
            sync_policy: Some(SyncPolicy {
                automated: Some(SyncPolicyAutomated {
                    prune: Some(true),
                    self_heal: Some(true),
                    ..Default::default()
                }),
                sync_options: Some(vec!["CreateNamespace=true".to_owned()]),
                ..Default::default()
            }),
            ..Default::default()
        },
    );
    application.metadata.namespace = Some(NAMESPACE.to_owned());
    application
}

/// The folder whose sub-folders the demo's ApplicationSet turns into apps.
pub const SERVICES: &str = "clusters/demo/apps";
/// The demo's ApplicationSet.
pub const SET_NAME: &str = "demo-services";

/// Whether `app` comes from the demo's ApplicationSet (a folder under
/// [`SERVICES`]) rather than being an Application of its own.
pub fn from_set(app: &DemoApp) -> bool {
    app.path
        .strip_prefix(SERVICES)
        .is_some_and(|rest| rest.starts_with('/'))
}

/// The ApplicationSet that makes one Application per folder of
/// [`SERVICES`] (named after the folder, deploying into the namespace of
/// that name), as [`application`] would, leaving out `skipped` folders.
pub fn application_set(repo_url: &str, revision: &str, skipped: &[&DemoApp]) -> serde_json::Value {
    let mut directories = vec![json!({"path": format!("{SERVICES}/*")})];
    directories.extend(
        skipped
            .iter()
            .map(|a| json!({"path": a.path, "exclude": true})),
    );
    let template = DemoApp {
        name: "{{path.basename}}",
        path: "{{path}}",
        namespace: "{{path.basename}}",
        recurse: false,
        needs: Needs::Nothing,
        deployment: "",
    };
    let app = application(&template, repo_url, revision);
    json!({
        "apiVersion": sextant_model::group::selected().api_version(),
        "kind": "ApplicationSet",
        "metadata": {"name": SET_NAME, "namespace": NAMESPACE},
        "spec": {
            "generators": [{"git": {
                "repoURL": repo_url,
                "revision": revision,
                "directories": directories,
            }}],
            "template": {
                "metadata": {"name": "{{path.basename}}"},
                "spec": app.spec,
            },
            // A sync policy changed on an app (to manual, from the UI or
            // `sextant app set`) stays as changed; the set does not put
            // it back.
            "ignoreApplicationDifferences": [{"jsonPointers": ["/spec/syncPolicy"]}],
        },
    })
}

/// Install the CRDs, the `sextant` namespace, the `default` AppProject,
/// `applications` and `set` (server-side apply, so running it again
/// changes nothing).
pub async fn install(
    client: &kube::Client,
    applications: &[Application],
    set: &serde_json::Value,
) -> anyhow::Result<()> {
    let apply = PatchParams::apply(MANAGER).force();
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in sextant_model::crd::all() {
        let name = crd
            .pointer("/metadata/name")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned();
        crds.patch(&name, &apply, &Patch::Apply(&crd))
            .await
            .with_context(|| format!("could not install the CRD {name}"))?;
        wait_established(&crds, &name).await?;
    }

    let namespaces: Api<Namespace> = Api::all(client.clone());
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}});
    namespaces
        .patch(NAMESPACE, &apply, &Patch::Apply(&ns))
        .await
        .with_context(|| format!("could not create the namespace {NAMESPACE}"))?;

    let gvk = GroupVersionKind::gvk(
        sextant_model::group::selected().name(),
        sextant_model::VERSION,
        "AppProject",
    );
    let resource = ApiResource::from_gvk_with_plural(&gvk, "appprojects");
    let projects: Api<DynamicObject> = Api::namespaced_with(client.clone(), NAMESPACE, &resource);
    let project = json!({
        "apiVersion": sextant_model::group::selected().api_version(),
        "kind": "AppProject",
        "metadata": {"name": "default", "namespace": NAMESPACE},
        "spec": {
            "description": "Every app of the demo",
            "sourceRepos": ["*"],
            "destinations": [{"server": "*", "namespace": "*"}],
            "clusterResourceWhitelist": [{"group": "*", "kind": "*"}],
        },
    });
    projects
        .patch("default", &apply, &Patch::Apply(&project))
        .await
        .context("could not create the AppProject default")?;

    let apps: Api<Application> = Api::namespaced(client.clone(), NAMESPACE);
    for app in applications {
        let name = app.metadata.name.clone().unwrap_or_default();
        apps.patch(&name, &apply, &Patch::Apply(app))
            .await
            .with_context(|| format!("could not create the Application {name}"))?;
    }
    let sets: Api<sextant_model::ApplicationSet> = Api::namespaced(client.clone(), NAMESPACE);
    sets.patch(SET_NAME, &apply, &Patch::Apply(set))
        .await
        .with_context(|| format!("could not create the ApplicationSet {SET_NAME}"))?;
    Ok(())
}

/// Wait (briefly) until the API server serves the CRD's kind.
async fn wait_established(crds: &Api<CustomResourceDefinition>, name: &str) -> anyhow::Result<()> {
    for _ in 0..100 {
        let crd = crds
            .get(name)
            .await
            .with_context(|| format!("could not read the CRD {name}"))?;
        let established = crd
            .status
            .and_then(|s| s.conditions)
            .unwrap_or_default()
            .iter()
            .any(|c| c.type_ == "Established" && c.status == "True");
        if established {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("the CRD {name} was not Established after 10 s")
}

/// One Application's state, as the controller reported it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppState {
    /// Application name.
    pub name: String,
    /// Synced, OutOfSync, Unknown (or `-` before the first report).
    pub sync: String,
    /// Healthy, Progressing, Degraded, ... (or `-`).
    pub health: String,
    /// The first condition's message, if any (errors).
    pub condition: Option<String>,
}

impl AppState {
    /// Synced and Healthy.
    pub fn ready(&self) -> bool {
        self.sync == "Synced" && self.health == "Healthy"
    }
}

impl std::fmt::Display for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}/{}", self.name, self.sync, self.health)?;
        if let Some(c) = &self.condition {
            write!(f, " ({c})")?;
        }
        Ok(())
    }
}

/// The state of each Application named in `names`, in that order.
pub async fn states(client: &kube::Client, names: &[&str]) -> anyhow::Result<Vec<AppState>> {
    let apps: Api<Application> = Api::namespaced(client.clone(), NAMESPACE);
    let list = apps
        .list(&Default::default())
        .await
        .context("could not list the Applications")?;
    Ok(names
        .iter()
        .map(|name| {
            let app = list
                .items
                .iter()
                .find(|a| a.metadata.name.as_deref() == Some(name));
            let status = app.and_then(|a| a.status.as_ref());
            AppState {
                name: (*name).to_owned(),
                sync: status
                    .and_then(|s| s.sync.as_ref())
                    .map_or_else(|| "-".to_owned(), |s| s.status.clone()),
                health: status
                    .and_then(|s| s.health.as_ref())
                    .map_or_else(|| "-".to_owned(), |h| h.status.clone()),
                condition: status
                    .and_then(|s| s.conditions.as_ref())
                    .and_then(|c| c.first())
                    .map(|c| format!("{}: {}", c.type_, c.message)),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo_cmd::repo;
    use sextant_render::{SourceKind, ToolConfig, Tools, render_path};

    /// The kinds (sorted) an app's folder renders to.
    fn expected_kinds(name: &str) -> (SourceKind, Vec<&'static str>) {
        match name {
            "payments" => (
                SourceKind::Directory,
                vec!["ConfigMap", "Deployment", "Service"],
            ),
            "checkout" => (SourceKind::Kustomize, vec!["Deployment", "Service"]),
            "frontend" => (SourceKind::Helm, vec!["Deployment", "Service"]),
            "infrastructure" => (
                SourceKind::Directory,
                vec!["ConfigMap", "Deployment", "Namespace"],
            ),
            other => panic!("no expectation for app {other}"),
        }
    }

    #[test]
    fn the_application_set_makes_the_services_as_their_own_applications_would_be() {
        let dir = tempfile::tempdir().unwrap();
        repo::write_files(dir.path()).unwrap();
        let folder = || crate::appset_cmd::Folder {
            root: Some(dir.path().to_path_buf()),
            is_this_repo: Box::new(|_| true),
        };
        let set = application_set("file:///demo", "main", &[]);
        let made = crate::appset_cmd::generate_with(&set, &folder(), NAMESPACE).unwrap();
        let services: Vec<&DemoApp> = APPS.iter().filter(|a| from_set(a)).collect();
        assert_eq!(made.len(), services.len(), "{made:?}");
        for app in &services {
            let want = serde_json::to_value(application(app, "file:///demo", "main")).unwrap();
            let got = made
                .iter()
                .find(|m| m["metadata"]["name"] == app.name)
                .unwrap_or_else(|| panic!("the set makes no app {}", app.name));
            assert_eq!(got["spec"], want["spec"], "{}", app.name);
        }
        assert!(!from_set(
            APPS.iter().find(|a| a.name == "infrastructure").unwrap()
        ));

        // An app whose tool is missing is left out of the set.
        let frontend = APPS.iter().find(|a| a.name == "frontend").unwrap();
        let set = application_set("file:///demo", "main", &[frontend]);
        let made = crate::appset_cmd::generate_with(&set, &folder(), NAMESPACE).unwrap();
        assert!(
            made.iter().all(|m| m["metadata"]["name"] != "frontend"),
            "{made:?}"
        );
        assert_eq!(made.len(), services.len() - 1);
    }

    #[test]
    fn every_app_of_the_sample_repository_renders_to_the_expected_kinds() {
        let dir = tempfile::tempdir().unwrap();
        repo::write_files(dir.path()).unwrap();
        let tools = Tools::new(ToolConfig::default()).unwrap();
        for app in APPS {
            // The options the controller renders this Application with.
            let application = application(app, "file:///demo", "HEAD");
            let source = application.spec.source.as_ref().unwrap();
            let options = crate::app_source::render_options(
                sextant_controller::source::AppRef::of(&application),
                source,
                app.namespace,
                &Default::default(),
            )
            .unwrap();
            if app.needs == Needs::Helm {
                assert!(
                    tools.helm().is_ok(),
                    "helm is required by this test but is not on PATH: run ./scripts/install-tools.sh \
                     and put .tools/bin on PATH (scripts/test.sh does)"
                );
            }
            let path = source.path.as_deref().unwrap();
            let rendered = render_path(dir.path(), path, &options, &tools)
                .unwrap_or_else(|e| panic!("{}: {e:?}", app.name));
            let (kind, want) = expected_kinds(app.name);
            assert_eq!(rendered.kind, kind, "{}", app.name);
            let mut kinds: Vec<&str> = rendered
                .objects
                .iter()
                .map(|o| o["kind"].as_str().unwrap())
                .collect();
            kinds.sort_unstable();
            assert_eq!(kinds, want, "{}", app.name);
            for o in &rendered.objects {
                if o["kind"] == "Namespace" {
                    continue;
                }
                assert_eq!(
                    o["metadata"]["namespace"], app.namespace,
                    "{}: {}",
                    app.name, o["metadata"]["name"]
                );
                if o["kind"] == "Deployment" {
                    assert_eq!(o["metadata"]["name"], app.deployment);
                    let image = o["spec"]["template"]["spec"]["containers"][0]["image"]
                        .as_str()
                        .unwrap();
                    assert!(!image.contains("doesnotexist"), "{image}");
                    // A bad image turns the app Degraded this soon (step 3
                    // of what the demo suggests).
                    assert_eq!(o["spec"]["progressDeadlineSeconds"], 30, "{}", app.name);
                }
            }
            assert!(rendered.warnings.is_empty(), "{:?}", rendered.warnings);
        }
    }

    #[test]
    fn the_checkout_overlay_sets_its_image_tag_and_replicas() {
        let dir = tempfile::tempdir().unwrap();
        repo::write_files(dir.path()).unwrap();
        let tools = Tools::new(ToolConfig::default()).unwrap();
        let options = sextant_render::RenderOptions {
            namespace: "checkout".to_owned(),
            ..Default::default()
        };
        let rendered = render_path(dir.path(), APPS[1].path, &options, &tools).unwrap();
        let deployment = rendered
            .objects
            .iter()
            .find(|o| o["kind"] == "Deployment")
            .unwrap();
        assert_eq!(deployment["spec"]["replicas"], 3);
        assert_eq!(
            deployment["spec"]["template"]["spec"]["containers"][0]["image"],
            "nginx:1.27"
        );
    }

    #[test]
    fn applications_sync_automatically_with_prune_self_heal_and_create_namespace() {
        let app = application(&APPS[3], "file:///tmp/gitops", "main");
        let v = serde_json::to_value(&app).unwrap();
        assert_eq!(v["apiVersion"], "sextant.dev/v1alpha1");
        assert_eq!(v["metadata"]["namespace"], NAMESPACE);
        assert_eq!(v["spec"]["source"]["repoURL"], "file:///tmp/gitops");
        assert_eq!(v["spec"]["source"]["targetRevision"], "main");
        assert_eq!(v["spec"]["source"]["directory"]["recurse"], true);
        assert_eq!(v["spec"]["destination"]["server"], IN_CLUSTER);
        assert_eq!(v["spec"]["destination"]["namespace"], "monitoring");
        assert_eq!(
            v["spec"]["syncPolicy"],
            json!({"automated": {"prune": true, "selfHeal": true}, "syncOptions": ["CreateNamespace=true"]})
        );
    }
}
