//! `sextant repo add|list|rm`: the credentials of private Git repositories,
//! kept where the controller reads them (Secrets labelled
//! `sextant.dev/secret-type` in its namespace; see
//! `sextant_controller::repo_creds` and docs/controller.md). The password
//! is read from standard input, never from an argument (which would land in
//! shell history and the process list), and never printed.

use std::io::Read;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;
use sextant_controller::repo_creds::{self, SECRET_TYPE_LABEL, Scope, normalise};

use crate::app_cmd::ConnArgs;
use crate::app_cmd::client::words;

/// Options of `sextant repo`.
#[derive(Debug, Args)]
pub struct RepoArgs {
    /// Where the cluster is and the controller's namespace.
    #[command(flatten, next_help_heading = "Connection (every repo command)")]
    conn: ConnArgs,
    #[command(subcommand)]
    verb: Verb,
}

#[derive(Debug, Subcommand)]
enum Verb {
    /// Save the credentials of a repository (or, with --prefix, of every
    /// repository under a URL); the password or token is read from stdin.
    Add(AddArgs),
    /// List the saved repository credentials (never their passwords).
    List {
        /// Print them as JSON or YAML.
        #[arg(short, long, value_enum)]
        output: Option<crate::app_cmd::Format>,
    },
    /// Remove the credentials saved for a URL (or a Secret by name).
    Rm(RmArgs),
}

/// Options of `sextant repo add`.
#[derive(Debug, Args)]
struct AddArgs {
    /// The repository URL, as the Applications' repoURL says it (with
    /// --prefix: a URL every covered repository starts with).
    url: String,
    /// The user name (omit it for a token: it is sent as x-access-token).
    #[arg(long)]
    username: Option<String>,
    /// Read the password or token from standard input (required, unless
    /// --ssh-private-key-path is given).
    #[arg(long)]
    password_stdin: bool,
    /// For an SSH repository (`git@host:org/repo.git`, `ssh://...`): the
    /// private key to save (its host must be in the known hosts, ConfigMap
    /// sextant-ssh-known-hosts-cm).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["username", "password_stdin"])]
    ssh_private_key_path: Option<std::path::PathBuf>,
    /// Cover every repository under URL (a `repo-creds` Secret).
    #[arg(long)]
    prefix: bool,
    /// The Secret's name (default: derived from the URL).
    #[arg(long)]
    name: Option<String>,
}

/// Options of `sextant repo rm`.
#[derive(Debug, Args)]
struct RmArgs {
    /// The URL the credentials were saved for, or the Secret's name.
    url_or_name: String,
}

/// Run `sextant repo`.
pub async fn run(args: RepoArgs) -> anyhow::Result<ExitCode> {
    let client = sextant_cluster::connect_inferred(
        args.conn.kubeconfig.as_deref(),
        args.conn.context.as_deref(),
    )
    .await?;
    let ns = &args.conn.namespace();
    let secrets: Api<Secret> = Api::namespaced(client, ns);
    match args.verb {
        Verb::Add(add) => {
            let material = match &add.ssh_private_key_path {
                Some(path) => Material::SshKey(std::fs::read_to_string(path).map_err(|e| {
                    anyhow::anyhow!("could not read the SSH private key {}: {e}", path.display())
                })?),
                None => Material::Password(read_password(add.password_stdin)?),
            };
            self::add(&secrets, ns, &add, &material).await
        }
        Verb::List { output } => list(&secrets, ns, output).await,
        Verb::Rm(rm) => remove(&secrets, ns, &rm.url_or_name).await,
    }
}

/// The password from standard input (without its final line break).
fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    if !from_stdin {
        anyhow::bail!(
            "a password or token is needed: give it on standard input with --password-stdin (e.g. `printf %s \"$TOKEN\" | sextant repo add URL --password-stdin`)"
        );
    }
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .context("could not read the password from standard input")?;
    let password = text.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        anyhow::bail!("standard input was empty: pipe the password or token into --password-stdin");
    }
    Ok(password)
}

/// What a credentials Secret says (never its password).
struct Saved {
    name: String,
    kind: String,
    url: String,
    username: String,
}

fn saved(secret: &Secret) -> Option<Saved> {
    let kind = repo_creds::scope(secret)?.as_str().to_owned();
    let value = |key: &str| {
        secret
            .data
            .as_ref()
            .and_then(|d| d.get(key))
            .map(|v| String::from_utf8_lossy(&v.0).trim().to_owned())
            .unwrap_or_default()
    };
    Some(Saved {
        name: secret.metadata.name.clone().unwrap_or_default(),
        kind,
        url: value("url"),
        username: value("username"),
    })
}

/// Every credentials Secret of the namespace.
async fn all(secrets: &Api<Secret>, ns: &str) -> anyhow::Result<Vec<Saved>> {
    let list = secrets
        .list(&ListParams::default())
        .await
        .map_err(|e| anyhow::anyhow!(words(&e)))
        .with_context(|| format!("could not list the Secrets of namespace {ns}"))?;
    Ok(list.items.iter().filter_map(saved).collect())
}

/// What authenticates: a password (or token), or an SSH private key.
enum Material {
    Password(String),
    SshKey(String),
}

async fn add(
    secrets: &Api<Secret>,
    ns: &str,
    args: &AddArgs,
    material: &Material,
) -> anyhow::Result<ExitCode> {
    let kind = if args.prefix {
        Scope::Prefix
    } else {
        Scope::Repository
    }
    .as_str();
    let url = args.url.trim();
    let ssh = matches!(material, Material::SshKey(_));
    let rest = match url.split_once("://") {
        Some((scheme, rest)) if !ssh || scheme.contains("ssh") => rest,
        _ if ssh && !url.contains("://") && url.contains(':') => "",
        _ if ssh => anyhow::bail!(
            "`{url}` is not an SSH URL; a key is for repositories like git@git.example.com:org/repo.git or ssh://git@git.example.com/org/repo.git"
        ),
        _ => anyhow::bail!(
            "`{url}` is not an http(s) URL; credentials are for repositories like https://git.example.com/org/repo.git (or give an SSH key with --ssh-private-key-path)"
        ),
    };
    if !ssh
        && rest
            .split('/')
            .next()
            .is_some_and(|host| host.contains('@'))
    {
        anyhow::bail!(
            "the URL carries a user name or token; give the URL without it (the Applications' repoURL) and the user with --username, the password or token on standard input"
        );
    }
    // The Secret already saved for this URL and scope, else a new one.
    let existing = all(secrets, ns)
        .await?
        .into_iter()
        .find(|s| s.kind == kind && normalise(&s.url) == normalise(url))
        .map(|s| s.name);
    let name = match (&args.name, existing) {
        (Some(n), _) => n.clone(),
        (None, Some(n)) => n,
        (None, None) => repo_creds::secret_name(url),
    };
    let mut data = match material {
        Material::Password(password) => json!({"url": url, "password": password, "type": "git"}),
        Material::SshKey(key) => json!({"url": url, "sshPrivateKey": key, "type": "git"}),
    };
    match &args.username {
        Some(u) => data["username"] = json!(u),
        // A merge patch with null removes a user name saved before.
        None => data["username"] = serde_json::Value::Null,
    }
    let body = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": ns, "labels": {SECRET_TYPE_LABEL: kind}},
        "type": "Opaque",
        "stringData": data,
    });
    let outcome = match secrets.get_opt(&name).await {
        // Never turn an unrelated Secret (or the other kind of credentials)
        // into this one.
        Ok(Some(other))
            if saved(&other)
                .is_none_or(|s| s.kind != kind || normalise(&s.url) != normalise(url)) =>
        {
            anyhow::bail!(
                "Secret {ns}/{name} exists and holds something else; choose another name with --name"
            );
        }
        Ok(Some(_)) => {
            // stringData is write-only: drop the old keys it replaces.
            let mut patch = body.clone();
            patch["data"] = if ssh {
                json!({"username": null, "password": null})
            } else {
                json!({"username": null, "sshPrivateKey": null})
            };
            secrets
                .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .map(|_| "updated")
        }
        Ok(None) => {
            let mut create = body.clone();
            if let Some(d) = create["stringData"].as_object_mut() {
                d.retain(|_, v| !v.is_null());
            }
            let secret: Secret =
                serde_json::from_value(create).context("could not build the Secret")?;
            secrets
                .create(&PostParams::default(), &secret)
                .await
                .map(|_| "saved")
        }
        Err(e) => Err(e),
    }
    .map_err(|e| anyhow::anyhow!(words(&e)))
    .with_context(|| format!("could not write Secret {ns}/{name}"))?;
    let scope = if args.prefix {
        format!("every repository under {url}")
    } else {
        url.to_owned()
    };
    println!("credentials for {scope} {outcome} in Secret {ns}/{name}");
    Ok(ExitCode::SUCCESS)
}

async fn list(
    secrets: &Api<Secret>,
    ns: &str,
    output: Option<crate::app_cmd::Format>,
) -> anyhow::Result<ExitCode> {
    let mut rows = all(secrets, ns).await?;
    if let Some(format) = output {
        rows.sort_by(|a, b| a.url.cmp(&b.url));
        let out: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                serde_json::json!({"name": r.name, "type": r.kind, "url": r.url, "username": r.username})
            })
            .collect();
        crate::app_cmd::print(&out, format)?;
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        println!("no repository credentials in namespace {ns} (add some with `sextant repo add`)");
        return Ok(ExitCode::SUCCESS);
    }
    rows.sort_by(|a, b| a.url.cmp(&b.url));
    let width = |f: fn(&Saved) -> &str, title: &str| {
        rows.iter()
            .map(|r| f(r).len())
            .chain([title.len()])
            .max()
            .unwrap_or(0)
    };
    let (wn, wt, wu) = (
        width(|r| &r.name, "NAME"),
        width(|r| &r.kind, "TYPE"),
        width(|r| &r.url, "URL"),
    );
    println!("{:<wn$}  {:<wt$}  {:<wu$}  USERNAME", "NAME", "TYPE", "URL");
    for r in &rows {
        let user = if r.username.is_empty() {
            "(token)"
        } else {
            &r.username
        };
        println!("{:<wn$}  {:<wt$}  {:<wu$}  {user}", r.name, r.kind, r.url);
    }
    Ok(ExitCode::SUCCESS)
}

async fn remove(secrets: &Api<Secret>, ns: &str, which: &str) -> anyhow::Result<ExitCode> {
    let rows = all(secrets, ns).await?;
    let found: Vec<&Saved> = rows
        .iter()
        .filter(|s| s.name == which || normalise(&s.url) == normalise(which))
        .collect();
    if found.is_empty() {
        anyhow::bail!(
            "no repository credentials for `{which}` in namespace {ns} (`sextant repo list` shows them)"
        );
    }
    for s in found {
        secrets
            .delete(&s.name, &DeleteParams::default())
            .await
            .map_err(|e| anyhow::anyhow!(words(&e)))
            .with_context(|| format!("could not delete Secret {ns}/{}", s.name))?;
        println!(
            "removed the credentials for {} (Secret {ns}/{})",
            s.url, s.name
        );
    }
    Ok(ExitCode::SUCCESS)
}
