//! Which peers the relay may send to: what coturn's `denied-peer-ip` does by default, so that
//! nobody can use our relay to reach our own network or our own services.

use std::{
    net::{IpAddr, SocketAddr},
    ops::RangeInclusive,
};

use ipnet::IpNet;

/// Refused unless `CALLING_TURN_ALLOW_PEERS` opens them.
const DENIED: &[&str] = &[
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "224.0.0.0/3",
    "::/128",
    "::1/128",
    "::ffff:0:0/96",
    "64:ff9b::/96",
    "fc00::/7",
    "fe80::/10",
    "ff00::/8",
];

pub struct PeerPolicy {
    denied: Vec<IpNet>,
    allowed: Vec<IpNet>,
    /// The relay's own address: only its relay ports may be reached there.
    own: IpAddr,
    relay_ports: RangeInclusive<u16>,
}

impl PeerPolicy {
    pub fn new(own: IpAddr, relay_ports: RangeInclusive<u16>, allowed: Vec<IpNet>) -> Self {
        Self {
            denied: DENIED.iter().filter_map(|n| n.parse().ok()).collect(),
            allowed,
            own,
            relay_ports,
        }
    }

    /// For a permission, which is for an address whatever the port: our own address is allowed
    /// (each packet to it is checked by [`PeerPolicy::allows`]).
    pub fn allows_ip(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        ip == self.own
            || self.allowed.iter().any(|n| n.contains(&ip))
            || !self.denied.iter().any(|n| n.contains(&ip))
    }

    pub fn allows(&self, peer: SocketAddr) -> bool {
        let ip = canonical(peer.ip());
        if ip == self.own {
            // Relay to relay is how two clients behind symmetric NATs meet; anything else on
            // our own address (the web port, the TURN port) is ours.
            return self.relay_ports.contains(&peer.port());
        }
        if self.allowed.iter().any(|n| n.contains(&ip)) {
            return true;
        }
        !self.denied.iter().any(|n| n.contains(&ip))
    }
}

/// IPv4-mapped IPv6 addresses are their IPv4 address, so that `::ffff:127.0.0.1` is loopback.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(allowed: &[&str]) -> PeerPolicy {
        PeerPolicy::new(
            "203.0.113.10".parse().unwrap(),
            49152..=65535,
            allowed.iter().map(|n| n.parse().unwrap()).collect(),
        )
    }

    fn allows(p: &PeerPolicy, addr: &str) -> bool {
        p.allows(addr.parse().unwrap())
    }

    #[test]
    fn public_peers_are_allowed() {
        let p = policy(&[]);
        assert!(allows(&p, "198.51.100.7:5000"));
        assert!(allows(&p, "203.0.113.21:40000"));
        assert!(allows(&p, "[2001:db8::7]:5000"));
    }

    #[test]
    fn local_networks_are_refused() {
        let p = policy(&[]);
        for addr in [
            "127.0.0.1:3000",
            "10.1.2.3:5000",
            "172.20.0.1:5000",
            "192.168.1.1:80",
            "169.254.169.254:80",
            "100.64.0.1:80",
            "224.0.0.251:5353",
            "255.255.255.255:9",
            "0.0.0.0:80",
            "[::1]:3000",
            "[fd00::1]:80",
            "[fe80::1]:80",
            "[ff02::1]:80",
            "[::ffff:127.0.0.1]:3000",
            "[::ffff:10.0.0.1]:80",
        ] {
            assert!(!allows(&p, addr), "{addr}");
        }
    }

    #[test]
    fn our_own_address_is_reachable_only_on_relay_ports() {
        let p = policy(&[]);
        assert!(allows(&p, "203.0.113.10:50000"));
        assert!(!allows(&p, "203.0.113.10:3000"));
        assert!(!allows(&p, "203.0.113.10:3478"));
        assert!(!allows(&p, "[::ffff:203.0.113.10]:443"));
    }

    #[test]
    fn allowed_ranges_open_a_lan() {
        let p = policy(&["192.168.0.0/16"]);
        assert!(allows(&p, "192.168.1.1:5000"));
        assert!(!allows(&p, "10.0.0.1:5000"));
    }

    #[test]
    fn a_lan_relay_still_reaches_its_own_relay_ports() {
        let p = PeerPolicy::new("10.0.0.5".parse().unwrap(), 49152..=65535, vec![]);
        assert!(p.allows("10.0.0.5:50000".parse().unwrap()));
        assert!(!p.allows("10.0.0.6:50000".parse().unwrap()));
    }
}
