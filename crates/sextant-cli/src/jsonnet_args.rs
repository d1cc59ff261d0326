//! The Jsonnet flags shared by `sextant render` and `sextant app create`,
//! named as `argocd app create` names them.

use clap::Args;
use sextant_model::application::{ApplicationSourceJsonnet, JsonnetVar as ModelVar};
use sextant_render::{JsonnetOptions, JsonnetVar};

/// Jsonnet libs, external variables and top-level arguments.
#[derive(Clone, Debug, Default, Args)]
pub struct JsonnetArgs {
    /// Jsonnet: a library folder imports search, relative to the
    /// repository root; repeatable.
    #[arg(long = "jsonnet-libs", value_name = "FOLDER")]
    libs: Vec<String>,
    /// Jsonnet: an external variable `NAME=VALUE` (a string); repeatable.
    #[arg(long = "jsonnet-ext-var-str", value_name = "NAME=VALUE")]
    ext_var_str: Vec<String>,
    /// Jsonnet: an external variable `NAME=CODE` (Jsonnet code);
    /// repeatable.
    #[arg(long = "jsonnet-ext-var-code", value_name = "NAME=CODE")]
    ext_var_code: Vec<String>,
    /// Jsonnet: a top-level argument `NAME=VALUE` (a string); repeatable.
    #[arg(long = "jsonnet-tla-str", value_name = "NAME=VALUE")]
    tla_str: Vec<String>,
    /// Jsonnet: a top-level argument `NAME=CODE` (Jsonnet code);
    /// repeatable.
    #[arg(long = "jsonnet-tla-code", value_name = "NAME=CODE")]
    tla_code: Vec<String>,
}

impl JsonnetArgs {
    /// The render options these flags give.
    pub fn options(&self) -> anyhow::Result<JsonnetOptions> {
        Ok(JsonnetOptions {
            libs: self.libs.clone(),
            ext_vars: vars(&self.ext_var_str, &self.ext_var_code, "--jsonnet-ext-var")?,
            tlas: vars(&self.tla_str, &self.tla_code, "--jsonnet-tla")?,
        })
    }

    /// The Application's `directory.jsonnet` these flags give, if any.
    pub fn source(&self) -> anyhow::Result<Option<ApplicationSourceJsonnet>> {
        let options = self.options()?;
        if options.is_empty() {
            return Ok(None);
        }
        let model = |list: Vec<JsonnetVar>| {
            (!list.is_empty()).then(|| {
                list.into_iter()
                    .map(|v| ModelVar {
                        name: v.name,
                        value: v.value,
                        code: v.code.then_some(true),
                    })
                    .collect()
            })
        };
        Ok(Some(ApplicationSourceJsonnet {
            libs: (!options.libs.is_empty()).then_some(options.libs),
            ext_vars: model(options.ext_vars),
            tlas: model(options.tlas),
        }))
    }
}

fn vars(strings: &[String], code: &[String], flag: &str) -> anyhow::Result<Vec<JsonnetVar>> {
    let mut out = Vec::new();
    for (list, is_code, suffix) in [(strings, false, "-str"), (code, true, "-code")] {
        for item in list {
            let Some((name, value)) = item.split_once('=').filter(|(n, _)| !n.is_empty()) else {
                anyhow::bail!("{flag}{suffix} expects NAME=VALUE, got `{item}`");
            };
            out.push(JsonnetVar {
                name: name.to_owned(),
                value: value.to_owned(),
                code: is_code,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_become_vars_in_order_and_a_missing_name_is_refused() {
        let args = JsonnetArgs {
            ext_var_str: vec!["env=prod".into()],
            ext_var_code: vec!["n=1+2".into()],
            tla_str: vec!["bad".into()],
            ..JsonnetArgs::default()
        };
        let err = args.options().unwrap_err().to_string();
        assert!(
            err.contains("--jsonnet-tla-str expects NAME=VALUE"),
            "{err}"
        );
        let args = JsonnetArgs {
            tla_str: Vec::new(),
            ..args
        };
        let source = args.source().unwrap().unwrap();
        let ext = source.ext_vars.unwrap();
        assert_eq!((ext[0].name.as_str(), ext[0].code), ("env", None));
        assert_eq!((ext[1].value.as_str(), ext[1].code), ("1+2", Some(true)));
        assert!(source.tlas.is_none());
        assert!(JsonnetArgs::default().source().unwrap().is_none());
    }
}
