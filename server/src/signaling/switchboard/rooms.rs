//! Rooms and invitations: who is ringing, who is in, and when a call is over.

use std::time::Instant;

use app::protocol::{InviteData, Refusal, ServerMsg, INVITE_DATA_VERSION};

use super::{Ending, Room, Switchboard};

impl Switchboard {
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
            for user in &invite.pending {
                self.ringing.remove(user);
                self.send_to_user(
                    user,
                    ServerMsg::CallingTimeout {
                        invite_id: invite_id.clone(),
                    },
                );
            }
            // To the caller, those who blocked them did not answer either.
            let expired: Vec<String> = invite.pending.union(&invite.silent).cloned().collect();
            for user in &expired {
                self.record_end(&invite_id, user, Ending::NoAnswer);
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
        self.flush_presence(now);
    }

    /// Removes `user` from the invitation's ringing set, if it is ringing for them.
    pub(super) fn take_pending(&mut self, user: &str, invite_id: &str) -> Result<u64, Refusal> {
        if self.ringing.get(user).map(String::as_str) != Some(invite_id) {
            return Err(Refusal::NotRingingForYou);
        }
        self.ringing.remove(user);
        let invite = self.invites.get_mut(invite_id).ok_or(Refusal::InviteOver)?;
        invite.pending.remove(user);
        Ok(invite.room_id)
    }

    /// Drops an invitation nobody can answer any more. One with silent invitees waits for its
    /// timeout, as it would for someone offline.
    pub(super) fn forget_finished_invite(&mut self, invite_id: &str) {
        if self
            .invites
            .get(invite_id)
            .is_some_and(|i| i.pending.is_empty() && i.silent.is_empty())
        {
            if let Some(invite) = self.invites.remove(invite_id) {
                if let Some(room) = self.rooms.get_mut(&invite.room_id) {
                    room.invites.remove(invite_id);
                }
            }
        }
    }

    pub(super) fn leave_room(&mut self, user: &str) {
        let Some(room_id) = self.in_room.remove(user) else {
            return;
        };
        self.touch(user);
        let Some(room) = self.rooms.get_mut(&room_id) else {
            return;
        };
        room.members.remove(user);
        let answered = room.answered.remove(user);
        let others: Vec<String> = room.members.keys().cloned().collect();
        if let Some(invite_id) = answered {
            self.record_end(&invite_id, user, Ending::Answered);
        }
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
                    for id in &invite.silent {
                        self.record_end(&invite_id, id, Ending::Cancelled);
                    }
                    for id in invite.pending {
                        self.ringing.remove(&id);
                        self.record_end(&invite_id, &id, Ending::Cancelled);
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
    pub(super) fn end_if_over(&mut self, room_id: u64) {
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
                self.touch(member);
                if let Some(invite_id) = room.answered.get(member) {
                    self.record_end(invite_id, member, Ending::Answered);
                }
                self.send_to_user(member, ServerMsg::CallEnd { room_id });
            }
        }
    }

    /// Members plus everyone still ringing for the room.
    pub(super) fn occupancy(&self, room_id: u64) -> usize {
        let Some(room) = self.rooms.get(&room_id) else {
            return 0;
        };
        room.members.len()
            + room
                .invites
                .iter()
                .filter_map(|i| self.invites.get(i))
                .map(|i| i.pending.len() + i.silent.len())
                .sum::<usize>()
    }

    /// `user` was invited to `room` by someone they blocked, and that invitation still runs.
    pub(super) fn silently_invited(&self, user: &str, room: &Room) -> bool {
        room.invites
            .iter()
            .filter_map(|i| self.invites.get(i))
            .any(|i| i.silent.contains(user))
    }

    pub(super) fn ringing_in(&self, user: &str, room_id: u64) -> bool {
        self.ringing
            .get(user)
            .and_then(|i| self.invites.get(i))
            .is_some_and(|i| i.room_id == room_id)
    }

    pub(super) fn send_invited(&mut self, now: Instant, invite_id: &str, to: &str) {
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
}
