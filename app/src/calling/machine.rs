//! The browser's call state, as a pure state machine: API requests and server frames in,
//! effects out (frames to send, events to emit, peer connections to open or close). The Wasm
//! glue in [`super::web`] carries the effects out; nothing here touches the browser.

use std::collections::{BTreeMap, HashMap, VecDeque};

use super::events::{code as ecode, Event};
use crate::protocol::{code, CallType, ClientMsg, IceServer, InviteData, Outcome, SignalData};

/// Identifies an API call waiting for its answer.
pub type Token = u64;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub code: u32,
    pub message: String,
}

impl Failure {
    pub fn new(code: u32, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    Login {
        user_id: String,
        user_sig: String,
    },
    Call {
        user_ids: Vec<String>,
        call_type: CallType,
        timeout: u32,
        group_id: Option<String>,
    },
    Accept {
        invite_id: String,
    },
    Reject {
        invite_id: String,
        is_busy: bool,
    },
    Hangup,
    SwitchType(CallType),
    CreateGroup {
        name: String,
        user_ids: Vec<String>,
    },
    ListGroups,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    Send(ClientMsg),
    Emit(Event),
    Complete {
        token: Token,
        result: Result<Outcome, Failure>,
    },
    /// Open a peer connection to a member of the call; `offer` says whether this side offers.
    Connect {
        user: String,
        offer: bool,
    },
    Disconnect {
        user: String,
    },
    /// Negotiation from a member, for its peer connection.
    Signal {
        from: String,
        data: SignalData,
    },
    /// Capture what this call type needs: start or stop the camera.
    UseCallType(CallType),
    /// The call is over: release the devices, close every peer connection.
    EndCall,
    IceServers(Vec<IceServer>),
    /// The server ended the session: close the socket.
    Closed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Idle,
    /// Our invitation is ringing and nobody has answered yet.
    Calling {
        room_id: u64,
        call_type: CallType,
    },
    InCall {
        room_id: u64,
        call_type: CallType,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
struct MemberMedia {
    audio: Option<bool>,
    video: Option<bool>,
}

enum Pending {
    Call(CallType),
    Accept(String),
    Reject(String),
    Hangup,
    SwitchType(CallType),
    Other,
}

pub struct Machine {
    user: Option<String>,
    phase: Phase,
    /// Invitations ringing for us.
    ringing: BTreeMap<String, InviteData>,
    members: BTreeMap<String, MemberMedia>,
    local_audio: bool,
    local_video: bool,
    next_req: u32,
    pending: HashMap<u32, (Token, Pending)>,
    login: Option<Token>,
    out: VecDeque<Effect>,
}

impl Default for Machine {
    fn default() -> Self {
        Self::new()
    }
}

impl Machine {
    pub fn new() -> Self {
        Self {
            user: None,
            phase: Phase::Idle,
            ringing: BTreeMap::new(),
            members: BTreeMap::new(),
            local_audio: true,
            local_video: false,
            next_req: 0,
            pending: HashMap::new(),
            login: None,
            out: VecDeque::new(),
        }
    }

    pub fn poll(&mut self) -> Option<Effect> {
        self.out.pop_front()
    }

    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    pub fn members(&self) -> impl Iterator<Item = &str> {
        self.members.keys().map(String::as_str)
    }

    pub fn invitation(&self, invite_id: &str) -> Option<&InviteData> {
        self.ringing.get(invite_id)
    }

    pub fn in_call(&self) -> bool {
        self.phase != Phase::Idle
    }

    /// An API call. Its answer comes later as [`Effect::Complete`] with the same token.
    pub fn request(&mut self, token: Token, request: Request) {
        if let Err(f) = self.try_request(token, request) {
            self.out.push_back(Effect::Complete {
                token,
                result: Err(f),
            });
        }
    }

    fn try_request(&mut self, token: Token, request: Request) -> Result<(), Failure> {
        if let Request::Login { user_id, user_sig } = request {
            if self.user.is_some() || self.login.is_some() {
                return Err(Failure::new(
                    code::ALREADY_LOGGED_IN,
                    "already logged in; call logout() first",
                ));
            }
            self.login = Some(token);
            self.out
                .push_back(Effect::Send(ClientMsg::Login { user_id, user_sig }));
            return Ok(());
        }
        if self.user.is_none() {
            return Err(Failure::new(code::NOT_LOGGED_IN, "log in first"));
        }
        let req = self.next_req();
        let (msg, pending) = match request {
            Request::Login { .. } => unreachable!("handled above"),
            Request::Call {
                user_ids,
                call_type,
                timeout,
                group_id,
            } => {
                if user_ids.is_empty() {
                    return Err(Failure::new(code::INVALID_ARGUMENT, "nobody to call"));
                }
                (
                    ClientMsg::Call {
                        req,
                        user_ids,
                        call_type,
                        timeout,
                        group_id,
                    },
                    Pending::Call(call_type),
                )
            }
            Request::Accept { invite_id } => {
                if !self.ringing.contains_key(&invite_id) {
                    return Err(Failure::new(
                        code::INVITE_GONE,
                        "that invitation is not ringing",
                    ));
                }
                (
                    ClientMsg::Accept {
                        req,
                        invite_id: invite_id.clone(),
                    },
                    Pending::Accept(invite_id),
                )
            }
            Request::Reject { invite_id, is_busy } => {
                if !self.ringing.contains_key(&invite_id) {
                    return Err(Failure::new(
                        code::INVITE_GONE,
                        "that invitation is not ringing",
                    ));
                }
                (
                    ClientMsg::Reject {
                        req,
                        invite_id: invite_id.clone(),
                        is_busy,
                    },
                    Pending::Reject(invite_id),
                )
            }
            Request::Hangup => {
                if self.phase == Phase::Idle && self.ringing.is_empty() {
                    // Nothing to hang up: done.
                    self.out.push_back(Effect::Complete {
                        token,
                        result: Ok(Outcome::default()),
                    });
                    return Ok(());
                }
                // Release devices at once; the server's answer only confirms.
                if self.phase != Phase::Idle {
                    self.end_locally();
                }
                (ClientMsg::Hangup { req }, Pending::Hangup)
            }
            Request::SwitchType(call_type) => {
                let failed = switch_failure(call_type);
                let one_to_one =
                    matches!(self.phase, Phase::InCall { .. }) && self.members.len() == 1;
                if !one_to_one {
                    let f =
                        Failure::new(failed, "only a one-to-one call in progress can switch type");
                    self.emit(Event::Error {
                        code: f.code,
                        message: f.message.clone(),
                    });
                    return Err(f);
                }
                (
                    ClientMsg::SwitchType { req, call_type },
                    Pending::SwitchType(call_type),
                )
            }
            Request::CreateGroup { name, user_ids } => (
                ClientMsg::CreateGroup {
                    req,
                    name,
                    user_ids,
                },
                Pending::Other,
            ),
            Request::ListGroups => (ClientMsg::ListGroups { req }, Pending::Other),
        };
        self.pending.insert(req, (token, pending));
        self.out.push_back(Effect::Send(msg));
        Ok(())
    }

    /// Our microphone or camera changed; the others hear of it while we are in a call.
    pub fn set_local_media(&mut self, audio: bool, video: bool) {
        self.local_audio = audio;
        self.local_video = video;
        if matches!(self.phase, Phase::InCall { .. }) {
            self.send_media();
        }
    }

    /// The signaling connection is gone: the session and any call with it.
    pub fn disconnected(&mut self, reason: &str) {
        let logging_in = self.login.take();
        if let Some(token) = logging_in {
            self.complete(token, Err(Failure::new(ecode::CONNECTION, reason)));
        }
        let pending: Vec<Token> = self.pending.drain().map(|(_, (t, _))| t).collect();
        for token in pending {
            self.complete(token, Err(Failure::new(ecode::CONNECTION, reason)));
        }
        let was_in_call = self.phase != Phase::Idle;
        let was_user = self.user.take().is_some();
        if was_in_call {
            self.end_locally();
            self.emit(Event::CallEnd);
        }
        self.ringing.clear();
        if was_user {
            self.emit(Event::Error {
                code: ecode::CONNECTION,
                message: reason.to_owned(),
            });
        }
    }

    /// Forget the session (after `logout()`); the caller closes the socket.
    pub fn logout(&mut self) {
        if self.phase != Phase::Idle {
            self.end_locally();
        }
        self.user = None;
        self.login = None;
        self.ringing.clear();
        let pending: Vec<Token> = self.pending.drain().map(|(_, (t, _))| t).collect();
        for token in pending {
            self.complete(token, Err(Failure::new(code::NOT_LOGGED_IN, "logged out")));
        }
    }

    fn end_locally(&mut self) {
        let members: Vec<String> = std::mem::take(&mut self.members).into_keys().collect();
        for user in members {
            self.out.push_back(Effect::Disconnect { user });
        }
        self.phase = Phase::Idle;
        self.out.push_back(Effect::EndCall);
    }

    fn send_media(&mut self) {
        self.out.push_back(Effect::Send(ClientMsg::Media {
            audio: self.local_audio,
            video: self.local_video,
        }));
    }

    fn emit(&mut self, event: Event) {
        self.out.push_back(Effect::Emit(event));
    }

    fn complete(&mut self, token: Token, result: Result<Outcome, Failure>) {
        self.out.push_back(Effect::Complete { token, result });
    }

    fn next_req(&mut self) -> u32 {
        self.next_req = self.next_req.wrapping_add(1);
        self.next_req
    }
}

fn switch_failure(to: CallType) -> u32 {
    match to {
        CallType::Audio => ecode::SWITCH_TO_AUDIO_FAILED,
        CallType::Video => ecode::SWITCH_TO_VIDEO_FAILED,
    }
}

mod server;
#[cfg(test)]
mod tests;
