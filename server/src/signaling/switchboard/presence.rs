//! Presence as the switchboard decides it: what each user's contacts are told, and when.

use std::time::Instant;

use super::{Output, Presence, Switchboard, OFFLINE_GRACE};

impl Switchboard {
    /// The presence last announced for `user`: what their contacts have been told. During the
    /// grace after a disconnect it is still their old presence, so a contact who logs in then
    /// is told the same as everyone else.
    pub fn announced_presence(&self, user: &str) -> Presence {
        self.presence
            .get(user)
            .copied()
            .unwrap_or(Presence::Offline)
    }

    /// Where `user` stands at this moment.
    pub fn presence_of(&self, user: &str) -> Presence {
        if !self.users.contains_key(user) {
            Presence::Offline
        } else if self.in_room.contains_key(user) {
            Presence::InCall
        } else {
            Presence::Online
        }
    }

    /// Announces the presence of every touched user whose presence really changed.
    ///
    /// Going offline is announced only after [`OFFLINE_GRACE`]: a page reload or a moment's
    /// network trouble reconnects well within it, and contacts see no flicker.
    pub(super) fn flush_presence(&mut self, now: Instant) {
        for user in std::mem::take(&mut self.touched) {
            let current = self.presence_of(&user);
            let before = self
                .presence
                .get(&user)
                .copied()
                .unwrap_or(Presence::Offline);
            if current == Presence::Offline {
                if before != Presence::Offline {
                    self.going_offline
                        .entry(user)
                        .or_insert(now + OFFLINE_GRACE);
                }
                continue;
            }
            self.going_offline.remove(&user);
            if current != before {
                self.presence.insert(user.clone(), current);
                self.out.push_back(Output::Presence {
                    user,
                    presence: current,
                });
            }
        }
        let gone: Vec<String> = self
            .going_offline
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(u, _)| u.clone())
            .collect();
        for user in gone {
            self.going_offline.remove(&user);
            if self.presence_of(&user) == Presence::Offline && self.presence.remove(&user).is_some()
            {
                self.out.push_back(Output::Presence {
                    user,
                    presence: Presence::Offline,
                });
            }
        }
    }
}
