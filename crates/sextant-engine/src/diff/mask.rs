//! Secret values are never printed: every value under a Secret's `data` and
//! `stringData` is replaced by a mask that tells only whether it changed.
//! A key with the same value on both sides is `++++++++` on both; a key
//! whose value differs is `++++++++ (old)` on the live side and
//! `++++++++ (new)` on the desired side, so a diff shows which keys changed
//! and nothing of their values.

use serde_json::Value;

/// The mask of a value that is the same on both sides (or on the only
/// side).
pub const SAME: &str = "++++++++";
/// The mask of the live (old) side of a changed value.
pub const OLD: &str = "++++++++ (old)";
/// The mask of the desired (new) side of a changed value.
pub const NEW: &str = "++++++++ (new)";

/// Mask the values of both sides of a Secret diff in place.
pub fn mask_secrets(old: Option<&mut Value>, new: Option<&mut Value>) {
    let old_data = old.as_deref().map(values);
    let new_data = new.as_deref().map(values);
    if let Some(old) = old {
        mask(old, new_data.as_ref(), OLD);
    }
    if let Some(new) = new {
        mask(new, old_data.as_ref(), NEW);
    }
}

type Values = Vec<(&'static str, String, Value)>;

/// The (field, key, value) triples of `data` and `stringData`.
fn values(obj: &Value) -> Values {
    let mut out = Vec::new();
    for field in ["data", "stringData"] {
        if let Some(map) = obj.get(field).and_then(Value::as_object) {
            for (k, v) in map {
                out.push((field, k.clone(), v.clone()));
            }
        }
    }
    out
}

fn mask(obj: &mut Value, other: Option<&Values>, changed: &str) {
    for field in ["data", "stringData"] {
        let Some(map) = obj.get_mut(field).and_then(Value::as_object_mut) else {
            continue;
        };
        for (k, v) in map.iter_mut() {
            let same = match other {
                None => true,
                Some(other) => other
                    .iter()
                    .find(|(f, key, _)| *f == field && key == k)
                    .is_some_and(|(_, _, o)| o == v),
            };
            *v = Value::String(if same { SAME } else { changed }.to_owned());
        }
    }
    // kubectl's client-side apply copy holds the values too.
    if let Some(annotations) = obj
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
        && let Some(v) = annotations.get_mut("kubectl.kubernetes.io/last-applied-configuration")
    {
        *v = Value::String(SAME.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{NEW, OLD, SAME, mask_secrets};

    #[test]
    fn unchanged_keys_mask_alike_and_changed_keys_mask_apart() {
        let mut old = json!({"data": {"user": "YQ==", "password": "b2xk"}});
        let mut new = json!({"data": {"user": "YQ==", "password": "bmV3", "token": "dA=="}});
        mask_secrets(Some(&mut old), Some(&mut new));
        assert_eq!(old, json!({"data": {"user": SAME, "password": OLD}}));
        assert_eq!(
            new,
            json!({"data": {"user": SAME, "password": NEW, "token": NEW}})
        );
    }

    #[test]
    fn a_secret_on_one_side_only_shows_no_values() {
        let mut new = json!({"stringData": {"password": "hunter2"}});
        mask_secrets(None, Some(&mut new));
        assert_eq!(new, json!({"stringData": {"password": SAME}}));
    }
}
