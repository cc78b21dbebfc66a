//! The relay's data path: the packets of one relayed call, both ways, through the embedded TURN
//! server and through Debian's coturn on this machine.
//!
//! Two TURN clients (turn-client-proto, as the relay's tests use) each take an allocation over
//! UDP and bind a channel to the other's relayed address, as browsers do; then each sends
//! 1200-byte packets at a fixed rate to the other. Every packet crosses the server twice
//! (client to its allocation, relay to relay, allocation to client), which is what a call
//! between two strict NATs costs. Measured: the server's CPU time (all threads, from
//! `/proc/<pid>/stat`) per relayed Mbit/s, the one-way latency through it, and loss.

use std::{
    net::{SocketAddr, UdpSocket as StdUdpSocket},
    path::Path,
    time::{Duration, Instant},
};

use anyhow::{bail, Context};
use futures_util::{SinkExt, StreamExt};
use server::turn::credentials::{mint, TurnSecret};
use tokio::net::UdpSocket;
use tokio_tungstenite::tungstenite::Message;
use turn_client_proto::{
    api::{TurnClientApi, TurnConfig, TurnEvent, TurnPollRet, TurnRecvRet},
    types::TurnCredentials,
    udp::TurnClientUdp,
};
use turn_server_proto::{
    api::Transmit,
    types::{Instant as SansInstant, TransportType},
};

use crate::{
    children::{Child, SDK_APP_ID, SECRET_KEY},
    figures::Figure,
    procfs,
    stats::Samples,
};

/// The shared secret both servers verify credentials with (coturn's `static-auth-secret`).
pub const SECRET: &str = "bench turn secret";
/// A video packet's size, about.
const PACKET: usize = 1200;
/// Bytes of a packet that carry its number and send time.
const HEADER: usize = 16;

pub struct Sizes {
    /// Offered load per direction.
    pub mbit_per_direction: f64,
    pub seconds: f64,
    /// Runs per server, alternating; figures are their medians.
    pub rounds: usize,
}

impl Sizes {
    pub fn full() -> Self {
        Self {
            mbit_per_direction: 40.0,
            seconds: 10.0,
            rounds: 3,
        }
    }

    pub fn smoke() -> Self {
        Self {
            mbit_per_direction: 0.5,
            seconds: 0.5,
            rounds: 1,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Target {
    Embedded,
    Coturn,
}

/// What one run through one server gave.
struct Run {
    /// Share of one core the server used, per relayed Mbit/s.
    cpu_per_mbit: f64,
    relayed_mbit: f64,
    lost: f64,
    latency_ms: Vec<f64>,
}

pub async fn run(server_bin: &Path, sizes: &Sizes) -> anyhow::Result<Vec<Figure>> {
    let mut embedded = Vec::new();
    let mut coturn = Vec::new();
    for round in 0..sizes.rounds {
        // Alternate which goes first, so that neither always has the warmer machine.
        let order = if round % 2 == 0 {
            [Target::Coturn, Target::Embedded]
        } else {
            [Target::Embedded, Target::Coturn]
        };
        for target in order {
            eprintln!("relay: round {}, {target:?}", round + 1);
            let run = measure(target, server_bin, sizes)
                .await
                .with_context(|| format!("{target:?}"))?;
            match target {
                Target::Embedded => embedded.push(run),
                Target::Coturn => coturn.push(run),
            }
        }
    }
    Ok(figures(&embedded, &coturn, sizes))
}

fn figures(embedded: &[Run], coturn: &[Run], sizes: &Sizes) -> Vec<Figure> {
    let median = |runs: &[Run], f: &dyn Fn(&Run) -> f64| {
        Samples::from_millis(runs.iter().map(f).collect())
            .percentile(50.0)
            .unwrap_or(f64::NAN)
    };
    let latency = |runs: &[Run], p: f64| {
        median(runs, &|r: &Run| {
            Samples::from_millis(r.latency_ms.clone())
                .percentile(p)
                .unwrap_or(f64::NAN)
        })
    };
    let load = format!("{} Mbit/s each way", sizes.mbit_per_direction);
    let cpu = "CPU: server and both clients share the cores";
    vec![
        Figure::new(
            "relay",
            format!("server CPU per relayed Mbit/s, {load}"),
            median(embedded, &|r| r.cpu_per_mbit) * 100.0,
            "% core",
        )
        .against(median(coturn, &|r| r.cpu_per_mbit) * 100.0)
        .limited_by("target <= 1.2x coturn"),
        Figure::new(
            "relay",
            format!("one-way latency p50, {load}"),
            latency(embedded, 50.0),
            "ms",
        )
        .against(latency(coturn, 50.0))
        .limited_by(cpu),
        Figure::new(
            "relay",
            format!("one-way latency p99, {load}"),
            latency(embedded, 99.0),
            "ms",
        )
        .against(latency(coturn, 99.0))
        .limited_by(cpu),
        Figure::new(
            "relay",
            format!("relayed, {load}"),
            median(embedded, &|r| r.relayed_mbit),
            "Mbit/s",
        )
        .against(median(coturn, &|r| r.relayed_mbit))
        .limited_by("the offered rate"),
        Figure::new(
            "relay",
            format!("packets lost, {load}"),
            median(embedded, &|r| r.lost) * 100.0,
            "%",
        )
        .against(median(coturn, &|r| r.lost) * 100.0)
        .limited_by("should be 0"),
    ]
}

async fn measure(target: Target, server_bin: &Path, sizes: &Sizes) -> anyhow::Result<Run> {
    let port = free_udp_and_tcp_port()?;
    let relay: SocketAddr = ([127, 0, 0, 1], port).into();
    let child = match target {
        Target::Embedded => Child::server_with(
            server_bin,
            None,
            &[
                ("CALLING_TURN_LISTEN", relay.to_string()),
                ("CALLING_TURN_SECRET", SECRET.into()),
                // coturn has no per-user cap by default; measure the path, not the limiter.
                ("CALLING_TURN_USER_BANDWIDTH", "0".into()),
            ],
        )?,
        Target::Coturn => Child::coturn(relay, SECRET)?,
    };
    let epoch = Instant::now();
    let setup = async {
        let mut sessions = Vec::new();
        let (alice, bob) = match target {
            // As a browser gets them: at login, which also tells the relay about them. The
            // sessions stay open: the relay refuses the credentials of ended ones.
            Target::Embedded => {
                let (alice, a) = login_credential(child.addr, "alice").await?;
                let (bob, b) = login_credential(child.addr, "bob").await?;
                sessions.extend([a, b]);
                (alice, bob)
            }
            // As CALLING_TURN=external mints them.
            Target::Coturn => (local_credential("alice")?, local_credential("bob")?),
        };
        let mut a = Peer::allocate(relay, &alice, epoch).await?;
        let mut b = Peer::allocate(relay, &bob, epoch).await?;
        a.bind(b.relayed).await?;
        b.bind(a.relayed).await?;
        anyhow::Ok((a, b, sessions))
    };
    let (mut a, mut b, _sessions) = setup
        .await
        .with_context(|| format!("setting up the call; the server said:\n{}", child.log()))?;
    let (to_b, to_a) = (b.relayed, a.relayed);

    let cpu_before = procfs::cpu_seconds(child.pid()).context("server CPU time")?;
    let started = Instant::now();
    let duration = Duration::from_secs_f64(sizes.seconds);
    let pps = sizes.mbit_per_direction * 1e6 / 8.0 / PACKET as f64;
    let (ra, rb) = tokio::join!(a.stream(to_b, pps, duration), b.stream(to_a, pps, duration));
    let (ra, rb) = (ra?, rb?);
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = procfs::cpu_seconds(child.pid()).context("server CPU time")? - cpu_before;

    let sent = ra.sent + rb.sent;
    let received = ra.latency_ms.len() + rb.latency_ms.len();
    if sent == 0 || received == 0 {
        bail!("nothing was relayed ({sent} sent):\n{}", child.log());
    }
    let relayed_mbit = (received * PACKET * 8) as f64 / 1e6 / sizes.seconds;
    let mut latency_ms = ra.latency_ms;
    latency_ms.extend(rb.latency_ms);
    Ok(Run {
        cpu_per_mbit: cpu / elapsed / relayed_mbit,
        relayed_mbit,
        lost: 1.0 - received as f64 / sent as f64,
        latency_ms,
    })
}

/// What one side of the call saw.
struct Received {
    sent: usize,
    latency_ms: Vec<f64>,
}

/// One TURN client with its allocation.
struct Peer {
    client: TurnClientUdp,
    socket: UdpSocket,
    relay: SocketAddr,
    relayed: SocketAddr,
    epoch: Instant,
}

impl Peer {
    async fn allocate(
        relay: SocketAddr,
        (username, password): &(String, String),
        epoch: Instant,
    ) -> anyhow::Result<Self> {
        let socket = UdpSocket::bind("127.0.0.1:0").await?;
        let config = TurnConfig::new(TurnCredentials::new(username, password));
        let client = TurnClientUdp::allocate(socket.local_addr()?, relay, config);
        let mut peer = Self {
            client,
            socket,
            relay,
            relayed: relay,
            epoch,
        };
        peer.relayed = peer
            .until(|e| match e {
                TurnEvent::AllocationCreated(_, addr) => Some(Ok(*addr)),
                TurnEvent::AllocationCreateFailed(_) => Some(Err("allocation refused")),
                _ => None,
            })
            .await?;
        Ok(peer)
    }

    /// Binds a channel to `peer` (which installs the permission too), as browsers do.
    async fn bind(&mut self, peer: SocketAddr) -> anyhow::Result<()> {
        let now = self.now();
        self.client
            .bind_channel(TransportType::Udp, peer, now)
            .map_err(|e| anyhow::anyhow!("binding a channel: {e}"))?;
        self.until(|e| match e {
            TurnEvent::ChannelCreated(..) => Some(Ok(())),
            TurnEvent::ChannelCreateFailed(..) => Some(Err("channel refused")),
            _ => None,
        })
        .await
    }

    fn now(&self) -> SansInstant {
        SansInstant::from_nanos(self.epoch.elapsed().as_nanos() as i64)
    }

    /// Runs the client until `done` picks an event, for at most 5 s.
    async fn until<T>(
        &mut self,
        done: impl Fn(&TurnEvent) -> Option<Result<T, &'static str>>,
    ) -> anyhow::Result<T> {
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut buf = vec![0u8; 2048];
        while Instant::now() < deadline {
            if let TurnPollRet::Closed = self.client.poll(self.now()) {
                bail!("the TURN client closed");
            }
            while let Some(t) = self.client.poll_transmit(self.now()) {
                self.socket.send_to(t.data.as_ref(), t.to).await?;
            }
            while let Some(event) = self.client.poll_event() {
                if let Some(result) = done(&event) {
                    return result.map_err(|e| anyhow::anyhow!(e));
                }
            }
            let wait = Duration::from_millis(20);
            if let Ok(Ok((n, from))) =
                tokio::time::timeout(wait, self.socket.recv_from(&mut buf)).await
            {
                self.deliver(&buf[..n], from);
            }
        }
        bail!("no answer from the relay at {} within 5 s", self.relay)
    }

    /// Hands a datagram to the client; returns what a peer sent, if it was that.
    fn deliver(&mut self, data: &[u8], from: SocketAddr) -> Option<Vec<u8>> {
        let to = self.client.local_addr();
        let now = self.now();
        match self
            .client
            .recv(Transmit::new(data, TransportType::Udp, from, to), now)
        {
            TurnRecvRet::PeerData(d) => Some(d.data().to_vec()),
            _ => None,
        }
    }

    /// Sends `pps` packets a second to `peer` for `duration`, receiving the other side's all the
    /// while and for a moment after, for those still in flight.
    async fn stream(
        &mut self,
        peer: SocketAddr,
        pps: f64,
        duration: Duration,
    ) -> anyhow::Result<Received> {
        let start = Instant::now();
        let stop_sending = start + duration;
        let stop = stop_sending + Duration::from_millis(300);
        let mut sent = 0usize;
        let mut latency_ms = Vec::with_capacity((pps * duration.as_secs_f64()) as usize + 16);
        let mut payload = vec![0u8; PACKET];
        let mut buf = vec![0u8; 2048];
        let mut tick = tokio::time::interval(Duration::from_millis(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            let now = Instant::now();
            if now >= stop {
                break;
            }
            tokio::select! {
                _ = tick.tick() => {
                    // As many packets as the rate allows by now: bursts make up for late ticks.
                    let due = if now < stop_sending {
                        (start.elapsed().as_secs_f64() * pps) as usize
                    } else {
                        sent
                    };
                    while sent < due {
                        let stamp = self.epoch.elapsed().as_nanos() as u64;
                        payload[..8].copy_from_slice(&(sent as u64).to_be_bytes());
                        payload[8..HEADER].copy_from_slice(&stamp.to_be_bytes());
                        let now = self.now();
                        let transmit = self
                            .client
                            .send_to(TransportType::Udp, peer, payload.as_slice(), now)
                            .map_err(|e| anyhow::anyhow!("send_to: {e}"))?
                            .context("the client has no way to send")?
                            .build();
                        self.socket.send_to(&transmit.data, transmit.to).await?;
                        sent += 1;
                    }
                }
                r = self.socket.recv_from(&mut buf) => {
                    let (n, from) = r?;
                    if let Some(data) = self.deliver(&buf[..n], from) {
                        if data.len() >= HEADER {
                            let stamp = u64::from_be_bytes(data[8..HEADER].try_into()?);
                            let now = self.epoch.elapsed().as_nanos() as u64;
                            latency_ms.push(now.saturating_sub(stamp) as f64 / 1e6);
                        }
                    }
                }
            }
        }
        Ok(Received { sent, latency_ms })
    }
}

fn unix_now() -> anyhow::Result<i64> {
    Ok(std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64)
}

/// A credential made here with the shared secret.
fn local_credential(user: &str) -> anyhow::Result<(String, String)> {
    let c = mint(&TurnSecret::new(SECRET), user, unix_now()?, 3600);
    Ok((c.username, c.password))
}

type Session =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The TURN username and password our server hands `user` at login, in `iceServers`, and the
/// session that holds them.
async fn login_credential(
    site: SocketAddr,
    user: &str,
) -> anyhow::Result<((String, String), Session)> {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{site}/ws")).await?;
    let key = server::usersig::SecretKey::new(SECRET_KEY.into());
    let sig = server::usersig::mint(&key, SDK_APP_ID, user, unix_now()?, 3600, None);
    let login = serde_json::json!({"type": "login", "userID": user, "userSig": sig});
    ws.send(Message::Text(login.to_string().into())).await?;
    let reply = loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => break text,
            Ok(Some(Ok(_))) => continue,
            other => bail!("no reply to login: {other:?}"),
        }
    };
    let v: serde_json::Value = serde_json::from_str(reply.as_str())?;
    let turn = v["iceServers"]
        .as_array()
        .and_then(|servers| servers.iter().find(|s| s["username"].is_string()))
        .with_context(|| format!("no TURN credential in {v}"))?;
    let field = |name: &str| turn[name].as_str().map(str::to_owned).context("credential");
    Ok(((field("username")?, field("credential")?), ws))
}

/// A loopback port free for both UDP and TCP right now (a TURN server listens on both).
fn free_udp_and_tcp_port() -> anyhow::Result<u16> {
    for _ in 0..50 {
        let udp = StdUdpSocket::bind("127.0.0.1:0")?;
        let port = udp.local_addr()?.port();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    bail!("no port free for both UDP and TCP")
}
