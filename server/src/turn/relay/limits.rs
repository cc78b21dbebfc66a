//! The relay's caps, and the token bucket that holds each user to their share.

use std::time::Duration;

#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_allocations: usize,
    pub user_allocations: usize,
    /// Bytes per second per user, both directions; 0 is no cap.
    pub user_bandwidth: u64,
}

/// Bytes a user may relay: refilled at the rate, up to two seconds' worth.
pub struct Bucket {
    rate: u64,
    tokens: f64,
    at: Duration,
}

impl Bucket {
    pub fn new(now: Duration, rate: u64) -> Self {
        Self {
            rate,
            tokens: 2.0 * rate as f64,
            at: now,
        }
    }

    pub fn take(&mut self, now: Duration, bytes: u64) -> bool {
        if self.rate == 0 {
            return true;
        }
        let elapsed = now.saturating_sub(self.at).as_secs_f64();
        self.at = self.at.max(now);
        let cap = 2.0 * self.rate as f64;
        self.tokens = (self.tokens + elapsed * self.rate as f64).min(cap);
        if self.tokens < bytes as f64 {
            return false;
        }
        self.tokens -= bytes as f64;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_rate_and_refuses_more() {
        let mut b = Bucket::new(Duration::ZERO, 1000);
        assert!(b.take(Duration::ZERO, 2000));
        assert!(!b.take(Duration::ZERO, 1));
        assert!(b.take(Duration::from_millis(500), 500));
        assert!(!b.take(Duration::from_millis(500), 1));
    }

    #[test]
    fn no_rate_is_no_cap() {
        let mut b = Bucket::new(Duration::ZERO, 0);
        assert!(b.take(Duration::ZERO, u64::MAX));
    }
}
