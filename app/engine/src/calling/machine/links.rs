//! Peer connections that drop and come back: the RECONNECTING events, who restarts ICE, and
//! when a one-to-one call whose connection does not come back gives up.

use std::time::Duration;

use super::{Effect, Event, LinkState, Machine, Pending};
use crate::protocol::{CallMsg, Refusal, SignalData};

/// How long a dropped connection may try to come back before a one-to-one call ends, rather
/// than leaving both sides looking at a frozen picture. In a group call the others stay; that
/// member's tile keeps saying it is reconnecting.
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(20);

/// How long a new connection may take to come up at all before a one-to-one call ends with an
/// error, rather than both sides waiting on a call that has no network path (two strict NATs and
/// no relay). Relayed candidates over TCP connect well within it.
pub const CONNECT_WITHIN: Duration = Duration::from_secs(20);

/// How long a connection may stay `disconnected` before ICE restarts, without waiting for the
/// browser to call it `failed` (tens of seconds later). Browsers say `disconnected` only after
/// seconds without a packet, so a path that comes back by itself mostly has by then; a restart
/// that turns out not to be needed costs one offer and answer.
pub const RESTART_WHEN_DOWN_FOR: Duration = Duration::from_secs(1);

/// Failures reported within this long of a restart are the same failure: restart once.
pub const RESTART_AT_MOST_EVERY: Duration = Duration::from_secs(2);

impl Machine {
    /// The next moment [`Input::Timeout`](super::Input::Timeout) has work: the earliest
    /// give-up deadline of a connection that is not up, the restart of one that went down, or
    /// the deadline of a request in flight.
    pub fn poll_timeout(&self) -> Option<Duration> {
        self.members
            .values()
            .flat_map(|m| [m.give_up_at, m.restart_at])
            .flatten()
            .chain(self.request_deadline())
            .min()
    }

    pub(super) fn on_link(&mut self, user: &str, state: LinkState) {
        let now = self.now;
        let Some(member) = self.members.get_mut(user) else {
            return;
        };
        if !member.connected {
            // Not up yet: the deadline set when it was created stands until it connects.
            if state == LinkState::Connected {
                member.connected = true;
                member.give_up_at = None;
            }
        } else {
            let was = member.reconnecting;
            let lost = match state {
                LinkState::Disconnected | LinkState::Failed => true,
                LinkState::Connected => false,
                LinkState::New | LinkState::Connecting | LinkState::Closed => was,
            };
            member.restart_at = match state {
                LinkState::Disconnected => member.restart_at.or(Some(now + RESTART_WHEN_DOWN_FOR)),
                _ => None,
            };
            if lost != was {
                member.reconnecting = lost;
                member.give_up_at = lost.then_some(now + GIVE_UP_AFTER);
                self.emit(Event::Reconnecting {
                    user_id: user.to_owned(),
                    reconnecting: lost,
                });
            }
        }
        if state == LinkState::Failed {
            self.recover(user);
        }
    }

    /// `user` gave up on a connection that never came up, and is hanging up: so do we, with the
    /// same error, rather than wait for our own deadline.
    pub(super) fn no_path_reported(&mut self, user: &str) {
        if self.members.len() == 1 && self.members.get(user).is_some_and(|m| !m.connected) {
            self.give_up(no_path(user));
        }
    }

    /// Ends a one-to-one call whose connection is gone, saying why.
    fn give_up(&mut self, why: String) {
        self.emit(Event::Error(Refusal::WebRtc(why.into())));
        self.end_and_report();
        self.send_numbered(None, CallMsg::Hangup { req: 0 }, Pending::Hangup);
    }

    /// Restarts ICE with `user` if this side offers; otherwise asks the offering side to.
    fn recover(&mut self, user: &str) {
        if self.members.get(user).is_some_and(|m| m.offerer) {
            self.restart_ice(user);
        } else {
            self.send(CallMsg::Signal {
                to: user.to_owned(),
                data: SignalData::Restart,
            });
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

    /// Connections down for [`RESTART_WHEN_DOWN_FOR`] restart ICE. A one-to-one call whose only
    /// connection never came up within [`CONNECT_WITHIN`], or stayed down for
    /// [`GIVE_UP_AFTER`], ends.
    pub(super) fn on_timeout(&mut self) {
        let now = self.now;
        let mut expired = Vec::new();
        let mut down = Vec::new();
        for (user, member) in &mut self.members {
            if member.give_up_at.is_some_and(|at| now >= at) {
                member.give_up_at = None;
                expired.push((user.clone(), member.connected));
            }
            if member.restart_at.is_some_and(|at| now >= at) {
                member.restart_at = None;
                down.push(user.clone());
            }
        }
        for user in &down {
            self.recover(user);
        }
        if self.members.len() == 1 {
            if let Some((user, connected)) = expired.pop() {
                let why = if connected {
                    format!("The connection with {user} was lost.")
                } else {
                    // The other side hears why before it sees us leave.
                    self.send(CallMsg::Signal {
                        to: user.clone(),
                        data: SignalData::NoPath,
                    });
                    no_path(&user)
                };
                self.give_up(why);
            }
        }
    }
}

fn no_path(user: &str) -> String {
    format!(
        "Could not connect with {user}: no network path between you \
         (the server offers no TURN relay, or it cannot be reached)."
    )
}
