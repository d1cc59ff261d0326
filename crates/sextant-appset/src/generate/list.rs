//! The list generator: its elements, or `elementsYaml`.

use serde_json::Value;
use sextant_model::appset::ListGenerator;

use crate::params::Params;

pub fn generate(l: &ListGenerator) -> Result<Vec<Params>, String> {
    let mut elements = l.elements.clone();
    if let Some(text) = l.elements_yaml.as_deref().filter(|t| !t.trim().is_empty()) {
        let parsed: Value = serde_yaml_ng::from_str(text)
            .map_err(|e| format!("list: elementsYaml is not YAML: {e}"))?;
        match parsed {
            Value::Array(items) => elements.extend(items),
            Value::Null => {}
            _ => return Err("list: elementsYaml must be a list of objects".into()),
        }
    }
    elements
        .into_iter()
        .enumerate()
        .map(|(i, e)| match e {
            Value::Object(m) => Ok(m),
            other => Err(format!(
                "list: element {i} is {other}, not an object of parameters"
            )),
        })
        .collect()
}
