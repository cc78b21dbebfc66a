//! Errors as clients see them: one set of numeric codes ([`ErrorCode`]) for the `error` frame
//! and the JavaScript API alike, and one enum of reasons ([`Refusal`]) that the server and the
//! engine build. A refusal becomes an `error` frame, or a JavaScript `Error` with `code`, once,
//! at the edge that sends it.

use std::{borrow::Cow, fmt};

use serde::{Deserialize, Serialize};

use super::{CallType, ServerMsg};

/// Every error code a client can see. The 4000s and 5000 come from the server; the 60000s are
/// TRTCCalling's and the engine's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "u32", into = "u32")]
pub enum ErrorCode {
    /// Not JSON, not an object, no `type`, or a binary frame.
    Malformed,
    UnknownType,
    InvalidArgument,
    FrameTooLarge,
    RateLimited,
    NotLoggedIn,
    BadUserSig,
    AlreadyLoggedIn,
    /// The invitation is unknown, over, or not addressed to you.
    InviteGone,
    /// You are ringing and cannot place a call.
    Busy,
    NotInCall,
    CallTooLarge,
    /// The peer you signalled is not in your call.
    NotInRoom,
    NotOneToOne,
    /// Too many invitations to the same user in a short time.
    CallingTooOften,
    NoSuchGroup,
    NotGroupMember,
    /// The caller owns as many groups as one may.
    TooManyGroups,
    Server,
    /// `switchToAudioCall` failed (TRTCCalling's 60001).
    SwitchToAudioFailed,
    /// `switchToVideoCall` failed (TRTCCalling's 60002).
    SwitchToVideoFailed,
    NoMicrophone,
    NoCamera,
    PermissionDenied,
    /// The signaling connection failed or was lost.
    Connection,
    /// A WebRTC operation failed.
    WebRtc,
    /// A code this build does not know, from a newer server; kept as it came.
    Other(u32),
}

/// Each named code and its number; the single place the numbers are written.
const CODES: [(ErrorCode, u32); 26] = [
    (ErrorCode::Malformed, 4000),
    (ErrorCode::UnknownType, 4001),
    (ErrorCode::InvalidArgument, 4002),
    (ErrorCode::FrameTooLarge, 4003),
    (ErrorCode::RateLimited, 4004),
    (ErrorCode::NotLoggedIn, 4010),
    (ErrorCode::BadUserSig, 4011),
    (ErrorCode::AlreadyLoggedIn, 4012),
    (ErrorCode::InviteGone, 4020),
    (ErrorCode::Busy, 4021),
    (ErrorCode::NotInCall, 4022),
    (ErrorCode::CallTooLarge, 4023),
    (ErrorCode::NotInRoom, 4024),
    (ErrorCode::NotOneToOne, 4025),
    (ErrorCode::CallingTooOften, 4026),
    (ErrorCode::NoSuchGroup, 4030),
    (ErrorCode::NotGroupMember, 4031),
    (ErrorCode::TooManyGroups, 4032),
    (ErrorCode::Server, 5000),
    (ErrorCode::SwitchToAudioFailed, 60001),
    (ErrorCode::SwitchToVideoFailed, 60002),
    (ErrorCode::NoMicrophone, 60003),
    (ErrorCode::NoCamera, 60004),
    (ErrorCode::PermissionDenied, 60005),
    (ErrorCode::Connection, 60010),
    (ErrorCode::WebRtc, 60011),
];

impl ErrorCode {
    pub fn code(self) -> u32 {
        match self {
            Self::Other(n) => n,
            named => CODES
                .iter()
                .find(|(c, _)| *c == named)
                .map_or(0, |(_, n)| *n),
        }
    }

    pub fn from_code(n: u32) -> Self {
        CODES
            .iter()
            .find(|(_, m)| *m == n)
            .map_or(Self::Other(n), |(c, _)| *c)
    }

    /// The code for a failed switch to `to`.
    pub fn switch_failed(to: CallType) -> Self {
        match to {
            CallType::Audio => Self::SwitchToAudioFailed,
            CallType::Video => Self::SwitchToVideoFailed,
        }
    }
}

impl From<u32> for ErrorCode {
    fn from(n: u32) -> Self {
        Self::from_code(n)
    }
}

impl From<ErrorCode> for u32 {
    fn from(c: ErrorCode) -> u32 {
        c.code()
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code())
    }
}

/// Why a request was refused or an operation failed: built by the server's switchboard, its
/// WebSocket edge and groups, and by the browser engine; shown to users by its `Display`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    // ---- frames ----
    NotJson,
    NoType,
    BinaryFrame,
    UnknownType(String),
    /// A field is missing or of the wrong kind; the decoder's words.
    BadField(String),
    FrameTooLarge,
    RateLimited,
    // ---- the session ----
    NotLoggedIn,
    LoginTimeout,
    BadUserSig(String),
    AlreadyLoggedIn,
    LoggedOut,
    // ---- calls ----
    RingingFirst,
    InvalidUserId,
    CallingYourself,
    NobodyToCall,
    AllAlreadyInCall,
    CallTooLarge,
    NotRingingForYou,
    InviteOver,
    NotInCall,
    NotInRoom,
    NotOneToOne,
    /// Calling this user again so soon is refused.
    CallingTooOften(String),
    // ---- groups ----
    InvalidGroupName,
    GroupTooLarge,
    NoSuchGroup,
    NotGroupMember,
    TooManyGroups,
    GroupStorage,
    /// The server could not read what a request needed from its database.
    Storage,
    // ---- the engine ----
    /// `switchToAudioCall` / `switchToVideoCall` failed, and why.
    SwitchFailed {
        to: CallType,
        why: Cow<'static, str>,
    },
    NoMicrophone(Cow<'static, str>),
    NoCamera(Cow<'static, str>),
    PermissionDenied(Cow<'static, str>),
    Connection(Cow<'static, str>),
    WebRtc(Cow<'static, str>),
    /// A view could not be made where the page asked.
    BadView(Cow<'static, str>),
    /// An `error` frame as the server sent it.
    Remote {
        code: ErrorCode,
        message: String,
    },
}

impl Refusal {
    pub fn code(&self) -> ErrorCode {
        use ErrorCode as C;
        match self {
            Self::NotJson | Self::NoType | Self::BinaryFrame => C::Malformed,
            Self::UnknownType(_) => C::UnknownType,
            Self::BadField(_)
            | Self::InvalidUserId
            | Self::CallingYourself
            | Self::NobodyToCall
            | Self::AllAlreadyInCall
            | Self::InvalidGroupName
            | Self::GroupTooLarge
            | Self::BadView(_) => C::InvalidArgument,
            Self::FrameTooLarge => C::FrameTooLarge,
            Self::RateLimited => C::RateLimited,
            Self::NotLoggedIn | Self::LoginTimeout | Self::LoggedOut => C::NotLoggedIn,
            Self::BadUserSig(_) => C::BadUserSig,
            Self::AlreadyLoggedIn => C::AlreadyLoggedIn,
            Self::RingingFirst => C::Busy,
            Self::CallTooLarge => C::CallTooLarge,
            Self::NotRingingForYou | Self::InviteOver => C::InviteGone,
            Self::NotInCall => C::NotInCall,
            Self::NotInRoom => C::NotInRoom,
            Self::NotOneToOne => C::NotOneToOne,
            Self::CallingTooOften(_) => C::CallingTooOften,
            Self::NoSuchGroup => C::NoSuchGroup,
            Self::NotGroupMember => C::NotGroupMember,
            Self::TooManyGroups => C::TooManyGroups,
            Self::GroupStorage | Self::Storage => C::Server,
            Self::SwitchFailed { to, .. } => C::switch_failed(*to),
            Self::NoMicrophone(_) => C::NoMicrophone,
            Self::NoCamera(_) => C::NoCamera,
            Self::PermissionDenied(_) => C::PermissionDenied,
            Self::Connection(_) => C::Connection,
            Self::WebRtc(_) => C::WebRtc,
            Self::Remote { code, .. } => *code,
        }
    }

    /// The `error` frame that tells a client, answering request `req` if it had one.
    pub fn frame(&self, req: Option<u32>) -> ServerMsg {
        ServerMsg::Error {
            req,
            code: self.code(),
            message: self.to_string(),
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fixed = match self {
            Self::NotJson => "the frame is not JSON",
            Self::NoType => "the frame has no \"type\"",
            Self::BinaryFrame => "frames are JSON text",
            Self::UnknownType(t) => return write!(f, "unknown type {t:?}"),
            Self::BadField(why) => return f.write_str(why),
            Self::FrameTooLarge => "frames are limited to 64 KiB",
            Self::RateLimited => "too many messages; this one was dropped",
            Self::NotLoggedIn => "log in first",
            Self::LoginTimeout => "log in within 10 seconds",
            Self::BadUserSig(why) => return f.write_str(why),
            Self::AlreadyLoggedIn => "already logged in; call logout() first",
            Self::LoggedOut => "logged out",
            Self::RingingFirst => "answer or decline the call that is ringing first",
            Self::InvalidUserId => "userIDList holds an invalid user ID",
            Self::CallingYourself => "you cannot call yourself",
            Self::NobodyToCall => "nobody to call",
            Self::AllAlreadyInCall => "everyone listed is already in this call",
            Self::CallTooLarge => "a call holds at most CALLING_MAX_CALL_SIZE people",
            Self::NotRingingForYou => "that invitation is not ringing for you",
            Self::InviteOver => "that invitation is over",
            Self::NotInCall => "you are not in a call",
            Self::NotInRoom => "that user is not in your call",
            Self::NotOneToOne => "only a one-to-one call can switch type",
            Self::CallingTooOften(user) => {
                return write!(
                    f,
                    "you have called {user} too often; wait a little before calling again"
                )
            }
            Self::InvalidGroupName => "a group name has 1 to 64 characters",
            Self::GroupTooLarge => "a group has at most 200 members",
            Self::NoSuchGroup => "there is no such group",
            Self::NotGroupMember => "you are not a member of that group",
            Self::TooManyGroups => "you have made as many groups as one account can (100)",
            Self::GroupStorage => "the group could not be read or saved",
            Self::Storage => "the server could not read its database; try again",
            Self::SwitchFailed { why, .. }
            | Self::NoMicrophone(why)
            | Self::NoCamera(why)
            | Self::PermissionDenied(why)
            | Self::Connection(why)
            | Self::WebRtc(why)
            | Self::BadView(why) => return f.write_str(why),
            Self::Remote { message, .. } => return f.write_str(message),
        };
        f.write_str(fixed)
    }
}

impl std::error::Error for Refusal {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_ones_are_kept() {
        for (code, n) in CODES {
            assert_eq!(code.code(), n);
            assert_eq!(ErrorCode::from_code(n), code);
        }
        let mut numbers: Vec<u32> = CODES.iter().map(|(_, n)| *n).collect();
        numbers.sort_unstable();
        numbers.dedup();
        assert_eq!(numbers.len(), CODES.len(), "a number is used twice");
        assert_eq!(ErrorCode::from_code(4999), ErrorCode::Other(4999));
        assert_eq!(ErrorCode::Other(4999).code(), 4999);
        assert_eq!(
            serde_json::to_string(&ErrorCode::InviteGone).unwrap(),
            "4020"
        );
        assert_eq!(
            serde_json::from_str::<ErrorCode>("60001").unwrap(),
            ErrorCode::SwitchToAudioFailed
        );
    }

    #[test]
    fn a_refusal_becomes_one_error_frame() {
        let frame = Refusal::NotRingingForYou.frame(Some(3));
        assert_eq!(
            serde_json::to_value(&frame).unwrap(),
            serde_json::json!({
                "type": "error", "req": 3, "code": 4020,
                "message": "that invitation is not ringing for you"
            })
        );
        let f = Refusal::SwitchFailed {
            to: CallType::Video,
            why: "no camera".into(),
        };
        assert_eq!(
            (f.code().code(), f.to_string()),
            (60002, "no camera".into())
        );
    }
}
