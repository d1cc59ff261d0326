//! `sextant version`: this binary's version and, when logged in to a
//! server (`sextant login`, or SEXTANT_SERVER and SEXTANT_AUTH_TOKEN), the
//! server's and its tools'. A server that cannot be reached is said, not
//! an error: the client's version is still the answer asked for.

use std::process::ExitCode;

use clap::Args;

use crate::api_client::Api;

/// Options of `sextant version`.
#[derive(Debug, Args)]
pub struct VersionArgs {
    /// Only this binary's version; do not ask a server.
    #[arg(long)]
    client: bool,
    /// The server to ask (default: the one logged in to).
    #[arg(long)]
    server: Option<String>,
    /// Print the versions as JSON or YAML (`client`, and `server` when
    /// asked: the server's answer, or `error`).
    #[arg(short, long, value_enum)]
    output: Option<crate::app_cmd::Format>,
}

/// Print the versions.
pub async fn run(args: VersionArgs) -> anyhow::Result<ExitCode> {
    let client = env!("CARGO_PKG_VERSION");
    if let Some(format) = args.output {
        let mut doc = serde_json::json!({ "client": client });
        if !args.client {
            doc["server"] = match Api::connect(args.server.as_deref()) {
                Err(e) => serde_json::json!({"error": format!("not asked: {e}")}),
                Ok(api) => match api
                    .call(reqwest::Method::GET, "/api/v1/version", None)
                    .await
                {
                    Ok(mut v) => {
                        v["url"] = serde_json::json!(api.server);
                        v
                    }
                    Err(e) => serde_json::json!({"error": format!("unreachable: {e:#}")}),
                },
            };
        }
        crate::app_cmd::print(&doc, format)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!("sextant: {client}");
    if args.client {
        return Ok(ExitCode::SUCCESS);
    }
    let api = match Api::connect(args.server.as_deref()) {
        Ok(api) => api,
        Err(e) => {
            println!("server: not asked ({e})");
            return Ok(ExitCode::SUCCESS);
        }
    };
    match api
        .call(reqwest::Method::GET, "/api/v1/version", None)
        .await
    {
        Ok(v) => {
            let s = |k: &str| {
                v.get(k)
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("?")
                    .to_owned()
            };
            println!("server: {} ({})", s("version"), api.server);
            println!(
                "server tools: helm {}, {}",
                if v.get("helm").and_then(serde_json::Value::as_bool) == Some(true) {
                    "found"
                } else {
                    "not found"
                },
                s("tools")
            );
        }
        Err(e) => println!("server: unreachable ({e:#})"),
    }
    Ok(ExitCode::SUCCESS)
}
