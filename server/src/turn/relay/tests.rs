//! The relay against a real TURN client (turn-client-proto), both sans I/O, on a fake clock.

use std::{net::SocketAddr, time::Duration};

use turn_client_proto::{
    api::{TurnClientApi, TurnConfig, TurnEvent, TurnPollRet, TurnRecvRet},
    types::TurnCredentials,
    udp::TurnClientUdp,
};
use turn_server_proto::types::{prelude::DelayedTransmitBuild, TransportType};

use super::*;
use crate::turn::credentials::mint;

const LISTEN: &str = "203.0.113.10:3478";
const PUBLIC: &str = "203.0.113.10";
const UNIX: i64 = 1_700_000_000;

fn relay(limits: Limits) -> Relay {
    Relay::new(
        LISTEN.parse().unwrap(),
        TurnSecret::new("north"),
        PeerPolicy::new(PUBLIC.parse().unwrap(), 49152..=65535, vec![]),
        limits,
        UNIX,
    )
}

fn limits() -> Limits {
    Limits {
        max_allocations: 100,
        user_allocations: 4,
        user_bandwidth: 0,
    }
}

struct Bed {
    relay: Relay,
    now: Duration,
    next_port: u16,
    /// What peers received from the relay: (relay address, peer, data).
    to_peers: Vec<(SocketAddr, SocketAddr, Vec<u8>)>,
    /// Every datagram a client sent.
    from_clients: Vec<Vec<u8>>,
}

impl Bed {
    fn new(limits: Limits) -> Self {
        Self {
            relay: relay(limits),
            now: Duration::from_secs(1),
            next_port: 50_000,
            to_peers: Vec::new(),
            from_clients: Vec::new(),
        }
    }

    fn at(&self) -> Instant {
        instant(self.now)
    }

    /// Passes packets both ways until neither side has more to say.
    fn settle(&mut self, client: &mut TurnClientUdp) {
        for _ in 0..200 {
            let mut quiet = true;
            let wait = match client.poll(self.at()) {
                TurnPollRet::WaitUntil(t) => Some(t),
                _ => None,
            };
            while let Some(t) = client.poll_transmit(self.at()) {
                quiet = false;
                let data = t.data.as_ref().to_vec();
                self.relay
                    .from_client(self.now, TransportType::Udp, t.from, &data);
                self.from_clients.push(data);
            }
            while let Some(out) = self.relay.poll() {
                quiet = false;
                match out {
                    Output::Transmit(t) if t.to == client.local_addr() => {
                        let _ = client.recv(t, self.at());
                    }
                    Output::Transmit(t) => self.to_peers.push((t.from, t.to, t.data)),
                    Output::Allocate(request) => {
                        self.next_port += 1;
                        let addr = SocketAddr::new(PUBLIC.parse().unwrap(), self.next_port);
                        self.relay.allocated(self.now, request, Ok(addr));
                    }
                    Output::Release(_) | Output::CloseClient(_) => {}
                }
            }
            // When both are quiet, wake the client if it has something due within a second.
            match wait {
                Some(t) if quiet && t > self.at() && t <= self.at() + Duration::from_secs(1) => {
                    self.now = Duration::from_nanos(t.as_nanos() as u64);
                }
                _ if quiet => return,
                _ => {}
            }
        }
    }
}

impl Bed {
    /// Alice, with an allocation.
    fn alice(&mut self) -> TurnClientUdp {
        let (user, pass) = minted_for(self, "alice", 600);
        let mut c = client(4000, &user, &pass);
        self.settle(&mut c);
        assert!(allocated(&mut c));
        c
    }

    /// `data` from `c` to `to` through the relay, as a Send indication.
    fn send(&mut self, c: &mut TurnClientUdp, to: SocketAddr, data: &[u8]) {
        let t = c
            .send_to(TransportType::Udp, to, data, self.at())
            .unwrap()
            .unwrap();
        let (from, data) = (t.from, t.data.build());
        self.relay
            .from_client(self.now, TransportType::Udp, from, &data);
    }
}

fn client(port: u16, username: &str, password: &str) -> TurnClientUdp {
    TurnClientUdp::allocate(
        SocketAddr::new("198.51.100.7".parse().unwrap(), port),
        LISTEN.parse().unwrap(),
        TurnConfig::new(TurnCredentials::new(username, password)),
    )
}

/// A credential minted at login, as signaling tells the relay.
fn minted_for(bed: &mut Bed, user: &str, ttl: i64) -> (String, String) {
    let c = mint(&TurnSecret::new("north"), user, UNIX, ttl);
    bed.relay.minted(&c.username);
    (c.username, c.password)
}

fn events(client: &mut TurnClientUdp) -> Vec<TurnEvent> {
    std::iter::from_fn(|| client.poll_event()).collect()
}

fn allocated(client: &mut TurnClientUdp) -> bool {
    events(client)
        .iter()
        .any(|e| matches!(e, TurnEvent::AllocationCreated(..)))
}

#[test]
fn a_minted_credential_gets_an_allocation() {
    let mut bed = Bed::new(limits());
    let (user, pass) = minted_for(&mut bed, "alice", 600);
    let mut c = client(4000, &user, &pass);
    bed.settle(&mut c);
    assert!(allocated(&mut c));
    assert_eq!(bed.relay.allocations(), 1);
}

#[test]
fn a_wrong_password_gets_nothing() {
    let mut bed = Bed::new(limits());
    let (user, _) = minted_for(&mut bed, "alice", 600);
    let mut c = client(4000, &user, "guess");
    bed.settle(&mut c);
    assert!(!allocated(&mut c));
    assert_eq!(bed.relay.allocations(), 0);
}

#[test]
fn an_expired_credential_gets_nothing() {
    let mut bed = Bed::new(limits());
    let (user, pass) = minted_for(&mut bed, "alice", 600);
    bed.now = Duration::from_secs(601);
    let mut c = client(4000, &user, &pass);
    bed.settle(&mut c);
    assert!(!allocated(&mut c));
}

#[test]
fn a_username_that_is_not_ours_gets_nothing() {
    let mut bed = Bed::new(limits());
    let pass = TurnSecret::new("north").password("alice");
    let mut c = client(4000, "alice", &pass);
    bed.settle(&mut c);
    assert!(!allocated(&mut c));
}

fn permitted(bed: &mut Bed, c: &mut TurnClientUdp, peer: &str) -> bool {
    let peer: SocketAddr = peer.parse().unwrap();
    c.create_permission(TransportType::Udp, peer.ip(), bed.at())
        .unwrap();
    bed.settle(c);
    events(c)
        .iter()
        .any(|e| matches!(e, TurnEvent::PermissionCreated(..)))
}

#[test]
fn public_peers_are_relayed_to() {
    let mut bed = Bed::new(limits());
    let mut c = bed.alice();
    assert!(permitted(&mut bed, &mut c, "198.51.100.99:7000"));
    let peer: SocketAddr = "198.51.100.99:7000".parse().unwrap();
    bed.send(&mut c, peer, &[1, 2, 3]);
    bed.settle(&mut c);
    assert!(bed
        .to_peers
        .iter()
        .any(|(_, to, d)| *to == peer && d == &[1, 2, 3]));

    // And back: the peer's answer reaches the client.
    let relay = bed.to_peers[0].0;
    bed.relay.from_peer(bed.now, relay, peer, &[9, 9]);
    let mut got = None;
    while let Some(out) = bed.relay.poll() {
        if let Output::Transmit(t) = out {
            if let TurnRecvRet::PeerData(d) = c.recv(t, bed.at()) {
                got = Some(d.as_ref().to_vec());
            }
        }
    }
    assert_eq!(got, Some(vec![9, 9]));
}

#[test]
fn local_peers_are_refused() {
    for peer in [
        "127.0.0.1:3000",
        "10.0.0.1:80",
        "192.168.0.1:80",
        "169.254.169.254:80",
    ] {
        let mut bed = Bed::new(limits());
        let mut c = bed.alice();
        assert!(!permitted(&mut bed, &mut c, peer), "{peer}");
    }
}

#[test]
fn our_own_services_are_not_reached_through_the_relay() {
    let mut bed = Bed::new(limits());
    let mut c = bed.alice();
    assert!(permitted(&mut bed, &mut c, "203.0.113.10:0"));
    for port in [3000u16, 3478, 50123] {
        let to = SocketAddr::new(PUBLIC.parse().unwrap(), port);
        bed.send(&mut c, to, &[7]);
        bed.settle(&mut c);
    }
    let ports: Vec<u16> = bed.to_peers.iter().map(|(_, to, _)| to.port()).collect();
    assert_eq!(ports, [50123], "only the relay port is reached");
}

#[test]
fn relay_to_relay_is_allowed() {
    let mut bed = Bed::new(limits());
    let mut c = bed.alice();
    assert!(permitted(&mut bed, &mut c, "203.0.113.10:50123"));
}

#[test]
fn a_user_gets_at_most_their_share_of_allocations() {
    let mut bed = Bed::new(Limits {
        user_allocations: 2,
        ..limits()
    });
    let (user, pass) = minted_for(&mut bed, "alice", 600);
    let results: Vec<bool> = (0..3)
        .map(|i| {
            let mut c = client(4000 + i, &user, &pass);
            bed.settle(&mut c);
            allocated(&mut c)
        })
        .collect();
    assert_eq!(results, [true, true, false]);
    let (bob, pass) = minted_for(&mut bed, "bob", 600);
    let mut c = client(5000, &bob, &pass);
    bed.settle(&mut c);
    assert!(allocated(&mut c), "another user still gets one");
}

#[test]
fn allocations_overall_are_capped() {
    let mut bed = Bed::new(Limits {
        max_allocations: 1,
        ..limits()
    });
    let (alice, pass_a) = minted_for(&mut bed, "alice", 600);
    let (bob, pass_b) = minted_for(&mut bed, "bob", 600);
    let mut a = client(4000, &alice, &pass_a);
    bed.settle(&mut a);
    let mut b = client(5000, &bob, &pass_b);
    bed.settle(&mut b);
    assert!(allocated(&mut a));
    assert!(!allocated(&mut b));
}

#[test]
fn allocations_are_reaped_when_they_expire() {
    let mut bed = Bed::new(limits());
    let (user, pass) = minted_for(&mut bed, "alice", 7200);
    let mut c = client(4000, &user, &pass);
    bed.settle(&mut c);
    assert_eq!(bed.relay.allocations(), 1);
    // The client never refreshes; the relay's own timer ends it.
    for _ in 0..100 {
        let Some(at) = bed.relay.poll_timeout() else {
            break;
        };
        if at > Duration::from_secs(3600) {
            break;
        }
        bed.now = at.max(bed.now);
        bed.relay.handle_timeout(bed.now);
        while bed.relay.poll().is_some() {}
    }
    bed.now += Duration::from_secs(3600);
    bed.relay.handle_timeout(bed.now);
    assert_eq!(bed.relay.allocations(), 0);
}

#[test]
fn garbage_is_dropped_without_a_reply() {
    let mut bed = Bed::new(limits());
    let from: SocketAddr = "198.51.100.7:4000".parse().unwrap();
    for junk in [
        &b""[..],
        b"\x00",
        b"\x00\x01\x00\x08\x21\x12\xa4\x42",
        &[0xff; 64],
        &[0x40; 3],
    ] {
        bed.relay
            .from_client(bed.now, TransportType::Udp, from, junk);
        bed.relay.from_peer(bed.now, from, from, junk);
    }
    assert!(bed.relay.poll().is_none());
}

#[test]
fn a_user_over_their_bandwidth_loses_packets() {
    let mut bed = Bed::new(Limits {
        user_bandwidth: 1000,
        ..limits()
    });
    let mut c = bed.alice();
    assert!(permitted(&mut bed, &mut c, "198.51.100.99:7000"));
    let peer: SocketAddr = "198.51.100.99:7000".parse().unwrap();
    // Two seconds' worth is the burst; ten 500-byte sends at one instant get about four through.
    for _ in 0..10 {
        bed.send(&mut c, peer, &[0; 500]);
    }
    while let Some(out) = bed.relay.poll() {
        if let Output::Transmit(t) = out {
            if t.to == peer {
                bed.to_peers.push((t.from, t.to, t.data));
            }
        }
    }
    let through = bed.to_peers.len();
    assert!((1..=4).contains(&through), "{through} of 10 got through");
}

#[test]
fn a_credential_released_by_its_last_session_is_refused() {
    let mut bed = Bed::new(limits());
    let (user, pass) = minted_for(&mut bed, "alice", 600);
    let mut first = client(4000, &user, &pass);
    bed.settle(&mut first);
    assert!(allocated(&mut first));
    // A second session of alice logged in within the same second: the same username.
    bed.relay.minted(&user);

    bed.relay.released(&user);
    let mut c = client(4001, &user, &pass);
    bed.settle(&mut c);
    assert!(allocated(&mut c), "still held by the other session");

    bed.relay.released(&user);
    let mut later = client(4002, &user, &pass);
    bed.settle(&mut later);
    assert!(!allocated(&mut later), "no session holds it any more");
    // Nor can the allocation made before be kept alive, nor a permission added to it.
    assert!(!permitted(&mut bed, &mut first, "198.51.100.99:7000"));

    // A new login in the same second hands out the same username again: it is good again.
    bed.relay.minted(&user);
    let mut again = client(4003, &user, &pass);
    bed.settle(&mut again);
    assert!(allocated(&mut again));
}

#[test]
fn releasing_what_was_never_minted_refuses_nothing() {
    let mut bed = Bed::new(limits());
    // Minted by an earlier run of the server: not held here, so not refused either.
    let c = mint(&TurnSecret::new("north"), "alice", UNIX, 600);
    bed.relay.released(&c.username);
    assert!(bed.relay.revoked.is_empty());
}

#[test]
fn refused_credentials_are_forgotten_once_expired() {
    let mut bed = Bed::new(limits());
    let (user, _) = minted_for(&mut bed, "alice", 600);
    bed.relay.released(&user);
    assert!(bed.relay.revoked.contains_key(&user));
    bed.relay.handle_timeout(Duration::from_secs(601));
    assert!(bed.relay.revoked.is_empty() && bed.relay.holders.is_empty());
}

#[test]
fn mangled_client_messages_never_panic_nor_grow_state() {
    let mut bed = Bed::new(limits());
    let mut c = bed.alice();
    assert!(permitted(&mut bed, &mut c, "198.51.100.99:7000"));
    bed.send(&mut c, "198.51.100.99:7000".parse().unwrap(), b"media");
    let real = std::mem::take(&mut bed.from_clients);
    assert!(real.len() >= 3, "a session's worth of messages to mangle");
    // Each real message with bytes flipped, cut short or lengthened, from many addresses.
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for i in 0..20_000u32 {
        let mut data = real[i as usize % real.len()].clone();
        match next() % 3 {
            0 => {
                for _ in 0..1 + next() % 4 {
                    let at = (next() as usize) % data.len().max(1);
                    if let Some(b) = data.get_mut(at) {
                        *b ^= 1 << (next() % 8);
                    }
                }
            }
            1 => data.truncate((next() as usize) % (data.len() + 1)),
            _ => data.extend((0..next() % 32).map(|_| next() as u8)),
        }
        let from = SocketAddr::new("198.51.100.7".parse().unwrap(), 1024 + (i % 5000) as u16);
        bed.relay
            .from_client(bed.now, TransportType::Udp, from, &data);
        while let Some(out) = bed.relay.poll() {
            if let Output::Allocate(request) = out {
                bed.next_port += 1;
                let addr = SocketAddr::new(PUBLIC.parse().unwrap(), bed.next_port);
                bed.relay.allocated(bed.now, request, Ok(addr));
            }
        }
    }
    assert!(bed.relay.allocations() <= limits().user_allocations);
    assert!(bed.relay.pending.len() <= PENDING);
    assert!(
        bed.relay.known.len() <= 1,
        "only alice's credential verifies"
    );
}
