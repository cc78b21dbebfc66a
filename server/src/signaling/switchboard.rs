//! The server's call logic: who is online, who is ringing, who is in which room. A pure state
//! machine: it takes inputs with the time passed in and queues outputs (frames to send,
//! connections to close) for the WebSocket edge to carry out. No sockets, no clock, no tasks.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque},
    time::{Duration, Instant},
};

use app::{
    protocol::{code, CallType, InviteData, Outcome, ServerMsg, SignalData, INVITE_DATA_VERSION},
    rules::check_user_id,
};

/// One WebSocket connection, numbered by the edge.
pub type ConnId = u64;

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
}

/// A group resolved by the edge from the database, for `groupCall` with a `groupID`.
#[derive(Clone, Debug)]
pub struct Group {
    pub id: String,
    pub members: HashSet<String>,
}

/// A logged-in user's request, as the edge decoded it.
#[derive(Debug)]
pub enum Command {
    Call {
        req: u32,
        user_ids: Vec<String>,
        call_type: CallType,
        timeout: u32,
        group: Option<Group>,
    },
    Accept {
        req: u32,
        invite_id: String,
    },
    Reject {
        req: u32,
        invite_id: String,
        is_busy: bool,
    },
    Hangup {
        req: u32,
    },
    Signal {
        to: String,
        data: SignalData,
    },
    Media {
        audio: bool,
        video: bool,
    },
    SwitchType {
        req: u32,
        call_type: CallType,
    },
}

#[derive(Clone, Copy, Debug)]
struct Media {
    audio: bool,
    video: bool,
}

struct Room {
    call_type: CallType,
    members: BTreeMap<String, Media>,
    /// Invitations into this room that still have someone ringing.
    invites: BTreeSet<String>,
}

struct Invite {
    room_id: u64,
    sponsor: String,
    invitees: Vec<String>,
    pending: BTreeSet<String>,
    deadline: Option<Instant>,
    group_id: Option<String>,
}

pub struct Switchboard {
    max_call_size: usize,
    conns: HashMap<ConnId, String>,
    users: HashMap<String, ConnId>,
    rooms: HashMap<u64, Room>,
    invites: HashMap<String, Invite>,
    /// Invitee → the invitation ringing for them (at most one: a second caller gets LINE_BUSY).
    ringing: HashMap<String, String>,
    /// Member → their room (at most one).
    in_room: HashMap<String, u64>,
    seed: u64,
    counter: u64,
    out: VecDeque<Output>,
}

/// A request refused: the error frame's code and words.
type Refusal = (u32, &'static str);

impl Switchboard {
    /// `seed` makes invitation and room IDs differ between server runs.
    pub fn new(max_call_size: usize, seed: u64) -> Self {
        Self {
            max_call_size: max_call_size.max(2),
            conns: HashMap::new(),
            users: HashMap::new(),
            rooms: HashMap::new(),
            invites: HashMap::new(),
            ringing: HashMap::new(),
            in_room: HashMap::new(),
            seed,
            counter: 0,
            out: VecDeque::new(),
        }
    }

    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// When [`Self::tick`] next has work: the earliest ringing deadline.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.invites.values().filter_map(|i| i.deadline).min()
    }

    pub fn is_online(&self, user: &str) -> bool {
        self.users.contains_key(user)
    }

    pub fn is_busy(&self, user: &str) -> bool {
        self.in_room.contains_key(user) || self.ringing.contains_key(user)
    }

    pub fn user_of(&self, conn: ConnId) -> Option<&str> {
        self.conns.get(&conn).map(String::as_str)
    }

    /// Binds `conn` to `user`, who has proven who they are. A connection the user already had
    /// is told KICKED_OUT and closed, and leaves any call it was in.
    pub fn login(&mut self, now: Instant, conn: ConnId, user: String) {
        if let Some(old) = self.users.get(&user).copied() {
            self.send(old, ServerMsg::KickedOut {});
            self.out.push_back(Output::Close { conn: old });
            self.disconnect(now, old);
        }
        self.conns.insert(conn, user.clone());
        self.users.insert(user.clone(), conn);
        // An invitation that rang while they were away (or reloading) rings again.
        if let Some(invite_id) = self.ringing.get(&user).cloned() {
            self.send_invited(now, &invite_id, &user);
        }
    }

    /// The connection is gone: its user leaves their call. An invitation ringing for them keeps
    /// ringing until its timeout, so a reloaded tab can still answer.
    pub fn disconnect(&mut self, _now: Instant, conn: ConnId) {
        let Some(user) = self.conns.remove(&conn) else {
            return;
        };
        if self.users.get(&user) == Some(&conn) {
            self.users.remove(&user);
        }
        self.leave_room(&user);
    }

    pub fn command(&mut self, now: Instant, conn: ConnId, command: Command) {
        let Some(user) = self.conns.get(&conn).cloned() else {
            return;
        };
        // The reply goes out before the events the command caused, so clients learn IDs first.
        let mark = self.out.len();
        let (req, result) = match command {
            Command::Call {
                req,
                user_ids,
                call_type,
                timeout,
                group,
            } => (
                Some(req),
                self.call(now, &user, user_ids, call_type, timeout, group),
            ),
            Command::Accept { req, invite_id } => (Some(req), self.accept(&user, &invite_id)),
            Command::Reject {
                req,
                invite_id,
                is_busy,
            } => (Some(req), self.reject(&user, &invite_id, is_busy)),
            Command::Hangup { req } => (Some(req), self.hangup(&user)),
            Command::Signal { to, data } => (None, self.signal(&user, to, data)),
            Command::Media { audio, video } => {
                self.media(&user, Media { audio, video });
                (None, Ok(Outcome::default()))
            }
            Command::SwitchType { req, call_type } => {
                (Some(req), self.switch_type(&user, call_type))
            }
        };
        let reply = match (req, result) {
            (Some(req), Ok(outcome)) => ServerMsg::Result { req, outcome },
            (req, Err((code, message))) => ServerMsg::Error {
                req,
                code,
                message: message.into(),
            },
            (None, Ok(_)) => return,
        };
        self.out.insert(mark, Output::Send { conn, msg: reply });
    }

    /// Rings out invitations whose time is up.
    pub fn tick(&mut self, now: Instant) {
        let due: Vec<String> = self
            .invites
            .iter()
            .filter(|(_, i)| i.deadline.is_some_and(|d| d <= now))
            .map(|(id, _)| id.clone())
            .collect();
        for invite_id in due {
            let Some(invite) = self.invites.remove(&invite_id) else {
                continue;
            };
            let expired: Vec<String> = invite.pending.iter().cloned().collect();
            for user in &expired {
                self.ringing.remove(user);
                self.send_to_user(
                    user,
                    ServerMsg::CallingTimeout {
                        invite_id: invite_id.clone(),
                    },
                );
            }
            if self.in_room.get(&invite.sponsor) == Some(&invite.room_id) {
                if let Some(first) = expired.first() {
                    self.send_to_user(
                        &invite.sponsor,
                        ServerMsg::NoResp {
                            invite_id: invite_id.clone(),
                            user_id: first.clone(),
                            user_ids: expired.clone(),
                        },
                    );
                }
            }
            if let Some(room) = self.rooms.get_mut(&invite.room_id) {
                room.invites.remove(&invite_id);
            }
            self.end_if_over(invite.room_id);
        }
    }

    // ---- commands ----

    fn call(
        &mut self,
        now: Instant,
        user: &str,
        user_ids: Vec<String>,
        call_type: CallType,
        timeout: u32,
        group: Option<Group>,
    ) -> Result<Outcome, Refusal> {
        if self.ringing.contains_key(user) {
            return Err((
                code::BUSY,
                "answer or decline the call that is ringing first",
            ));
        }
        let mut invitees: Vec<String> = Vec::new();
        for id in user_ids {
            if check_user_id(&id).is_err() {
                return Err((
                    code::INVALID_ARGUMENT,
                    "userIDList holds an invalid user ID",
                ));
            }
            if id == user {
                return Err((code::INVALID_ARGUMENT, "you cannot call yourself"));
            }
            if !invitees.contains(&id) {
                invitees.push(id);
            }
        }
        if let Some(group) = &group {
            if !group.members.contains(user) {
                return Err((code::NOT_GROUP_MEMBER, "you are not a member of that group"));
            }
            invitees.retain(|id| group.members.contains(id));
        }
        if invitees.is_empty() {
            return Err((code::INVALID_ARGUMENT, "nobody to call"));
        }

        let existing = self.in_room.get(user).copied();
        if let Some(room_id) = existing {
            let room = &self.rooms[&room_id];
            invitees.retain(|id| !room.members.contains_key(id) && !self.ringing_in(id, room_id));
            if invitees.is_empty() {
                return Err((
                    code::INVALID_ARGUMENT,
                    "everyone listed is already in this call",
                ));
            }
        }
        let occupied = existing.map_or(1, |room_id| self.occupancy(room_id));
        if occupied + invitees.len() > self.max_call_size {
            return Err((
                code::CALL_TOO_LARGE,
                "a call holds at most CALLING_MAX_CALL_SIZE people",
            ));
        }

        let room_id = match existing {
            Some(room_id) => room_id,
            None => {
                let room_id = self.new_room_id();
                let mut members = BTreeMap::new();
                members.insert(user.to_owned(), Media::default_for(call_type));
                self.rooms.insert(
                    room_id,
                    Room {
                        call_type,
                        members,
                        invites: BTreeSet::new(),
                    },
                );
                self.in_room.insert(user.to_owned(), room_id);
                room_id
            }
        };
        let invite_id = self.new_invite_id();
        let (busy, free): (Vec<String>, Vec<String>) =
            invitees.iter().cloned().partition(|id| self.is_busy(id));
        self.invites.insert(
            invite_id.clone(),
            Invite {
                room_id,
                sponsor: user.to_owned(),
                invitees: invitees.clone(),
                pending: free.iter().cloned().collect(),
                deadline: (timeout > 0).then(|| now + Duration::from_secs(timeout.into())),
                group_id: group.map(|g| g.id),
            },
        );
        for id in &free {
            self.ringing.insert(id.clone(), invite_id.clone());
            self.send_invited(now, &invite_id, id);
        }
        for id in busy {
            self.send_to_user(
                user,
                ServerMsg::LineBusy {
                    invite_id: invite_id.clone(),
                    user_id: id,
                },
            );
        }
        if free.is_empty() {
            self.invites.remove(&invite_id);
        } else if let Some(room) = self.rooms.get_mut(&room_id) {
            room.invites.insert(invite_id.clone());
        }
        self.end_if_over(room_id);
        Ok(Outcome {
            invite_id: Some(invite_id),
            room_id: Some(room_id),
            ..Outcome::default()
        })
    }

    fn accept(&mut self, user: &str, invite_id: &str) -> Result<Outcome, Refusal> {
        let room_id = self.take_pending(user, invite_id)?;
        let Some(room) = self.rooms.get_mut(&room_id) else {
            return Err((code::INVITE_GONE, "that call is over"));
        };
        let media = Media::default_for(room.call_type);
        let others: Vec<(String, Media)> = room
            .members
            .iter()
            .map(|(id, m)| (id.clone(), *m))
            .collect();
        room.members.insert(user.to_owned(), media);
        self.in_room.insert(user.to_owned(), room_id);
        for (other, other_media) in others {
            self.send_to_user(
                user,
                ServerMsg::UserEnter {
                    room_id,
                    user_id: other.clone(),
                },
            );
            self.send_to_user(user, other_media.message(&other));
            self.send_to_user(
                &other,
                ServerMsg::UserEnter {
                    room_id,
                    user_id: user.to_owned(),
                },
            );
            self.send_to_user(&other, media.message(user));
        }
        self.forget_finished_invite(invite_id);
        Ok(Outcome {
            invite_id: Some(invite_id.to_owned()),
            room_id: Some(room_id),
            ..Outcome::default()
        })
    }

    fn reject(&mut self, user: &str, invite_id: &str, is_busy: bool) -> Result<Outcome, Refusal> {
        let room_id = self.take_pending(user, invite_id)?;
        if let Some(invite) = self.invites.get(invite_id) {
            let sponsor = invite.sponsor.clone();
            if self.in_room.get(&sponsor) == Some(&room_id) {
                let (invite_id, user_id) = (invite_id.to_owned(), user.to_owned());
                let msg = if is_busy {
                    ServerMsg::LineBusy { invite_id, user_id }
                } else {
                    ServerMsg::Reject { invite_id, user_id }
                };
                self.send_to_user(&sponsor, msg);
            }
        }
        self.forget_finished_invite(invite_id);
        self.end_if_over(room_id);
        Ok(Outcome::default())
    }

    fn hangup(&mut self, user: &str) -> Result<Outcome, Refusal> {
        if let Some(invite_id) = self.ringing.get(user).cloned() {
            // Hanging up while it rings declines.
            return self.reject(user, &invite_id, false);
        }
        if !self.in_room.contains_key(user) {
            return Err((code::NOT_IN_CALL, "you are not in a call"));
        }
        self.leave_room(user);
        Ok(Outcome::default())
    }

    fn signal(&mut self, user: &str, to: String, data: SignalData) -> Result<Outcome, Refusal> {
        let mine = self.in_room.get(user);
        if mine.is_none() || mine != self.in_room.get(&to) {
            return Err((code::NOT_IN_ROOM, "that user is not in your call"));
        }
        self.send_to_user(
            &to,
            ServerMsg::Signal {
                from: user.to_owned(),
                data,
            },
        );
        Ok(Outcome::default())
    }

    fn media(&mut self, user: &str, media: Media) {
        let Some(room) = self.in_room.get(user).and_then(|r| self.rooms.get_mut(r)) else {
            return;
        };
        let Some(entry) = room.members.get_mut(user) else {
            return;
        };
        *entry = media;
        let others: Vec<String> = room
            .members
            .keys()
            .filter(|m| *m != user)
            .cloned()
            .collect();
        for other in others {
            self.send_to_user(&other, media.message(user));
        }
    }

    fn switch_type(&mut self, user: &str, call_type: CallType) -> Result<Outcome, Refusal> {
        let Some(room) = self.in_room.get(user).and_then(|r| self.rooms.get_mut(r)) else {
            return Err((code::NOT_IN_CALL, "you are not in a call"));
        };
        if room.members.len() != 2 || !room.invites.is_empty() {
            return Err((
                code::NOT_ONE_TO_ONE,
                "only a one-to-one call can switch type",
            ));
        }
        room.call_type = call_type;
        let other = room.members.keys().find(|m| *m != user).cloned();
        if let Some(other) = other {
            self.send_to_user(
                &other,
                ServerMsg::CallType {
                    user_id: user.to_owned(),
                    call_type,
                },
            );
        }
        Ok(Outcome::default())
    }

    // ---- rooms and invitations ----

    /// Removes `user` from the invitation's ringing set, if it is ringing for them.
    fn take_pending(&mut self, user: &str, invite_id: &str) -> Result<u64, Refusal> {
        if self.ringing.get(user).map(String::as_str) != Some(invite_id) {
            return Err((code::INVITE_GONE, "that invitation is not ringing for you"));
        }
        self.ringing.remove(user);
        let invite = self
            .invites
            .get_mut(invite_id)
            .ok_or((code::INVITE_GONE, "that invitation is over"))?;
        invite.pending.remove(user);
        Ok(invite.room_id)
    }

    fn forget_finished_invite(&mut self, invite_id: &str) {
        if self
            .invites
            .get(invite_id)
            .is_some_and(|i| i.pending.is_empty())
        {
            if let Some(invite) = self.invites.remove(invite_id) {
                if let Some(room) = self.rooms.get_mut(&invite.room_id) {
                    room.invites.remove(invite_id);
                }
            }
        }
    }

    fn leave_room(&mut self, user: &str) {
        let Some(room_id) = self.in_room.remove(user) else {
            return;
        };
        let Some(room) = self.rooms.get_mut(&room_id) else {
            return;
        };
        room.members.remove(user);
        let others: Vec<String> = room.members.keys().cloned().collect();
        let empty = others.is_empty();
        for other in others {
            self.send_to_user(
                &other,
                ServerMsg::UserLeave {
                    room_id,
                    user_id: user.to_owned(),
                },
            );
        }
        if empty {
            // Nobody left to answer to: whatever still rings is cancelled.
            let invites: Vec<String> = self
                .rooms
                .get(&room_id)
                .map(|r| r.invites.iter().cloned().collect())
                .unwrap_or_default();
            for invite_id in invites {
                if let Some(invite) = self.invites.remove(&invite_id) {
                    for id in invite.pending {
                        self.ringing.remove(&id);
                        self.send_to_user(
                            &id,
                            ServerMsg::CallingCancel {
                                invite_id: invite_id.clone(),
                                sponsor: invite.sponsor.clone(),
                            },
                        );
                    }
                }
            }
            if let Some(room) = self.rooms.get_mut(&room_id) {
                room.invites.clear();
            }
        }
        self.end_if_over(room_id);
    }

    /// A room with fewer than two members and nothing ringing is over.
    fn end_if_over(&mut self, room_id: u64) {
        let over = self
            .rooms
            .get(&room_id)
            .is_some_and(|r| r.members.len() < 2 && r.invites.is_empty());
        if !over {
            return;
        }
        if let Some(room) = self.rooms.remove(&room_id) {
            for member in room.members.keys() {
                self.in_room.remove(member);
                self.send_to_user(member, ServerMsg::CallEnd { room_id });
            }
        }
    }

    /// Members plus everyone still ringing for the room.
    fn occupancy(&self, room_id: u64) -> usize {
        let Some(room) = self.rooms.get(&room_id) else {
            return 0;
        };
        room.members.len()
            + room
                .invites
                .iter()
                .filter_map(|i| self.invites.get(i))
                .map(|i| i.pending.len())
                .sum::<usize>()
    }

    fn ringing_in(&self, user: &str, room_id: u64) -> bool {
        self.ringing
            .get(user)
            .and_then(|i| self.invites.get(i))
            .is_some_and(|i| i.room_id == room_id)
    }

    fn send_invited(&mut self, now: Instant, invite_id: &str, to: &str) {
        let Some(invite) = self.invites.get(invite_id) else {
            return;
        };
        let Some(room) = self.rooms.get(&invite.room_id) else {
            return;
        };
        let timeout = invite.deadline.map_or(0, |d| {
            let left = d.saturating_duration_since(now);
            // Round up, so a call with time left never says 0 (which means "no timeout").
            (left.as_millis().div_ceil(1000) as u32).max(1)
        });
        let msg = ServerMsg::Invited {
            invite_id: invite_id.to_owned(),
            sponsor: invite.sponsor.clone(),
            user_ids: invite.invitees.clone(),
            is_from_group: invite.group_id.is_some(),
            group_id: invite.group_id.clone(),
            invite_data: InviteData {
                version: INVITE_DATA_VERSION,
                call_type: room.call_type,
                room_id: invite.room_id,
            },
            timeout,
        };
        self.send_to_user(to, msg);
    }

    // ---- plumbing ----

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
        self.counter += 1;
        splitmix64(self.seed ^ self.counter)
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
