//! Custom health scripts keyed by group and kind, with Argo CD's layout and
//! wildcards, and the limits scripts run under.
//!
//! Keys are `GROUP/KIND`, or `KIND` alone for the core group. `_` (and `*`)
//! in either part matches any run of characters, so
//! `_.crossplane.io/_` covers every kind of every Crossplane provider group.
//! An exact key wins over wildcards; among wildcards the one with the most
//! literal characters wins, then the alphabetically first key.
//!
//! This module does no IO: a directory loader walks the files and hands
//! each relative path and text to [`HealthCustomizations::insert_file`],
//! which maps `GROUP/KIND/health.lua` and `KIND/health.lua` to keys and
//! ignores everything else (Argo CD's `actions/`, `testdata/`, ...).

use std::collections::HashMap;
use std::sync::Arc;

use super::lua::LuaLimits;

/// A key or path that does not name a group and kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CustomizationError {
    /// The key is empty, has an empty part or more than two parts.
    #[error("health customization key `{0}` is not GROUP/KIND or KIND")]
    BadKey(String),
}

/// One health script and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// Where the script came from, for messages: a relative path such as
    /// `apps/Deployment/health.lua`, or `inline apps/Deployment`.
    pub name: String,
    /// The Lua source.
    pub source: Arc<str>,
}

#[derive(Debug, Clone)]
struct Wildcard {
    key: String,
    group: String,
    kind: String,
    literal_chars: usize,
    script: Script,
}

/// Health scripts by group and kind, and the limits they run under. Pure
/// data: cheap to clone (scripts are shared), `Send` and `Sync`.
#[derive(Debug, Clone, Default)]
pub struct HealthCustomizations {
    exact: HashMap<(String, String), Script>,
    wildcards: Vec<Wildcard>,
    limits: LuaLimits,
}

impl HealthCustomizations {
    /// No scripts, default limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// The same scripts under other limits.
    pub fn with_limits(mut self, limits: LuaLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The limits scripts run under.
    pub fn limits(&self) -> &LuaLimits {
        &self.limits
    }

    /// How many scripts there are.
    pub fn len(&self) -> usize {
        self.exact.len() + self.wildcards.len()
    }

    /// Whether there are no scripts.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Add (or replace) the script for `key` (`GROUP/KIND` or `KIND`), as
    /// given inline in configuration.
    pub fn insert(
        &mut self,
        key: &str,
        source: impl Into<Arc<str>>,
    ) -> Result<(), CustomizationError> {
        let name = format!("inline {key}");
        self.insert_named(key, name, source.into())
    }

    /// Add a file found in a customizations directory, by its path relative
    /// to the directory with `/` separators. Returns whether the path was a
    /// health script (`GROUP/KIND/health.lua` or `KIND/health.lua`); other
    /// files are ignored.
    pub fn insert_file(
        &mut self,
        relative_path: &str,
        source: impl Into<Arc<str>>,
    ) -> Result<bool, CustomizationError> {
        let parts: Vec<&str> = relative_path.split('/').collect();
        let key = match parts.as_slice() {
            [kind, "health.lua"] => (*kind).to_owned(),
            [group, kind, "health.lua"] => format!("{group}/{kind}"),
            _ => return Ok(false),
        };
        self.insert_named(&key, relative_path.to_owned(), source.into())?;
        Ok(true)
    }

    fn insert_named(
        &mut self,
        key: &str,
        name: String,
        source: Arc<str>,
    ) -> Result<(), CustomizationError> {
        let (group, kind) = parse_key(key)?;
        let script = Script { name, source };
        if is_pattern(group) || is_pattern(kind) {
            self.wildcards.retain(|w| w.key != key);
            let literal_chars = literal_len(group) + literal_len(kind);
            self.wildcards.push(Wildcard {
                key: key.to_owned(),
                group: group.to_owned(),
                kind: kind.to_owned(),
                literal_chars,
                script,
            });
            self.wildcards.sort_by(|a, b| {
                b.literal_chars
                    .cmp(&a.literal_chars)
                    .then_with(|| a.key.cmp(&b.key))
            });
        } else {
            self.exact
                .insert((group.to_owned(), kind.to_owned()), script);
        }
        Ok(())
    }

    /// The script for objects of `group` (empty for core) and `kind`, if
    /// any: the exact key, else the most specific matching wildcard.
    pub fn script_for(&self, group: &str, kind: &str) -> Option<&Script> {
        if let Some(script) = self.exact.get(&(group.to_owned(), kind.to_owned())) {
            return Some(script);
        }
        self.wildcards
            .iter()
            .find(|w| glob_match(&w.group, group) && glob_match(&w.kind, kind))
            .map(|w| &w.script)
    }
}

/// `GROUP/KIND` or `KIND` (core group) into its two parts.
fn parse_key(key: &str) -> Result<(&str, &str), CustomizationError> {
    let bad = || CustomizationError::BadKey(key.to_owned());
    let (group, kind) = match key.split_once('/') {
        Some((group, kind)) => (group, kind),
        None => ("", key),
    };
    if kind.is_empty() || kind.contains('/') || (key.contains('/') && group.is_empty()) {
        return Err(bad());
    }
    Ok((group, kind))
}

fn is_wildcard(c: char) -> bool {
    c == '_' || c == '*'
}

fn is_pattern(part: &str) -> bool {
    part.chars().any(is_wildcard)
}

fn literal_len(part: &str) -> usize {
    part.chars().filter(|c| !is_wildcard(*c)).count()
}

/// Whether `text` matches `pattern`, where `_` and `*` match any run of
/// characters (including none) and everything else matches itself.
fn glob_match(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    // Where the last wildcard was, and the text position it resumes from.
    let mut resume: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && is_wildcard(pattern[p]) {
            resume = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((star, from)) = resume {
            p = star + 1;
            t = from + 1;
            resume = Some((star, from + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| is_wildcard(*c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(keys: &[&str]) -> HealthCustomizations {
        let mut custom = HealthCustomizations::new();
        for key in keys {
            custom.insert(key, format!("-- {key}")).unwrap();
        }
        custom
    }

    fn chosen(custom: &HealthCustomizations, group: &str, kind: &str) -> Option<String> {
        custom.script_for(group, kind).map(|s| s.name.clone())
    }

    #[test]
    fn underscore_and_star_match_any_run_of_characters() {
        assert!(glob_match("_.crossplane.io", "aws.crossplane.io"));
        assert!(glob_match("*.crossplane.io", "ec2.aws.crossplane.io"));
        assert!(glob_match("_", ""));
        assert!(glob_match("a_c", "ac"));
        assert!(!glob_match("_.crossplane.io", "crossplane.io"));
        assert!(!glob_match("apps", "apps2"));
    }

    #[test]
    fn an_exact_key_wins_over_a_wildcard() {
        let custom = with(&["_.crossplane.io/_", "aws.crossplane.io/Bucket"]);
        assert_eq!(
            chosen(&custom, "aws.crossplane.io", "Bucket").as_deref(),
            Some("inline aws.crossplane.io/Bucket")
        );
        assert_eq!(
            chosen(&custom, "gcp.crossplane.io", "Bucket").as_deref(),
            Some("inline _.crossplane.io/_")
        );
        assert_eq!(chosen(&custom, "apps", "Deployment"), None);
    }

    #[test]
    fn the_wildcard_with_more_literal_characters_wins() {
        let custom = with(&["_/_", "_.crossplane.io/_", "_/Bucket"]);
        assert_eq!(
            chosen(&custom, "aws.crossplane.io", "Bucket").as_deref(),
            Some("inline _.crossplane.io/_")
        );
        assert_eq!(
            chosen(&custom, "s3.example.com", "Bucket").as_deref(),
            Some("inline _/Bucket")
        );
        assert_eq!(chosen(&custom, "", "Pod").as_deref(), Some("inline _/_"));
    }

    #[test]
    fn a_core_kind_is_keyed_by_its_kind_alone() {
        let custom = with(&["Pod"]);
        assert!(custom.script_for("", "Pod").is_some());
        assert!(custom.script_for("example.com", "Pod").is_none());
    }

    #[test]
    fn directory_paths_map_to_keys_and_other_files_are_ignored() {
        let mut custom = HealthCustomizations::new();
        assert_eq!(
            custom.insert_file("apps/Deployment/health.lua", "--"),
            Ok(true)
        );
        assert_eq!(custom.insert_file("Service/health.lua", "--"), Ok(true));
        assert_eq!(
            custom.insert_file("apps/Deployment/health_test.yaml", "x"),
            Ok(false)
        );
        assert_eq!(
            custom.insert_file("apps/Deployment/testdata/a.yaml", "x"),
            Ok(false)
        );
        assert_eq!(
            custom.insert_file("apps/Deployment/actions/restart/action.lua", "x"),
            Ok(false)
        );
        assert_eq!(custom.len(), 2);
        assert_eq!(
            chosen(&custom, "apps", "Deployment").as_deref(),
            Some("apps/Deployment/health.lua")
        );
        assert!(custom.script_for("", "Service").is_some());
    }

    #[test]
    fn malformed_keys_are_refused() {
        let mut custom = HealthCustomizations::new();
        for key in ["", "/Pod", "apps/", "a/b/c"] {
            assert_eq!(
                custom.insert(key, "--"),
                Err(CustomizationError::BadKey(key.to_owned()))
            );
        }
    }

    #[test]
    fn inserting_a_key_again_replaces_its_script() {
        let mut custom = HealthCustomizations::new();
        custom.insert("_/_", "-- one").unwrap();
        custom.insert("_/_", "-- two").unwrap();
        assert_eq!(custom.len(), 1);
        assert_eq!(
            custom.script_for("x", "Y").map(|s| &*s.source),
            Some("-- two")
        );
    }
}
