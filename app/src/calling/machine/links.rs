//! Peer connections that drop and come back: the RECONNECTING events, who restarts ICE, and
//! when a one-to-one call whose connection does not come back gives up.

use std::time::Duration;

use super::{Effect, Event, LinkState, Machine, Pending};
use crate::protocol::{CallMsg, Refusal, SignalData};

/// How long a dropped connection may try to come back before a one-to-one call ends, rather
/// than leaving both sides looking at a frozen picture. In a group call the others stay; that
/// member's tile keeps saying it is reconnecting.
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(20);

/// Failures reported within this long of a restart are the same failure: restart once.
pub const RESTART_AT_MOST_EVERY: Duration = Duration::from_secs(2);

impl Machine {
    /// The next moment [`Input::Timeout`](super::Input::Timeout) has work: the earliest
    /// give-up deadline of a dropped connection.
    pub fn poll_timeout(&self) -> Option<Duration> {
        self.members.values().filter_map(|m| m.give_up_at).min()
    }

    pub(super) fn on_link(&mut self, user: &str, state: LinkState) {
        let now = self.now;
        let Some(member) = self.members.get_mut(user) else {
            return;
        };
        let was = member.reconnecting;
        let lost = match state {
            LinkState::Disconnected | LinkState::Failed => true,
            LinkState::Connected => false,
            LinkState::New | LinkState::Connecting | LinkState::Closed => was,
        };
        if lost != was {
            member.reconnecting = lost;
            member.give_up_at = lost.then_some(now + GIVE_UP_AFTER);
            self.emit(Event::Reconnecting {
                user_id: user.to_owned(),
                reconnecting: lost,
            });
        }
        if state == LinkState::Failed {
            if self.members.get(user).is_some_and(|m| m.offerer) {
                self.restart_ice(user);
            } else {
                // Only the offering side may restart; ask it to.
                self.send(CallMsg::Signal {
                    to: user.to_owned(),
                    data: SignalData::Restart,
                });
            }
        }
    }

    /// The answering side of our connection with `user` saw it fail.
    pub(super) fn restart_asked(&mut self, user: &str) {
        if self.members.get(user).is_some_and(|m| m.offerer) {
            self.restart_ice(user);
        }
    }

    fn restart_ice(&mut self, user: &str) {
        let now = self.now;
        let Some(member) = self.members.get_mut(user) else {
            return;
        };
        if member
            .restarted_at
            .is_some_and(|at| now < at + RESTART_AT_MOST_EVERY)
        {
            return;
        }
        member.restarted_at = Some(now);
        self.out.push_back(Effect::RestartIce {
            user: user.to_owned(),
        });
    }

    /// A one-to-one call whose only connection stayed down for [`GIVE_UP_AFTER`] ends.
    pub(super) fn on_timeout(&mut self) {
        let now = self.now;
        let mut expired = Vec::new();
        for (user, member) in &mut self.members {
            if member.give_up_at.is_some_and(|at| now >= at) {
                member.give_up_at = None;
                expired.push(user.clone());
            }
        }
        if self.members.len() == 1 {
            if let Some(user) = expired.pop() {
                self.emit(Event::Error(Refusal::WebRtc(
                    format!("The connection with {user} was lost.").into(),
                )));
                self.end_locally();
                self.send_numbered(None, CallMsg::Hangup { req: 0 }, Pending::Hangup);
            }
        }
    }
}
