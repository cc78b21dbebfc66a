//! The relay's sockets: one UDP and one TCP listener on the same port, and one UDP socket per
//! allocation. One task owns the [`Relay`] and does all its I/O; readers feed it over a bounded
//! channel and lose packets, as UDP would, when it falls behind. All of it runs on a thread of
//! its own.

use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream, UdpSocket},
    sync::mpsc,
    task::JoinHandle,
    time::Instant,
};
use turn_server_proto::{
    api::SocketAllocateError,
    types::{AddressFamily, TransportType},
};

use super::{
    credentials::TurnSecret,
    framing::{pad, Framer},
    peers::PeerPolicy,
    relay::{AllocateRequest, Limits, Output, Relay},
    settings::TurnSettings,
    TurnError,
};

/// Packets waiting for the relay task.
const INBOX: usize = 8192;
/// Frames waiting to be written to one TCP client.
const TCP_OUTBOX: usize = 256;
/// The largest UDP payload, and the read size for TCP.
const DATAGRAM: usize = 65_536;
/// Tries at a random relay port before giving up on an allocation.
const PORT_TRIES: usize = 20;
/// Datagrams or events handled per wake-up of the relay task, at most.
const BATCH: usize = 64;

enum Event {
    Client(TransportType, SocketAddr, Vec<u8>),
    Peer(SocketAddr, SocketAddr, Vec<u8>),
    TcpOpen(SocketAddr, mpsc::Sender<Vec<u8>>),
    TcpClosed(SocketAddr),
    Minted(String),
    Released(Vec<String>),
}

/// How signaling tells the relay about the credentials it minted.
#[derive(Clone)]
pub struct RelayLink(mpsc::Sender<Event>);

impl RelayLink {
    /// A signaling session was given `username`, and holds it until it is released. Waits for
    /// room in the relay's queue (as does `released`), so that a busy relay loses neither.
    pub async fn minted(&self, username: &str) {
        let _ = self.0.send(Event::Minted(username.to_owned())).await;
    }

    /// The session that was given `usernames` ended.
    pub async fn released(&self, usernames: Vec<String>) {
        let _ = self.0.send(Event::Released(usernames)).await;
    }
}

/// The running relay: where it listens, its task for the caller to spawn, and the link to it.
pub struct RelayHandle {
    listen: SocketAddr,
    pub task: Option<crate::Task>,
    pub link: RelayLink,
}

impl RelayHandle {
    pub fn listen(&self) -> SocketAddr {
        self.listen
    }
}

/// Binds the listeners (a port of 0 picks one free for both UDP and TCP).
pub async fn start(
    settings: &TurnSettings,
    secret: TurnSecret,
    public_ip: IpAddr,
) -> Result<RelayHandle, TurnError> {
    let (udp, tcp) = bind_both(settings.listen).await?;
    let listen = udp
        .local_addr()
        .map_err(|e| TurnError::Bind(settings.listen, e))?;
    let policy = PeerPolicy::new(
        public_ip,
        settings.relay_ports.clone(),
        settings.allow_peers.clone(),
    );
    let limits = Limits {
        max_allocations: settings.max_allocations,
        user_allocations: settings.user_allocations,
        user_bandwidth: settings.user_bandwidth,
    };
    let relay = Relay::new(listen, secret, policy, limits, crate::db::unix_now());
    // Taken off this runtime's reactor, to be driven by the relay's own (see `on_own_thread`).
    let bind_error = |e| TurnError::Bind(listen, e);
    let parts = Parts {
        relay,
        udp: udp.into_std().map_err(bind_error)?,
        tcp: tcp.into_std().map_err(bind_error)?,
        public_ip,
        bind_ip: settings.listen.ip(),
        ports: settings.relay_ports.clone(),
        max_tcp: settings.max_allocations.saturating_mul(2).max(16),
    };
    let (tx, rx) = mpsc::channel(INBOX);
    Ok(RelayHandle {
        listen,
        link: RelayLink(tx.clone()),
        task: Some(Box::pin(on_own_thread(parts, tx, rx))),
    })
}

/// What the relay's thread builds its [`Edge`] from.
struct Parts {
    relay: Relay,
    udp: std::net::UdpSocket,
    tcp: std::net::TcpListener,
    public_ip: IpAddr,
    bind_ip: IpAddr,
    ports: std::ops::RangeInclusive<u16>,
    max_tcp: usize,
}

/// Runs the relay on a thread and event loop of its own until this future is dropped. Its
/// sockets, their readers and the protocol machines then share one loop, as a coturn relay
/// thread does: a relayed packet wakes nothing on another thread, which on a multi-threaded
/// runtime cost more than the packet itself.
async fn on_own_thread(parts: Parts, tx: mpsc::Sender<Event>, rx: mpsc::Receiver<Event>) {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (done, finished) = tokio::sync::oneshot::channel::<()>();
    let spawned = std::thread::Builder::new()
        .name("turn-relay".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => {
                    tracing::error!("TURN relay: no event loop: {e}");
                    return;
                }
            };
            runtime.block_on(async move {
                match Edge::new(parts) {
                    Ok((edge, tcp)) => {
                        tokio::select! {
                            () = edge.run(tcp, tx, rx) => {}
                            _ = stopped => {}
                        }
                    }
                    Err(e) => tracing::error!("TURN relay: its sockets: {e}"),
                }
            });
            let _ = done.send(());
        });
    if let Err(e) = spawned {
        tracing::error!("TURN relay: no thread: {e}");
        return;
    }
    // Dropping `stop` (this future dropped: the server stopping) ends the relay's loop.
    let _stop = stop;
    let _ = finished.await;
}

async fn bind_both(addr: SocketAddr) -> Result<(UdpSocket, TcpListener), TurnError> {
    // With port 0, the UDP port must also be free for TCP; a few tries find one.
    for _ in 0..if addr.port() == 0 { 10 } else { 1 } {
        let udp = UdpSocket::bind(addr)
            .await
            .map_err(|e| TurnError::Bind(addr, e))?;
        let port = udp
            .local_addr()
            .map_err(|e| TurnError::Bind(addr, e))?
            .port();
        match TcpListener::bind(SocketAddr::new(addr.ip(), port)).await {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(e) if addr.port() != 0 => return Err(TurnError::Bind(addr, e)),
            Err(_) => continue,
        }
    }
    Err(TurnError::Bind(
        addr,
        std::io::Error::other("no port free for both UDP and TCP"),
    ))
}

struct RelaySocket {
    socket: Arc<UdpSocket>,
    reader: JoinHandle<()>,
}

struct Edge {
    relay: Relay,
    started: Instant,
    udp: Arc<UdpSocket>,
    public_ip: IpAddr,
    bind_ip: IpAddr,
    ports: std::ops::RangeInclusive<u16>,
    /// By the relay address clients see.
    sockets: HashMap<SocketAddr, RelaySocket>,
    tcp_clients: HashMap<SocketAddr, mpsc::Sender<Vec<u8>>>,
    max_tcp: usize,
}

impl Edge {
    /// Inside the relay's own runtime, which then drives its sockets.
    fn new(parts: Parts) -> std::io::Result<(Self, TcpListener)> {
        let edge = Self {
            relay: parts.relay,
            started: Instant::now(),
            udp: Arc::new(UdpSocket::from_std(parts.udp)?),
            public_ip: parts.public_ip,
            bind_ip: parts.bind_ip,
            ports: parts.ports,
            sockets: HashMap::new(),
            tcp_clients: HashMap::new(),
            max_tcp: parts.max_tcp,
        };
        Ok((edge, TcpListener::from_std(parts.tcp)?))
    }

    fn now(&self) -> Duration {
        self.started.elapsed()
    }

    async fn run(
        mut self,
        tcp: TcpListener,
        tx: mpsc::Sender<Event>,
        mut rx: mpsc::Receiver<Event>,
    ) {
        let acceptor = tokio::spawn(accept(tcp, tx.clone(), self.max_tcp));
        let mut buf = vec![0u8; DATAGRAM];
        // One timer, moved when the relay's next deadline moves: not a new one per packet.
        let timer = tokio::time::sleep_until(Instant::now());
        tokio::pin!(timer);
        let mut armed = None;
        loop {
            let wake = self.relay.poll_timeout().map(|at| self.started + at);
            if wake != armed {
                if let Some(at) = wake {
                    timer.as_mut().reset(at);
                }
                armed = wake;
            }
            // Each wake-up takes what else is already waiting, up to a batch, before acting:
            // media comes in bursts, and a select per packet costs more than the packet.
            tokio::select! {
                got = self.udp.recv_from(&mut buf) => {
                    if let Ok((n, from)) = got {
                        self.on_datagram(from, &buf[..n]);
                        for _ in 1..BATCH {
                            match self.udp.try_recv_from(&mut buf) {
                                Ok((n, from)) => self.on_datagram(from, &buf[..n]),
                                Err(_) => break,
                            }
                        }
                    }
                }
                event = rx.recv() => match event {
                    Some(event) => {
                        self.on_event(event);
                        for _ in 1..BATCH {
                            match rx.try_recv() {
                                Ok(event) => self.on_event(event),
                                Err(_) => break,
                            }
                        }
                    }
                    None => break,
                },
                _ = &mut timer, if armed.is_some() => {
                    armed = None;
                    let now = self.now();
                    self.relay.handle_timeout(now);
                }
            }
            self.act(&tx);
        }
        acceptor.abort();
    }

    fn on_datagram(&mut self, from: SocketAddr, data: &[u8]) {
        let now = self.now();
        self.relay.from_client(now, TransportType::Udp, from, data);
    }

    fn on_event(&mut self, event: Event) {
        let now = self.now();
        match event {
            Event::Client(transport, from, data) => {
                self.relay.from_client(now, transport, from, &data)
            }
            Event::Peer(relay, peer, data) => self.relay.from_peer(now, relay, peer, &data),
            Event::TcpOpen(client, writer) => {
                self.tcp_clients.insert(client, writer);
            }
            Event::TcpClosed(client) => {
                self.tcp_clients.remove(&client);
                self.relay.client_closed(now, client);
            }
            Event::Minted(username) => self.relay.minted(&username),
            Event::Released(usernames) => {
                for username in &usernames {
                    self.relay.released(username);
                }
            }
        }
    }

    /// Carries out what the relay asked for.
    fn act(&mut self, tx: &mpsc::Sender<Event>) {
        while let Some(output) = self.relay.poll() {
            match output {
                Output::Transmit(t) => self.transmit(t.transport, t.from, t.to, t.data),
                Output::Allocate(request) => {
                    let result = self.open_relay_socket(request, tx);
                    let now = self.now();
                    self.relay.allocated(now, request, result);
                }
                Output::Release(addr) => {
                    if let Some(s) = self.sockets.remove(&addr) {
                        s.reader.abort();
                    }
                }
                Output::CloseClient(client) => {
                    // Dropping the writer's sender ends its task, which closes the stream.
                    self.tcp_clients.remove(&client);
                }
            }
        }
    }

    /// Non-blocking sends: a full socket buffer loses the packet, as the network would.
    fn transmit(
        &mut self,
        transport: TransportType,
        from: SocketAddr,
        to: SocketAddr,
        data: Vec<u8>,
    ) {
        if let Some(s) = self.sockets.get(&from) {
            let _ = s.socket.try_send_to(&data, to);
            return;
        }
        match transport {
            TransportType::Udp => {
                let _ = self.udp.try_send_to(&data, to);
            }
            TransportType::Tcp => {
                if let Some(w) = self.tcp_clients.get(&to) {
                    let _ = w.try_send(pad(data));
                }
            }
        }
    }

    fn open_relay_socket(
        &mut self,
        request: AllocateRequest,
        tx: &mpsc::Sender<Event>,
    ) -> Result<SocketAddr, SocketAllocateError> {
        let family_ok = matches!(
            (request.family, self.public_ip),
            (AddressFamily::IPV4, IpAddr::V4(_)) | (AddressFamily::IPV6, IpAddr::V6(_))
        );
        if !family_ok {
            return Err(SocketAllocateError::AddressFamilyNotSupported);
        }
        for _ in 0..PORT_TRIES {
            let port = random_port(&self.ports);
            let Ok(std) = std::net::UdpSocket::bind((self.bind_ip, port)) else {
                continue;
            };
            if std.set_nonblocking(true).is_err() {
                continue;
            }
            let Ok(socket) = UdpSocket::from_std(std) else {
                continue;
            };
            let addr = SocketAddr::new(self.public_ip, port);
            let socket = Arc::new(socket);
            let reader = tokio::spawn(read_peers(socket.clone(), addr, tx.clone()));
            self.sockets.insert(addr, RelaySocket { socket, reader });
            return Ok(addr);
        }
        tracing::warn!("TURN relay: no free port in {:?}", self.ports);
        Err(SocketAllocateError::InsufficientCapacity)
    }
}

fn random_port(ports: &std::ops::RangeInclusive<u16>) -> u16 {
    let span = u64::from(ports.end() - ports.start()) + 1;
    ports.start() + (crate::signaling::rand_u64() % span) as u16
}

async fn read_peers(socket: Arc<UdpSocket>, relay: SocketAddr, tx: mpsc::Sender<Event>) {
    let mut buf = vec![0u8; DATAGRAM];
    while let Ok((n, peer)) = socket.recv_from(&mut buf).await {
        if let Err(mpsc::error::TrySendError::Closed(_)) =
            tx.try_send(Event::Peer(relay, peer, buf[..n].to_vec()))
        {
            break;
        }
    }
}

async fn accept(listener: TcpListener, tx: mpsc::Sender<Event>, max: usize) {
    let open = Arc::new(tokio::sync::Semaphore::new(max));
    loop {
        let Ok((stream, client)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let Ok(permit) = open.clone().try_acquire_owned() else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let tx = tx.clone();
        tokio::spawn(async move {
            serve_tcp(stream, client, tx).await;
            drop(permit);
        });
    }
}

/// How long a TCP client may stay silent: the relay's allocations refresh every few minutes and
/// Chrome's consent checks every few seconds.
const TCP_IDLE: Duration = Duration::from_secs(60);

async fn serve_tcp(stream: TcpStream, client: SocketAddr, tx: mpsc::Sender<Event>) {
    let (mut read, mut write) = stream.into_split();
    let (out, mut outbox) = mpsc::channel::<Vec<u8>>(TCP_OUTBOX);
    if tx.send(Event::TcpOpen(client, out)).await.is_err() {
        return;
    }
    let writer = tokio::spawn(async move {
        while let Some(frame) = outbox.recv().await {
            if write.write_all(&frame).await.is_err() {
                break;
            }
        }
    });
    let mut framer = Framer::default();
    let mut buf = vec![0u8; DATAGRAM];
    loop {
        let n = match tokio::time::timeout(TCP_IDLE, read.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => n,
            _ => break,
        };
        // A frame the relay has no room for is lost whole, as a datagram would be.
        let framed = framer.push(&buf[..n], |frame| {
            let _ = tx.try_send(Event::Client(TransportType::Tcp, client, frame.to_vec()));
        });
        if framed.is_err() {
            break;
        }
    }
    writer.abort();
    let _ = tx.send(Event::TcpClosed(client)).await;
}
