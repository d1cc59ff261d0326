//! What happens after an apply, as on a real cluster: defaulting, the
//! simulated controllers (rollouts, failures, Jobs, StatefulSets,
//! DaemonSets, Services, PVCs, Endpoints, Events) and garbage collection —
//! checked with kubectl where it has a command for it.

use crate::support;

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, PropagationPolicy, WatchEvent, WatchParams};
use support::start;

fn deployment(name: &str, image: &str, replicas: u32, extra_spec: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  replicas: {replicas}\n{extra_spec}  selector:\n    matchLabels: {{app: {name}}}\n  template:\n    metadata:\n      labels: {{app: {name}}}\n    spec:\n      containers:\n      - name: main\n        image: {image}\n        ports:\n        - containerPort: 8080\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn defaults_are_visible_in_kubectl_get() {
    let (_server, k) = start().await;
    let f = k.write("d.yaml", &deployment("web", "nginx:1.25", 1, ""));
    k.ok(&["apply", "-f", &f]).await;
    let d: serde_json::Value =
        serde_json::from_str(&k.ok(&["get", "deploy", "web", "-o", "json"]).await).unwrap();
    assert_eq!(d["spec"]["strategy"]["type"], "RollingUpdate");
    assert_eq!(d["spec"]["strategy"]["rollingUpdate"]["maxSurge"], "25%");
    assert_eq!(d["spec"]["revisionHistoryLimit"], 10);
    assert_eq!(d["spec"]["progressDeadlineSeconds"], 600);
    let pod = &d["spec"]["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Always");
    assert_eq!(pod["dnsPolicy"], "ClusterFirst");
    assert_eq!(pod["schedulerName"], "default-scheduler");
    assert_eq!(pod["terminationGracePeriodSeconds"], 30);
    assert_eq!(pod["securityContext"], serde_json::json!({}));
    let c = &pod["containers"][0];
    assert_eq!(c["imagePullPolicy"], "IfNotPresent");
    assert_eq!(c["terminationMessagePolicy"], "File");
    assert_eq!(c["ports"][0]["protocol"], "TCP");

    let svc = k.write("s.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n");
    k.ok(&["apply", "-f", &svc]).await;
    let s: serde_json::Value =
        serde_json::from_str(&k.ok(&["get", "svc", "web", "-o", "json"]).await).unwrap();
    assert_eq!(s["spec"]["type"], "ClusterIP");
    assert_eq!(s["spec"]["sessionAffinity"], "None");
    assert_eq!(s["spec"]["ports"][0]["targetPort"], 80);
    assert!(
        s["spec"]["clusterIP"]
            .as_str()
            .unwrap()
            .starts_with("10.96.")
    );
    assert_eq!(s["spec"]["ipFamilies"][0], "IPv4");
    // A defaulted object diffs clean against its manifest (once the
    // rollout is done: kubectl diff would show a status written between
    // its read and its dry run).
    k.ok(&["rollout", "status", "deploy/web", "--timeout=120s"])
        .await;
    let (code, out, _) = k.run(&["diff", "-f", &f]).await;
    assert_eq!(code, 0, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_rolls_out_updates_and_rolls_back() {
    let (_server, k) = start().await;
    let f = k.write("d.yaml", &deployment("web", "nginx:1.25", 3, ""));
    k.ok(&["apply", "-f", &f]).await;
    k.ok(&[
        "wait",
        "--for=condition=Available",
        "deploy/web",
        "--timeout=30s",
    ])
    .await;
    let out = k
        .ok(&["rollout", "status", "deploy/web", "--timeout=30s"])
        .await;
    assert!(out.contains("successfully rolled out"), "{out}");
    let pods = k
        .ok(&[
            "get",
            "pods",
            "-l",
            "app=web",
            "-o",
            "jsonpath={.items[*].status.phase}",
        ])
        .await;
    assert_eq!(pods, "Running Running Running");
    let status: serde_json::Value =
        serde_json::from_str(&k.ok(&["get", "deploy", "web", "-o", "json"]).await).unwrap();
    for f in [
        "replicas",
        "updatedReplicas",
        "readyReplicas",
        "availableReplicas",
    ] {
        assert_eq!(status["status"][f], 3, "{f}");
    }
    assert_eq!(status["status"]["observedGeneration"], 1);

    k.ok(&["set", "image", "deploy/web", "main=nginx:1.26"])
        .await;
    k.ok(&["rollout", "status", "deploy/web", "--timeout=30s"])
        .await;
    let rs = k
        .ok(&[
            "get",
            "rs",
            "-l",
            "app=web",
            "-o",
            "jsonpath={range .items[*]}{.spec.replicas}{\" \"}{end}",
        ])
        .await;
    let mut counts: Vec<&str> = rs.split_whitespace().collect();
    counts.sort();
    assert_eq!(counts, vec!["0", "3"], "old ReplicaSet scaled to zero");
    k.ok(&["rollout", "undo", "deploy/web"]).await;
    k.ok(&["rollout", "status", "deploy/web", "--timeout=30s"])
        .await;
    let image = k
        .ok(&[
            "get",
            "deploy",
            "web",
            "-o",
            "jsonpath={.spec.template.spec.containers[0].image}",
        ])
        .await;
    assert_eq!(image, "nginx:1.25");
    let history = k.ok(&["rollout", "history", "deploy/web"]).await;
    assert!(history.contains('3'), "revisions recorded: {history}");

    // Scaling through the scale subresource.
    k.ok(&["scale", "deploy/web", "--replicas=1"]).await;
    k.ok(&["rollout", "status", "deploy/web", "--timeout=30s"])
        .await;
    let n = k.ok(&["get", "pods", "-l", "app=web", "-o", "name"]).await;
    assert_eq!(n.lines().count(), 1, "{n}");

    let events = k
        .ok(&[
            "get",
            "events",
            "--field-selector",
            "involvedObject.name=web",
            "-o",
            "jsonpath={.items[*].reason}",
        ])
        .await;
    assert!(events.contains("ScalingReplicaSet"), "{events}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_image_ends_in_progress_deadline_exceeded() {
    let (_server, k) = start().await;
    let f = k.write(
        "d.yaml",
        &deployment(
            "bad",
            "nginx:doesnotexist",
            1,
            "  progressDeadlineSeconds: 2\n",
        ),
    );
    k.ok(&["apply", "-f", &f]).await;
    let (code, out, err) = k
        .run(&["rollout", "status", "deploy/bad", "--timeout=40s"])
        .await;
    assert_ne!(code, 0);
    assert!(
        err.contains("exceeded its progress deadline"),
        "{out}\n{err}"
    );
    let reason = k
        .ok(&[
            "get",
            "deploy",
            "bad",
            "-o",
            "jsonpath={.status.conditions[?(@.type==\"Progressing\")].reason}",
        ])
        .await;
    assert_eq!(reason, "ProgressDeadlineExceeded");
    let waiting = k
        .ok(&[
            "get",
            "pods",
            "-l",
            "app=bad",
            "-o",
            "jsonpath={.items[0].status.containerStatuses[0].state.waiting.reason}",
        ])
        .await;
    assert!(
        waiting == "ImagePullBackOff" || waiting == "ErrImagePull",
        "{waiting}"
    );
    let table = k.ok(&["get", "pods", "-l", "app=bad"]).await;
    assert!(
        table.contains("ImagePullBackOff") || table.contains("ErrImagePull"),
        "{table}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_loops_and_never_ready_pods_are_visible() {
    let (_server, k) = start().await;
    let crash = deployment("crash", "busybox:crashloop", 1, "");
    let never = deployment("never", "nginx:1.25", 1, "").replace(
        "    metadata:\n      labels: {app: never}\n",
        "    metadata:\n      labels: {app: never}\n      annotations: {localkube.sextant.dev/simulate: never-ready}\n",
    );
    let f = k.write("d.yaml", &format!("{crash}---\n{never}"));
    k.ok(&["apply", "-f", &f]).await;
    let mut seen = String::new();
    for _ in 0..100 {
        seen = k
            .ok(&[
                "get",
                "pods",
                "-l",
                "app=crash",
                "-o",
                "jsonpath={.items[0].status.containerStatuses[0].state.waiting.reason}",
            ])
            .await;
        if seen == "CrashLoopBackOff" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(seen, "CrashLoopBackOff");
    let (code, _, _) = k
        .run(&[
            "wait",
            "--for=condition=Ready",
            "pod",
            "-l",
            "app=never",
            "--timeout=2s",
        ])
        .await;
    assert_ne!(code, 0, "a never-ready pod does not become Ready");
    let phase = k
        .ok(&[
            "get",
            "pods",
            "-l",
            "app=never",
            "-o",
            "jsonpath={.items[0].status.phase}",
        ])
        .await;
    assert_eq!(phase, "Running");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_complete_or_fail() {
    let (_server, k) = start().await;
    let job = |name: &str, image: &str| {
        format!(
            "apiVersion: batch/v1\nkind: Job\nmetadata: {{name: {name}}}\nspec:\n  backoffLimit: 1\n  completions: 2\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{{name: main, image: \"{image}\"}}]\n"
        )
    };
    let f = k.write(
        "j.yaml",
        &format!(
            "{}---\n{}",
            job("ok", "busybox:1.36"),
            job("bad", "busybox:fail")
        ),
    );
    k.ok(&["apply", "-f", &f]).await;
    k.ok(&[
        "wait",
        "--for=condition=Complete",
        "job/ok",
        "--timeout=30s",
    ])
    .await;
    assert_eq!(
        k.ok(&["get", "job", "ok", "-o", "jsonpath={.status.succeeded}"])
            .await,
        "2"
    );
    k.ok(&["wait", "--for=condition=Failed", "job/bad", "--timeout=30s"])
        .await;
    let reason = k
        .ok(&[
            "get",
            "job",
            "bad",
            "-o",
            "jsonpath={.status.conditions[?(@.type==\"Failed\")].reason}",
        ])
        .await;
    assert_eq!(reason, "BackoffLimitExceeded");
    // A Job with the wrong restart policy is rejected as on a real server.
    let bad = k.write(
        "b.yaml",
        &job("always", "busybox").replace("restartPolicy: Never", "restartPolicy: Always"),
    );
    let err = k.fails(&["apply", "-f", &bad]).await;
    assert!(
        err.contains("restartPolicy") && err.contains("Unsupported value"),
        "{err}"
    );
    // A manual run of a CronJob goes through the Job controller too.
    let cj = k.write("cj.yaml", "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: tick}\nspec:\n  schedule: \"0 0 1 1 *\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: OnFailure\n          containers: [{name: main, image: busybox}]\n");
    k.ok(&["apply", "-f", &cj]).await;
    k.ok(&["create", "job", "tick-now", "--from=cronjob/tick"])
        .await;
    k.ok(&[
        "wait",
        "--for=condition=Complete",
        "job/tick-now",
        "--timeout=30s",
    ])
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statefulsets_daemonsets_services_claims_and_ingresses_settle() {
    let (_server, k) = start().await;
    let f = k.write(
        "all.yaml",
        r#"apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 2
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: db, image: "postgres:16"}]}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {containers: [{name: agent, image: "fluent-bit:3"}]}
---
apiVersion: v1
kind: Service
metadata: {name: db}
spec:
  type: LoadBalancer
  selector: {app: db}
  ports: [{port: 5432}]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  rules:
  - host: web.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: db, port: {number: 5432}}}}
"#,
    );
    k.ok(&["apply", "-f", &f]).await;
    k.ok(&["rollout", "status", "statefulset/db", "--timeout=30s"])
        .await;
    let names = k
        .ok(&[
            "get",
            "pods",
            "-l",
            "app=db",
            "-o",
            "jsonpath={.items[*].metadata.name}",
        ])
        .await;
    assert_eq!(names, "db-0 db-1");
    k.ok(&["rollout", "status", "daemonset/agent", "--timeout=30s"])
        .await;
    let nodes = k.ok(&["get", "nodes", "-o", "name"]).await.lines().count();
    let agents = k
        .ok(&["get", "pods", "-l", "app=agent", "-o", "name"])
        .await
        .lines()
        .count();
    assert_eq!(agents, nodes, "one agent per node");
    k.ok(&[
        "wait",
        "--for=jsonpath={.status.phase}=Bound",
        "pvc/data",
        "--timeout=30s",
    ])
    .await;
    k.ok(&[
        "wait",
        "--for=jsonpath={.status.loadBalancer.ingress[0].ip}",
        "svc/db",
        "--timeout=30s",
    ])
    .await;
    k.ok(&[
        "wait",
        "--for=jsonpath={.status.loadBalancer.ingress[0].ip}",
        "ingress/web",
        "--timeout=30s",
    ])
    .await;
    // Endpoints follow the ready pods.
    let mut ips = String::new();
    for _ in 0..100 {
        ips = k
            .ok(&[
                "get",
                "endpoints",
                "db",
                "-o",
                "jsonpath={.subsets[0].addresses[*].ip}",
            ])
            .await;
        if ips.split_whitespace().count() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(ips.split_whitespace().count(), 2, "{ips}");
    let slice = k
        .ok(&[
            "get",
            "endpointslices",
            "-l",
            "kubernetes.io/service-name=db",
            "-o",
            "jsonpath={.items[0].endpoints[*].conditions.ready}",
        ])
        .await;
    assert_eq!(slice, "true true");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreground_deletion_removes_dependents_before_the_owner() {
    let (server, k) = start().await;
    let f = k.write("d.yaml", &deployment("fg", "nginx:1.25", 2, ""));
    k.ok(&["apply", "-f", &f]).await;
    k.ok(&["rollout", "status", "deploy/fg", "--timeout=30s"])
        .await;
    let client = server.client().await;
    let deps: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let rss: Api<ReplicaSet> = Api::namespaced(client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let rv = deps
        .get("fg")
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let mut dw = deps
        .watch(&WatchParams::default(), &rv)
        .await
        .unwrap()
        .boxed();
    let mut rw = rss
        .watch(&WatchParams::default(), &rv)
        .await
        .unwrap()
        .boxed();
    let mut pw = pods
        .watch(&WatchParams::default(), &rv)
        .await
        .unwrap()
        .boxed();
    deps.delete(
        "fg",
        &DeleteParams {
            propagation_policy: Some(PropagationPolicy::Foreground),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    async fn deleted_rv<
        K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
    >(
        w: &mut (impl futures::Stream<Item = kube::Result<WatchEvent<K>>> + Unpin),
        n: usize,
    ) -> Vec<u64> {
        let mut out = Vec::new();
        while out.len() < n {
            let ev = tokio::time::timeout(Duration::from_secs(10), w.try_next())
                .await
                .unwrap()
                .unwrap()
                .unwrap();
            if let WatchEvent::Deleted(o) = ev {
                out.push(o.meta().resource_version.clone().unwrap().parse().unwrap());
            }
        }
        out
    }
    let owner = deleted_rv(&mut dw, 1).await[0];
    let rs = deleted_rv(&mut rw, 1).await;
    let ps = deleted_rv(&mut pw, 2).await;
    assert!(
        rs.iter().chain(&ps).all(|rv| *rv < owner),
        "dependents {rs:?} {ps:?} go before the owner {owner}"
    );
    assert!(
        ps.iter().all(|p| *p < rs[0]),
        "pods go before their ReplicaSet"
    );

    // Orphan leaves the ReplicaSet, without its owner reference.
    let f = k.write("o.yaml", &deployment("orphan", "nginx:1.25", 1, ""));
    k.ok(&["apply", "-f", &f]).await;
    k.ok(&["rollout", "status", "deploy/orphan", "--timeout=30s"])
        .await;
    k.ok(&["delete", "deploy", "orphan", "--cascade=orphan"])
        .await;
    let left = k
        .ok(&[
            "get",
            "rs",
            "-l",
            "app=orphan",
            "-o",
            "jsonpath={.items[0].metadata.ownerReferences}",
        ])
        .await;
    assert_eq!(left, "", "the orphaned ReplicaSet lost its owner reference");
    assert_eq!(
        k.ok(&["get", "rs", "-l", "app=orphan", "-o", "name"])
            .await
            .lines()
            .count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespaces_terminate_after_their_contents_and_finalizers_block() {
    let (_server, k) = start().await;
    k.ok(&["create", "namespace", "doomed"]).await;
    let f = k.write(
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: held, namespace: doomed, finalizers: [example.com/hold]}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: free, namespace: doomed}\n",
    );
    k.ok(&["apply", "-f", &f]).await;
    k.ok(&["delete", "namespace", "doomed", "--wait=false"])
        .await;
    assert_eq!(
        k.ok(&["get", "ns", "doomed", "-o", "jsonpath={.status.phase}"])
            .await,
        "Terminating"
    );
    let (code, _, _) = k.run(&["get", "cm", "free", "-n", "doomed"]).await;
    assert_eq!(code, 1, "unblocked contents are gone");
    let ts = k
        .ok(&[
            "get",
            "cm",
            "held",
            "-n",
            "doomed",
            "-o",
            "jsonpath={.metadata.deletionTimestamp}",
        ])
        .await;
    assert!(!ts.is_empty(), "the held object is marked for deletion");
    let err = k
        .fails(&["create", "configmap", "late", "-n", "doomed"])
        .await;
    assert!(err.contains("being terminated"), "{err}");
    k.ok(&[
        "patch",
        "cm",
        "held",
        "-n",
        "doomed",
        "--type=merge",
        "-p",
        r#"{"metadata":{"finalizers":null}}"#,
    ])
    .await;
    let (code, _, err) = k.run(&["get", "ns", "doomed"]).await;
    assert_eq!(code, 1, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crd_schemas_default_and_prune() {
    let (_server, k) = start().await;
    let crd = k.write(
        "crd.yaml",
        r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gizmos.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: gizmos, kind: Gizmo}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer, default: 2}
              opaque: {type: object, x-kubernetes-preserve-unknown-fields: true}
          status: {type: object, properties: {ready: {type: boolean}}}
"#,
    );
    k.ok(&["apply", "-f", &crd]).await;
    k.ok(&[
        "wait",
        "--for",
        "condition=Established",
        "crd/gizmos.example.com",
        "--timeout=20s",
    ])
    .await;
    let g = k.write("g.yaml", "apiVersion: example.com/v1\nkind: Gizmo\nmetadata: {name: g}\nspec:\n  extra: dropped\n  opaque: {kept: x}\nstatus: {ready: true}\n");
    // kubectl's strict validation would refuse the unknown field; the
    // server prunes it (with a warning) when validation is off.
    let (_, err) = k
        .ok_with_stderr(&["apply", "--validate=false", "-f", &g])
        .await;
    assert!(err.contains("unknown field \"spec.extra\""), "{err}");
    let obj: serde_json::Value =
        serde_json::from_str(&k.ok(&["get", "gizmo", "g", "-o", "json"]).await).unwrap();
    assert_eq!(obj["spec"]["size"], 2, "defaulted");
    assert!(obj["spec"].get("extra").is_none(), "pruned");
    assert_eq!(obj["spec"]["opaque"]["kept"], "x", "preserved");
    assert!(
        obj.get("status").is_none(),
        "status is ignored on the main resource"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cronjob_creates_a_job_at_its_next_scheduled_minute() {
    // The only test that waits for the clock: a schedule fires at most a
    // minute after creation.
    let (_server, k) = start().await;
    let cj = k.write(
        "cj.yaml",
        "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: every-minute}\nspec:\n  schedule: \"* * * * *\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: Never\n          containers: [{name: main, image: busybox}]\n",
    );
    k.ok(&["apply", "-f", &cj]).await;
    let mut jobs = String::new();
    for _ in 0..150 {
        jobs = k
            .ok(&[
                "get",
                "jobs",
                "-o",
                "jsonpath={.items[*].metadata.ownerReferences[0].name}",
            ])
            .await;
        if jobs.contains("every-minute") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(jobs.contains("every-minute"), "no Job created: {jobs}");
    let last = k
        .ok(&[
            "get",
            "cronjob",
            "every-minute",
            "-o",
            "jsonpath={.status.lastScheduleTime}",
        ])
        .await;
    assert!(
        last.ends_with(":00Z"),
        "scheduled on a minute boundary: {last}"
    );
}
