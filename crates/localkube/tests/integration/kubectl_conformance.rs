//! Conformance suite: the real `kubectl` against a freshly started
//! localkube. Every step asserts on kubectl's output or exit code, so a
//! behaviour kubectl relies on cannot silently break.

use crate::support;

use std::time::Duration;

use support::start;

const DEPLOYMENT: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.25
        ports:
        - containerPort: 80
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_and_api_resources_describe_the_server() {
    let (_server, k) = start().await;
    let out = k.ok(&["version", "-o", "json"]).await;
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let release = if support::real() { "v1.36" } else { "v1.33" };
    let git_version = v["serverVersion"]["gitVersion"].as_str().unwrap();
    assert!(git_version.starts_with(release), "{git_version}");

    let out = k.ok(&["api-resources"]).await;
    let line = out
        .lines()
        .find(|l| l.starts_with("deployments "))
        .expect("deployments listed");
    let cols: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        cols,
        vec!["deployments", "deploy", "apps/v1", "true", "Deployment"]
    );
    let ns = out.lines().find(|l| l.starts_with("namespaces ")).unwrap();
    assert!(ns.contains("false"), "namespaces are cluster-scoped: {ns}");
    let out = k
        .ok(&[
            "api-resources",
            "--api-group=rbac.authorization.k8s.io",
            "-o",
            "name",
        ])
        .await;
    assert!(out.contains("clusterroles.rbac.authorization.k8s.io"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_namespace_and_client_side_apply_cycle() {
    let (_server, k) = start().await;
    assert_eq!(
        k.ok(&["create", "namespace", "conf"]).await.trim(),
        "namespace/conf created"
    );
    let out = k
        .ok(&["get", "namespace", "conf", "-o", "jsonpath={.status.phase}"])
        .await;
    assert_eq!(out, "Active");

    let file = k.write("web.yaml", DEPLOYMENT);
    let out = k.ok(&["apply", "-n", "conf", "-f", &file]).await;
    assert_eq!(out.trim(), "deployment.apps/web created");
    let out = k.ok(&["apply", "-n", "conf", "-f", &file]).await;
    assert_eq!(out.trim(), "deployment.apps/web unchanged");
    let file = k.write("web.yaml", &DEPLOYMENT.replace("nginx:1.25", "nginx:1.26"));
    let (out, err) = k
        .ok_with_stderr(&["apply", "-n", "conf", "-f", &file])
        .await;
    assert_eq!(out.trim(), "deployment.apps/web configured");
    assert!(!err.contains("warning"), "apply printed warnings: {err}");
    let image = k
        .ok(&[
            "get",
            "deploy",
            "web",
            "-n",
            "conf",
            "-o",
            "jsonpath={.spec.template.spec.containers[0].image}",
        ])
        .await;
    assert_eq!(image, "nginx:1.26");
    let generation = k
        .ok(&[
            "get",
            "deploy",
            "web",
            "-n",
            "conf",
            "-o",
            "jsonpath={.metadata.generation}",
        ])
        .await;
    assert_eq!(generation, "2");

    // Removing a port in the file removes it from the object (the
    // three-way strategic merge patch deletes it).
    let file = k.write(
        "web.yaml",
        &DEPLOYMENT.replace("        ports:\n        - containerPort: 80\n", ""),
    );
    k.ok(&["apply", "-n", "conf", "-f", &file]).await;
    let ports = k
        .ok(&[
            "get",
            "deploy",
            "web",
            "-n",
            "conf",
            "-o",
            "jsonpath={.spec.template.spec.containers[0].ports}",
        ])
        .await;
    assert_eq!(ports, "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_side_apply_reports_conflicts_unless_forced() {
    let (_server, k) = start().await;
    let file = k.write("web.yaml", DEPLOYMENT);
    let out = k.ok(&["apply", "--server-side", "-f", &file]).await;
    assert_eq!(out.trim(), "deployment.apps/web serverside-applied");
    let out = k.ok(&["scale", "deployment", "web", "--replicas=5"]).await;
    assert_eq!(out.trim(), "deployment.apps/web scaled");

    let file = k.write("web.yaml", &DEPLOYMENT.replace("nginx:1.25", "nginx:1.27"));
    let err = k.fails(&["apply", "--server-side", "-f", &file]).await;
    assert!(err.contains("conflict"), "{err}");
    assert!(err.contains(".spec.replicas"), "{err}");
    assert!(err.contains("kubectl"), "names the other manager: {err}");
    let image = k
        .ok(&[
            "get",
            "deploy",
            "web",
            "-o",
            "jsonpath={.spec.template.spec.containers[0].image}",
        ])
        .await;
    assert_eq!(image, "nginx:1.25", "a conflicting apply changes nothing");

    let out = k
        .ok(&["apply", "--server-side", "--force-conflicts", "-f", &file])
        .await;
    assert_eq!(out.trim(), "deployment.apps/web serverside-applied");
    let replicas = k
        .ok(&["get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"])
        .await;
    assert_eq!(replicas, "2");
    let managers = k
        .ok(&[
            "get",
            "deploy",
            "web",
            "--show-managed-fields",
            "-o",
            "jsonpath={.metadata.managedFields[*].manager}",
        ])
        .await;
    assert!(managers.contains("kubectl"), "{managers}");

    // Dropping a field from the applied config removes it.
    let file = k.write(
        "web.yaml",
        &DEPLOYMENT
            .replace("  name: web\n  labels: {app: web}\n", "  name: web\n")
            .replace("nginx:1.25", "nginx:1.27"),
    );
    k.ok(&["apply", "--server-side", "--force-conflicts", "-f", &file])
        .await;
    let labels = k
        .ok(&["get", "deploy", "web", "-o", "jsonpath={.metadata.labels}"])
        .await;
    assert_eq!(labels, "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_formats_label_annotate_and_patch() {
    let (_server, k) = start().await;
    let file = k.write("web.yaml", DEPLOYMENT);
    k.ok(&["apply", "-f", &file]).await;

    let yaml = k.ok(&["get", "deploy", "web", "-o", "yaml"]).await;
    assert!(yaml.contains("kind: Deployment"));
    assert!(yaml.contains("uid: "));
    assert!(yaml.contains("resourceVersion: "));
    let json = k.ok(&["get", "deploy", "web", "-o", "json"]).await;
    let obj: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(obj["spec"]["replicas"], 2);
    let wide = k.ok(&["get", "deploy", "-o", "wide"]).await;
    let header = wide.lines().next().unwrap();
    for col in [
        "NAME",
        "READY",
        "UP-TO-DATE",
        "AVAILABLE",
        "AGE",
        "CONTAINERS",
        "IMAGES",
        "SELECTOR",
    ] {
        assert!(header.contains(col), "missing column {col}: {header}");
    }
    assert!(
        wide.contains("nginx:1.25") && wide.contains("app=web"),
        "{wide}"
    );

    assert_eq!(
        k.ok(&["label", "deploy", "web", "tier=front"]).await.trim(),
        "deployment.apps/web labeled"
    );
    assert_eq!(
        k.ok(&["annotate", "deploy", "web", "owner=team-a"])
            .await
            .trim(),
        "deployment.apps/web annotated"
    );
    assert_eq!(
        k.ok(&[
            "get",
            "deploy",
            "web",
            "-o",
            "jsonpath={.metadata.labels.tier}"
        ])
        .await,
        "front"
    );
    assert_eq!(
        k.ok(&[
            "get",
            "deploy",
            "web",
            "-o",
            "jsonpath={.metadata.annotations.owner}"
        ])
        .await,
        "team-a"
    );
    let out = k.ok(&["label", "deploy", "web", "tier-"]).await;
    assert_eq!(out.trim(), "deployment.apps/web unlabeled");

    let out = k
        .ok(&[
            "patch",
            "deploy",
            "web",
            "--type=merge",
            "-p",
            r#"{"spec":{"replicas":3}}"#,
        ])
        .await;
    assert_eq!(out.trim(), "deployment.apps/web patched");
    assert_eq!(
        k.ok(&["get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"])
            .await,
        "3"
    );
    k.ok(&[
        "patch",
        "deploy",
        "web",
        "--type=json",
        "-p",
        r#"[{"op":"replace","path":"/spec/replicas","value":4}]"#,
    ])
    .await;
    assert_eq!(
        k.ok(&["get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"])
            .await,
        "4"
    );
    // Strategic merge: a second container is merged in by name; one new to
    // the server comes first, as kube-apiserver orders it.
    k.ok(&[
        "patch",
        "deploy",
        "web",
        "-p",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox:1.36"}]}}}}"#,
    ])
    .await;
    let names = k
        .ok(&[
            "get",
            "deploy",
            "web",
            "-o",
            "jsonpath={.spec.template.spec.containers[*].name}",
        ])
        .await;
    assert_eq!(names, "sidecar web");
    let err = k
        .fails(&[
            "patch",
            "deploy",
            "web",
            "--type=json",
            "-p",
            r#"[{"op":"test","path":"/spec/replicas","value":9}]"#,
        ])
        .await;
    assert!(
        err.contains(
            "The request is invalid: the server rejected our request due to an error in our request"
        ),
        "{err}"
    );
    // kubectl says "no change" when the object it read equals the patch's
    // answer: let the simulated rollout finish first, so no status write
    // lands in between.
    k.ok(&["rollout", "status", "deploy/web", "--timeout=120s"])
        .await;
    let out = k
        .ok(&[
            "patch",
            "deploy",
            "web",
            "--type=merge",
            "-p",
            r#"{"spec":{"replicas":4}}"#,
        ])
        .await;
    assert_eq!(out.trim(), "deployment.apps/web patched (no change)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diff_dry_run_and_delete() {
    let (_server, k) = start().await;
    let file = k.write("web.yaml", DEPLOYMENT);
    let (code, out, _) = k.run(&["diff", "-f", &file]).await;
    assert_eq!(code, 1, "diff against nothing shows a creation: {out}");
    k.ok(&["apply", "-f", &file]).await;
    k.ok(&["rollout", "status", "deploy/web", "--timeout=120s"])
        .await;
    let (code, out, err) = k.run(&["diff", "-f", &file]).await;
    assert_eq!(code, 0, "no change: {out} {err}");
    assert!(out.is_empty());
    let changed = k.write(
        "web.yaml",
        &DEPLOYMENT.replace("replicas: 2", "replicas: 7"),
    );
    let (code, out, _) = k.run(&["diff", "-f", &changed]).await;
    assert_eq!(code, 1);
    assert!(
        out.contains("-  replicas: 2") && out.contains("+  replicas: 7"),
        "{out}"
    );

    let out = k.ok(&["apply", "--dry-run=server", "-f", &changed]).await;
    assert_eq!(
        out.trim(),
        "deployment.apps/web configured (server dry run)"
    );
    assert_eq!(
        k.ok(&["get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"])
            .await,
        "2"
    );
    let cm = k.write(
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dry}\ndata: {a: b}\n",
    );
    let out = k.ok(&["apply", "--dry-run=server", "-f", &cm]).await;
    assert_eq!(out.trim(), "configmap/dry created (server dry run)");
    let (code, _, err) = k.run(&["get", "configmap", "dry"]).await;
    assert_eq!(code, 1);
    assert!(
        err.contains("NotFound") || err.contains("not found"),
        "{err}"
    );

    // An invalid object is rejected with the field named.
    let bad = k.write(
        "bad.yaml",
        &DEPLOYMENT.replace("matchLabels: {app: web}", "matchLabels: {app: other}"),
    );
    let err = k.fails(&["apply", "--dry-run=server", "-f", &bad]).await;
    assert!(err.contains("spec.template.metadata.labels"), "{err}");
    let unknown = k.write(
        "unknown.yaml",
        &DEPLOYMENT.replace("  replicas: 2", "  replicas: 2\n  bogus: 1"),
    );
    let err = k.fails(&["apply", "-f", &unknown]).await;
    assert!(err.contains("unknown field \"spec.bogus\""), "{err}");

    assert_eq!(
        k.ok(&["delete", "-f", &file]).await.trim(),
        "deployment.apps \"web\" deleted"
    );
    let (code, _, err) = k.run(&["get", "deploy", "web"]).await;
    assert_eq!(code, 1);
    assert!(err.contains("deployments.apps \"web\" not found"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_sees_a_change() {
    let (_server, k) = start().await;
    k.ok(&["create", "configmap", "watched", "--from-literal=a=1"])
        .await;
    let mut watch = k.spawn(&[
        "get",
        "configmap",
        "watched",
        "--watch",
        "--output-watch-events",
        "-o",
        "jsonpath={.type} {.object.data.a}{\"\\n\"}",
    ]);
    watch
        .expect_line(|l| l.contains("ADDED 1"), Duration::from_secs(20))
        .await;
    k.ok(&[
        "patch",
        "configmap",
        "watched",
        "--type=merge",
        "-p",
        r#"{"data":{"a":"2"}}"#,
    ])
    .await;
    watch
        .expect_line(|l| l.contains("MODIFIED 2"), Duration::from_secs(20))
        .await;
    k.ok(&["delete", "configmap", "watched"]).await;
    watch
        .expect_line(|l| l.contains("DELETED"), Duration::from_secs(20))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crd_then_an_object_of_its_kind() {
    let (_server, k) = start().await;
    let crd = k.write(
        "crd.yaml",
        r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    additionalPrinterColumns:
    - {name: Size, type: integer, jsonPath: .spec.size}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer, default: 1}
"#,
    );
    assert_eq!(
        k.ok(&["apply", "-f", &crd]).await.trim(),
        "customresourcedefinition.apiextensions.k8s.io/widgets.example.com created"
    );
    k.ok(&[
        "wait",
        "--for",
        "condition=Established",
        "crd/widgets.example.com",
        "--timeout=20s",
    ])
    .await;
    let w = k.write(
        "w.yaml",
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {size: 3}\n",
    );
    assert_eq!(
        k.ok(&["apply", "-f", &w]).await.trim(),
        "widget.example.com/w1 created"
    );
    let out = k.ok(&["get", "widgets"]).await;
    let row = out.lines().nth(1).unwrap();
    assert!(row.starts_with("w1") && row.contains('3'), "{out}");
    assert_eq!(
        k.ok(&["get", "wd", "w1", "-o", "jsonpath={.spec.size}"])
            .await,
        "3"
    );
    let d = k.write(
        "d.yaml",
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w2}\nspec: {}\n",
    );
    k.ok(&["apply", "-f", &d]).await;
    assert_eq!(
        k.ok(&["get", "widget", "w2", "-o", "jsonpath={.spec.size}"])
            .await,
        "1",
        "schema default"
    );
    k.ok(&["delete", "crd", "widgets.example.com"]).await;
    let (code, _, err) = k
        .run(&[
            "get",
            "--raw",
            "/apis/example.com/v1/namespaces/default/widgets",
        ])
        .await;
    assert_eq!(code, 1, "the kind is no longer served: {err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn selectors_and_chunked_lists() {
    let (_server, k) = start().await;
    for i in 0..12 {
        let env = if i % 3 == 0 { "prod" } else { "dev" };
        let file = k.write(
            &format!("cm{i}.yaml"),
            &format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm{i:02}\n  labels: {{env: {env}}}\n"),
        );
        k.ok(&["apply", "-f", &file]).await;
    }
    let out = k.ok(&["get", "cm", "-l", "env=prod", "-o", "name"]).await;
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        vec![
            "configmap/cm00",
            "configmap/cm03",
            "configmap/cm06",
            "configmap/cm09"
        ]
    );
    let out = k
        .ok(&["get", "cm", "-l", "env in (dev),env!=prod", "-o", "name"])
        .await;
    assert_eq!(out.lines().count(), 8);
    let out = k
        .ok(&[
            "get",
            "cm",
            "--field-selector",
            "metadata.name=cm05",
            "-o",
            "name",
        ])
        .await;
    assert_eq!(out.trim(), "configmap/cm05");
    let err = k
        .fails(&["get", "cm", "--field-selector", "spec.nope=1"])
        .await;
    assert!(
        err.contains(r#""spec.nope" is not a known field selector: only "metadata.name", "metadata.namespace""#),
        "{err}"
    );

    let (code, out, err) = k
        .run(&["get", "cm", "--chunk-size=5", "-o", "name", "-v=6"])
        .await;
    assert_eq!(code, 0, "{err}");
    let names: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("configmap/cm"))
        .collect();
    assert_eq!(names.len(), 12, "{out}");
    assert!(err.contains("limit=5"), "kubectl asked for pages: {err}");
    assert!(
        err.contains("continue="),
        "kubectl followed the continue token: {err}"
    );
}
