//! A little world of users around one switchboard, with a clock that only moves when told.

use std::{
    collections::{HashMap, HashSet},
    time::{Duration, Instant},
};

use app::protocol::{CallMsg, CallType, ErrorCode, ServerMsg, SignalData};
use server::signaling::switchboard::{
    seeded_ids, CallLookups, ConnId, Group, Output, Presence, Record, Switchboard,
};

pub struct World {
    pub board: Switchboard,
    pub now: Instant,
    conns: HashMap<String, ConnId>,
    inbox: HashMap<ConnId, Vec<ServerMsg>>,
    pub closed: HashSet<ConnId>,
    pub records: Vec<Record>,
    pub presence: Vec<(String, Presence)>,
    next_conn: ConnId,
    next_req: u32,
    /// (blocker, blocked) pairs, as the database would hold them.
    blocks: HashSet<(String, String)>,
}

impl World {
    pub fn new() -> Self {
        Self::with_max(9)
    }

    pub fn with_max(max: usize) -> Self {
        Self {
            board: Switchboard::new(max, seeded_ids(42)),
            now: Instant::now(),
            conns: HashMap::new(),
            inbox: HashMap::new(),
            closed: HashSet::new(),
            records: Vec::new(),
            presence: Vec::new(),
            next_conn: 1,
            next_req: 1,
            blocks: HashSet::new(),
        }
    }

    /// Logs `users` in, each on a new connection.
    pub fn online(users: &[&str]) -> Self {
        let mut w = Self::new();
        for u in users {
            w.login(u);
        }
        w
    }

    pub fn login(&mut self, user: &str) -> ConnId {
        let conn = self.next_conn;
        self.next_conn += 1;
        self.conns.insert(user.to_owned(), conn);
        self.board.login(self.now, conn, user.to_owned());
        self.pump();
        conn
    }

    pub fn conn(&self, user: &str) -> ConnId {
        self.conns[user]
    }

    pub fn disconnect(&mut self, user: &str) {
        let conn = self.conn(user);
        self.board.disconnect(self.now, conn);
        self.pump();
    }

    /// `user` signs out everywhere (or changes their password, or deletes the account).
    pub fn sign_out(&mut self, user: &str) {
        self.board.sign_out(self.now, user);
        self.pump();
    }

    pub fn advance(&mut self, secs: u64) {
        self.now += Duration::from_secs(secs);
        self.board.tick(self.now);
        self.pump();
    }

    pub fn command_on(&mut self, conn: ConnId, msg: CallMsg) {
        self.apply_on(conn, msg, None);
    }

    /// `blocker` blocks `blocked`, as the site's block button does.
    pub fn block(&mut self, blocker: &str, blocked: &str) {
        self.blocks.insert((blocker.to_owned(), blocked.to_owned()));
    }

    fn apply_on(&mut self, conn: ConnId, msg: CallMsg, group: Option<Group>) {
        let caller = self
            .conns
            .iter()
            .find(|(_, c)| **c == conn)
            .map(|(u, _)| u.clone())
            .unwrap_or_default();
        let blocked_by = match &msg {
            CallMsg::Call { user_ids, .. } => user_ids
                .iter()
                .filter(|id| self.blocks.contains(&((*id).clone(), caller.clone())))
                .cloned()
                .collect(),
            _ => HashSet::new(),
        };
        self.board
            .apply(self.now, conn, msg, CallLookups { group, blocked_by });
        self.pump();
    }

    pub fn command(&mut self, user: &str, msg: CallMsg) {
        let conn = self.conn(user);
        self.command_on(conn, msg);
    }

    pub fn req(&mut self) -> u32 {
        self.next_req += 1;
        self.next_req
    }

    fn pump(&mut self) {
        while let Some(out) = self.board.poll_output() {
            match out {
                Output::Send { conn, msg } => self.inbox.entry(conn).or_default().push(msg),
                Output::Close { conn } => {
                    self.closed.insert(conn);
                }
                Output::Record(r) => self.records.push(r),
                Output::Presence { user, presence } => self.presence.push((user, presence)),
            }
        }
    }

    /// Everything `user`'s current connection received since the last look.
    pub fn take(&mut self, user: &str) -> Vec<ServerMsg> {
        let conn = self.conn(user);
        self.inbox.remove(&conn).unwrap_or_default()
    }

    pub fn take_conn(&mut self, conn: ConnId) -> Vec<ServerMsg> {
        self.inbox.remove(&conn).unwrap_or_default()
    }

    /// Asserts `user` received nothing.
    pub fn quiet(&mut self, user: &str) {
        let got = self.take(user);
        assert!(
            got.is_empty(),
            "{user} should have received nothing, got {got:?}"
        );
    }

    /// Places a call and returns (inviteID, roomID) from the reply, leaving later frames queued.
    pub fn call(
        &mut self,
        from: &str,
        to: &[&str],
        call_type: CallType,
        timeout: u32,
    ) -> (String, u64) {
        self.call_with(from, to, call_type, timeout, None)
    }

    pub fn call_with(
        &mut self,
        from: &str,
        to: &[&str],
        call_type: CallType,
        timeout: u32,
        group: Option<Group>,
    ) -> (String, u64) {
        let user_ids = to.iter().map(|s| s.to_string()).collect();
        let group_id = group.as_ref().map(|g| g.id.clone());
        match self.ask_with(
            from,
            |req| CallMsg::Call {
                req,
                user_ids,
                call_type,
                timeout,
                group_id,
            },
            group,
        ) {
            ServerMsg::Result { outcome, .. } => (
                outcome.invite_id.expect("inviteID"),
                outcome.room_id.expect("roomID"),
            ),
            other => panic!("call from {from} was refused: {other:?}"),
        }
    }

    /// `from` calls `to`, who answers; returns the room, with everyone's inbox emptied.
    pub fn in_call(&mut self, from: &str, to: &str, call_type: CallType) -> u64 {
        let (invite_id, room_id) = self.call(from, &[to], call_type, 0);
        self.take(to);
        ok(&self.accept(to, &invite_id));
        self.take(from);
        self.take(to);
        room_id
    }

    /// Sends a request and returns its reply, leaving every other frame queued.
    pub fn ask(&mut self, user: &str, make: impl FnOnce(u32) -> CallMsg) -> ServerMsg {
        self.ask_with(user, make, None)
    }

    /// Like [`Self::ask`], for a call through `group`.
    pub fn ask_with(
        &mut self,
        user: &str,
        make: impl FnOnce(u32) -> CallMsg,
        group: Option<Group>,
    ) -> ServerMsg {
        let req = self.req();
        let conn = self.conn(user);
        self.apply_on(conn, make(req), group);
        let mut got = self.take(user);
        let at = got
            .iter()
            .position(|m| {
                matches!(m, ServerMsg::Result { req: r, .. } | ServerMsg::Error { req: Some(r), .. } if *r == req)
            })
            .unwrap_or_else(|| panic!("{user} got no reply to request {req}: {got:?}"));
        let reply = got.remove(at);
        let conn = self.conn(user);
        self.inbox.insert(conn, got);
        reply
    }

    pub fn accept(&mut self, user: &str, invite_id: &str) -> ServerMsg {
        let invite_id = invite_id.to_owned();
        self.ask(user, |req| CallMsg::Accept { req, invite_id })
    }

    pub fn reject(&mut self, user: &str, invite_id: &str, is_busy: bool) -> ServerMsg {
        let invite_id = invite_id.to_owned();
        self.ask(user, |req| CallMsg::Reject {
            req,
            invite_id,
            is_busy,
        })
    }

    pub fn hangup(&mut self, user: &str) -> ServerMsg {
        self.ask(user, |req| CallMsg::Hangup { req })
    }

    pub fn signal(&mut self, from: &str, to: &str, json: &str) {
        let data: SignalData = serde_json::from_str(json).expect("signal data");
        self.command(
            from,
            CallMsg::Signal {
                to: to.to_owned(),
                data,
            },
        );
    }

    /// The invitation ID of the INVITED `user` just got, asserting there was exactly one frame.
    pub fn invited(&mut self, user: &str) -> ServerMsg {
        let got = self.take(user);
        assert_eq!(got.len(), 1, "{user}: {got:?}");
        got.into_iter().next().unwrap()
    }
}

pub fn ok(reply: &ServerMsg) {
    assert!(
        matches!(reply, ServerMsg::Result { .. }),
        "expected success, got {reply:?}"
    );
}

/// The error code of a refusal.
pub fn refused(reply: &ServerMsg) -> ErrorCode {
    match reply {
        ServerMsg::Error { code, .. } => *code,
        other => panic!("expected an error, got {other:?}"),
    }
}

pub fn enter(room_id: u64, user: &str) -> ServerMsg {
    ServerMsg::UserEnter {
        room_id,
        user_id: user.into(),
    }
}

pub fn leave(room_id: u64, user: &str) -> ServerMsg {
    ServerMsg::UserLeave {
        room_id,
        user_id: user.into(),
    }
}

pub fn media(user: &str, audio: bool, video: bool) -> ServerMsg {
    ServerMsg::Media {
        user_id: user.into(),
        audio,
        video,
    }
}

pub fn group(id: &str, members: &[&str]) -> Group {
    Group {
        id: id.into(),
        members: members.iter().map(|m| m.to_string()).collect(),
    }
}
