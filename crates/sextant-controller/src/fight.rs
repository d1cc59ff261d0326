//! Telling a fight from drift. Drift is one edit made behind Git's back;
//! a fight is another writer (an HPA, an operator, a script) that changes
//! the same fields again each time self-heal reverts them. After the
//! third revert within a short window self-heal backs off exponentially,
//! and the app gets a condition (and an Event) naming the object, the
//! fields and the other field manager, so a person can settle it
//! (ignoreDifferences, or stop the other writer). Streaks live in memory:
//! a restart only starts the count again.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;
use sextant_engine::diff::FIELD_MANAGER;

/// Reverts closer together than this (plus the current backoff) count as
/// one streak.
const WINDOW: Duration = Duration::from_secs(120);
/// The revert that makes a streak a fight.
pub(crate) const FIGHT_AFTER: u32 = 3;
/// The longest self-heal waits between reverts in a fight.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

#[derive(Clone, Copy)]
struct Streak {
    heals: u32,
    last: Instant,
    backoff: Duration,
}

/// Self-heal streaks per app.
#[derive(Default)]
pub(crate) struct Fights {
    map: Mutex<HashMap<String, Streak>>,
}

impl Fights {
    /// The extra wait before `app` is self-healed again.
    pub(crate) fn backoff(&self, app: &str) -> Duration {
        let Ok(map) = self.map.lock() else {
            return Duration::ZERO;
        };
        map.get(app)
            .filter(|s| s.last.elapsed() <= WINDOW + s.backoff)
            .map_or(Duration::ZERO, |s| s.backoff)
    }

    /// Record a self-heal of `app` (self-heal delay `delay`); returns how
    /// many reverts the current streak has.
    pub(crate) fn healed(&self, app: &str, delay: Duration) -> u32 {
        let Ok(mut map) = self.map.lock() else {
            return 1;
        };
        let now = Instant::now();
        let s = map.entry(app.to_owned()).or_insert(Streak {
            heals: 0,
            last: now,
            backoff: Duration::ZERO,
        });
        if s.heals > 0 && s.last.elapsed() > WINDOW + s.backoff {
            s.heals = 0;
            s.backoff = Duration::ZERO;
        }
        s.heals += 1;
        s.last = now;
        s.backoff = backoff_after(s.heals, delay);
        s.heals
    }

    /// Forget `app`'s streak (it was synced to a new commit, or deleted).
    pub(crate) fn forget(&self, app: &str) {
        if let Ok(mut map) = self.map.lock() {
            map.remove(app);
        }
    }
}

/// The extra wait after the `heals`-th revert of a streak: none before
/// a fight, then doubling from the self-heal delay.
fn backoff_after(heals: u32, delay: Duration) -> Duration {
    if heals < FIGHT_AFTER {
        return Duration::ZERO;
    }
    let base = delay.max(Duration::from_secs(1));
    let exp = (heals - FIGHT_AFTER).min(10);
    base.saturating_mul(2u32.saturating_pow(exp + 1))
        .min(MAX_BACKOFF)
}

/// The field manager other than Sextant that wrote `live` last, from its
/// managedFields (the writer Sextant's reverts fight with).
pub(crate) fn other_writer(live: &Value) -> Option<String> {
    let entries = live.pointer("/metadata/managedFields")?.as_array()?;
    entries
        .iter()
        .filter_map(|e| {
            let manager = e.get("manager")?.as_str()?;
            if manager == FIELD_MANAGER || manager.starts_with("sextant") {
                return None;
            }
            // Status writers (controllers reporting) are not the fight.
            if e.get("subresource").and_then(Value::as_str) == Some("status") {
                return None;
            }
            let time = e.get("time").and_then(Value::as_str).unwrap_or("");
            Some((time.to_owned(), manager.to_owned()))
        })
        .max()
        .map(|(_, m)| m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_third_revert_in_a_streak_is_a_fight_and_backs_off_exponentially() {
        let d = Duration::from_secs(5);
        assert_eq!(backoff_after(1, d), Duration::ZERO);
        assert_eq!(backoff_after(2, d), Duration::ZERO);
        assert_eq!(backoff_after(3, d), Duration::from_secs(10));
        assert_eq!(backoff_after(4, d), Duration::from_secs(20));
        assert_eq!(backoff_after(30, d), MAX_BACKOFF);
        let f = Fights::default();
        assert_eq!(f.healed("a", d), 1);
        assert_eq!(f.healed("a", d), 2);
        assert_eq!(f.backoff("a"), Duration::ZERO);
        assert_eq!(f.healed("a", d), 3);
        assert_eq!(f.backoff("a"), Duration::from_secs(10));
        assert_eq!(f.backoff("b"), Duration::ZERO, "per app");
        f.forget("a");
        assert_eq!(f.healed("a", d), 1);
    }

    #[test]
    fn the_other_writer_is_the_latest_non_sextant_manager_of_the_object() {
        let live = json!({"metadata": {"managedFields": [
            {"manager": "sextant", "operation": "Apply", "time": "2026-01-01T10:00:09Z"},
            {"manager": "kube-controller-manager", "operation": "Update", "subresource": "status", "time": "2026-01-01T10:00:08Z"},
            {"manager": "kubectl-edit", "operation": "Update", "time": "2026-01-01T10:00:05Z"},
            {"manager": "old-script", "operation": "Update", "time": "2026-01-01T09:00:00Z"},
        ]}});
        assert_eq!(other_writer(&live).as_deref(), Some("kubectl-edit"));
        assert_eq!(other_writer(&json!({"metadata": {}})), None);
    }
}
