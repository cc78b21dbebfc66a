//! The browser's call state, as a pure state machine in the manner of str0m's `Rtc`: inputs in
//! with the time passed in ([`Machine::handle`]), effects out ([`Machine::poll`]: frames to
//! send, events to emit, peer connections to open, restart or close), and the next moment it
//! wants to be woken ([`Machine::poll_timeout`]). The Wasm glue in [`super::web`] carries the
//! effects out and feeds back what happened; nothing here touches the browser or a clock.
//!
//! [`requests`] holds the API calls, [`server`] how the machine follows the server, and
//! [`links`] the rules for peer connections that drop and come back.

mod links;
mod requests;
mod resume;
mod server;
#[cfg(test)]
mod tests;

use std::{
    collections::{BTreeMap, HashMap, VecDeque},
    time::Duration,
};

use super::events::Event;
use crate::protocol::{CallMsg, CallType, ClientMsg, IceServer, InviteData, Login, Outcome};
pub use crate::protocol::{Refusal, SignalData};

/// Identifies an API call waiting for its answer.
pub type Token = u64;

/// What happened, for [`Machine::handle`].
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    /// An API call. Its answer comes as [`Effect::Complete`] with the same token. Requests are
    /// numbered by the machine: whatever `req` the message carries is replaced.
    Request {
        token: Token,
        msg: ClientMsg,
    },
    /// The signaling connection asked for by [`Effect::OpenSocket`] is open.
    SocketOpen,
    Server(crate::protocol::ServerMsg),
    /// A peer connection's `connectionState` changed.
    Link {
        user: String,
        state: LinkState,
    },
    /// Our microphone or camera changed.
    LocalMedia {
        audio: bool,
        video: bool,
    },
    /// The signaling connection failed to open or was lost: the session ends, and any call.
    Disconnected(String),
    /// The server closed the connection because it is restarting (close code 1012): the call
    /// ends but the session comes back by itself, the first attempt after `spread` (a random
    /// pause the glue picks, so that clients do not all return at once).
    ServerRestarting {
        spread: Duration,
    },
    /// `logout()`: forget the session; the glue closes the socket.
    Logout,
    /// The moment [`Machine::poll_timeout`] gave has come.
    Timeout,
}

/// `RTCPeerConnection.connectionState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkState {
    New,
    Connecting,
    Connected,
    Disconnected,
    Failed,
    Closed,
}

impl LinkState {
    pub fn parse(state: &str) -> Option<Self> {
        Some(match state {
            "new" => Self::New,
            "connecting" => Self::Connecting,
            "connected" => Self::Connected,
            "disconnected" => Self::Disconnected,
            "failed" => Self::Failed,
            "closed" => Self::Closed,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// Open the signaling connection, then report [`Input::SocketOpen`] or
    /// [`Input::Disconnected`].
    OpenSocket,
    Send(ClientMsg),
    Emit(Event),
    Complete {
        token: Token,
        result: Result<Outcome, Refusal>,
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
    /// Offer again with fresh ICE credentials: the connection with `user` failed.
    RestartIce {
        user: String,
    },
    /// Capture what this call type needs: start or stop the camera.
    UseCallType(CallType),
    /// The call is over: release the devices, close every peer connection.
    EndCall,
    IceServers(Vec<IceServer>),
    /// The session is over: close the socket.
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

/// One member of our call, and our connection with them.
#[derive(Clone, Debug, Default)]
struct Member {
    audio: Option<bool>,
    video: Option<bool>,
    /// This side makes the offers (and so the ICE restarts) on this connection.
    offerer: bool,
    /// The connection has been up at least once.
    connected: bool,
    /// The connection dropped and has not come back yet.
    reconnecting: bool,
    /// When a one-to-one call gives up on it, unless it connects or comes back first.
    give_up_at: Option<Duration>,
    /// When a connection that went `disconnected` gets an ICE restart unless it comes back
    /// first: a new network or NAT mapping never brings the old path back.
    restart_at: Option<Duration>,
    /// When we last restarted ICE with them, so that a burst of failures restarts once.
    restarted_at: Option<Duration>,
}

/// An invitation ringing for us, as it came.
#[derive(Clone, Debug)]
struct Ringing {
    data: InviteData,
    sponsor: String,
    user_ids: Vec<String>,
    /// When it arrived: the newest is the one an answer without an ID is for.
    arrived: Duration,
}

/// What a request in flight was, to follow its answer.
enum Pending {
    Call(CallType),
    Accept(String),
    Reject(String),
    Hangup,
    SwitchType(CallType),
    Other,
}

pub struct Machine {
    now: Duration,
    user: Option<String>,
    phase: Phase,
    /// Invitations ringing for us.
    ringing: BTreeMap<String, Ringing>,
    /// When the first member of our call entered: the call's length is counted from here.
    connected_at: Option<Duration>,
    members: BTreeMap<String, Member>,
    local_audio: bool,
    local_video: bool,
    next_req: u32,
    /// Requests in flight; those the machine made itself have no token.
    pending: HashMap<u32, (Option<Token>, Pending)>,
    /// When each request in flight is given up on, oldest first (every request gets the same
    /// time, so the order is the order sent); answered ones are skipped and dropped.
    answer_by: VecDeque<(Duration, u32)>,
    /// A login in progress (with the API call's token, none for one the machine makes itself
    /// to come back after a restart), and its credentials until the socket is open.
    login: Option<(Option<Token>, Option<Login>)>,
    login_by: Option<Duration>,
    /// The credentials of the session, kept to log in again after a server restart.
    last_login: Option<Login>,
    /// Waiting out a server restart.
    resuming: Option<resume::Resuming>,
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
            now: Duration::ZERO,
            user: None,
            phase: Phase::Idle,
            ringing: BTreeMap::new(),
            connected_at: None,
            members: BTreeMap::new(),
            local_audio: true,
            local_video: false,
            next_req: 0,
            pending: HashMap::new(),
            answer_by: VecDeque::new(),
            login: None,
            login_by: None,
            last_login: None,
            resuming: None,
            out: VecDeque::new(),
        }
    }

    /// Takes one input at `now` (time since any fixed moment; it must not go backwards).
    pub fn handle(&mut self, now: Duration, input: Input) {
        self.now = self.now.max(now);
        match input {
            Input::Request { token, msg } => self.on_request(token, msg),
            Input::SocketOpen => self.socket_open(),
            Input::Server(msg) => self.on_server_msg(msg),
            Input::Link { user, state } => self.on_link(&user, state),
            Input::LocalMedia { audio, video } => self.on_local_media(audio, video),
            Input::Disconnected(reason) => self.on_disconnected(reason),
            Input::ServerRestarting { spread } => self.on_server_restarting(spread),
            Input::Logout => self.on_logout(),
            Input::Timeout => {
                self.on_request_timeout();
                self.on_resume_timeout();
                self.on_timeout();
            }
        }
        self.forget_answered();
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
        self.ringing.get(invite_id).map(|r| &r.data)
    }

    /// The newest invitation still ringing for us.
    pub fn ringing_invite(&self) -> Option<&str> {
        self.ringing
            .iter()
            .max_by_key(|(_, r)| r.arrived)
            .map(|(id, _)| id.as_str())
    }

    pub fn in_call(&self) -> bool {
        self.phase != Phase::Idle
    }

    /// Whether the call may switch to `to` now; the refusal is the one the request would get.
    pub fn check_switch(&self, to: CallType) -> Result<(), Refusal> {
        let one_to_one = matches!(self.phase, Phase::InCall { .. }) && self.members.len() == 1;
        if one_to_one {
            Ok(())
        } else {
            Err(Refusal::SwitchFailed {
                to,
                why: "only a one-to-one call in progress can switch type".into(),
            })
        }
    }

    fn on_local_media(&mut self, audio: bool, video: bool) {
        self.local_audio = audio;
        self.local_video = video;
        if matches!(self.phase, Phase::InCall { .. }) {
            self.send_media();
        }
    }

    /// The signaling connection is gone: the session and any call with it.
    fn on_disconnected(&mut self, reason: String) {
        if self.resume_failed(&reason) {
            return;
        }
        self.last_login = None;
        if let Some((token, _)) = self.login.take() {
            self.complete(token, Err(Refusal::Connection(reason.clone().into())));
        }
        self.fail_pending(|| Refusal::Connection(reason.clone().into()));
        if self.phase != Phase::Idle {
            self.end_and_report();
        }
        let was_user = self.user.take().is_some();
        self.ringing.clear();
        if was_user {
            self.emit(Event::Error(Refusal::Connection(reason.into())));
        }
    }

    fn on_logout(&mut self) {
        if self.phase != Phase::Idle {
            self.end_locally();
        }
        self.user = None;
        self.login = None;
        self.last_login = None;
        self.resuming = None;
        self.ringing.clear();
        self.fail_pending(|| Refusal::LoggedOut);
    }

    fn fail_pending(&mut self, why: impl Fn() -> Refusal) {
        let tokens: Vec<Option<Token>> = self.pending.drain().map(|(_, (t, _))| t).collect();
        for token in tokens {
            self.complete(token, Err(why()));
        }
    }

    /// Ends the call here and tells the page, with how long it lasted.
    fn end_and_report(&mut self) {
        let seconds = self
            .connected_at
            .map_or(0, |at| self.now.saturating_sub(at).as_secs());
        let user_id = self.user.clone().unwrap_or_default();
        self.end_locally();
        self.emit(Event::CallEnd { user_id, seconds });
    }

    fn end_locally(&mut self) {
        self.connected_at = None;
        let members: Vec<String> = std::mem::take(&mut self.members).into_keys().collect();
        for user in members {
            self.out.push_back(Effect::Disconnect { user });
        }
        self.phase = Phase::Idle;
        self.out.push_back(Effect::EndCall);
    }

    fn send_media(&mut self) {
        self.send(CallMsg::Media {
            audio: self.local_audio,
            video: self.local_video,
        });
    }

    fn send(&mut self, msg: CallMsg) {
        self.out.push_back(Effect::Send(ClientMsg::Call(msg)));
    }

    fn emit(&mut self, event: Event) {
        self.out.push_back(Effect::Emit(event));
    }

    /// Answers an API call; requests the machine made itself have nobody to answer.
    fn complete(&mut self, token: Option<Token>, result: Result<Outcome, Refusal>) {
        if let Some(token) = token {
            self.out.push_back(Effect::Complete { token, result });
        }
    }

    fn next_req(&mut self) -> u32 {
        self.next_req = self.next_req.wrapping_add(1);
        self.next_req
    }
}
