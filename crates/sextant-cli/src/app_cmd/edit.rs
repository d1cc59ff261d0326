//! `sextant app edit`: open the app's spec as YAML in `$VISUAL` or
//! `$EDITOR` (else `vi`), check what comes back as `app set` does, and
//! write it only if it changed and is valid. A spec that does not parse
//! or check is never written: on a terminal the editor opens again with
//! the error on top; otherwise the command fails with the error. The write
//! is conditional on the version read, so a change made meanwhile by
//! someone else is not overwritten.

use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use kube::api::PostParams;
use sextant_model::ApplicationSpec;

use super::ConnArgs;
use super::client::Apps;

/// Options of `sextant app edit`.
#[derive(Debug, Args)]
pub struct EditArgs {
    /// The Application's name.
    name: String,
}

/// Lines that start the file; taken out again before parsing.
const HEADER: &str = "# Edit the spec of application NAME; lines starting with '#' are ignored.\n# Save and close to apply; an unchanged file changes nothing.\n";

/// Edit the app.
pub async fn run(conn: &ConnArgs, args: EditArgs) -> anyhow::Result<ExitCode> {
    let apps = Apps::connect(conn).await?;
    let name = args.name.as_str();
    let mut app = apps.get(name).await?;
    let original =
        serde_yaml_ng::to_string(&app.spec).context("could not write the spec as YAML")?;
    let dir = tempfile::tempdir().context("could not make a temporary folder for the editor")?;
    let file = dir.path().join(format!("{name}.yaml"));
    let mut text = format!("{}{original}", HEADER.replace("NAME", name));
    loop {
        std::fs::write(&file, &text)
            .with_context(|| format!("could not write {}", file.display()))?;
        run_editor(&file)?;
        let edited = std::fs::read_to_string(&file)
            .with_context(|| format!("could not read {} back", file.display()))?;
        let body: String = edited
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .map(|l| format!("{l}\n"))
            .collect();
        match check(&body) {
            Ok(spec) if spec == app.spec => {
                println!("application {name} unchanged (edit cancelled)");
                return Ok(ExitCode::SUCCESS);
            }
            Ok(spec) => {
                let before = serde_json::to_value(&app.spec)?;
                let after = serde_json::to_value(&spec)?;
                app.spec = spec;
                return write(&apps, name, &mut app, &before, &after).await;
            }
            Err(e) => {
                let again = super::prompt::ask(&format!("{e:#}\nEdit again?"), || {
                    format!("{e:#}; application {name} was not changed")
                })?;
                if !again {
                    anyhow::bail!("{e:#}; application {name} was not changed");
                }
                let note: String = format!("{e:#}")
                    .lines()
                    .map(|l| format!("# error: {l}\n"))
                    .collect();
                text = format!("{note}{body}");
            }
        }
    }
}

/// Parse and check an edited spec.
fn check(body: &str) -> anyhow::Result<ApplicationSpec> {
    let spec: ApplicationSpec = serde_yaml_ng::from_str(body)
        .map_err(|e| anyhow::anyhow!("the edited spec is not a valid Application spec: {e}"))?;
    let options = spec
        .sync_policy
        .as_ref()
        .and_then(|p| p.sync_options.clone())
        .unwrap_or_default();
    sextant_engine::sync::SyncOptions::parse_app(options.iter().map(String::as_str))
        .map_err(|e| anyhow::anyhow!("spec.syncPolicy.syncOptions: {e}"))?;
    Ok(spec)
}

/// Write the edited app, refusing if it changed since it was read.
async fn write(
    apps: &Apps,
    name: &str,
    app: &mut sextant_model::Application,
    before: &serde_json::Value,
    after: &serde_json::Value,
) -> anyhow::Result<ExitCode> {
    match apps.api.replace(name, &PostParams::default(), app).await {
        Ok(_) => {
            println!("application {name} updated:");
            for c in super::set::differences("spec", before, after) {
                println!("  {c}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(kube::Error::Api(status)) if status.code == 409 => anyhow::bail!(
            "application {name} changed while you edited it; nothing was written: run `sextant app edit {name}` again"
        ),
        Err(e) => Err(apps.failed(e, name, "update").await),
    }
}

/// Run `$VISUAL`, else `$EDITOR`, else `vi` on `file` and wait for it.
/// The variable may hold arguments (`code --wait`); no shell is involved.
fn run_editor(file: &std::path::Path) -> anyhow::Result<()> {
    let editor = ["VISUAL", "EDITOR"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|v| !v.trim().is_empty())
        .unwrap_or_else(|| "vi".to_owned());
    let mut words = editor.split_whitespace();
    let program = words.next().unwrap_or("vi");
    let status = std::process::Command::new(program)
        .args(words)
        .arg(file)
        .status()
        .with_context(|| {
            format!(
                "could not start the editor `{editor}`: set VISUAL or EDITOR to an editor on PATH"
            )
        })?;
    if !status.success() {
        anyhow::bail!("the editor `{editor}` failed ({status}); nothing was written");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edited_spec_is_parsed_and_checked() {
        let ok = check(
            "project: default\nsource:\n  repoURL: r\n  path: a\ndestination:\n  namespace: x\n",
        );
        assert!(ok.is_ok(), "{ok:?}");
        let e = check("project: [\n").unwrap_err();
        assert!(
            e.to_string().contains("not a valid Application spec"),
            "{e}"
        );
        let e = check("destination: {}\nsyncPolicy:\n  syncOptions: [Bogus=true]\n").unwrap_err();
        assert!(e.to_string().contains("syncOptions"), "{e}");
    }
}
