//! Parameter sets: what a generator produces and a template reads.
//!
//! Go-template mode sees them nested (`{{ .path.basename }}`); plain mode
//! sees the same values under dotted keys (`{{path.basename}}`). Generators
//! build the nested form; [`flatten`] gives the plain one.

use serde_json::{Map, Value};

/// One parameter set.
pub type Params = Map<String, Value>;

/// How a set's template reads its parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `{{key}}` substitution; unknown keys stay as they are.
    Plain,
    /// Go templates.
    Go,
}

/// The dotted form of nested parameters: `{"path": {"basename": "a"}}` ->
/// `{"path.basename": "a"}`. A `path` object's own `path` key becomes
/// `path` itself, and its `segments` become `path[0]`, `path[1]`, ...,
/// as plain templates spell them.
pub fn flatten(params: &Params) -> Params {
    let mut out = Params::new();
    for (k, v) in params {
        flatten_into(&mut out, k, v);
    }
    out
}

fn flatten_into(out: &mut Params, key: &str, value: &Value) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    // `path.path` reads as `path`, and segments as indexes.
                    (k2, Value::String(_)) if k2 == leaf(key) && is_path_object(map) => {
                        out.insert(key.to_owned(), v.clone());
                    }
                    ("segments", Value::Array(items)) if is_path_object(map) => {
                        for (i, s) in items.iter().enumerate() {
                            out.insert(format!("{key}[{i}]"), s.clone());
                        }
                    }
                    _ => flatten_into(out, &format!("{key}.{k}"), v),
                }
            }
        }
        other => {
            out.insert(key.to_owned(), other.clone());
        }
    }
}

fn leaf(key: &str) -> &str {
    key.rsplit('.').next().unwrap_or(key)
}

/// A `path` parameter object as the git generator makes it.
fn is_path_object(map: &Map<String, Value>) -> bool {
    map.contains_key("basename") && map.contains_key("segments")
}

/// The value at a dotted key, in nested or flat parameters.
pub fn lookup<'a>(params: &'a Params, key: &str) -> Option<&'a Value> {
    if let Some(v) = params.get(key) {
        return Some(v);
    }
    let mut parts = key.split('.');
    let mut cur = params.get(parts.next()?)?;
    for part in parts {
        cur = cur.as_object()?.get(part)?;
    }
    Some(cur)
}

/// A value as template text: strings as they are, others as JSON.
pub fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Make `s` usable in a Kubernetes name: lowercase; anything but letters,
/// digits, `-` and `.` becomes `-`; no `-` or `.` at either end; at most
/// 253 characters. (`basenameNormalized`, `nameNormalized`, `normalize`.)
pub fn normalize(s: &str) -> String {
    let mapped: String = s
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let trimmed = mapped.trim_matches(|c| c == '-' || c == '.');
    trimmed
        .chars()
        .take(253)
        .collect::<String>()
        .trim_end_matches(['-', '.'])
        .to_owned()
}

/// A URL-and-name-friendly slug: lowercase letters and digits joined by
/// single `-`, at most `max` characters; with `smart`, cut at the last
/// `-` before the limit rather than in a word.
pub fn slugify(s: &str, max: usize, smart: bool) -> String {
    let mut out = String::new();
    for c in s.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-');
    if max == 0 || out.len() <= max {
        return out.to_owned();
    }
    let cut = &out[..max];
    let cut = if smart {
        cut.rfind('-').map_or(cut, |i| &cut[..i])
    } else {
        cut
    };
    cut.trim_end_matches('-').to_owned()
}

/// The parameters of a repository path: `path` (the path itself),
/// `basename`, `basenameNormalized`, `segments`, and for a file
/// `filename`, `filenameNormalized` with `path` its folder.
pub fn path_params(path: &str, is_file: bool) -> Value {
    let path = path.trim_matches('/');
    let (dir, file) = if is_file {
        match path.rsplit_once('/') {
            Some((d, f)) => (d, Some(f)),
            None => ("", Some(path)),
        }
    } else {
        (path, None)
    };
    let segments: Vec<Value> = dir
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| Value::String(s.to_owned()))
        .collect();
    let basename = dir.rsplit('/').next().unwrap_or(dir);
    let basename = if dir.is_empty() { "." } else { basename };
    let mut m = Map::new();
    m.insert(
        "path".into(),
        Value::String(if dir.is_empty() {
            ".".into()
        } else {
            dir.into()
        }),
    );
    m.insert("basename".into(), Value::String(basename.into()));
    m.insert(
        "basenameNormalized".into(),
        Value::String(normalize(basename)),
    );
    m.insert("segments".into(), Value::Array(segments));
    if let Some(f) = file {
        m.insert("filename".into(), Value::String(f.into()));
        m.insert("filenameNormalized".into(), Value::String(normalize(f)));
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flatten_spells_keys_as_plain_templates_do() {
        let Value::Object(p) = json!({
            "path": path_params("clusters/prod/apps/web_api", false),
            "values": {"team": "a"},
            "name": "x",
        }) else {
            unreachable!()
        };
        let flat = flatten(&p);
        assert_eq!(flat["path"], "clusters/prod/apps/web_api");
        assert_eq!(flat["path.basename"], "web_api");
        assert_eq!(flat["path.basenameNormalized"], "web-api");
        assert_eq!(flat["path[0]"], "clusters");
        assert_eq!(flat["path[3]"], "web_api");
        assert_eq!(flat["values.team"], "a");
        assert_eq!(flat["name"], "x");
    }

    #[test]
    fn file_paths_name_their_folder_and_file() {
        let v = path_params("clusters/prod/config.json", true);
        assert_eq!(v["path"], "clusters/prod");
        assert_eq!(v["basename"], "prod");
        assert_eq!(v["filename"], "config.json");
        assert_eq!(v["filenameNormalized"], "config.json");
        let top = path_params("config.yaml", true);
        assert_eq!(top["path"], ".");
    }

    #[test]
    fn normalize_and_slugify_table() {
        for (input, want) in [
            ("web_api", "web-api"),
            ("Web API", "web-api"),
            ("-a.b-", "a.b"),
            ("ÄÖ", ""),
            ("in-cluster", "in-cluster"),
        ] {
            assert_eq!(normalize(input), want, "normalize({input})");
        }
        for (input, max, smart, want) in [
            ("Hello, World!", 50, true, "hello-world"),
            ("a__b  c", 50, true, "a-b-c"),
            ("payments-service-frontend", 12, true, "payments"),
            ("payments-service-frontend", 12, false, "payments-ser"),
        ] {
            assert_eq!(
                slugify(input, max, smart),
                want,
                "slugify({input}, {max}, {smart})"
            );
        }
    }

    #[test]
    fn lookup_reads_dotted_keys_in_both_forms() {
        let Value::Object(nested) = json!({"a": {"b": {"c": 1}}}) else {
            unreachable!()
        };
        assert_eq!(lookup(&nested, "a.b.c"), Some(&json!(1)));
        let flat = flatten(&nested);
        assert_eq!(lookup(&flat, "a.b.c"), Some(&json!(1)));
        assert_eq!(lookup(&nested, "a.x"), None);
    }
}
