//! One `RTCPeerConnection` to one member of the call.
//!
//! Each connection carries one audio and one video transceiver from the start, both
//! send-and-receive, so muting, the camera and switching between audio and video only replace
//! tracks and never need a new offer.

use js_sys::{Array, Reflect};
use wasm_bindgen::{prelude::*, JsCast};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    HtmlAudioElement, MediaStream, MediaStreamTrack, RtcConfiguration, RtcIceCandidateInit,
    RtcPeerConnection, RtcPeerConnectionIceEvent, RtcRtpTransceiver, RtcRtpTransceiverDirection,
    RtcRtpTransceiverInit, RtcSdpType, RtcSessionDescriptionInit, RtcTrackEvent,
};

use super::Engine;
use crate::protocol::{Refusal, SignalData};

pub struct Peer {
    pub pc: RtcPeerConnection,
    /// What the member sends us; views and the audio element play it.
    pub remote: MediaStream,
    audio: HtmlAudioElement,
    /// Candidates that arrived before the remote description; added once it is set.
    queued: Vec<RtcIceCandidateInit>,
    remote_set: bool,
    _handlers: Vec<Closure<dyn FnMut(JsValue)>>,
}

pub(super) fn webrtc(what: &str, e: JsValue) -> Refusal {
    let detail = e
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .unwrap_or_else(|| format!("{e:?}"));
    Refusal::WebRtc(format!("{what}: {detail}").into())
}

impl Peer {
    pub fn new(engine: &Engine, user: &str) -> Result<Self, Refusal> {
        let pc = RtcPeerConnection::new_with_configuration(&configuration(engine))
            .map_err(|e| webrtc("RTCPeerConnection", e))?;
        let remote = MediaStream::new().map_err(|e| webrtc("MediaStream", e))?;
        let handlers = vec![
            on_candidate(engine, user, &pc),
            on_track(engine, user, &pc, &remote),
            on_state(engine, user, &pc),
        ];
        let audio = audio_player(user, &remote)?;
        Ok(Self {
            pc,
            remote,
            audio,
            queued: Vec::new(),
            remote_set: false,
            _handlers: handlers,
        })
    }

    /// Sends `track` (or nothing) on this connection's transceiver of `kind`.
    pub fn send_track(&self, kind: &str, track: Option<&MediaStreamTrack>) {
        for t in transceivers(&self.pc) {
            if t.receiver().track().kind() == kind {
                let _ = t.sender().replace_track(track);
            }
        }
    }

    /// Plays this member's audio on the given output device.
    pub fn set_sink(&self, device_id: &str) {
        if let Ok(f) = Reflect::get(&self.audio, &"setSinkId".into()) {
            if let Some(f) = f.dyn_ref::<js_sys::Function>() {
                let _ = f.call1(&self.audio, &device_id.into());
            }
        }
    }

    pub fn close(self) {
        self.pc.set_onicecandidate(None);
        self.pc.set_ontrack(None);
        self.pc.set_onconnectionstatechange(None);
        self.pc.close();
        self.audio.set_src_object(None);
        self.audio.remove();
    }
}

/// Trickles our ICE candidates to `user`.
fn on_candidate(
    engine: &Engine,
    user: &str,
    pc: &RtcPeerConnection,
) -> Closure<dyn FnMut(JsValue)> {
    let (weak, to) = (engine.weak(), user.to_owned());
    let handler = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
        let Some(c) = e.unchecked_ref::<RtcPeerConnectionIceEvent>().candidate() else {
            return;
        };
        if let Some(engine) = Engine::from_weak(&weak) {
            let data = SignalData::Candidate {
                candidate: c.candidate(),
                sdp_mid: c.sdp_mid(),
                sdp_m_line_index: c.sdp_m_line_index(),
            };
            engine.send_signal(&to, data);
        }
    });
    pc.set_onicecandidate(Some(handler.as_ref().unchecked_ref()));
    handler
}

/// Collects what `user` sends into `remote`, which the views and the audio element play.
fn on_track(
    engine: &Engine,
    user: &str,
    pc: &RtcPeerConnection,
    remote: &MediaStream,
) -> Closure<dyn FnMut(JsValue)> {
    let (weak, from) = (engine.weak(), user.to_owned());
    // `Clone::clone`, not the JS `MediaStream.clone()` that `remote.clone()` would call.
    let stream = Clone::clone(remote);
    let handler = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
        let e: &RtcTrackEvent = e.unchecked_ref();
        stream.add_track(&e.track());
        if let Some(engine) = Engine::from_weak(&weak) {
            engine.refresh_remote_views(&from);
        }
    });
    pc.set_ontrack(Some(handler.as_ref().unchecked_ref()));
    handler
}

/// Reports the connection's state to the machine.
fn on_state(engine: &Engine, user: &str, pc: &RtcPeerConnection) -> Closure<dyn FnMut(JsValue)> {
    let (weak, of) = (engine.weak(), user.to_owned());
    let handler = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
        let state = e
            .dyn_ref::<web_sys::Event>()
            .and_then(|e| e.target())
            .and_then(|t| Reflect::get(&t, &"connectionState".into()).ok())
            .and_then(|s| s.as_string())
            .unwrap_or_default();
        if let Some(engine) = Engine::from_weak(&weak) {
            engine.on_link_state(&of, &state);
        }
    });
    pc.set_onconnectionstatechange(Some(handler.as_ref().unchecked_ref()));
    handler
}

/// Plays `user`'s audio without any view, as audio-only pages expect.
fn audio_player(user: &str, remote: &MediaStream) -> Result<HtmlAudioElement, Refusal> {
    let document = web_sys::window().and_then(|w| w.document());
    let audio: HtmlAudioElement = document
        .as_ref()
        .and_then(|d| d.create_element("audio").ok())
        .ok_or_else(|| Refusal::WebRtc("cannot create an audio element".into()))?
        .unchecked_into();
    audio.set_autoplay(true);
    let _ = audio.set_attribute("data-calling-peer", user);
    audio.set_src_object(Some(remote));
    if let Some(body) = document.and_then(|d| d.body()) {
        let _ = body.append_child(&audio);
    }
    Ok(audio)
}

fn transceivers(pc: &RtcPeerConnection) -> Vec<RtcRtpTransceiver> {
    pc.get_transceivers()
        .iter()
        .filter_map(|t| t.dyn_into().ok())
        .collect()
}

fn description(kind: RtcSdpType, sdp: &str) -> RtcSessionDescriptionInit {
    let d = RtcSessionDescriptionInit::new(kind);
    d.set_sdp(sdp);
    d
}

fn sdp_of(desc: &JsValue) -> String {
    Reflect::get(desc, &"sdp".into())
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_default()
}

/// Makes and sends the offer to `user` (this side offers: see the machine's rule).
pub async fn make_offer(engine: &Engine, user: &str) -> Result<(), Refusal> {
    let Some(pc) = engine.with_peer(user, |peer, media| {
        let init = RtcRtpTransceiverInit::new();
        init.set_direction(RtcRtpTransceiverDirection::Sendrecv);
        for kind in ["audio", "video"] {
            match media.track(kind) {
                Some(track) => peer
                    .pc
                    .add_transceiver_with_media_stream_track_and_init(track, &init),
                None => peer.pc.add_transceiver_with_str_and_init(kind, &init),
            };
        }
        peer.pc.clone()
    }) else {
        return Ok(());
    };
    send_offer(engine, user, &pc).await
}

/// The newest `iceServers` the server gave, as an `RTCConfiguration`.
fn configuration(engine: &Engine) -> RtcConfiguration {
    let config = RtcConfiguration::new();
    let servers = serde_json::to_string(&engine.ice_servers()).unwrap_or_else(|_| "[]".into());
    config.set_ice_servers(&js_sys::JSON::parse(&servers).unwrap_or_else(|_| Array::new().into()));
    config
}

/// Offers again with fresh ICE credentials and the newest relay credentials, after the
/// connection failed.
pub async fn restart_ice(engine: &Engine, user: &str) -> Result<(), Refusal> {
    let Some(pc) = engine.with_peer(user, |peer, _| peer.pc.clone()) else {
        return Ok(());
    };
    // The relay credentials of the first negotiation may have expired since.
    pc.set_configuration_with_configuration(&configuration(engine))
        .map_err(|e| webrtc("setConfiguration", e))?;
    if let Ok(restart) = Reflect::get(&pc, &"restartIce".into()) {
        if let Some(f) = restart.dyn_ref::<js_sys::Function>() {
            let _ = f.call0(&pc);
        }
    }
    send_offer(engine, user, &pc).await
}

async fn send_offer(engine: &Engine, user: &str, pc: &RtcPeerConnection) -> Result<(), Refusal> {
    let offer = JsFuture::from(pc.create_offer())
        .await
        .map_err(|e| webrtc("createOffer", e))?;
    let sdp = sdp_of(&offer);
    JsFuture::from(pc.set_local_description(&description(RtcSdpType::Offer, &sdp)))
        .await
        .map_err(|e| webrtc("setLocalDescription", e))?;
    engine.send_signal(user, SignalData::Offer { sdp });
    Ok(())
}

/// Negotiation from `user`: an offer to answer, an answer to apply, or a candidate.
pub async fn on_signal(engine: &Engine, user: &str, data: SignalData) -> Result<(), Refusal> {
    let Some(pc) = engine.with_peer(user, |peer, _| peer.pc.clone()) else {
        return Ok(());
    };
    match data {
        SignalData::Offer { sdp } => answer(engine, user, &pc, &sdp).await,
        SignalData::Answer { sdp } => {
            JsFuture::from(pc.set_remote_description(&description(RtcSdpType::Answer, &sdp)))
                .await
                .map_err(|e| webrtc("setRemoteDescription", e))?;
            flush_candidates(engine, user).await;
            Ok(())
        }
        SignalData::Candidate {
            candidate,
            sdp_mid,
            sdp_m_line_index,
        } => {
            let init = RtcIceCandidateInit::new(&candidate);
            init.set_sdp_mid(sdp_mid.as_deref());
            init.set_sdp_m_line_index(sdp_m_line_index);
            add_candidate(engine, user, &pc, init).await;
            Ok(())
        }
        // The machine handles restart requests itself.
        SignalData::Restart | SignalData::NoPath => Ok(()),
    }
}

/// Applies `user`'s offer and sends our answer, with what we capture on every transceiver.
async fn answer(
    engine: &Engine,
    user: &str,
    pc: &RtcPeerConnection,
    sdp: &str,
) -> Result<(), Refusal> {
    JsFuture::from(pc.set_remote_description(&description(RtcSdpType::Offer, sdp)))
        .await
        .map_err(|e| webrtc("setRemoteDescription", e))?;
    // Send what we have on the transceivers the offer created.
    engine.with_peer(user, |peer, media| {
        for t in transceivers(&peer.pc) {
            let kind = t.receiver().track().kind();
            let _ = t.sender().replace_track(media.track(&kind));
            t.set_direction(RtcRtpTransceiverDirection::Sendrecv);
        }
    });
    flush_candidates(engine, user).await;
    let answer = JsFuture::from(pc.create_answer())
        .await
        .map_err(|e| webrtc("createAnswer", e))?;
    let sdp = sdp_of(&answer);
    JsFuture::from(pc.set_local_description(&description(RtcSdpType::Answer, &sdp)))
        .await
        .map_err(|e| webrtc("setLocalDescription", e))?;
    engine.send_signal(user, SignalData::Answer { sdp });
    Ok(())
}

/// Adds a candidate now, or once the remote description is set.
async fn add_candidate(
    engine: &Engine,
    user: &str,
    pc: &RtcPeerConnection,
    init: RtcIceCandidateInit,
) {
    let ready = engine
        .with_peer(user, |peer, _| {
            if !peer.remote_set {
                peer.queued.push(init.clone());
            }
            peer.remote_set
        })
        .unwrap_or(false);
    if ready {
        // A candidate the browser cannot use is not worth ending the call over.
        let _ =
            JsFuture::from(pc.add_ice_candidate_with_opt_rtc_ice_candidate_init(Some(&init))).await;
    }
}

async fn flush_candidates(engine: &Engine, user: &str) {
    let Some((pc, queued)) = engine.with_peer(user, |peer, _| {
        peer.remote_set = true;
        (peer.pc.clone(), std::mem::take(&mut peer.queued))
    }) else {
        return;
    };
    for init in queued {
        let _ =
            JsFuture::from(pc.add_ice_candidate_with_opt_rtc_ice_candidate_init(Some(&init))).await;
    }
}

/// `HTMLMediaElement.prototype.setSinkId` exists (not in every browser).
pub fn can_set_sink() -> bool {
    js_sys::Reflect::get(&js_sys::global(), &"HTMLMediaElement".into())
        .ok()
        .and_then(|c| Reflect::get(&c, &"prototype".into()).ok())
        .is_some_and(|p| Reflect::has(&p, &"setSinkId".into()).unwrap_or(false))
}
