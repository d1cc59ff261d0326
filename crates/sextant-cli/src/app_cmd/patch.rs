//! `sextant app patch`: change an app's spec with a JSON patch (RFC 6902,
//! paths such as `/spec/source/path`, the default as in Argo CD's CLI) or
//! a JSON merge patch (RFC 7386, `{"spec": {...}}`). The patched spec is
//! checked as `app set` checks it before anything is written; the write is
//! conditional on what was read.

use std::process::ExitCode;

use clap::{Args, ValueEnum};
use serde_json::{Value, json};
use sextant_model::ApplicationSpec;

use super::ConnArgs;

/// Options of `sextant app patch`.
#[derive(Debug, Args)]
pub struct PatchArgs {
    /// The Application's name.
    name: String,
    /// The patch, as JSON.
    #[arg(long)]
    patch: String,
    /// `json`: a list of operations (`[{"op": "replace", "path":
    /// "/spec/source/path", "value": "x"}]`); `merge`: a partial object.
    #[arg(long = "type", value_enum, default_value = "json")]
    kind: PatchType,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum PatchType {
    /// RFC 6902 JSON patch.
    Json,
    /// RFC 7386 JSON merge patch.
    Merge,
}

/// Patch the app.
pub async fn run(conn: &ConnArgs, args: PatchArgs) -> anyhow::Result<ExitCode> {
    let patch: Value = serde_json::from_str(&args.patch)
        .map_err(|e| anyhow::anyhow!("--patch is not JSON: {e}"))?;
    let name = args.name.clone();
    let kind = args.kind;
    // Checked once before connecting: a malformed patch is refused at once.
    if kind == PatchType::Json {
        serde_json::from_value::<json_patch::Patch>(patch.clone()).map_err(|e| {
            anyhow::anyhow!(
                "--patch is not a JSON patch (a list of {{\"op\", \"path\", ...}}): {e}; use --type merge for a partial object"
            )
        })?;
    }
    super::set::change(conn, &name, |spec| {
        *spec = patched(spec, &patch, kind)?;
        Ok(())
    })
    .await
}

/// `spec` with `patch` applied to `{"spec": spec}`.
fn patched(
    spec: &ApplicationSpec,
    patch: &Value,
    kind: PatchType,
) -> anyhow::Result<ApplicationSpec> {
    let mut doc = json!({ "spec": serde_json::to_value(spec)? });
    match kind {
        PatchType::Json => {
            let ops: json_patch::Patch = serde_json::from_value(patch.clone())?;
            json_patch::patch(&mut doc, &ops).map_err(|e| {
                anyhow::anyhow!(
                    "the patch does not apply: {e} (paths start at the Application: /spec/...)"
                )
            })?;
        }
        PatchType::Merge => json_patch::merge(&mut doc, patch),
    }
    let Some(object) = doc.as_object_mut() else {
        anyhow::bail!("the patch replaced the whole Application; patch /spec/... instead");
    };
    if let Some(other) = object.keys().find(|k| *k != "spec") {
        anyhow::bail!(
            "the patch changes `{other}`; `sextant app patch` changes the spec only (use kubectl for metadata)"
        );
    }
    let spec = object.remove("spec").unwrap_or(Value::Null);
    serde_json::from_value(spec)
        .map_err(|e| anyhow::anyhow!("the patched spec is not a valid Application spec: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> ApplicationSpec {
        serde_json::from_value(json!({
            "project": "default",
            "source": {"repoURL": "https://git.example/r.git", "path": "a"},
            "destination": {"namespace": "shop"},
        }))
        .unwrap()
    }

    #[test]
    fn json_and_merge_patches_change_the_spec() {
        let ops = json!([{"op": "replace", "path": "/spec/source/path", "value": "b"}]);
        let s = patched(&spec(), &ops, PatchType::Json).unwrap();
        assert_eq!(s.source.unwrap().path.as_deref(), Some("b"));
        let merge = json!({"spec": {"destination": {"namespace": "web"}}});
        let s = patched(&spec(), &merge, PatchType::Merge).unwrap();
        assert_eq!(s.destination.namespace.as_deref(), Some("web"));
    }

    #[test]
    fn patches_outside_the_spec_or_breaking_it_are_refused() {
        let e = patched(
            &spec(),
            &json!({"metadata": {"labels": {"a": "b"}}}),
            PatchType::Merge,
        )
        .unwrap_err();
        assert!(e.to_string().contains("changes `metadata`"), "{e}");
        let e = patched(
            &spec(),
            &json!([{"op": "replace", "path": "/spec/nope/x", "value": 1}]),
            PatchType::Json,
        )
        .unwrap_err();
        assert!(e.to_string().contains("does not apply"), "{e}");
        let e = patched(
            &spec(),
            &json!({"spec": {"destination": "shop"}}),
            PatchType::Merge,
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("not a valid Application spec"),
            "{e}"
        );
    }
}
