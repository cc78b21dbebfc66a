//! Throttling password guesses, with time passed in.
//!
//! Failed sign-ins drain three token buckets: one per address, one per account and address,
//! and one per account. A request is refused, before any hashing, when
//!
//! - its address has failed too often (20 in a burst, then one per 15 s), or
//! - this address has failed too often on this account (5, then one per minute), or
//! - the account has failed too often from everywhere (20, then one per 30 s) *and* this
//!   address has failed on it before.
//!
//! The last condition is what keeps a stranger from locking the real user out: guessing from
//! many addresses drains the account's bucket, but an address that has not failed on the
//! account (the user's own, typically) still gets its attempts; an attacker gets one guess per
//! address before the account's bucket stops that address too. Success forgets the address's
//! failures on the account. Each map holds a bounded number of entries; buckets that have
//! refilled are dropped first.

use std::{
    collections::HashMap,
    hash::Hash,
    time::{Duration, Instant},
};

use crate::peer::ClientIp;

/// Entries per map; at ~100 bytes each, a few MiB at most.
const MAX_ENTRIES: usize = 50_000;

#[derive(Clone, Copy)]
struct Rule {
    burst: u32,
    refill: Duration,
}

const PER_ADDRESS: Rule = Rule {
    burst: 20,
    refill: Duration::from_secs(15),
};
const PER_PAIR: Rule = Rule {
    burst: 5,
    refill: Duration::from_secs(60),
};
const PER_ACCOUNT: Rule = Rule {
    burst: 20,
    refill: Duration::from_secs(30),
};

/// Failures spent, as of `at`: refills one per `rule.refill`.
#[derive(Clone, Copy)]
struct Spent {
    failures: u32,
    at: Instant,
}

impl Spent {
    /// Failures still counted at `now`, and when the next one will have refilled.
    fn at(self, rule: Rule, now: Instant) -> Self {
        let elapsed = now.saturating_duration_since(self.at);
        let refilled = (elapsed.as_nanos() / rule.refill.as_nanos().max(1)) as u32;
        if refilled >= self.failures {
            return Self {
                failures: 0,
                at: now,
            };
        }
        Self {
            failures: self.failures - refilled,
            at: self.at + rule.refill * refilled,
        }
    }

    /// Time until a failure refills, when the bucket is empty.
    fn wait(self, rule: Rule, now: Instant) -> Option<Duration> {
        let spent = self.at(rule, now);
        (spent.failures >= rule.burst)
            .then(|| (spent.at + rule.refill).saturating_duration_since(now))
    }
}

struct Buckets<K> {
    rule: Rule,
    spent: HashMap<K, Spent>,
}

impl<K: Hash + Eq + Clone> Buckets<K> {
    fn new(rule: Rule) -> Self {
        Self {
            rule,
            spent: HashMap::new(),
        }
    }

    fn failures(&self, key: &K, now: Instant) -> u32 {
        self.spent
            .get(key)
            .map_or(0, |s| s.at(self.rule, now).failures)
    }

    fn wait(&self, key: &K, now: Instant) -> Option<Duration> {
        self.spent.get(key).and_then(|s| s.wait(self.rule, now))
    }

    fn fail(&mut self, key: K, now: Instant) {
        if self.spent.len() >= MAX_ENTRIES && !self.spent.contains_key(&key) {
            let rule = self.rule;
            self.spent.retain(|_, s| s.at(rule, now).failures > 0);
            if self.spent.len() >= MAX_ENTRIES {
                // Every entry is live: forget one rather than grow.
                if let Some(victim) = self.spent.keys().next().cloned() {
                    self.spent.remove(&victim);
                }
            }
        }
        let spent = self.spent.get(&key).map_or(
            Spent {
                failures: 0,
                at: now,
            },
            |s| s.at(self.rule, now),
        );
        self.spent.insert(
            key,
            Spent {
                failures: (spent.failures + 1).min(self.rule.burst),
                at: spent.at,
            },
        );
    }

    fn forget(&mut self, key: &K) {
        self.spent.remove(key);
    }
}

/// How long to wait before trying again.
#[derive(Debug, PartialEq, Eq)]
pub struct Throttled {
    pub retry_after: Duration,
}

pub struct SignInThrottle {
    by_ip: Buckets<ClientIp>,
    by_pair: Buckets<(String, ClientIp)>,
    by_account: Buckets<String>,
}

impl Default for SignInThrottle {
    fn default() -> Self {
        Self {
            by_ip: Buckets::new(PER_ADDRESS),
            by_pair: Buckets::new(PER_PAIR),
            by_account: Buckets::new(PER_ACCOUNT),
        }
    }
}

impl SignInThrottle {
    /// May `ip` try a password for `account` now?
    pub fn check(&self, now: Instant, account: &str, ip: ClientIp) -> Result<(), Throttled> {
        let pair = (account.to_owned(), ip);
        let mut waits = vec![self.by_ip.wait(&ip, now), self.by_pair.wait(&pair, now)];
        if self.by_pair.failures(&pair, now) > 0 {
            waits.push(self.by_account.wait(&account.to_owned(), now));
        }
        match waits.into_iter().flatten().max() {
            Some(wait) => Err(Throttled {
                // Whole seconds, rounded up, for Retry-After.
                retry_after: Duration::from_secs(
                    wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
                ),
            }),
            None => Ok(()),
        }
    }

    pub fn failed(&mut self, now: Instant, account: &str, ip: ClientIp) {
        self.by_ip.fail(ip, now);
        self.by_pair.fail((account.to_owned(), ip), now);
        self.by_account.fail(account.to_owned(), now);
    }

    pub fn succeeded(&mut self, account: &str, ip: ClientIp) {
        self.by_pair.forget(&(account.to_owned(), ip));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u32) -> ClientIp {
        ClientIp(std::net::IpAddr::from(std::net::Ipv4Addr::from(
            0xC633_0000 + n,
        )))
    }

    #[test]
    fn an_address_gets_five_guesses_on_an_account_then_one_a_minute() {
        let t0 = Instant::now();
        let mut t = SignInThrottle::default();
        for _ in 0..5 {
            assert!(t.check(t0, "alice", ip(1)).is_ok());
            t.failed(t0, "alice", ip(1));
        }
        let refused = t.check(t0, "alice", ip(1)).unwrap_err();
        assert_eq!(refused.retry_after, Duration::from_secs(60));
        assert!(t
            .check(t0 + Duration::from_secs(59), "alice", ip(1))
            .is_err());
        assert!(t
            .check(t0 + Duration::from_secs(60), "alice", ip(1))
            .is_ok());
        // Other accounts from the same address are not held back by it.
        assert!(t.check(t0, "bob", ip(1)).is_ok());
    }

    #[test]
    fn an_address_guessing_across_accounts_is_stopped() {
        let t0 = Instant::now();
        let mut t = SignInThrottle::default();
        for n in 0..20 {
            let account = format!("user{n}");
            assert!(t.check(t0, &account, ip(1)).is_ok());
            t.failed(t0, &account, ip(1));
        }
        assert!(t.check(t0, "someone-else", ip(1)).is_err());
        assert!(t.check(t0, "someone-else", ip(2)).is_ok());
    }

    #[test]
    fn guessing_from_many_addresses_does_not_lock_out_the_owner() {
        let t0 = Instant::now();
        let mut t = SignInThrottle::default();
        for n in 0..100 {
            if t.check(t0, "alice", ip(100 + n)).is_ok() {
                t.failed(t0, "alice", ip(100 + n));
            }
        }
        // Each stranger's address has failed once; the account's bucket is empty, so none
        // may try again...
        assert!(t.check(t0, "alice", ip(100)).is_err());
        // ...while the owner, from an address that has not failed, still gets in.
        assert!(t.check(t0, "alice", ip(1)).is_ok());
        t.failed(t0, "alice", ip(1));
        // After a typo, the account's bucket applies to the owner too, but only until one
        // failure refills: half a minute.
        let wait = t.check(t0, "alice", ip(1)).unwrap_err().retry_after;
        assert!(wait <= Duration::from_secs(30), "{wait:?}");
        t.succeeded("alice", ip(1));
        assert!(t.check(t0, "alice", ip(1)).is_ok());
    }

    #[test]
    fn maps_stay_bounded() {
        let t0 = Instant::now();
        let mut t = SignInThrottle::default();
        for n in 0..(MAX_ENTRIES as u32 + 500) {
            t.failed(t0, "alice", ip(n));
        }
        assert!(t.by_ip.spent.len() <= MAX_ENTRIES);
        assert!(t.by_pair.spent.len() <= MAX_ENTRIES);
    }
}
