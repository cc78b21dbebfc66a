//! The signaling protocol, shared by the server and the browser engine. Documented for other
//! implementers in `docs/protocol.md`; this file is its single source of truth.
//!
//! Every frame is one JSON object in a WebSocket text frame, tagged by `"type"`. Field names
//! follow the TRTCCalling API (`userID`, `inviteID`, `roomID`, `callType`). Requests that expect
//! an answer carry a client-chosen `req` number, echoed in the `result` or `error` reply.

use serde::{Deserialize, Serialize};

/// WebRTC negotiation data (an offer, an answer, a candidate), relayed as it came. The server
/// does not interpret it; only the two peers do.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SignalData(pub serde_json::Value);

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

/// Client to server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ClientMsg {
    /// Must be the first frame.
    Login {
        #[serde(rename = "userID")]
        user_id: String,
        #[serde(rename = "userSig")]
        user_sig: String,
    },
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
    Hangup {
        req: u32,
    },
    /// WebRTC negotiation for one peer in your call, relayed as it is.
    Signal {
        #[serde(rename = "userID")]
        to: String,
        data: SignalData,
    },
    /// Your microphone and camera state, for the others' USER_*_AVAILABLE events.
    Media {
        audio: bool,
        video: bool,
    },
    /// Switch a one-to-one call between audio and video.
    SwitchType {
        req: u32,
        #[serde(rename = "callType")]
        call_type: CallType,
    },
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
    Result {
        req: u32,
        #[serde(flatten)]
        outcome: Outcome,
    },
    Error {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        req: Option<u32>,
        code: u32,
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

/// Numeric error codes of the `error` frame.
pub mod code {
    /// A frame that is not a JSON object of a known shape.
    pub const MALFORMED: u32 = 4000;
    pub const UNKNOWN_TYPE: u32 = 4001;
    pub const INVALID_ARGUMENT: u32 = 4002;
    pub const FRAME_TOO_LARGE: u32 = 4003;
    pub const RATE_LIMITED: u32 = 4004;
    pub const NOT_LOGGED_IN: u32 = 4010;
    pub const BAD_USERSIG: u32 = 4011;
    pub const ALREADY_LOGGED_IN: u32 = 4012;
    /// The invitation is unknown, over, or not addressed to you.
    pub const INVITE_GONE: u32 = 4020;
    /// You are ringing or in a call and cannot start another.
    pub const BUSY: u32 = 4021;
    pub const NOT_IN_CALL: u32 = 4022;
    pub const CALL_TOO_LARGE: u32 = 4023;
    /// The peer you signalled is not in your call.
    pub const NOT_IN_ROOM: u32 = 4024;
    pub const NOT_ONE_TO_ONE: u32 = 4025;
    pub const NO_SUCH_GROUP: u32 = 4030;
    pub const NOT_GROUP_MEMBER: u32 = 4031;
    pub const SERVER: u32 = 5000;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_frames_decode_with_spec_names() {
        let msg: ClientMsg = serde_json::from_str(
            r#"{"type":"call","req":1,"userIDList":["bob"],"callType":2,"timeout":30}"#,
        )
        .unwrap();
        assert_eq!(
            msg,
            ClientMsg::Call {
                req: 1,
                user_ids: vec!["bob".into()],
                call_type: CallType::Video,
                timeout: 30,
                group_id: None
            }
        );
        let bad = serde_json::from_str::<ClientMsg>(
            r#"{"type":"call","req":1,"userIDList":["bob"],"callType":3}"#,
        );
        assert!(bad.is_err());
    }

    #[test]
    fn signal_data_is_relayed_verbatim() {
        let text = r#"{"type":"signal","userID":"bob","data":{"kind":"offer","sdp":"v=0\r\n"}}"#;
        let ClientMsg::Signal { to, data } = serde_json::from_str::<ClientMsg>(text).unwrap()
        else {
            panic!("not a signal");
        };
        assert_eq!(to, "bob");
        let out = serde_json::to_string(&ServerMsg::Signal {
            from: "alice".into(),
            data,
        })
        .unwrap();
        assert_eq!(
            out,
            r#"{"type":"signal","userID":"alice","data":{"kind":"offer","sdp":"v=0\r\n"}}"#
        );
        let back: ServerMsg = serde_json::from_str(&out).unwrap();
        assert!(matches!(back, ServerMsg::Signal { .. }));
    }

    #[test]
    fn server_frames_use_spec_names() {
        let invited = ServerMsg::Invited {
            invite_id: "i1".into(),
            sponsor: "alice".into(),
            user_ids: vec!["bob".into()],
            is_from_group: false,
            group_id: None,
            invite_data: InviteData {
                version: INVITE_DATA_VERSION,
                call_type: CallType::Audio,
                room_id: 7,
            },
            timeout: 30,
        };
        let json: serde_json::Value = serde_json::to_value(&invited).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "type": "invited", "inviteID": "i1", "sponsor": "alice", "userIDList": ["bob"],
                "isFromGroup": false, "inviteData": {"version": 4, "callType": 1, "roomID": 7},
                "timeout": 30
            })
        );
        let result = ServerMsg::Result {
            req: 3,
            outcome: Outcome {
                invite_id: Some("i1".into()),
                room_id: Some(7),
                ..Outcome::default()
            },
        };
        assert_eq!(
            serde_json::to_value(&result).unwrap(),
            serde_json::json!({"type": "result", "req": 3, "inviteID": "i1", "roomID": 7})
        );
        assert_eq!(
            serde_json::from_value::<ServerMsg>(serde_json::to_value(&result).unwrap()).unwrap(),
            result
        );
    }
}

/// Frames come from strangers: decoding anything must fail cleanly, never panic.
#[cfg(test)]
mod robustness {
    use super::*;

    /// A small deterministic generator, so failures reproduce.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    const SAMPLES: &[&str] = &[
        r#"{"type":"login","userID":"alice","userSig":"abc"}"#,
        r#"{"type":"call","req":1,"userIDList":["bob","carol"],"callType":2,"timeout":30,"groupID":"g1"}"#,
        r#"{"type":"accept","req":2,"inviteID":"i"}"#,
        r#"{"type":"reject","req":3,"inviteID":"i","isBusy":true}"#,
        r#"{"type":"signal","userID":"bob","data":{"kind":"candidate","candidate":"c","sdpMid":"0","sdpMLineIndex":0}}"#,
        r#"{"type":"media","audio":true,"video":false}"#,
        r#"{"type":"createGroup","req":4,"name":"n","userIDList":["a"]}"#,
    ];

    #[test]
    fn mutated_frames_never_panic() {
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        let alphabet = br#"{}[]":,0123456789-.etrufalsn\ abcxyzTYPEtype"#;
        for _ in 0..20_000 {
            let base = SAMPLES[(rng.next() % SAMPLES.len() as u64) as usize].as_bytes();
            let mut frame = base.to_vec();
            for _ in 0..=(rng.next() % 4) {
                let at = (rng.next() as usize) % (frame.len() + 1);
                match rng.next() % 3 {
                    0 if at < frame.len() => {
                        frame.remove(at);
                    }
                    1 => frame.insert(at, alphabet[(rng.next() as usize) % alphabet.len()]),
                    _ if at < frame.len() => frame[at] = (rng.next() & 0xff) as u8,
                    _ => {}
                }
            }
            let _ = serde_json::from_slice::<ClientMsg>(&frame);
            let _ = serde_json::from_slice::<ServerMsg>(&frame);
        }
    }
}
