//! `sextant localkube --fault-*`: faults switched on from the command line
//! are seen by the real kubectl, only for the chosen resources, and bad
//! fault flags are refused before anything listens.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn sextant() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sextant"))
}

/// The server process; interrupted (and reaped) when the test ends, pass or fail.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-INT", &self.0.id().to_string()])
            .status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(15) {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn kubectl(kubeconfig: &Path, home: &Path, args: &[&str]) -> Output {
    Command::new("kubectl")
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .env("HOME", home)
        .env_remove("HTTPS_PROXY")
        .env_remove("HTTP_PROXY")
        .output()
        .expect("kubectl runs")
}

#[test]
fn fault_flags_fail_kubectl_for_the_chosen_resource_only() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kc");
    let mut child = sextant()
        .args(["localkube", "--listen", "127.0.0.1:0", "--kubeconfig"])
        .arg(&kubeconfig)
        .args(["--fault-error-rate", "1", "--fault-resources", "configmaps"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _server = Server(child);
    // Kept open to the end: the server prints more lines and must not
    // meet a closed pipe.
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(first.starts_with("localkube listening on"), "{first}");

    let failed = kubectl(&kubeconfig, dir.path(), &["get", "configmaps"]);
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(!failed.status.success(), "kubectl get configmaps succeeded");
    assert!(stderr.contains("InternalError"), "{stderr}");

    let ok = kubectl(
        &kubeconfig,
        dir.path(),
        &["get", "namespaces", "-o", "name"],
    );
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(stdout.contains("namespace/default"), "{stdout}");
}

#[test]
fn bad_fault_flags_are_usage_errors_with_exit_code_2() {
    for args in [
        &["--fault-error-rate", "2"][..],
        &["--fault-error-code", "503"],
        &["--fault-resources", "pods"],
        &["--fault-latency", "soon"],
    ] {
        let out = sextant()
            .args(["localkube", "--listen", "127.0.0.1:0"])
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--fault-"), "{args:?}: {err}");
    }
}
