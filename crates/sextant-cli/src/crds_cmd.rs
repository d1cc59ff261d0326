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
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        // The reader stopped early (`sextant crds | head`): not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        other => {
            other.context("could not write to stdout")?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
