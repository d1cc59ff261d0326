//! Sync windows: cron-scheduled spans of time in which a project's apps
//! may (`allow`) or may not (`deny`) sync. Argo CD's rules: no matching
//! window, any sync; matching allow windows, syncs only while one is
//! active; an active matching deny window blocks, and wins over allow.
//! `manualSync` lets people sync where automation may not.

use chrono::{DateTime, TimeZone, Utc};
use croner::Cron;
use croner::parser::{CronParser, Seconds};
use jiff::Zoned;
use jiff::tz::TimeZone as Zone;
use sextant_model::glob;
use sextant_model::project::SyncWindow;

use super::Destination;

/// One window at one instant.
#[derive(Debug, Clone)]
pub struct SyncWindowState<'a> {
    /// Its place in `spec.syncWindows` (the id `proj windows` commands take).
    pub index: usize,
    /// The window.
    pub window: &'a SyncWindow,
    /// Whether it is open now.
    pub active: bool,
    /// When it closes (active) or next opens (inactive); None when its
    /// schedule never fires again.
    pub changes_at: Option<DateTime<Utc>>,
}

/// What the windows matching one app say at one instant.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowVerdict {
    /// An automated sync may start.
    pub automated: bool,
    /// A sync someone asked for may start.
    pub manual: bool,
    /// Why a sync is blocked, naming the windows and when that changes.
    pub reason: Option<String>,
    /// The next instant one of the app's windows opens or closes.
    pub changes_at: Option<DateTime<Utc>>,
}

impl WindowVerdict {
    /// No window holds anything back.
    pub fn open() -> Self {
        Self {
            automated: true,
            manual: true,
            reason: None,
            changes_at: None,
        }
    }

    /// The verdict for a manual (`manual`) or automated sync.
    pub fn allows(&self, manual: bool) -> bool {
        if manual { self.manual } else { self.automated }
    }
}

fn parse_cron(w: &SyncWindow, index: usize) -> Result<Cron, String> {
    CronParser::builder()
        .seconds(Seconds::Disallowed)
        .build()
        .parse(w.schedule.trim())
        .map_err(|e| format!("syncWindows[{index}]: schedule {:?} is not a cron expression (minute hour day-of-month month day-of-week): {e}", w.schedule))
}

fn zone(w: &SyncWindow, index: usize) -> Result<Zone, String> {
    match w.time_zone.as_deref().map(str::trim) {
        None | Some("") | Some("UTC") => Ok(Zone::UTC),
        Some(name) => Zone::get(name).map_err(|e| {
            format!("syncWindows[{index}]: time zone {name:?} is unknown (use an IANA name such as Europe/Paris): {e}")
        }),
    }
}

fn to_chrono(z: &Zoned) -> Option<DateTime<Utc>> {
    let t = z.timestamp();
    Utc.timestamp_opt(t.as_second(), 0).single()
}

/// Whether the window is open at `now`, and when that changes.
fn state_at(
    w: &SyncWindow,
    index: usize,
    now: DateTime<Utc>,
) -> Result<(bool, Option<DateTime<Utc>>), String> {
    if !matches!(w.kind.as_str(), "allow" | "deny") {
        return Err(format!(
            "syncWindows[{index}]: kind {:?} must be allow or deny",
            w.kind
        ));
    }
    let cron = parse_cron(w, index)?;
    let length = sextant_model::duration::parse(w.duration.trim())
        .map_err(|e| format!("syncWindows[{index}]: duration {:?}: {e}", w.duration))?;
    let length = jiff::SignedDuration::try_from(length)
        .map_err(|e| format!("syncWindows[{index}]: duration {:?}: {e}", w.duration))?;
    let tz = zone(w, index)?;
    let ts = jiff::Timestamp::from_second(now.timestamp())
        .map_err(|e| format!("the time {now} is out of range: {e}"))?;
    let here = ts.to_zoned(tz);
    // The latest start at or before now covers now if any start does.
    let start = cron.find_previous_occurrence(&here, true).ok();
    let end = |s: &Zoned| s.checked_add(length).ok();
    if let Some(start) = start
        && let Some(mut close) = end(&start)
        && close > here
    {
        // Starts that come before it closes keep it open longer.
        let mut cursor = start;
        for _ in 0..1000 {
            match cron.find_next_occurrence(&cursor, false) {
                Ok(next) if next <= close => {
                    if let Some(c) = end(&next) {
                        close = close.max(c);
                    }
                    cursor = next;
                }
                _ => break,
            }
        }
        return Ok((true, to_chrono(&close)));
    }
    let next = cron.find_next_occurrence(&here, false).ok();
    Ok((false, next.as_ref().and_then(to_chrono)))
}

/// Every window of a project at `now` (for `sextant proj windows list`).
pub fn window_states(
    windows: &[SyncWindow],
    now: DateTime<Utc>,
) -> Result<Vec<SyncWindowState<'_>>, String> {
    windows
        .iter()
        .enumerate()
        .map(|(index, window)| {
            let (active, changes_at) = state_at(window, index, now)?;
            Ok(SyncWindowState {
                index,
                window,
                active,
                changes_at,
            })
        })
        .collect()
}

/// Whether the window names the app: by name, by destination namespace,
/// or by cluster (server or name); any one of the given selectors, or all
/// of them with `andOperator`. A window that names nothing matches nothing.
fn names_app(w: &SyncWindow, app: &str, dest: &Destination<'_>) -> bool {
    let any = |list: &Option<Vec<String>>, f: &dyn Fn(&str) -> bool| {
        list.as_ref()
            .filter(|l| !l.is_empty())
            .map(|l| l.iter().any(|p| f(p)))
    };
    let tests = [
        any(&w.applications, &|p| glob::matches(app, p)),
        any(&w.namespaces, &|p| glob::matches(dest.namespace, p)),
        any(&w.clusters, &|p| {
            glob::matches(dest.server, p) || glob::matches(dest.name, p)
        }),
    ];
    let given: Vec<bool> = tests.into_iter().flatten().collect();
    if given.is_empty() {
        return false;
    }
    if w.and_operator == Some(true) {
        given.iter().all(|b| *b)
    } else {
        given.iter().any(|b| *b)
    }
}

fn describe(s: &SyncWindowState<'_>) -> String {
    let w = s.window;
    let tz = w
        .time_zone
        .as_deref()
        .filter(|t| !t.is_empty())
        .unwrap_or("UTC");
    format!(
        "{} window {} ({:?} for {}, {tz})",
        w.kind, s.index, w.schedule, w.duration
    )
}

fn when(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| "never".into())
}

/// What the project's windows say about syncing the app `app` (deploying
/// to `dest`) at `now`. A window that cannot be read is an error: the
/// project is refused rather than guessed at.
pub fn window_verdict(
    windows: &[SyncWindow],
    app: &str,
    dest: &Destination<'_>,
    now: DateTime<Utc>,
) -> Result<WindowVerdict, String> {
    let states = window_states(windows, now)?;
    let mine: Vec<&SyncWindowState<'_>> = states
        .iter()
        .filter(|s| names_app(s.window, app, dest))
        .collect();
    let changes_at = mine.iter().filter_map(|s| s.changes_at).min();
    let manual_ok =
        |ws: &[&&SyncWindowState<'_>]| ws.iter().all(|s| s.window.manual_sync == Some(true));
    let deny: Vec<&&SyncWindowState<'_>> = mine
        .iter()
        .filter(|s| s.active && s.window.kind == "deny")
        .collect();
    let allow: Vec<&&SyncWindowState<'_>> =
        mine.iter().filter(|s| s.window.kind == "allow").collect();
    if !deny.is_empty() {
        let manual = manual_ok(&deny);
        let until = deny.iter().filter_map(|s| s.changes_at).max();
        let names: Vec<String> = deny.iter().map(|s| describe(s)).collect();
        return Ok(WindowVerdict {
            automated: false,
            manual,
            reason: Some(format!(
                "sync blocked by {} until {}{}",
                names.join(" and "),
                when(until),
                if manual {
                    "; manual syncs are allowed"
                } else {
                    ""
                }
            )),
            changes_at,
        });
    }
    if !allow.is_empty() && !allow.iter().any(|s| s.active) {
        let manual = manual_ok(&allow);
        let opens = allow.iter().filter_map(|s| s.changes_at).min();
        let names: Vec<String> = allow.iter().map(|s| describe(s)).collect();
        return Ok(WindowVerdict {
            automated: false,
            manual,
            reason: Some(format!(
                "sync blocked outside {}; the next opens at {}{}",
                names.join(" and "),
                when(opens),
                if manual {
                    "; manual syncs are allowed"
                } else {
                    ""
                }
            )),
            changes_at,
        });
    }
    Ok(WindowVerdict {
        automated: true,
        manual: true,
        reason: None,
        changes_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(kind: &str, schedule: &str, duration: &str) -> SyncWindow {
        SyncWindow {
            kind: kind.into(),
            schedule: schedule.into(),
            duration: duration.into(),
            applications: Some(vec!["*".into()]),
            ..Default::default()
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        match DateTime::parse_from_rfc3339(s) {
            Ok(t) => t.with_timezone(&Utc),
            Err(e) => panic!("{s}: {e}"),
        }
    }

    const DEST: Destination<'static> = Destination {
        server: "https://kubernetes.default.svc",
        name: "in-cluster",
        namespace: "shop",
    };

    fn verdict(ws: &[SyncWindow], now: &str) -> WindowVerdict {
        match window_verdict(ws, "web", &DEST, at(now)) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn no_window_allows_everything() {
        let v = verdict(&[], "2026-12-07T10:00:00Z");
        assert!(v.automated && v.manual && v.reason.is_none() && v.changes_at.is_none());
    }

    #[test]
    fn a_deny_window_blocks_while_open_and_says_until_when() {
        let ws = [window("deny", "0 22 * * *", "1h")];
        let inside = verdict(&ws, "2026-12-07T22:30:00Z");
        assert!(!inside.automated && !inside.manual);
        let reason = inside.reason.unwrap_or_default();
        assert!(
            reason.contains("deny window 0") && reason.contains("2026-12-07T23:00:00Z"),
            "{reason}"
        );
        assert_eq!(inside.changes_at, Some(at("2026-12-07T23:00:00Z")));
        let after = verdict(&ws, "2026-12-07T23:00:00Z");
        assert!(after.automated && after.manual);
        assert_eq!(after.changes_at, Some(at("2026-12-08T22:00:00Z")));
        // The start minute itself is inside.
        assert!(!verdict(&ws, "2026-12-07T22:00:00Z").automated);
    }

    #[test]
    fn manual_sync_passes_a_window_that_allows_it() {
        let mut w = window("deny", "* * * * *", "1h");
        w.manual_sync = Some(true);
        let v = verdict(&[w], "2026-12-07T10:00:00Z");
        assert!(!v.automated && v.manual && v.allows(true) && !v.allows(false));
        assert!(
            v.reason
                .is_some_and(|r| r.contains("manual syncs are allowed"))
        );
    }

    #[test]
    fn allow_windows_allow_only_while_open_and_deny_wins() {
        let allow = window("allow", "0 2 * * *", "2h");
        let closed = verdict(std::slice::from_ref(&allow), "2026-12-07T10:00:00Z");
        assert!(!closed.automated && !closed.manual);
        assert!(
            closed
                .reason
                .is_some_and(|r| r.contains("2026-12-08T02:00:00Z"))
        );
        assert!(verdict(std::slice::from_ref(&allow), "2026-12-07T03:59:00Z").automated);
        let both = [allow, window("deny", "0 3 * * *", "30m")];
        assert!(!verdict(&both, "2026-12-07T03:10:00Z").automated);
        assert!(verdict(&both, "2026-12-07T03:40:00Z").automated);
    }

    #[test]
    fn windows_follow_their_time_zone() {
        let mut w = window("deny", "0 9 * * 1-5", "8h");
        w.time_zone = Some("Europe/Paris".into());
        // Monday 7 December 2026, 08:30 UTC is 09:30 in Paris (UTC+1).
        assert!(!verdict(std::slice::from_ref(&w), "2026-12-07T08:30:00Z").automated);
        assert!(verdict(std::slice::from_ref(&w), "2026-12-07T07:30:00Z").automated);
        // Saturday: the weekday field leaves it out.
        assert!(verdict(std::slice::from_ref(&w), "2026-12-12T08:30:00Z").automated);
    }

    #[test]
    fn windows_select_apps_by_name_namespace_or_cluster() {
        let base = SyncWindow {
            kind: "deny".into(),
            schedule: "* * * * *".into(),
            duration: "1h".into(),
            ..Default::default()
        };
        let blocked = |w: SyncWindow| !verdict(&[w], "2026-12-07T10:00:00Z").automated;
        assert!(
            !blocked(base.clone()),
            "a window naming nothing matches nothing"
        );
        assert!(blocked(SyncWindow {
            applications: Some(vec!["w*".into()]),
            ..base.clone()
        }));
        assert!(!blocked(SyncWindow {
            applications: Some(vec!["api".into()]),
            ..base.clone()
        }));
        assert!(blocked(SyncWindow {
            namespaces: Some(vec!["shop".into()]),
            ..base.clone()
        }));
        assert!(blocked(SyncWindow {
            clusters: Some(vec!["in-cluster".into()]),
            ..base.clone()
        }));
        let either = SyncWindow {
            applications: Some(vec!["api".into()]),
            namespaces: Some(vec!["shop".into()]),
            ..base.clone()
        };
        assert!(blocked(either.clone()));
        assert!(!blocked(SyncWindow {
            and_operator: Some(true),
            ..either
        }));
    }

    #[test]
    fn overlapping_starts_keep_a_window_open() {
        // Every 30 minutes for an hour: always open, closing only after
        // the last chained start.
        let ws = [window("deny", "*/30 * * * *", "1h")];
        let v = verdict(&ws, "2026-12-07T10:10:00Z");
        assert!(!v.automated);
        assert!(v.changes_at.is_some_and(|t| t > at("2026-12-07T12:00:00Z")));
    }

    #[test]
    fn unreadable_windows_are_errors_that_name_the_window() {
        let dest = DEST;
        for (w, needle) in [
            (window("deny", "every day", "1h"), "schedule"),
            (window("maybe", "* * * * *", "1h"), "kind"),
            (window("deny", "* * * * *", "an hour"), "duration"),
            (
                SyncWindow {
                    time_zone: Some("Mars/Olympus".into()),
                    ..window("deny", "* * * * *", "1h")
                },
                "time zone",
            ),
        ] {
            let e = window_verdict(&[w], "web", &dest, at("2026-12-07T10:00:00Z"))
                .err()
                .unwrap_or_default();
            assert!(e.contains("syncWindows[0]") && e.contains(needle), "{e}");
        }
    }
}
