//! What the engine tells its users: the TRTCCalling events, with the spec's payloads.

use serde_json::{json, Value};

use crate::protocol::{InviteData, Presence, Refusal};

#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    Invited {
        invite_id: String,
        sponsor: String,
        user_ids: Vec<String>,
        is_from_group: bool,
        invite_data: InviteData,
        /// Seconds left to answer, 0 when it rings until cancelled (also in the JS payload).
        timeout: u32,
    },
    Reject {
        user_id: String,
    },
    /// To the caller: `user_id` did not answer. `sponsor` is the caller.
    NoResp {
        sponsor: String,
        user_id: String,
        user_ids: Vec<String>,
    },
    /// To the caller: `user_id` is in another call. `sponsor` is the caller.
    LineBusy {
        sponsor: String,
        user_id: String,
    },
    CallingCancel {
        invite_id: String,
        sponsor: String,
    },
    /// To an invitee: the invitation stopped ringing unanswered.
    CallingTimeout {
        invite_id: String,
        sponsor: String,
        user_ids: Vec<String>,
    },
    UserEnter {
        user_id: String,
    },
    UserLeave {
        user_id: String,
    },
    /// Our call is over: `user_id` is ours, `seconds` how long it lasted from the first member
    /// entering (0 if nobody did).
    CallEnd {
        user_id: String,
        seconds: u64,
    },
    KickedOut,
    UserVideoAvailable {
        user_id: String,
        available: bool,
    },
    UserAudioAvailable {
        user_id: String,
        available: bool,
    },
    /// Something failed that no request is waiting to hear about.
    Error(Refusal),
    /// Not in TRTCCalling: a contact's presence, at login and on every change.
    Presence {
        user_id: String,
        status: Presence,
    },
    /// Not in TRTCCalling: a member started or stopped speaking.
    Speaking {
        user_id: String,
        speaking: bool,
    },
    /// Not in TRTCCalling: the connection with a member dropped and is being restored (true),
    /// or is back (false).
    Reconnecting {
        user_id: String,
        reconnecting: bool,
    },
    /// Not in TRTCCalling: the connection with a member got better or worse.
    NetworkQuality {
        user_id: String,
        quality: super::quality::Quality,
    },
}

/// `TRTCCalling.EVENT`: each key, and the string it stands for, as trtc-calling-js 1.0 has
/// them; then our own `PRESENCE`, `SPEAKING`, `NETWORK_QUALITY` and `RECONNECTING`. `CALL_END`
/// and `CALLING_END` are one event.
pub const EVENTS: [(&str, &str); 18] = [
    ("ERROR", "onError"),
    ("INVITED", "onInvited"),
    ("USER_ENTER", "onUserEnter"),
    ("USER_LEAVE", "onUserLeave"),
    ("REJECT", "onReject"),
    ("NO_RESP", "onNoResp"),
    ("LINE_BUSY", "onLineBusy"),
    ("CALLING_CANCEL", "onCallingCancel"),
    ("KICKED_OUT", "onKickedOut"),
    ("CALLING_TIMEOUT", "onCallingTimeout"),
    ("CALL_END", "onCallEnd"),
    ("CALLING_END", "onCallEnd"),
    ("USER_VIDEO_AVAILABLE", "onUserVideoAvailable"),
    ("USER_AUDIO_AVAILABLE", "onUserAudioAvailable"),
    ("PRESENCE", "onPresence"),
    ("SPEAKING", "onSpeaking"),
    ("NETWORK_QUALITY", "onNetworkQuality"),
    ("RECONNECTING", "onReconnecting"),
];

impl Event {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Invited { .. } => "INVITED",
            Self::Reject { .. } => "REJECT",
            Self::NoResp { .. } => "NO_RESP",
            Self::LineBusy { .. } => "LINE_BUSY",
            Self::CallingCancel { .. } => "CALLING_CANCEL",
            Self::CallingTimeout { .. } => "CALLING_TIMEOUT",
            Self::UserEnter { .. } => "USER_ENTER",
            Self::UserLeave { .. } => "USER_LEAVE",
            Self::CallEnd { .. } => "CALL_END",
            Self::KickedOut => "KICKED_OUT",
            Self::UserVideoAvailable { .. } => "USER_VIDEO_AVAILABLE",
            Self::UserAudioAvailable { .. } => "USER_AUDIO_AVAILABLE",
            Self::Error(_) => "ERROR",
            Self::Presence { .. } => "PRESENCE",
            Self::Speaking { .. } => "SPEAKING",
            Self::NetworkQuality { .. } => "NETWORK_QUALITY",
            Self::Reconnecting { .. } => "RECONNECTING",
        }
    }

    /// The object handed to JavaScript listeners, with trtc-calling-js 1.0's field names.
    pub fn payload(&self) -> Value {
        match self {
            Self::Invited {
                invite_id,
                sponsor,
                user_ids,
                is_from_group,
                invite_data,
                timeout,
            } => {
                let mut data = serde_json::to_value(invite_data).unwrap_or_else(|_| json!({}));
                // Pages tell a new invitation from the end of one by this: always new here.
                if let Some(fields) = data.as_object_mut() {
                    fields.insert("callEnd".into(), json!(0));
                }
                json!({
                    "inviteID": invite_id, "sponsor": sponsor, "userIDList": user_ids,
                    "isFromGroup": is_from_group, "inviteData": data, "timeout": timeout,
                })
            }
            Self::Reject { user_id }
            | Self::UserEnter { user_id }
            | Self::UserLeave { user_id } => {
                json!({ "userID": user_id })
            }
            Self::LineBusy { sponsor, user_id } => json!({ "sponsor": sponsor, "userID": user_id }),
            Self::NoResp {
                sponsor,
                user_id,
                user_ids,
            } => json!({ "sponsor": sponsor, "userID": user_id, "userIDList": user_ids }),
            Self::CallingCancel { invite_id, sponsor } => {
                json!({ "inviteID": invite_id, "sponsor": sponsor })
            }
            Self::CallingTimeout {
                invite_id,
                sponsor,
                user_ids,
            } => json!({ "inviteID": invite_id, "sponsor": sponsor, "userIDList": user_ids }),
            Self::CallEnd { user_id, seconds } => json!({ "userID": user_id, "callEnd": seconds }),
            Self::KickedOut => json!({}),
            Self::UserVideoAvailable { user_id, available } => {
                json!({ "userID": user_id, "isVideoAvailable": available })
            }
            Self::UserAudioAvailable { user_id, available } => {
                json!({ "userID": user_id, "isAudioAvailable": available })
            }
            Self::Error(refusal) => {
                let text = refusal.to_string();
                json!({ "code": refusal.code(), "msg": text, "message": text })
            }
            Self::Presence { user_id, status } => json!({ "userID": user_id, "status": status }),
            Self::Speaking { user_id, speaking } => {
                json!({ "userID": user_id, "isSpeaking": speaking })
            }
            Self::Reconnecting {
                user_id,
                reconnecting,
            } => {
                json!({ "userID": user_id, "isReconnecting": reconnecting })
            }
            Self::NetworkQuality { user_id, quality } => {
                json!({ "userID": user_id, "quality": quality.as_str() })
            }
        }
    }
}

/// The canonical key (`INVITED`) of any name a listener may use: a key of `TRTCCalling.EVENT`
/// or the string it stands for (`onInvited`); `CALLING_END` is `CALL_END`.
pub fn canonical_event_name(name: &str) -> Option<&'static str> {
    let (key, _) = EVENTS.iter().find(|(k, v)| *k == name || *v == name)?;
    Some(if *key == "CALLING_END" {
        "CALL_END"
    } else {
        key
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listener_names_map_to_the_spec() {
        assert_eq!(canonical_event_name("INVITED"), Some("INVITED"));
        assert_eq!(canonical_event_name("onInvited"), Some("INVITED"));
        assert_eq!(
            canonical_event_name("onUserVideoAvailable"),
            Some("USER_VIDEO_AVAILABLE")
        );
        assert_eq!(canonical_event_name("onNoResp"), Some("NO_RESP"));
        assert_eq!(
            canonical_event_name("onCallingCancel"),
            Some("CALLING_CANCEL")
        );
        assert_eq!(canonical_event_name("onError"), Some("ERROR"));
        assert_eq!(canonical_event_name("CALLING_END"), Some("CALL_END"));
        assert_eq!(canonical_event_name("onCallEnd"), Some("CALL_END"));
        assert_eq!(canonical_event_name("onPresence"), Some("PRESENCE"));
        assert_eq!(canonical_event_name("onSomethingElse"), None);
        assert_eq!(canonical_event_name("invited"), None);
        // Every key but the alias is an event the engine emits under that name.
        for (key, value) in EVENTS {
            assert!(value.starts_with("on"), "{value}");
            assert!(canonical_event_name(key).is_some());
        }
    }

    #[test]
    fn payloads_use_spec_field_names() {
        let e = Event::UserVideoAvailable {
            user_id: "bob".into(),
            available: false,
        };
        assert_eq!(
            e.payload(),
            json!({"userID": "bob", "isVideoAvailable": false})
        );
        let e = Event::NoResp {
            sponsor: "alice".into(),
            user_id: "bob".into(),
            user_ids: vec!["bob".into()],
        };
        assert_eq!(
            e.payload(),
            json!({"sponsor": "alice", "userID": "bob", "userIDList": ["bob"]})
        );
        let e = Event::CallEnd {
            user_id: "alice".into(),
            seconds: 42,
        };
        assert_eq!(e.payload(), json!({"userID": "alice", "callEnd": 42}));
        let e = Event::Error(Refusal::NotInCall);
        let p = e.payload();
        assert_eq!(p["msg"], p["message"]);
        assert!(p["code"].is_number());
    }
}
