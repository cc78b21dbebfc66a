//! Watching connections: their state for the machine, and statistics for the speaking and
//! quality indicators.

use js_sys::Promise;
use wasm_bindgen_futures::JsFuture;

use super::{
    super::{events::Event, machine::LinkState, quality::Sample},
    stats, Engine, Input,
};

impl Engine {
    /// A peer connection's state changed: the machine decides what a drop means.
    pub(crate) fn on_link_state(&self, user: &str, state: &str) {
        if let Some(state) = LinkState::parse(state) {
            self.handle(Input::Link {
                user: user.to_owned(),
                state,
            });
        }
    }

    /// Samples every connection's statistics about twice a second while there are any, for the
    /// speaking and connection-quality events.
    pub(super) fn start_sampling(&self) {
        if std::mem::replace(&mut self.0.borrow_mut().sampling, true) {
            return;
        }
        let weak = self.weak();
        wasm_bindgen_futures::spawn_local(async move {
            loop {
                sleep_ms(500).await;
                let Some(engine) = Engine::from_weak(&weak) else {
                    return;
                };
                if !engine.sample_all().await {
                    return;
                }
            }
        });
    }

    /// One round of samples; false when there is no connection left to sample.
    async fn sample_all(&self) -> bool {
        let peers: Vec<(String, web_sys::RtcPeerConnection)> = self
            .0
            .borrow()
            .peers
            .iter()
            .map(|(u, p)| (u.clone(), p.pc.clone()))
            .collect();
        if peers.is_empty() {
            let mut inner = self.0.borrow_mut();
            inner.sampling = false;
            inner.meters.clear();
            return false;
        }
        for (user, pc) in peers {
            if let Ok(stats) = stats::stats(&pc).await {
                self.meter(user, &stats);
            }
        }
        true
    }

    fn meter(&self, user: String, s: &stats::Stats) {
        let sample = Sample {
            audio_level: s.audio_level,
            audio_energy: s.total_audio_energy,
            audio_duration: s.total_samples_duration,
            packets_received: s.audio_packets_received + s.video_packets_received,
            packets_lost: s.audio_packets_lost + s.video_packets_lost,
            round_trip_time: s.round_trip_time,
        };
        let changes = {
            let mut inner = self.0.borrow_mut();
            if !inner.peers.contains_key(&user) {
                return;
            }
            inner.meters.entry(user.clone()).or_default().update(sample)
        };
        if let Some(speaking) = changes.speaking {
            self.emit(Event::Speaking {
                user_id: user.clone(),
                speaking,
            });
        }
        if let Some(quality) = changes.quality {
            self.emit(Event::NetworkQuality {
                user_id: user,
                quality,
            });
        }
    }
}

/// Resolves after `ms` milliseconds.
async fn sleep_ms(ms: i32) {
    let promise = Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(promise).await;
}
