//! Fault injection for reliability tests: latency, 429 throttling, 409/500/503
//! errors, dropped watch connections and expired resourceVersions. Off by
//! default; switched on through the admin endpoint
//! `/localkube/v1/faults`, the `sextant localkube --fault-*` flags, or
//! in-process with [`LocalKube::faults`](crate::LocalKube::faults).
//!
//! The request path calls [`Faults::intercept`] once, after authentication
//! and before routing; watch responses pass through [`Faults::guard_watch`]
//! so a drop can cut them. Health endpoints and the admin endpoint itself are
//! never faulted, so a test can always observe and undo what it switched on.
//! The JSON shape of the rules is documented in `docs/localkube.md`.

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::{Stream, StreamExt};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::broadcast;

use crate::cluster::Cluster;
use crate::error::ApiError;

/// Where the admin endpoint lives: a path no real API server serves, so a
/// client can never confuse it with a Kubernetes resource.
pub const ADMIN_PATH: &str = "/localkube/v1/faults";

/// Verbs a [`Match`] may name (the Kubernetes RBAC verbs of resource requests).
pub const VERBS: &[&str] = &[
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
];

/// The active fault rules. Every part is optional; the default injects
/// nothing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultRules {
    /// Seed for the random choices (`rate`, latency ranges), so a run can be
    /// reproduced; without one the choices differ on every run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Delay matching requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<LatencyFault>,
    /// Answer matching requests with 429 Too Many Requests and `Retry-After`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttle: Option<ThrottleFault>,
    /// Answer matching requests with 500 InternalError, 503
    /// ServiceUnavailable or 409 Conflict (the answer to a write that lost
    /// an optimistic-concurrency race).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<ErrorFault>,
    /// Cut every matching watch this long after it opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drop_watches: Option<DropWatchesFault>,
}

/// Which requests a rule applies to. Empty lists match everything; each
/// non-empty list must contain the request's value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Match {
    /// Resources: `pods` (any group), `deployments.apps` or `apps/deployments`.
    /// Requests that name no resource (discovery, `/version`, OpenAPI) never
    /// match a non-empty list.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    /// Verbs, from [`VERBS`]. Requests that name no resource have verb `get`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub verbs: Vec<String>,
    /// Namespaces; cluster-scoped requests never match a non-empty list.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
}

/// Added latency.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LatencyFault {
    /// Delay in milliseconds (the lower bound when `maxDelayMs` is set).
    pub delay_ms: u64,
    /// With this, the delay is uniform in `delayMs..=maxDelayMs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_delay_ms: Option<u64>,
    /// Fraction (0..1) of matching requests delayed; all when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    /// Delay one matching request in every N, starting with the first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<u64>,
    /// Which requests.
    #[serde(default, rename = "match", skip_serializing_if = "Match::is_empty")]
    pub matches: Match,
}

/// 429 Too Many Requests, as the API server's max-in-flight filter sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ThrottleFault {
    /// The `Retry-After` header and `details.retryAfterSeconds`.
    #[serde(default = "one")]
    pub retry_after_seconds: u64,
    /// Fraction (0..1) of matching requests throttled; all when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    /// Throttle one matching request in every N, starting with the first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<u64>,
    /// Which requests.
    #[serde(default, rename = "match", skip_serializing_if = "Match::is_empty")]
    pub matches: Match,
}

impl Default for ThrottleFault {
    fn default() -> Self {
        ThrottleFault {
            retry_after_seconds: one(),
            rate: None,
            every: None,
            matches: Match::default(),
        }
    }
}

/// Server errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ErrorFault {
    /// 500 (InternalError), 503 (ServiceUnavailable) or 409 (Conflict).
    #[serde(default = "internal_error")]
    pub code: u16,
    /// Fraction (0..1) of matching requests failed; all when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    /// Fail one matching request in every N, starting with the first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<u64>,
    /// Which requests.
    #[serde(default, rename = "match", skip_serializing_if = "Match::is_empty")]
    pub matches: Match,
}

impl Default for ErrorFault {
    fn default() -> Self {
        ErrorFault {
            code: internal_error(),
            rate: None,
            every: None,
            matches: Match::default(),
        }
    }
}

/// Periodically dropped watches.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DropWatchesFault {
    /// Cut each matching watch this many milliseconds after it opened.
    pub after_ms: u64,
    /// Which watches (the verb is always `watch`).
    #[serde(default, rename = "match", skip_serializing_if = "Match::is_empty")]
    pub matches: Match,
}

fn one() -> u64 {
    1
}

fn internal_error() -> u16 {
    500
}

/// Invalid fault rules or flag values.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FaultError {
    /// A rate outside 0..1.
    #[error("{rule}.rate must be between 0 and 1, got {value}")]
    Rate {
        /// The rule.
        rule: &'static str,
        /// What was given.
        value: f64,
    },
    /// Both `rate` and `every`.
    #[error("{rule}: set rate or every, not both")]
    RateAndEvery {
        /// The rule.
        rule: &'static str,
    },
    /// `every: 0`.
    #[error("{rule}.every must be at least 1")]
    EveryZero {
        /// The rule.
        rule: &'static str,
    },
    /// An error code other than 409, 500 or 503.
    #[error("errors.code must be 409, 500 or 503, got {0}")]
    Code(u16),
    /// `maxDelayMs` below `delayMs`.
    #[error("latency.maxDelayMs ({max}) is less than latency.delayMs ({min})")]
    LatencyRange {
        /// `delayMs`.
        min: u64,
        /// `maxDelayMs`.
        max: u64,
    },
    /// `dropWatches.afterMs: 0`.
    #[error("dropWatches.afterMs must be at least 1")]
    DropAfterZero,
    /// A verb not in [`VERBS`].
    #[error("{rule}.match.verbs: unknown verb {verb:?} (expected one of {})", VERBS.join(", "))]
    Verb {
        /// The rule.
        rule: &'static str,
        /// What was given.
        verb: String,
    },
    /// An empty or malformed resource.
    #[error(
        "{rule}.match.resources: invalid resource {resource:?} (expected plural, plural.group or group/plural)"
    )]
    Resource {
        /// The rule.
        rule: &'static str,
        /// What was given.
        resource: String,
    },
    /// A duration the flag grammar does not accept.
    #[error("invalid duration {0:?} (expected a number with a unit: 250ms, 1.5s, 2m, 1h)")]
    Duration(String),
    /// A latency range the flag grammar does not accept.
    #[error("invalid latency {0:?} (expected DURATION or MIN..MAX, e.g. 50ms or 50ms..200ms)")]
    LatencyFlag(String),
}

fn check_trigger(
    rule: &'static str,
    rate: Option<f64>,
    every: Option<u64>,
) -> Result<(), FaultError> {
    if rate.is_some() && every.is_some() {
        return Err(FaultError::RateAndEvery { rule });
    }
    if let Some(value) = rate
        && !(0.0..=1.0).contains(&value)
    {
        return Err(FaultError::Rate { rule, value });
    }
    if every == Some(0) {
        return Err(FaultError::EveryZero { rule });
    }
    Ok(())
}

impl Match {
    /// Whether the match is unrestricted.
    pub fn is_empty(&self) -> bool {
        self.resources.is_empty() && self.verbs.is_empty() && self.namespaces.is_empty()
    }

    fn validate(&self, rule: &'static str) -> Result<(), FaultError> {
        if let Some(verb) = self.verbs.iter().find(|v| !VERBS.contains(&v.as_str())) {
            return Err(FaultError::Verb {
                rule,
                verb: verb.clone(),
            });
        }
        let bad = |r: &str| {
            let parts: Vec<&str> = if r.contains('/') {
                r.splitn(2, '/').collect()
            } else {
                r.splitn(2, '.').collect()
            };
            parts.iter().any(|p| p.is_empty() || p.contains('/'))
        };
        if let Some(resource) = self.resources.iter().find(|r| bad(r)) {
            return Err(FaultError::Resource {
                rule,
                resource: resource.clone(),
            });
        }
        Ok(())
    }

    fn matches(&self, req: &RequestInfo) -> bool {
        if !self.resources.is_empty() {
            let Some(plural) = &req.plural else {
                return false;
            };
            if !self
                .resources
                .iter()
                .any(|r| resource_matches(r, &req.group, plural))
            {
                return false;
            }
        }
        if !self.verbs.is_empty() && !self.verbs.contains(&req.verb) {
            return false;
        }
        if !self.namespaces.is_empty()
            && (req.namespace.is_empty() || !self.namespaces.contains(&req.namespace))
        {
            return false;
        }
        true
    }
}

fn resource_matches(pattern: &str, group: &str, plural: &str) -> bool {
    if let Some((g, p)) = pattern.split_once('/') {
        return g == group && p == plural;
    }
    if let Some((p, g)) = pattern.split_once('.') {
        return p == plural && g == group;
    }
    pattern == plural
}

impl FaultRules {
    /// Whether no fault is switched on (a seed alone injects nothing).
    pub fn is_empty(&self) -> bool {
        self.latency.is_none()
            && self.throttle.is_none()
            && self.errors.is_none()
            && self.drop_watches.is_none()
    }

    /// Check rates, codes, ranges and matches.
    pub fn validate(&self) -> Result<(), FaultError> {
        if let Some(l) = &self.latency {
            check_trigger("latency", l.rate, l.every)?;
            if let Some(max) = l.max_delay_ms
                && max < l.delay_ms
            {
                return Err(FaultError::LatencyRange {
                    min: l.delay_ms,
                    max,
                });
            }
            l.matches.validate("latency")?;
        }
        if let Some(t) = &self.throttle {
            check_trigger("throttle", t.rate, t.every)?;
            t.matches.validate("throttle")?;
        }
        if let Some(e) = &self.errors {
            check_trigger("errors", e.rate, e.every)?;
            if !matches!(e.code, 409 | 500 | 503) {
                return Err(FaultError::Code(e.code));
            }
            e.matches.validate("errors")?;
        }
        if let Some(d) = &self.drop_watches {
            if d.after_ms == 0 {
                return Err(FaultError::DropAfterZero);
            }
            d.matches.validate("dropWatches")?;
        }
        Ok(())
    }
}

/// What a request is about, derived from its path alone (as the API
/// server's RequestInfo is), so faults fire before any routing or lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RequestInfo {
    verb: String,
    group: String,
    plural: Option<String>,
    namespace: String,
    /// The object's name, for requests on one object.
    name: String,
}

impl RequestInfo {
    fn parse(method: &Method, path: &str, query: Option<&str>) -> Self {
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let non_resource = RequestInfo {
            verb: method.as_str().to_ascii_lowercase(),
            group: String::new(),
            plural: None,
            namespace: String::new(),
            name: String::new(),
        };
        let (group, rest) = match segs.as_slice() {
            ["api", _version, rest @ ..] if !rest.is_empty() => ("", rest),
            ["apis", group, _version, rest @ ..] if !rest.is_empty() => (*group, rest),
            _ => return non_resource,
        };
        // `namespaces/NS/PLURAL/...` is namespaced; `namespaces/NS/status`
        // and `/finalize` are subresources of the Namespace object itself.
        let (mut namespace, rest) = match rest {
            ["namespaces", ns, tail @ ..]
                if !tail.is_empty() && !matches!(tail[0], "status" | "finalize") =>
            {
                (*ns, tail)
            }
            _ => ("", rest),
        };
        let plural = rest[0];
        let named = rest.len() > 1;
        if group.is_empty() && plural == "namespaces" && named {
            // As the API server does: a Namespace is in its own namespace.
            namespace = rest[1];
        }
        let watch = query
            .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
            .is_some_and(|q| {
                q.iter()
                    .any(|(k, v)| k == "watch" && matches!(v.as_str(), "true" | "1"))
            });
        let verb = match *method {
            Method::GET if watch => "watch",
            Method::GET if named => "get",
            Method::GET => "list",
            Method::POST => "create",
            Method::PUT => "update",
            Method::PATCH => "patch",
            Method::DELETE if named => "delete",
            Method::DELETE => "deletecollection",
            _ => return non_resource,
        };
        RequestInfo {
            verb: verb.to_string(),
            group: group.to_string(),
            plural: Some(plural.to_string()),
            namespace: namespace.to_string(),
            name: rest.get(1).copied().unwrap_or_default().to_string(),
        }
    }
}

/// Counters of what was injected since the server started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultStats {
    /// Requests delayed.
    pub delayed: u64,
    /// Requests answered with 429.
    pub throttled: u64,
    /// Requests answered with 409, 500 or 503.
    pub errors: u64,
    /// Watches open now.
    pub watches_open: u64,
    /// Watches started.
    pub watches_started: u64,
    /// Watches cut by a drop.
    pub watches_dropped: u64,
    /// Expirations (compactions) requested.
    pub expirations: u64,
}

#[derive(Debug, Default)]
struct Counters {
    delayed: AtomicU64,
    throttled: AtomicU64,
    errors: AtomicU64,
    watches_open: AtomicUsize,
    watches_started: AtomicU64,
    watches_dropped: AtomicU64,
    expirations: AtomicU64,
}

/// Whether a rule fires for a request it matches; `matched` counts those
/// requests for `every`.
fn fires(matched: &mut u64, rng: &mut StdRng, rate: Option<f64>, every: Option<u64>) -> bool {
    *matched += 1;
    match (every, rate) {
        (Some(n), _) => (*matched - 1).is_multiple_of(n.max(1)),
        (None, Some(r)) => rng.random::<f64>() < r,
        (None, None) => true,
    }
}

/// The rules plus what deciding needs: the random source and, per rule,
/// how many requests matched (for `every`).
#[derive(Debug)]
struct State {
    rules: FaultRules,
    rng: StdRng,
    matched: [u64; 3],
}

impl State {
    fn new(rules: FaultRules) -> Self {
        let rng = match rules.seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_os_rng(),
        };
        State {
            rules,
            rng,
            matched: [0; 3],
        }
    }

    /// The delay and the error response for one request.
    fn decide(&mut self, req: &RequestInfo) -> (Option<Duration>, Option<ApiError>) {
        let State {
            rules,
            rng,
            matched,
        } = self;
        let mut delay = None;
        if let Some(l) = &rules.latency
            && l.matches.matches(req)
            && fires(&mut matched[0], rng, l.rate, l.every)
        {
            let ms = match l.max_delay_ms {
                Some(max) if max > l.delay_ms => rng.random_range(l.delay_ms..=max),
                _ => l.delay_ms,
            };
            delay = Some(Duration::from_millis(ms));
        }
        if let Some(t) = &rules.throttle
            && t.matches.matches(req)
            && fires(&mut matched[1], rng, t.rate, t.every)
        {
            return (
                delay,
                Some(ApiError::too_many_requests(t.retry_after_seconds)),
            );
        }
        if let Some(e) = &rules.errors
            && e.matches.matches(req)
            && fires(&mut matched[2], rng, e.rate, e.every)
        {
            let err = match e.code {
                503 => ApiError::unavailable(
                    "the server is currently unable to handle the request (injected by localkube)",
                ),
                409 => ApiError::conflict(
                    &req.group,
                    req.plural.as_deref().unwrap_or_default(),
                    &req.name,
                    "the object has been modified; please apply your changes to the latest version and try again (injected by localkube)",
                ),
                _ => ApiError::internal("Internal error occurred: injected by localkube"),
            };
            return (delay, Some(err));
        }
        (delay, None)
    }

    fn drop_after(&self, req: &RequestInfo) -> Option<Duration> {
        self.rules
            .drop_watches
            .as_ref()
            .filter(|d| d.matches.matches(req))
            .map(|d| Duration::from_millis(d.after_ms))
    }
}

/// The fault injector of one server.
#[derive(Debug)]
pub struct Faults {
    cluster: Arc<Cluster>,
    /// Mirrors `!rules.is_empty()` so requests skip the lock when off.
    active: AtomicBool,
    state: Mutex<State>,
    /// Drop requests; every open watch listens and ends if it matches.
    drops: broadcast::Sender<Arc<Match>>,
    counters: Arc<Counters>,
}

/// The error a dropped watch's body ends with: the server aborts the
/// connection mid-stream, as a broken network would, instead of ending the
/// response cleanly as a `timeoutSeconds` expiry does.
#[derive(Debug, thiserror::Error)]
#[error("watch dropped by localkube fault injection")]
pub struct WatchDropped;

/// Decrements the open-watch count when a watch response goes away.
struct OpenWatch(Arc<Counters>);

impl Drop for OpenWatch {
    fn drop(&mut self) {
        self.0.watches_open.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Faults {
    /// No faults, for `cluster` (which `expire` compacts).
    pub(crate) fn new(cluster: Arc<Cluster>) -> Self {
        let (drops, _) = broadcast::channel(16);
        Faults {
            cluster,
            active: AtomicBool::new(false),
            state: Mutex::new(State::new(FaultRules::default())),
            drops,
            counters: Arc::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The active rules.
    pub fn rules(&self) -> FaultRules {
        self.lock().rules.clone()
    }

    /// Replace the rules (and restart `every` counts and the random source
    /// from the new seed). Watches already open keep their `dropWatches`
    /// deadline; new rules apply to watches opened afterwards.
    pub fn set(&self, rules: FaultRules) -> Result<(), FaultError> {
        rules.validate()?;
        let active = !rules.is_empty();
        *self.lock() = State::new(rules);
        self.active.store(active, Ordering::Relaxed);
        Ok(())
    }

    /// Switch every fault off.
    pub fn clear(&self) {
        *self.lock() = State::new(FaultRules::default());
        self.active.store(false, Ordering::Relaxed);
    }

    /// Cut every open watch now; returns how many were open.
    pub fn drop_watches(&self) -> usize {
        self.drop_watches_matching(Match::default())
    }

    /// Cut the open watches that `m` matches (its verbs are ignored: every
    /// watch has verb `watch`); returns how many watches were open.
    pub fn drop_watches_matching(&self, m: Match) -> usize {
        // No receivers just means no watch is open.
        self.drops.send(Arc::new(m)).unwrap_or(0)
    }

    /// Expire every resourceVersion handed out so far, as an etcd
    /// compaction would: watches from any of them get 410 Gone and must
    /// re-list. The version counter moves on first so that even the newest
    /// version a client holds is expired. With `drop_watches`, open watches
    /// are cut too, so their clients re-watch from an expired version at
    /// once instead of at their next timeout. Returns the compacted
    /// resourceVersion (watching from it or later works).
    pub fn expire(&self, drop_watches: bool) -> u64 {
        let rv = {
            let mut store = self.cluster.store.write();
            store.next_rv();
            store.compact();
            store.compacted_rv()
        };
        self.counters.expirations.fetch_add(1, Ordering::Relaxed);
        if drop_watches {
            self.drop_watches();
        }
        rv
    }

    /// What was injected so far.
    pub fn stats(&self) -> FaultStats {
        let c = &self.counters;
        FaultStats {
            delayed: c.delayed.load(Ordering::Relaxed),
            throttled: c.throttled.load(Ordering::Relaxed),
            errors: c.errors.load(Ordering::Relaxed),
            watches_open: c.watches_open.load(Ordering::Relaxed) as u64,
            watches_started: c.watches_started.load(Ordering::Relaxed),
            watches_dropped: c.watches_dropped.load(Ordering::Relaxed),
            expirations: c.expirations.load(Ordering::Relaxed),
        }
    }

    /// The request hook: answers the admin endpoint, and for every other
    /// request may sleep and may return the injected error response.
    /// `None` lets the request through.
    pub(crate) async fn intercept(
        &self,
        method: &Method,
        path: &str,
        query: Option<&str>,
        body: &[u8],
    ) -> Option<Response> {
        if path.starts_with("/localkube/") || path == "/localkube" {
            return Some(self.admin(method, path, body));
        }
        if !self.active.load(Ordering::Relaxed) || matches!(path, "/healthz" | "/readyz" | "/livez")
        {
            return None;
        }
        let req = RequestInfo::parse(method, path, query);
        let (delay, error) = self.lock().decide(&req);
        if let Some(delay) = delay {
            self.counters.delayed.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(delay).await;
        }
        let error = error?;
        let counter = if error.code == 429 {
            &self.counters.throttled
        } else {
            &self.counters.errors
        };
        counter.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(%method, path, code = error.code, "injected fault");
        Some(error.into_response())
    }

    /// Wrap a watch response body so a drop (now, or `dropWatches.afterMs`
    /// after it opened) aborts it.
    pub(crate) fn guard_watch<S>(
        &self,
        group: &str,
        plural: &str,
        namespace: &str,
        stream: S,
    ) -> impl Stream<Item = Result<Bytes, WatchDropped>> + Send + 'static
    where
        S: Stream<Item = Result<Bytes, Infallible>> + Send + 'static,
    {
        let req = RequestInfo {
            verb: "watch".into(),
            group: group.into(),
            plural: Some(plural.into()),
            namespace: namespace.into(),
            name: String::new(),
        };
        let after = if self.active.load(Ordering::Relaxed) {
            self.lock().drop_after(&req)
        } else {
            None
        };
        // Subscribe before the response goes out, so a drop requested once
        // the watch is visible in the stats cannot be missed.
        let mut drops = self.drops.subscribe();
        self.counters.watches_open.fetch_add(1, Ordering::Relaxed);
        self.counters
            .watches_started
            .fetch_add(1, Ordering::Relaxed);
        let open = OpenWatch(self.counters.clone());
        let dropped = Box::pin(async move {
            let deadline = async {
                match after {
                    Some(d) => tokio::time::sleep(d).await,
                    None => std::future::pending().await,
                }
            };
            tokio::pin!(deadline);
            loop {
                tokio::select! {
                    () = &mut deadline => return,
                    m = drops.recv() => match m {
                        Ok(m) if !drop_matches(&m, &req) => {}
                        // No more drop requests can come; only the deadline is left.
                        Err(broadcast::error::RecvError::Closed) => return (&mut deadline).await,
                        // A match, or drop requests were missed: drop.
                        _ => return,
                    },
                }
            }
        });
        futures::stream::unfold(
            Some((Box::pin(stream), dropped, open)),
            |state| async move {
                let (mut stream, mut dropped, open) = state?;
                tokio::select! {
                    biased;
                    () = &mut dropped => {
                        open.0.watches_dropped.fetch_add(1, Ordering::Relaxed);
                        Some((Err(WatchDropped), None))
                    }
                    item = stream.next() => {
                        item.map(|Ok(bytes)| (Ok(bytes), Some((stream, dropped, open))))
                    }
                }
            },
        )
    }

    fn admin(&self, method: &Method, path: &str, body: &[u8]) -> Response {
        let Some(action) = path.strip_prefix(ADMIN_PATH) else {
            return ApiError::path_not_found().into_response();
        };
        match (method, action.trim_end_matches('/')) {
            (&Method::GET, "") => json_response(&self.rules()),
            (&Method::PUT | &Method::POST, "") => {
                let rules = match serde_json::from_slice::<FaultRules>(body) {
                    Ok(r) => r,
                    Err(e) => return bad_request(format!("invalid fault rules: {e}")),
                };
                match self.set(rules) {
                    Ok(()) => json_response(&self.rules()),
                    Err(e) => bad_request(e.to_string()),
                }
            }
            (&Method::DELETE, "") => {
                self.clear();
                json_response(&self.rules())
            }
            (&Method::GET, "/stats") => json_response(&self.stats()),
            (&Method::POST, "/drop-watches") => {
                let m = if body.iter().all(u8::is_ascii_whitespace) {
                    Match::default()
                } else {
                    match serde_json::from_slice::<Match>(body) {
                        Ok(m) => m,
                        Err(e) => return bad_request(format!("invalid match: {e}")),
                    }
                };
                if let Err(e) = m.validate("drop-watches") {
                    return bad_request(e.to_string());
                }
                json_response(&json!({"openWatches": self.drop_watches_matching(m)}))
            }
            (&Method::POST, "/expire") => {
                #[derive(Deserialize)]
                #[serde(rename_all = "camelCase", deny_unknown_fields)]
                struct Expire {
                    #[serde(default = "yes")]
                    drop_watches: bool,
                }
                fn yes() -> bool {
                    true
                }
                let opts = if body.iter().all(u8::is_ascii_whitespace) {
                    Expire { drop_watches: true }
                } else {
                    match serde_json::from_slice::<Expire>(body) {
                        Ok(o) => o,
                        Err(e) => return bad_request(format!("invalid expire request: {e}")),
                    }
                };
                let rv = self.expire(opts.drop_watches);
                json_response(&json!({"compactedResourceVersion": rv.to_string()}))
            }
            (_, "" | "/stats" | "/drop-watches" | "/expire") => {
                ApiError::method_not_allowed().into_response()
            }
            _ => ApiError::path_not_found().into_response(),
        }
    }
}

/// A drop request's match against a watch; verbs are ignored because the
/// request is about watches by definition.
fn drop_matches(m: &Match, req: &RequestInfo) -> bool {
    Match {
        verbs: Vec::new(),
        ..m.clone()
    }
    .matches(req)
}

fn json_response<T: Serialize>(value: &T) -> Response {
    let body = serde_json::to_string(value).unwrap_or_else(|_| Value::Null.to_string());
    let mut resp = (StatusCode::OK, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

fn bad_request(message: String) -> Response {
    ApiError::bad_request(message).into_response()
}

/// Parse a duration as the `--fault-*` flags take it: a number and a unit
/// (`ms`, `s`, `m`, `h`), e.g. `250ms`, `1.5s`, `2m`.
pub fn parse_duration(text: &str) -> Result<Duration, FaultError> {
    let bad = || FaultError::Duration(text.to_string());
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(bad)?;
    let (number, unit) = t.split_at(split);
    let number: f64 = number.parse().map_err(|_| bad())?;
    let scale = match unit {
        "ms" => 0.001,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => return Err(bad()),
    };
    Duration::try_from_secs_f64(number * scale).map_err(|_| bad())
}

/// Parse `--fault-latency`: `DURATION` or `MIN..MAX`.
pub fn parse_latency(text: &str) -> Result<(Duration, Option<Duration>), FaultError> {
    match text.split_once("..") {
        None => Ok((parse_duration(text)?, None)),
        Some((min, max)) => {
            let (min, max) = (parse_duration(min)?, parse_duration(max)?);
            if max < min {
                return Err(FaultError::LatencyFlag(text.to_string()));
            }
            Ok((min, Some(max)))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

    use super::*;

    fn info(method: Method, path: &str, query: Option<&str>) -> RequestInfo {
        RequestInfo::parse(&method, path, query)
    }

    #[test]
    fn request_info_reads_verb_group_resource_and_namespace_from_the_path() {
        let r = info(
            Method::GET,
            "/apis/apps/v1/namespaces/web/deployments",
            Some("watch=true&resourceVersion=5"),
        );
        assert_eq!(
            (
                r.verb.as_str(),
                r.group.as_str(),
                r.plural.as_deref(),
                r.namespace.as_str()
            ),
            ("watch", "apps", Some("deployments"), "web")
        );
        let r = info(Method::DELETE, "/api/v1/namespaces/web/pods", None);
        assert_eq!(r.verb, "deletecollection");
        let r = info(Method::PUT, "/api/v1/namespaces/web/finalize", None);
        assert_eq!(
            (r.verb.as_str(), r.plural.as_deref()),
            ("update", Some("namespaces"))
        );
        assert_eq!(r.namespace, "web");
        let r = info(Method::GET, "/api/v1/nodes/n1", None);
        assert_eq!(
            (r.verb.as_str(), r.namespace.as_str(), r.name.as_str()),
            ("get", "", "n1")
        );
        let r = info(Method::GET, "/apis/apps/v1", None);
        assert_eq!((r.verb.as_str(), r.plural), ("get", None));
    }

    #[test]
    fn resources_match_by_plural_or_pinned_to_a_group() {
        assert!(resource_matches("deployments", "apps", "deployments"));
        assert!(resource_matches("deployments.apps", "apps", "deployments"));
        assert!(resource_matches("apps/deployments", "apps", "deployments"));
        assert!(!resource_matches(
            "deployments.extensions",
            "apps",
            "deployments"
        ));
        assert!(resource_matches(
            "widgets.example.com",
            "example.com",
            "widgets"
        ));
        assert!(!resource_matches("pods", "", "configmaps"));
    }

    #[test]
    fn a_match_needs_every_non_empty_list_to_contain_the_request() {
        let m = Match {
            resources: vec!["configmaps".into()],
            verbs: vec!["list".into()],
            namespaces: vec!["a".into()],
        };
        assert!(m.matches(&info(Method::GET, "/api/v1/namespaces/a/configmaps", None)));
        assert!(!m.matches(&info(Method::GET, "/api/v1/namespaces/b/configmaps", None)));
        assert!(!m.matches(&info(
            Method::GET,
            "/api/v1/namespaces/a/configmaps/x",
            None
        )));
        assert!(!m.matches(&info(Method::GET, "/api/v1/namespaces/a/secrets", None)));
        assert!(!m.matches(&info(Method::GET, "/api", None)));
        assert!(Match::default().matches(&info(Method::GET, "/version", None)));
    }

    #[test]
    fn every_n_fires_on_the_first_request_and_each_nth_after() {
        let mut s = State::new(FaultRules {
            errors: Some(ErrorFault {
                every: Some(3),
                ..Default::default()
            }),
            ..Default::default()
        });
        let req = info(Method::GET, "/api/v1/pods", None);
        let fired: Vec<bool> = (0..7).map(|_| s.decide(&req).1.is_some()).collect();
        assert_eq!(fired, [true, false, false, true, false, false, true]);
    }

    #[test]
    fn the_same_seed_gives_the_same_faults() {
        let rules = FaultRules {
            seed: Some(42),
            latency: Some(LatencyFault {
                delay_ms: 1,
                max_delay_ms: Some(1000),
                ..Default::default()
            }),
            throttle: Some(ThrottleFault {
                rate: Some(0.5),
                ..Default::default()
            }),
            ..Default::default()
        };
        let req = info(Method::GET, "/api/v1/pods", None);
        let run = || {
            let mut s = State::new(rules.clone());
            (0..50)
                .map(|_| {
                    let (d, e) = s.decide(&req);
                    (d, e.map(|e| e.code))
                })
                .collect::<Vec<_>>()
        };
        let first = run();
        assert_eq!(first, run());
        let throttled = first.iter().filter(|(_, e)| e.is_some()).count();
        assert!(throttled > 0 && throttled < 50, "{throttled}");
    }

    #[test]
    fn invalid_rules_are_refused_with_the_field_named() {
        let bad = |rules: Value| {
            serde_json::from_value::<FaultRules>(rules)
                .unwrap()
                .validate()
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            bad(json!({"throttle": {"rate": 1.5}})),
            "throttle.rate must be between 0 and 1, got 1.5"
        );
        assert!(bad(json!({"errors": {"code": 404}})).contains("409, 500 or 503"));
        assert!(bad(json!({"errors": {"rate": 0.5, "every": 2}})).contains("not both"));
        assert!(bad(json!({"latency": {"delayMs": 5, "maxDelayMs": 1}})).contains("maxDelayMs"));
        assert!(
            bad(json!({"latency": {"delayMs": 5, "match": {"verbs": ["read"]}}}))
                .contains("\"read\"")
        );
        assert!(bad(json!({"errors": {"match": {"resources": ["apps/"]}}})).contains("\"apps/\""));
        assert!(bad(json!({"dropWatches": {"afterMs": 0}})).contains("afterMs"));
        assert!(serde_json::from_value::<FaultRules>(json!({"latncy": {}})).is_err());
    }

    #[test]
    fn durations_and_latency_ranges_parse_like_the_flags_document() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("5").is_err());
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("-1s").is_err());
        assert_eq!(
            parse_latency("50ms..200ms"),
            Ok((Duration::from_millis(50), Some(Duration::from_millis(200))))
        );
        assert_eq!(parse_latency("1s"), Ok((Duration::from_secs(1), None)));
        assert!(parse_latency("2s..1s").is_err());
    }
}
