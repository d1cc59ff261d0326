//! Small vocabulary every step of a pass shares, so the modules of the
//! reconcile chain depend on it instead of on each other: what a pass asks
//! of the worker next, and how revisions and durations are written.

use std::time::Duration;

/// What the worker should do after a pass.
#[derive(Debug, Default)]
pub struct Next {
    /// Look again after this long.
    pub requeue_after: Option<Duration>,
}

impl Next {
    pub(crate) fn after(d: Duration) -> Self {
        Self {
            requeue_after: Some(d),
        }
    }
}

/// A revision to show: a commit by its first 7 characters, a chart
/// version whole; each of a multi-source revision's (commas between).
pub(crate) fn short(revision: &str) -> String {
    revision
        .split(',')
        .map(|part| {
            let is_commit = part.len() == 40 && part.bytes().all(|b| b.is_ascii_hexdigit());
            if is_commit { &part[..7] } else { part }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// A duration as Kubernetes and Go write it (`5s`, `1m30s`, `500ms`).
pub fn parse_duration(text: &str) -> Option<Duration> {
    sextant_model::duration::parse(text).ok()
}

/// `1m30s`: a duration as people write it.
pub(crate) fn show_duration(d: Duration) -> String {
    sextant_model::duration::show(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_are_shortened_and_chart_versions_kept_in_each_part() {
        let commit = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(short(commit), "0123456");
        assert_eq!(short("10.20.30-beta.1"), "10.20.30-beta.1");
        assert_eq!(short(&format!("{commit},1.2.3")), "0123456,1.2.3");
    }
}
