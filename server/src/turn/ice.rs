//! The `iceServers` each login gets: our relay's URLs with a credential minted for the user,
//! then `CALLING_ICE_SERVERS`.

use std::net::SocketAddr;

use app::protocol::IceServer;

use super::credentials::{mint, TurnSecret};

/// Mints each user's `iceServers`. Pure: the time is passed in.
pub struct IceIssuer {
    /// `None` when there is no relay of ours to mint for.
    secret: Option<TurnSecret>,
    ttl: i64,
    /// URLs that need no credential (`stun:`).
    open: Vec<String>,
    /// URLs that do (`turn:`, `turns:`).
    relay: Vec<String>,
    extra: Vec<IceServer>,
}

/// One user's servers, and when to send fresh ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issued {
    pub servers: Vec<IceServer>,
    /// Unix time to send a refresh at; `None` when nothing expires.
    pub refresh_at: Option<i64>,
    /// The username of the credential minted for our relay.
    pub username: Option<String>,
}

impl IceIssuer {
    /// Only `extra`, from `CALLING_ICE_SERVERS`.
    pub fn off(extra: Vec<IceServer>) -> Self {
        Self {
            secret: None,
            ttl: 0,
            open: Vec::new(),
            relay: Vec::new(),
            extra,
        }
    }

    /// A relay at `urls` that checks credentials minted with `secret`.
    pub fn new(secret: TurnSecret, ttl: i64, urls: &[String], extra: Vec<IceServer>) -> Self {
        let (open, relay) = urls
            .iter()
            .cloned()
            .partition(|u| u.starts_with("stun:") || u.starts_with("stuns:"));
        Self {
            secret: Some(secret),
            ttl,
            open,
            relay,
            extra,
        }
    }

    pub fn issue(&self, user: &str, now: i64) -> Issued {
        let mut servers = Vec::with_capacity(2 + self.extra.len());
        if !self.open.is_empty() {
            servers.push(IceServer {
                urls: self.open.clone(),
                username: None,
                credential: None,
            });
        }
        let (mut refresh_at, mut username) = (None, None);
        if let (Some(secret), false) = (&self.secret, self.relay.is_empty()) {
            let credential = mint(secret, user, now, self.ttl);
            username = Some(credential.username.clone());
            servers.push(IceServer {
                urls: self.relay.clone(),
                username: Some(credential.username),
                credential: Some(credential.password),
            });
            // Half way: a client that missed one refresh (asleep, reconnecting) still has time.
            refresh_at = Some(now + self.ttl / 2);
        }
        servers.extend(self.extra.iter().cloned());
        Issued {
            servers,
            refresh_at,
            username,
        }
    }
}

/// The URLs of a relay listening on `addr` for UDP and TCP.
pub fn urls_for(addr: SocketAddr) -> Vec<String> {
    vec![
        format!("stun:{addr}"),
        format!("turn:{addr}?transport=udp"),
        format!("turn:{addr}?transport=tcp"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extra() -> Vec<IceServer> {
        vec![IceServer {
            urls: vec!["stun:stun.example.org:3478".into()],
            username: None,
            credential: None,
        }]
    }

    #[test]
    fn a_relay_gets_stun_then_credentialed_turn_then_the_extra_servers() {
        let urls = urls_for("203.0.113.5:3478".parse().unwrap());
        let issuer = IceIssuer::new(TurnSecret::new("north"), 600, &urls, extra());
        let issued = issuer.issue("alice", 1_000);
        let [stun, turn, more] = &issued.servers[..] else {
            panic!("{:?}", issued.servers)
        };
        assert_eq!(stun.urls, ["stun:203.0.113.5:3478"]);
        assert_eq!(stun.username, None);
        assert_eq!(
            turn.urls,
            [
                "turn:203.0.113.5:3478?transport=udp",
                "turn:203.0.113.5:3478?transport=tcp"
            ]
        );
        assert_eq!(turn.username.as_deref(), Some("1600:alice"));
        assert_eq!(
            turn.credential,
            Some(TurnSecret::new("north").password("1600:alice"))
        );
        assert_eq!(more, &extra()[0]);
        assert_eq!(issued.refresh_at, Some(1_300));
    }

    #[test]
    fn ipv6_addresses_are_bracketed() {
        let urls = urls_for("[2001:db8::1]:3478".parse().unwrap());
        assert_eq!(urls[0], "stun:[2001:db8::1]:3478");
    }

    #[test]
    fn each_issue_is_fresh() {
        let urls = urls_for("203.0.113.5:3478".parse().unwrap());
        let issuer = IceIssuer::new(TurnSecret::new("north"), 600, &urls, vec![]);
        let first = issuer.issue("alice", 1_000);
        let later = issuer.issue("alice", 1_300);
        assert_ne!(first.servers[1].username, later.servers[1].username);
        assert_eq!(later.refresh_at, Some(1_600));
    }

    #[test]
    fn off_hands_out_only_the_extra_servers_and_never_refreshes() {
        let issued = IceIssuer::off(extra()).issue("alice", 1_000);
        assert_eq!(issued.servers, extra());
        assert_eq!(issued.refresh_at, None);
    }
}
