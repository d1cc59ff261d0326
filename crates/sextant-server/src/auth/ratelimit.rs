//! Login rate limiting: failed attempts are counted per account and per
//! client address over a window; past the limit that account (or
//! address) is locked out for a while, and the client is told for how
//! long. A success clears the account's count.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Failures of one account within `window` before it is locked.
    pub per_user: u32,
    /// Failures from one address within `window` before it is locked.
    pub per_address: u32,
    /// The counting window.
    pub window: Duration,
    /// How long a lockout lasts.
    pub lockout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            per_user: 5,
            per_address: 20,
            window: Duration::from_secs(300),
            lockout: Duration::from_secs(300),
        }
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Count {
    failures: u32,
    since: Option<Instant>,
    locked_until: Option<Instant>,
}

impl Count {
    fn locked(&self, now: Instant) -> Option<Duration> {
        self.locked_until
            .filter(|until| *until > now)
            .map(|until| until - now)
    }

    fn fail(&mut self, now: Instant, limit: u32, limits: &Limits) {
        if self
            .since
            .is_none_or(|s| now.duration_since(s) > limits.window)
        {
            self.failures = 0;
            self.since = Some(now);
        }
        self.failures += 1;
        if self.failures >= limit {
            self.locked_until = Some(now + limits.lockout);
            self.failures = 0;
            self.since = None;
        }
    }
}

/// Why a login may not be tried now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Locked {
    /// The account is locked for this long.
    Account(Duration),
    /// The client address is locked for this long.
    Address(Duration),
}

/// Counts of failed logins.
#[derive(Debug, Default)]
pub struct LoginLimiter {
    limits: Limits,
    users: Mutex<HashMap<String, Count>>,
    addresses: Mutex<HashMap<IpAddr, Count>>,
}

impl LoginLimiter {
    /// A limiter with these limits.
    pub fn new(limits: Limits) -> Self {
        LoginLimiter {
            limits,
            ..Default::default()
        }
    }

    /// May `user` from `address` try now?
    pub fn check(&self, user: &str, address: IpAddr, now: Instant) -> Result<(), Locked> {
        if let Some(left) = lock(&self.addresses)
            .get(&address)
            .and_then(|c| c.locked(now))
        {
            return Err(Locked::Address(left));
        }
        if let Some(left) = lock(&self.users).get(user).and_then(|c| c.locked(now)) {
            return Err(Locked::Account(left));
        }
        Ok(())
    }

    /// Record a failed attempt.
    pub fn failed(&self, user: &str, address: IpAddr, now: Instant) {
        let limits = self.limits;
        {
            let mut users = lock(&self.users);
            // Bound the map: unknown names are attacker-chosen.
            if users.len() > 10_000 {
                users.retain(|_, c| c.locked(now).is_some());
            }
            users
                .entry(user.to_owned())
                .or_default()
                .fail(now, limits.per_user, &limits);
        }
        let mut addresses = lock(&self.addresses);
        if addresses.len() > 10_000 {
            addresses.retain(|_, c| c.locked(now).is_some());
        }
        addresses
            .entry(address)
            .or_default()
            .fail(now, limits.per_address, &limits);
    }

    /// Record a success: the account's count starts again.
    pub fn succeeded(&self, user: &str) {
        lock(&self.users).remove(user);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADDR: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    #[test]
    fn an_account_is_locked_after_repeated_failures_and_unlocks_later() {
        let l = LoginLimiter::new(Limits {
            per_user: 3,
            per_address: 100,
            window: Duration::from_secs(60),
            lockout: Duration::from_secs(30),
        });
        let t0 = Instant::now();
        for _ in 0..2 {
            l.failed("alice", ADDR, t0);
        }
        assert_eq!(l.check("alice", ADDR, t0), Ok(()));
        l.failed("alice", ADDR, t0);
        assert!(matches!(
            l.check("alice", ADDR, t0),
            Err(Locked::Account(_))
        ));
        assert_eq!(l.check("bob", ADDR, t0), Ok(()));
        assert_eq!(l.check("alice", ADDR, t0 + Duration::from_secs(31)), Ok(()));
    }

    #[test]
    fn an_address_is_locked_after_failures_across_accounts() {
        let l = LoginLimiter::new(Limits {
            per_user: 100,
            per_address: 3,
            window: Duration::from_secs(60),
            lockout: Duration::from_secs(30),
        });
        let t0 = Instant::now();
        for user in ["a", "b", "c"] {
            l.failed(user, ADDR, t0);
        }
        assert!(matches!(l.check("d", ADDR, t0), Err(Locked::Address(_))));
    }

    #[test]
    fn a_success_clears_the_accounts_count() {
        let l = LoginLimiter::new(Limits {
            per_user: 2,
            ..Limits::default()
        });
        let t0 = Instant::now();
        l.failed("alice", ADDR, t0);
        l.succeeded("alice");
        l.failed("alice", ADDR, t0);
        assert_eq!(l.check("alice", ADDR, t0), Ok(()));
    }
}
