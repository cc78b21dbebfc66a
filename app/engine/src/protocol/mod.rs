//! The signaling protocol, shared by the server and the browser engine. Documented for other
//! implementers in `docs/protocol.md`; these files are its single source of truth.
//!
//! Every frame is one JSON object in a WebSocket text frame, tagged by `"type"`. Field names
//! follow the TRTCCalling API (`userID`, `inviteID`, `roomID`, `callType`). Requests that expect
//! an answer carry a client-chosen `req` number, echoed in the `result` or `error` reply.
//!
//! - [`client`]: what clients send, and [`decode`], which reads a frame once into the message
//!   its handler applies.
//! - [`server`]: what the server sends.
//! - [`signal`]: the WebRTC negotiation relayed between members of a call.
//! - [`error`]: error codes and the reasons behind them.
//!
//! A new request is a variant of [`CallMsg`] (the switchboard applies it) or [`GroupMsg`] (the
//! groups in the database answer it), its name in that enum's `TYPES`, its handler, and its
//! entry in `docs/protocol.md`.

pub mod client;
pub mod error;
pub mod server;
pub mod signal;

pub use client::{decode, req_of, CallMsg, ClientMsg, GroupMsg, Login, Undecodable};
pub use error::{ErrorCode, Refusal};
pub use server::ServerMsg;
pub use signal::SignalData;

use serde::{Deserialize, Serialize};

/// 1 audio, 2 video, as in TRTCCalling.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub enum CallType {
    Audio,
    Video,
}

impl TryFrom<u8> for CallType {
    type Error = String;
    fn try_from(v: u8) -> Result<Self, String> {
        match v {
            1 => Ok(Self::Audio),
            2 => Ok(Self::Video),
            _ => Err(format!("callType must be 1 (audio) or 2 (video), not {v}")),
        }
    }
}

impl From<CallType> for u8 {
    fn from(t: CallType) -> u8 {
        match t {
            CallType::Audio => 1,
            CallType::Video => 2,
        }
    }
}

/// The version number carried in `inviteData`, as TRTCCalling's.
pub const INVITE_DATA_VERSION: u32 = 4;

/// A STUN or TURN server, in the shape of `RTCIceServer`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// Whether a contact can be called.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Presence {
    Offline,
    Online,
    InCall,
}

/// A group, as listed to its members.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupInfo {
    #[serde(rename = "groupID")]
    pub group_id: String,
    pub name: String,
    #[serde(rename = "userIDList")]
    pub user_ids: Vec<String>,
}

/// `inviteData` of INVITED.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteData {
    pub version: u32,
    #[serde(rename = "callType")]
    pub call_type: CallType,
    #[serde(rename = "roomID")]
    pub room_id: u64,
}

/// What a successful request returns.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    #[serde(rename = "inviteID", default, skip_serializing_if = "Option::is_none")]
    pub invite_id: Option<String>,
    #[serde(rename = "roomID", default, skip_serializing_if = "Option::is_none")]
    pub room_id: Option<u64>,
    #[serde(rename = "groupID", default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<GroupInfo>>,
}

#[cfg(test)]
mod tests;
