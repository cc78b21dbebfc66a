//! Who is asking: the client's address, for the caps and throttles that count per address.
//!
//! Behind a reverse proxy every connection comes from the proxy; with
//! `CALLING_BEHIND_PROXY=true` the address is the last entry of `X-Forwarded-For`, the one the
//! proxy itself appended (earlier entries are whatever the client claimed). Without it the
//! header is ignored, since any client could send one.
//!
//! IPv6 addresses count per /64: one host is routinely given a whole /64 and can pick any
//! address in it.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{request::Parts, HeaderMap},
};

use crate::state::AppState;

/// The address a request is counted under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClientIp(pub IpAddr);

impl ClientIp {
    /// `ip`, with an IPv6 address cut to its /64 (IPv4-mapped ones read as IPv4).
    pub fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(_) => Self(ip),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Self(IpAddr::V4(v4)),
                None => {
                    let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                    Self(IpAddr::V6(Ipv6Addr::from(prefix)))
                }
            },
        }
    }

    /// From the connection's peer, or from the proxy's header when behind one.
    pub fn resolve(peer: Option<SocketAddr>, headers: &HeaderMap, behind_proxy: bool) -> Self {
        let forwarded = behind_proxy.then(|| last_forwarded(headers)).flatten();
        let ip = forwarded
            .or(peer.map(|p| p.ip()))
            .unwrap_or(IpAddr::from([0, 0, 0, 0]));
        Self::of(ip)
    }
}

/// The last address of the last `X-Forwarded-For` header, if it parses.
fn last_forwarded(headers: &HeaderMap) -> Option<IpAddr> {
    let header = headers.get_all("x-forwarded-for").iter().next_back()?;
    let last = header.to_str().ok()?.rsplit(',').next()?.trim();
    last.parse().ok()
}

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0);
        Ok(Self::resolve(peer, &parts.headers, state.behind_proxy))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn the_header_counts_only_behind_a_proxy_and_only_its_last_entry() {
        let peer = Some(SocketAddr::from(([127, 0, 0, 1], 5000)));
        let h = headers(&["1.1.1.1", "6.6.6.6, 203.0.113.7"]);
        assert_eq!(
            ClientIp::resolve(peer, &h, false).0,
            IpAddr::from([127, 0, 0, 1])
        );
        assert_eq!(
            ClientIp::resolve(peer, &h, true).0,
            IpAddr::from([203, 0, 113, 7])
        );
        let junk = headers(&["not an address"]);
        assert_eq!(
            ClientIp::resolve(peer, &junk, true).0,
            IpAddr::from([127, 0, 0, 1])
        );
    }

    #[test]
    fn ipv6_counts_per_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(ClientIp::of(a), ClientIp::of(b));
        assert_ne!(ClientIp::of(a), ClientIp::of(c));
        let mapped: IpAddr = "::ffff:198.51.100.4".parse().unwrap();
        assert_eq!(ClientIp::of(mapped).0, IpAddr::from([198, 51, 100, 4]));
    }
}
