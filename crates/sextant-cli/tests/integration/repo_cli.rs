//! `sextant repo add|list|rm` against an in-process localkube: the Secrets
//! it writes are the ones the controller reads (checked with the
//! controller's own reader), passwords come only from stdin and are never
//! printed.

use std::process::{Output, Stdio};

use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::Api;
use kube::api::PostParams;
use localkube::{Config, LocalKube};
use sextant_controller::repo_creds::RepoCredentials;
use sextant_source::Credentials;
use tokio::io::AsyncWriteExt;

struct Env {
    server: LocalKube,
    tmp: tempfile::TempDir,
    secrets: Api<Secret>,
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
            &serde_json::from_value(serde_json::json!({"metadata": {"name": "sextant"}})).unwrap(),
        )
        .await
        .unwrap();
    Env {
        secrets: Api::namespaced(client, "sextant"),
        server,
        tmp: tempfile::tempdir().unwrap(),
    }
}

impl Env {
    /// `sextant repo ARGS` with `stdin` piped in.
    async fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_sextant"))
            .arg("repo")
            .args(args)
            .arg("--kubeconfig")
            .arg(self.server.kubeconfig_path())
            .env_remove("KUBECONFIG")
            .env_remove("SEXTANT_NAMESPACE")
            .env("HOME", self.tmp.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        input.write_all(stdin.as_bytes()).await.unwrap();
        drop(input);
        child.wait_with_output().await.unwrap()
    }

    /// What the controller would read from the namespace's Secrets.
    async fn controller_view(&self) -> RepoCredentials {
        let creds = RepoCredentials::new("sextant");
        for s in self.secrets.list(&Default::default()).await.unwrap().items {
            creds.upsert(&s);
        }
        creds
    }
}

fn show(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn account(c: &Credentials) -> (String, String) {
    match c {
        Credentials::Basic { username, password } => {
            (username.clone(), password.expose().to_owned())
        }
        Credentials::Token(t) => ("(token)".to_owned(), t.expose().to_owned()),
        Credentials::Ssh { private_key, .. } => {
            ("(ssh)".to_owned(), private_key.expose().to_owned())
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repo_add_saves_what_the_controller_reads_list_hides_passwords_and_rm_removes() {
    let env = env().await;
    let repo = "https://git.example.com/org/deploy.git";

    let out = env
        .run(
            &["add", repo, "--username", "bot", "--password-stdin"],
            "first-pass\n",
        )
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(
            "credentials for https://git.example.com/org/deploy.git saved in Secret sextant/repo-git-example-com-org-deploy"
        ),
        "{}",
        show(&out)
    );
    let found = env
        .controller_view()
        .await
        .lookup("https://git.example.com/org/deploy")
        .unwrap();
    assert_eq!(found.secret, "repo-git-example-com-org-deploy");
    assert_eq!(
        account(&found.credentials),
        ("bot".into(), "first-pass".into())
    );

    // Again for the same URL: the same Secret, now with a token only.
    let out = env
        .run(
            &[
                "add",
                "https://GIT.example.com/org/deploy",
                "--password-stdin",
            ],
            "a-token",
        )
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("updated in Secret sextant/repo-git-example-com-org-deploy")
    );
    let found = env.controller_view().await.lookup(repo).unwrap();
    assert_eq!(
        account(&found.credentials),
        ("(token)".into(), "a-token".into())
    );

    // An SSH repository with a key file.
    let key_file = env.tmp.path().join("deploy_key");
    std::fs::write(
        &key_file,
        "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n",
    )
    .unwrap();
    let ssh_url = "git@git.example.com:org/infra.git";
    let out = env
        .run(
            &[
                "add",
                ssh_url,
                "--ssh-private-key-path",
                key_file.to_str().unwrap(),
            ],
            "",
        )
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let found = env.controller_view().await.lookup(ssh_url).unwrap();
    assert_eq!(
        account(&found.credentials),
        (
            "(ssh)".into(),
            "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----".into()
        )
    );
    let out = env
        .run(
            &[
                "add",
                "https://h/r.git",
                "--ssh-private-key-path",
                key_file.to_str().unwrap(),
            ],
            "",
        )
        .await;
    assert_eq!(
        out.status.code(),
        Some(2),
        "a key is for SSH URLs: {}",
        show(&out)
    );
    let out = env.run(&["rm", ssh_url], "").await;
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));

    // A prefix for the rest of the organisation.
    let out = env
        .run(
            &[
                "add",
                "https://git.example.com/org",
                "--prefix",
                "--username",
                "org-bot",
                "--password-stdin",
            ],
            "org-pass\n",
        )
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let view = env.controller_view().await;
    let other = view
        .lookup("https://git.example.com/org/other.git")
        .unwrap();
    assert_eq!(
        account(&other.credentials),
        ("org-bot".into(), "org-pass".into())
    );
    assert_eq!(
        env.secrets
            .list(&Default::default())
            .await
            .unwrap()
            .items
            .len(),
        2
    );

    let out = env.run(&["list"], "").await;
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.starts_with("NAME"), "{text}");
    assert!(
        text.contains("repo-creds") && text.contains("org-bot") && text.contains("(token)"),
        "{text}"
    );
    for secret in ["first-pass", "a-token", "org-pass"] {
        assert!(!show(&out).contains(secret), "{text}");
    }
    let out = env.run(&["list", "-o", "json"], "").await;
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");
    assert!(listed[0]["url"].as_str().is_some() && listed[0].get("password").is_none());
    for secret in ["first-pass", "a-token", "org-pass"] {
        assert!(!show(&out).contains(secret), "{listed}");
    }

    // No password on stdin: refused, nothing written.
    let out = env
        .run(
            &["add", "https://git.example.com/x.git", "--username", "u"],
            "",
        )
        .await;
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--password-stdin"),
        "{}",
        show(&out)
    );
    assert_eq!(
        env.secrets
            .list(&Default::default())
            .await
            .unwrap()
            .items
            .len(),
        2
    );

    // A token in the URL, or a name taken by other credentials: refused.
    let out = env
        .run(
            &[
                "add",
                "https://bot:tok@git.example.com/y.git",
                "--password-stdin",
            ],
            "p",
        )
        .await;
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("carries a user name or token"));
    let out = env
        .run(
            &[
                "add",
                "https://git.example.com/org/deploy.git",
                "--prefix",
                "--name",
                "repo-git-example-com-org",
                "--password-stdin",
            ],
            "p",
        )
        .await;
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("holds something else"),
        "{}",
        show(&out)
    );
    assert_eq!(
        env.secrets
            .list(&Default::default())
            .await
            .unwrap()
            .items
            .len(),
        2
    );

    let out = env.run(&["rm", repo], "").await;
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let view = env.controller_view().await;
    // The prefix still covers the repository once its own Secret is gone.
    assert_eq!(
        view.lookup(repo).unwrap().secret,
        "repo-git-example-com-org"
    );
    let out = env.run(&["rm", repo], "").await;
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no repository credentials for"),
        "{}",
        show(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_diff_reads_a_private_repository_with_the_saved_credentials() {
    let env = env().await;
    let client = env.secrets.clone().into_client();
    let crds: Api<kube::api::DynamicObject> = Api::all_with(
        client.clone(),
        &kube::api::ApiResource::from_gvk_with_plural(
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
    let served = env.tmp.path().join("served");
    let work = served.join("deploy");
    sextant_testkit::write_files(
        &work,
        &[(
            "app/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  color: blue\n",
        )],
    );
    sextant_testkit::git(&work, &["init", "-q", "-b", "main"]);
    sextant_testkit::git(&work, &["add", "-A"]);
    sextant_testkit::git(&work, &["commit", "-qm", "one"]);
    let server = sextant_testkit::HttpGitServer::with_account(&served, "bot", "saved-pass");
    let apps: Api<sextant_model::Application> = Api::namespaced(client, "sextant");
    apps.create(
        &PostParams::default(),
        &serde_json::from_value(serde_json::json!({
            "apiVersion": "sextant.dev/v1alpha1", "kind": "Application",
            "metadata": {"name": "web", "namespace": "sextant"},
            "spec": {
                "project": "default",
                "source": {"repoURL": server.url("deploy"), "path": "app", "targetRevision": "main"},
                "destination": {"server": "https://kubernetes.default.svc", "namespace": "default"},
            },
        }))
        .unwrap(),
    )
    .await
    .unwrap();
    let diff = || {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_sextant"))
            .args(["app", "diff", "web", "--kubeconfig"])
            .arg(env.server.kubeconfig_path())
            .env_remove("KUBECONFIG")
            .env_remove("SEXTANT_NAMESPACE")
            .env("HOME", env.tmp.path())
            .env("SEXTANT_CACHE_DIR", env.tmp.path().join("cache"))
            .kill_on_drop(true)
            .output()
    };

    let out = diff().await.unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("requires authentication"),
        "{}",
        show(&out)
    );

    let out = env
        .run(
            &[
                "add",
                &server.url("deploy"),
                "--username",
                "bot",
                "--password-stdin",
            ],
            "saved-pass",
        )
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let out = diff().await.unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "the ConfigMap is to be added: {}",
        show(&out)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("settings"),
        "{}",
        show(&out)
    );
}
