//! The relay's settings, read from `CALLING_TURN*` (see the README's table).

use std::{
    net::{IpAddr, SocketAddr},
    ops::RangeInclusive,
};

use ipnet::IpNet;

use super::credentials::TurnSecret;
use crate::config::ConfigError;

pub const DEFAULT_LISTEN: &str = "0.0.0.0:3478";
pub const DEFAULT_RELAY_PORTS: RangeInclusive<u16> = 49152..=65535;
pub const DEFAULT_TTL: i64 = 86_400;
/// Two days: a leaked credential must not outlive a weekend.
pub const MAX_TTL: i64 = 172_800;
/// Below this, refreshing every half lifetime would be chatter.
pub const MIN_TTL: i64 = 60;
pub const DEFAULT_MAX_ALLOCATIONS: usize = 2_000;
pub const DEFAULT_USER_ALLOCATIONS: usize = 16;
/// 4 MB/s, 32 Mbit/s: a full mesh of nine at video bitrates, with room to spare.
pub const DEFAULT_USER_BANDWIDTH: usize = 4_000_000;

/// Where clients find a relay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Ours, in this process.
    Embedded,
    /// A coturn (or any relay with coturn's REST credentials) at `CALLING_TURN_URLS`.
    External,
    /// None: only `CALLING_ICE_SERVERS`, if any.
    Off,
}

pub struct TurnSettings {
    pub mode: Mode,
    pub listen: SocketAddr,
    /// The address in URLs and relayed candidates; `None`: that of the default route.
    pub public_ip: Option<IpAddr>,
    pub relay_ports: RangeInclusive<u16>,
    /// `None`: the one stored in the database, generated on first start.
    pub secret: Option<TurnSecret>,
    /// Credential lifetime, in seconds.
    pub ttl: i64,
    /// The external relay's URLs.
    pub urls: Vec<String>,
    /// Peer ranges that are refused by default but allowed here (a LAN-only deployment).
    pub allow_peers: Vec<IpNet>,
    /// Allocations at once, over all users.
    pub max_allocations: usize,
    /// Allocations at once, per user.
    pub user_allocations: usize,
    /// Relayed bytes per second per user; 0 is no cap.
    pub user_bandwidth: u64,
}

fn bad(name: &'static str, reason: &'static str) -> ConfigError {
    ConfigError { name, reason }
}

impl TurnSettings {
    pub fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mode = match get("CALLING_TURN").as_deref().map(str::trim) {
            None | Some("embedded") => Mode::Embedded,
            Some("external") => Mode::External,
            Some("off") => Mode::Off,
            Some(_) => return Err(bad("CALLING_TURN", "must be embedded, external or off")),
        };
        let listen = get("CALLING_TURN_LISTEN")
            .unwrap_or_else(|| DEFAULT_LISTEN.into())
            .trim()
            .parse()
            .map_err(|_| {
                bad(
                    "CALLING_TURN_LISTEN",
                    "must be an address like 0.0.0.0:3478",
                )
            })?;
        let public_ip = get("CALLING_TURN_PUBLIC_IP")
            .map(|v| v.trim().parse::<IpAddr>())
            .transpose()
            .map_err(|_| bad("CALLING_TURN_PUBLIC_IP", "must be an IP address"))?;
        if public_ip.is_some_and(|ip| ip.is_unspecified() || ip.is_multicast()) {
            return Err(bad("CALLING_TURN_PUBLIC_IP", "must be a unicast address"));
        }
        let relay_ports = get("CALLING_TURN_RELAY_PORTS")
            .map_or(Ok(DEFAULT_RELAY_PORTS), |v| port_range(&v))
            .map_err(|()| {
                bad(
                    "CALLING_TURN_RELAY_PORTS",
                    "must be a range like 49152-65535",
                )
            })?;
        let ttl = match get("CALLING_TURN_TTL") {
            None => DEFAULT_TTL,
            Some(v) => v
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|t| (MIN_TTL..=MAX_TTL).contains(t))
                .ok_or(bad("CALLING_TURN_TTL", "must be 60 to 172800 seconds"))?,
        };
        let urls = list(get("CALLING_TURN_URLS"));
        let secret = get("CALLING_TURN_SECRET").map(TurnSecret::new);
        if mode == Mode::External {
            check_external(&urls, secret.is_some())?;
        }
        let allow_peers = list(get("CALLING_TURN_ALLOW_PEERS"))
            .iter()
            .map(|net| cidr(net))
            .collect::<Option<_>>()
            .ok_or(bad(
                "CALLING_TURN_ALLOW_PEERS",
                "must be CIDR ranges like 192.168.0.0/16",
            ))?;
        let count = |name, default: usize| match get(name) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse()
                .map_err(|_| bad(name, "must be a whole number")),
        };
        Ok(Self {
            mode,
            listen,
            public_ip,
            relay_ports,
            secret,
            ttl,
            urls,
            allow_peers,
            max_allocations: count("CALLING_TURN_MAX_ALLOCATIONS", DEFAULT_MAX_ALLOCATIONS)?,
            user_allocations: count("CALLING_TURN_USER_ALLOCATIONS", DEFAULT_USER_ALLOCATIONS)?,
            user_bandwidth: count("CALLING_TURN_USER_BANDWIDTH", DEFAULT_USER_BANDWIDTH)? as u64,
        })
    }
}

fn list(value: Option<String>) -> Vec<String> {
    value
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

fn port_range(v: &str) -> Result<RangeInclusive<u16>, ()> {
    let (low, high) = v.trim().split_once('-').ok_or(())?;
    let (low, high): (u16, u16) = (
        low.trim().parse().map_err(|_| ())?,
        high.trim().parse().map_err(|_| ())?,
    );
    if low == 0 || low > high {
        return Err(());
    }
    Ok(low..=high)
}

/// A range, or one address as its own range.
fn cidr(v: &str) -> Option<IpNet> {
    v.parse::<IpNet>()
        .ok()
        .or_else(|| v.parse::<IpAddr>().ok().map(IpNet::from))
}

fn check_external(urls: &[String], has_secret: bool) -> Result<(), ConfigError> {
    if urls.is_empty() {
        return Err(bad(
            "CALLING_TURN_URLS",
            "must list the relay's URLs when CALLING_TURN=external",
        ));
    }
    if !urls.iter().all(|u| {
        ["stun:", "stuns:", "turn:", "turns:"]
            .iter()
            .any(|p| u.starts_with(p))
    }) {
        return Err(bad(
            "CALLING_TURN_URLS",
            "must be stun:, turn: or turns: URLs, comma-separated",
        ));
    }
    if !has_secret {
        return Err(bad(
            "CALLING_TURN_SECRET",
            "must be set when CALLING_TURN=external: it is coturn's static-auth-secret",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(vars: &[(&str, &str)]) -> Result<TurnSettings, ConfigError> {
        TurnSettings::from_lookup(&|name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn defaults_embed_a_relay_on_3478() {
        let s = with(&[]).unwrap();
        assert_eq!(s.mode, Mode::Embedded);
        assert_eq!(s.listen, DEFAULT_LISTEN.parse().unwrap());
        assert_eq!(s.relay_ports, 49152..=65535);
        assert_eq!(s.ttl, 86_400);
        assert!(s.secret.is_none() && s.public_ip.is_none());
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (name, value) in [
            ("CALLING_TURN", "maybe"),
            ("CALLING_TURN_LISTEN", "3478"),
            ("CALLING_TURN_PUBLIC_IP", "0.0.0.0"),
            ("CALLING_TURN_RELAY_PORTS", "6000-5000"),
            ("CALLING_TURN_TTL", "172801"),
            ("CALLING_TURN_TTL", "10"),
            ("CALLING_TURN_ALLOW_PEERS", "192.168.0.0/33"),
        ] {
            let e = with(&[(name, value)]).err().expect(value);
            assert!(e.to_string().starts_with(name), "{e}");
        }
    }

    #[test]
    fn external_needs_urls_and_the_shared_secret() {
        let e = with(&[("CALLING_TURN", "external")]).err().unwrap();
        assert!(e.to_string().starts_with("CALLING_TURN_URLS"), "{e}");
        let urls = "turn:turn.example.org:3478?transport=udp, turns:turn.example.org:5349";
        let e = with(&[("CALLING_TURN", "external"), ("CALLING_TURN_URLS", urls)])
            .err()
            .unwrap();
        assert!(e.to_string().starts_with("CALLING_TURN_SECRET"), "{e}");
        let s = with(&[
            ("CALLING_TURN", "external"),
            ("CALLING_TURN_URLS", urls),
            ("CALLING_TURN_SECRET", "s"),
        ])
        .unwrap();
        assert_eq!(s.urls.len(), 2);
        assert_eq!(s.urls[1], "turns:turn.example.org:5349");
    }

    #[test]
    fn allowed_peers_take_ranges_and_single_addresses() {
        let s = with(&[("CALLING_TURN_ALLOW_PEERS", "192.168.0.0/16, 10.0.0.7")]).unwrap();
        assert_eq!(s.allow_peers.len(), 2);
        assert!(s.allow_peers[1].contains(&"10.0.0.7".parse::<IpAddr>().unwrap()));
    }
}
