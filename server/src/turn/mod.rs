//! Calls across NATs: the STUN/TURN relay in this process, or the credentials for an external
//! coturn, and the `iceServers` each login gets. Signaling asks this module only for
//! [`ice::IceIssuer::issue`]. `docs/relay.md` explains the design.
//!
//! - [`settings`]: the `CALLING_TURN` settings.
//! - [`credentials`]: coturn's REST credentials, minted and parsed.
//! - [`ice`]: each login's `iceServers`.
//! - [`peers`]: which peers may be relayed to.
//! - [`relay`]: the relay's core, pure: TURN machines behind our policy.
//! - [`edge`]: its sockets.

pub mod credentials;
pub mod edge;
mod framing;
pub mod ice;
pub mod peers;
pub mod relay;
pub mod settings;

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};

use app::protocol::IceServer;
use sqlx::SqlitePool;

use self::{
    credentials::TurnSecret,
    ice::IceIssuer,
    settings::{Mode, TurnSettings},
};

/// What the rest of the server gets from this module.
pub struct Turn {
    pub issuer: IceIssuer,
    /// The embedded relay, when it runs here.
    pub relay: Option<edge::RelayHandle>,
}

#[derive(Debug)]
pub enum TurnError {
    Database(sqlx::Error),
    Bind(SocketAddr, std::io::Error),
}

impl std::fmt::Display for TurnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Database(e) => write!(f, "reading the TURN secret: {e}"),
            Self::Bind(addr, e) => write!(f, "TURN relay listening on {addr}: {e}"),
        }
    }
}

impl std::error::Error for TurnError {}

/// Sets up what `settings` ask for; with `embedded`, binds the relay's listeners (UDP and TCP
/// on one port).
pub async fn start(
    settings: TurnSettings,
    extra: Vec<IceServer>,
    db: &SqlitePool,
) -> Result<Turn, TurnError> {
    if settings.mode == Mode::Off {
        return Ok(Turn {
            issuer: IceIssuer::off(extra),
            relay: None,
        });
    }
    let secret = match settings.secret.clone() {
        Some(secret) => secret,
        None => crate::db::stored_secret(db, "turn_secret")
            .await
            .map(TurnSecret::new)
            .map_err(TurnError::Database)?,
    };
    if settings.mode == Mode::External {
        return Ok(Turn {
            issuer: IceIssuer::new(secret, settings.ttl, &settings.urls, extra),
            relay: None,
        });
    }
    let public_ip = public_ip(&settings);
    let relay = edge::start(&settings, secret.clone(), public_ip).await?;
    let urls = ice::urls_for(SocketAddr::new(public_ip, relay.listen().port()));
    Ok(Turn {
        issuer: IceIssuer::new(secret, settings.ttl, &urls, extra),
        relay: Some(relay),
    })
}

/// The address clients reach the relay at, and one log line saying why it was chosen.
fn public_ip(settings: &TurnSettings) -> IpAddr {
    let (ip, why) = if let Some(ip) = settings.public_ip {
        (ip, "from CALLING_TURN_PUBLIC_IP")
    } else if !settings.listen.ip().is_unspecified() {
        (
            settings.listen.ip(),
            "the address CALLING_TURN_LISTEN binds",
        )
    } else if let Some(ip) = default_route_ip() {
        (
            ip,
            "the interface of the default route; set CALLING_TURN_PUBLIC_IP if clients reach this server at another address",
        )
    } else {
        (
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            "no default route, so only this machine can use the relay; set CALLING_TURN_PUBLIC_IP",
        )
    };
    tracing::info!("TURN relay public address {ip} ({why})");
    ip
}

/// The source address the kernel would pick for a packet to the internet. Connecting a UDP
/// socket sends nothing; it only looks up the route. 192.0.2.1 is a documentation address.
fn default_route_ip() -> Option<IpAddr> {
    let socket = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).ok()?;
    socket.connect((Ipv4Addr::new(192, 0, 2, 1), 9)).ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_unspecified() && !ip.is_loopback()).then_some(ip)
}
