//! What was sent already, kept on the Application (annotation
//! `notified.notifications.sextant.dev`, a JSON map from a key to the Unix
//! time it was sent) so a restart does not send again:
//!
//! - a condition with `oncePer` sends once per value (per revision, say);
//!   its keys stay (the newest 20 per destination) while the value is seen;
//! - a condition without sends when it becomes true and not again while it
//!   stays true; when it turns false its key goes, so it can fire again.

use std::collections::BTreeMap;

use crate::subscribe::Destination;

/// The annotation.
pub const ANNOTATION: &str = "notified.notifications.sextant.dev";

/// How many oncePer values are remembered per destination and condition.
const KEEP: usize = 20;

/// Sent notifications, by key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Notified(pub BTreeMap<String, i64>);

impl Notified {
    /// Read the annotation (an unreadable one is empty: at worst a message
    /// is sent again).
    pub fn parse(text: Option<&str>) -> Self {
        Self(
            text.and_then(|t| serde_json::from_str(t).ok())
                .unwrap_or_default(),
        )
    }

    /// The annotation's value.
    pub fn to_text(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_else(|_| "{}".to_owned())
    }

    fn prefix(d: &Destination, index: usize) -> String {
        format!("{}:{index}:{}:{}:", d.trigger, d.service, d.recipient)
    }

    /// Whether to send for condition `index` of `d` (true) with `once_per`;
    /// records it as sent at `now`.
    pub fn claim(
        &mut self,
        d: &Destination,
        index: usize,
        once_per: Option<&str>,
        now: i64,
    ) -> bool {
        let prefix = Self::prefix(d, index);
        let key = format!("{prefix}{}", once_per.unwrap_or(""));
        if self.0.contains_key(&key) {
            return false;
        }
        self.0.insert(key, now);
        self.trim(&prefix);
        true
    }

    fn trim(&mut self, prefix: &str) {
        let mut mine: Vec<(i64, String)> = self
            .0
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(k, t)| (*t, k.clone()))
            .collect();
        if mine.len() <= KEEP {
            return;
        }
        mine.sort();
        let excess = mine.len() - KEEP;
        for (_, k) in mine.into_iter().take(excess) {
            self.0.remove(&k);
        }
    }

    /// Condition `index` of `d` does not hold: forget that it was sent
    /// (conditions without oncePer fire again when they next hold).
    pub fn release(&mut self, d: &Destination, index: usize) {
        let key = Self::prefix(d, index);
        self.0.remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dest() -> Destination {
        Destination {
            trigger: "on-deployed".into(),
            service: "slack".into(),
            recipient: "ops".into(),
        }
    }

    #[test]
    fn once_per_value_and_edge_triggered_without() {
        let mut n = Notified::default();
        let d = dest();
        assert!(n.claim(&d, 0, Some("rev1"), 1));
        assert!(!n.claim(&d, 0, Some("rev1"), 2), "same revision: once");
        assert!(n.claim(&d, 0, Some("rev2"), 3));
        n.release(&d, 0);
        assert!(
            !n.claim(&d, 0, Some("rev2"), 4),
            "oncePer keys survive a false condition"
        );
        assert!(n.claim(&d, 1, None, 5));
        assert!(!n.claim(&d, 1, None, 6), "stays true: no repeat");
        n.release(&d, 1);
        assert!(n.claim(&d, 1, None, 7), "true again after false: fires");
        let round = Notified::parse(Some(&n.to_text()));
        assert_eq!(round, n);
        for i in 0..30 {
            n.claim(&d, 0, Some(&format!("r{i}")), 100 + i);
        }
        assert!(n.0.len() <= KEEP + 1, "{}", n.0.len());
    }
}
