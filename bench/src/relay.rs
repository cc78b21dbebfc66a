//! The baseline: a bare WebSocket relay on the same stack as the server (axum, tokio-tungstenite,
//! the same 4 KiB buffers and bounded outboxes), with no authentication and no state machine.
//! The first frame names the user; every later frame is forwarded unchanged to the user in its
//! `to` field.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{
    extract::{
        ws::{Message, WebSocket},
        State, WebSocketUpgrade,
    },
    response::Response,
    routing::get,
    serve::ListenerExt,
    Router,
};
use serde::Deserialize;
use tokio::sync::mpsc;

const BUFFER: usize = 4 * 1024;
const OUTBOX: usize = 512;

type Users = Arc<Mutex<HashMap<String, mpsc::Sender<String>>>>;

#[derive(Deserialize)]
struct Login {
    #[serde(rename = "userID")]
    user_id: String,
}

#[derive(Deserialize)]
struct Addressed<'a> {
    #[serde(borrow)]
    to: &'a str,
}

pub async fn serve(addr: SocketAddr) -> anyhow::Result<()> {
    let users: Users = Arc::default();
    let router = Router::new().route("/ws", get(upgrade)).with_state(users);
    // Like the server: no Nagle delay on small frames.
    let listener = tokio::net::TcpListener::bind(addr).await?.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, router).await?;
    Ok(())
}

async fn upgrade(State(users): State<Users>, ws: WebSocketUpgrade) -> Response {
    ws.read_buffer_size(BUFFER)
        .write_buffer_size(BUFFER)
        .on_upgrade(move |socket| connection(users, socket))
}

async fn connection(users: Users, mut socket: WebSocket) {
    let user = match socket.recv().await {
        Some(Ok(Message::Text(text))) => match serde_json::from_str::<Login>(text.as_str()) {
            Ok(login) => login.user_id,
            Err(_) => return,
        },
        _ => return,
    };
    let (outbox, mut inbox) = mpsc::channel::<String>(OUTBOX);
    users
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(user.clone(), outbox.clone());
    if socket
        .send(Message::Text(r#"{"type":"loggedIn"}"#.into()))
        .await
        .is_ok()
    {
        loop {
            tokio::select! {
                frame = socket.recv() => match frame {
                    Some(Ok(Message::Text(text))) => {
                        let target = serde_json::from_str::<Addressed>(text.as_str())
                            .ok()
                            .and_then(|a| users.lock().unwrap_or_else(|e| e.into_inner()).get(a.to).cloned());
                        if let Some(target) = target {
                            let _ = target.try_send(text.as_str().to_owned());
                        }
                    }
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                    Some(Ok(_)) => {}
                },
                out = inbox.recv() => match out {
                    Some(frame) => if socket.send(Message::Text(frame.into())).await.is_err() { break },
                    None => break,
                },
            }
        }
    }
    let mut users = users.lock().unwrap_or_else(|e| e.into_inner());
    if users.get(&user).is_some_and(|o| o.same_channel(&outbox)) {
        users.remove(&user);
    }
}
