//! The `sextant` binary: parses the command line, sets up logging, runs the
//! chosen subcommand and maps its outcome to an exit code (0 ok, 1
//! differences found, 2 error).

use std::process::ExitCode;

use clap::Parser;

mod account_cmd;
mod api_client;
mod app_cmd;
mod app_source;
mod appset_cmd;
mod cli;
#[cfg(test)]
mod cli_docs;
mod cluster_cmd;
mod controller_cmd;
mod crds_cmd;
mod demo_cmd;
mod diff_cmd;
mod health_cmd;
mod import_cmd;
mod jsonnet_args;
mod localkube_cmd;
mod logging;
mod notifications_cmd;
mod plugin_args;
mod preview_apps;
mod preview_cmd;
mod proj_cmd;
mod render_cmd;
mod repo_cmd;
mod server_cmd;
mod version_cmd;

fn main() -> ExitCode {
    // Jsonnet runs in a child of this binary, capped in memory and time.
    let first: Vec<_> = std::env::args_os().skip(1).take(3).collect();
    if let Some(code) = sextant_render::jsonnet::run_if_child(&first) {
        return code;
    }
    let args = cli::Cli::parse();
    if let Err(e) = sextant_model::group::select(args.api_group) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    if let Err(e) = logging::init(
        args.log_format,
        args.log_level.as_deref(),
        args.default_log_level(),
    ) {
        eprintln!("error: {e:#}");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("sextant: could not start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(cli::run(args)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("sextant: {}", error_chain(&e));
            ExitCode::from(2)
        }
    }
}

/// `outer: inner: root`, the way every error is printed.
fn error_chain(e: &anyhow::Error) -> String {
    e.chain()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
}
