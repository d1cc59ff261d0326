//! `sextant import argocd`: read what an Argo CD installation has in its
//! namespace — Applications, ApplicationSets, AppProjects, repository and
//! cluster Secrets, `argocd-cm`, `argocd-rbac-cm`, `argocd-secret`'s
//! passwords, the notifications ConfigMap and Secret — and write Sextant's
//! own (`sextant.dev`) objects in Sextant's namespace. A dry run by default:
//! it prints what it would create and what it cannot carry over, and why;
//! `--apply` creates what is missing and leaves what exists alone.
//!
//! What Argo CD deployed stays the apps': Sextant reads Argo CD's tracking
//! annotation, and Argo CD's Applications that an app-of-apps renders are
//! rewritten to Sextant's group when rendered. Stop Argo CD's application
//! controller first: two controllers on the same objects fight.

mod convert;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use kube::api::{Api, ApiResource, DynamicObject, ListParams, PostParams};
use kube::core::GroupVersionKind;
use serde_json::Value;
use sextant_model::ApiGroup;

use convert::Planned;

/// Options of `sextant import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(subcommand)]
    from: Source,
}

#[derive(Debug, Subcommand)]
enum Source {
    /// Argo CD's objects and settings into Sextant's own (a dry run unless --apply).
    Argocd(ArgocdArgs),
}

#[derive(Debug, Args)]
struct ArgocdArgs {
    /// The cluster's kubeconfig (default: KUBECONFIG, else ~/.kube/config).
    #[arg(long, value_name = "FILE")]
    kubeconfig: Option<PathBuf>,
    /// A context of the kubeconfig.
    #[arg(long)]
    context: Option<String>,
    /// Argo CD's namespace.
    #[arg(long, default_value = "argocd")]
    namespace: String,
    /// Sextant's namespace, where the objects are written.
    #[arg(long, default_value = "sextant")]
    to_namespace: String,
    /// Write the objects (without it, only print what would be written).
    #[arg(long)]
    apply: bool,
}

/// Run `sextant import FROM`.
pub async fn run(args: ImportArgs) -> anyhow::Result<ExitCode> {
    match args.from {
        Source::Argocd(a) => argocd(a).await,
    }
}

fn argo_resource(kind: &str, plural: &str) -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(ApiGroup::ArgoCd.name(), sextant_model::VERSION, kind),
        plural,
    )
}

fn string_data(obj: &Value) -> BTreeMap<String, String> {
    obj.get("data")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

async fn argocd(args: ArgocdArgs) -> anyhow::Result<ExitCode> {
    if sextant_model::group::selected() != ApiGroup::Sextant {
        bail!(
            "sextant import argocd writes Sextant's own objects (sextant.dev); run it without --api-group argoproj.io"
        );
    }
    let client =
        sextant_cluster::connect_inferred(args.kubeconfig.as_deref(), args.context.as_deref())
            .await?;
    let from = args.namespace.as_str();
    let to = args.to_namespace.as_str();
    let mut plan: Vec<Planned> = Vec::new();

    // The three kinds, as Argo CD's CRDs serve them.
    for (kind, plural) in [
        ("AppProject", "appprojects"),
        ("Application", "applications"),
        ("ApplicationSet", "applicationsets"),
    ] {
        let api: Api<DynamicObject> =
            Api::namespaced_with(client.clone(), from, &argo_resource(kind, plural));
        let list = match api.list(&ListParams::default()).await {
            Ok(l) => l.items,
            Err(kube::Error::Api(s)) if s.code == 404 => {
                eprintln!(
                    "no {kind} of argoproj.io is served (are Argo CD's CRDs installed?); none to import"
                );
                continue;
            }
            Err(e) => {
                return Err(anyhow::anyhow!(
                    "could not list Argo CD's {plural} in namespace {from}: {}",
                    sextant_cluster::words(&e)
                ));
            }
        };
        for obj in list {
            let value = serde_json::to_value(&obj).with_context(|| {
                format!(
                    "{kind} {from}/{}",
                    obj.metadata.name.clone().unwrap_or_default()
                )
            })?;
            plan.push(convert::argo_object(kind, &value, to));
        }
    }

    // Repository and cluster Secrets, by Argo CD's label.
    let secrets: Api<k8s_openapi::api::core::v1::Secret> = Api::namespaced(client.clone(), from);
    let labelled = secrets
        .list(&ListParams::default().labels("argocd.argoproj.io/secret-type"))
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "could not list the Secrets of namespace {from}: {}",
                sextant_cluster::words(&e)
            )
        })?;
    for s in labelled.items {
        plan.push(convert::labelled_secret(&serde_json::to_value(&s)?, to));
    }

    // Settings.
    let config_maps: Api<k8s_openapi::api::core::v1::ConfigMap> =
        Api::namespaced(client.clone(), from);
    for (name, target) in [
        ("argocd-cm", ApiGroup::Sextant.settings_config_map()),
        ("argocd-rbac-cm", ApiGroup::Sextant.rbac_config_map()),
        ("argocd-notifications-cm", "sextant-notifications-cm"),
        // Plugin declarations kept where Argo CD's examples keep them
        // (sidecars mount any ConfigMap; others are declared by hand).
        ("argocd-cmp-cm", "sextant-cmp-cm"),
        ("argocd-ssh-known-hosts-cm", "sextant-ssh-known-hosts-cm"),
        ("argocd-tls-certs-cm", "sextant-tls-certs-cm"),
    ] {
        let Some(cm) = config_maps.get_opt(name).await.map_err(|e| {
            anyhow::anyhow!(
                "could not read {from}/{name}: {}",
                sextant_cluster::words(&e)
            )
        })?
        else {
            continue;
        };
        let data = cm.data.unwrap_or_default();
        let unsupported = if name == "argocd-cm" {
            sextant_controller::settings::config_map::read(&data).unsupported
        } else {
            Vec::new()
        };
        plan.push(convert::config_map(
            &format!("{from}/{name}"),
            target,
            to,
            &data,
            &unsupported,
        ));
    }
    for (name, target, only_passwords) in [
        ("argocd-secret", ApiGroup::Sextant.settings_secret(), true),
        (
            "argocd-notifications-secret",
            "sextant-notifications-secret",
            false,
        ),
    ] {
        let Some(secret) = secrets.get_opt(name).await.map_err(|e| {
            anyhow::anyhow!(
                "could not read {from}/{name}: {}",
                sextant_cluster::words(&e)
            )
        })?
        else {
            continue;
        };
        let value = serde_json::to_value(&secret)?;
        let data = string_data(&value);
        plan.push(if only_passwords {
            convert::settings_secret(&format!("{from}/{name}"), target, to, &data)
        } else {
            let mut p = convert::labelled_secret(&value, to);
            p.object["metadata"]["name"] = Value::String(target.to_owned());
            p.from = format!("Secret {from}/{name}");
            p
        });
    }

    if plan.is_empty() {
        println!("nothing of Argo CD's in namespace {from} to import");
        return Ok(ExitCode::SUCCESS);
    }
    if args.apply {
        write(&client, to, &plan).await?;
    } else {
        for p in &plan {
            println!(
                "would create {} (from {}){}",
                identity(&p.object),
                p.from,
                secret_note(p)
            );
        }
    }
    let lost: Vec<(&str, &String)> = plan
        .iter()
        .flat_map(|p| p.lost.iter().map(move |l| (p.from.as_str(), l)))
        .collect();
    if !lost.is_empty() {
        println!("not carried over:");
        for (from, what) in lost {
            println!("  {from}: {what}");
        }
    }
    if !args.apply {
        println!("dry run: nothing was written; run again with --apply to write");
    } else {
        println!(
            "done; stop Argo CD's application controller before starting `sextant controller -n {to}`"
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn identity(obj: &Value) -> String {
    format!(
        "{} {}/{}",
        obj["kind"].as_str().unwrap_or_default(),
        obj["metadata"]["namespace"].as_str().unwrap_or_default(),
        obj["metadata"]["name"].as_str().unwrap_or_default()
    )
}

fn secret_note(p: &Planned) -> &'static str {
    if p.secret { " (values not shown)" } else { "" }
}

/// Create each object that is missing; leave the ones that exist.
async fn write(client: &kube::Client, namespace: &str, plan: &[Planned]) -> anyhow::Result<()> {
    let post = PostParams {
        field_manager: Some("sextant-import".into()),
        ..Default::default()
    };
    for p in plan {
        let kind = p.object["kind"].as_str().unwrap_or_default();
        let resource = match kind {
            "Secret" => ApiResource::erase::<k8s_openapi::api::core::v1::Secret>(&()),
            "ConfigMap" => ApiResource::erase::<k8s_openapi::api::core::v1::ConfigMap>(&()),
            "Application" => ApiResource::erase::<sextant_model::Application>(&()),
            "ApplicationSet" => ApiResource::erase::<sextant_model::ApplicationSet>(&()),
            _ => ApiResource::erase::<sextant_model::AppProject>(&()),
        };
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &resource);
        let object: DynamicObject = serde_json::from_value(p.object.clone())
            .with_context(|| format!("{} is not an object", identity(&p.object)))?;
        match api.create(&post, &object).await {
            Ok(_) => println!(
                "created {} (from {}){}",
                identity(&p.object),
                p.from,
                secret_note(p)
            ),
            Err(kube::Error::Api(s)) if s.code == 409 => {
                println!("exists, left as it is: {}", identity(&p.object));
            }
            Err(kube::Error::Api(s))
                if s.code == 404 && !matches!(kind, "Secret" | "ConfigMap") =>
            {
                bail!(
                    "could not create {}: Sextant's CRDs are not installed (`sextant crds | kubectl apply -f -`) or namespace {namespace} does not exist",
                    identity(&p.object)
                );
            }
            Err(e) => bail!(
                "could not create {}: {}",
                identity(&p.object),
                sextant_cluster::words(&e)
            ),
        }
    }
    Ok(())
}
