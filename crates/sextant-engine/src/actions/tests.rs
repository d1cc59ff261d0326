use serde_json::json;

use super::*;

fn deployment(paused: bool) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "uid": "u1"},
        "spec": {
            "paused": paused,
            "replicas": 2,
            "template": {"spec": {"containers": [{"name": "web", "image": "nginx", "args": []}]}},
        },
    })
}

fn cronjob(suspend: bool) -> Value {
    json!({
        "apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": "report", "namespace": "shop", "uid": "cj-1"},
        "spec": {
            "schedule": "0 * * * *",
            "suspend": suspend,
            "jobTemplate": {
                "metadata": {"labels": {"team": "data"}},
                "spec": {"template": {"spec": {"restartPolicy": "Never",
                    "containers": [{"name": "report", "image": "example/report:1"}]}}},
            },
        },
    })
}

fn names(actions: &[ActionInfo]) -> Vec<(&str, bool)> {
    actions
        .iter()
        .map(|a| (a.name.as_str(), a.disabled))
        .collect()
}

#[test]
fn a_deployment_can_be_restarted_and_paused_or_resumed_as_it_stands() {
    let actions = ResourceActions::new();
    let running = actions.discover(&deployment(false)).unwrap();
    assert_eq!(
        names(&running),
        [("pause", false), ("restart", false), ("resume", true)]
    );
    let paused = actions.discover(&deployment(true)).unwrap();
    assert_eq!(
        names(&paused),
        [("pause", true), ("restart", false), ("resume", false)]
    );
    assert_eq!(running[1].display_name.as_deref(), Some("Restart"));

    let impacts = actions.run("restart", &deployment(false)).unwrap();
    assert_eq!(impacts.len(), 1);
    assert_eq!(impacts[0].operation, Operation::Patch);
    let stamped = impacts[0]
        .object
        .pointer("/spec/template/metadata/annotations/kubectl.kubernetes.io~1restartedAt")
        .and_then(Value::as_str)
        .unwrap_or_default();
    assert!(
        stamped.len() == 20 && stamped.ends_with('Z'),
        "an RFC 3339 UTC time: {stamped}"
    );
    assert_eq!(
        impacts[0].object["spec"]["replicas"], 2,
        "whole numbers stay whole"
    );
    assert_eq!(
        impacts[0].object["spec"]["template"]["spec"]["containers"][0]["args"],
        json!([]),
        "an empty list stays a list"
    );

    let err = actions.run("resume", &deployment(false)).unwrap_err();
    assert!(matches!(err, ActionError::Disabled { .. }), "{err}");
    let paused = actions.run("pause", &deployment(false)).unwrap();
    assert_eq!(paused[0].object["spec"]["paused"], true);
}

#[test]
fn a_cronjob_runs_now_as_a_new_job_it_owns_and_can_be_suspended() {
    let actions = ResourceActions::new();
    assert_eq!(
        names(&actions.discover(&cronjob(false)).unwrap()),
        [("create-job", false), ("resume", true), ("suspend", false)]
    );
    let impacts = actions.run("create-job", &cronjob(false)).unwrap();
    assert_eq!(impacts.len(), 1);
    assert_eq!(impacts[0].operation, Operation::Create);
    let job = &impacts[0].object;
    assert_eq!(job["kind"], "Job");
    assert_eq!(job["metadata"]["namespace"], "shop");
    assert!(
        job["metadata"]["name"]
            .as_str()
            .is_some_and(|n| n.starts_with("report-") && n.len() <= 63)
    );
    assert_eq!(job["metadata"]["labels"]["team"], "data");
    assert_eq!(job["metadata"]["ownerReferences"][0]["uid"], "cj-1");
    assert_eq!(job["spec"]["template"]["spec"]["restartPolicy"], "Never");
    let suspended = actions.run("suspend", &cronjob(false)).unwrap();
    assert_eq!(suspended[0].object["spec"]["suspend"], true);
}

#[test]
fn a_kind_without_actions_has_none_and_an_unknown_action_names_the_ones_there_are() {
    let actions = ResourceActions::new();
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "shop"}});
    assert!(actions.discover(&cm).unwrap().is_empty());
    let err = actions.run("restart", &cm).unwrap_err().to_string();
    assert!(
        err.contains("has no action \"restart\" (it has: none)"),
        "{err}"
    );
    let err = actions
        .run("scale", &deployment(false))
        .unwrap_err()
        .to_string();
    assert!(err.contains("(it has: pause, restart, resume)"), "{err}");
}

const CUSTOM: &str = r#"
discovery.lua: |
  return {["set-replicas"] = {displayName = "Scale to 5"}}
definitions:
- name: set-replicas
  action.lua: |
    obj.spec.replicas = 5
    return obj
"#;

#[test]
fn custom_actions_replace_the_built_in_ones_unless_they_merge() {
    let mut actions = ResourceActions::new();
    actions
        .insert_definition("apps/Deployment", CUSTOM)
        .unwrap();
    assert_eq!(
        names(&actions.discover(&deployment(false)).unwrap()),
        [("set-replicas", false)]
    );
    let impacts = actions.run("set-replicas", &deployment(false)).unwrap();
    assert_eq!(impacts[0].object["spec"]["replicas"], 5);
    assert!(actions.run("restart", &deployment(false)).is_err());

    let mut merged = ResourceActions::new();
    merged
        .insert_definition(
            "apps/Deployment",
            &format!("mergeBuiltinActions: true\n{CUSTOM}"),
        )
        .unwrap();
    assert_eq!(
        names(&merged.discover(&deployment(false)).unwrap()),
        [
            ("pause", false),
            ("restart", false),
            ("resume", true),
            ("set-replicas", false)
        ]
    );
    assert!(merged.run("restart", &deployment(false)).is_ok());
}

#[test]
fn a_directory_in_argo_cds_layout_gives_custom_actions() {
    let mut actions = ResourceActions::new();
    assert!(actions.insert_file(
        "example.com/Widget/actions/discovery.lua",
        "return {poke = {}}"
    ));
    assert!(actions.insert_file(
        "example.com/Widget/actions/poke/action.lua",
        "obj.spec.poked = true\nreturn obj"
    ));
    assert!(!actions.insert_file("example.com/Widget/health.lua", "return nil"));
    let widget = json!({"apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": "w", "namespace": "shop"}, "spec": {}});
    assert_eq!(
        names(&actions.discover(&widget).unwrap()),
        [("poke", false)]
    );
    let impacts = actions.run("poke", &widget).unwrap();
    assert_eq!(impacts[0].object["spec"]["poked"], true);
}

#[test]
fn results_that_touch_other_objects_or_namespaces_are_refused() {
    let define = |action: &str| {
        let mut actions = ResourceActions::new();
        let yaml = format!(
            "discovery.lua: return {{x = {{}}}}\ndefinitions:\n- name: x\n  action.lua: |\n{}",
            action
                .lines()
                .map(|l| format!("    {l}\n"))
                .collect::<String>()
        );
        actions.insert_definition("apps/Deployment", &yaml).unwrap();
        actions.run("x", &deployment(false))
    };
    let renamed = define("obj.metadata.name = 'other'\nreturn obj").unwrap_err();
    assert!(
        renamed
            .to_string()
            .contains("may only change the object it runs on"),
        "{renamed}"
    );
    let elsewhere = define(
        "return {{operation = 'create', resource = {apiVersion = 'v1', kind = 'ConfigMap', metadata = {name = 'c', namespace = 'kube-system'}}}}",
    )
    .unwrap_err();
    assert!(
        elsewhere.to_string().contains("outside namespace"),
        "{elsewhere}"
    );
    let bad_op = define("return {{operation = 'delete', resource = obj}}").unwrap_err();
    assert!(
        bad_op
            .to_string()
            .contains("expected \"patch\" or \"create\""),
        "{bad_op}"
    );
    let broken = define("error('no way')").unwrap_err().to_string();
    assert!(
        broken.starts_with("action script apps/Deployment actions/x/action.lua failed")
            && broken.contains("no way"),
        "{broken}"
    );
    let both = define(
        "obj.spec.replicas = 1\nreturn {{operation = 'patch', resource = obj}, {operation = 'create', resource = {apiVersion = 'v1', kind = 'ConfigMap', metadata = {name = 'c', namespace = 'shop'}}}}",
    )
    .unwrap();
    assert_eq!(both.len(), 2);
}

#[test]
fn a_definition_that_does_not_parse_says_what_it_expects() {
    let mut actions = ResourceActions::new();
    let err = actions
        .insert_definition("apps/Deployment", "discovery: x\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("actions of apps/Deployment: not discovery.lua"),
        "{err}"
    );
}
