//! Helm charts for tests, made with the real `helm` (found on `PATH`):
//! packaged into a chart repository folder with its `index.yaml`, or
//! pushed to an OCI registry; and Debian's `docker-registry` (the CNCF
//! distribution registry) on a loopback port.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Package chart `name` at `version` into `repo` (made if missing): a
/// ConfigMap `<release>-<name>` whose data says the chart version and
/// `.Values.greeting` (default `hello`), plus `extra` templates. Returns
/// the archive.
pub fn package_chart(repo: &Path, name: &str, version: &str, extra: &[(&str, &str)]) -> PathBuf {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join(name);
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::write(
        dir.join("Chart.yaml"),
        format!("apiVersion: v2\nname: {name}\nversion: {version}\n"),
    )
    .unwrap();
    std::fs::write(dir.join("values.yaml"), "greeting: hello\n").unwrap();
    std::fs::write(
        dir.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-{{ .Chart.Name }}\ndata:\n  version: {{ .Chart.Version | quote }}\n  greeting: {{ .Values.greeting | quote }}\n",
    )
    .unwrap();
    for (file, text) in extra {
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    std::fs::create_dir_all(repo).unwrap();
    helm(&[
        "package",
        dir.to_str().unwrap(),
        "-d",
        repo.to_str().unwrap(),
    ]);
    repo.join(format!("{name}-{version}.tgz"))
}

/// Write `index.yaml` for the archives in `repo`.
pub fn index_repo(repo: &Path) {
    helm(&["repo", "index", repo.to_str().unwrap()]);
}

/// Run helm with a private home; panics with its output when it fails.
pub fn helm(args: &[&str]) -> String {
    let home = tempfile::tempdir().unwrap();
    let out = Command::new("helm")
        .args(args)
        .env("HOME", home.path())
        .env("HELM_CACHE_HOME", home.path().join("cache"))
        .env("HELM_CONFIG_HOME", home.path().join("config"))
        .env("HELM_DATA_HOME", home.path().join("data"))
        .output()
        .expect("helm on PATH (scripts/install-tools.sh puts it in .tools/bin)");
    assert!(
        out.status.success(),
        "helm {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The CNCF distribution registry (`docker-registry`, Debian's package)
/// on a loopback port, storing in a temporary folder, plain HTTP.
pub struct OciRegistry {
    /// `127.0.0.1:PORT`.
    pub host: String,
    child: Child,
    _dir: tempfile::TempDir,
}

impl OciRegistry {
    /// Start it and wait until it answers.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
                dir.path().join("data").display()
            ),
        )
        .unwrap();
        let bin =
            std::env::var("SEXTANT_DOCKER_REGISTRY").unwrap_or_else(|_| "docker-registry".into());
        let child = Command::new(&bin)
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin} (Debian package docker-registry; scripts/install-tools.sh installs it): {e}"));
        let host = format!("127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(&host).is_err() {
            assert!(
                Instant::now() < deadline,
                "the registry did not start on {host}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            host,
            child,
            _dir: dir,
        }
    }

    /// Push a packaged chart under `oci://HOST/<path>`.
    pub fn push(&self, archive: &Path, path: &str) {
        helm(&[
            "push",
            archive.to_str().unwrap(),
            &format!("oci://{}/{path}", self.host),
            "--plain-http",
        ]);
    }
}

impl Drop for OciRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
