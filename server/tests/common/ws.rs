//! A WebSocket client for the signaling tests: connect, send and read JSON frames, log in.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use server::usersig::{mint, SecretKey};
use tokio::net::TcpStream;
use tokio_tungstenite::{connect_async, tungstenite::Message, MaybeTlsStream, WebSocketStream};

use super::{APP, KEY};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub fn sig(user: &str, now_offset: i64, expire: i64) -> String {
    let now = server::db::unix_now() + now_offset;
    mint(&SecretKey::new(KEY.into()), APP, user, now, expire, None)
}

pub async fn connect(addr: std::net::SocketAddr) -> Ws {
    let (ws, _) = connect_async(format!("ws://{addr}/ws"))
        .await
        .expect("connect");
    ws
}

pub async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::Text(v.to_string().into()))
        .await
        .expect("send");
}

/// The next JSON frame, skipping pings.
pub async fn recv(ws: &mut Ws) -> Value {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a frame within 5 s")
            .expect("open")
            .expect("frame");
        match frame {
            Message::Text(t) => return serde_json::from_str(t.as_str()).expect("json"),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// Logs `user` in on a new socket; the socket and the `loggedIn` frame.
pub async fn login_reply(addr: std::net::SocketAddr, user: &str) -> (Ws, Value) {
    let mut ws = connect(addr).await;
    send(
        &mut ws,
        json!({"type": "login", "userID": user, "userSig": sig(user, 0, 3600)}),
    )
    .await;
    let v = recv(&mut ws).await;
    assert_eq!(v["type"], "loggedIn", "{v}");
    assert_eq!(v["userID"], user);
    (ws, v)
}
