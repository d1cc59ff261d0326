//! End to end (issue 18): notifications configured as Argo CD's are, in
//! `sextant-notifications-cm` with secrets from
//! `sextant-notifications-secret`, delivered to local receivers: an HTTP
//! server standing in for Slack, Teams and a generic webhook, and a real
//! SMTP server (aiosmtpd, from `.tools/venv`). Each trigger fires once per
//! revision; a failing receiver is retried; a custom trigger in expr works.

use crate::support;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Got {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Got {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// An HTTP receiver: records every request; answers 500 to the first
/// `fail_first` requests on `/hook`, 200 otherwise (Slack's `{"ok":true}`).
struct Receiver {
    addr: String,
    got: Arc<Mutex<Vec<Got>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    async fn start(fail_first: usize) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let got: Arc<Mutex<Vec<Got>>> = Arc::default();
        let seen = got.clone();
        let task = tokio::spawn(async move {
            let failures = Arc::new(Mutex::new(fail_first));
            loop {
                let Ok((mut conn, _)) = listener.accept().await else {
                    return;
                };
                let seen = seen.clone();
                let failures = failures.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    let (head, body_start) = loop {
                        let n = conn.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break (String::from_utf8_lossy(&buf[..at]).into_owned(), at + 4);
                        }
                    };
                    let mut lines = head.lines();
                    let mut first = lines.next().unwrap_or_default().split(' ');
                    let method = first.next().unwrap_or_default().to_owned();
                    let path = first.next().unwrap_or_default().to_owned();
                    let headers: Vec<(String, String)> = lines
                        .filter_map(|l| l.split_once(':'))
                        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                        .collect();
                    let length: usize = headers
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                        .and_then(|(_, v)| v.parse().ok())
                        .unwrap_or(0);
                    let mut body = buf[body_start..].to_vec();
                    while body.len() < length {
                        let n = conn.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            break;
                        }
                        body.extend_from_slice(&chunk[..n]);
                    }
                    let fail = path.starts_with("/hook") && {
                        let mut f = failures.lock().unwrap();
                        let fail = *f > 0;
                        *f = f.saturating_sub(1);
                        fail
                    };
                    seen.lock().unwrap().push(Got {
                        method,
                        path,
                        headers,
                        body: String::from_utf8_lossy(&body).into_owned(),
                    });
                    let (status, answer) = if fail {
                        ("500 Internal Server Error", "down")
                    } else {
                        ("200 OK", "{\"ok\":true}")
                    };
                    let reply = format!(
                        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                        answer.len()
                    );
                    let _ = conn.write_all(reply.as_bytes()).await;
                });
            }
        });
        Self { addr, got, task }
    }

    fn got(&self, path: &str) -> Vec<Got> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .filter(|g| g.path.starts_with(path))
            .cloned()
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// aiosmtpd on a free loopback port, writing each message into a maildir.
struct Smtp {
    port: u16,
    maildir: PathBuf,
    child: std::process::Child,
}

impl Smtp {
    fn start(dir: &Path) -> Self {
        let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.tools/venv/bin/python");
        assert!(
            python.is_file(),
            "aiosmtpd is needed: run ./scripts/install-tools.sh (it installs it into .tools/venv)"
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let maildir = dir.join("maildir");
        let child = std::process::Command::new(python)
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(&maildir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            port,
            maildir,
            child,
        }
    }

    fn messages(&self) -> Vec<String> {
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            if let Ok(entries) = std::fs::read_dir(self.maildir.join(sub)) {
                for e in entries.flatten() {
                    out.push(std::fs::read_to_string(e.path()).unwrap_or_default());
                }
            }
        }
        out
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn eventually<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    for _ in 0..secs * 20 {
        if let Some(t) = f() {
            return t;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn notifications_reach_slack_teams_a_webhook_and_email_once_per_revision() {
    let mut w = World::new().await;
    let recv = Receiver::start(2).await;
    let smtp = Smtp::start(w.dir.path());
    let base = format!("http://{}", recv.addr);
    let cms = w.api("v1", "ConfigMap", "configmaps", Some(NS));
    let cm = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "sextant-notifications-cm", "namespace": NS},
        "data": {
            "service.slack": format!("apiURL: {base}/slack/\ntoken: $slack-token\n"),
            "service.teams": format!("recipientUrls:\n  ops: {base}/teams\n"),
            "service.slack.incoming": format!("webhookURL: {base}/incoming/T000/B000/XXXX\n"),
            "service.webhook.deploys": format!("url: {base}\nheaders:\n- name: Authorization\n  value: Bearer $hook-token\n"),
            "service.email": format!("host: 127.0.0.1\nport: {}\nfrom: sextant@example.com\nplaintext: true\n", smtp.port),
            "context": "sextantUrl: https://cd.example.com\n",
            "template.deployed-hook": "message: deployed\nwebhook:\n  deploys:\n    method: POST\n    path: /hook/{{.app.metadata.name}}\n    body: '{\"app\": {{.app.metadata.name | quote}}, \"revision\": {{.app.status.sync.revision | quote}}}'\n",
            "trigger.on-deployed-hook": "- when: app.status.operationState != nil and app.status.operationState.phase in ['Succeeded'] and app.status.health.status == 'Healthy'\n  oncePer: app.status.sync.revision\n  send: [deployed-hook]\n",
            "template.custom": "message: 'custom: {{.app.metadata.name}} at {{.context.appUrl}}: {{.commit.message}} by {{.commit.author}} on {{date \"2006\" .commit.date}}'\n",
            "trigger.on-custom": "- when: app.metadata.labels.team == 'web' and app.status.sync.status == 'Synced'\n  oncePer: app.status.sync.revision\n  send: [custom]\n",
        }
    });
    cms.create(&Default::default(), &serde_json::from_value(cm).unwrap())
        .await
        .unwrap();
    let secrets = w.api("v1", "Secret", "secrets", Some(NS));
    let secret = json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "sextant-notifications-secret", "namespace": NS},
        "stringData": {"slack-token": "xoxb-test", "hook-token": "hook-secret"},
    });
    secrets
        .create(
            &Default::default(),
            &serde_json::from_value(secret).unwrap(),
        )
        .await
        .unwrap();

    let c1 = w.commit(&[("app/cm.yaml", &configmap("cfg", "1"))], "one");
    w.start_controller().await;
    w.create_app("web", "app", "web", automated(true, false))
        .await;
    let subscribe = json!({"metadata": {
    "labels": {"team": "web"},
    "annotations": {
        "notifications.sextant.dev/subscribe.on-deployed.slack": "ops",
        "notifications.argoproj.io/subscribe.on-sync-succeeded.teams": "ops",
        "notifications.sextant.dev/subscribe.on-deployed-hook.deploys": "",
        "notifications.sextant.dev/subscribe.on-deployed.email": "dev@example.com",
        "notifications.sextant.dev/subscribe.on-custom.slack": "web-team",
        "notifications.sextant.dev/subscribe.on-sync-succeeded.incoming": "",
    }}});
    w.apps()
        .patch(
            "web",
            &Default::default(),
            &kube::api::Patch::Merge(&subscribe),
        )
        .await
        .unwrap();
    w.wait_synced_healthy("web", &c1).await;

    // Slack: the bot API with the token from the Secret, to the channel.
    let slack = eventually("slack messages", 30, || {
        let got = recv.got("/slack/");
        (got.len() >= 2).then_some(got)
    })
    .await;
    let deployed: Vec<&Got> = slack
        .iter()
        .filter(|g| g.body.contains("\"channel\":\"ops\""))
        .collect();
    assert_eq!(deployed.len(), 1, "{slack:?}");
    assert_eq!(deployed[0].path, "/slack/chat.postMessage");
    assert_eq!(
        deployed[0].header("authorization"),
        Some("Bearer xoxb-test")
    );
    let body: Value = serde_json::from_str(&deployed[0].body).unwrap();
    assert!(body["text"].as_str().unwrap().contains(&c1), "{body}");
    let custom: Vec<&Got> = slack
        .iter()
        .filter(|g| g.body.contains("web-team"))
        .collect();
    assert_eq!(custom.len(), 1);
    assert!(
        custom[0]
            .body
            .contains("custom: web at https://cd.example.com/applications/sextant/web: one by "),
        "{}",
        custom[0].body
    );
    // The commit's date in a Go layout (the fixture's commits are dated).
    let year = git(
        &w.repo,
        &["log", "-1", "--format=%ad", "--date=format:%Y", &c1],
    );
    assert!(
        custom[0].body.contains(&format!(" on {year}\"")),
        "{}",
        custom[0].body
    );

    // Slack through an incoming webhook: the URL is the credential.
    let incoming = eventually("a message on the incoming webhook", 30, || {
        let got = recv.got("/incoming/T000/B000/XXXX");
        (!got.is_empty()).then_some(got)
    })
    .await;
    let body: Value = serde_json::from_str(&incoming[0].body).unwrap();
    assert!(
        body["text"].as_str().unwrap().contains("has been synced"),
        "{body}"
    );
    assert!(incoming[0].header("authorization").is_none());

    // Teams: a MessageCard at the recipient's URL.
    let teams = eventually("a teams card", 30, || {
        let got = recv.got("/teams");
        (!got.is_empty()).then_some(got)
    })
    .await;
    let card: Value = serde_json::from_str(&teams[0].body).unwrap();
    assert_eq!(card["@type"], "MessageCard");
    assert!(card["text"].as_str().unwrap().contains("web"), "{card}");

    // The webhook failed twice and was retried: the third attempt got in.
    let hook = eventually("the webhook to succeed after retries", 30, || {
        let got = recv.got("/hook/web");
        (got.len() >= 3).then_some(got)
    })
    .await;
    assert_eq!(hook[2].method, "POST");
    assert_eq!(hook[2].header("authorization"), Some("Bearer hook-secret"));
    let payload: Value = serde_json::from_str(&hook[2].body).unwrap();
    assert_eq!(payload, json!({"app": "web", "revision": c1}));

    // E-mail through the SMTP server.
    let mail = eventually("an e-mail", 30, || {
        let m = smtp.messages();
        (!m.is_empty()).then_some(m)
    })
    .await;
    assert!(mail[0].contains("To: dev@example.com"), "{}", mail[0]);
    assert!(
        mail[0].contains("Subject: [sextant] web: deployed"),
        "{}",
        mail[0]
    );

    // Once per revision: more reconciles send nothing more.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(recv.got("/slack/").len(), 2);
    assert_eq!(recv.got("/hook/web").len(), 3);
    assert_eq!(smtp.messages().len(), 1);
    let app = w.app("web").await;
    let notified = app.metadata.annotations.unwrap()["notified.notifications.sextant.dev"].clone();
    assert!(notified.contains(&c1), "{notified}");

    // A new revision: each fires once more.
    let c2 = w.commit(&[("app/cm.yaml", &configmap("cfg", "2"))], "two");
    w.wait_synced_healthy("web", &c2).await;
    eventually("the second round", 30, || {
        (recv.got("/slack/").len() >= 4
            && recv.got("/hook/web").len() >= 4
            && smtp.messages().len() >= 2)
            .then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(recv.got("/slack/").len(), 4);
    assert_eq!(recv.got("/hook/web").len(), 4);
    assert_eq!(smtp.messages().len(), 2);
    w.stop_controller().await;
}
