//! What `getStats` reports about a member's connection.

use js_sys::Reflect;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::RtcPeerConnection;

use super::peer::webrtc;
use crate::protocol::Refusal;

/// What a test or a quality indicator wants to know about a connection.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Stats {
    #[serde(rename = "audioPacketsReceived")]
    pub audio_packets_received: u64,
    #[serde(rename = "audioPacketsLost")]
    pub audio_packets_lost: i64,
    #[serde(rename = "audioLevel")]
    pub audio_level: f64,
    /// Cumulative, for the average level between two samples.
    #[serde(rename = "totalAudioEnergy")]
    pub total_audio_energy: f64,
    #[serde(rename = "totalSamplesDuration")]
    pub total_samples_duration: f64,
    #[serde(rename = "videoPacketsReceived")]
    pub video_packets_received: u64,
    #[serde(rename = "videoFramesDecoded")]
    pub video_frames_decoded: u64,
    #[serde(rename = "videoPacketsLost")]
    pub video_packets_lost: i64,
    #[serde(rename = "roundTripTime")]
    pub round_trip_time: Option<f64>,
    /// The selected candidate pair's types (`host`, `srflx`, `prflx`, `relay`): whether the
    /// call goes through the relay.
    #[serde(rename = "localCandidateType")]
    pub local_candidate_type: Option<String>,
    #[serde(rename = "remoteCandidateType")]
    pub remote_candidate_type: Option<String>,
    /// How this side reaches its relay (`udp`, `tcp`, `tls`) when its candidate is `relay`.
    #[serde(rename = "localRelayProtocol")]
    pub local_relay_protocol: Option<String>,
}

pub async fn stats(pc: &RtcPeerConnection) -> Result<Stats, Refusal> {
    let report = JsFuture::from(pc.get_stats())
        .await
        .map_err(|e| webrtc("getStats", e))?;
    let map: js_sys::Map = report.unchecked_into();
    let mut out = Stats::default();
    let get = |o: &JsValue, k: &str| Reflect::get(o, &k.into()).ok();
    let num = |o: &JsValue, k: &str| get(o, k).and_then(|v| v.as_f64());
    map.for_each(&mut |stat, _| {
        let kind = get(&stat, "kind")
            .and_then(|v| v.as_string())
            .unwrap_or_default();
        match get(&stat, "type").and_then(|v| v.as_string()).as_deref() {
            Some("inbound-rtp") if kind == "audio" => {
                out.audio_packets_received += num(&stat, "packetsReceived").unwrap_or(0.0) as u64;
                out.audio_packets_lost += num(&stat, "packetsLost").unwrap_or(0.0) as i64;
                out.audio_level = out.audio_level.max(num(&stat, "audioLevel").unwrap_or(0.0));
                out.total_audio_energy += num(&stat, "totalAudioEnergy").unwrap_or(0.0);
                out.total_samples_duration += num(&stat, "totalSamplesDuration").unwrap_or(0.0);
            }
            Some("inbound-rtp") if kind == "video" => {
                out.video_frames_decoded += num(&stat, "framesDecoded").unwrap_or(0.0) as u64;
                out.video_packets_received += num(&stat, "packetsReceived").unwrap_or(0.0) as u64;
                out.video_packets_lost += num(&stat, "packetsLost").unwrap_or(0.0) as i64;
            }
            Some("candidate-pair")
                if get(&stat, "nominated").and_then(|v| v.as_bool()) == Some(true) =>
            {
                if let Some(rtt) = num(&stat, "currentRoundTripTime") {
                    out.round_trip_time = Some(rtt);
                }
            }
            _ => {}
        }
    });
    let pair = selected_pair(&map);
    let candidate = |id: &str, field: &str| {
        let candidate = pair.as_ref().and_then(|p| get(p, id))?;
        get(&map.get(&candidate), field)?.as_string()
    };
    out.local_candidate_type = candidate("localCandidateId", "candidateType");
    out.remote_candidate_type = candidate("remoteCandidateId", "candidateType");
    out.local_relay_protocol = candidate("localCandidateId", "relayProtocol");
    Ok(out)
}

/// The candidate pair the transport uses.
fn selected_pair(map: &js_sys::Map) -> Option<JsValue> {
    let mut id = None;
    map.for_each(&mut |stat, _| {
        if Reflect::get(&stat, &"type".into())
            .ok()
            .and_then(|v| v.as_string())
            .as_deref()
            == Some("transport")
        {
            id = id
                .take()
                .or_else(|| Reflect::get(&stat, &"selectedCandidatePairId".into()).ok());
        }
    });
    let pair = map.get(&id?);
    (!pair.is_undefined()).then_some(pair)
}
