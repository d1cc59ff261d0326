//! jq path expressions (`.spec.template.spec.containers[] | select(.name ==
//! "istio-proxy")`) through jaq: an expression is compiled once, wrapped in
//! `path(...)`, and run on an object to find the fields it selects, which
//! the caller then removes.

use std::fmt;

use jaq_core::load::{Arena, File, Loader};
use jaq_core::{Compiler, Ctx, Vars, data, unwrap_valr};
use jaq_json::Val;
use serde_json::Value;

/// A compiled jq path expression.
pub(crate) struct JqPaths {
    source: String,
    filter: jaq_core::Filter<data::JustLut<Val>>,
}

impl fmt::Debug for JqPaths {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("JqPaths").field(&self.source).finish()
    }
}

/// Why an expression does not compile (jaq's own report, flattened to
/// text).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct JqError(String);

impl JqPaths {
    /// Compile `expression`.
    pub(crate) fn compile(expression: &str) -> Result<Self, JqError> {
        let code = format!("path({expression})");
        let arena = Arena::default();
        let defs = jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs());
        let funs = jaq_core::funs()
            .chain(jaq_std::funs())
            .chain(jaq_json::funs());
        let modules = Loader::new(defs)
            .load(
                &arena,
                File {
                    code: &code,
                    path: (),
                },
            )
            .map_err(|errs| JqError(format!("does not parse ({})", describe(&errs))))?;
        let filter = Compiler::default()
            .with_funs(funs)
            .compile(modules)
            .map_err(|errs| JqError(format!("does not compile ({})", describe(&errs))))?;
        Ok(Self {
            source: expression.to_owned(),
            filter,
        })
    }

    /// The paths the expression selects in `obj`, each a list of keys
    /// (strings) and indices (numbers). An expression that fails on this
    /// object (iterating over a missing field, say) selects nothing.
    pub(crate) fn paths(&self, obj: &Value) -> Vec<Vec<Value>> {
        let Ok(text) = serde_json::to_vec(obj) else {
            return Vec::new();
        };
        let Ok(input) = jaq_json::read::parse_single(&text) else {
            return Vec::new();
        };
        let ctx = Ctx::<data::JustLut<Val>>::new(&self.filter.lut, Vars::new([]));
        let mut out = Vec::new();
        for item in self.filter.id.run((ctx, input)).map(unwrap_valr) {
            let Ok(path) = item else {
                return Vec::new();
            };
            if let Ok(Value::Array(path)) = serde_json::from_str::<Value>(&path.to_string()) {
                out.push(path);
            }
        }
        out
    }
}

fn describe<T: fmt::Debug>(errs: &[T]) -> String {
    let text = format!("{errs:?}");
    if text.len() > 300 {
        let mut end = 300;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}...", &text[..end])
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::JqPaths;

    #[test]
    fn a_select_expression_finds_the_paths_of_matching_items() {
        let jq = JqPaths::compile(r#".spec.containers[] | select(.name == "b") | .image"#)
            .unwrap_or_else(|e| panic!("{e}"));
        let obj = json!({"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}});
        assert_eq!(
            jq.paths(&obj),
            vec![vec![
                json!("spec"),
                json!("containers"),
                json!(1),
                json!("image")
            ]]
        );
    }

    #[test]
    fn standard_library_filters_select_keys_by_prefix() {
        let jq = JqPaths::compile(r#".data[.data | keys[] | select(startswith("runtime."))]"#)
            .unwrap_or_else(|e| panic!("{e}"));
        let obj = json!({"data": {"runtime.a": "1", "static": "2", "runtime.b": "3"}});
        assert_eq!(
            jq.paths(&obj),
            vec![
                vec![json!("data"), json!("runtime.a")],
                vec![json!("data"), json!("runtime.b")]
            ]
        );
    }

    #[test]
    fn an_expression_that_fails_on_an_object_selects_nothing() {
        let jq = JqPaths::compile(".spec.missing[] | .x").unwrap_or_else(|e| panic!("{e}"));
        assert!(jq.paths(&json!({"spec": {}})).is_empty());
    }

    #[test]
    fn a_malformed_expression_is_refused_at_compile_time() {
        assert!(JqPaths::compile(".spec[[[").is_err());
    }

    #[test]
    fn compiled_expressions_can_be_shared_between_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<JqPaths>();
    }
}
