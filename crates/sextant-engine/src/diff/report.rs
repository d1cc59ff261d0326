//! A diff of many objects as one report: the per-object diffs, the objects
//! that could not be compared, counts, and the two printed forms (unified
//! YAML diffs for people, JSON for machines).

use serde::Serialize;
use serde_json::{Value, json};

use super::{ObjectDiff, ObjectKey, Outcome};

/// An object that could not be compared, and why (already in words).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ObjectError {
    /// Which object.
    #[serde(flatten)]
    pub key: ObjectKey,
    /// What went wrong.
    pub error: String,
}

/// Counts by outcome.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Objects compared.
    pub compared: usize,
    /// Desired, not live.
    pub added: usize,
    /// Live, not desired.
    pub removed: usize,
    /// Different.
    pub changed: usize,
    /// The same.
    pub unchanged: usize,
    /// Compared structurally, without the server's dry-run.
    pub structural: usize,
    /// Not compared because of an error.
    pub errors: usize,
}

/// The diffs of a set of objects.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DiffReport {
    /// One diff per object, in the order given.
    pub objects: Vec<ObjectDiff>,
    /// Objects that could not be compared.
    pub errors: Vec<ObjectError>,
}

impl DiffReport {
    /// The counts.
    pub fn summary(&self) -> Summary {
        let mut s = Summary {
            compared: self.objects.len(),
            errors: self.errors.len(),
            ..Summary::default()
        };
        for d in &self.objects {
            match d.outcome {
                Outcome::Added => s.added += 1,
                Outcome::Removed => s.removed += 1,
                Outcome::Changed => s.changed += 1,
                Outcome::Unchanged => s.unchanged += 1,
            }
            if d.mode == super::Mode::Structural {
                s.structural += 1;
            }
        }
        s
    }

    /// Whether any object differs.
    pub fn differs(&self) -> bool {
        self.objects.iter().any(ObjectDiff::differs)
    }

    /// The unified diff of every differing object, then a summary line.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for d in self.objects.iter().filter(|d| d.differs()) {
            out.push_str(&d.unified());
        }
        for e in &self.errors {
            out.push_str(&format!("===== {} (error) =====\n# {}\n", e.key, e.error));
        }
        out.push_str(&self.summary_line());
        out.push('\n');
        out
    }

    /// `3 objects compared: 1 added, 1 changed, 1 unchanged`, with the
    /// structural and error counts when there are any.
    pub fn summary_line(&self) -> String {
        let s = self.summary();
        let mut line = format!(
            "{} object{} compared: {} added, {} changed, {} unchanged",
            s.compared,
            if s.compared == 1 { "" } else { "s" },
            s.added,
            s.changed,
            s.unchanged
        );
        if s.removed > 0 {
            line.push_str(&format!(", {} removed", s.removed));
        }
        if s.structural > 0 {
            line.push_str(&format!(
                " ({} without a server-side dry-run)",
                s.structural
            ));
        }
        if s.errors > 0 {
            line.push_str(&format!("; {} could not be compared", s.errors));
        }
        line
    }

    /// The report as JSON: `summary`, `objects` (each with its key,
    /// outcome, mode, note, changed paths and masked unified `diff`) and
    /// `errors`.
    pub fn to_json(&self) -> Value {
        let objects: Vec<Value> = self
            .objects
            .iter()
            .map(|d| {
                let mut v = serde_json::to_value(d).unwrap_or_else(|_| json!({}));
                if let Some(map) = v.as_object_mut() {
                    map.insert("diff".to_owned(), Value::String(d.unified()));
                }
                v
            })
            .collect();
        json!({
            "summary": self.summary(),
            "objects": objects,
            "errors": self.errors,
        })
    }
}
