//! The embedded relay over real sockets on loopback: a TURN client (turn-client-proto) gets an
//! allocation over UDP and over TCP with the credential a login was given, and none without.

mod common;

use std::{net::SocketAddr, time::Duration};

use common::{config, serve, TempDb, APP, KEY};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use server::usersig::{mint, SecretKey};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpStream, UdpSocket},
    time::Instant,
};
use tokio_tungstenite::tungstenite::Message;
use turn_client_proto::{
    api::{TurnClientApi, TurnConfig, TurnEvent, TurnPollRet},
    tcp::TurnClientTcp,
    types::TurnCredentials,
    udp::TurnClientUdp,
};
use turn_server_proto::types::{Instant as SansInstant, TransportType};

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

/// Logs in over the WebSocket and returns the relay's address, the credential, and the
/// session, which holds the credential for as long as it is open.
async fn credential(site: SocketAddr, user: &str) -> (SocketAddr, String, String, Ws) {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{site}/ws"))
        .await
        .expect("ws");
    let sig = mint(
        &SecretKey::new(KEY.into()),
        APP,
        user,
        server::db::unix_now(),
        3600,
        None,
    );
    let login = json!({"type": "login", "userID": user, "userSig": sig}).to_string();
    ws.send(Message::Text(login.into())).await.unwrap();
    let text = loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => break text,
            Some(Ok(_)) => continue,
            other => panic!("no reply: {other:?}"),
        }
    };
    let v: Value = serde_json::from_str(&text).unwrap();
    let turn = &v["iceServers"][1];
    let url = turn["urls"][0].as_str().unwrap();
    let addr = url["turn:".len()..url.find('?').unwrap()].parse().unwrap();
    (
        addr,
        turn["username"].as_str().unwrap().to_owned(),
        turn["credential"].as_str().unwrap().to_owned(),
        ws,
    )
}

enum Io {
    Udp(UdpSocket),
    Tcp(TcpStream),
}

impl Io {
    async fn send(&mut self, data: &[u8], to: SocketAddr) {
        match self {
            Io::Udp(s) => {
                s.send_to(data, to).await.unwrap();
            }
            Io::Tcp(s) => s.write_all(data).await.unwrap(),
        }
    }

    async fn recv(&mut self, within: Duration) -> Option<Vec<u8>> {
        let mut buf = vec![0u8; 4096];
        let n = match self {
            Io::Udp(s) => tokio::time::timeout(within, s.recv(&mut buf))
                .await
                .ok()?
                .ok()?,
            Io::Tcp(s) => tokio::time::timeout(within, s.read(&mut buf))
                .await
                .ok()?
                .ok()?,
        };
        (n > 0).then(|| buf[..n].to_vec())
    }
}

/// Runs the client until it has an allocation, or 3 s pass.
async fn allocates<C: TurnClientApi>(mut client: C, mut io: Io, transport: TransportType) -> bool {
    let start = Instant::now();
    let at = || SansInstant::from_nanos(start.elapsed().as_nanos() as i64);
    while start.elapsed() < Duration::from_secs(3) {
        if let TurnPollRet::Closed = client.poll(at()) {
            return false;
        }
        while let Some(t) = client.poll_transmit(at()) {
            io.send(t.data.as_ref(), t.to).await;
        }
        while let Some(event) = client.poll_event() {
            match event {
                TurnEvent::AllocationCreated(..) => return true,
                TurnEvent::AllocationCreateFailed(_) => return false,
                _ => {}
            }
        }
        if let Some(data) = io.recv(Duration::from_millis(100)).await {
            let from = client.remote_addr();
            let to = client.local_addr();
            let _ = client.recv(
                turn_server_proto::api::Transmit::new(data.as_slice(), transport, from, to),
                at(),
            );
        }
    }
    false
}

async fn over_udp(relay: SocketAddr, username: &str, password: &str) -> bool {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let local = socket.local_addr().unwrap();
    let config = TurnConfig::new(TurnCredentials::new(username, password));
    let client = TurnClientUdp::allocate(local, relay, config);
    allocates(client, Io::Udp(socket), TransportType::Udp).await
}

async fn over_tcp(relay: SocketAddr, username: &str, password: &str) -> bool {
    let stream = TcpStream::connect(relay).await.unwrap();
    let local = stream.local_addr().unwrap();
    let config = TurnConfig::new(TurnCredentials::new(username, password));
    let client = TurnClientTcp::allocate(local, relay, config);
    allocates(client, Io::Tcp(stream), TransportType::Tcp).await
}

#[tokio::test]
async fn a_login_credential_allocates_over_udp_and_tcp() {
    let db = TempDb::new();
    let site = serve(config(&db, Some(KEY))).await;
    let (relay, username, password, _session) = credential(site, "alice").await;
    assert!(over_udp(relay, &username, &password).await, "udp");
    assert!(over_tcp(relay, &username, &password).await, "tcp");
}

#[tokio::test]
async fn a_credential_is_refused_once_its_session_has_ended() {
    let db = TempDb::new();
    let site = serve(config(&db, Some(KEY))).await;
    let (relay, username, password, mut session) = credential(site, "alice").await;
    assert!(over_udp(relay, &username, &password).await);
    session.close(None).await.unwrap();
    // The server notices the close, then tells the relay: a moment, bounded.
    let mut refused = false;
    for _ in 0..20 {
        if !over_udp(relay, &username, &password).await {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(refused, "a logged-out session's credential still allocates");
}

#[tokio::test]
async fn a_forged_credential_allocates_nothing() {
    let db = TempDb::new();
    let site = serve(config(&db, Some(KEY))).await;
    let (relay, username, _, _session) = credential(site, "alice").await;
    assert!(!over_udp(relay, &username, "guessed").await);
    let later = format!("{}:alice", server::db::unix_now() + 3600);
    assert!(!over_udp(relay, &later, "guessed").await);
}
