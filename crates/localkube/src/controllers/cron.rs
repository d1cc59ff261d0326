//! A small cron-schedule matcher for the CronJob controller: five fields
//! (minute hour day-of-month month day-of-week) with `*`, `*/n`, `a-b`,
//! `a-b/n`, lists, month/day names, and the `@hourly`-style macros.

use chrono::{DateTime, Datelike, Timelike, Utc};

/// A parsed schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    fields: [Vec<bool>; 5],
    dom_any: bool,
    dow_any: bool,
}

const RANGES: [(u32, u32); 5] = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 6)];
const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

fn value(text: &str, field: usize) -> Option<u32> {
    let lower = text.to_ascii_lowercase();
    if field == 3
        && let Some(i) = MONTHS.iter().position(|m| *m == lower)
    {
        return Some(i as u32 + 1);
    }
    if field == 4
        && let Some(i) = DAYS.iter().position(|d| *d == lower)
    {
        return Some(i as u32);
    }
    let n: u32 = text.parse().ok()?;
    // Sunday may be written 7.
    Some(if field == 4 && n == 7 { 0 } else { n })
}

fn parse_field(text: &str, field: usize) -> Option<Vec<bool>> {
    let (lo, hi) = RANGES[field];
    let mut set = vec![false; hi as usize + 1];
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, st)) => (r, st.parse::<u32>().ok().filter(|n| *n > 0)?),
            None => (part, 1),
        };
        let (a, b) = if range == "*" || range == "?" {
            (lo, hi)
        } else if let Some((a, b)) = range.split_once('-') {
            (value(a, field)?, value(b, field)?)
        } else {
            let a = value(range, field)?;
            (a, if step > 1 { hi } else { a })
        };
        if a < lo || b > hi || a > b {
            return None;
        }
        let mut v = a;
        while v <= b {
            set[v as usize] = true;
            v += step;
        }
    }
    Some(set)
}

impl Schedule {
    /// Parse a schedule; `None` if it is not valid cron.
    pub fn parse(text: &str) -> Option<Schedule> {
        let text = match text.trim() {
            "@yearly" | "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" | "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            t => t,
        };
        let parts: Vec<&str> = text.split_whitespace().collect();
        if parts.len() != 5 {
            return None;
        }
        let mut fields: [Vec<bool>; 5] = Default::default();
        for (i, p) in parts.iter().enumerate() {
            fields[i] = parse_field(p, i)?;
        }
        Some(Schedule {
            fields,
            dom_any: parts[2] == "*" || parts[2] == "?",
            dow_any: parts[4] == "*" || parts[4] == "?",
        })
    }

    /// Whether the schedule fires at this minute.
    pub fn matches(&self, t: &DateTime<Utc>) -> bool {
        let f = &self.fields;
        let dom = f[2][t.day() as usize];
        let dow = f[4][t.weekday().num_days_from_sunday() as usize];
        // Cron's rule: when both day fields are restricted, either may match.
        let day_ok = match (self.dom_any, self.dow_any) {
            (true, true) => true,
            (false, true) => dom,
            (true, false) => dow,
            (false, false) => dom || dow,
        };
        f[0][t.minute() as usize] && f[1][t.hour() as usize] && f[3][t.month() as usize] && day_ok
    }

    /// The latest firing time in `(after, until]`, scanning minute by minute
    /// (bounded to a day back, which is plenty for a simulation).
    pub fn latest_between(
        &self,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let mut t = until.with_second(0)?.with_nanosecond(0)?;
        let floor = after.max(until - chrono::Duration::days(1));
        while t > floor {
            if self.matches(&t) {
                return Some(t);
            }
            t -= chrono::Duration::minutes(1);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn parses_steps_ranges_lists_and_names() {
        let s = Schedule::parse("*/15 9-17 * jan,feb mon-fri").unwrap();
        let t = Utc.with_ymd_and_hms(2026, 1, 5, 9, 30, 0).unwrap(); // a Monday
        assert!(s.matches(&t));
        assert!(!s.matches(&Utc.with_ymd_and_hms(2026, 1, 5, 9, 31, 0).unwrap()));
        assert!(!s.matches(&Utc.with_ymd_and_hms(2026, 1, 4, 9, 30, 0).unwrap())); // Sunday
        assert!(Schedule::parse("61 * * * *").is_none());
        assert!(Schedule::parse("* * *").is_none());
        assert!(Schedule::parse("@hourly").is_some());
    }

    #[test]
    fn latest_firing_time_is_found() {
        let s = Schedule::parse("*/5 * * * *").unwrap();
        let until = Utc.with_ymd_and_hms(2026, 3, 1, 10, 7, 30).unwrap();
        let after = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
        assert_eq!(
            s.latest_between(after, until),
            Some(Utc.with_ymd_and_hms(2026, 3, 1, 10, 5, 0).unwrap())
        );
        let after = Utc.with_ymd_and_hms(2026, 3, 1, 10, 5, 0).unwrap();
        assert_eq!(s.latest_between(after, until), None);
    }
}
