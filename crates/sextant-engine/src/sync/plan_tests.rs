//! Tests of the planner: tables of small apps, then properties over many
//! generated ones.

use super::*;
use crate::sync::marks::marks_of;
use serde_json::json;

fn obj(api: &str, kind: &str, name: &str, annotations: Value) -> Value {
    json!({"apiVersion": api, "kind": kind,
           "metadata": {"name": name, "namespace": "shop", "annotations": annotations}})
}

fn desired(objects: &[Value]) -> Vec<Desired> {
    objects
        .iter()
        .map(|o| Desired::new(o, marks_of(o).unwrap(), false))
        .collect()
}

fn extraneous(objects: &[Value]) -> Vec<Extraneous> {
    objects
        .iter()
        .map(|o| Extraneous {
            key: ObjectKey::of(o),
            marks: marks_of(o).unwrap(),
        })
        .collect()
}

/// `stage wave action kind/name` per task, in order.
fn shown(p: &Plan) -> Vec<String> {
    p.tasks
        .iter()
        .map(|t| {
            let action = match t.action {
                Action::Apply => "apply".to_owned(),
                Action::Hook(h) => format!("hook:{h}"),
                Action::Prune => "prune".to_owned(),
            };
            format!(
                "{:?} {} {action} {}/{}",
                t.stage, t.wave, t.key.kind, t.key.name
            )
        })
        .collect()
}

fn check(objects: &[Value], gone: &[Value], req: &Request, expected: &[&str]) -> Plan {
    let p = plan(&desired(objects), &extraneous(gone), req);
    assert_eq!(shown(&p), expected);
    p
}

fn pruning() -> Request {
    Request {
        prune: true,
        ..Request::default()
    }
}

#[test]
fn phases_then_waves_then_kinds_then_names() {
    let objects = [
        obj(
            "apps/v1",
            "Deployment",
            "web",
            json!({"sextant.dev/sync-wave": "1"}),
        ),
        obj("v1", "ConfigMap", "b", json!({})),
        obj("v1", "ConfigMap", "a", json!({})),
        obj(
            "v1",
            "Service",
            "web",
            json!({"argocd.argoproj.io/sync-wave": "1"}),
        ),
        obj(
            "batch/v1",
            "Job",
            "migrate",
            json!({"sextant.dev/hook": "PreSync"}),
        ),
        obj(
            "batch/v1",
            "Job",
            "smoke",
            json!({"argocd.argoproj.io/hook": "PostSync"}),
        ),
        obj(
            "v1",
            "Secret",
            "early",
            json!({"sextant.dev/sync-wave": "-1"}),
        ),
        obj("example.com/v1", "Widget", "w", json!({})),
    ];
    check(
        &objects,
        &[],
        &Request::default(),
        &[
            "PreSync 0 hook:PreSync Job/migrate",
            "Sync -1 apply Secret/early",
            "Sync 0 apply ConfigMap/a",
            "Sync 0 apply ConfigMap/b",
            "Sync 0 apply Widget/w",
            "Sync 1 apply Service/web",
            "Sync 1 apply Deployment/web",
            "PostSync 0 hook:PostSync Job/smoke",
        ],
    );
}

#[test]
fn prunes_follow_the_applies_in_reverse_wave_and_kind_order_and_prune_last_goes_after_post_sync() {
    let objects = [
        obj("v1", "ConfigMap", "kept", json!({})),
        obj(
            "batch/v1",
            "Job",
            "smoke",
            json!({"sextant.dev/hook": "PostSync"}),
        ),
    ];
    let gone = [
        obj("v1", "ConfigMap", "old-cfg", json!({})),
        obj("apps/v1", "Deployment", "old-web", json!({})),
        obj(
            "v1",
            "Service",
            "late",
            json!({"sextant.dev/sync-wave": "5"}),
        ),
        obj(
            "v1",
            "Secret",
            "last",
            json!({"sextant.dev/sync-options": "PruneLast=true"}),
        ),
    ];
    check(
        &objects,
        &gone,
        &pruning(),
        &[
            "Sync 0 apply ConfigMap/kept",
            "Prune 5 prune Service/late",
            "Prune 0 prune Deployment/old-web",
            "Prune 0 prune ConfigMap/old-cfg",
            "PostSync 0 hook:PostSync Job/smoke",
            "PruneLast 0 prune Secret/last",
        ],
    );
    // PruneLast for the whole app.
    let req = Request {
        prune: true,
        options: SyncOptions::parse_app(["PruneLast=true"]).unwrap(),
        ..Request::default()
    };
    let p = plan(&desired(&objects), &extraneous(&gone), &req);
    assert!(
        p.tasks
            .iter()
            .filter(|t| t.action == Action::Prune)
            .all(|t| t.stage == Stage::PruneLast)
    );
}

#[test]
fn what_is_not_pruned_is_skipped_with_its_reason() {
    let gone = [
        obj("v1", "ConfigMap", "a", json!({})),
        obj(
            "v1",
            "ConfigMap",
            "b",
            json!({"sextant.dev/sync-options": "Prune=false"}),
        ),
        obj(
            "v1",
            "ConfigMap",
            "c",
            json!({"helm.sh/resource-policy": "keep"}),
        ),
        obj(
            "batch/v1",
            "Job",
            "old-hook",
            json!({"sextant.dev/hook": "PreSync"}),
        ),
    ];
    let p = check(&[], &gone, &Request::default(), &[]);
    let reasons: Vec<(&str, &SkipReason)> = p
        .skipped
        .iter()
        .map(|s| (s.key.name.as_str(), &s.reason))
        .collect();
    assert_eq!(
        reasons,
        [
            ("a", &SkipReason::PruneNotRequested),
            ("b", &SkipReason::PruneDisabled),
            ("c", &SkipReason::PruneDisabled),
        ],
        "a hook is never pruned as extraneous, not even listed"
    );
    let p = check(&[], &gone, &pruning(), &["Prune 0 prune ConfigMap/a"]);
    assert_eq!(p.skipped.len(), 2);
}

#[test]
fn sync_fail_and_post_delete_hooks_are_kept_apart_and_skip_hooks_never_run() {
    let objects = [
        obj(
            "batch/v1",
            "Job",
            "cleanup",
            json!({"sextant.dev/hook": "SyncFail"}),
        ),
        obj(
            "batch/v1",
            "Job",
            "bye",
            json!({"sextant.dev/hook": "PostDelete"}),
        ),
        obj(
            "v1",
            "ConfigMap",
            "skipped",
            json!({"sextant.dev/hook": "Skip"}),
        ),
        obj("v1", "Pod", "helm-test", json!({"helm.sh/hook": "test"})),
        obj(
            "batch/v1",
            "Job",
            "both",
            json!({"sextant.dev/hook": "PreSync,PostSync"}),
        ),
    ];
    let p = check(
        &objects,
        &[],
        &Request::default(),
        &[
            "PreSync 0 hook:PreSync Job/both",
            "PostSync 0 hook:PostSync Job/both",
        ],
    );
    assert_eq!(p.on_failure.len(), 1);
    assert_eq!(p.on_failure[0].phase(), SyncPhase::SyncFail);
    assert_eq!(p.post_delete.len(), 1);
    assert_eq!(p.post_delete[0].key.name, "bye");
    let reasons: Vec<&SkipReason> = p.skipped.iter().map(|s| &s.reason).collect();
    assert_eq!(
        reasons,
        [
            &SkipReason::HookSkip,
            &SkipReason::UnsupportedHelmHook("test".into())
        ]
    );
}

#[test]
fn helm_hooks_map_to_phases_with_their_weight_as_wave() {
    let objects = [
        obj(
            "batch/v1",
            "Job",
            "db-init",
            json!({"helm.sh/hook": "pre-install,pre-upgrade", "helm.sh/hook-weight": "-5"}),
        ),
        obj(
            "batch/v1",
            "Job",
            "db-seed",
            json!({"helm.sh/hook": "pre-upgrade"}),
        ),
        obj(
            "batch/v1",
            "Job",
            "notify",
            json!({"helm.sh/hook": "post-upgrade", "helm.sh/hook-delete-policy": "hook-succeeded"}),
        ),
        obj(
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            "w.example.com",
            json!({"helm.sh/hook": "crd-install"}),
        ),
    ];
    let p = check(
        &objects,
        &[],
        &Request::default(),
        &[
            "PreSync -5 hook:PreSync Job/db-init",
            "PreSync 0 hook:PreSync Job/db-seed",
            "Sync 0 apply CustomResourceDefinition/w.example.com",
            "PostSync 0 hook:PostSync Job/notify",
        ],
    );
    assert_eq!(
        p.tasks[3].delete_policies,
        [HookDeletePolicy::HookSucceeded]
    );
    assert_eq!(
        p.tasks[0].delete_policies,
        [HookDeletePolicy::BeforeHookCreation]
    );
}

#[test]
fn a_partial_sync_applies_only_what_it_names_and_runs_no_hooks() {
    let objects = [
        obj("v1", "ConfigMap", "a", json!({})),
        obj("v1", "ConfigMap", "b", json!({})),
        obj(
            "batch/v1",
            "Job",
            "migrate",
            json!({"sextant.dev/hook": "PreSync"}),
        ),
    ];
    let gone = [obj("v1", "ConfigMap", "old", json!({}))];
    let req = Request {
        prune: true,
        selected: vec![Selector {
            group: String::new(),
            kind: "ConfigMap".into(),
            namespace: String::new(),
            name: "b".into(),
        }],
        ..Request::default()
    };
    let p = check(&objects, &gone, &req, &["Sync 0 apply ConfigMap/b"]);
    assert!(
        p.skipped
            .iter()
            .all(|s| s.reason == SkipReason::NotSelected)
    );
    assert_eq!(p.skipped.len(), 3);
}

#[test]
fn apply_out_of_sync_only_skips_objects_in_sync_and_a_resumed_sync_skips_hooks_that_ran() {
    let cm = obj("v1", "ConfigMap", "same", json!({}));
    let job = obj(
        "batch/v1",
        "Job",
        "migrate",
        json!({"sextant.dev/hook": "PreSync"}),
    );
    let mut d = desired(&[cm, job]);
    d[0].in_sync = true;
    let mut req = Request {
        options: SyncOptions::parse_app(["ApplyOutOfSyncOnly=true"]).unwrap(),
        ..Request::default()
    };
    req.hooks_done
        .insert((SyncPhase::PreSync, d[1].key.clone()));
    let p = plan(&d, &[], &req);
    assert!(p.tasks.is_empty(), "{:?}", p.tasks);
    let reasons: Vec<&SkipReason> = p.skipped.iter().map(|s| &s.reason).collect();
    assert_eq!(reasons, [&SkipReason::InSync, &SkipReason::HookAlreadyRan]);
}

#[test]
fn generate_name_hooks_are_planned_under_their_prefix() {
    let mut job = obj(
        "batch/v1",
        "Job",
        "",
        json!({"sextant.dev/hook": "PostSync"}),
    );
    job["metadata"].as_object_mut().unwrap().remove("name");
    job["metadata"]["generateName"] = json!("smoke-");
    let p = check(
        &[job],
        &[],
        &Request::default(),
        &["PostSync 0 hook:PostSync Job/smoke-"],
    );
    assert_eq!(p.tasks[0].key.name, "smoke-");
}

#[test]
fn steps_group_tasks_of_one_stage_and_wave() {
    let objects = [
        obj("v1", "ConfigMap", "a", json!({})),
        obj("v1", "ConfigMap", "b", json!({})),
        obj(
            "v1",
            "ConfigMap",
            "c",
            json!({"sextant.dev/sync-wave": "2"}),
        ),
        obj(
            "batch/v1",
            "Job",
            "smoke",
            json!({"sextant.dev/hook": "PostSync"}),
        ),
    ];
    let p = plan(&desired(&objects), &[], &Request::default());
    let steps: Vec<(Stage, i64, usize)> = p
        .steps()
        .iter()
        .map(|s| (s.stage, s.wave, s.end - s.start))
        .collect();
    assert_eq!(
        steps,
        [
            (Stage::Sync, 0, 2),
            (Stage::Sync, 2, 1),
            (Stage::PostSync, 0, 1)
        ]
    );
}

/// A small deterministic generator, so the properties below explore many
/// apps and fail the same way every time.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const KINDS: &[(&str, &str)] = &[
    ("v1", "ConfigMap"),
    ("v1", "Service"),
    ("apps/v1", "Deployment"),
    ("batch/v1", "Job"),
    ("v1", "Namespace"),
    ("example.com/v1", "Widget"),
];

fn random_object(rng: &mut Rng, name: String) -> Value {
    let (api, kind) = KINDS[rng.below(KINDS.len() as u64) as usize];
    let mut annotations = serde_json::Map::new();
    if rng.below(3) == 0 {
        annotations.insert(
            "sextant.dev/sync-wave".into(),
            json!((rng.below(7) as i64 - 3).to_string()),
        );
    }
    match rng.below(8) {
        0 => {
            annotations.insert("sextant.dev/hook".into(), json!("PreSync"));
        }
        1 => {
            annotations.insert("argocd.argoproj.io/hook".into(), json!("PostSync,SyncFail"));
        }
        2 => {
            annotations.insert("sextant.dev/sync-options".into(), json!("Prune=false"));
        }
        3 => {
            annotations.insert("sextant.dev/sync-options".into(), json!("PruneLast=true"));
        }
        _ => {}
    }
    obj(api, kind, &name, Value::Object(annotations))
}

#[test]
fn every_object_is_planned_once_prunes_stay_in_the_inventory_and_order_is_total() {
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    for round in 0..300 {
        let n_desired = rng.below(12) as usize;
        let n_gone = rng.below(6) as usize;
        let objects: Vec<Value> = (0..n_desired)
            .map(|i| random_object(&mut rng, format!("d{i}")))
            .collect();
        let gone: Vec<Value> = (0..n_gone)
            .map(|i| random_object(&mut rng, format!("g{i}")))
            .collect();
        let req = Request {
            prune: rng.below(2) == 0,
            ..Request::default()
        };
        let d = desired(&objects);
        let e = extraneous(&gone);
        let p = plan(&d, &e, &req);

        // Each desired object: exactly one entry per hook phase it has,
        // or one task or skip.
        for (i, obj) in d.iter().enumerate() {
            let tasks = p
                .tasks
                .iter()
                .chain(&p.on_failure)
                .chain(&p.post_delete)
                .filter(|t| t.desired == Some(i))
                .count();
            let skips = p.skipped.iter().filter(|s| s.key == obj.key).count();
            let expected = obj.marks.hooks.len().max(1);
            assert_eq!(tasks + skips, expected, "round {round}: {:?}", obj.key);
        }
        // Prunes only touch objects of the inventory that Git dropped, and
        // never hooks or protected objects.
        for t in p.tasks.iter().filter(|t| t.action == Action::Prune) {
            let source = e.iter().find(|x| x.key == t.key);
            let source = source.unwrap_or_else(|| panic!("round {round}: prune outside inventory"));
            assert!(req.prune && source.marks.may_prune() && !source.marks.is_hook());
        }
        // The order does not depend on the input order.
        let mut rd = d.clone();
        rd.reverse();
        let mut re = e.clone();
        re.reverse();
        let q = plan(&rd, &re, &req);
        assert_eq!(shown(&p), shown(&q), "round {round}");
        // Stages never go backwards.
        assert!(p.tasks.windows(2).all(|w| w[0].stage <= w[1].stage));
    }
}
