//! What a client's packet must pass before the TURN machine sees it.

use std::{net::SocketAddr, time::Duration};

use turn_server_proto::types::stun::attribute::{
    AttributeStaticType, MessageIntegrity, MessageIntegritySha256, Userhash,
};

use super::*;

impl Relay {
    /// Whether `data` from `client` may reach the machine.
    pub(super) fn admit(
        &mut self,
        now: Duration,
        transport: TransportType,
        client: SocketAddr,
        data: &[u8],
    ) -> bool {
        // ChannelData (0b01 in the first two bits) is media on a bound channel: only its
        // volume is checked.
        if data.first().is_some_and(|b| b & 0xC0 == 0x40) {
            return match self.by_client.get(&key(transport, client)).copied() {
                Some(relay) => self.spend(now, &relay, data.len()),
                None => false,
            };
        }
        let Ok(msg) = Message::from_bytes(data) else {
            return false;
        };
        // RFC 8489 clients may hide the username behind its hash; we know the hashes of the
        // credentials we minted or have seen.
        let username = match (msg.attribute::<Username>(), msg.attribute::<Userhash>()) {
            (Ok(u), _) => Some(u.username().to_owned()),
            (_, Ok(h)) => match self.hashes.get(h.hash()) {
                Some((username, _)) => Some(username.clone()),
                None => return false,
            },
            _ => None,
        };
        if let Some(username) = username {
            if !self.credential_ok(now, &msg, &username) {
                return false;
            }
            if msg.has_method(ALLOCATE) && msg.has_class(MessageClass::Request) {
                if self.pending.len() >= PENDING {
                    self.pending.clear();
                }
                self.pending.insert(key(transport, client), username);
            }
        }
        let permission = msg.has_class(MessageClass::Request) && msg.has_method(CREATE_PERMISSION);
        let names_port = (msg.has_class(MessageClass::Request) && msg.has_method(CHANNEL_BIND))
            || (msg.has_class(MessageClass::Indication) && msg.has_method(SEND));
        if permission || names_port {
            let id = msg.transaction_id();
            // A few peers per request at most; more is not a browser.
            for n in 0..16 {
                let Ok(peer) = msg.nth_attribute::<XorPeerAddress>(n) else {
                    break;
                };
                let peer = peer.addr(id);
                let allowed = match permission {
                    true => self.policy.allows_ip(peer.ip()),
                    false => self.policy.allows(peer),
                };
                if !allowed {
                    return false;
                }
            }
        }
        if msg.has_method(SEND) {
            return match self.by_client.get(&key(transport, client)).copied() {
                Some(relay) => self.spend(now, &relay, data.len()),
                None => false,
            };
        }
        true
    }

    /// A REST username that is well formed, unexpired and not from too far in the future, with
    /// a MESSAGE-INTEGRITY made from our secret. The machine learns the user only then.
    fn credential_ok(&mut self, now: Duration, msg: &Message<'_>, username: &str) -> bool {
        let unix = self.unix(now);
        let Ok((expires, _user)) = parse(username) else {
            return false;
        };
        if expires <= unix || expires > unix + MAX_TTL || self.revoked.contains_key(username) {
            return false;
        }
        if self.known.contains_key(username) {
            return true;
        }
        // Only the first, unauthenticated Allocate carries no MESSAGE-INTEGRITY; it gets a
        // challenge from the machine and adds nothing there but a nonce.
        if !msg.has_attribute(MessageIntegrity::TYPE)
            && !msg.has_attribute(MessageIntegritySha256::TYPE)
        {
            return true;
        }
        let password = self.secret.password(username);
        let key = LongTermKeyCredentials::new(username.to_owned(), password.clone(), REALM.into());
        if msg.validate_integrity(&key.into()).is_err() {
            return false;
        }
        if self.known.len() >= KNOWN_USERNAMES {
            return false;
        }
        self.known.insert(username.to_owned(), expires);
        self.remember_hash(username, expires);
        self.udp.add_user(username.to_owned(), password.clone());
        self.tcp.add_user(username.to_owned(), password);
        true
    }

    /// A credential minted for a signaling session, which holds it until
    /// [`released`](Self::released). Its hash is remembered, so that a client hiding its
    /// username can be known.
    pub fn minted(&mut self, username: &str) {
        let Ok((expires, _)) = parse(username) else {
            return;
        };
        self.remember_hash(username, expires);
        // Two sessions of one user that log in within the same second get the same username.
        self.revoked.remove(username);
        if let Some((count, _)) = self.holders.get_mut(username) {
            *count = count.saturating_add(1);
        } else if self.holders.len() < KNOWN_USERNAMES {
            self.holders.insert(username.to_owned(), (1, expires));
        }
    }

    /// The session holding `username` ended. When it was the last one, the credential is
    /// refused from now on: its allocations cannot be refreshed and end within their lifetime.
    pub fn released(&mut self, username: &str) {
        let Some((count, expires)) = self.holders.get_mut(username) else {
            return;
        };
        *count -= 1;
        if *count > 0 {
            return;
        }
        let expires = *expires;
        self.holders.remove(username);
        self.known.remove(username);
        // Bounded like the others; one refused credential more or less when full is the price.
        if self.revoked.len() < KNOWN_USERNAMES {
            self.revoked.insert(username.to_owned(), expires);
        }
    }

    fn remember_hash(&mut self, username: &str, expires: i64) {
        if self.hashes.len() < KNOWN_USERNAMES {
            self.hashes.insert(
                Userhash::compute(username, REALM),
                (username.to_owned(), expires),
            );
        }
    }

    /// Counts `bytes` against the user of the allocation at `relay`.
    pub(super) fn spend(&mut self, now: Duration, relay: &SocketAddr, bytes: usize) -> bool {
        let Some(a) = self.allocations.get(relay) else {
            return false;
        };
        match self.per_user.get_mut(&a.user) {
            Some((_, bucket)) => bucket.take(now, bytes as u64),
            None => false,
        }
    }
}
