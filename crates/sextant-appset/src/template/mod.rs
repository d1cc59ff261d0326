//! Rendering a set's template with one parameter set: every string of the
//! template, map keys included, in plain or Go mode.

pub mod funcs;
pub mod go;
pub mod plain;

use serde_json::{Map, Value};

use crate::params::{Mode, Params, flatten};

/// How to render: the mode, and Go's options.
#[derive(Debug, Clone, Copy)]
pub struct Renderer {
    /// Plain or Go.
    pub mode: Mode,
    /// Go template options.
    pub go: go::Options,
}

impl Renderer {
    /// Render one string.
    pub fn string(&self, s: &str, params: &Params) -> Result<String, String> {
        match self.mode {
            Mode::Plain => Ok(plain::render(s, &flatten(params))),
            Mode::Go => go::render(s, params, self.go),
        }
    }

    /// Render every string and map key of `v`.
    pub fn value(&self, v: &Value, params: &Params) -> Result<Value, String> {
        // Plain mode flattens once, not per string.
        let flat = match self.mode {
            Mode::Plain => Some(flatten(params)),
            Mode::Go => None,
        };
        self.walk(v, params, flat.as_ref())
    }

    fn walk(&self, v: &Value, params: &Params, flat: Option<&Params>) -> Result<Value, String> {
        let one = |s: &str| match flat {
            Some(flat) => Ok(plain::render(s, flat)),
            None => go::render(s, params, self.go),
        };
        Ok(match v {
            Value::String(s) => Value::String(one(s)?),
            Value::Array(a) => Value::Array(
                a.iter()
                    .map(|x| self.walk(x, params, flat))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(m) => {
                let mut out = Map::new();
                for (k, x) in m {
                    out.insert(one(k)?, self.walk(x, params, flat)?);
                }
                Value::Object(out)
            }
            other => other.clone(),
        })
    }
}
