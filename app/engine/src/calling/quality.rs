//! Speaking and connection-quality indicators from WebRTC statistics, as a pure state machine:
//! samples in, changes out. The engine samples each peer connection about twice a second.

/// How well a connection carries media, from packet loss and round-trip time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quality {
    Good,
    Fair,
    Poor,
}

impl Quality {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Good => "good",
            Self::Fair => "fair",
            Self::Poor => "poor",
        }
    }
}

/// Cumulative receive counters and current levels, as `getStats` reports them.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Sample {
    /// The level right now; used only until there is an interval to average over.
    pub audio_level: f64,
    /// Cumulative audio energy and duration (`totalAudioEnergy`, `totalSamplesDuration`): their
    /// growth between samples gives the average level over the interval, which catches speech
    /// that falls between two samples.
    pub audio_energy: f64,
    pub audio_duration: f64,
    pub packets_received: u64,
    pub packets_lost: i64,
    pub round_trip_time: Option<f64>,
}

/// Above this audio level someone starts speaking; below the lower one they stop. The gap
/// keeps the indicator from flickering on a level that hovers around one threshold.
const SPEAKING_ON: f64 = 0.04;
const SPEAKING_OFF: f64 = 0.015;

#[derive(Debug, Default)]
pub struct Meter {
    speaking: bool,
    quality: Option<Quality>,
    last: Option<Sample>,
}

#[derive(Debug, Default, PartialEq)]
pub struct Changes {
    pub speaking: Option<bool>,
    pub quality: Option<Quality>,
}

impl Meter {
    pub fn update(&mut self, sample: Sample) -> Changes {
        let mut changes = Changes::default();
        let level = match self.last {
            Some(last) if sample.audio_duration > last.audio_duration => {
                let energy = (sample.audio_energy - last.audio_energy).max(0.0);
                (energy / (sample.audio_duration - last.audio_duration)).sqrt()
            }
            _ => sample.audio_level,
        };
        let speaking = if self.speaking {
            level > SPEAKING_OFF
        } else {
            level > SPEAKING_ON
        };
        if speaking != self.speaking {
            self.speaking = speaking;
            changes.speaking = Some(speaking);
        }
        if let Some(last) = self.last {
            let received = sample
                .packets_received
                .saturating_sub(last.packets_received);
            let lost = (sample.packets_lost - last.packets_lost).max(0) as u64;
            // Too few packets in the interval to judge (muted, or just started): keep the verdict.
            if received + lost >= 10 {
                let loss = lost as f64 / (received + lost) as f64;
                let rtt = sample.round_trip_time.unwrap_or(0.0);
                let quality = if loss > 0.08 || rtt > 0.6 {
                    Quality::Poor
                } else if loss > 0.02 || rtt > 0.3 {
                    Quality::Fair
                } else {
                    Quality::Good
                };
                if self.quality != Some(quality) {
                    self.quality = Some(quality);
                    changes.quality = Some(quality);
                }
            }
        }
        self.last = Some(sample);
        changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(level: f64, received: u64, lost: i64, rtt: f64) -> Sample {
        Sample {
            audio_level: level,
            packets_received: received,
            packets_lost: lost,
            round_trip_time: Some(rtt),
            ..Sample::default()
        }
    }

    #[test]
    fn speaking_has_hysteresis() {
        let mut m = Meter::default();
        assert_eq!(m.update(sample(0.03, 0, 0, 0.0)).speaking, None);
        assert_eq!(m.update(sample(0.05, 0, 0, 0.0)).speaking, Some(true));
        assert_eq!(m.update(sample(0.02, 0, 0, 0.0)).speaking, None);
        assert_eq!(m.update(sample(0.01, 0, 0, 0.0)).speaking, Some(false));
    }

    #[test]
    fn speech_between_samples_counts() {
        let mut m = Meter::default();
        let at = |energy: f64, duration: f64| Sample {
            audio_energy: energy,
            audio_duration: duration,
            ..Sample::default()
        };
        assert_eq!(m.update(at(0.0, 1.0)).speaking, None);
        // Silent now, but a burst in the last half second: RMS sqrt(0.01 / 0.5) ≈ 0.14.
        assert_eq!(m.update(at(0.01, 1.5)).speaking, Some(true));
        assert_eq!(m.update(at(0.01, 2.0)).speaking, Some(false));
    }

    #[test]
    fn quality_from_loss_and_round_trip() {
        let mut m = Meter::default();
        assert_eq!(
            m.update(sample(0.0, 0, 0, 0.01)).quality,
            None,
            "no interval yet"
        );
        assert_eq!(
            m.update(sample(0.0, 100, 0, 0.01)).quality,
            Some(Quality::Good)
        );
        assert_eq!(
            m.update(sample(0.0, 200, 0, 0.01)).quality,
            None,
            "unchanged"
        );
        assert_eq!(
            m.update(sample(0.0, 295, 5, 0.01)).quality,
            Some(Quality::Fair)
        );
        assert_eq!(
            m.update(sample(0.0, 385, 15, 0.01)).quality,
            Some(Quality::Poor)
        );
        assert_eq!(
            m.update(sample(0.0, 485, 15, 0.9)).quality,
            None,
            "still poor: slow"
        );
        assert_eq!(
            m.update(sample(0.0, 585, 15, 0.05)).quality,
            Some(Quality::Good)
        );
        // A quiet interval says nothing.
        assert_eq!(m.update(sample(0.0, 588, 15, 0.9)).quality, None);
    }
}
