//! WebRTC negotiation between two members of a call, relayed by the server from one to the
//! other. The server checks only that the sender and the receiver share a call.

use serde::{Deserialize, Serialize};

/// What one peer connection tells its other end, tagged by `"kind"`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum SignalData {
    /// An SDP offer: the first negotiation, or an ICE restart.
    Offer { sdp: String },
    /// The SDP answer to the last offer.
    Answer { sdp: String },
    /// A trickled ICE candidate, as `RTCIceCandidateInit` has it.
    Candidate {
        candidate: String,
        #[serde(rename = "sdpMid", default)]
        sdp_mid: Option<String>,
        #[serde(rename = "sdpMLineIndex", default)]
        sdp_m_line_index: Option<u16>,
    },
    /// The answering side saw the connection fail: the offering side should restart ICE (only
    /// the side that offers may, so that both never offer at once).
    Restart,
    /// The connection never came up and this side is hanging up: the other side reports the
    /// same error, rather than a bare end of call.
    NoPath,
}
