//! SSH for one fetch: the private key and the known hosts written to a
//! private temporary folder (removed when the fetch ends), and
//! `core.sshCommand` on the repository handle of the fetch, so the `ssh`
//! program uses those and nothing of the user's (no agent, no config file,
//! no prompt, unknown hosts refused).

use std::io::Write;
use std::process::{Command, Stdio};

use super::{FetchError, GitFailure};
use crate::credentials::Credentials;
use crate::url::RepoUrl;

/// The private folder of one fetch's key, known hosts and what `ssh` said
/// on its standard error (gix does not always pass that on).
pub(super) struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("ssh.err")).unwrap_or_default()
    }
}

/// A repository handle whose fetches go through our `ssh` command, and the
/// folder of its files (kept alive as long as the fetch).
pub(super) fn prepare(
    repo: &gix::Repository,
    url: &RepoUrl,
    creds: Option<&Credentials>,
) -> Result<(gix::Repository, Files), FetchError> {
    let name = url.as_str().to_owned();
    let Some(Credentials::Ssh {
        private_key,
        known_hosts,
    }) = creds
    else {
        return Err(FetchError::SshKeyRequired { repo: name });
    };
    let setup = |why: String| FetchError::SshSetup {
        repo: name.clone(),
        why,
    };
    let dir = tempfile::Builder::new()
        .prefix("sextant-ssh-")
        .tempdir()
        .map_err(|e| setup(format!("a temporary folder: {e}")))?;
    let key = dir.path().join("key");
    let hosts = dir.path().join("known_hosts");
    // ssh refuses a key others can read, and one without a final newline.
    let mut key_text = private_key.expose().trim().to_owned();
    key_text.push('\n');
    write_private(&key, &key_text).map_err(|e| setup(format!("the key file: {e}")))?;
    write_private(&hosts, known_hosts).map_err(|e| setup(format!("the known hosts: {e}")))?;
    let stderr = dir.path().join("ssh.err");
    let command = format!(
        "ssh -F /dev/null -i {} -o IdentitiesOnly=yes -o IdentityAgent=none -o UserKnownHostsFile={} -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=20 2>>{}",
        quote(&key.to_string_lossy()),
        quote(&hosts.to_string_lossy()),
        quote(&stderr.to_string_lossy())
    );
    let mut configured = repo.clone();
    {
        let mut config = configured.config_snapshot_mut();
        config
            .set_value(&gix::config::tree::Core::SSH_COMMAND, command.as_str())
            .map_err(|e| setup(format!("core.sshCommand: {e}")))?;
        config
            .set_value(&gix::config::tree::Ssh::VARIANT, "ssh")
            .map_err(|e| setup(format!("ssh.variant: {e}")))?;
        config
            .commit()
            .map_err(|e| setup(format!("the configuration: {e}")))?;
    }
    Ok((configured, Files { dir }))
}

fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(text.as_bytes())
}

/// A word for `sh`, in single quotes.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The SSH failures we can say more about: an unknown host key (with what
/// the server offers, so the user can check and add it) and a refused key.
pub(super) fn classify(
    error: &(dyn std::error::Error + 'static),
    url: &RepoUrl,
    creds: Option<&Credentials>,
    files: Option<&Files>,
) -> Option<FetchError> {
    let creds = creds?;
    let said = files.map(Files::stderr).unwrap_or_default();
    let text = creds.scrub(&format!(
        "{}: {}",
        GitFailure::new(error, Some(creds)).0,
        said.trim()
    ));
    let repo = url.as_str().to_owned();
    if text.contains("Host key verification failed") || text.contains("host key is known") {
        return Some(FetchError::UnknownHost {
            found: offered_key(url)
                .map(|k| format!(": it offers {k}"))
                .unwrap_or_default(),
            repo,
        });
    }
    if text.contains("Permission denied") {
        return Some(FetchError::Auth {
            repo,
            source: GitFailure(format!(
                "{text} (the server refused the key in sshPrivateKey)"
            )),
        });
    }
    None
}

/// The host key line the server at `url` offers and its fingerprint, read
/// with `ssh-keyscan` (no authentication happens).
fn offered_key(url: &RepoUrl) -> Option<String> {
    let gix_url = url.gix_url();
    let host = gix_url.host()?;
    let mut scan = Command::new("ssh-keyscan");
    scan.args(["-T", "5"]);
    if let Some(port) = gix_url.port {
        scan.args(["-p", &port.to_string()]);
    }
    let out = scan
        .arg("--")
        .arg(host)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let lines = String::from_utf8_lossy(&out.stdout);
    let line = lines
        .lines()
        .find(|l| l.contains("ssh-ed25519"))
        .or_else(|| lines.lines().find(|l| !l.starts_with('#') && !l.is_empty()))?
        .trim()
        .to_owned();
    let mut keygen = Command::new("ssh-keygen")
        .args(["-l", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    keygen.stdin.take()?.write_all(line.as_bytes()).ok()?;
    let out = keygen.wait_with_output().ok()?;
    let fingerprint = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .nth(1)
        .map(str::to_owned);
    Some(match fingerprint {
        Some(f) => format!("`{line}` ({f})"),
        None => format!("`{line}`"),
    })
}
