//! CronJob (batch/v1), as Argo CD (3.2 and later) judges it: whether the
//! last scheduled run finished without succeeding (its Jobs are owned
//! objects and are not looked at: only the CronJob's own status). A
//! suspended CronJob is Healthy, saying so, and so is one that was
//! scheduled but has never succeeded yet (it may be its first run).

use chrono::{DateTime, FixedOffset};
use serde_json::Value;

use super::Health;
use super::object::{array_at, bool_at, str_at};

pub(super) fn assess(obj: &Value) -> Health {
    if obj.get("status").is_none() {
        return Health::progressing("Waiting for the CronJob's first status");
    }
    if bool_at(obj, "/spec/suspend") == Some(true) {
        return Health::healthy("CronJob is suspended");
    }
    let active = array_at(obj, "/status/active").len();
    if active > 0 {
        // Running on schedule is a CronJob's normal state, not a rollout.
        let noun = if active == 1 { "job" } else { "jobs" };
        return Health::healthy(format!("{active} {noun} running"));
    }
    let scheduled = time_at(obj, "/status/lastScheduleTime");
    let succeeded = time_at(obj, "/status/lastSuccessfulTime");
    match (scheduled, succeeded) {
        (None, _) => Health::healthy("CronJob has not run yet"),
        (Some(_), None) => Health::healthy("CronJob has not succeeded yet; it may not be healthy"),
        (Some(scheduled), Some(succeeded)) if succeeded < scheduled => {
            Health::degraded("The last scheduled run finished without succeeding")
        }
        (Some(_), Some(_)) => Health::healthy("The last scheduled run succeeded"),
    }
}

fn time_at(obj: &Value, pointer: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(str_at(obj, pointer)?).ok()
}
