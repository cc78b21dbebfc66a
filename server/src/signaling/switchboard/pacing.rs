//! How often one user may ring another: a small token bucket per (caller, callee) pair, so a
//! declined caller cannot ring again within milliseconds, over and over.
//!
//! Three invitations in a row are free (a dropped call redialled, a mistaken hang-up); after
//! that one more every 20 s. The map is bounded: pairs whose bucket has refilled carry no
//! information and are dropped first when it is full.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

pub const BURST: u32 = 3;
pub const REFILL: Duration = Duration::from_secs(20);
const MAX_PAIRS: usize = 100_000;

#[derive(Clone, Copy)]
struct Spent {
    calls: u32,
    since: Instant,
}

impl Spent {
    /// As of `now`: one call refilled per [`REFILL`].
    fn at(self, now: Instant) -> Self {
        let refilled =
            (now.saturating_duration_since(self.since).as_nanos() / REFILL.as_nanos()) as u32;
        if refilled >= self.calls {
            return Self {
                calls: 0,
                since: now,
            };
        }
        Self {
            calls: self.calls - refilled,
            since: self.since + REFILL * refilled,
        }
    }
}

#[derive(Default)]
pub struct Pacing {
    spent: HashMap<(String, String), Spent>,
}

impl Pacing {
    /// Whether `caller` may ring every one of `callees` now.
    pub fn allows<'a>(
        &self,
        now: Instant,
        caller: &str,
        mut callees: impl Iterator<Item = &'a String>,
    ) -> Result<(), String> {
        match callees.find(|callee| {
            self.spent
                .get(&(caller.to_owned(), (*callee).clone()))
                .is_some_and(|s| s.at(now).calls >= BURST)
        }) {
            Some(callee) => Err(callee.clone()),
            None => Ok(()),
        }
    }

    /// Counts one invitation from `caller` to `callee`.
    pub fn rang(&mut self, now: Instant, caller: &str, callee: &str) {
        let key = (caller.to_owned(), callee.to_owned());
        if self.spent.len() >= MAX_PAIRS && !self.spent.contains_key(&key) {
            self.spent.retain(|_, s| s.at(now).calls > 0);
            if self.spent.len() >= MAX_PAIRS {
                if let Some(victim) = self.spent.keys().next().cloned() {
                    self.spent.remove(&victim);
                }
            }
        }
        let spent = self.spent.get(&key).map_or(
            Spent {
                calls: 0,
                since: now,
            },
            |s| s.at(now),
        );
        self.spent.insert(
            key,
            Spent {
                calls: (spent.calls + 1).min(BURST),
                since: spent.since,
            },
        );
    }
}
