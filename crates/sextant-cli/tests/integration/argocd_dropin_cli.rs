//! Sextant on an Argo CD installation's own objects: CRDs of group
//! `argoproj.io` printed by `sextant crds --api-group argoproj.io`, an
//! AppProject and a root app-of-apps Application written as Argo CD's
//! documentation writes them and applied with kubectl, and `sextant
//! controller --api-group argoproj.io` as its own process. The root's Helm
//! chart emits `argoproj.io` Applications in `argocd` with Argo CD's
//! finalizer; every app comes up Synced and Healthy, what it deploys
//! carries Argo CD's tracking annotation, and an object Argo CD had
//! deployed (its tracking annotation, the content Git wants) is taken as the
//! app's own without a single write.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use localkube::{Config, LocalKube};
use serde_json::Value;
use sextant_testkit::git;

const ROOT_CHART: &str = "apiVersion: v2\nname: root\nversion: 1.0.0\n";

// An app-of-apps chart as Argo CD's documentation shows it: one
// Application per entry, Argo CD's group, namespace and finalizer.
const ROOT_TEMPLATE: &str = r#"{{- range .Values.apps }}
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: {{ . }}
  namespace: argocd
  finalizers:
  - resources-finalizer.argocd.argoproj.io
spec:
  project: default
  source:
    repoURL: {{ $.Values.repoURL }}
    targetRevision: HEAD
    path: apps/{{ . }}
  destination:
    server: https://kubernetes.default.svc
    namespace: {{ . }}
  syncPolicy:
    automated:
      prune: true
      selfHeal: true
    syncOptions:
    - CreateNamespace=true
{{- end }}
"#;

const PROJECT: &str = r#"apiVersion: argoproj.io/v1alpha1
kind: AppProject
metadata:
  name: default
  namespace: argocd
spec:
  sourceRepos: ['*']
  destinations:
  - namespace: '*'
    server: '*'
  clusterResourceWhitelist:
  - group: '*'
    kind: '*'
"#;

fn settings(name: &str, namespace: &str, tier: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {namespace}\ndata:\n  tier: {tier}\n"
    )
}

fn root_app(repo_url: &str) -> String {
    format!(
        r#"apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: root
  namespace: argocd
  finalizers:
  - resources-finalizer.argocd.argoproj.io
spec:
  project: default
  source:
    repoURL: {repo_url}
    targetRevision: HEAD
    path: root
    helm:
      parameters:
      - name: repoURL
        value: {repo_url}
  destination:
    server: https://kubernetes.default.svc
    namespace: argocd
  syncPolicy:
    automated:
      prune: true
      selfHeal: true
"#
    )
}

/// `kubectl ARGS` against the test's cluster; its stdout, or a failure
/// with stderr.
fn kubectl(kubeconfig: &Path, home: &Path, args: &[&str], input: Option<&str>) -> String {
    let mut child = Command::new("kubectl")
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .env("HOME", home)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(text) = input {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `sextant ARGS --api-group argoproj.io --kubeconfig K` with a clean
/// environment (Argo CD's group comes from the flag alone).
fn sextant(kubeconfig: &Path, home: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sextant"));
    cmd.args(args)
        .args(["--api-group", "argoproj.io", "--kubeconfig"])
        .arg(kubeconfig)
        .env_remove("KUBECONFIG")
        .env_remove("SEXTANT_NAMESPACE")
        .env_remove("SEXTANT_API_GROUP")
        .env("HOME", home)
        .env("SEXTANT_CACHE_DIR", home.join("cache"));
    cmd
}

/// Stops the controller, and prints its log when the test fails.
struct Controller {
    child: std::process::Child,
    log: PathBuf,
}

impl Drop for Controller {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            eprintln!("--- controller log\n{log}");
        }
    }
}

fn app_state(app: &Value) -> (String, String) {
    let s = |p: &str| {
        app.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    (s("/status/sync/status"), s("/status/health/status"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sextant_runs_an_argo_cd_app_of_apps_on_argo_cds_own_objects() {
    let mut config = Config::default();
    config.simulation.enabled = false;
    let server = LocalKube::start(config).await.unwrap();
    let kc = server.kubeconfig_path().to_owned();
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let k = |args: &[&str], input: Option<&str>| kubectl(&kc, home, args, input);

    // The CRDs under Argo CD's group, from our generator.
    let out = Command::new(env!("CARGO_BIN_EXE_sextant"))
        .args(["crds", "--api-group", "argoproj.io"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let crds = String::from_utf8(out.stdout).unwrap();
    assert!(!crds.contains("sextant.dev/"), "only Argo CD's group");
    let applied = tokio::task::block_in_place(|| k(&["apply", "-f", "-"], Some(&crds)));
    assert!(
        applied.contains("applications.argoproj.io created")
            && applied.contains("appprojects.argoproj.io created"),
        "{applied}"
    );

    // The repository: the root chart and two apps.
    let repo = home.join("repo");
    std::fs::create_dir_all(repo.join("root/templates")).unwrap();
    std::fs::create_dir_all(repo.join("apps/guestbook")).unwrap();
    std::fs::create_dir_all(repo.join("apps/billing")).unwrap();
    std::fs::write(repo.join("root/Chart.yaml"), ROOT_CHART).unwrap();
    std::fs::write(
        repo.join("root/values.yaml"),
        "repoURL: ''\napps: [guestbook, billing]\n",
    )
    .unwrap();
    std::fs::write(repo.join("root/templates/apps.yaml"), ROOT_TEMPLATE).unwrap();
    std::fs::write(
        repo.join("apps/guestbook/settings.yaml"),
        settings("guestbook-settings", "guestbook", "web"),
    )
    .unwrap();
    std::fs::write(
        repo.join("apps/billing/settings.yaml"),
        settings("billing-settings", "billing", "ledger"),
    )
    .unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "apps"]);
    let head = git(&repo, &["rev-parse", "HEAD"]);
    let repo_url = format!("file://{}", repo.display());

    // What Argo CD left: its namespace and default project, and billing's
    // ConfigMap as Argo CD deployed it (its tracking annotation, Git's
    // content).
    tokio::task::block_in_place(|| {
        k(&["create", "namespace", "argocd"], None);
        k(&["create", "namespace", "billing"], None);
        k(&["apply", "-f", "-"], Some(PROJECT));
    });
    let deployed_by_argo = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: billing-settings\n  namespace: billing\n  annotations:\n    argocd.argoproj.io/tracking-id: billing:/ConfigMap:billing/billing-settings\ndata:\n  tier: ledger\n";
    tokio::task::block_in_place(|| k(&["create", "-f", "-"], Some(deployed_by_argo)));
    let before = tokio::task::block_in_place(|| {
        k(
            &[
                "get",
                "configmap",
                "billing-settings",
                "-n",
                "billing",
                "-o",
                "jsonpath={.metadata.resourceVersion}",
            ],
            None,
        )
    });
    assert!(!before.is_empty());

    // The root app, applied the way an Argo CD user applies it.
    tokio::task::block_in_place(|| k(&["apply", "-f", "-"], Some(&root_app(&repo_url))));

    // The controller, on Argo CD's group; its namespace defaults to argocd.
    let log = home.join("controller.log");
    let child = sextant(
        &kc,
        home,
        &[
            "controller",
            "--repo-poll-interval",
            "1h",
            "--self-heal-delay",
            "1s",
        ],
    )
    .stdout(Stdio::null())
    .stderr(std::fs::File::create(&log).unwrap())
    .spawn()
    .unwrap();
    let _controller = Controller { child, log };

    // Every app Synced and Healthy, through kubectl as Argo CD users read it.
    let deadline = Instant::now() + Duration::from_secs(120);
    let apps = loop {
        let listed = tokio::task::block_in_place(|| {
            k(
                &[
                    "get",
                    "applications.argoproj.io",
                    "-n",
                    "argocd",
                    "-o",
                    "json",
                ],
                None,
            )
        });
        let listed: Value = serde_json::from_str(&listed).unwrap();
        let items = listed["items"].as_array().cloned().unwrap_or_default();
        let done = items.len() == 3
            && items
                .iter()
                .all(|a| app_state(a) == ("Synced".into(), "Healthy".into()));
        if done {
            break items;
        }
        assert!(
            Instant::now() < deadline,
            "apps never all Synced and Healthy: {:?}",
            items
                .iter()
                .map(|a| (a["metadata"]["name"].clone(), app_state(a)))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    for app in &apps {
        let name = app["metadata"]["name"].as_str().unwrap();
        assert_eq!(app["apiVersion"], "argoproj.io/v1alpha1");
        assert_eq!(
            app["status"]["sync"]["revision"], head,
            "{name} reports the commit it synced"
        );
        assert_eq!(
            app["metadata"]["finalizers"][0], "resources-finalizer.argocd.argoproj.io",
            "{name} keeps Argo CD's finalizer"
        );
    }

    // What Sextant deployed carries Argo CD's tracking annotation alone.
    let guestbook: Value = serde_json::from_str(&tokio::task::block_in_place(|| {
        k(
            &[
                "get",
                "configmap",
                "guestbook-settings",
                "-n",
                "guestbook",
                "-o",
                "json",
            ],
            None,
        )
    }))
    .unwrap();
    let annotations = &guestbook["metadata"]["annotations"];
    assert_eq!(
        annotations["argocd.argoproj.io/tracking-id"],
        "guestbook:/ConfigMap:guestbook/guestbook-settings"
    );
    assert!(
        annotations.get("sextant.dev/tracking-id").is_none(),
        "{annotations}"
    );

    // Billing's ConfigMap, deployed by Argo CD, was adopted untouched.
    let after = tokio::task::block_in_place(|| {
        k(
            &[
                "get",
                "configmap",
                "billing-settings",
                "-n",
                "billing",
                "-o",
                "jsonpath={.metadata.resourceVersion}",
            ],
            None,
        )
    });
    assert_eq!(after, before, "an object Argo CD deployed is not rewritten");

    // The CLI reads the same apps on the same flag.
    let out = sextant(&kc, home, &["app", "get", "billing"])
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{shown}");
    assert!(
        shown.contains("Synced") && shown.contains("Healthy") && shown.contains("billing-settings"),
        "{shown}"
    );

    // Phase two: a team that prefers Sextant's own group imports it all.
    // The controller on Argo CD's group stands for Argo CD; it stops first.
    drop(_controller);
    import_round_trip(&kc, home, &repo_url).await;
}

/// The resourceVersions of what the apps deployed.
fn deployed_versions(k: &dyn Fn(&[&str], Option<&str>) -> String) -> Vec<String> {
    [
        ("guestbook-settings", "guestbook"),
        ("billing-settings", "billing"),
    ]
    .iter()
    .map(|(name, ns)| {
        tokio::task::block_in_place(|| {
            k(
                &[
                    "get",
                    "configmap",
                    name,
                    "-n",
                    ns,
                    "-o",
                    "jsonpath={.metadata.resourceVersion}",
                ],
                None,
            )
        })
    })
    .collect()
}

/// `sextant import argocd` as a dry run (nothing written) and then with
/// --apply; `sextant controller` on Sextant's group then finds every app
/// Synced and Healthy, the children the root app-of-apps renders (Argo
/// CD's Applications in `argocd`) as the imported ones, and changes no
/// object Argo CD deployed.
async fn import_round_trip(kc: &Path, home: &Path, repo_url: &str) {
    let k = |args: &[&str], input: Option<&str>| kubectl(kc, home, args, input);
    let own = |args: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sextant"));
        cmd.args(args)
            .arg("--kubeconfig")
            .arg(kc)
            .env_remove("KUBECONFIG")
            .env_remove("SEXTANT_NAMESPACE")
            .env_remove("SEXTANT_API_GROUP")
            .env("HOME", home)
            .env("SEXTANT_CACHE_DIR", home.join("cache-own"));
        cmd
    };
    let crds = Command::new(env!("CARGO_BIN_EXE_sextant"))
        .arg("crds")
        .env_remove("SEXTANT_API_GROUP")
        .output()
        .unwrap();
    assert!(
        crds.status.success(),
        "{}",
        String::from_utf8_lossy(&crds.stderr)
    );
    tokio::task::block_in_place(|| {
        k(
            &["apply", "-f", "-"],
            Some(&String::from_utf8_lossy(&crds.stdout)),
        );
        k(&["create", "namespace", "sextant"], None);
    });
    // A repository Secret and settings, as Argo CD keeps them.
    let repo_secret = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: repo-deploy\n  namespace: argocd\n  labels:\n    argocd.argoproj.io/secret-type: repository\nstringData:\n  url: {repo_url}\n  password: hunter2\n"
    );
    let argocd_cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-cm\n  namespace: argocd\ndata:\n  resource.customizations.health.ConfigMap: |\n    return {status = \"Healthy\", message = \"imported script\"}\n  timeout.reconciliation.jitter: 30s\n  resource.customizations.ignoreDifferences.ConfigMap: |\n    jsonPointers:\n    - /data/tier\n";
    tokio::task::block_in_place(|| {
        k(&["apply", "-f", "-"], Some(&repo_secret));
        k(&["apply", "-f", "-"], Some(argocd_cm));
    });
    let before = deployed_versions(&k);

    let out = own(&["import", "argocd"]).output().unwrap();
    let dry = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{dry}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for line in [
        "would create Application sextant/root (from Application argocd/root)",
        "would create Application sextant/billing (from Application argocd/billing)",
        "would create AppProject sextant/default",
        "would create Secret sextant/repo-deploy (from Secret argocd/repo-deploy (repository)) (values not shown)",
        "would create ConfigMap sextant/sextant-cm (from ConfigMap argocd/argocd-cm)",
        "timeout.reconciliation.jitter: copied, but Sextant does not act on it",
        "dry run: nothing was written",
    ] {
        assert!(dry.contains(line), "missing {line:?} in:\n{dry}");
    }
    assert!(!dry.contains("hunter2"), "no secret value is printed");
    let listed = tokio::task::block_in_place(|| {
        k(
            &[
                "get",
                "applications.sextant.dev",
                "-n",
                "sextant",
                "-o",
                "name",
            ],
            None,
        )
    });
    assert!(
        listed.trim().is_empty(),
        "a dry run writes nothing: {listed}"
    );

    let out = own(&["import", "argocd", "--apply"]).output().unwrap();
    let applied = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{applied}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        applied.contains("created Application sextant/root"),
        "{applied}"
    );
    let again = own(&["import", "argocd", "--apply"]).output().unwrap();
    assert!(
        String::from_utf8_lossy(&again.stdout)
            .contains("exists, left as it is: Application sextant/root"),
        "a second import changes nothing"
    );
    let child_uid = |k: &dyn Fn(&[&str], Option<&str>) -> String| {
        tokio::task::block_in_place(|| {
            k(
                &[
                    "get",
                    "applications.sextant.dev",
                    "billing",
                    "-n",
                    "sextant",
                    "-o",
                    "jsonpath={.metadata.uid}",
                ],
                None,
            )
        })
    };
    let imported_child = child_uid(&k);

    let log = home.join("controller-own.log");
    let child = own(&["controller", "-n", "sextant", "--repo-poll-interval", "1h"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let _controller = Controller { child, log };
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let listed = tokio::task::block_in_place(|| {
            k(
                &[
                    "get",
                    "applications.sextant.dev",
                    "-n",
                    "sextant",
                    "-o",
                    "json",
                ],
                None,
            )
        });
        let listed: Value = serde_json::from_str(&listed).unwrap();
        let items = listed["items"].as_array().cloned().unwrap_or_default();
        if items.len() == 3
            && items
                .iter()
                .all(|a| app_state(a) == ("Synced".into(), "Healthy".into()))
        {
            let billing = items
                .iter()
                .find(|a| a["metadata"]["name"] == "billing")
                .unwrap();
            let message = billing["status"]["resources"][0]["health"]["message"]
                .as_str()
                .unwrap_or("");
            assert_eq!(
                message, "imported script",
                "argocd-cm's health script came along"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "imported apps never all Synced and Healthy: {:?}",
            items
                .iter()
                .map(|a| (
                    a["metadata"]["name"].clone(),
                    app_state(a),
                    a["status"]["conditions"].clone()
                ))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert_eq!(
        child_uid(&k),
        imported_child,
        "the root app took the imported child as its own"
    );
    assert_eq!(
        deployed_versions(&k),
        before,
        "nothing Argo CD deployed was written again"
    );
    // argocd-cm's ignoreDifferences came along too: a field Git sets but
    // the rule ignores, changed by hand, leaves the app Synced and is not
    // reverted (the app heals itself otherwise).
    tokio::task::block_in_place(|| {
        k(
            &[
                "patch",
                "configmap",
                "billing-settings",
                "-n",
                "billing",
                "--type",
                "merge",
                "-p",
                r#"{"data":{"tier":"by hand"}}"#,
            ],
            None,
        )
    });
    tokio::time::sleep(Duration::from_secs(3)).await;
    let billing: Value = serde_json::from_str(&tokio::task::block_in_place(|| {
        k(
            &[
                "get",
                "applications.sextant.dev",
                "billing",
                "-n",
                "sextant",
                "-o",
                "json",
            ],
            None,
        )
    }))
    .unwrap();
    assert_eq!(
        app_state(&billing).0,
        "Synced",
        "an ignored field is no difference"
    );
    let tier = tokio::task::block_in_place(|| {
        k(
            &[
                "get",
                "configmap",
                "billing-settings",
                "-n",
                "billing",
                "-o",
                "jsonpath={.data.tier}",
            ],
            None,
        )
    });
    assert_eq!(tier, "by hand", "not reverted");
}
