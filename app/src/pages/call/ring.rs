//! The ring tone: two tones played together, a second and a half on, then a pause, made with
//! WebAudio so nothing is downloaded.

use leptos::prelude::{set_interval_with_handle, IntervalHandle};
use std::time::Duration;
use web_sys::{AudioContext, BaseAudioContext};

pub struct Ringer {
    ctx: AudioContext,
    interval: Option<IntervalHandle>,
}

const PERIOD: Duration = Duration::from_secs(4);

fn ring_once(ctx: &AudioContext) {
    let base: &BaseAudioContext = ctx;
    let start = base.current_time() + 0.05;
    let Ok(gain) = base.create_gain() else { return };
    let level = gain.gain();
    let _ = level.set_value_at_time(0.0, start);
    let _ = level.linear_ramp_to_value_at_time(0.12, start + 0.05);
    let _ = level.set_value_at_time(0.12, start + 1.4);
    let _ = level.linear_ramp_to_value_at_time(0.0, start + 1.5);
    let _ = gain.connect_with_audio_node(&base.destination());
    for freq in [440.0, 480.0] {
        let Ok(osc) = base.create_oscillator() else {
            continue;
        };
        osc.frequency().set_value(freq);
        let _ = osc.connect_with_audio_node(&gain);
        let _ = osc.start_with_when(start);
        let _ = osc.stop_with_when(start + 1.55);
    }
}

impl Ringer {
    pub fn start() -> Option<Self> {
        let ctx = AudioContext::new().ok()?;
        let _ = ctx.resume();
        ring_once(&ctx);
        let again = ctx.clone();
        let interval = set_interval_with_handle(move || ring_once(&again), PERIOD).ok();
        Some(Self { ctx, interval })
    }
}

impl Drop for Ringer {
    fn drop(&mut self) {
        if let Some(i) = self.interval.take() {
            i.clear();
        }
        let _ = self.ctx.close();
    }
}
