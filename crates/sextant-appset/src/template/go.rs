//! Go templates (`goTemplate: true`), through gtmpl, with the functions
//! ApplicationSet users rely on (see `funcs.rs`).

use gtmpl::{Context, Template};
use gtmpl_value::{Number, Value as G};
use serde_json::{Map, Value};

use super::funcs;
use crate::params::Params;

/// What Go printing writes for a key the data does not have.
const NO_VALUE: &str = "<no value>";

/// Go template options of a set.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// `missingkey=error`: a key the parameters do not have is an error
    /// rather than `<no value>` in the output.
    pub missing_key_error: bool,
}

impl Options {
    /// Read `goTemplateOptions`; an option not known is an error.
    pub fn parse(options: &[String]) -> Result<Self, String> {
        let mut out = Options::default();
        for o in options {
            match o.trim() {
                "missingkey=error" => out.missing_key_error = true,
                "missingkey=default" | "missingkey=invalid" | "missingkey=zero" => {
                    out.missing_key_error = false
                }
                other => {
                    return Err(format!(
                        "goTemplateOptions: `{other}` is not known (known: missingkey=error, missingkey=default, missingkey=invalid, missingkey=zero)"
                    ));
                }
            }
        }
        Ok(out)
    }
}

/// Render one template string with nested parameters.
pub fn render(s: &str, params: &Params, options: Options) -> Result<String, String> {
    if !s.contains("{{") {
        return Ok(s.to_owned());
    }
    check_closed(s)?;
    let mut t = Template::default();
    t.add_funcs(funcs::ALL);
    t.parse(s)
        .map_err(|e| format!("template `{s}` does not parse: {e}"))?;
    let data = Context::from(to_go(&Value::Object(params.clone())));
    let out = t
        .render(&data)
        .map_err(|e| format!("template `{s}` failed: {e}"))?;
    if options.missing_key_error && out.contains(NO_VALUE) && !s.contains(NO_VALUE) {
        return Err(format!(
            "template `{s}` reads a key the parameters do not have (missingkey=error)"
        ));
    }
    Ok(out)
}

/// Every action (`{{ ... }}`) is closed. gtmpl's lexer never returns on
/// an action left open at the end of the text (`{{ .x ` or `{{-`), so a
/// user's typo would hang the controller: such text is refused here first.
fn check_closed(s: &str) -> Result<(), String> {
    let mut rest = s;
    while let Some(open) = rest.find("{{") {
        let mut chars = rest[open + 2..].char_indices().peekable();
        let mut quote: Option<char> = None;
        let mut closed_at = None;
        while let Some((i, c)) = chars.next() {
            match quote {
                Some('`') if c == '`' => quote = None,
                Some(q) if q != '`' && c == '\\' => {
                    chars.next();
                }
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None if c == '"' || c == '`' || c == '\'' => quote = Some(c),
                None if c == '}' && chars.peek().is_some_and(|(_, n)| *n == '}') => {
                    closed_at = Some(open + 2 + i + 2);
                    break;
                }
                None => {}
            }
        }
        match closed_at {
            Some(end) => rest = &rest[end..],
            None => {
                return Err(format!(
                    "template `{s}` has an action `{{{{` that is never closed with `}}}}`"
                ));
            }
        }
    }
    Ok(())
}

/// JSON to gtmpl's values (objects as maps, so a missing key is
/// `<no value>` as in Go, not an error).
pub fn to_go(v: &Value) -> G {
    match v {
        Value::Null => G::Nil,
        Value::Bool(b) => G::Bool(*b),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => G::Number(Number::from(i)),
            (_, Some(u), _) => G::Number(Number::from(u)),
            (_, _, Some(f)) => G::Number(Number::from(f)),
            _ => G::Nil,
        },
        Value::String(s) => G::String(s.clone()),
        Value::Array(a) => G::Array(a.iter().map(to_go).collect()),
        Value::Object(m) => G::Map(m.iter().map(|(k, v)| (k.clone(), to_go(v))).collect()),
    }
}

/// gtmpl's values back to JSON (maps with sorted keys).
pub fn from_go(v: &G) -> Value {
    match v {
        G::NoValue | G::Nil | G::Function(_) => Value::Null,
        G::Bool(b) => Value::Bool(*b),
        G::String(s) => Value::String(s.clone()),
        G::Array(a) => Value::Array(a.iter().map(from_go).collect()),
        G::Object(m) | G::Map(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), from_go(&m[k])))
                    .collect::<Map<String, Value>>(),
            )
        }
        G::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => Value::from(i),
            (_, Some(u), _) => Value::from(u),
            (_, _, Some(f)) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
            _ => Value::Null,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::path_params;
    use serde_json::json;

    fn params() -> Params {
        match json!({
            "path": path_params("clusters/prod-us-east/apps/Web_API", false),
            "name": "prod-us-east",
            "server": "https://10.0.0.1:6443",
            "values": {"team": "payments", "replicas": 3},
            "metadata": {"labels": {"env": "prod"}},
            "list": ["a", "b"],
        }) {
            Value::Object(m) => m,
            _ => Params::new(),
        }
    }

    #[test]
    fn table() {
        let p = params();
        for (template, want) in [
            ("{{ .path.basename }}-prod-us-east", "Web_API-prod-us-east"),
            ("{{ .path.basenameNormalized }}", "web-api"),
            ("{{ index .path.segments 1 }}", "prod-us-east"),
            ("{{ .path.path }}", "clusters/prod-us-east/apps/Web_API"),
            ("{{ .values.team | upper }}", "PAYMENTS"),
            ("{{ lower .path.basename }}", "web_api"),
            ("{{ .values.missing | default \"none\" }}", "none"),
            ("{{ default \"none\" .values.team }}", "payments"),
            ("{{ trunc 3 .name }}", "pro"),
            ("{{ replace \"-\" \"_\" .name }}", "prod_us_east"),
            ("{{ quote .name }}", "\"prod-us-east\""),
            ("{{ normalize .path.basename }}", "web-api"),
            ("{{ slugify .path.basename }}", "web-api"),
            ("{{ .values.replicas }}", "3"),
            ("{{ toJson .metadata.labels }}", "{\"env\":\"prod\"}"),
            ("{{ toYaml .metadata.labels | trim }}", "env: prod"),
            ("{{ (fromYaml \"a: 1\").a }}", "1"),
            (
                "{{ if eq .metadata.labels.env \"prod\" }}yes{{ else }}no{{ end }}",
                "yes",
            ),
            ("{{ range .list }}[{{ . }}]{{ end }}", "[a][b]"),
            ("{{ join \",\" .list }}", "a,b"),
            ("{{ hasPrefix \"https\" .server }}", "true"),
            (
                "{{ ternary \"big\" \"small\" (gt .values.replicas 2) }}",
                "big",
            ),
            ("{{ .path.basename | trimSuffix \"_API\" | lower }}", "web"),
            ("{{ .nope }}", "<no value>"),
            ("plain text", "plain text"),
            ("{{ get .values \"team\" }}", "payments"),
            ("{{ dict \"a\" \"b\" | toJson }}", "{\"a\":\"b\"}"),
            ("{{ coalesce .nope \"\" \"x\" }}", "x"),
            ("{{ b64enc \"hi\" }}", "aGk="),
            ("{{ indent 2 \"a\" }}", "  a"),
        ] {
            assert_eq!(
                render(template, &p, Options::default()).as_deref(),
                Ok(want),
                "{template}"
            );
        }
    }

    #[test]
    fn missing_keys_fail_only_with_missingkey_error() {
        let p = params();
        let strict = Options::parse(&["missingkey=error".into()]).unwrap_or_default();
        assert!(strict.missing_key_error);
        let e = render("{{ .nope }}", &p, strict).unwrap_err();
        assert!(e.contains("missingkey=error"), "{e}");
        assert!(render("{{ .name }}", &p, strict).is_ok());
        assert!(Options::parse(&["frobnicate".into()]).is_err());
    }

    #[test]
    fn syntax_errors_name_the_template() {
        let e = render("{{ .name ", &params(), Options::default()).unwrap_err();
        assert!(e.contains("{{ .name "), "{e}");
        for open in [
            "{{-",
            "{{ .name \"}}",
            "ok {{ .name }} then {{ .x",
            "{{ `}}",
        ] {
            let e = render(open, &params(), Options::default()).unwrap_err();
            assert!(e.contains("never closed"), "{open}: {e}");
        }
        assert_eq!(
            render("{{ \"}}\" }}", &params(), Options::default()).as_deref(),
            Ok("}}")
        );
        let e = render("{{ nosuchfunc .name }}", &params(), Options::default()).unwrap_err();
        assert!(e.contains("nosuchfunc"), "{e}");
    }
}
