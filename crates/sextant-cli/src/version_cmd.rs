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
}

/// Print the versions.
pub async fn run(args: VersionArgs) -> anyhow::Result<ExitCode> {
    println!("sextant: {}", env!("CARGO_PKG_VERSION"));
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
