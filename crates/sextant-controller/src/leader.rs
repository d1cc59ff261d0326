//! Leader election on a `coordination.k8s.io/v1` Lease, so that of several
//! controllers started for one namespace (replicas, a rolling update, a
//! second copy started by mistake) exactly one reconciles. The API server
//! is the arbiter: every write of the Lease is conditional on the
//! resourceVersion read, so two candidates can never both win.
//!
//! A candidate takes the Lease when nobody holds it or its holder has not
//! renewed it for `leaseDurationSeconds`; the leader renews it every
//! `renew_every`. A leader that cannot renew before its lease runs out, or
//! finds another holder, has lost: it must stop reconciling at once (the
//! CLI exits, and a Deployment starts it again as a candidate). A leader
//! that shuts down cleanly releases the Lease so another takes over at
//! once.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::Api;
use kube::api::{ObjectMeta, PostParams};
use tokio::task::JoinHandle;

/// How the Lease is held.
#[derive(Clone, Debug)]
pub struct LeaseConfig {
    /// The Lease's name (in the controller's namespace).
    pub name: String,
    /// Who we are: unique per process.
    pub identity: String,
    /// How long a lease lasts without renewal (`leaseDurationSeconds`).
    pub duration: Duration,
    /// How often the leader renews, and a candidate tries again.
    pub renew_every: Duration,
}

impl LeaseConfig {
    /// The defaults: Lease `sextant-controller`, 15 s, renewed every 5 s,
    /// identity from the host name, the process id and a random suffix.
    pub fn new() -> Self {
        let host = std::env::var("HOSTNAME")
            .ok()
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "sextant".to_owned());
        let suffix: u32 = rand::random();
        Self {
            name: "sextant-controller".to_owned(),
            identity: format!("{host}-{}-{suffix:08x}", std::process::id()),
            duration: Duration::from_secs(15),
            renew_every: Duration::from_secs(5),
        }
    }
}

impl Default for LeaseConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// What the Lease says of its holder, read.
enum Holder {
    /// Nobody, or a holder whose lease ran out.
    Free,
    /// Us.
    Us,
    /// Someone else, valid for a while yet.
    Other(String),
}

fn holder(lease: &Lease, me: &str, now: Timestamp) -> Holder {
    let Some(spec) = &lease.spec else {
        return Holder::Free;
    };
    let who = spec.holder_identity.clone().unwrap_or_default();
    if who.is_empty() {
        return Holder::Free;
    }
    if who == me {
        return Holder::Us;
    }
    let seconds = i64::from(spec.lease_duration_seconds.unwrap_or(15));
    let renewed = spec
        .renew_time
        .as_ref()
        .or(spec.acquire_time.as_ref())
        .map(|t| t.0);
    match renewed {
        Some(at) if at + SignedDuration::from_secs(seconds) > now => Holder::Other(who),
        _ => Holder::Free,
    }
}

/// Said of the holder when our conditional write lost a race: someone
/// else wrote the Lease since we read it (read it again to know who).
const RACE: &str = "another candidate";

/// One attempt to take or keep the Lease: `Ok(None)` when we hold it now,
/// `Ok(Some(holder))` when someone else does (or [`RACE`]).
async fn try_hold(api: &Api<Lease>, cfg: &LeaseConfig) -> Result<Option<String>, kube::Error> {
    let now = Timestamp::now();
    let seconds = i32::try_from(cfg.duration.as_secs().max(1)).unwrap_or(i32::MAX);
    let Some(mut lease) = api.get_opt(&cfg.name).await? else {
        let lease = Lease {
            metadata: ObjectMeta {
                name: Some(cfg.name.clone()),
                ..ObjectMeta::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: Some(cfg.identity.clone()),
                lease_duration_seconds: Some(seconds),
                acquire_time: Some(MicroTime(now)),
                renew_time: Some(MicroTime(now)),
                lease_transitions: Some(0),
                ..LeaseSpec::default()
            }),
        };
        return match api.create(&PostParams::default(), &lease).await {
            Ok(_) => Ok(None),
            // Another candidate created it first.
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(Some(RACE.into())),
            Err(e) => Err(e),
        };
    };
    let ours = match holder(&lease, &cfg.identity, now) {
        Holder::Other(who) => return Ok(Some(who)),
        Holder::Us => true,
        Holder::Free => false,
    };
    let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
    if !ours {
        spec.holder_identity = Some(cfg.identity.clone());
        spec.acquire_time = Some(MicroTime(now));
        spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
    }
    spec.lease_duration_seconds = Some(seconds);
    spec.renew_time = Some(MicroTime(now));
    // Conditional on the resourceVersion read: of two candidates taking a
    // free lease, one gets a 409.
    match api.replace(&cfg.name, &PostParams::default(), &lease).await {
        Ok(_) => Ok(None),
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(Some(RACE.into())),
        Err(e) => Err(e),
    }
}

/// Wait until we hold the Lease (drop the future to give up waiting).
pub async fn acquire(api: &Api<Lease>, cfg: &LeaseConfig) {
    let mut said: Option<String> = None;
    loop {
        match try_hold(api, cfg).await {
            Ok(None) => {
                tracing::info!(lease = %cfg.name, identity = %cfg.identity, "leading: this controller reconciles");
                return;
            }
            Ok(Some(other)) => {
                if said.as_deref() != Some(other.as_str()) {
                    tracing::info!(lease = %cfg.name, holder = %other, "waiting to lead: another controller holds the lease");
                    said = Some(other);
                }
            }
            Err(e) => {
                tracing::warn!(lease = %cfg.name, error = %e, "could not read or take the lease; trying again")
            }
        }
        tokio::time::sleep(cfg.renew_every).await;
    }
}

/// Renew the Lease while we lead; calls `lost` (and ends) when another
/// holder appears or the lease could not be renewed before running out.
/// Abort the task to stop renewing.
pub fn keep(
    api: Api<Lease>,
    cfg: LeaseConfig,
    lost: impl FnOnce() + Send + 'static,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        // When the last successful renewal was sent: the Lease says we hold
        // it until then + duration. We stop one renewal period before that
        // (a renewal that cannot finish in time counts as failed), so a
        // standby that takes an expired Lease never acts alongside us.
        let mut renewed = tokio::time::Instant::now();
        loop {
            tokio::time::sleep(cfg.renew_every).await;
            let deadline = renewed + cfg.duration.saturating_sub(cfg.renew_every);
            let sent = tokio::time::Instant::now();
            let outcome = match tokio::time::timeout_at(deadline, try_hold(&api, &cfg)).await {
                Ok(outcome) => outcome,
                Err(_) => {
                    tracing::error!(lease = %cfg.name, "could not renew the lease in time; stopping");
                    lost();
                    return;
                }
            };
            match outcome {
                Ok(None) => renewed = sent,
                // A write that lost a race: read again next time.
                Ok(Some(other)) if other == RACE => {}
                Ok(Some(other)) => {
                    tracing::error!(lease = %cfg.name, holder = %other, "lost the lease to another controller; stopping");
                    lost();
                    return;
                }
                Err(e) => {
                    tracing::warn!(lease = %cfg.name, error = %e, "could not renew the lease; trying again")
                }
            }
            if tokio::time::Instant::now() >= deadline {
                tracing::error!(lease = %cfg.name, "could not renew the lease in time; stopping");
                lost();
                return;
            }
        }
    })
}

/// Give the Lease up (on a clean shutdown), so another candidate takes
/// over at once instead of after it runs out.
pub async fn release(api: &Api<Lease>, cfg: &LeaseConfig) {
    let Ok(Some(mut lease)) = api.get_opt(&cfg.name).await else {
        return;
    };
    let Some(spec) = lease.spec.as_mut() else {
        return;
    };
    if spec.holder_identity.as_deref() != Some(cfg.identity.as_str()) {
        return;
    }
    spec.holder_identity = None;
    spec.renew_time = None;
    if let Err(e) = api.replace(&cfg.name, &PostParams::default(), &lease).await {
        tracing::debug!(lease = %cfg.name, error = %e, "could not release the lease; it runs out by itself");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease(holder: Option<&str>, renewed_ago: i64, seconds: i32) -> Lease {
        let now = Timestamp::now();
        Lease {
            metadata: ObjectMeta::default(),
            spec: Some(LeaseSpec {
                holder_identity: holder.map(str::to_owned),
                lease_duration_seconds: Some(seconds),
                renew_time: Some(MicroTime(now - SignedDuration::from_secs(renewed_ago))),
                ..LeaseSpec::default()
            }),
        }
    }

    #[test]
    fn a_lease_is_free_when_unheld_or_run_out_and_ours_when_we_hold_it() {
        let now = Timestamp::now();
        assert!(matches!(
            holder(&lease(None, 0, 15), "me", now),
            Holder::Free
        ));
        assert!(matches!(
            holder(&lease(Some("me"), 100, 15), "me", now),
            Holder::Us
        ));
        assert!(
            matches!(holder(&lease(Some("other"), 3, 15), "me", now), Holder::Other(o) if o == "other")
        );
        assert!(matches!(
            holder(&lease(Some("other"), 20, 15), "me", now),
            Holder::Free
        ));
    }
}
