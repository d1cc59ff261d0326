//! `sextant crds`: print the CustomResourceDefinitions of Sextant's
//! resources (Application, ApplicationSet, AppProject) as YAML, ready for
//! `kubectl apply -f -`; with `--api-group argoproj.io`, the same schemas
//! under Argo CD's group.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;

/// Print every CRD of the process's API group as multi-document YAML.
pub fn run() -> anyhow::Result<ExitCode> {
    let text = sextant_model::crd::all_yaml(sextant_model::group::selected())
        .context("could not render the CRDs as YAML")?;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .context("could not write to stdout")?;
    Ok(ExitCode::SUCCESS)
}
