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

/// The first 7 characters of a commit.
pub(crate) fn short(revision: &str) -> &str {
    revision.get(..7).unwrap_or(revision)
}

/// A duration as Kubernetes and Go write it (`5s`, `1m30s`, `500ms`).
pub fn parse_duration(text: &str) -> Option<Duration> {
    sextant_model::duration::parse(text).ok()
}

/// `1m30s`: a duration as people write it.
pub(crate) fn show_duration(d: Duration) -> String {
    sextant_model::duration::show(d)
}
