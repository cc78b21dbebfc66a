//! Client to server: a login, then requests about calls and about groups. A frame is decoded
//! once, by [`decode`], into the message its handler applies: [`CallMsg`] goes to the
//! switchboard, [`GroupMsg`] to the groups in the database.

use serde::{Deserialize, Serialize};

use super::{CallType, Refusal, SignalData};

/// Any frame a client sends.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ClientMsg {
    Login(Login),
    Call(CallMsg),
    Group(GroupMsg),
}

/// Must be the first frame.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "login")]
pub struct Login {
    #[serde(rename = "userID")]
    pub user_id: String,
    #[serde(rename = "userSig")]
    pub user_sig: String,
}

/// What the switchboard does for a logged-in user: calls, their answers, and what flows
/// between the members of a call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum CallMsg {
    /// `call` and `groupCall`: invite users into a new call, or into the call you are in.
    Call {
        req: u32,
        #[serde(rename = "userIDList")]
        user_ids: Vec<String>,
        #[serde(rename = "callType")]
        call_type: CallType,
        /// Seconds to ring; 0 rings until answered or cancelled.
        #[serde(default)]
        timeout: u32,
        #[serde(rename = "groupID", default, skip_serializing_if = "Option::is_none")]
        group_id: Option<String>,
    },
    Accept {
        req: u32,
        #[serde(rename = "inviteID")]
        invite_id: String,
    },
    Reject {
        req: u32,
        #[serde(rename = "inviteID")]
        invite_id: String,
        #[serde(rename = "isBusy", default)]
        is_busy: bool,
    },
    /// Leave the call, cancel an unanswered call, or decline the ringing one.
    Hangup { req: u32 },
    /// WebRTC negotiation for one peer in your call.
    Signal {
        #[serde(rename = "userID")]
        to: String,
        data: SignalData,
    },
    /// Your microphone and camera state, for the others' USER_*_AVAILABLE events.
    Media { audio: bool, video: bool },
    /// Switch a one-to-one call between audio and video.
    SwitchType {
        req: u32,
        #[serde(rename = "callType")]
        call_type: CallType,
    },
}

impl CallMsg {
    /// The `type` of each variant, for telling an unknown type from a bad field.
    pub const TYPES: &'static [&'static str] = &[
        "call",
        "accept",
        "reject",
        "hangup",
        "signal",
        "media",
        "switchType",
    ];

    /// The request number, for those that expect an answer.
    pub fn req(&self) -> Option<u32> {
        match self {
            Self::Call { req, .. }
            | Self::Accept { req, .. }
            | Self::Reject { req, .. }
            | Self::Hangup { req }
            | Self::SwitchType { req, .. } => Some(*req),
            Self::Signal { .. } | Self::Media { .. } => None,
        }
    }

    pub fn req_mut(&mut self) -> Option<&mut u32> {
        match self {
            Self::Call { req, .. }
            | Self::Accept { req, .. }
            | Self::Reject { req, .. }
            | Self::Hangup { req }
            | Self::SwitchType { req, .. } => Some(req),
            Self::Signal { .. } | Self::Media { .. } => None,
        }
    }
}

/// Named sets of users, stored by the server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum GroupMsg {
    CreateGroup {
        req: u32,
        name: String,
        #[serde(rename = "userIDList")]
        user_ids: Vec<String>,
    },
    ListGroups {
        req: u32,
    },
}

impl GroupMsg {
    pub const TYPES: &'static [&'static str] = &["createGroup", "listGroups"];

    pub fn req(&self) -> u32 {
        match self {
            Self::CreateGroup { req, .. } | Self::ListGroups { req } => *req,
        }
    }

    pub fn req_mut(&mut self) -> &mut u32 {
        match self {
            Self::CreateGroup { req, .. } | Self::ListGroups { req } => req,
        }
    }
}

/// The two fields every frame is first read for.
#[derive(Deserialize)]
struct Head {
    #[serde(rename = "type")]
    kind: Option<serde_json::Value>,
    req: Option<serde_json::Value>,
}

/// A frame that could not be decoded: why, and its `req` when that much could be read.
#[derive(Debug, PartialEq)]
pub struct Undecodable {
    pub req: Option<u32>,
    pub refusal: Refusal,
}

/// The `req` of a frame refused before it is decoded (too large, or rate-limited), when it is
/// a JSON object that has one: its answer then settles the client's request.
pub fn req_of(text: &str) -> Option<u32> {
    if !text.trim_start().starts_with('{') {
        return None;
    }
    #[derive(Deserialize)]
    struct Req {
        req: Option<serde_json::Value>,
    }
    let r: Req = serde_json::from_str(text).ok()?;
    as_req(r.req.as_ref())
}

fn as_req(v: Option<&serde_json::Value>) -> Option<u32> {
    v.and_then(serde_json::Value::as_u64)
        .and_then(|r| u32::try_from(r).ok())
}

/// Decodes one text frame into the message its handler applies.
pub fn decode(text: &str) -> Result<ClientMsg, Undecodable> {
    let refuse = |req, refusal| Undecodable { req, refusal };
    // A struct also deserializes from an array; only objects are frames.
    if !text.trim_start().starts_with('{') {
        return Err(refuse(None, Refusal::NotJson));
    }
    let head: Head = serde_json::from_str(text).map_err(|_| refuse(None, Refusal::NotJson))?;
    let req = as_req(head.req.as_ref());
    let kind = match head.kind {
        Some(serde_json::Value::String(kind)) => kind,
        Some(other) => return Err(refuse(req, Refusal::UnknownType(other.to_string()))),
        None => return Err(refuse(req, Refusal::NoType)),
    };
    let bad = |e: serde_json::Error| refuse(req, Refusal::BadField(e.to_string()));
    if kind == "login" {
        serde_json::from_str(text)
            .map(ClientMsg::Login)
            .map_err(bad)
    } else if CallMsg::TYPES.contains(&kind.as_str()) {
        serde_json::from_str(text).map(ClientMsg::Call).map_err(bad)
    } else if GroupMsg::TYPES.contains(&kind.as_str()) {
        serde_json::from_str(text)
            .map(ClientMsg::Group)
            .map_err(bad)
    } else {
        Err(refuse(req, Refusal::UnknownType(kind)))
    }
}
