//! Server to client: replies, events about calls and contacts, and relayed negotiation.

use serde::{Deserialize, Serialize};

use super::{CallType, ErrorCode, IceServer, InviteData, Outcome, Presence, SignalData};

/// Server to client.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ServerMsg {
    LoggedIn {
        #[serde(rename = "userID")]
        user_id: String,
        #[serde(rename = "iceServers")]
        ice_servers: Vec<IceServer>,
    },
    /// Fresh `iceServers`, sent before the ones given earlier expire; they replace them.
    IceServers {
        #[serde(rename = "iceServers")]
        ice_servers: Vec<IceServer>,
    },
    Result {
        req: u32,
        #[serde(flatten)]
        outcome: Outcome,
    },
    Error {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        req: Option<u32>,
        code: ErrorCode,
        message: String,
    },
    Invited {
        #[serde(rename = "inviteID")]
        invite_id: String,
        sponsor: String,
        #[serde(rename = "userIDList")]
        user_ids: Vec<String>,
        #[serde(rename = "isFromGroup")]
        is_from_group: bool,
        #[serde(rename = "groupID", default, skip_serializing_if = "Option::is_none")]
        group_id: Option<String>,
        #[serde(rename = "inviteData")]
        invite_data: InviteData,
        /// Seconds left to answer; 0 when the call rings until cancelled.
        timeout: u32,
    },
    Reject {
        #[serde(rename = "inviteID")]
        invite_id: String,
        #[serde(rename = "userID")]
        user_id: String,
    },
    LineBusy {
        #[serde(rename = "inviteID")]
        invite_id: String,
        #[serde(rename = "userID")]
        user_id: String,
    },
    NoResp {
        #[serde(rename = "inviteID")]
        invite_id: String,
        #[serde(rename = "userID")]
        user_id: String,
        #[serde(rename = "userIDList")]
        user_ids: Vec<String>,
    },
    CallingCancel {
        #[serde(rename = "inviteID")]
        invite_id: String,
        sponsor: String,
    },
    CallingTimeout {
        #[serde(rename = "inviteID")]
        invite_id: String,
    },
    UserEnter {
        #[serde(rename = "roomID")]
        room_id: u64,
        #[serde(rename = "userID")]
        user_id: String,
    },
    UserLeave {
        #[serde(rename = "roomID")]
        room_id: u64,
        #[serde(rename = "userID")]
        user_id: String,
    },
    CallEnd {
        #[serde(rename = "roomID")]
        room_id: u64,
    },
    KickedOut {},
    /// A peer's microphone and camera state; sent on every change and to newcomers.
    Media {
        #[serde(rename = "userID")]
        user_id: String,
        audio: bool,
        video: bool,
    },
    /// The other side switched the call between audio and video.
    CallType {
        #[serde(rename = "userID")]
        user_id: String,
        #[serde(rename = "callType")]
        call_type: CallType,
    },
    Signal {
        #[serde(rename = "userID")]
        from: String,
        data: SignalData,
    },
    /// A contact's presence: sent for each contact at login, then on every change.
    Presence {
        #[serde(rename = "userID")]
        user_id: String,
        status: Presence,
    },
}
