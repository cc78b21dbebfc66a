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
    NoResp {
        user_id: String,
        user_ids: Vec<String>,
    },
    LineBusy {
        user_id: String,
    },
    CallingCancel {
        invite_id: String,
        sponsor: String,
    },
    CallingTimeout {
        invite_id: String,
    },
    UserEnter {
        user_id: String,
    },
    UserLeave {
        user_id: String,
    },
    CallEnd,
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

/// The spec's event names, as `TRTCCalling.EVENT` lists them, and our `PRESENCE`, `SPEAKING`,
/// `NETWORK_QUALITY` and `RECONNECTING`.
pub const EVENT_NAMES: [&str; 17] = [
    "INVITED",
    "REJECT",
    "NO_RESP",
    "LINE_BUSY",
    "CALLING_CANCEL",
    "CALLING_TIMEOUT",
    "USER_ENTER",
    "USER_LEAVE",
    "CALL_END",
    "KICKED_OUT",
    "USER_VIDEO_AVAILABLE",
    "USER_AUDIO_AVAILABLE",
    "ERROR",
    "PRESENCE",
    "SPEAKING",
    "NETWORK_QUALITY",
    "RECONNECTING",
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
            Self::CallEnd => "CALL_END",
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

    /// The object handed to JavaScript listeners, with the spec's field names.
    pub fn payload(&self) -> Value {
        match self {
            Self::Invited {
                invite_id,
                sponsor,
                user_ids,
                is_from_group,
                invite_data,
                timeout,
            } => json!({
                "inviteID": invite_id, "sponsor": sponsor, "userIDList": user_ids,
                "isFromGroup": is_from_group, "inviteData": invite_data, "timeout": timeout,
            }),
            Self::Reject { user_id } | Self::LineBusy { user_id } => json!({ "userID": user_id }),
            Self::UserEnter { user_id } | Self::UserLeave { user_id } => {
                json!({ "userID": user_id })
            }
            Self::NoResp { user_id, user_ids } => {
                json!({ "userID": user_id, "userIDList": user_ids })
            }
            Self::CallingCancel { invite_id, sponsor } => {
                json!({ "inviteID": invite_id, "sponsor": sponsor })
            }
            Self::CallingTimeout { invite_id } => json!({ "inviteID": invite_id }),
            Self::CallEnd | Self::KickedOut => json!({}),
            Self::UserVideoAvailable { user_id, available } => {
                json!({ "userID": user_id, "isVideoAvailable": available })
            }
            Self::UserAudioAvailable { user_id, available } => {
                json!({ "userID": user_id, "isAudioAvailable": available })
            }
            Self::Error(refusal) => {
                json!({ "code": refusal.code(), "message": refusal.to_string() })
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

/// Maps the names listeners may use to the spec's: `INVITED`, and also the spec example's
/// `onInvited` (`onUserVideoAvailable` → `USER_VIDEO_AVAILABLE`, and so on).
pub fn canonical_event_name(name: &str) -> Option<&'static str> {
    if let Some(n) = EVENT_NAMES.iter().find(|n| **n == name) {
        return Some(n);
    }
    let rest = name.strip_prefix("on").unwrap_or(name);
    let mut snake = String::new();
    for (i, c) in rest.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            snake.push('_');
        }
        snake.push(c.to_ascii_uppercase());
    }
    EVENT_NAMES.iter().find(|n| **n == snake).copied()
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
        assert_eq!(canonical_event_name("onSomethingElse"), None);
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
            user_id: "bob".into(),
            user_ids: vec!["bob".into()],
        };
        assert_eq!(e.payload(), json!({"userID": "bob", "userIDList": ["bob"]}));
    }
}
