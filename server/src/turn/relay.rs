//! The relay's core: turn-server-proto's TURN machines (one for UDP, one for TCP clients) behind
//! our policy. Pure like the switchboard: packets and the time go in, packets to send and
//! sockets to open or close come out; `edge` does the I/O.
//!
//! What the policy adds to the protocol:
//! - Credentials are coturn's REST ones, checked here: a username must be `<expiry>:<userID>`,
//!   unexpired, and its MESSAGE-INTEGRITY must verify with the password our secret derives,
//!   before the machine learns the user. Nobody without a credential we minted adds any state.
//! - Requests naming a peer the [`PeerPolicy`] refuses are dropped, and so is anything relayed
//!   to such a peer.
//! - Allocations are capped per user and overall; relayed bytes per user are rate-limited.
//! - A credential minted for a signaling session is refused once every session holding it has
//!   ended (logout, closed tab, kicked out): no new allocation, and no refresh of an old one.

mod admit;
mod drive;
mod limits;
#[cfg(test)]
mod tests;

use std::{collections::HashMap, net::SocketAddr, time::Duration};

use turn_server_proto::{
    api::{SocketAllocateError, TcpConnectError, Transmit, TurnServerApi, TurnServerPollRet},
    server::TurnServer,
    types::{
        attribute::XorPeerAddress,
        message::{ALLOCATE, CHANNEL_BIND, CREATE_PERMISSION, SEND},
        stun::{
            attribute::Username,
            message::{LongTermKeyCredentials, Message, MessageClass},
        },
        AddressFamily, Instant, TransportType,
    },
};

use self::limits::Bucket;
use super::{
    credentials::{parse, TurnSecret},
    peers::PeerPolicy,
    settings::MAX_TTL,
};

pub use self::limits::Limits;

/// The realm in every challenge; credentials are per user, so one realm is enough.
pub const REALM: &str = "calling";
/// Credentials the relay has verified and remembers at once.
const KNOWN_USERNAMES: usize = 100_000;
/// Allocate requests waiting for their socket.
const PENDING: usize = 10_000;

/// What the edge must do.
#[derive(Debug)]
pub enum Output {
    /// Send `data` from `from` (a listening or relay address) to `to`.
    Transmit(Transmit<Vec<u8>>),
    /// Open a relay socket for this request, then call [`Relay::allocated`].
    Allocate(AllocateRequest),
    /// The allocation on this relay address ended: close its socket.
    Release(SocketAddr),
    /// Close the TCP connection from this client.
    CloseClient(SocketAddr),
}

/// A client's request for a relay socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AllocateRequest {
    pub transport: TransportType,
    pub client: SocketAddr,
    pub family: AddressFamily,
}

struct Allocation {
    user: String,
    transport: TransportType,
    client: SocketAddr,
}

pub struct Relay {
    udp: TurnServer,
    tcp: TurnServer,
    secret: TurnSecret,
    policy: PeerPolicy,
    limits: Limits,
    /// Unix time at `now == 0`.
    unix_base: i64,
    /// Verified usernames and their expiry.
    known: HashMap<String, i64>,
    /// Usernames by their RFC 8489 hash, and their expiry.
    hashes: HashMap<[u8; 32], (String, i64)>,
    /// Credentials minted this run, with how many live sessions hold each, and its expiry.
    holders: HashMap<String, (u32, i64)>,
    /// Credentials whose sessions all ended, refused until they expire.
    revoked: HashMap<String, i64>,
    /// Who asked for an allocation, until its socket is open.
    pending: HashMap<ClientKey, String>,
    /// By relay address.
    allocations: HashMap<SocketAddr, Allocation>,
    by_client: HashMap<ClientKey, SocketAddr>,
    per_user: HashMap<String, (usize, Bucket)>,
    out: std::collections::VecDeque<Output>,
    wake_at: Option<Duration>,
}

/// A client by transport and address (`TransportType` is not `Hash`).
type ClientKey = (bool, SocketAddr);

fn key(transport: TransportType, client: SocketAddr) -> ClientKey {
    (transport == TransportType::Tcp, client)
}

fn instant(now: Duration) -> Instant {
    Instant::from_nanos(now.as_nanos().min(i64::MAX as u128) as i64)
}

impl Relay {
    /// A relay whose UDP and TCP listeners are at `listen`.
    pub fn new(
        listen: SocketAddr,
        secret: TurnSecret,
        policy: PeerPolicy,
        limits: Limits,
        unix_base: i64,
    ) -> Self {
        Self {
            udp: TurnServer::new(TransportType::Udp, listen, REALM.into()),
            tcp: TurnServer::new(TransportType::Tcp, listen, REALM.into()),
            secret,
            policy,
            limits,
            unix_base,
            known: HashMap::new(),
            hashes: HashMap::new(),
            holders: HashMap::new(),
            revoked: HashMap::new(),
            pending: HashMap::new(),
            allocations: HashMap::new(),
            by_client: HashMap::new(),
            per_user: HashMap::new(),
            out: Default::default(),
            wake_at: None,
        }
    }

    fn machine(&mut self, transport: TransportType) -> &mut TurnServer {
        match transport {
            TransportType::Udp => &mut self.udp,
            TransportType::Tcp => &mut self.tcp,
        }
    }

    fn listen(&self) -> SocketAddr {
        self.udp.listen_address()
    }

    fn unix(&self, now: Duration) -> i64 {
        self.unix_base + now.as_secs() as i64
    }

    /// One whole STUN message or ChannelData from a client (TCP streams framed by the edge).
    pub fn from_client(
        &mut self,
        now: Duration,
        transport: TransportType,
        client: SocketAddr,
        data: &[u8],
    ) {
        if !self.admit(now, transport, client, data) {
            return;
        }
        let listen = self.listen();
        let reply = self
            .machine(transport)
            .recv(Transmit::new(data, transport, client, listen), instant(now))
            .map(|t| t.build());
        if let Some(t) = reply {
            self.emit(t);
        }
        self.drain(now);
    }

    /// A datagram from `peer` on the relay socket `relay`.
    pub fn from_peer(&mut self, now: Duration, relay: SocketAddr, peer: SocketAddr, data: &[u8]) {
        let Some(a) = self.allocations.get(&relay) else {
            return;
        };
        let transport = a.transport;
        if !self.policy.allows(peer) || !self.spend(now, &relay, data.len()) {
            return;
        }
        let reply = self
            .machine(transport)
            .recv(
                Transmit::new(data, TransportType::Udp, peer, relay),
                instant(now),
            )
            .map(|t| t.build());
        if let Some(t) = reply {
            self.emit(t);
        }
        self.drain(now);
    }

    /// The edge opened (or could not open) the socket for `request`, reachable at `relay`.
    pub fn allocated(
        &mut self,
        now: Duration,
        request: AllocateRequest,
        relay: Result<SocketAddr, SocketAllocateError>,
    ) {
        let user = self.pending.remove(&key(request.transport, request.client));
        // A socket we cannot count against a user is not handed out.
        let relay = match (relay, &user) {
            (Ok(addr), None) => {
                self.out.push_back(Output::Release(addr));
                Err(SocketAllocateError::InsufficientCapacity)
            }
            (relay, _) => relay,
        };
        if let (Ok(addr), Some(user)) = (relay, user) {
            let entry = self
                .per_user
                .entry(user.clone())
                .or_insert_with(|| (0, Bucket::new(now, self.limits.user_bandwidth)));
            entry.0 += 1;
            self.by_client
                .insert(key(request.transport, request.client), addr);
            self.allocations.insert(
                addr,
                Allocation {
                    user,
                    transport: request.transport,
                    client: request.client,
                },
            );
        }
        let listen = self.listen();
        self.machine(request.transport).allocated_socket(
            request.transport,
            listen,
            request.client,
            TransportType::Udp,
            request.family,
            relay,
            instant(now),
        );
        self.drain(now);
    }

    /// A TCP client went away: its allocations go with it (RFC 6062's control connection).
    pub fn client_closed(&mut self, now: Duration, client: SocketAddr) {
        self.pending.remove(&key(TransportType::Tcp, client));
        if let Some(relay) = self
            .by_client
            .get(&key(TransportType::Tcp, client))
            .copied()
        {
            self.release(relay);
        }
        self.drain(now);
    }

    /// Timers: allocation, permission and channel lifetimes; forgotten credentials.
    pub fn handle_timeout(&mut self, now: Duration) {
        let unix = self.unix(now);
        self.known.retain(|_, expires| *expires > unix);
        self.hashes.retain(|_, (_, expires)| *expires > unix);
        self.holders.retain(|_, (_, expires)| *expires > unix);
        self.revoked.retain(|_, expires| *expires > unix);
        self.drain(now);
    }

    pub fn poll(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// When to call [`Relay::handle_timeout`] next.
    pub fn poll_timeout(&self) -> Option<Duration> {
        self.wake_at
    }

    pub fn allocations(&self) -> usize {
        self.allocations.len()
    }
}
