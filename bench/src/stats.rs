//! Percentiles of latency samples.

use std::time::Duration;

/// Sorted samples in milliseconds.
#[derive(Debug, Clone, Default)]
pub struct Samples(Vec<f64>);

impl Samples {
    pub fn from_durations(durations: impl IntoIterator<Item = Duration>) -> Self {
        let mut v: Vec<f64> = durations
            .into_iter()
            .map(|d| d.as_secs_f64() * 1000.0)
            .collect();
        v.sort_by(f64::total_cmp);
        Self(v)
    }

    pub fn from_millis(mut v: Vec<f64>) -> Self {
        v.sort_by(f64::total_cmp);
        Self(v)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The nearest-rank percentile `p` (0 to 100), or `None` without samples.
    pub fn percentile(&self, p: f64) -> Option<f64> {
        if self.0.is_empty() {
            return None;
        }
        let rank = ((p / 100.0) * self.0.len() as f64).ceil() as usize;
        Some(self.0[rank.clamp(1, self.0.len()) - 1])
    }

    pub fn max(&self) -> Option<f64> {
        self.0.last().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: &[u64]) -> Samples {
        Samples::from_durations(v.iter().map(|&m| Duration::from_millis(m)))
    }

    #[test]
    fn nearest_rank_percentiles() {
        let s = ms(&[5, 1, 4, 2, 3, 10, 9, 8, 7, 6]);
        assert_eq!(s.percentile(50.0), Some(5.0));
        assert_eq!(s.percentile(90.0), Some(9.0));
        assert_eq!(s.percentile(99.0), Some(10.0));
        assert_eq!(s.percentile(0.0), Some(1.0));
        assert_eq!(s.max(), Some(10.0));
    }

    #[test]
    fn one_sample_is_every_percentile() {
        let s = ms(&[7]);
        assert_eq!(s.percentile(1.0), Some(7.0));
        assert_eq!(s.percentile(99.0), Some(7.0));
    }

    #[test]
    fn no_samples_no_percentile() {
        assert_eq!(Samples::default().percentile(50.0), None);
        assert_eq!(Samples::default().max(), None);
    }
}
