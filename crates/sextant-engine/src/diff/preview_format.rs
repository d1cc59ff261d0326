//! A whole preview (every app between two revisions) and its printed forms:
//! text for a terminal, Markdown for a pull-request comment, JSON for
//! machines; the summary line; and the `--fail-on` gates.

use serde::Serialize;
use serde_json::{Value, json};

use super::Outcome;
use super::preview::AppPreview;

/// An app found in the repository that was not previewed, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SkippedApp {
    /// Its name (or file).
    pub name: String,
    /// Why.
    pub reason: String,
}

/// What makes a preview fail (for gating a pull request).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailOn {
    /// A cluster-scoped object is added.
    AddedClusterScoped,
    /// An object is removed.
    Removed,
    /// Anything differs.
    Any,
}

/// The preview of a change.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Preview {
    /// The base revision as given, with its commit.
    pub base: String,
    /// The head revision as given, with its commit.
    pub head: String,
    /// One entry per app or path.
    pub apps: Vec<AppPreview>,
    /// Apps found but not previewed.
    pub skipped: Vec<SkippedApp>,
}

impl Preview {
    fn total(&self, outcome: Outcome) -> usize {
        self.apps.iter().map(|a| a.count(outcome)).sum()
    }

    /// `preview: 2 apps, 1 added (1 cluster-scoped), 1 removed, 1 changed,
    /// 1 new kind, 1 image change`.
    pub fn summary_line(&self) -> String {
        let n = |count: usize, one: &str, many: &str| {
            format!("{count} {}", if count == 1 { one } else { many })
        };
        let cluster: usize = self.apps.iter().map(|a| a.new_cluster_scoped.len()).sum();
        let kinds: usize = self.apps.iter().map(|a| a.new_kinds.len()).sum();
        let images: usize = self.apps.iter().map(|a| a.images.len()).sum();
        let errors = self.apps.iter().filter(|a| a.error.is_some()).count();
        let mut line = format!(
            "preview {}..{}: {}, {} added ({} cluster-scoped), {} removed, {} changed, {}, {}",
            self.base,
            self.head,
            n(self.apps.len(), "app", "apps"),
            self.total(Outcome::Added),
            cluster,
            self.total(Outcome::Removed),
            self.total(Outcome::Changed),
            n(kinds, "new kind", "new kinds"),
            n(images, "image change", "image changes"),
        );
        if errors > 0 {
            line.push_str(&format!(", {} not rendered", n(errors, "app", "apps")));
        }
        if !self.skipped.is_empty() {
            line.push_str(&format!(", {} skipped", self.skipped.len()));
        }
        line
    }

    /// Why the preview fails the gates in `fail_on` (empty: it passes).
    pub fn failures(&self, fail_on: &[FailOn]) -> Vec<String> {
        let mut out = Vec::new();
        for gate in fail_on {
            match gate {
                FailOn::AddedClusterScoped => {
                    for a in &self.apps {
                        for o in &a.new_cluster_scoped {
                            out.push(format!("{}: adds cluster-scoped {o}", a.name));
                        }
                    }
                }
                FailOn::Removed => {
                    for a in &self.apps {
                        for d in a.objects.iter().filter(|d| d.outcome == Outcome::Removed) {
                            out.push(format!("{}: removes {}", a.name, d.key));
                        }
                    }
                }
                FailOn::Any => {
                    let changed = self.apps.iter().map(|a| a.objects.len()).sum::<usize>();
                    if changed > 0 {
                        out.push(format!("{changed} objects differ"));
                    }
                }
            }
        }
        out
    }

    /// Text for a terminal: per app, the lists, then the diffs.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for a in &self.apps {
            out.push_str(&format!("== app {} ({}) ==\n", a.name, a.path));
            for line in app_lines(a) {
                out.push_str(&line);
                out.push('\n');
            }
            for d in &a.objects {
                out.push_str(&d.unified_labelled("base", "head"));
            }
            out.push('\n');
        }
        for s in &self.skipped {
            out.push_str(&format!("skipped: {} ({})\n", s.name, s.reason));
        }
        out.push_str(&self.summary_line());
        out.push('\n');
        out
    }

    /// Markdown for a pull-request comment: a summary, then per app the
    /// lists and the diffs in collapsed `diff` blocks.
    pub fn to_markdown(&self) -> String {
        let mut out = format!("## Sextant preview\n\n**{}**\n\n", self.summary_line());
        for a in &self.apps {
            out.push_str(&format!("### App `{}` (`{}`)\n\n", a.name, a.path));
            for line in app_lines(a) {
                out.push_str(&format!("- {line}\n"));
            }
            if !a.objects.is_empty() {
                out.push_str("\n<details><summary>Diff</summary>\n\n```diff\n");
                for d in &a.objects {
                    out.push_str(&d.unified_labelled("base", "head").replace("```", "` ` `"));
                }
                out.push_str("```\n\n</details>\n");
            }
            out.push('\n');
        }
        if !self.skipped.is_empty() {
            out.push_str("### Not previewed\n\n");
            for s in &self.skipped {
                out.push_str(&format!("- `{}`: {}\n", s.name, s.reason));
            }
        }
        out
    }

    /// JSON: `base`, `head`, `summary` (the line), `apps` (each with its
    /// lists and, per object, key, outcome, changed paths and masked
    /// `diff`), `skipped`.
    pub fn to_json(&self) -> Value {
        let apps: Vec<Value> = self
            .apps
            .iter()
            .map(|a| {
                let mut v = serde_json::to_value(a).unwrap_or_else(|_| json!({}));
                if let Some(objects) = v.get_mut("objects").and_then(Value::as_array_mut) {
                    for (o, d) in objects.iter_mut().zip(&a.objects) {
                        o["diff"] = Value::String(d.unified_labelled("base", "head"));
                    }
                }
                v
            })
            .collect();
        json!({
            "base": self.base,
            "head": self.head,
            "summary": self.summary_line(),
            "apps": apps,
            "skipped": self.skipped,
        })
    }
}

/// The lines that describe an app: its error or note, the objects by
/// outcome, new kinds, new cluster-scoped objects, image changes.
fn app_lines(a: &AppPreview) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(e) = &a.error {
        lines.push(format!("error: {e}"));
        return lines;
    }
    if let Some(n) = &a.note {
        lines.push(format!("note: {n}"));
    }
    for outcome in [Outcome::Added, Outcome::Removed, Outcome::Changed] {
        for d in a.objects.iter().filter(|d| d.outcome == outcome) {
            let scope = if outcome == Outcome::Added && d.key.is_cluster_scoped() {
                " (cluster-scoped)"
            } else {
                ""
            };
            lines.push(format!("{}: {}{scope}", outcome.as_str(), d.key));
        }
    }
    if !a.new_kinds.is_empty() {
        lines.push(format!("new kinds: {}", a.new_kinds.join(", ")));
    }
    if !a.new_cluster_scoped.is_empty() {
        lines.push(format!(
            "new cluster-scoped objects: {}",
            a.new_cluster_scoped.join(", ")
        ));
    }
    for i in &a.images {
        let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".to_owned());
        lines.push(format!(
            "image: {} container {}: {} -> {}",
            i.object,
            i.container,
            show(&i.old),
            show(&i.new)
        ));
    }
    if a.objects.is_empty() {
        lines.push(format!("no changes ({} objects)", a.unchanged));
    } else {
        lines.push(format!("unchanged: {} objects", a.unchanged));
    }
    lines
}
