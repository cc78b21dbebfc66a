//! The requests a logged-in user makes.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap, HashSet},
    time::{Duration, Instant},
};

use app::{
    protocol::{CallType, Outcome, Refusal, ServerMsg, SignalData},
    rules::check_user_id,
};

use super::{CallLookups, Ending, Group, Invite, Media, Record, Room, Switchboard};

/// How many times the call-size cap a `userIDList` may be long: room for a page that repeats a
/// name, no room for a list that makes the lock work.
const LIST_SLACK: usize = 2;

impl Switchboard {
    /// The longest `userIDList` worth looking at: one longer than a call can be is refused
    /// before any work, the database's included.
    pub fn max_list(&self) -> usize {
        self.max_call_size.saturating_mul(LIST_SLACK)
    }

    fn list_fits(&self, len: usize) -> bool {
        len <= self.max_list()
    }

    pub(super) fn call(
        &mut self,
        now: Instant,
        user: &str,
        user_ids: Vec<String>,
        call_type: CallType,
        timeout: u32,
        CallLookups { group, blocked_by }: CallLookups,
    ) -> Result<Outcome, Refusal> {
        if self.ringing.contains_key(user) {
            return Err(Refusal::RingingFirst);
        }
        let group_id = group.as_ref().map(|g| g.id.clone());
        let invitees = self.invitees(user, user_ids, group)?;
        self.pacing
            .allows(now, user, invitees.iter())
            .map_err(Refusal::CallingTooOften)?;
        for id in &invitees {
            self.pacing.rang(now, user, id);
        }
        let room_id = match self.in_room.get(user).copied() {
            Some(room_id) => room_id,
            None => self.open_room(user, call_type),
        };
        let invite_id = self.new_invite_id();
        // Whoever blocked the caller looks offline to them, busy or not.
        let (silent, reachable): (Vec<String>, Vec<String>) = invitees
            .iter()
            .cloned()
            .partition(|id| blocked_by.contains(id));
        let (busy, free): (Vec<String>, Vec<String>) =
            reachable.into_iter().partition(|id| self.is_busy(id));
        let rings_for = match timeout {
            0 => self.max_ring,
            secs => Duration::from_secs(secs.into()).min(self.max_ring),
        };
        self.invites.insert(
            invite_id.clone(),
            Invite {
                room_id,
                sponsor: user.to_owned(),
                invitees: invitees.clone(),
                pending: free.iter().cloned().collect(),
                silent: silent.into_iter().collect(),
                deadline: Some(now + rings_for),
                group_id,
            },
        );
        self.record_placed(&invite_id, user, &invitees);
        self.ring(now, &invite_id, user, free, busy);
        self.end_if_over(room_id);
        Ok(Outcome {
            invite_id: Some(invite_id),
            room_id: Some(room_id),
            ..Outcome::default()
        })
    }

    /// Who a call invites: the listed users, once each, only members of the group it goes
    /// through, and nobody already in or ringing for the caller's current call.
    fn invitees(
        &self,
        user: &str,
        user_ids: Vec<String>,
        group: Option<Group>,
    ) -> Result<Vec<String>, Refusal> {
        // Work under the hub's lock is linear in the list, and the list is refused before any
        // of it when it is longer than a call can be: repeating a name adds nobody.
        if !self.list_fits(user_ids.len()) {
            return Err(Refusal::CallTooLarge);
        }
        let mut seen = HashSet::with_capacity(user_ids.len());
        let mut invitees: Vec<String> = Vec::with_capacity(user_ids.len());
        for id in user_ids {
            if check_user_id(&id).is_err() {
                return Err(Refusal::InvalidUserId);
            }
            if id == user {
                return Err(Refusal::CallingYourself);
            }
            if seen.insert(id.clone()) {
                invitees.push(id);
            }
        }
        if let Some(group) = &group {
            if !group.members.contains(user) {
                return Err(Refusal::NotGroupMember);
            }
            invitees.retain(|id| group.members.contains(id));
        }
        if invitees.is_empty() {
            return Err(Refusal::NobodyToCall);
        }
        let existing = self.in_room.get(user).copied();
        if let Some(room_id) = existing {
            let room = &self.rooms[&room_id];
            invitees.retain(|id| {
                !room.members.contains_key(id)
                    && !self.ringing_in(id, room_id)
                    && !self.silently_invited(id, room)
            });
            if invitees.is_empty() {
                return Err(Refusal::AllAlreadyInCall);
            }
        }
        let occupied = existing.map_or(1, |room_id| self.occupancy(room_id));
        if occupied + invitees.len() > self.max_call_size {
            return Err(Refusal::CallTooLarge);
        }
        Ok(invitees)
    }

    /// A new room with the caller in it.
    fn open_room(&mut self, user: &str, call_type: CallType) -> u64 {
        let room_id = self.new_room_id();
        let mut members = BTreeMap::new();
        members.insert(user.to_owned(), Media::default_for(call_type));
        self.rooms.insert(
            room_id,
            Room {
                call_type,
                members,
                answered: HashMap::new(),
                invites: BTreeSet::new(),
            },
        );
        self.in_room.insert(user.to_owned(), room_id);
        self.touch(user);
        room_id
    }

    fn record_placed(&mut self, invite_id: &str, caller: &str, invitees: &[String]) {
        let group = self.invites[invite_id].group_id.is_some();
        let room_id = self.invites[invite_id].room_id;
        let call_type = self.rooms[&room_id].call_type;
        for id in invitees {
            self.record(Record::Placed {
                invite_id: invite_id.to_owned(),
                caller: caller.to_owned(),
                callee: id.clone(),
                call_type,
                group,
            });
        }
    }

    /// Rings the invitees who are free; the caller hears LINE_BUSY for the others.
    fn ring(
        &mut self,
        now: Instant,
        invite_id: &str,
        caller: &str,
        free: Vec<String>,
        busy: Vec<String>,
    ) {
        for id in &free {
            self.ringing.insert(id.clone(), invite_id.to_owned());
            self.send_invited(now, invite_id, id);
        }
        for id in busy {
            self.record_end(invite_id, &id, Ending::Busy);
            self.send_to_user(
                caller,
                ServerMsg::LineBusy {
                    invite_id: invite_id.to_owned(),
                    user_id: id,
                },
            );
        }
        let room_id = self.invites[invite_id].room_id;
        if free.is_empty() && self.invites[invite_id].silent.is_empty() {
            self.invites.remove(invite_id);
        } else if let Some(room) = self.rooms.get_mut(&room_id) {
            room.invites.insert(invite_id.to_owned());
        }
    }

    pub(super) fn accept(&mut self, user: &str, invite_id: &str) -> Result<Outcome, Refusal> {
        let room_id = self.take_pending(user, invite_id)?;
        let Some(room) = self.rooms.get_mut(&room_id) else {
            return Err(Refusal::InviteOver);
        };
        let media = Media::default_for(room.call_type);
        let others: Vec<(String, Media)> = room
            .members
            .iter()
            .map(|(id, m)| (id.clone(), *m))
            .collect();
        room.members.insert(user.to_owned(), media);
        room.answered.insert(user.to_owned(), invite_id.to_owned());
        self.in_room.insert(user.to_owned(), room_id);
        self.touch(user);
        self.record(Record::Answered {
            invite_id: invite_id.to_owned(),
            callee: user.to_owned(),
        });
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

    pub(super) fn reject(
        &mut self,
        user: &str,
        invite_id: &str,
        is_busy: bool,
    ) -> Result<Outcome, Refusal> {
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
        let ending = if is_busy {
            Ending::Busy
        } else {
            Ending::Declined
        };
        self.record_end(invite_id, user, ending);
        self.forget_finished_invite(invite_id);
        self.end_if_over(room_id);
        Ok(Outcome::default())
    }

    pub(super) fn hangup(&mut self, user: &str) -> Result<Outcome, Refusal> {
        if let Some(invite_id) = self.ringing.get(user).cloned() {
            // Hanging up while it rings declines.
            return self.reject(user, &invite_id, false);
        }
        if !self.in_room.contains_key(user) {
            return Err(Refusal::NotInCall);
        }
        self.leave_room(user);
        Ok(Outcome::default())
    }

    pub(super) fn signal(
        &mut self,
        user: &str,
        to: String,
        data: SignalData,
    ) -> Result<Outcome, Refusal> {
        let mine = self.in_room.get(user);
        if mine.is_none() || mine != self.in_room.get(&to) {
            return Err(Refusal::NotInRoom);
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

    pub(super) fn media(&mut self, user: &str, media: Media) {
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

    pub(super) fn switch_type(
        &mut self,
        user: &str,
        call_type: CallType,
    ) -> Result<Outcome, Refusal> {
        let Some(room) = self.in_room.get(user).and_then(|r| self.rooms.get_mut(r)) else {
            return Err(Refusal::NotInCall);
        };
        if room.members.len() != 2 || !room.invites.is_empty() {
            return Err(Refusal::NotOneToOne);
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
}
