//! Watching connections: drops and recoveries, and statistics for the speaking and quality
//! indicators.

use js_sys::Promise;
use wasm_bindgen_futures::JsFuture;

use super::{
    super::{
        events::{code as ecode, Event},
        quality::Sample,
    },
    peer, Engine, GIVE_UP_AFTER_MS,
};

impl Engine {
    /// A peer connection's state changed: report drops and recoveries, and have the offering
    /// side restart ICE when the connection failed.
    pub(crate) fn on_link_state(&self, user: &str, state: &str) {
        let Some((was, offerer)) = self.with_peer(user, |p, _| (p.reconnecting, p.offerer)) else {
            return;
        };
        let now = match state {
            "disconnected" | "failed" => true,
            "connected" => false,
            _ => was,
        };
        if now != was {
            self.with_peer(user, |p, _| p.reconnecting = now);
            self.emit(Event::Reconnecting {
                user_id: user.to_owned(),
                reconnecting: now,
            });
            if now {
                self.give_up_later(user);
            }
        }
        if state == "failed" && offerer {
            let (engine, user) = (self.clone(), user.to_owned());
            wasm_bindgen_futures::spawn_local(async move {
                if let Err(f) = peer::restart_ice(&engine, &user).await {
                    engine.emit(Event::Error {
                        code: f.code,
                        message: f.message,
                    });
                }
            });
        }
    }

    /// A one-to-one call whose connection does not come back within [`GIVE_UP_AFTER_MS`] ends,
    /// rather than leaving both sides looking at a frozen picture. In a group call the others
    /// stay; that member's tile keeps saying it is reconnecting.
    fn give_up_later(&self, user: &str) {
        let (weak, user) = (self.weak(), user.to_owned());
        wasm_bindgen_futures::spawn_local(async move {
            sleep_ms(GIVE_UP_AFTER_MS).await;
            let Some(engine) = Engine::from_weak(&weak) else {
                return;
            };
            let still = engine
                .with_peer(&user, |p, _| p.reconnecting)
                .unwrap_or(false);
            let alone = engine.0.borrow().peers.len() == 1;
            if still && alone {
                engine.emit(Event::Error {
                    code: ecode::WEBRTC,
                    message: format!("The connection with {user} was lost."),
                });
                let _ = engine.hangup().await;
            }
        });
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
                let peers: Vec<(String, web_sys::RtcPeerConnection)> = engine
                    .0
                    .borrow()
                    .peers
                    .iter()
                    .map(|(u, p)| (u.clone(), p.pc.clone()))
                    .collect();
                if peers.is_empty() {
                    let mut inner = engine.0.borrow_mut();
                    inner.sampling = false;
                    inner.meters.clear();
                    return;
                }
                for (user, pc) in peers {
                    let Ok(s) = peer::stats(&pc).await else {
                        continue;
                    };
                    let sample = Sample {
                        audio_level: s.audio_level,
                        audio_energy: s.total_audio_energy,
                        audio_duration: s.total_samples_duration,
                        packets_received: s.audio_packets_received + s.video_packets_received,
                        packets_lost: s.audio_packets_lost + s.video_packets_lost,
                        round_trip_time: s.round_trip_time,
                    };
                    let changes = {
                        let mut inner = engine.0.borrow_mut();
                        if !inner.peers.contains_key(&user) {
                            continue;
                        }
                        inner.meters.entry(user.clone()).or_default().update(sample)
                    };
                    if let Some(speaking) = changes.speaking {
                        engine.emit(Event::Speaking {
                            user_id: user.clone(),
                            speaking,
                        });
                    }
                    if let Some(quality) = changes.quality {
                        engine.emit(Event::NetworkQuality {
                            user_id: user,
                            quality,
                        });
                    }
                }
            }
        });
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
