//! The built-in actions: our own Lua scripts in `builtin/`, run like any
//! custom action (so a user can read and override them the same way).

use std::collections::{BTreeMap, HashMap};

use super::KindActions;
use crate::health::Script;

fn script(name: &str, source: &'static str) -> Script {
    Script {
        name: format!("built-in {name}"),
        source: source.into(),
    }
}

const RESTART: &str = include_str!("builtin/restart.lua");
const WORKLOAD_DISCOVERY: &str = include_str!("builtin/workload_discovery.lua");

fn workload(kind: &str, extra: &[(&str, &'static str)]) -> KindActions {
    let mut definitions = BTreeMap::new();
    definitions.insert(
        "restart".to_owned(),
        script(&format!("apps/{kind} restart"), RESTART),
    );
    for (name, source) in extra {
        definitions.insert(
            (*name).to_owned(),
            script(&format!("apps/{kind} {name}"), source),
        );
    }
    KindActions {
        discovery: Some(script(
            &format!("apps/{kind} discovery"),
            WORKLOAD_DISCOVERY,
        )),
        definitions,
        merge_builtin: false,
    }
}

/// Every built-in action, by (group, kind).
pub(super) fn all() -> HashMap<(String, String), KindActions> {
    let mut out = HashMap::new();
    out.insert(
        ("apps".to_owned(), "Deployment".to_owned()),
        workload(
            "Deployment",
            &[
                ("pause", include_str!("builtin/pause.lua")),
                ("resume", include_str!("builtin/resume.lua")),
            ],
        ),
    );
    for kind in ["StatefulSet", "DaemonSet"] {
        out.insert(("apps".to_owned(), kind.to_owned()), workload(kind, &[]));
    }
    let cronjob = |name: &str, source: &'static str| {
        (
            name.to_owned(),
            script(&format!("batch/CronJob {name}"), source),
        )
    };
    out.insert(
        ("batch".to_owned(), "CronJob".to_owned()),
        KindActions {
            discovery: Some(script(
                "batch/CronJob discovery",
                include_str!("builtin/cronjob_discovery.lua"),
            )),
            definitions: [
                cronjob("create-job", include_str!("builtin/cronjob_create_job.lua")),
                cronjob("suspend", include_str!("builtin/cronjob_suspend.lua")),
                cronjob("resume", include_str!("builtin/cronjob_resume.lua")),
            ]
            .into_iter()
            .collect(),
            merge_builtin: false,
        },
    );
    out
}
