//! Equality-based label selectors as users write them in text
//! (`team=web,tier!=db,canary,!legacy`), shared by the API server's app
//! filters and the notifications' default subscriptions.

use std::collections::BTreeMap;

/// One term of a label selector.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Term {
    Eq(String, String),
    Ne(String, String),
    Exists(String),
    Absent(String),
}

/// A parsed selector; the empty one matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selector(Vec<Term>);

impl Selector {
    /// Parse `key=value`, `key==value`, `key!=value`, `key` and `!key`
    /// terms, comma-separated.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut terms = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let term = if let Some((k, v)) = part.split_once("!=") {
                Term::Ne(k.trim().to_owned(), v.trim().to_owned())
            } else if let Some((k, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
                Term::Eq(k.trim().to_owned(), v.trim().to_owned())
            } else if let Some(k) = part.strip_prefix('!') {
                Term::Absent(k.trim().to_owned())
            } else {
                Term::Exists(part.to_owned())
            };
            let key = match &term {
                Term::Eq(k, _) | Term::Ne(k, _) | Term::Exists(k) | Term::Absent(k) => k,
            };
            if key.is_empty() || key.contains(char::is_whitespace) {
                return Err(format!(
                    "label selector term `{part}` is not `key=value`, `key!=value`, `key` or `!key`"
                ));
            }
            terms.push(term);
        }
        Ok(Self(terms))
    }

    /// Whether `labels` satisfy every term.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.0.iter().all(|t| match t {
            Term::Eq(k, v) => labels.get(k) == Some(v),
            Term::Ne(k, v) => labels.get(k) != Some(v),
            Term::Exists(k) => labels.contains_key(k),
            Term::Absent(k) => !labels.contains_key(k),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn negations_and_existence() {
        let m = |sel: &str, labels: &[(&str, &str)]| {
            Selector::parse(sel).unwrap().matches(&map(labels))
        };
        assert!(m("a!=b,!c", &[("a", "x")]));
        assert!(!m("a", &[]));
        assert!(m("", &[]), "the empty selector matches everything");
        assert!(Selector::parse("a b=c").is_err());
    }
}
