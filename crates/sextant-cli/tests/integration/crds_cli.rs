//! `sextant crds` prints CRDs that kubectl applies to an API server, after
//! which `kubectl get applications` works.

use std::io::Write;
use std::process::{Command, Stdio};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn printed_crds_apply_with_kubectl_and_serve_applications() {
    let out = Command::new(env!("CARGO_BIN_EXE_sextant"))
        .arg("crds")
        .output()
        .unwrap();
    assert!(out.status.success());
    let yaml = String::from_utf8(out.stdout).unwrap();
    assert_eq!(yaml.matches("kind: CustomResourceDefinition").count(), 3);

    let server = localkube::LocalKube::start(localkube::Config::default())
        .await
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let kubectl = |args: &[&str], input: Option<&str>| {
        let mut child = Command::new("kubectl")
            .args(args)
            .env("KUBECONFIG", server.kubeconfig_path())
            .env("HOME", home.path())
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
    };
    let applied = tokio::task::block_in_place(|| kubectl(&["apply", "-f", "-"], Some(&yaml)));
    assert!(
        applied.contains("applications.sextant.dev created"),
        "{applied}"
    );
    let app = "apiVersion: sextant.dev/v1alpha1\nkind: Application\nmetadata: {name: web}\nspec:\n  project: default\n  source: {repoURL: 'file:///repo', path: apps/web, targetRevision: HEAD}\n  destination: {server: 'https://kubernetes.default.svc', namespace: web}\n";
    tokio::task::block_in_place(|| kubectl(&["apply", "-f", "-"], Some(app)));
    let got = tokio::task::block_in_place(|| {
        kubectl(
            &[
                "get",
                "applications.sextant.dev",
                "web",
                "-o",
                "jsonpath={.spec.source.path}",
            ],
            None,
        )
    });
    assert_eq!(got, "apps/web");
}
