//! The real `sextant` binary: `sextant localkube` serves kubectl, writes a
//! kubeconfig, and stops cleanly on Ctrl-C (SIGINT).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn sextant() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sextant"))
}

#[test]
fn localkube_serves_kubectl_and_stops_on_ctrl_c() {
    for tls in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kc");
        let mut cmd = sextant();
        cmd.args(["localkube", "--listen", "127.0.0.1:0", "--kubeconfig"])
            .arg(&kubeconfig)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if tls {
            cmd.arg("--tls");
        }
        let mut child = cmd.spawn().unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        let scheme = if tls { "https" } else { "http" };
        assert!(
            first.starts_with(&format!("localkube listening on {scheme}://127.0.0.1:")),
            "{first}"
        );
        let port: u16 = first.rsplit(':').next().unwrap().parse().unwrap();
        assert_ne!(port, 0, "port 0 picked a real port");

        let out = Command::new("kubectl")
            .args(["get", "namespaces", "-o", "name"])
            .env("KUBECONFIG", &kubeconfig)
            .env("HOME", dir.path())
            .output()
            .expect("kubectl runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("namespace/default"), "{stdout}");
        if tls {
            let text = std::fs::read_to_string(&kubeconfig).unwrap();
            assert!(text.contains("certificate-authority-data:") && text.contains("token:"));
        }

        let status = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let start = Instant::now();
        let code = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "did not stop on SIGINT"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(code.success(), "clean exit on Ctrl-C: {code:?}");
    }
}

#[test]
fn bad_listen_address_is_a_clear_error_with_exit_code_2() {
    let out = sextant()
        .args(["localkube", "--listen", "256.0.0.1:80"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--listen"), "{err}");
}

#[test]
fn occupied_port_reports_which_address() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let out = sextant()
        .args(["localkube", "--listen", &addr, "--kubeconfig"])
        .arg(dir.path().join("kc"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("sextant: could not start localkube: could not listen on"),
        "{err}"
    );
    assert!(err.contains(&addr), "{err}");
}
