//! Glob patterns for a directory source's include and exclude options:
//! `*` and `?` within a path segment, `**` across segments, `[abc]` and
//! `[a-z]` classes (`[!x]` negated), `{a,b}` alternatives. A pattern with no
//! `/` also matches a file's name in any folder (`*.yaml` matches
//! `sub/x.yaml`).

/// A compiled glob: the alternatives after `{}` expansion.
#[derive(Clone, Debug)]
pub struct Glob {
    alternatives: Vec<String>,
}

/// A malformed pattern.
#[derive(Debug, thiserror::Error)]
#[error("glob pattern `{0}` is malformed (unbalanced braces or brackets)")]
pub struct GlobError(String);

impl Glob {
    /// Compile `pattern`.
    pub fn new(pattern: &str) -> Result<Self, GlobError> {
        let alternatives =
            expand_braces(pattern, 0).ok_or_else(|| GlobError(pattern.to_owned()))?;
        for alt in &alternatives {
            if alt.matches('[').count() != alt.matches(']').count() {
                return Err(GlobError(pattern.to_owned()));
            }
        }
        Ok(Self { alternatives })
    }

    /// Whether `path` (relative, `/`-separated) matches.
    pub fn matches(&self, path: &str) -> bool {
        let name = path.rsplit('/').next().unwrap_or(path);
        self.alternatives.iter().any(|alt| {
            let p: Vec<char> = alt.chars().collect();
            let t: Vec<char> = path.chars().collect();
            matches_at(&p, &t)
                || (!alt.contains('/') && matches_at(&p, &name.chars().collect::<Vec<_>>()))
        })
    }
}

/// Expand the first `{a,b}` group recursively; `None` when unbalanced.
fn expand_braces(pattern: &str, depth: usize) -> Option<Vec<String>> {
    if depth > 16 {
        return None;
    }
    let Some(open) = pattern.find('{') else {
        return (!pattern.contains('}')).then(|| vec![pattern.to_owned()]);
    };
    let mut level = 0;
    let mut close = None;
    let mut commas = Vec::new();
    for (i, c) in pattern[open..].char_indices() {
        match c {
            '{' => level += 1,
            '}' => {
                level -= 1;
                if level == 0 {
                    close = Some(open + i);
                    break;
                }
            }
            ',' if level == 1 => commas.push(open + i),
            _ => {}
        }
    }
    let close = close?;
    let (head, tail) = (&pattern[..open], &pattern[close + 1..]);
    let mut bounds = vec![open];
    bounds.extend(commas);
    bounds.push(close);
    let mut out = Vec::new();
    for w in bounds.windows(2) {
        let option = &pattern[w[0] + 1..w[1]];
        out.extend(expand_braces(&format!("{head}{option}{tail}"), depth + 1)?);
    }
    Some(out)
}

fn matches_at(p: &[char], t: &[char]) -> bool {
    match p.first() {
        None => t.is_empty(),
        Some('*') if p.get(1) == Some(&'*') => {
            // `**/` also matches zero folders.
            let rest = if p.get(2) == Some(&'/') {
                &p[3..]
            } else {
                &p[2..]
            };
            (0..=t.len()).any(|i| matches_at(rest, &t[i..]))
                || (p.get(2) == Some(&'/') && (0..=t.len()).any(|i| matches_at(&p[2..], &t[i..])))
        }
        Some('*') => {
            for i in 0..=t.len() {
                if matches_at(&p[1..], &t[i..]) {
                    return true;
                }
                if t.get(i) == Some(&'/') {
                    break;
                }
            }
            false
        }
        Some('?') => t.first().is_some_and(|c| *c != '/') && matches_at(&p[1..], &t[1..]),
        Some('[') => {
            let Some(end) = p.iter().position(|c| *c == ']') else {
                return false;
            };
            let Some(c) = t.first() else { return false };
            let class = &p[1..end];
            let (negate, class) = match class.first() {
                Some('!' | '^') => (true, &class[1..]),
                _ => (false, class),
            };
            let mut hit = false;
            let mut i = 0;
            while i < class.len() {
                if i + 2 < class.len() && class[i + 1] == '-' {
                    hit |= (class[i]..=class[i + 2]).contains(c);
                    i += 3;
                } else {
                    hit |= class[i] == *c;
                    i += 1;
                }
            }
            hit != negate && *c != '/' && matches_at(&p[end + 1..], &t[1..])
        }
        Some(c) => t.first() == Some(c) && matches_at(&p[1..], &t[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::Glob;

    fn check(pattern: &str, yes: &[&str], no: &[&str]) {
        let g = Glob::new(pattern).unwrap();
        for path in yes {
            assert!(g.matches(path), "{pattern} should match {path}");
        }
        for path in no {
            assert!(!g.matches(path), "{pattern} should not match {path}");
        }
    }

    #[test]
    fn stars_stay_within_a_segment_but_bare_names_match_in_any_folder() {
        check(
            "*.yaml",
            &["a.yaml", "sub/b.yaml"],
            &["a.yml", "a.yaml.bak"],
        );
        check("sub/*.yaml", &["sub/a.yaml"], &["sub/x/a.yaml", "a.yaml"]);
    }

    #[test]
    fn double_stars_cross_folders() {
        check(
            "**/test/*.json",
            &["test/a.json", "x/y/test/a.json"],
            &["x/test/y/a.json"],
        );
        check(
            "base/**",
            &["base/a.yaml", "base/x/y.yaml"],
            &["other/a.yaml"],
        );
    }

    #[test]
    fn braces_classes_and_question_marks() {
        check(
            "{config.yaml,env-use2/*}",
            &["config.yaml", "env-use2/a.yaml"],
            &["env-use1/a.yaml"],
        );
        check("v[0-9].yaml", &["v1.yaml"], &["vx.yaml"]);
        check("v[!0-9].yaml", &["vx.yaml"], &["v1.yaml"]);
        check("?.json", &["a.json"], &["ab.json"]);
    }

    #[test]
    fn unbalanced_patterns_are_errors() {
        assert!(Glob::new("{a,b").is_err());
        assert!(Glob::new("a}").is_err());
        assert!(Glob::new("[ab").is_err());
    }
}
