//! The server's call logic: who is online, who is ringing, who is in which room. A pure state
//! machine: it takes inputs with the time passed in and queues outputs (frames to send,
//! connections to close) for the WebSocket edge to carry out. No sockets, no clock, no tasks.
//!
//! [`commands`] holds the requests users make; [`rooms`] the bookkeeping of rooms and
//! invitations they share, and their timeouts; [`presence`] what contacts are told; [`pacing`]
//! how often one user may ring another.

mod commands;
mod pacing;
mod presence;
mod rooms;

use std::{
    collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque},
    time::{Duration, Instant},
};

pub use app::protocol::Presence;
use app::protocol::{CallMsg, CallType, Outcome, ServerMsg};

/// One WebSocket connection, numbered by the edge.
pub type ConnId = u64;

/// How long a user who disconnected has to come back before contacts see them offline.
pub const OFFLINE_GRACE: Duration = Duration::from_secs(3);
/// The longest an invitation rings, `timeout: 0` ("no timeout" in the spec) included: a
/// stranger cannot keep anyone ringing, and so busy, for longer (`CALLING_MAX_RING_S`).
pub const DEFAULT_MAX_RING: Duration = Duration::from_secs(600);

/// What the switchboard asks the edge to do.
#[derive(Debug, PartialEq)]
pub enum Output {
    Send {
        conn: ConnId,
        msg: ServerMsg,
    },
    /// Send what is queued, then close: the connection was replaced by a newer login.
    Close {
        conn: ConnId,
    },
    /// Something for the call history; the edge stores it with the time it happened.
    Record(Record),
    /// The user's presence changed; the edge tells those who have them as a contact.
    Presence {
        user: String,
        presence: Presence,
    },
}

/// What the call history records, one invitee of one invitation at a time.
#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    Placed {
        invite_id: String,
        caller: String,
        callee: String,
        call_type: CallType,
        group: bool,
    },
    Answered {
        invite_id: String,
        callee: String,
    },
    Ended {
        invite_id: String,
        callee: String,
        ending: Ending,
    },
}

/// How one invitee's part of a call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// They answered and have now left (or the call ended).
    Answered,
    Declined,
    Busy,
    NoAnswer,
    Cancelled,
}

impl Ending {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Answered => "answered",
            Self::Declined => "declined",
            Self::Busy => "busy",
            Self::NoAnswer => "no_answer",
            Self::Cancelled => "cancelled",
        }
    }
}

/// A group resolved by the edge from the database, for `groupCall` with a `groupID`.
#[derive(Clone, Debug)]
pub struct Group {
    pub id: String,
    pub members: HashSet<String>,
}

/// What the edge looked up in the database for a `call`, before it reaches the board.
#[derive(Clone, Debug, Default)]
pub struct CallLookups {
    /// The group the call goes through, for a `groupID`.
    pub group: Option<Group>,
    /// Those listed who have blocked the caller: their invitations are never delivered, and to
    /// the caller they look offline (ringing until the timeout, then NO_RESP).
    pub blocked_by: HashSet<String>,
}

#[derive(Clone, Copy, Debug)]
struct Media {
    audio: bool,
    video: bool,
}

struct Room {
    call_type: CallType,
    members: BTreeMap<String, Media>,
    /// Member → the invitation they answered to get in (the caller has none).
    answered: HashMap<String, String>,
    /// Invitations into this room that still have someone ringing.
    invites: BTreeSet<String>,
}

struct Invite {
    room_id: u64,
    sponsor: String,
    invitees: Vec<String>,
    pending: BTreeSet<String>,
    /// Invitees who blocked the sponsor: never rung, answered by the timeout.
    silent: BTreeSet<String>,
    deadline: Option<Instant>,
    group_id: Option<String>,
}

pub struct Switchboard {
    max_call_size: usize,
    max_ring: Duration,
    pacing: pacing::Pacing,
    conns: HashMap<ConnId, String>,
    users: HashMap<String, ConnId>,
    rooms: HashMap<u64, Room>,
    invites: HashMap<String, Invite>,
    /// Invitee → the invitation ringing for them (at most one: a second caller gets LINE_BUSY).
    ringing: HashMap<String, String>,
    /// Member → their room (at most one).
    in_room: HashMap<String, u64>,
    /// The presence last announced for each user who is not offline.
    presence: HashMap<String, Presence>,
    /// Users whose presence may have changed since the last announcement.
    touched: Vec<String>,
    /// Users who went offline, and when that will be announced if they do not come back.
    going_offline: HashMap<String, Instant>,
    ids: IdSource,
    out: VecDeque<Output>,
}

/// Where invitation and room IDs come from: the OS's generator in the server, so that nobody
/// can guess the next one; a fixed sequence in tests.
pub type IdSource = Box<dyn FnMut() -> u64 + Send>;

/// A fixed, well-mixed sequence from `seed`, for tests that need the same IDs every run.
pub fn seeded_ids(seed: u64) -> IdSource {
    let mut counter = 0u64;
    Box::new(move || {
        counter += 1;
        splitmix64(seed ^ counter)
    })
}

impl Switchboard {
    pub fn new(max_call_size: usize, ids: IdSource) -> Self {
        Self {
            max_call_size: max_call_size.max(2),
            max_ring: DEFAULT_MAX_RING,
            pacing: pacing::Pacing::default(),
            conns: HashMap::new(),
            users: HashMap::new(),
            rooms: HashMap::new(),
            invites: HashMap::new(),
            ringing: HashMap::new(),
            in_room: HashMap::new(),
            presence: HashMap::new(),
            touched: Vec::new(),
            going_offline: HashMap::new(),
            ids,
            out: VecDeque::new(),
        }
    }

    /// With invitations ringing at most `max_ring` (at least a second).
    pub fn with_max_ring(mut self, max_ring: Duration) -> Self {
        self.max_ring = max_ring.max(Duration::from_secs(1));
        self
    }

    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// When [`Self::tick`] next has work: the earliest ringing deadline.
    pub fn next_deadline(&self) -> Option<Instant> {
        let ringing = self.invites.values().filter_map(|i| i.deadline);
        ringing.chain(self.going_offline.values().copied()).min()
    }

    pub fn is_online(&self, user: &str) -> bool {
        self.users.contains_key(user)
    }

    pub fn is_busy(&self, user: &str) -> bool {
        self.in_room.contains_key(user) || self.ringing.contains_key(user)
    }

    pub fn conn_of(&self, user: &str) -> Option<ConnId> {
        self.users.get(user).copied()
    }

    /// Binds `conn` to `user`, who has proven who they are. A connection the user already had
    /// is told KICKED_OUT and closed, and leaves any call it was in.
    pub fn login(&mut self, now: Instant, conn: ConnId, user: String) {
        if let Some(old) = self.users.get(&user).copied() {
            self.send(old, ServerMsg::KickedOut {});
            self.out.push_back(Output::Close { conn: old });
            // Not `disconnect`: the user stays online throughout, with no offline blip.
            self.drop_conn(old);
        }
        self.conns.insert(conn, user.clone());
        self.users.insert(user.clone(), conn);
        self.touch(&user);
        // An invitation that rang while they were away (or reloading) rings again.
        if let Some(invite_id) = self.ringing.get(&user).cloned() {
            self.send_invited(now, &invite_id, &user);
        }
        self.flush_presence(now);
    }

    /// The connection is gone: its user leaves their call. An invitation ringing for them keeps
    /// ringing until its timeout, so a reloaded tab can still answer.
    /// `user` signed out everywhere, changed their password or deleted their account: their
    /// connection hears KICKED_OUT, as if they had logged in elsewhere, and is closed.
    pub fn sign_out(&mut self, now: Instant, user: &str) {
        if let Some(conn) = self.users.get(user).copied() {
            self.send(conn, ServerMsg::KickedOut {});
            self.out.push_back(Output::Close { conn });
            self.drop_conn(conn);
        }
        self.flush_presence(now);
    }

    /// The server is stopping: every connection leaves, so every call ends and is recorded
    /// (answered ones as ended now, unanswered ones as cancelled). What the connections are
    /// told is the edge's business: they are closed as restarting.
    pub fn shutdown(&mut self, now: Instant) {
        let conns: Vec<ConnId> = self.conns.keys().copied().collect();
        for conn in conns {
            self.drop_conn(conn);
        }
        self.flush_presence(now);
    }

    pub fn disconnect(&mut self, now: Instant, conn: ConnId) {
        self.drop_conn(conn);
        self.flush_presence(now);
    }

    fn drop_conn(&mut self, conn: ConnId) {
        let Some(user) = self.conns.remove(&conn) else {
            return;
        };
        if self.users.get(&user) == Some(&conn) {
            self.users.remove(&user);
        }
        self.touch(&user);
        self.leave_room(&user);
    }

    /// Applies what a logged-in connection asked for. `group` holds the members of the call's
    /// `groupID`, as the edge read them from the database.
    pub fn apply(&mut self, now: Instant, conn: ConnId, msg: CallMsg, lookups: CallLookups) {
        let Some(user) = self.conns.get(&conn).cloned() else {
            return;
        };
        // The reply goes out before the events the command caused, so clients learn IDs first.
        let mark = self.out.len();
        let req = msg.req();
        let result = match msg {
            CallMsg::Call {
                user_ids,
                call_type,
                timeout,
                ..
            } => self.call(now, &user, user_ids, call_type, timeout, lookups),
            CallMsg::Accept { invite_id, .. } => self.accept(&user, &invite_id),
            CallMsg::Reject {
                invite_id, is_busy, ..
            } => self.reject(&user, &invite_id, is_busy),
            CallMsg::Hangup { .. } => self.hangup(&user),
            CallMsg::Signal { to, data } => self.signal(&user, to, data),
            CallMsg::Media { audio, video } => {
                self.media(&user, Media { audio, video });
                Ok(Outcome::default())
            }
            CallMsg::SwitchType { call_type, .. } => self.switch_type(&user, call_type),
        };
        let reply = match (req, result) {
            (Some(req), Ok(outcome)) => ServerMsg::Result { req, outcome },
            (req, Err(refusal)) => refusal.frame(req),
            (None, Ok(_)) => return,
        };
        self.out.insert(mark, Output::Send { conn, msg: reply });
        self.flush_presence(now);
    }

    // ---- plumbing ----

    fn touch(&mut self, user: &str) {
        self.touched.push(user.to_owned());
    }

    fn record(&mut self, record: Record) {
        self.out.push_back(Output::Record(record));
    }

    fn record_end(&mut self, invite_id: &str, callee: &str, ending: Ending) {
        self.record(Record::Ended {
            invite_id: invite_id.to_owned(),
            callee: callee.to_owned(),
            ending,
        });
    }

    fn send(&mut self, conn: ConnId, msg: ServerMsg) {
        self.out.push_back(Output::Send { conn, msg });
    }

    /// Sends to the user's live connection; nothing if they are offline.
    fn send_to_user(&mut self, user: &str, msg: ServerMsg) {
        if let Some(conn) = self.users.get(user).copied() {
            self.send(conn, msg);
        }
    }

    fn next_id(&mut self) -> u64 {
        (self.ids)()
    }

    fn new_invite_id(&mut self) -> String {
        format!("{:016x}", self.next_id())
    }

    /// Positive and below 2^31, so it is a safe Number in JavaScript and fits TRTC's room IDs.
    fn new_room_id(&mut self) -> u64 {
        loop {
            let id = self.next_id() % 0x7fff_ffff + 1;
            if !self.rooms.contains_key(&id) {
                return id;
            }
        }
    }
}

impl Media {
    fn default_for(call_type: CallType) -> Self {
        Self {
            audio: true,
            video: call_type == CallType::Video,
        }
    }

    fn message(self, user: &str) -> ServerMsg {
        ServerMsg::Media {
            user_id: user.to_owned(),
            audio: self.audio,
            video: self.video,
        }
    }
}

/// A small, well-mixed hash from a counter to an ID.
fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}
