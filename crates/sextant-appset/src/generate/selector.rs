//! Label selectors over parameter sets (their flattened string values).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use crate::params::{Params, flatten, text};

/// Whether `params` match `sel`.
pub fn matches(sel: &LabelSelector, params: &Params) -> Result<bool, String> {
    let flat = flatten(params);
    let get = |k: &str| flat.get(k).map(text);
    for (k, v) in sel.match_labels.iter().flatten() {
        if get(k).as_deref() != Some(v.as_str()) {
            return Ok(false);
        }
    }
    for e in sel.match_expressions.iter().flatten() {
        let have = get(&e.key);
        let values = e.values.clone().unwrap_or_default();
        let ok = match e.operator.as_str() {
            "In" => have.is_some_and(|h| values.contains(&h)),
            "NotIn" => have.is_none_or(|h| !values.contains(&h)),
            "Exists" => have.is_some(),
            "DoesNotExist" => have.is_none(),
            other => {
                return Err(format!(
                    "selector: operator `{other}` is not one of In, NotIn, Exists, DoesNotExist"
                ));
            }
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}
