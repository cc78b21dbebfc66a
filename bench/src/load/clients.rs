//! The clients: their login frames, their connections, and a storm of sign-ins.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::Arc,
    time::Instant,
};

use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{mpsc, Semaphore};
use tokio_tungstenite::tungstenite::{protocol::WebSocketConfig, Message};

use super::{user_name, Event, Flavor, Frame, Incoming, Storm, StormOutcome};
use crate::http;

/// The login frame for `name`: with a fresh UserSig for our server, bare for the relay.
pub fn login_frame(flavor: &Flavor, name: &str, now: i64) -> String {
    match flavor {
        Flavor::Ours { key, sdk_app_id } => {
            let sig = server::usersig::mint(key, *sdk_app_id, name, now, 86_400, None);
            format!(r#"{{"type":"login","userID":"{name}","userSig":"{sig}"}}"#)
        }
        Flavor::Relay => format!(r#"{{"type":"login","userID":"{name}"}}"#),
    }
}

/// Opens a client for each of `names`, 256 at a time, each reporting to `events` and each
/// from its own loopback address if `spread`; returns where to send each one's frames.
pub(super) async fn open_all(
    addr: SocketAddr,
    names: &[String],
    flavor: &Flavor,
    spread: bool,
    events: mpsc::UnboundedSender<Event>,
) -> anyhow::Result<Vec<Option<mpsc::UnboundedSender<String>>>> {
    let gate = Arc::new(Semaphore::new(256));
    let now = server::db::unix_now();
    let mut tasks = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        let login = login_frame(flavor, name, now);
        let gate = gate.clone();
        let events = events.clone();
        let source = spread.then(|| user_address(i));
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await;
            open(addr, source, i, login, events).await
        }));
    }
    drop(events);
    let mut senders = Vec::with_capacity(names.len());
    for task in tasks {
        senders.push(Some(task.await.context("connect task")??));
    }
    Ok(senders)
}

/// User `i`'s own address, in 127.1.0.0/16: a server counting per address sees each user
/// apart.
fn user_address(i: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 1, (i / 250) as u8, (i % 250) as u8 + 1))
}

/// Connects one client and starts its reader and writer; returns where to send its frames.
async fn open(
    addr: SocketAddr,
    source: Option<IpAddr>,
    user: usize,
    login: String,
    events: mpsc::UnboundedSender<Event>,
) -> anyhow::Result<mpsc::UnboundedSender<String>> {
    // Small buffers: ten thousand clients at tungstenite's default 128 KiB each would need
    // gigabytes.
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(4096);
    let stream = http::connect_from(source, addr).await?;
    let (ws, _) = tokio_tungstenite::client_async_with_config(
        format!("ws://{addr}/ws"),
        stream,
        Some(config),
    )
    .await
    .with_context(|| format!("connecting {}", user_name(user)))?;
    let (mut sink, mut stream) = ws.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    tokio::spawn(async move {
        while let Some(frame) = rx.recv().await {
            if sink.send(Message::Text(frame.into())).await.is_err() {
                break;
            }
        }
        let _ = sink.close().await;
    });
    tokio::spawn(async move {
        while let Some(message) = stream.next().await {
            let at = Instant::now();
            let what = match message {
                Ok(Message::Text(text)) => match serde_json::from_str::<Frame>(text.as_str()) {
                    Ok(frame) => Incoming::Frame(frame),
                    Err(_) => Incoming::Unreadable(text.as_str().chars().take(200).collect()),
                },
                Ok(Message::Close(_)) | Err(_) => break,
                Ok(_) => continue,
            };
            if events.send(Event { user, at, what }).is_err() {
                return;
            }
        }
        let _ = events.send(Event {
            user,
            at: Instant::now(),
            what: Incoming::Closed,
        });
    });
    tx.send(login).context("queueing the login")?;
    Ok(tx)
}

/// Sends every sign-in at once and times each answer.
pub(super) async fn sign_in_storm(addr: SocketAddr, storm: Storm, start: Instant) -> StormOutcome {
    let sent = Instant::now();
    let tasks: Vec<_> = storm
        .accounts
        .into_iter()
        .map(|user| {
            let body = http::form(&[("user_id", &user), ("password", &storm.password)]);
            tokio::spawn(async move {
                let r = http::post_form(addr, "/auth/login", &body).await;
                (r, Instant::now())
            })
        })
        .collect();
    let mut sign_ins = Vec::new();
    let mut failures = 0;
    let mut last = sent;
    for task in tasks {
        match task.await {
            Ok((Ok(reply), done)) if reply.signed_in() => {
                sign_ins.push(done - sent);
                last = last.max(done);
            }
            _ => failures += 1,
        }
    }
    StormOutcome {
        window: (sent - start, last - start),
        sign_ins,
        failures,
    }
}
