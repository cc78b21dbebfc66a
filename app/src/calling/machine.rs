//! The browser's call state, as a pure state machine: API requests and server frames in,
//! effects out (frames to send, events to emit, peer connections to open or close). The Wasm
//! glue in [`super::web`] carries the effects out; nothing here touches the browser.

use std::collections::{BTreeMap, HashMap, VecDeque};

use super::events::{code as ecode, Event};
use crate::protocol::{
    code, CallType, ClientMsg, IceServer, InviteData, Outcome, ServerMsg, SignalData,
};

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

    pub fn on_server(&mut self, msg: ServerMsg) {
        match msg {
            ServerMsg::LoggedIn {
                user_id,
                ice_servers,
            } => {
                self.user = Some(user_id);
                self.out.push_back(Effect::IceServers(ice_servers));
                if let Some(token) = self.login.take() {
                    self.complete(token, Ok(Outcome::default()));
                }
            }
            ServerMsg::Result { req, outcome } => self.on_result(req, outcome),
            ServerMsg::Error {
                req: Some(req),
                code,
                message,
            } => self.on_error(req, code, message),
            ServerMsg::Error {
                req: None,
                code,
                message,
            } => match self.login.take() {
                Some(token) => self.complete(token, Err(Failure { code, message })),
                None => self.emit(Event::Error { code, message }),
            },
            ServerMsg::Invited {
                invite_id,
                sponsor,
                user_ids,
                is_from_group,
                invite_data,
                ..
            } => {
                self.ringing.insert(invite_id.clone(), invite_data.clone());
                self.emit(Event::Invited {
                    invite_id,
                    sponsor,
                    user_ids,
                    is_from_group,
                    invite_data,
                });
            }
            ServerMsg::Reject { user_id, .. } => self.emit(Event::Reject { user_id }),
            ServerMsg::LineBusy { user_id, .. } => self.emit(Event::LineBusy { user_id }),
            ServerMsg::NoResp {
                user_id, user_ids, ..
            } => self.emit(Event::NoResp { user_id, user_ids }),
            ServerMsg::CallingCancel { invite_id, sponsor } => {
                if self.ringing.remove(&invite_id).is_some() {
                    self.emit(Event::CallingCancel { invite_id, sponsor });
                }
            }
            ServerMsg::CallingTimeout { invite_id } => {
                if self.ringing.remove(&invite_id).is_some() {
                    self.emit(Event::CallingTimeout { invite_id });
                }
            }
            ServerMsg::UserEnter { room_id, user_id } => self.on_enter(room_id, user_id),
            ServerMsg::UserLeave { user_id, .. } => {
                if self.members.remove(&user_id).is_some() {
                    self.out.push_back(Effect::Disconnect {
                        user: user_id.clone(),
                    });
                    self.emit(Event::UserLeave { user_id });
                }
            }
            ServerMsg::CallEnd { .. } => {
                if self.phase != Phase::Idle {
                    self.end_locally();
                    self.emit(Event::CallEnd);
                }
            }
            ServerMsg::KickedOut {} => {
                if self.phase != Phase::Idle {
                    self.end_locally();
                }
                self.user = None;
                self.ringing.clear();
                self.emit(Event::KickedOut);
                self.out.push_back(Effect::Closed);
            }
            ServerMsg::Media {
                user_id,
                audio,
                video,
            } => self.on_media(user_id, audio, video),
            ServerMsg::CallType { call_type, .. } => {
                if let Phase::InCall { room_id, .. } = self.phase {
                    self.phase = Phase::InCall { room_id, call_type };
                    self.out.push_back(Effect::UseCallType(call_type));
                }
            }
            ServerMsg::Presence { user_id, status } => {
                self.emit(Event::Presence { user_id, status });
            }
            ServerMsg::Signal { from, data } => {
                if self.members.contains_key(&from) {
                    self.out.push_back(Effect::Signal { from, data });
                }
            }
        }
    }

    fn on_result(&mut self, req: u32, outcome: Outcome) {
        let Some((token, pending)) = self.pending.remove(&req) else {
            return;
        };
        match pending {
            Pending::Call(call_type) => {
                if let (Phase::Idle, Some(room_id)) = (self.phase, outcome.room_id) {
                    self.phase = Phase::Calling { room_id, call_type };
                }
            }
            Pending::Accept(invite_id) => {
                if let (Some(data), Some(room_id)) =
                    (self.ringing.remove(&invite_id), outcome.room_id)
                {
                    self.phase = Phase::InCall {
                        room_id,
                        call_type: data.call_type,
                    };
                    self.send_media();
                }
            }
            Pending::Reject(invite_id) => {
                self.ringing.remove(&invite_id);
            }
            Pending::SwitchType(call_type) => {
                if let Phase::InCall { room_id, .. } = self.phase {
                    self.phase = Phase::InCall { room_id, call_type };
                    self.out.push_back(Effect::UseCallType(call_type));
                }
            }
            Pending::Hangup | Pending::Other => {}
        }
        self.complete(token, Ok(outcome));
    }

    fn on_error(&mut self, req: u32, code: u32, message: String) {
        let Some((token, pending)) = self.pending.remove(&req) else {
            self.emit(Event::Error { code, message });
            return;
        };
        let failure = match pending {
            // The server no longer had us in a call: hanging up succeeded all the same.
            Pending::Hangup => {
                self.complete(token, Ok(Outcome::default()));
                return;
            }
            Pending::Accept(invite_id) | Pending::Reject(invite_id) => {
                if code == crate::protocol::code::INVITE_GONE {
                    self.ringing.remove(&invite_id);
                }
                Failure { code, message }
            }
            Pending::SwitchType(call_type) => {
                let f = Failure::new(switch_failure(call_type), message);
                self.emit(Event::Error {
                    code: f.code,
                    message: f.message.clone(),
                });
                f
            }
            Pending::Call(_) | Pending::Other => Failure { code, message },
        };
        self.complete(token, Err(failure));
    }

    fn on_enter(&mut self, room_id: u64, user_id: String) {
        let current = match self.phase {
            Phase::Calling {
                room_id: r,
                call_type,
            }
            | Phase::InCall {
                room_id: r,
                call_type,
            } if r == room_id => call_type,
            _ => return,
        };
        if matches!(self.phase, Phase::Calling { .. }) {
            self.phase = Phase::InCall {
                room_id,
                call_type: current,
            };
            self.send_media();
        }
        if self.members.contains_key(&user_id) {
            return;
        }
        self.members.insert(user_id.clone(), MemberMedia::default());
        // One fixed rule for who offers, so both sides never offer at once.
        let offer = self.user.as_deref().is_some_and(|me| me < user_id.as_str());
        self.out.push_back(Effect::Connect {
            user: user_id.clone(),
            offer,
        });
        self.emit(Event::UserEnter { user_id });
    }

    fn on_media(&mut self, user_id: String, audio: bool, video: bool) {
        let Some(known) = self.members.get_mut(&user_id) else {
            return;
        };
        let before = *known;
        known.audio = Some(audio);
        known.video = Some(video);
        if before.audio != Some(audio) {
            self.emit(Event::UserAudioAvailable {
                user_id: user_id.clone(),
                available: audio,
            });
        }
        if before.video != Some(video) {
            self.emit(Event::UserVideoAvailable {
                user_id,
                available: video,
            });
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

#[cfg(test)]
mod tests;
