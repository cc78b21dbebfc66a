//! Driving the TURN machines: their outputs through our caps and policy.

use std::time::Duration;

use super::*;

impl Relay {
    /// A packet the machine wants sent: to a client, or relayed to a peer.
    pub(super) fn emit(&mut self, t: Transmit<Vec<u8>>) {
        // Relayed: the peer was checked when its permission was asked for; its port is checked
        // here. The bytes were counted when they came in.
        if t.from != self.listen() && !self.policy.allows(t.to) {
            return;
        }
        self.out.push_back(Output::Transmit(t));
    }

    /// Everything the machines have to say after an input.
    pub(super) fn drain(&mut self, now: Duration) {
        let at = instant(now);
        let mut wake = None::<Instant>;
        for transport in [TransportType::Udp, TransportType::Tcp] {
            // Each poll answers one thing; a bound keeps a confused machine from spinning us.
            for _ in 0..1024 {
                match self.machine(transport).poll(at) {
                    TurnServerPollRet::WaitUntil(t) => {
                        wake = Some(wake.map_or(t, |w| w.min(t)));
                        break;
                    }
                    TurnServerPollRet::AllocateSocket {
                        transport,
                        client_addr,
                        allocation_transport,
                        family,
                        ..
                    } => {
                        self.on_allocate(now, transport, client_addr, allocation_transport, family)
                    }
                    TurnServerPollRet::SocketClose { listen_addr, .. } => self.release(listen_addr),
                    TurnServerPollRet::TcpClose { remote_addr, .. } => {
                        self.out.push_back(Output::CloseClient(remote_addr))
                    }
                    TurnServerPollRet::TcpConnect {
                        relayed_addr,
                        peer_addr,
                        listen_addr,
                        client_addr,
                    } => self.machine(transport).tcp_connected(
                        relayed_addr,
                        peer_addr,
                        listen_addr,
                        client_addr,
                        Err(TcpConnectError::Forbidden),
                        at,
                    ),
                }
            }
            for _ in 0..1024 {
                let Some(t) = self.machine(transport).poll_transmit(at) else {
                    break;
                };
                self.emit(t);
            }
        }
        self.wake_at = wake.map(|w| Duration::from_nanos(w.as_nanos().max(0) as u64));
    }

    fn on_allocate(
        &mut self,
        now: Duration,
        transport: TransportType,
        client: SocketAddr,
        allocation_transport: TransportType,
        family: AddressFamily,
    ) {
        let request = AllocateRequest {
            transport,
            client,
            family,
        };
        let user_count = self
            .pending
            .get(&key(transport, client))
            .and_then(|user| self.per_user.get(user))
            .map_or(0, |(n, _)| *n);
        let refused = allocation_transport != TransportType::Udp
            || !self.pending.contains_key(&key(transport, client))
            || self.allocations.len() >= self.limits.max_allocations
            || user_count >= self.limits.user_allocations;
        if refused {
            self.allocated(now, request, Err(SocketAllocateError::InsufficientCapacity));
        } else {
            self.out.push_back(Output::Allocate(request));
        }
    }

    /// Forgets the allocation at `relay` and tells the edge to close its socket.
    pub(super) fn release(&mut self, relay: SocketAddr) {
        let Some(a) = self.allocations.remove(&relay) else {
            return;
        };
        self.by_client.remove(&key(a.transport, a.client));
        if let Some((n, _)) = self.per_user.get_mut(&a.user) {
            *n -= 1;
            if *n == 0 {
                self.per_user.remove(&a.user);
            }
        }
        self.out.push_back(Output::Release(relay));
    }
}
