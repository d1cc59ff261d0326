//! Tests for the protobuf decoder: bodies captured from kubectl 1.33
//! (`testdata/*.pb`, see `testdata/README.md`) and hand-made messages.

use serde_json::{Value, json};

use super::decode::civil_from_days;
use super::{ProtobufError, decode};

macro_rules! fixture {
    ($name:literal) => {
        decode(include_bytes!(concat!("testdata/", $name, ".pb"))).unwrap()
    };
}

const ALL_FIXTURES: &[&[u8]] = &[
    include_bytes!("testdata/clusterrole_aggregation.pb"),
    include_bytes!("testdata/clusterrole_nonresource.pb"),
    include_bytes!("testdata/clusterrole_resource_names.pb"),
    include_bytes!("testdata/clusterrolebinding.pb"),
    include_bytes!("testdata/configmap.pb"),
    include_bytes!("testdata/configmap_from_file.pb"),
    include_bytes!("testdata/cronjob.pb"),
    include_bytes!("testdata/csr_approval.pb"),
    include_bytes!("testdata/deleteoptions.pb"),
    include_bytes!("testdata/deleteoptions_grace_zero.pb"),
    include_bytes!("testdata/deployment.pb"),
    include_bytes!("testdata/deployment_zero_replicas.pb"),
    include_bytes!("testdata/hpa_v1.pb"),
    include_bytes!("testdata/hpa_v2.pb"),
    include_bytes!("testdata/ingress.pb"),
    include_bytes!("testdata/job.pb"),
    include_bytes!("testdata/job_from_cronjob.pb"),
    include_bytes!("testdata/namespace.pb"),
    include_bytes!("testdata/poddisruptionbudget.pb"),
    include_bytes!("testdata/priorityclass.pb"),
    include_bytes!("testdata/priorityclass_global_default.pb"),
    include_bytes!("testdata/resourcequota.pb"),
    include_bytes!("testdata/role.pb"),
    include_bytes!("testdata/rolebinding.pb"),
    include_bytes!("testdata/secret_docker_registry.pb"),
    include_bytes!("testdata/secret_generic.pb"),
    include_bytes!("testdata/selfsubjectaccessreview.pb"),
    include_bytes!("testdata/selfsubjectreview.pb"),
    include_bytes!("testdata/service_clusterip.pb"),
    include_bytes!("testdata/service_externalname.pb"),
    include_bytes!("testdata/service_nodeport.pb"),
    include_bytes!("testdata/serviceaccount.pb"),
    include_bytes!("testdata/tokenrequest.pb"),
];

// ---- a tiny encoder for hand-made messages ----

fn varint(mut v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
    out
}

/// A varint field.
fn vi(tag: u32, v: u64) -> Vec<u8> {
    let mut out = varint(u64::from(tag) << 3);
    out.extend(varint(v));
    out
}

/// A length-delimited field.
fn ld(tag: u32, bytes: &[u8]) -> Vec<u8> {
    let mut out = varint((u64::from(tag) << 3) | 2);
    out.extend(varint(bytes.len() as u64));
    out.extend_from_slice(bytes);
    out
}

fn s(tag: u32, text: &str) -> Vec<u8> {
    ld(tag, text.as_bytes())
}

fn cat(parts: &[Vec<u8>]) -> Vec<u8> {
    parts.concat()
}

/// A full request body: magic + runtime.Unknown.
fn body(api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
    let type_meta = cat(&[s(1, api_version), s(2, kind)]);
    let mut out = b"k8s\0".to_vec();
    out.extend(cat(&[ld(1, &type_meta), ld(2, raw), s(3, ""), s(4, "")]));
    out
}

// ---- fixtures captured from kubectl ----

#[test]
fn namespace() {
    let ns = fixture!("namespace");
    assert_eq!(
        ns,
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns1"}, "spec": {}, "status": {}})
    );
}

#[test]
fn configmaps() {
    let cm = fixture!("configmap");
    assert_eq!(cm["apiVersion"], "v1");
    assert_eq!(cm["kind"], "ConfigMap");
    assert_eq!(cm["metadata"], json!({"name": "cm1"}));
    assert_eq!(cm["data"], json!({"a": "1", "b": "two"}));
    let from_file = fixture!("configmap_from_file");
    let text = from_file["data"]["objs.yaml"].as_str().unwrap();
    assert!(text.starts_with("apiVersion: apps/v1\nkind: Deployment\n"));
}

#[test]
fn secrets_are_base64() {
    let secret = fixture!("secret_generic");
    assert_eq!(secret["kind"], "Secret");
    assert_eq!(secret["metadata"]["name"], "s");
    assert_eq!(secret["data"], json!({"k": "dg=="}));
    // `type` was sent as "" and is omitempty.
    assert!(secret.get("type").is_none());
    let docker = fixture!("secret_docker_registry");
    assert_eq!(docker["type"], "kubernetes.io/dockerconfigjson");
    assert!(
        docker["data"][".dockerconfigjson"]
            .as_str()
            .unwrap()
            .starts_with("eyJhdXRocyI6")
    );
}

#[test]
fn serviceaccount() {
    let sa = fixture!("serviceaccount");
    assert_eq!(
        sa,
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "sa1"}})
    );
}

#[test]
fn deployment_matches_kubectl_json() {
    // What `kubectl create deployment ... -o json` prints, minus its
    // `creationTimestamp: null` (zero times are omitted).
    let labels = json!({"app": "web"});
    assert_eq!(
        fixture!("deployment"),
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "labels": labels},
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": labels},
                "strategy": {},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{
                        "name": "nginx",
                        "image": "nginx:1.27",
                        "ports": [{"containerPort": 80}],
                        "resources": {},
                    }]},
                },
            },
            "status": {},
        })
    );
}

#[test]
fn deployment_zero_replicas_is_kept() {
    let deploy = fixture!("deployment_zero_replicas");
    assert_eq!(deploy["spec"]["replicas"], 0);
    let container = &deploy["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["image"], "busybox");
    assert_eq!(container["command"], json!(["sleep", "3600"]));
}

#[test]
fn services() {
    let svc = fixture!("service_clusterip");
    assert_eq!(svc["metadata"]["labels"], json!({"app": "svc1"}));
    assert_eq!(svc["spec"]["type"], "ClusterIP");
    assert_eq!(svc["spec"]["selector"], json!({"app": "svc1"}));
    assert_eq!(
        svc["spec"]["ports"],
        json!([{"name": "80-8080", "port": 80, "protocol": "TCP", "targetPort": 8080}])
    );
    assert_eq!(svc["status"], json!({"loadBalancer": {}}));
    let np = fixture!("service_nodeport");
    assert_eq!(np["spec"]["ports"][0]["nodePort"], 30080);
    let en = fixture!("service_externalname");
    assert_eq!(en["spec"]["externalName"], "example.com");
    assert!(en["spec"].get("ports").is_none());
}

#[test]
fn jobs_and_cronjobs() {
    let job = fixture!("job");
    assert_eq!(job["kind"], "Job");
    let pod = &job["spec"]["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Never");
    assert_eq!(pod["containers"][0]["name"], "job1");
    assert_eq!(pod["containers"][0]["command"], json!(["echo", "hi"]));
    assert_eq!(job["status"], json!({}));

    let cj = fixture!("cronjob");
    assert_eq!(cj["spec"]["schedule"], "*/5 * * * *");
    let template = &cj["spec"]["jobTemplate"];
    assert_eq!(template["metadata"]["name"], "cj1");
    let pod = &template["spec"]["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "OnFailure");
    assert_eq!(pod["containers"][0]["image"], "busybox");

    let from = fixture!("job_from_cronjob");
    assert_eq!(
        from["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"],
        "manual"
    );
    let owner = &from["metadata"]["ownerReferences"][0];
    assert_eq!(owner["kind"], "CronJob");
    assert_eq!(owner["name"], "cjx");
    assert_eq!(owner["controller"], true);
    assert_eq!(owner["uid"].as_str().unwrap().len(), 36);
}

#[test]
fn rbac() {
    let role = fixture!("role");
    assert_eq!(
        role["rules"],
        json!([{"apiGroups": [""], "resources": ["pods", "configmaps"], "verbs": ["get", "list"]}])
    );
    let names = fixture!("clusterrole_resource_names");
    assert_eq!(names["rules"][1]["apiGroups"], json!(["apps"]));
    assert_eq!(names["rules"][1]["resourceNames"], json!(["x", "y"]));
    let nonres = fixture!("clusterrole_nonresource");
    assert_eq!(nonres["rules"][0]["nonResourceURLs"], json!(["/healthz"]));
    let agg = fixture!("clusterrole_aggregation");
    assert_eq!(
        agg["aggregationRule"],
        json!({"clusterRoleSelectors": [{"matchLabels": {"foo": "bar"}}]})
    );

    let rb = fixture!("rolebinding");
    assert_eq!(
        rb["roleRef"],
        json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r1"})
    );
    assert_eq!(
        rb["subjects"],
        json!([
            {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"},
            {"kind": "ServiceAccount", "name": "sa1", "namespace": "default"},
        ])
    );
    let crb = fixture!("clusterrolebinding");
    assert_eq!(crb["kind"], "ClusterRoleBinding");
    assert_eq!(crb["subjects"][0]["kind"], "Group");
    assert_eq!(crb["roleRef"]["name"], "cr1");
}

#[test]
fn priorityclass_quota_ingress_pdb() {
    let pc = fixture!("priorityclass");
    assert_eq!(pc["value"], 1000);
    assert_eq!(pc["description"], "high");
    assert_eq!(pc["preemptionPolicy"], "Never");
    assert!(pc.get("globalDefault").is_none());
    assert_eq!(
        fixture!("priorityclass_global_default")["globalDefault"],
        true
    );

    let quota = fixture!("resourcequota");
    assert_eq!(
        quota["spec"]["hard"],
        json!({"cpu": "1", "memory": "1Gi", "pods": "10"})
    );
    assert_eq!(quota["spec"]["scopes"], json!(["BestEffort"]));

    let ing = fixture!("ingress");
    assert_eq!(ing["spec"]["ingressClassName"], "nginx");
    let rule = &ing["spec"]["rules"][0];
    assert_eq!(rule["host"], "foo.com");
    assert_eq!(
        rule["http"]["paths"][0],
        json!({
            "path": "/bar",
            "pathType": "Prefix",
            "backend": {"service": {"name": "svc1", "port": {"number": 8080}}},
        })
    );
    assert_eq!(
        ing["spec"]["tls"],
        json!([{"hosts": ["foo.com"], "secretName": "my-cert"}])
    );

    let pdb = fixture!("poddisruptionbudget");
    assert_eq!(pdb["spec"]["minAvailable"], "50%");
    assert_eq!(
        pdb["spec"]["selector"]["matchLabels"],
        json!({"app": "web"})
    );
    // Non-omitempty status counters stay, as in Go's JSON.
    assert_eq!(pdb["status"]["disruptionsAllowed"], 0);
}

#[test]
fn other_kubectl_bodies() {
    let hpa = fixture!("hpa_v2");
    assert_eq!(hpa["apiVersion"], "autoscaling/v2");
    assert_eq!(hpa["spec"]["maxReplicas"], 3);
    assert_eq!(hpa["spec"]["scaleTargetRef"]["name"], "web");
    assert_eq!(
        hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"],
        50
    );
    let hpa1 = fixture!("hpa_v1");
    assert_eq!(hpa1["spec"]["targetCPUUtilizationPercentage"], 50);

    let ssar = fixture!("selfsubjectaccessreview");
    assert_eq!(
        ssar["spec"]["resourceAttributes"],
        json!({"namespace": "default", "resource": "pods", "verb": "get"})
    );
    assert_eq!(fixture!("selfsubjectreview")["kind"], "SelfSubjectReview");
    assert_eq!(fixture!("tokenrequest")["kind"], "TokenRequest");

    let csr = fixture!("csr_approval");
    assert_eq!(csr["spec"]["request"], "aGVsbG8=");
    assert_eq!(csr["status"]["conditions"][0]["type"], "Approved");
    assert_eq!(csr["metadata"]["creationTimestamp"], "2026-11-26T11:51:07Z");
    let managed = &csr["metadata"]["managedFields"][0];
    assert_eq!(managed["manager"], "kubectl-client-side-apply");
    assert_eq!(managed["fieldsType"], "FieldsV1");
    assert!(managed["fieldsV1"]["f:spec"]["f:signerName"].is_object());

    assert_eq!(
        fixture!("deleteoptions"),
        json!({"apiVersion": "v1", "kind": "DeleteOptions"})
    );
    assert_eq!(
        fixture!("deleteoptions_grace_zero")["gracePeriodSeconds"],
        0
    );
}

// ---- hand-made messages ----

#[test]
fn creation_timestamp() {
    let time = cat(&[vi(1, 1_767_323_045), vi(2, 5)]);
    let meta = cat(&[s(1, "t"), ld(8, &time), ld(9, &[])]);
    let cm = decode(&body("v1", "ConfigMap", &ld(1, &meta))).unwrap();
    // deletionTimestamp was the zero time: omitted.
    assert_eq!(
        cm["metadata"],
        json!({"name": "t", "creationTimestamp": "2026-01-02T03:04:05Z"})
    );
}

#[test]
fn civil_dates() {
    assert_eq!(civil_from_days(0), (1970, 1, 1));
    assert_eq!(civil_from_days(-1), (1969, 12, 31));
    assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    assert_eq!(civil_from_days(47_541), (2100, 3, 1));
    assert_eq!(civil_from_days(-719_162), (1, 1, 1));
    assert_eq!(civil_from_days(2_932_896), (9999, 12, 31));
}

#[test]
fn out_of_range_time_is_an_error() {
    let meta = ld(8, &vi(1, 1 << 40));
    let err = decode(&body("v1", "ConfigMap", &ld(1, &meta))).unwrap_err();
    assert!(
        err.to_string().contains("metadata.creationTimestamp"),
        "{err}"
    );
}

#[test]
fn int_or_string_and_pointer_zeroes() {
    let rolling = cat(&[
        ld(1, &cat(&[vi(1, 0), vi(2, 0)])),    // maxUnavailable: 0
        ld(2, &cat(&[vi(1, 1), s(3, "25%")])), // maxSurge: "25%"
    ]);
    let strategy = cat(&[s(1, "RollingUpdate"), ld(2, &rolling)]);
    let spec = cat(&[vi(1, 0), vi(5, 0), ld(4, &strategy), vi(7, 0)]);
    let deploy = decode(&body("apps/v1", "Deployment", &ld(2, &spec))).unwrap();
    assert_eq!(
        deploy["spec"],
        json!({
            "replicas": 0,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "25%"}},
        }),
        "minReadySeconds (5) and paused (7) are omitempty; replicas is a pointer"
    );
}

#[test]
fn pod_inline_fields_and_packed_lists() {
    // Volume{name, VolumeSource{configMap{LocalObjectReference{name}, defaultMode}}}
    let config_map = cat(&[ld(1, &s(1, "cfg")), vi(3, 0o644)]);
    let volume = cat(&[s(1, "v"), ld(2, &ld(19, &config_map))]);
    // Container with a probe (inline ProbeHandler.httpGet) and an env var from a secret.
    let port = cat(&[vi(1, 1), s(3, "http")]);
    let probe = cat(&[
        ld(1, &ld(2, &cat(&[s(1, "/healthz"), ld(2, &port)]))),
        vi(2, 5),
    ]);
    let secret_ref = cat(&[ld(1, &s(1, "creds")), s(2, "password")]);
    let env = cat(&[s(1, "PW"), ld(3, &ld(4, &secret_ref))]);
    let resources = ld(1, &cat(&[s(1, "cpu"), ld(2, &s(1, "200m"))]));
    let container = cat(&[
        s(1, "app"),
        s(2, "img"),
        ld(7, &env),
        ld(8, &resources),
        ld(10, &probe),
    ]);
    // PodSecurityContext.supplementalGroups (tag 4): packed [1, 2] then unpacked 3.
    let security = cat(&[ld(4, &[1, 2]), vi(4, 3), vi(2, 1000)]);
    let spec = cat(&[ld(1, &volume), ld(2, &container), ld(14, &security)]);
    let pod = decode(&body("v1", "Pod", &ld(2, &spec))).unwrap();
    let spec = &pod["spec"];
    assert_eq!(
        spec["volumes"],
        json!([{"name": "v", "configMap": {"name": "cfg", "defaultMode": 420}}])
    );
    let c = &spec["containers"][0];
    assert_eq!(
        c["livenessProbe"],
        json!({"httpGet": {"path": "/healthz", "port": "http"}, "initialDelaySeconds": 5})
    );
    assert_eq!(
        c["env"],
        json!([{"name": "PW", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}}}])
    );
    assert_eq!(c["resources"], json!({"limits": {"cpu": "200m"}}));
    assert_eq!(
        spec["securityContext"],
        json!({"supplementalGroups": [1, 2, 3], "runAsUser": 1000})
    );
}

#[test]
fn negative_int32_and_unknown_fields() {
    let mut raw = cat(&[
        ld(1, &s(1, "neg")),
        vi(2, (-5i64) as u64),
        vi(99, 7),
        s(100, "x"),
    ]);
    raw.extend([0x89, 0x06, 1, 2, 3, 4, 5, 6, 7, 8]); // tag 97, fixed64
    raw.extend([0x8d, 0x06, 1, 2, 3, 4]); // tag 97, fixed32
    let pc = decode(&body("scheduling.k8s.io/v1", "PriorityClass", &raw)).unwrap();
    assert_eq!(
        pc,
        json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": "neg"}, "value": -5})
    );
}

#[test]
fn map_entry_without_value() {
    let cm = decode(&body("v1", "ConfigMap", &ld(2, &s(1, "empty")))).unwrap();
    assert_eq!(cm["data"], json!({"empty": ""}));
}

// ---- errors ----

#[test]
fn bad_magic() {
    assert!(matches!(
        decode(b"{\"kind\":\"Pod\"}"),
        Err(ProtobufError::BadMagic)
    ));
    assert!(matches!(decode(b""), Err(ProtobufError::BadMagic)));
}

#[test]
fn unsupported_kind_and_encoding() {
    let err = decode(&body("apps/v1", "Frobnicator", &[])).unwrap_err();
    assert!(matches!(err, ProtobufError::UnsupportedKind { .. }));
    assert_eq!(
        err.to_string(),
        "unsupported kind \"apps/v1 Frobnicator\" in protobuf body"
    );

    let type_meta = cat(&[s(1, "v1"), s(2, "ConfigMap")]);
    let mut gz = b"k8s\0".to_vec();
    gz.extend(cat(&[ld(1, &type_meta), ld(2, &[]), s(3, "gzip")]));
    assert!(matches!(decode(&gz), Err(ProtobufError::UnsupportedEncoding(e)) if e == "gzip"));
}

#[test]
fn wrong_wire_type_names_the_path() {
    let meta = vi(1, 5); // name as a varint
    let spec = ld(3, &ld(1, &meta)); // Deployment.spec.template.metadata
    let err = decode(&body("apps/v1", "Deployment", &ld(2, &spec))).unwrap_err();
    assert_eq!(
        err.to_string(),
        "malformed protobuf body at spec.template.metadata.name: \
         expected a length-delimited field, found wire type 0"
    );
    let container = vi(2, 1); // image as a varint
    let pod = ld(2, &cat(&[ld(2, &s(1, "a")), ld(2, &container)]));
    let err = decode(&body("v1", "Pod", &pod)).unwrap_err();
    assert!(
        err.to_string().contains("at spec.containers[1].image:"),
        "{err}"
    );
}

#[test]
fn invalid_raw_json() {
    let entry = ld(7, &ld(1, b"{not json"));
    let meta = ld(17, &entry);
    let err = decode(&body("v1", "ConfigMap", &ld(1, &meta))).unwrap_err();
    assert!(
        err.to_string()
            .contains("metadata.managedFields[0].fieldsV1"),
        "{err}"
    );
}

#[test]
fn truncated_bodies_error_without_panicking() {
    for fixture in ALL_FIXTURES {
        for len in 0..fixture.len() {
            let _ = decode(&fixture[..len]);
        }
    }
    let full: &[u8] = include_bytes!("testdata/deployment.pb");
    let err = decode(&full[..full.len() / 2]).unwrap_err();
    assert!(matches!(err, ProtobufError::Truncated { .. }), "{err}");
    // A varint that never ends, and one that overflows.
    let mut body = b"k8s\0".to_vec();
    body.extend([0x08, 0xff, 0xff]);
    assert!(matches!(
        decode(&body),
        Err(ProtobufError::Truncated { .. })
    ));
    body.truncate(5);
    body.extend([0xff; 9]);
    body.push(0x02);
    assert!(matches!(
        decode(&body),
        Err(ProtobufError::Malformed { .. })
    ));
}

#[test]
fn garbage_never_panics() {
    // Mutate every byte of every fixture, then feed pseudo-random bytes.
    for fixture in ALL_FIXTURES {
        for i in 4..fixture.len() {
            for flip in [0x01, 0x80, 0xff] {
                let mut bytes = fixture.to_vec();
                bytes[i] ^= flip;
                let _ = decode(&bytes);
            }
        }
    }
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..20_000 {
        let mut bytes = b"k8s\0".to_vec();
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        let len = (state >> 58) as usize;
        for _ in 0..len {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            bytes.push((state >> 56) as u8);
        }
        let _ = decode(&bytes);
    }
}

#[test]
fn every_fixture_decodes() {
    for fixture in ALL_FIXTURES {
        let value: Value = decode(fixture).unwrap();
        assert!(value["apiVersion"].is_string() && value["kind"].is_string());
    }
}
