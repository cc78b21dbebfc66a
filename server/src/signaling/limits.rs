//! A token bucket per connection, with time passed in.

use std::time::Instant;

pub struct RateLimit {
    per_second: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl RateLimit {
    pub fn new(now: Instant, per_second: f64, burst: f64) -> Self {
        Self {
            per_second,
            burst,
            tokens: burst,
            last: now,
        }
    }

    /// Takes one token if there is one.
    pub fn allow(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn bursts_then_refills() {
        let t0 = Instant::now();
        let mut limit = RateLimit::new(t0, 10.0, 3.0);
        assert!(limit.allow(t0) && limit.allow(t0) && limit.allow(t0));
        assert!(!limit.allow(t0));
        assert!(!limit.allow(t0 + Duration::from_millis(50)));
        assert!(limit.allow(t0 + Duration::from_millis(160)));
        // Idle time refills only up to the burst.
        let later = t0 + Duration::from_secs(60);
        assert!((0..3).all(|_| limit.allow(later)));
        assert!(!limit.allow(later));
    }
}
