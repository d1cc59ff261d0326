//! The functions Go templates of ApplicationSets may call, beyond Go's
//! own (`eq`, `index`, `printf`, `len`, `and`, ...): the Sprig functions
//! users rely on, with Sprig's argument order (the piped value last), and
//! Argo CD's `normalize` and `slugify`.

use base64::Engine as _;
use gtmpl_value::{Func, FuncError, Number, Value as G};
use serde_json::Value;

use super::go::{from_go, to_go};
use crate::params;

/// Every function, by name.
pub const ALL: &[(&str, Func)] = &[
    ("default", default),
    ("empty", empty),
    ("coalesce", coalesce),
    ("ternary", ternary),
    ("lower", lower),
    ("upper", upper),
    ("title", title),
    ("trim", trim),
    ("trimPrefix", trim_prefix),
    ("trimSuffix", trim_suffix),
    ("trunc", trunc),
    ("replace", replace),
    ("quote", quote),
    ("squote", squote),
    ("contains", contains),
    ("hasPrefix", has_prefix),
    ("hasSuffix", has_suffix),
    ("split", split),
    ("splitList", split_list),
    ("join", join),
    ("list", list),
    ("dict", dict),
    ("get", get),
    ("hasKey", has_key),
    ("keys", keys),
    ("toString", to_string),
    ("atoi", atoi),
    ("int", atoi),
    ("add", add),
    ("sub", sub),
    ("toJson", to_json),
    ("toPrettyJson", to_pretty_json),
    ("fromJson", from_json),
    ("toYaml", to_yaml),
    ("fromYaml", from_yaml),
    ("b64enc", b64enc),
    ("b64dec", b64dec),
    ("indent", indent),
    ("nindent", nindent),
    ("normalize", normalize),
    ("slugify", slugify),
    ("now", now),
    ("date", date),
];

fn err(msg: impl Into<String>) -> FuncError {
    FuncError::Generic(msg.into())
}

fn exactly(name: &str, args: &[G], n: usize) -> Result<(), FuncError> {
    if args.len() == n {
        Ok(())
    } else {
        Err(FuncError::ExactlyXArgs(name.into(), n))
    }
}

/// A value as text, as Go prints it (missing values as nothing).
fn s(v: &G) -> String {
    match v {
        G::NoValue | G::Nil => String::new(),
        G::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn int(v: &G) -> Result<i64, FuncError> {
    match v {
        G::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().map(|f| f as i64))
            .ok_or_else(|| err(format!("{n} is not an integer"))),
        G::String(t) => t
            .trim()
            .parse()
            .map_err(|_| err(format!("`{t}` is not an integer"))),
        G::Bool(b) => Ok(i64::from(*b)),
        G::NoValue | G::Nil => Ok(0),
        other => Err(err(format!("{other} is not an integer"))),
    }
}

fn is_empty(v: &G) -> bool {
    match v {
        G::NoValue | G::Nil => true,
        G::Bool(b) => !b,
        G::String(s) => s.is_empty(),
        G::Array(a) => a.is_empty(),
        G::Object(m) | G::Map(m) => m.is_empty(),
        G::Number(n) => n.as_f64() == Some(0.0),
        G::Function(_) => false,
    }
}

fn string(text: impl Into<String>) -> Result<G, FuncError> {
    Ok(G::String(text.into()))
}

fn default(args: &[G]) -> Result<G, FuncError> {
    match args {
        [d] => Ok(d.clone()),
        [d, given] => Ok(if is_empty(given) {
            d.clone()
        } else {
            given.clone()
        }),
        _ => Err(FuncError::AtLeastXArgs("default".into(), 1)),
    }
}

fn empty(args: &[G]) -> Result<G, FuncError> {
    Ok(G::Bool(args.first().is_none_or(is_empty)))
}

fn coalesce(args: &[G]) -> Result<G, FuncError> {
    Ok(args
        .iter()
        .find(|a| !is_empty(a))
        .cloned()
        .unwrap_or(G::Nil))
}

fn ternary(args: &[G]) -> Result<G, FuncError> {
    exactly("ternary", args, 3)?;
    Ok(if is_empty(&args[2]) {
        args[1].clone()
    } else {
        args[0].clone()
    })
}

fn one(name: &str, args: &[G]) -> Result<String, FuncError> {
    exactly(name, args, 1)?;
    Ok(s(&args[0]))
}

fn lower(args: &[G]) -> Result<G, FuncError> {
    string(one("lower", args)?.to_lowercase())
}

fn upper(args: &[G]) -> Result<G, FuncError> {
    string(one("upper", args)?.to_uppercase())
}

fn title(args: &[G]) -> Result<G, FuncError> {
    let text = one("title", args)?;
    let mut out = String::with_capacity(text.len());
    let mut start = true;
    for c in text.chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        start = c.is_whitespace();
    }
    string(out)
}

fn trim(args: &[G]) -> Result<G, FuncError> {
    string(one("trim", args)?.trim())
}

fn trim_prefix(args: &[G]) -> Result<G, FuncError> {
    exactly("trimPrefix", args, 2)?;
    let (p, t) = (s(&args[0]), s(&args[1]));
    string(t.strip_prefix(p.as_str()).unwrap_or(&t))
}

fn trim_suffix(args: &[G]) -> Result<G, FuncError> {
    exactly("trimSuffix", args, 2)?;
    let (p, t) = (s(&args[0]), s(&args[1]));
    string(t.strip_suffix(p.as_str()).unwrap_or(&t))
}

/// `trunc N s`: the first N characters (the last -N when negative).
fn trunc(args: &[G]) -> Result<G, FuncError> {
    exactly("trunc", args, 2)?;
    let n = int(&args[0])?;
    let chars: Vec<char> = s(&args[1]).chars().collect();
    let len = chars.len() as i64;
    let (from, to) = if n >= 0 {
        (0, n.min(len))
    } else {
        ((len + n).max(0), len)
    };
    string(chars[from as usize..to as usize].iter().collect::<String>())
}

fn replace(args: &[G]) -> Result<G, FuncError> {
    exactly("replace", args, 3)?;
    string(s(&args[2]).replace(&s(&args[0]), &s(&args[1])))
}

fn quote(args: &[G]) -> Result<G, FuncError> {
    let parts: Vec<String> = args
        .iter()
        .filter(|a| !matches!(a, G::NoValue | G::Nil))
        .map(|a| format!("{:?}", s(a)))
        .collect();
    string(parts.join(" "))
}

fn squote(args: &[G]) -> Result<G, FuncError> {
    let parts: Vec<String> = args
        .iter()
        .filter(|a| !matches!(a, G::NoValue | G::Nil))
        .map(|a| format!("'{}'", s(a)))
        .collect();
    string(parts.join(" "))
}

fn contains(args: &[G]) -> Result<G, FuncError> {
    exactly("contains", args, 2)?;
    Ok(G::Bool(s(&args[1]).contains(&s(&args[0]))))
}

fn has_prefix(args: &[G]) -> Result<G, FuncError> {
    exactly("hasPrefix", args, 2)?;
    Ok(G::Bool(s(&args[1]).starts_with(&s(&args[0]))))
}

fn has_suffix(args: &[G]) -> Result<G, FuncError> {
    exactly("hasSuffix", args, 2)?;
    Ok(G::Bool(s(&args[1]).ends_with(&s(&args[0]))))
}

/// `split SEP s`: a map `_0`, `_1`, ... as Sprig's.
fn split(args: &[G]) -> Result<G, FuncError> {
    exactly("split", args, 2)?;
    let text = s(&args[1]);
    Ok(G::Map(
        text.split(&s(&args[0]))
            .enumerate()
            .map(|(i, p)| (format!("_{i}"), G::String(p.to_owned())))
            .collect(),
    ))
}

fn split_list(args: &[G]) -> Result<G, FuncError> {
    exactly("splitList", args, 2)?;
    let text = s(&args[1]);
    Ok(G::Array(
        text.split(&s(&args[0]))
            .map(|p| G::String(p.to_owned()))
            .collect(),
    ))
}

fn join(args: &[G]) -> Result<G, FuncError> {
    exactly("join", args, 2)?;
    let items = match &args[1] {
        G::Array(a) => a.iter().map(s).collect::<Vec<_>>(),
        other => vec![s(other)],
    };
    string(items.join(&s(&args[0])))
}

fn list(args: &[G]) -> Result<G, FuncError> {
    Ok(G::Array(args.to_vec()))
}

fn dict(args: &[G]) -> Result<G, FuncError> {
    Ok(G::Map(
        args.chunks(2)
            .map(|kv| {
                (
                    s(&kv[0]),
                    kv.get(1).cloned().unwrap_or(G::String(String::new())),
                )
            })
            .collect(),
    ))
}

fn get(args: &[G]) -> Result<G, FuncError> {
    exactly("get", args, 2)?;
    match &args[0] {
        G::Map(m) | G::Object(m) => Ok(m
            .get(&s(&args[1]))
            .cloned()
            .unwrap_or(G::String(String::new()))),
        _ => string(""),
    }
}

fn has_key(args: &[G]) -> Result<G, FuncError> {
    exactly("hasKey", args, 2)?;
    Ok(G::Bool(match &args[0] {
        G::Map(m) | G::Object(m) => m.contains_key(&s(&args[1])),
        _ => false,
    }))
}

fn keys(args: &[G]) -> Result<G, FuncError> {
    let mut out: Vec<String> = args
        .iter()
        .flat_map(|a| match a {
            G::Map(m) | G::Object(m) => m.keys().cloned().collect::<Vec<_>>(),
            _ => Vec::new(),
        })
        .collect();
    out.sort();
    Ok(G::Array(out.into_iter().map(G::String).collect()))
}

fn to_string(args: &[G]) -> Result<G, FuncError> {
    string(one("toString", args)?)
}

fn atoi(args: &[G]) -> Result<G, FuncError> {
    exactly("atoi", args, 1)?;
    Ok(G::Number(Number::from(int(&args[0])?)))
}

fn add(args: &[G]) -> Result<G, FuncError> {
    let mut sum = 0i64;
    for a in args {
        sum = sum.saturating_add(int(a)?);
    }
    Ok(G::Number(Number::from(sum)))
}

fn sub(args: &[G]) -> Result<G, FuncError> {
    exactly("sub", args, 2)?;
    Ok(G::Number(Number::from(
        int(&args[0])?.saturating_sub(int(&args[1])?),
    )))
}

fn json_of(name: &str, args: &[G]) -> Result<Value, FuncError> {
    exactly(name, args, 1)?;
    Ok(from_go(&args[0]))
}

fn to_json(args: &[G]) -> Result<G, FuncError> {
    string(json_of("toJson", args)?.to_string())
}

fn to_pretty_json(args: &[G]) -> Result<G, FuncError> {
    serde_json::to_string_pretty(&json_of("toPrettyJson", args)?)
        .map_err(|e| err(e.to_string()))
        .map(G::String)
}

fn from_json(args: &[G]) -> Result<G, FuncError> {
    let text = one("fromJson", args)?;
    let v: Value = serde_json::from_str(&text).map_err(|e| err(format!("fromJson: {e}")))?;
    Ok(to_go(&v))
}

fn to_yaml(args: &[G]) -> Result<G, FuncError> {
    let v = json_of("toYaml", args)?;
    let text = serde_yaml_ng::to_string(&v).map_err(|e| err(format!("toYaml: {e}")))?;
    string(text.trim_end_matches('\n'))
}

fn from_yaml(args: &[G]) -> Result<G, FuncError> {
    let text = one("fromYaml", args)?;
    let v: Value = serde_yaml_ng::from_str(&text).map_err(|e| err(format!("fromYaml: {e}")))?;
    Ok(to_go(&v))
}

fn b64enc(args: &[G]) -> Result<G, FuncError> {
    string(base64::engine::general_purpose::STANDARD.encode(one("b64enc", args)?))
}

fn b64dec(args: &[G]) -> Result<G, FuncError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(one("b64dec", args)?.trim())
        .map_err(|e| err(format!("b64dec: {e}")))?;
    string(String::from_utf8_lossy(&bytes))
}

fn indent_by(name: &str, args: &[G]) -> Result<String, FuncError> {
    exactly(name, args, 2)?;
    let pad = " ".repeat(int(&args[0])?.clamp(0, 1000) as usize);
    Ok(s(&args[1])
        .split('\n')
        .map(|l| format!("{pad}{l}"))
        .collect::<Vec<_>>()
        .join("\n"))
}

fn indent(args: &[G]) -> Result<G, FuncError> {
    string(indent_by("indent", args)?)
}

fn nindent(args: &[G]) -> Result<G, FuncError> {
    string(format!("\n{}", indent_by("nindent", args)?))
}

fn normalize(args: &[G]) -> Result<G, FuncError> {
    string(params::normalize(&one("normalize", args)?))
}

/// `slugify s`, or `slugify MAX SMART s` (defaults 50 and true).
fn slugify(args: &[G]) -> Result<G, FuncError> {
    match args {
        [text] => string(params::slugify(&s(text), 50, true)),
        [max, smart, text] => {
            let max = usize::try_from(int(max)?).unwrap_or(0);
            string(params::slugify(&s(text), max, !is_empty(smart)))
        }
        _ => Err(FuncError::ExactlyXArgs("slugify".into(), 3)),
    }
}

/// `now`: the current time, RFC 3339 in UTC.
fn now(args: &[G]) -> Result<G, FuncError> {
    exactly("now", args, 0)?;
    string(k8s_openapi::jiff::Timestamp::now().to_string())
}

/// `date LAYOUT TIME`: TIME (RFC 3339 text, or Unix seconds) in Go's
/// reference layout (`2006-01-02 15:04:05`, `Jan 2`, `Mon`, `MST`, ...), UTC.
fn date(args: &[G]) -> Result<G, FuncError> {
    exactly("date", args, 2)?;
    let layout = s(&args[0]);
    let when = match &args[1] {
        G::Number(_) => k8s_openapi::jiff::Timestamp::from_second(int(&args[1])?)
            .map_err(|e| err(format!("date: {e}")))?,
        other => s(other)
            .parse::<k8s_openapi::jiff::Timestamp>()
            .map_err(|e| err(format!("date: `{}` is not an RFC 3339 time: {e}", s(other))))?,
    };
    let zoned = when.to_zoned(k8s_openapi::jiff::tz::TimeZone::UTC);
    string(zoned.strftime(&go_layout(&layout)).to_string())
}

/// Go's reference-time layout as strftime.
fn go_layout(layout: &str) -> String {
    const TOKENS: &[(&str, &str)] = &[
        ("2006", "%Y"),
        ("January", "%B"),
        ("Jan", "%b"),
        ("Monday", "%A"),
        ("Mon", "%a"),
        ("MST", "%Z"),
        ("Z07:00", "%:z"),
        ("-07:00", "%:z"),
        ("-0700", "%z"),
        ("01", "%m"),
        ("02", "%d"),
        ("06", "%y"),
        ("15", "%H"),
        ("03", "%I"),
        ("04", "%M"),
        ("05", "%S"),
        ("PM", "%p"),
        ("_2", "%e"),
        ("1", "%-m"),
        ("2", "%-d"),
        ("3", "%-I"),
    ];
    let mut out = String::new();
    let mut rest = layout;
    'outer: while !rest.is_empty() {
        for (go, fmt) in TOKENS {
            if let Some(after) = rest.strip_prefix(go) {
                out.push_str(fmt);
                rest = after;
                continue 'outer;
            }
        }
        let c = rest.chars().next().unwrap_or_default();
        if c == '%' {
            out.push_str("%%");
        } else {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod date_tests {
    use super::*;

    #[test]
    fn dates_use_go_layouts() {
        let t = G::String("2026-12-07T03:04:05Z".into());
        let out = date(&[G::String("2006-01-02 15:04:05 MST".into()), t.clone()]).unwrap();
        assert_eq!(s(&out), "2026-12-07 03:04:05 UTC");
        let out = date(&[G::String("Mon Jan 2 3:04PM".into()), t]).unwrap();
        assert_eq!(s(&out), "Mon Dec 7 3:04AM");
        assert!(date(&[G::String("2006".into()), G::String("yesterday".into())]).is_err());
        assert!(!s(&now(&[]).unwrap()).is_empty());
    }
}
