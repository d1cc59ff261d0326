//! `sextant login`, `sextant logout` and `sextant account ...`: sessions
//! and accounts on a `sextant server`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::{Value, json};

use crate::api_client::{self, Api, Config, Saved, config_path, http_client, normalise_server};

/// Options of `sextant login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The server: `host:port` (HTTPS) or a URL.
    server: String,
    /// The account.
    #[arg(long, default_value = "admin")]
    username: String,
    /// Read the password from standard input (else it is asked for).
    #[arg(long)]
    password_stdin: bool,
    /// Accept the server's certificate without checking it (a generated
    /// self-signed one).
    #[arg(long)]
    insecure_skip_tls_verify: bool,
    /// Trust this CA (PEM) for the server's certificate.
    #[arg(long, value_name = "FILE")]
    certificate_authority: Option<PathBuf>,
}

/// Log in and save the session token.
pub async fn login(args: LoginArgs) -> anyhow::Result<ExitCode> {
    let server = normalise_server(&args.server);
    let password = if args.password_stdin {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .context("could not read the password from standard input")?;
        text.trim_end_matches(['\n', '\r']).to_owned()
    } else {
        api_client::read_secret(&format!("password for {} at {server}: ", args.username))?
    };
    let http = http_client(
        args.insecure_skip_tls_verify,
        args.certificate_authority.as_deref(),
    )?;
    let resp = http
        .post(format!("{server}/api/v1/session"))
        .json(&json!({"username": args.username, "password": password, "token": true}))
        .send()
        .await
        .with_context(|| format!("could not reach {server} (a self-signed certificate needs --insecure-skip-tls-verify or --certificate-authority)"))?;
    let body = api_client::read(resp, "logging in").await?;
    let Some(token) = body.get("token").and_then(Value::as_str) else {
        anyhow::bail!("{server} answered the login without a token; is it a sextant server?");
    };
    let path = config_path()?;
    let mut config = Config::load(&path)?;
    config.servers.insert(
        server.clone(),
        Saved {
            token: token.to_owned(),
            user: args.username.clone(),
            insecure: args.insecure_skip_tls_verify,
            ca_file: args.certificate_authority.clone(),
        },
    );
    config.current = Some(server.clone());
    config.save(&path)?;
    println!(
        "logged in to {server} as {} (session until {}); saved in {}",
        args.username,
        body.get("expiresAt").and_then(Value::as_str).unwrap_or("?"),
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Options of `sextant logout`.
#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// The server (default: the current one).
    server: Option<String>,
}

/// End the session and forget its token.
pub async fn logout(args: LogoutArgs) -> anyhow::Result<ExitCode> {
    let path = config_path()?;
    let mut config = Config::load(&path)?;
    let Some(server) = args
        .server
        .as_deref()
        .map(normalise_server)
        .or(config.current.clone())
    else {
        anyhow::bail!("not logged in to any server");
    };
    if let Ok(api) = Api::connect(Some(&server)) {
        // The session ends on the server too; a failure here (server
        // gone) still forgets the token locally.
        if let Err(e) = api.call(Method::DELETE, "/api/v1/session", None).await {
            eprintln!("warning: {e}");
        }
    }
    config.servers.remove(&server);
    if config.current.as_deref() == Some(server.as_str()) {
        config.current = None;
    }
    config.save(&path)?;
    println!("logged out of {server}");
    Ok(ExitCode::SUCCESS)
}

/// Options of `sextant account`.
#[derive(Debug, Args)]
pub struct AccountArgs {
    /// The server (default: the one last logged in to).
    #[arg(
        long,
        global = true,
        help_heading = "Connection (every account command)"
    )]
    server: Option<String>,
    #[command(subcommand)]
    verb: AccountVerb,
}

#[derive(Debug, Subcommand)]
enum AccountVerb {
    /// Change a password (yours, or with --account another's, as an admin).
    UpdatePassword {
        /// Whose password (default: yours).
        #[arg(long)]
        account: Option<String>,
    },
    /// Generate an API token (shown once) for an account with the apiKey capability.
    GenerateToken {
        /// For which account (default: yours).
        #[arg(long)]
        account: Option<String>,
        /// How long it lasts (`24h`, `720h`); default: until revoked.
        #[arg(long)]
        expires_in: Option<String>,
        /// Its id (default: a new UUID).
        #[arg(long)]
        id: Option<String>,
    },
    /// Revoke an API token.
    DeleteToken {
        /// Whose token (default: yours).
        #[arg(long)]
        account: Option<String>,
        /// The token's id.
        id: String,
    },
    /// List the accounts you may see.
    List {
        /// Print the accounts as JSON or YAML.
        #[arg(short, long, value_enum)]
        output: Option<crate::app_cmd::Format>,
    },
    /// Show an account and its tokens (default: yours).
    Get {
        /// The account.
        name: Option<String>,
        /// Print the account as JSON or YAML.
        #[arg(short, long, value_enum)]
        output: Option<crate::app_cmd::Format>,
    },
}

async fn me(api: &Api) -> anyhow::Result<String> {
    let info = api
        .call(Method::GET, "/api/v1/session/userinfo", None)
        .await?;
    Ok(info
        .get("username")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned())
}

fn when(secs: Option<i64>) -> String {
    secs.and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .map(|d| d.to_rfc3339())
        .unwrap_or_else(|| "never".into())
}

/// Run `sextant account ...`.
pub async fn account(args: AccountArgs) -> anyhow::Result<ExitCode> {
    let api = Api::connect(args.server.as_deref())?;
    match args.verb {
        AccountVerb::UpdatePassword { account } => {
            let current = api_client::read_secret("your current password: ")?;
            let new = api_client::read_secret("the new password: ")?;
            let mut body = json!({"currentPassword": current, "newPassword": new});
            if let Some(a) = &account {
                body["name"] = json!(a);
            }
            let out = api
                .call(Method::PUT, "/api/v1/account/password", Some(&body))
                .await?;
            println!(
                "password of {} updated; its sessions have ended (log in again)",
                out.get("updated")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
            );
        }
        AccountVerb::GenerateToken {
            account,
            expires_in,
            id,
        } => {
            let name = match account {
                Some(a) => a,
                None => me(&api).await?,
            };
            let mut body = json!({});
            if let Some(e) = expires_in {
                body["expiresIn"] = json!(e);
            }
            if let Some(i) = id {
                body["id"] = json!(i);
            }
            let out = api
                .call(
                    Method::POST,
                    &format!("/api/v1/account/{name}/token"),
                    Some(&body),
                )
                .await?;
            eprintln!(
                "token {} for {name} (expires {}); it is shown once:",
                out.get("id").and_then(Value::as_str).unwrap_or_default(),
                out.get("expiresAt")
                    .and_then(Value::as_str)
                    .unwrap_or("never")
            );
            println!(
                "{}",
                out.get("token").and_then(Value::as_str).unwrap_or_default()
            );
        }
        AccountVerb::DeleteToken { account, id } => {
            let name = match account {
                Some(a) => a,
                None => me(&api).await?,
            };
            api.call(
                Method::DELETE,
                &format!("/api/v1/account/{name}/token/{id}"),
                None,
            )
            .await?;
            println!("token {id} of {name} revoked");
        }
        AccountVerb::List { output } => {
            let out = api.call(Method::GET, "/api/v1/account", None).await?;
            if let Some(format) = output {
                crate::app_cmd::print(&out, format)?;
                return Ok(ExitCode::SUCCESS);
            }
            println!(
                "{:<20} {:<8} {:<16} TOKENS",
                "NAME", "ENABLED", "CAPABILITIES"
            );
            for a in out.as_array().into_iter().flatten() {
                println!(
                    "{:<20} {:<8} {:<16} {}",
                    a["name"].as_str().unwrap_or_default(),
                    a["enabled"].as_bool().unwrap_or(false),
                    a["capabilities"]
                        .as_array()
                        .map(|c| c
                            .iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(","))
                        .unwrap_or_default(),
                    a["tokens"].as_array().map_or(0, Vec::len)
                );
            }
        }
        AccountVerb::Get { name, output } => {
            let name = match name {
                Some(n) => n,
                None => me(&api).await?,
            };
            let a = api
                .call(Method::GET, &format!("/api/v1/account/{name}"), None)
                .await?;
            if let Some(format) = output {
                crate::app_cmd::print(&a, format)?;
                return Ok(ExitCode::SUCCESS);
            }
            println!("name:         {}", a["name"].as_str().unwrap_or_default());
            println!("enabled:      {}", a["enabled"].as_bool().unwrap_or(false));
            println!(
                "capabilities: {}",
                a["capabilities"]
                    .as_array()
                    .map(|c| c
                        .iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(", "))
                    .unwrap_or_default()
            );
            println!("tokens:");
            for t in a["tokens"].as_array().into_iter().flatten() {
                println!(
                    "  {}  issued {}  expires {}",
                    t["id"].as_str().unwrap_or_default(),
                    when(t["iat"].as_i64()),
                    when(t["exp"].as_i64())
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
