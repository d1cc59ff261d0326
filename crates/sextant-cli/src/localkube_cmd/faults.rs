//! The `--fault-*` flags of `sextant localkube`: switch fault injection on
//! from the command line (it is off by default). They build the same rules
//! the `/localkube/v1/faults` endpoint takes; one filter applies to all of
//! them, and the endpoint can change or clear them while the server runs.

use std::time::Duration;

use clap::{ArgGroup, Args};
use localkube::faults::{
    DropWatchesFault, ErrorFault, FaultError, FaultRules, LatencyFault, Match, ThrottleFault,
    parse_duration, parse_latency,
};

/// Fault injection options.
#[derive(Debug, Args)]
#[command(next_help_heading = "Fault injection (off by default; see docs/localkube.md)")]
#[command(group(ArgGroup::new("fault_rule").multiple(true)))]
pub struct FaultArgs {
    /// Delay matching requests by DURATION, or by a uniform random time
    /// between MIN and MAX (e.g. 50ms, 1s, 50ms..200ms).
    #[arg(long, value_name = "DURATION|MIN..MAX", value_parser = latency, group = "fault_rule")]
    fault_latency: Option<(Duration, Option<Duration>)>,
    /// Answer this fraction (0..1) of matching requests with 429 Too Many
    /// Requests and a Retry-After header.
    #[arg(long = "fault-429-rate", value_name = "RATE", value_parser = rate, group = "fault_429", group = "fault_rule")]
    fault_throttle_rate: Option<f64>,
    /// Answer one matching request in every N (starting with the first) with 429.
    #[arg(long = "fault-429-every", value_name = "N", value_parser = clap::value_parser!(u64).range(1..), group = "fault_429", group = "fault_rule")]
    fault_throttle_every: Option<u64>,
    /// The Retry-After seconds of injected 429s [default: 1].
    #[arg(long, value_name = "SECONDS", requires = "fault_429")]
    fault_retry_after: Option<u64>,
    /// Answer this fraction (0..1) of matching requests with a server error.
    #[arg(long, value_name = "RATE", value_parser = rate, group = "fault_error", group = "fault_rule")]
    fault_error_rate: Option<f64>,
    /// Answer one matching request in every N (starting with the first) with
    /// a server error.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..), group = "fault_error", group = "fault_rule")]
    fault_error_every: Option<u64>,
    /// The injected error: 500 (InternalError), 503 (ServiceUnavailable)
    /// or 409 (Conflict, a lost optimistic-concurrency race) [default: 500].
    #[arg(long, value_name = "CODE", value_parser = ["500", "503", "409"], requires = "fault_error")]
    fault_error_code: Option<String>,
    /// Cut each matching watch this long after it opens (e.g. 30s).
    #[arg(long, value_name = "DURATION", value_parser = duration, group = "fault_rule")]
    fault_drop_watches_every: Option<Duration>,
    /// Limit the faults to these resources: plural, plural.group or
    /// group/plural (e.g. pods,deployments.apps).
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        requires = "fault_rule"
    )]
    fault_resources: Vec<String>,
    /// Limit the faults to these verbs (get, list, watch, create, update,
    /// patch, delete, deletecollection).
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        requires = "fault_rule"
    )]
    fault_verbs: Vec<String>,
    /// Limit the faults to these namespaces.
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        requires = "fault_rule"
    )]
    fault_namespaces: Vec<String>,
    /// Seed the random choices, to reproduce a run.
    #[arg(long, value_name = "N", requires = "fault_rule")]
    fault_seed: Option<u64>,
}

fn latency(text: &str) -> Result<(Duration, Option<Duration>), FaultError> {
    parse_latency(text)
}

fn duration(text: &str) -> Result<Duration, FaultError> {
    parse_duration(text)
}

fn rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
        _ => Err(format!("expected a fraction between 0 and 1, got {text:?}")),
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl FaultArgs {
    /// The rules these flags ask for (empty when none was given).
    pub fn rules(&self) -> FaultRules {
        let matches = Match {
            resources: self.fault_resources.clone(),
            verbs: self.fault_verbs.clone(),
            namespaces: self.fault_namespaces.clone(),
        };
        let throttled = self.fault_throttle_rate.is_some() || self.fault_throttle_every.is_some();
        let errors = self.fault_error_rate.is_some() || self.fault_error_every.is_some();
        FaultRules {
            seed: self.fault_seed,
            latency: self.fault_latency.map(|(min, max)| LatencyFault {
                delay_ms: millis(min),
                max_delay_ms: max.map(millis),
                matches: matches.clone(),
                ..Default::default()
            }),
            throttle: throttled.then(|| ThrottleFault {
                retry_after_seconds: self.fault_retry_after.unwrap_or(1),
                rate: self.fault_throttle_rate,
                every: self.fault_throttle_every,
                matches: matches.clone(),
            }),
            errors: errors.then(|| ErrorFault {
                code: match self.fault_error_code.as_deref() {
                    Some("503") => 503,
                    Some("409") => 409,
                    _ => 500,
                },
                rate: self.fault_error_rate,
                every: self.fault_error_every,
                matches: matches.clone(),
            }),
            drop_watches: self.fault_drop_watches_every.map(|every| DropWatchesFault {
                after_ms: millis(every).max(1),
                matches,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        faults: FaultArgs,
    }

    fn parse(args: &[&str]) -> Result<FaultRules, clap::Error> {
        let mut argv = vec!["sextant"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).map(|c| c.faults.rules())
    }

    #[test]
    fn no_fault_flags_mean_no_faults() {
        assert_eq!(parse(&[]).unwrap(), FaultRules::default());
    }

    #[test]
    fn fault_flags_build_the_rules_with_one_shared_filter() {
        let rules = parse(&[
            "--fault-latency",
            "50ms..200ms",
            "--fault-429-every",
            "3",
            "--fault-retry-after",
            "2",
            "--fault-error-rate",
            "0.05",
            "--fault-error-code",
            "503",
            "--fault-drop-watches-every",
            "30s",
            "--fault-resources",
            "pods,deployments.apps",
            "--fault-seed",
            "9",
        ])
        .unwrap();
        rules.validate().unwrap();
        let m = Match {
            resources: vec!["pods".into(), "deployments.apps".into()],
            ..Default::default()
        };
        assert_eq!(rules.seed, Some(9));
        let latency = rules.latency.unwrap();
        assert_eq!((latency.delay_ms, latency.max_delay_ms), (50, Some(200)));
        assert_eq!(latency.matches, m);
        let throttle = rules.throttle.unwrap();
        assert_eq!((throttle.every, throttle.retry_after_seconds), (Some(3), 2));
        let errors = rules.errors.unwrap();
        assert_eq!((errors.code, errors.rate), (503, Some(0.05)));
        assert_eq!(rules.drop_watches.unwrap().after_ms, 30_000);
    }

    #[test]
    fn fault_flags_that_would_do_nothing_or_contradict_are_refused() {
        for args in [
            &["--fault-error-rate", "1.5"][..],
            &["--fault-error-code", "503"],
            &["--fault-error-code", "404", "--fault-error-rate", "1"],
            &["--fault-retry-after", "3"],
            &["--fault-resources", "pods"],
            &["--fault-429-rate", "0.5", "--fault-429-every", "2"],
            &["--fault-429-every", "0"],
            &["--fault-latency", "fast"],
            &["--fault-drop-watches-every", "10"],
        ] {
            assert!(parse(args).is_err(), "{args:?} was accepted");
        }
    }
}
