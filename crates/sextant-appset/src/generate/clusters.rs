//! The clusters generator: the local cluster and the cluster Secrets.

use serde_json::{Value, json};
use sextant_model::appset::ClusterGenerator;

use super::{Context, add_values, selector};
use crate::params::{Params, normalize};

pub fn generate(ctx: &Context<'_>, c: &ClusterGenerator) -> Result<Vec<Params>, String> {
    let mut out = Vec::new();
    for cluster in ctx.clusters {
        let metadata = json!({"labels": cluster.labels, "annotations": cluster.annotations});
        if let Some(sel) = &c.selector {
            // The local cluster has no Secret, hence no labels to select.
            if cluster.local {
                continue;
            }
            let labels: Params = cluster
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            if !selector::matches(sel, &labels)? {
                continue;
            }
        }
        let mut p = Params::new();
        p.insert("name".into(), Value::String(cluster.name.clone()));
        p.insert(
            "nameNormalized".into(),
            Value::String(normalize(&cluster.name)),
        );
        p.insert("server".into(), Value::String(cluster.server.clone()));
        p.insert("project".into(), Value::String(cluster.project.clone()));
        p.insert("metadata".into(), metadata);
        add_values(ctx, &mut p, &c.values).map_err(|e| format!("clusters: values: {e}"))?;
        out.push(p);
    }
    Ok(out)
}
