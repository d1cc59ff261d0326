//! Diff: how a desired object differs from the live one, after
//! normalisation, ownership and `ignoreDifferences`, with Secret values
//! masked.
//!
//! The caller brings the facts (the desired object, the live object if any,
//! and, when the API server could dry-run the apply, its prediction of the
//! result); [`diff_object`] turns them into an [`ObjectDiff`], a value that
//! prints as a unified YAML diff ([`ObjectDiff::unified`]) or as JSON
//! ([`report`]). Nothing here does IO: the server-side dry-run lives in
//! `sextant-cluster`.
//!
//! The steps, in order:
//! 1. [`normalize`]: server-set metadata, `status` and the tracking
//!    annotation are removed; Secret `stringData` is folded into `data`.
//! 2. The target: the server's prediction ([`Mode::ServerSide`]), or, when
//!    there is none, the desired object laid over the live one so that
//!    fields Git does not set keep their live values, except those Sextant
//!    itself owned and Git has since dropped ([`Mode::Structural`]).
//! 3. [`IgnoreDifferences`]: JSON pointers, jq path expressions and fields
//!    owned by named managers are removed from both sides.
//! 4. The comparison ([`changes`]), then [`mask`] for Secrets.
//!
//! [`preview`] compares two renders of a repository (base and head) the
//! same way, with no cluster.

use serde::Serialize;
use serde_json::Value;

mod compare;
pub mod fields;
mod ignore;
mod jq;
mod key;
pub mod mask;
pub mod normalize;
pub mod preview;
pub mod preview_format;
pub mod report;
mod text;

pub use compare::{Change, ChangeOp, changes, overlay};
pub use ignore::{IgnoreDifferences, IgnoreError, IgnoreRule};
pub use key::ObjectKey;
pub use preview::{AppPreview, ImageChange, preview_app};
pub use preview_format::{FailOn, Preview, SkippedApp};
pub use report::{DiffReport, ObjectError, Summary};
pub use text::unified_diff;

/// The field manager Sextant applies with.
pub const FIELD_MANAGER: &str = "sextant";

/// The annotation that tracks which application an object belongs to.
pub const TRACKING_ANNOTATION: &str = "sextant.dev/tracking-id";

/// How the target state was obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// The API server dry-ran a server-side apply; defaulting and admission
    /// are accounted for.
    ServerSide,
    /// No dry-run was possible; the desired object was compared as it is
    /// (laid over the live object, if any).
    Structural,
}

/// What happened to an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// In the desired state, not live.
    Added,
    /// Live (or in the old state), not desired.
    Removed,
    /// Both, and they differ.
    Changed,
    /// Both, and they are the same.
    Unchanged,
}

impl Outcome {
    /// The word used in headers and JSON (`added`, `changed`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Added => "added",
            Outcome::Removed => "removed",
            Outcome::Changed => "changed",
            Outcome::Unchanged => "unchanged",
        }
    }
}

/// The facts about one object that a diff needs.
#[derive(Clone, Copy, Debug)]
pub struct Input<'a> {
    /// The object as Git renders it (`None` when only the old side exists).
    pub desired: Option<&'a Value>,
    /// The live (or old) object, if there is one.
    pub live: Option<&'a Value>,
    /// The API server's dry-run result for applying `desired`, if it could
    /// be had.
    pub predicted: Option<&'a Value>,
    /// Why there is no prediction, said to the reader (e.g. "kind
    /// Widget.example.com is not served yet").
    pub fallback_reason: Option<&'a str>,
    /// Without a prediction, lay the desired object over the live one, so
    /// fields Git does not set keep their live values (true for a cluster's
    /// live object; false to compare two renders as they are).
    pub overlay: bool,
}

/// The difference for one object, normalised and masked: safe to print.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectDiff {
    /// Which object.
    #[serde(flatten)]
    pub key: ObjectKey,
    /// Added, removed, changed or unchanged.
    pub outcome: Outcome,
    /// How the target was obtained.
    pub mode: Mode,
    /// Why the diff is structural, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The changed fields, as JSON pointers.
    pub changes: Vec<Change>,
    /// The live side after normalisation, ignore rules and masking.
    #[serde(skip)]
    pub live: Option<Value>,
    /// The target side after normalisation, ignore rules and masking.
    #[serde(skip)]
    pub target: Option<Value>,
}

impl ObjectDiff {
    /// Whether the object differs (added, removed or changed).
    pub fn differs(&self) -> bool {
        self.outcome != Outcome::Unchanged
    }

    /// A unified YAML diff (`live` against `desired`) with a header naming
    /// the object; empty when the object is unchanged.
    pub fn unified(&self) -> String {
        self.unified_labelled("live", "desired")
    }

    /// [`ObjectDiff::unified`] with other names for the two sides (e.g.
    /// `base` and `head`).
    pub fn unified_labelled(&self, old: &str, new: &str) -> String {
        if !self.differs() {
            return String::new();
        }
        let live = self.live.as_ref().map(to_yaml).unwrap_or_default();
        let target = self.target.as_ref().map(to_yaml).unwrap_or_default();
        let mut out = format!("===== {} ({}) =====\n", self.key, self.outcome.as_str());
        if let Some(note) = &self.note {
            out.push_str(&format!("# {note}\n"));
        }
        out.push_str(&unified_diff(&live, &target, old, new, 3));
        out
    }
}

/// Diff one object. The caller passes the `ignore` rules in force (an empty
/// set when there are none).
pub fn diff_object(input: Input<'_>, ignore: &IgnoreDifferences) -> ObjectDiff {
    let key = input
        .desired
        .or(input.live)
        .map(ObjectKey::of)
        .unwrap_or_default();
    let (mode, note) = match (input.predicted, input.fallback_reason) {
        (Some(_), _) => (Mode::ServerSide, None),
        (None, reason) => (Mode::Structural, reason.map(str::to_owned)),
    };
    let mut live = input.live.map(normalize::normalize);
    let mut target = match (input.predicted, input.desired) {
        (Some(predicted), _) => Some(normalize::normalize(predicted)),
        (None, Some(desired)) => {
            let desired = normalize::normalize(desired);
            Some(match (&live, input.live) {
                (Some(live_n), Some(live_raw)) if input.overlay => {
                    compare::ownership_overlay(live_n, &desired, live_raw)
                }
                _ => desired,
            })
        }
        (None, None) => None,
    };
    ignore.apply(&key, input.live, live.as_mut(), target.as_mut());
    let changes = match (&live, &target) {
        (Some(l), Some(t)) => changes(l, t),
        _ => Vec::new(),
    };
    let outcome = match (&live, &target) {
        (None, Some(_)) => Outcome::Added,
        (Some(_), None) => Outcome::Removed,
        _ if !changes.is_empty() => Outcome::Changed,
        _ => Outcome::Unchanged,
    };
    if key.is_secret() {
        mask::mask_secrets(live.as_mut(), target.as_mut());
    }
    ObjectDiff {
        key,
        outcome,
        mode,
        note,
        changes,
        live,
        target,
    }
}

/// YAML text of a value (`{}` when it cannot be printed, which a JSON value
/// always can).
pub(crate) fn to_yaml(value: &Value) -> String {
    serde_yaml_ng::to_string(value).unwrap_or_else(|_| "{}\n".to_owned())
}

#[cfg(test)]
mod tests;
