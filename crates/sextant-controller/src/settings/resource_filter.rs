//! `resource.exclusions` and `resource.inclusions` of the settings
//! ConfigMap: kinds Sextant leaves alone. An object of an excluded kind is
//! neither deployed, compared, pruned nor watched; an app that renders one
//! says so in an `ExcludedResourceWarning` condition.
//!
//! Argo CD's rules: each rule lists `apiGroups`, `kinds` and `clusters`
//! (globs; an empty list matches everything). A kind matching any
//! exclusion is excluded; when there are inclusions, a kind matching none
//! of them is excluded too.

use serde::Deserialize;
use sextant_model::glob;

/// One rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceRule {
    /// API groups (`""` is the core group).
    #[serde(default)]
    pub api_groups: Vec<String>,
    /// Kinds.
    #[serde(default)]
    pub kinds: Vec<String>,
    /// Cluster server URLs.
    #[serde(default)]
    pub clusters: Vec<String>,
}

fn any_matches(patterns: &[String], text: &str) -> bool {
    patterns.is_empty() || patterns.iter().any(|p| glob::matches(text, p))
}

impl ResourceRule {
    fn matches(&self, group: &str, kind: &str, cluster: &str) -> bool {
        any_matches(&self.api_groups, group)
            && any_matches(&self.kinds, kind)
            && any_matches(&self.clusters, cluster)
    }
}

/// The exclusions and inclusions in force.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceFilter {
    /// Kinds left alone.
    pub exclusions: Vec<ResourceRule>,
    /// When not empty, the only kinds managed.
    pub inclusions: Vec<ResourceRule>,
}

impl ResourceFilter {
    /// Read a rule list (`resource.exclusions` or `resource.inclusions`).
    pub fn parse_rules(text: &str) -> Result<Vec<ResourceRule>, String> {
        let parsed: Option<Vec<ResourceRule>> = serde_yaml_ng::from_str(text)
            .map_err(|e| format!("not a list of apiGroups, kinds and clusters: {e}"))?;
        Ok(parsed.unwrap_or_default())
    }

    /// Whether objects of `group`/`kind` on the cluster at `cluster` are
    /// left alone.
    pub fn excludes(&self, group: &str, kind: &str, cluster: &str) -> bool {
        self.exclusions
            .iter()
            .any(|r| r.matches(group, kind, cluster))
            || (!self.inclusions.is_empty()
                && !self
                    .inclusions
                    .iter()
                    .any(|r| r.matches(group, kind, cluster)))
    }

    /// Whether nothing is filtered.
    pub fn is_empty(&self) -> bool {
        self.exclusions.is_empty() && self.inclusions.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IN: &str = "https://kubernetes.default.svc";

    #[test]
    fn exclusions_match_group_kind_and_cluster_by_glob_and_empty_lists_match_all() {
        let filter = ResourceFilter {
            exclusions: ResourceFilter::parse_rules(
                "- apiGroups: ['*.example.com']\n  kinds: ['*']\n  clusters: ['*']\n\
                 - apiGroups: ['']\n  kinds: [Event]\n\
                 - kinds: [Secret]\n  clusters: ['https://prod.*']\n",
            )
            .unwrap(),
            inclusions: Vec::new(),
        };
        assert!(filter.excludes("metrics.example.com", "Gauge", IN));
        assert!(filter.excludes("", "Event", IN));
        assert!(
            !filter.excludes("events.k8s.io", "Event", IN),
            "another group"
        );
        assert!(!filter.excludes("", "Secret", IN));
        assert!(filter.excludes("", "Secret", "https://prod.example.com"));
        assert!(!filter.excludes("apps", "Deployment", IN));
    }

    #[test]
    fn with_inclusions_only_the_included_kinds_are_managed_and_exclusions_still_win() {
        let filter = ResourceFilter {
            exclusions: ResourceFilter::parse_rules("- kinds: [ConfigMap]\n").unwrap(),
            inclusions: ResourceFilter::parse_rules("- apiGroups: ['', apps]\n").unwrap(),
        };
        assert!(!filter.excludes("apps", "Deployment", IN));
        assert!(!filter.excludes("", "Service", IN));
        assert!(filter.excludes("batch", "Job", IN), "not included");
        assert!(
            filter.excludes("", "ConfigMap", IN),
            "excluded though included"
        );
    }

    #[test]
    fn a_rule_list_that_does_not_parse_says_what_it_expects() {
        let e = ResourceFilter::parse_rules("- apiGroup: [apps]\n").unwrap_err();
        assert!(
            e.starts_with("not a list of apiGroups, kinds and clusters"),
            "{e}"
        );
        assert!(ResourceFilter::parse_rules("").unwrap().is_empty());
    }
}
