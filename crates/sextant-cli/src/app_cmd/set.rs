//! `sextant app set` and `sextant app unset`: change some fields of an
//! app's spec (sync policy, revision, path, destination, sync options, Helm
//! parameters and value files, Kustomize images) without writing the whole
//! Application. The change is checked as `create` checks its flags, then
//! written as a replace conditional on the version read (read again when
//! the controller wrote in between). Prints what changed.

use std::process::ExitCode;

use clap::{ArgAction, Args, ValueEnum};
use kube::api::PostParams;
use sextant_model::ApplicationSpec;
use sextant_model::application::{
    ApplicationSourceHelm, ApplicationSourceKustomize, HelmParameter, SyncPolicy,
    SyncPolicyAutomated,
};

use super::ConnArgs;
use super::client::{Apps, retry_on_conflict};

/// `--sync-policy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Policy {
    /// Sync automatically when Git changes.
    Automated,
    /// Sync only when asked (`none` in Argo CD's words).
    #[value(alias = "none")]
    Manual,
}

/// Options of `sextant app set`.
#[derive(Debug, Args)]
pub struct SetArgs {
    /// The Application's name.
    name: String,
    /// `automated` or `manual` (alias `none`).
    #[arg(long, value_enum)]
    sync_policy: Option<Policy>,
    /// Revert changes made in the cluster (`--self-heal=false` to stop; implies automated).
    #[arg(long, num_args = 0..=1, default_missing_value = "true", action = ArgAction::Set)]
    self_heal: Option<bool>,
    /// Delete objects Git no longer has when syncing automatically
    /// (`--auto-prune=false` to stop; implies automated).
    #[arg(long, num_args = 0..=1, default_missing_value = "true", action = ArgAction::Set)]
    auto_prune: Option<bool>,
    /// Branch, tag, commit or HEAD to follow.
    #[arg(long)]
    revision: Option<String>,
    /// The folder in the repository.
    #[arg(long)]
    path: Option<String>,
    /// The Git repository.
    #[arg(long)]
    repo: Option<String>,
    /// The AppProject.
    #[arg(long)]
    project: Option<String>,
    /// The namespace to deploy to.
    #[arg(long, value_name = "NS")]
    dest_namespace: Option<String>,
    /// The API server to deploy to.
    #[arg(long, value_name = "URL")]
    dest_server: Option<String>,
    /// Add or replace a sync option (`CreateNamespace=true`); repeatable.
    #[arg(long = "sync-option", value_name = "KEY=VALUE")]
    sync_options: Vec<String>,
    /// Helm: add or replace `--set KEY=VALUE`; repeatable.
    #[arg(long = "helm-set", value_name = "KEY=VALUE")]
    helm_set: Vec<String>,
    /// Helm: add a value file (relative to the chart); repeatable.
    #[arg(long = "values-file", value_name = "FILE")]
    values_files: Vec<String>,
    /// Kustomize: add or replace an image override (`nginx=nginx:1.28` or
    /// `nginx:1.28`); repeatable.
    #[arg(long = "kustomize-image", value_name = "IMAGE")]
    kustomize_images: Vec<String>,
}

/// Options of `sextant app unset`.
#[derive(Debug, Args)]
pub struct UnsetArgs {
    /// The Application's name.
    name: String,
    /// Remove a sync option by key; repeatable.
    #[arg(long = "sync-option", value_name = "KEY")]
    sync_options: Vec<String>,
    /// Helm: remove a `--set` parameter by name; repeatable.
    #[arg(long = "helm-set", value_name = "KEY")]
    helm_set: Vec<String>,
    /// Helm: remove a value file; repeatable.
    #[arg(long = "values-file", value_name = "FILE")]
    values_files: Vec<String>,
    /// Kustomize: remove an image override by image name; repeatable.
    #[arg(long = "kustomize-image", value_name = "NAME")]
    kustomize_images: Vec<String>,
}

/// `sextant app set`.
pub async fn run_set(conn: &ConnArgs, args: SetArgs) -> anyhow::Result<ExitCode> {
    for (flag, items) in [
        ("--sync-option", &args.sync_options),
        ("--helm-set", &args.helm_set),
    ] {
        for item in items {
            pair(item, flag)?;
        }
    }
    let name = args.name.clone();
    change(conn, &name, |spec| set(spec, &args)).await
}

/// `sextant app unset`.
pub async fn run_unset(conn: &ConnArgs, args: UnsetArgs) -> anyhow::Result<ExitCode> {
    let name = args.name.clone();
    change(conn, &name, |spec| {
        unset(spec, &args);
        Ok(())
    })
    .await
}

/// Read the app, apply `edit` to its spec, check, write if it changed.
pub(super) async fn change(
    conn: &ConnArgs,
    name: &str,
    edit: impl Fn(&mut ApplicationSpec) -> anyhow::Result<()>,
) -> anyhow::Result<ExitCode> {
    let apps = Apps::connect(conn).await?;
    let changes = retry_on_conflict(async || {
        let mut app = apps.get(name).await?;
        let before = serde_json::to_value(&app.spec)?;
        edit(&mut app.spec)?;
        let options = app
            .spec
            .sync_policy
            .as_ref()
            .and_then(|p| p.sync_options.clone())
            .unwrap_or_default();
        sextant_engine::sync::SyncOptions::parse_app(options.iter().map(String::as_str))
            .map_err(|e| anyhow::anyhow!("--sync-option: {e}"))?;
        let after = serde_json::to_value(&app.spec)?;
        let changes = differences("spec", &before, &after);
        if changes.is_empty() {
            return Ok(changes);
        }
        match apps.api.replace(name, &PostParams::default(), &app).await {
            Ok(_) => Ok(changes),
            Err(e) => Err(apps.failed(e, name, "update").await),
        }
    })
    .await?;
    if changes.is_empty() {
        println!("application {name} unchanged");
    } else {
        println!("application {name} updated:");
        for c in changes {
            println!("  {c}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn set(spec: &mut ApplicationSpec, args: &SetArgs) -> anyhow::Result<()> {
    let policy = spec.sync_policy.get_or_insert_with(SyncPolicy::default);
    let wants_automated = args.sync_policy == Some(Policy::Automated)
        || args.self_heal == Some(true)
        || args.auto_prune == Some(true);
    if args.sync_policy == Some(Policy::Manual) {
        if wants_automated {
            anyhow::bail!("--sync-policy manual contradicts --self-heal or --auto-prune");
        }
        policy.automated = None;
    } else if wants_automated || policy.automated.is_some() {
        let automated = policy
            .automated
            .get_or_insert_with(SyncPolicyAutomated::default);
        if let Some(v) = args.self_heal {
            automated.self_heal = Some(v);
        }
        if let Some(v) = args.auto_prune {
            automated.prune = Some(v);
        }
    }
    for option in &args.sync_options {
        let (key, _) = pair(option, "--sync-option")?;
        let list = policy.sync_options.get_or_insert_with(Vec::new);
        list.retain(|o| o.split_once('=').map_or(o.as_str(), |(k, _)| k) != key);
        list.push(option.clone());
    }
    if policy == &SyncPolicy::default() {
        spec.sync_policy = None;
    }
    if let Some(p) = &args.project {
        spec.project = p.clone();
    }
    if let Some(ns) = &args.dest_namespace {
        spec.destination.namespace = Some(ns.clone());
    }
    if let Some(server) = &args.dest_server {
        spec.destination.server = Some(server.clone());
        spec.destination.name = None;
    }
    let touches_source = args.revision.is_some()
        || args.path.is_some()
        || args.repo.is_some()
        || !args.helm_set.is_empty()
        || !args.values_files.is_empty()
        || !args.kustomize_images.is_empty();
    if !touches_source {
        return Ok(());
    }
    let Some(source) = spec.source.as_mut() else {
        anyhow::bail!(
            "the app has no single `source` (multi-source apps are changed with kubectl edit)"
        );
    };
    if let Some(r) = &args.revision {
        source.target_revision = Some(r.clone());
    }
    if let Some(p) = &args.path {
        source.path = Some(p.clone());
    }
    if let Some(r) = &args.repo {
        source.repo_url = r.clone();
    }
    if !args.helm_set.is_empty() || !args.values_files.is_empty() {
        let helm = source
            .helm
            .get_or_insert_with(ApplicationSourceHelm::default);
        for item in &args.helm_set {
            let (name, value) = pair(item, "--helm-set")?;
            let params = helm.parameters.get_or_insert_with(Vec::new);
            params.retain(|p| p.name != name);
            params.push(HelmParameter {
                name,
                value,
                force_string: None,
            });
        }
        for f in &args.values_files {
            let files = helm.value_files.get_or_insert_with(Vec::new);
            if !files.contains(f) {
                files.push(f.clone());
            }
        }
    }
    if !args.kustomize_images.is_empty() {
        let k = source
            .kustomize
            .get_or_insert_with(ApplicationSourceKustomize::default);
        let images = k.images.get_or_insert_with(Vec::new);
        for image in &args.kustomize_images {
            let key = image_name(image);
            images.retain(|i| image_name(i) != key);
            images.push(image.clone());
        }
    }
    Ok(())
}

fn unset(spec: &mut ApplicationSpec, args: &UnsetArgs) {
    if let Some(policy) = spec.sync_policy.as_mut() {
        if let Some(list) = policy.sync_options.as_mut() {
            list.retain(|o| {
                let key = o.split_once('=').map_or(o.as_str(), |(k, _)| k);
                !args.sync_options.iter().any(|k| k == key)
            });
            if list.is_empty() {
                policy.sync_options = None;
            }
        }
        if policy == &SyncPolicy::default() {
            spec.sync_policy = None;
        }
    }
    let Some(source) = spec.source.as_mut() else {
        return;
    };
    if let Some(helm) = source.helm.as_mut() {
        if let Some(params) = helm.parameters.as_mut() {
            params.retain(|p| !args.helm_set.contains(&p.name));
            if params.is_empty() {
                helm.parameters = None;
            }
        }
        if let Some(files) = helm.value_files.as_mut() {
            files.retain(|f| !args.values_files.contains(f));
            if files.is_empty() {
                helm.value_files = None;
            }
        }
        if helm == &ApplicationSourceHelm::default() {
            source.helm = None;
        }
    }
    if let Some(k) = source.kustomize.as_mut() {
        if let Some(images) = k.images.as_mut() {
            images.retain(|i| !args.kustomize_images.iter().any(|n| n == image_name(i)));
            if images.is_empty() {
                k.images = None;
            }
        }
        if k == &ApplicationSourceKustomize::default() {
            source.kustomize = None;
        }
    }
}

/// The image an override is for: `nginx=nginx:1.28` -> `nginx`,
/// `nginx:1.28` -> `nginx`, `reg:5000/app@sha256:...` -> `reg:5000/app`.
fn image_name(image: &str) -> &str {
    if let Some((name, _)) = image.split_once('=') {
        return name;
    }
    let no_digest = image.split('@').next().unwrap_or(image);
    match no_digest.rfind(':') {
        Some(i) if !no_digest[i..].contains('/') => &no_digest[..i],
        _ => no_digest,
    }
}

fn pair(item: &str, flag: &str) -> anyhow::Result<(String, String)> {
    match item.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => anyhow::bail!("{flag} expects KEY=VALUE, got `{item}`"),
    }
}

/// The fields that differ, as `path: before -> after` lines.
pub(super) fn differences(
    path: &str,
    before: &serde_json::Value,
    after: &serde_json::Value,
) -> Vec<String> {
    use serde_json::Value;
    match (before, after) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .flat_map(|k| {
                    differences(
                        &format!("{path}.{k}"),
                        a.get(k).unwrap_or(&Value::Null),
                        b.get(k).unwrap_or(&Value::Null),
                    )
                })
                .collect()
        }
        (a, b) if a == b => Vec::new(),
        (Value::Null, b) => vec![format!("{path}: set to {b}")],
        (_, Value::Null) => vec![format!("{path}: removed")],
        (a, b) => vec![format!("{path}: {a} -> {b}")],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_names() {
        for (image, name) in [
            ("nginx=nginx:1.28", "nginx"),
            ("nginx:1.28", "nginx"),
            ("nginx", "nginx"),
            ("reg.example:5000/team/app:v2", "reg.example:5000/team/app"),
            ("reg.example:5000/team/app", "reg.example:5000/team/app"),
            ("app@sha256:abc", "app"),
        ] {
            assert_eq!(image_name(image), name, "{image}");
        }
    }
}
