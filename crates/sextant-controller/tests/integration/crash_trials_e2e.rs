//! Crash trials (ignored in the test command; run by hand): a sync with a
//! PreSync hook, three waves and a PostSync hook, its controller killed at
//! a random moment (dropped with no chance to finish, as `kill -9` would
//! cut it) and started again, many times. Every trial must converge to
//! Git: the sync Succeeded, every object there, the app Synced.
//!
//! `SEXTANT_CRASH_TRIALS=100 cargo test -p sextant-controller --test
//! integration crash_trials_e2e:: -- --ignored --nocapture`

use crate::support;

use std::time::Duration;

use rand::Rng;
use serde_json::json;
use support::*;

fn hook(name: &str, phase: &str) -> String {
    format!(
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {name}\n  annotations:\n    sextant.dev/hook: {phase}\nspec:\n  backoffLimit: 0\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: main\n        image: busybox\n"
    )
}

fn in_wave(text: &str, wave: u32) -> String {
    text.replacen(
        "metadata:\n",
        &format!("metadata:\n  annotations:\n    sextant.dev/sync-wave: \"{wave}\"\n"),
        1,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "long: run by hand for the crash-trial figure"]
async fn a_sync_killed_at_random_moments_converges_every_time() {
    let trials: usize = std::env::var("SEXTANT_CRASH_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let mut recreated_hooks = 0usize;
    let mut rng = rand::rng();
    for trial in 0..trials {
        let mut w = World::new().await;
        let mut files: Vec<(String, String)> = vec![
            ("app/pre.yaml".into(), hook("migrate", "PreSync")),
            ("app/post.yaml".into(), hook("smoke", "PostSync")),
        ];
        for wave in 0..3u32 {
            files.push((
                format!("app/web{wave}.yaml"),
                in_wave(&deployment(&format!("web{wave}"), "nginx:1.27"), wave),
            ));
            for i in 0..5 {
                files.push((
                    format!("app/cm{wave}-{i}.yaml"),
                    in_wave(&configmap(&format!("cm{wave}-{i}"), "1"), wave),
                ));
            }
        }
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(p, t)| (p.as_str(), t.as_str()))
            .collect();
        let c1 = w.commit(&refs, "trial");
        w.start_controller().await;
        w.create_app("app", "app", "app", manual()).await;
        w.wait_app("app", 90, "compared", |a| synced_revision(a) == c1)
            .await;
        w.request_sync("app", json!({})).await;
        // A random moment of the sync (it takes a few seconds).
        let at = Duration::from_millis(rng.random_range(0..3000));
        tokio::time::sleep(at).await;
        let jobs = w.api("batch/v1", "Job", "jobs", Some("app"));
        let uid_before = jobs
            .get_opt("migrate")
            .await
            .unwrap()
            .and_then(|j| j.metadata.uid);
        w.kill_controller();
        w.start_controller().await;
        let app = w
            .wait_app("app", 120, "the sync to converge", |a| {
                op_phase(a) == "Succeeded" && a.operation.is_none()
            })
            .await;
        for wave in 0..3 {
            assert!(
                w.deployment("app", &format!("web{wave}")).await.is_some(),
                "trial {trial}"
            );
            for i in 0..5 {
                assert!(
                    w.configmap("app", &format!("cm{wave}-{i}")).await.is_some(),
                    "trial {trial}"
                );
            }
        }
        w.wait_synced_healthy("app", &c1).await;
        let uid_after = jobs
            .get_opt("migrate")
            .await
            .unwrap()
            .and_then(|j| j.metadata.uid);
        if uid_before.is_some() && uid_before != uid_after {
            recreated_hooks += 1;
        }
        drop(app);
        w.stop_controller().await;
        eprintln!("trial {trial}: killed at {at:?}, converged");
    }
    eprintln!(
        "{trials} trials converged; the PreSync hook was created again after the kill in {recreated_hooks} of them (killed between its creation and the record of it)"
    );
}
