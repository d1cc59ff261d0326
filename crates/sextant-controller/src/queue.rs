//! The work queue: app names waiting to be reconciled. A name is queued at
//! most once; a name added while its reconcile runs is run once more
//! afterwards (never twice at the same time); a name can be scheduled for
//! later (self-heal delay, retries, the check after a sync); a name that
//! comes due goes ahead of the names waiting.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

#[derive(Default)]
struct State {
    ready: VecDeque<String>,
    /// When each name in `ready` got there (for the wait metric).
    since: std::collections::HashMap<String, Instant>,
    queued: HashSet<String>,
    active: HashSet<String>,
    dirty: HashSet<String>,
    later: BTreeMap<(Instant, u64), String>,
    seq: u64,
}

impl State {
    /// `sextant_workqueue_depth`: names waiting, now or later.
    fn report_depth(&self) {
        #[allow(
            clippy::cast_precision_loss,
            reason = "queue lengths are far below 2^52"
        )]
        metrics::gauge!(sextant_metrics::names::WORKQUEUE_DEPTH)
            .set((self.ready.len() + self.later.len()) as f64);
    }
}

/// A deduplicating queue with delays.
#[derive(Default)]
pub struct Queue {
    state: Mutex<State>,
    wake: Notify,
}

impl Queue {
    /// Queue `name` now.
    pub fn add(&self, name: &str) {
        let Ok(mut s) = self.state.lock() else { return };
        if s.active.contains(name) {
            s.dirty.insert(name.to_owned());
        } else if s.queued.insert(name.to_owned()) {
            s.ready.push_back(name.to_owned());
            s.since.insert(name.to_owned(), Instant::now());
            s.report_depth();
            drop(s);
            self.wake.notify_one();
        }
    }

    /// Queue `name` after `delay`.
    pub fn add_after(&self, name: &str, delay: Duration) {
        if delay.is_zero() {
            return self.add(name);
        }
        let Ok(mut s) = self.state.lock() else { return };
        s.seq += 1;
        let key = (Instant::now() + delay, s.seq);
        s.later.insert(key, name.to_owned());
        s.report_depth();
        drop(s);
        self.wake.notify_one();
    }

    /// The next name to work on; waits until there is one.
    pub async fn next(&self) -> String {
        loop {
            let deadline = {
                let Ok(mut s) = self.state.lock() else {
                    std::future::pending::<()>().await;
                    continue;
                };
                let now = Instant::now();
                while let Some((&(at, seq), _)) = s.later.first_key_value() {
                    if at > now {
                        break;
                    }
                    if let Some(name) = s.later.remove(&(at, seq)) {
                        if s.active.contains(&name) {
                            s.dirty.insert(name);
                        } else if s.queued.insert(name.clone()) {
                            // It has waited its turn already (a check after a
                            // sync, a retry): ahead of fresh work, so an app
                            // shows Synced as soon as its sync is done even
                            // while a whole fleet is being synced.
                            s.since.insert(name.clone(), now);
                            s.ready.push_front(name);
                        }
                    }
                }
                if let Some(name) = s.ready.pop_front() {
                    s.queued.remove(&name);
                    s.active.insert(name.clone());
                    if let Some(at) = s.since.remove(&name) {
                        metrics::histogram!(sextant_metrics::names::WORKQUEUE_WAIT)
                            .record(at.elapsed().as_secs_f64());
                    }
                    s.report_depth();
                    // More work waiting: let another worker take it.
                    if !s.ready.is_empty() {
                        self.wake.notify_one();
                    }
                    return name;
                }
                s.later.first_key_value().map(|(&(at, _), _)| at)
            };
            match deadline {
                Some(at) => {
                    tokio::select! {
                        () = self.wake.notified() => {}
                        () = tokio::time::sleep_until(at) => {}
                    }
                }
                None => self.wake.notified().await,
            }
        }
    }

    /// Mark `name` finished; if it was added meanwhile, queue it again.
    pub fn done(&self, name: &str) {
        let Ok(mut s) = self.state.lock() else { return };
        s.active.remove(name);
        if s.dirty.remove(name) && s.queued.insert(name.to_owned()) {
            s.ready.push_back(name.to_owned());
            s.since.insert(name.to_owned(), Instant::now());
            s.report_depth();
            drop(s);
            self.wake.notify_one();
        }
    }

    /// How many names wait (ready or scheduled).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.state
            .lock()
            .map_or(0, |s| s.ready.len() + s.later.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn names_are_deduplicated_and_rerun_once_after_a_busy_add() {
        let q = Queue::default();
        q.add("a");
        q.add("a");
        q.add("b");
        assert_eq!(q.next().await, "a");
        q.add("a"); // while a runs
        assert_eq!(q.next().await, "b");
        q.done("b");
        q.done("a");
        assert_eq!(q.next().await, "a");
        q.done("a");
        assert_eq!(q.len(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_due_name_goes_ahead_of_names_queued_meanwhile() {
        let q = Queue::default();
        q.add_after("after-sync", Duration::from_millis(100));
        q.add("fresh-1");
        q.add("fresh-2");
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert_eq!(q.next().await, "after-sync");
        assert_eq!(q.next().await, "fresh-1");
    }

    #[tokio::test(start_paused = true)]
    async fn delayed_names_come_when_due() {
        let q = Queue::default();
        q.add_after("late", Duration::from_secs(5));
        q.add("now");
        assert_eq!(q.next().await, "now");
        let start = Instant::now();
        assert_eq!(q.next().await, "late");
        assert!(start.elapsed() >= Duration::from_secs(5));
    }
}
