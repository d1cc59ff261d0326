//! Choosing a chart version: an exact version, or a range as Helm writes
//! them (`1.2.*`, `~1.2`, `^1`, `>=1.0.0 <2.0.0`, `1.0 - 1.4`, `a || b`),
//! resolved to the newest version that matches. Pre-releases match only a
//! range that names one (as Helm does); `""` and `*` mean the newest
//! stable version, and so does `HEAD` (what a source without a revision
//! follows), so every caller can pass a source's revision as it is.

use semver::{Version, VersionReq};

/// What `targetRevision` asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Wanted {
    /// One version, as written (compared as a version, so `v1.2.3` and
    /// `1.2.3` are the same).
    Exact(String),
    /// Any version matching one of these requirements.
    Range(Vec<VersionReq>),
}

impl Wanted {
    /// Read a `targetRevision`.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let spec = spec.trim();
        if spec.is_empty() || spec == "*" || spec == "HEAD" || spec.eq_ignore_ascii_case("latest") {
            return Ok(Wanted::Range(vec![VersionReq::STAR]));
        }
        if lenient(spec).is_some() && !spec.contains(['*', 'x', 'X']) {
            return Ok(Wanted::Exact(spec.to_owned()));
        }
        let mut alternatives = Vec::new();
        for alt in spec.split("||") {
            let text = comparators(alt)?;
            let req = VersionReq::parse(&text).map_err(|e| {
                format!("`{spec}` is not a version or a version range ({e}); write e.g. 1.2.3, 1.2.*, ~1.2 or >=1.0.0 <2.0.0")
            })?;
            alternatives.push(req);
        }
        Ok(Wanted::Range(alternatives))
    }

    /// Whether this is one version (no listing needed when it is cached).
    pub fn exact(&self) -> Option<&str> {
        match self {
            Wanted::Exact(v) => Some(v),
            Wanted::Range(_) => None,
        }
    }

    /// The newest of `available` that this accepts, as written there.
    pub fn choose<'a>(&self, available: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
        match self {
            Wanted::Exact(want) => {
                let want_v = lenient(want);
                available.into_iter().find(|v| {
                    v.trim() == want.as_str() || (want_v.is_some() && lenient(v) == want_v)
                })
            }
            Wanted::Range(reqs) => available
                .into_iter()
                .filter_map(|v| lenient(v).map(|parsed| (parsed, v)))
                .filter(|(parsed, _)| reqs.iter().any(|r| r.matches(parsed)))
                .max_by(|a, b| a.0.cmp(&b.0))
                .map(|(_, v)| v),
        }
    }
}

/// A version as chart repositories write them: an optional `v`, and one
/// to three numbers (missing ones are 0), then pre-release and build.
pub fn lenient(text: &str) -> Option<Version> {
    let t = text.trim();
    let t = t.strip_prefix(['v', 'V']).unwrap_or(t);
    if let Ok(v) = Version::parse(t) {
        return Some(v);
    }
    let split = t.find(['-', '+']).unwrap_or(t.len());
    let (core, rest) = t.split_at(split);
    let parts: Vec<&str> = core.split('.').collect();
    if parts.is_empty() || parts.len() > 3 || parts.iter().any(|p| p.is_empty()) {
        return None;
    }
    let mut full = parts.join(".");
    for _ in parts.len()..3 {
        full.push_str(".0");
    }
    Version::parse(&format!("{full}{rest}")).ok()
}

/// One `||` alternative in the syntax of the semver crate: comparators
/// joined by commas, a bare version meaning exactly that version, and a
/// hyphen range `A - B` meaning `>=A, <=B`.
fn comparators(alt: &str) -> Result<String, String> {
    let tokens: Vec<&str> = alt
        .split([' ', ',', '\t'])
        .filter(|t| !t.is_empty())
        .collect();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let t = tokens[i];
        if i + 2 < tokens.len() && tokens.get(i + 1) == Some(&"-") {
            let (low, high) = (t, tokens[i + 2]);
            out.push(format!(">={}", strip_v(low)));
            out.push(format!("<={}", strip_v(high)));
            i += 3;
            continue;
        }
        let is_op = t
            .chars()
            .all(|c| matches!(c, '<' | '>' | '=' | '~' | '^' | '!'));
        if is_op {
            let Some(next) = tokens.get(i + 1) else {
                return Err(format!("`{alt}` ends with an operator"));
            };
            out.push(format!("{t}{}", strip_v(next)));
            i += 2;
            continue;
        }
        let starts_with_op = t.starts_with(['<', '>', '=', '~', '^']);
        if starts_with_op || t.contains(['*', 'x', 'X']) {
            let op_len = t
                .find(|c: char| !matches!(c, '<' | '>' | '=' | '~' | '^'))
                .unwrap_or(t.len());
            out.push(format!("{}{}", &t[..op_len], strip_v(&t[op_len..])));
        } else {
            out.push(format!("={}", strip_v(t)));
        }
        i += 1;
    }
    if out.is_empty() {
        return Err("an empty alternative in a version range".into());
    }
    Ok(out.join(", "))
}

fn strip_v(t: &str) -> &str {
    t.strip_prefix(['v', 'V']).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    const AVAILABLE: &[&str] = &[
        "1.0.0",
        "1.2.0",
        "1.2.7",
        "1.3.0-rc.1",
        "2.0.0",
        "v2.1",
        "0.9.1",
    ];

    fn pick(spec: &str) -> Option<&'static str> {
        Wanted::parse(spec)
            .unwrap()
            .choose(AVAILABLE.iter().copied())
    }

    #[test]
    fn ranges_pick_the_newest_match_and_skip_pre_releases() {
        assert_eq!(pick("1.2.*"), Some("1.2.7"));
        assert_eq!(pick(">=1.0.0 <2.0.0"), Some("1.2.7"));
        assert_eq!(pick(">= 1.0.0, < 2.0.0"), Some("1.2.7"));
        assert_eq!(pick("~1.2"), Some("1.2.7"));
        assert_eq!(pick("^1"), Some("1.2.7"));
        assert_eq!(pick("1.0 - 1.2.0"), Some("1.2.0"));
        assert_eq!(pick("*"), Some("v2.1"));
        assert_eq!(pick(""), Some("v2.1"));
        assert_eq!(pick("HEAD"), Some("v2.1"));
        assert_eq!(pick("<1.0.0 || >=2.1"), Some("v2.1"));
        assert_eq!(pick(">=1.3.0-rc.0 <1.4.0"), Some("1.3.0-rc.1"));
        assert_eq!(pick("3.*"), None);
    }

    #[test]
    fn an_exact_version_is_only_that_version() {
        assert_eq!(pick("1.2.0"), Some("1.2.0"));
        assert_eq!(pick("v1.2.0"), Some("1.2.0"));
        assert_eq!(pick("2.1.0"), Some("v2.1"));
        assert_eq!(pick("1.1.0"), None);
        assert_eq!(Wanted::parse("1.2.3").unwrap().exact(), Some("1.2.3"));
        assert!(Wanted::parse("1.2.*").unwrap().exact().is_none());
    }

    #[test]
    fn nonsense_is_refused_with_examples() {
        let e = Wanted::parse(">=banana").unwrap_err();
        assert!(e.contains("not a version or a version range"), "{e}");
        assert!(Wanted::parse(">=").is_err());
    }
}
