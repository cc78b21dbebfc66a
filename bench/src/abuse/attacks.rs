//! The attacks, each a task that runs until told to stop and then reports what it did. They
//! come from addresses of their own (127.66.0.0/16 and 127.67.0.0/16), apart from the honest
//! users', so that the server's per-address limits meet them as they would meet a stranger.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use futures_util::{SinkExt, StreamExt};
use tokio::{io::AsyncWriteExt, sync::watch, task::JoinSet};
use tokio_tungstenite::tungstenite::{protocol::WebSocketConfig, Message};

use crate::{
    http,
    load::{login_frame, Flavor},
};

/// Told `true` when the honest run is over.
pub type Stop = watch::Receiver<bool>;

/// What an attack did: named counts, in the order they are reported.
pub type Tally = Vec<(&'static str, u64)>;

/// Counters shared by an attack's tasks.
struct Counts(Vec<AtomicU64>);

impl Counts {
    fn new(n: usize) -> Arc<Self> {
        Arc::new(Self((0..n).map(|_| AtomicU64::new(0)).collect()))
    }

    fn add(&self, i: usize) {
        self.0[i].fetch_add(1, Ordering::Relaxed);
    }

    fn tally(&self, names: &[&'static str]) -> Tally {
        names
            .iter()
            .zip(&self.0)
            .map(|(n, c)| (*n, c.load(Ordering::Relaxed)))
            .collect()
    }
}

/// The `k`th address of the attackers' block `block` (127.66.block.x): `per_block` of them.
fn attacker_address(block: u8, k: usize, per_block: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 66, block, (k % per_block) as u8 + 1))
}

async fn stopped(stop: &mut Stop) {
    let _ = stop.wait_for(|s| *s).await;
}

type Socket = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// A WebSocket to `addr` from `source`, upgraded but not logged in.
async fn socket(addr: SocketAddr, source: IpAddr) -> anyhow::Result<Socket> {
    let stream = http::connect_from(Some(source), addr).await?;
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(4096);
    let (ws, _) = tokio_tungstenite::client_async_with_config(
        format!("ws://{addr}/ws"),
        stream,
        Some(config),
    )
    .await?;
    Ok(ws)
}

/// A socket logged in as `name` (with a valid sig: the attacker is a user like any other).
async fn logged_in(
    addr: SocketAddr,
    source: IpAddr,
    flavor: &Flavor,
    name: &str,
) -> anyhow::Result<Socket> {
    let mut ws = socket(addr, source).await?;
    let login = login_frame(flavor, name, server::db::unix_now());
    ws.send(Message::Text(login.into())).await?;
    until(&mut ws, "loggedIn").await?;
    Ok(ws)
}

/// Reads `ws` until a frame of type `kind` (its text), for five seconds at most.
async fn until(ws: &mut Socket, kind: &str) -> anyhow::Result<String> {
    let pattern = format!(r#""type":"{kind}""#);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) if t.as_str().contains(&pattern) => {
                return Ok(t.as_str().to_owned())
            }
            Ok(Some(Ok(_))) => continue,
            Ok(Some(Err(e))) => anyhow::bail!("waiting for {kind}: {e}"),
            Ok(None) => anyhow::bail!("closed while waiting for {kind}"),
            Err(_) => anyhow::bail!("no {kind} within 5 s"),
        }
    }
}

/// A `call` frame just under the server's 64 KiB frame limit, its list thousands of distinct
/// short user IDs: what once made the server deduplicate quadratically under its lock.
pub fn large_list_frame() -> String {
    let mut ids = String::new();
    let mut i = 0u32;
    while ids.len() < 64 * 1024 - 200 {
        if !ids.is_empty() {
            ids.push(',');
        }
        ids.push_str(&format!("\"{i:x}\""));
        i += 1;
    }
    format!(r#"{{"type":"call","req":1,"userIDList":[{ids}],"callType":1,"timeout":30}}"#)
}

/// `n` logged-in attackers, each sending `per_second` large-list calls; a connection the
/// server closes is opened again.
pub async fn large_lists(
    addr: SocketAddr,
    flavor: Flavor,
    n: usize,
    per_second: f64,
    stop: Stop,
) -> Tally {
    let counts = Counts::new(3);
    let frame: Arc<str> = large_list_frame().into();
    let mut tasks = JoinSet::new();
    for k in 0..n {
        let (counts, frame, flavor, mut stop) =
            (counts.clone(), frame.clone(), flavor.clone(), stop.clone());
        tasks.spawn(async move {
            let name = format!("xl{k}");
            while !*stop.borrow() {
                let Ok(ws) = logged_in(addr, attacker_address(0, k, 8), &flavor, &name).await
                else {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                };
                let (mut sink, mut stream) = ws.split();
                let replies = counts.clone();
                let reader = tokio::spawn(async move {
                    while let Some(Ok(_)) = stream.next().await {
                        replies.add(1);
                    }
                });
                let mut pace = tokio::time::interval(Duration::from_secs_f64(1.0 / per_second));
                loop {
                    tokio::select! {
                        _ = stopped(&mut stop) => break,
                        _ = pace.tick() => {
                            if sink.send(Message::Text(frame.to_string().into())).await.is_err() {
                                counts.add(2);
                                break;
                            }
                            counts.add(0);
                        }
                    }
                }
                reader.abort();
            }
        });
    }
    tasks.join_all().await;
    counts.tally(&["frames sent", "replies read", "closed by the server"])
}

/// `n` pairs, started over `over`: one calls the other, the other accepts and then never reads
/// again, and the first floods it with 60 KiB offers at the rate the server allows. The server
/// should cut the reader off once its outbox is full.
pub async fn slow_readers(
    addr: SocketAddr,
    flavor: Flavor,
    n: usize,
    over: Duration,
    stop: Stop,
) -> Tally {
    let counts = Counts::new(4);
    let sdp = "a".repeat(60 * 1024);
    let mut tasks = JoinSet::new();
    for k in 0..n {
        let (counts, flavor, mut stop, sdp) =
            (counts.clone(), flavor.clone(), stop.clone(), sdp.clone());
        let start_after = over.mul_f64(k as f64 / n.max(1) as f64);
        tasks.spawn(async move {
            tokio::select! {
                _ = stopped(&mut stop) => return,
                _ = tokio::time::sleep(start_after) => {}
            }
            let (reader_name, flooder_name) = (format!("xr{k}"), format!("xs{k}"));
            let pair = async {
                let mut reader = logged_in(addr, attacker_address(1, k, 250), &flavor, &reader_name).await?;
                let mut flooder = logged_in(addr, attacker_address(2, k, 250), &flavor, &flooder_name).await?;
                let call = format!(
                    r#"{{"type":"call","req":1,"userIDList":["{reader_name}"],"callType":1,"timeout":30}}"#
                );
                flooder.send(Message::Text(call.into())).await?;
                let invited = until(&mut reader, "invited").await?;
                let invite = serde_json::from_str::<serde_json::Value>(&invited)?["inviteID"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                let accept = format!(r#"{{"type":"accept","req":2,"inviteID":"{invite}"}}"#);
                reader.send(Message::Text(accept.into())).await?;
                until(&mut flooder, "userEnter").await?;
                anyhow::Ok((reader, flooder))
            };
            let Ok((reader, flooder)) = pair.await else {
                counts.add(3);
                return;
            };
            counts.add(0);
            // From here on `reader` is never read: it is only kept open.
            let _kept = reader;
            let (mut sink, mut stream) = flooder.split();
            let offer = format!(
                r#"{{"type":"signal","userID":"{reader_name}","data":{{"kind":"offer","sdp":"{sdp}"}}}}"#
            );
            let mut pace = tokio::time::interval(Duration::from_millis(25));
            let mut cut_off = false;
            loop {
                tokio::select! {
                    _ = stopped(&mut stop) => break,
                    frame = stream.next() => match frame {
                        // The server ended the reader's connection: the call is over for it.
                        Some(Ok(Message::Text(t))) if t.as_str().contains(r#""type":"userLeave""#)
                            || t.as_str().contains(r#""type":"callEnd""#) => {
                            cut_off = true;
                            break;
                        }
                        Some(Ok(_)) => continue,
                        _ => break,
                    },
                    _ = pace.tick() => {
                        if sink.send(Message::Text(offer.clone().into())).await.is_err() {
                            break;
                        }
                        counts.add(1);
                    }
                }
            }
            if cut_off {
                counts.add(2);
            }
        });
    }
    tasks.join_all().await;
    counts.tally(&[
        "pairs in a call",
        "offers sent",
        "readers cut off",
        "pairs that failed to start",
    ])
}

/// `n` sockets that never read a byte: half upgrade and log in, half upgrade and say nothing.
/// All come from 8 addresses.
pub async fn silent_sockets(addr: SocketAddr, flavor: Flavor, n: usize, stop: Stop) -> Tally {
    let counts = Counts::new(3);
    let gate = Arc::new(tokio::sync::Semaphore::new(64));
    let mut tasks = JoinSet::new();
    for k in 0..n {
        let (counts, flavor, gate, mut stop) =
            (counts.clone(), flavor.clone(), gate.clone(), stop.clone());
        tasks.spawn(async move {
            let opened = {
                let _permit = gate.acquire().await;
                socket(addr, attacker_address(3, k, 8)).await
            };
            let Ok(mut ws) = opened else {
                counts.add(2);
                return;
            };
            if k % 2 == 0 {
                let login = login_frame(&flavor, &format!("xq{k}"), server::db::unix_now());
                if ws.send(Message::Text(login.into())).await.is_err() {
                    counts.add(2);
                    return;
                }
                counts.add(0);
            } else {
                counts.add(1);
            }
            stopped(&mut stop).await;
            drop(ws);
        });
    }
    tasks.join_all().await;
    counts.tally(&[
        "logged in, never reading",
        "upgraded, never logging in",
        "refused",
    ])
}

/// `n` connections from 16 addresses, each sending a request's headers a byte a second; each
/// one the server closes is opened again.
pub async fn slowloris(addr: SocketAddr, n: usize, stop: Stop) -> Tally {
    let counts = Counts::new(3);
    let mut tasks = JoinSet::new();
    for k in 0..n {
        let (counts, mut stop) = (counts.clone(), stop.clone());
        tasks.spawn(async move {
            while !*stop.borrow() {
                let Ok(mut stream) =
                    http::connect_from(Some(attacker_address(4, k, 16)), addr).await
                else {
                    counts.add(2);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                };
                counts.add(0);
                let head = b"GET / HTTP/1.1\r\nHost: calling\r\nX-Slow: ";
                let mut written = stream.write_all(head).await.is_ok();
                let mut drip = tokio::time::interval(Duration::from_secs(1));
                while written {
                    tokio::select! {
                        _ = stopped(&mut stop) => return,
                        _ = drip.tick() => written = stream.write_all(b"a").await.is_ok(),
                    }
                }
                counts.add(1);
            }
        });
    }
    tasks.join_all().await;
    counts.tally(&["connections opened", "closed by the server", "refused"])
}

/// `workers` clients posting wrong passwords for `accounts` as fast as answers come, each
/// request from the next of 100 addresses (127.67.0.0/24): a botnet guessing passwords, whose
/// every address comes back to each account.
pub async fn sign_in_flood(
    addr: SocketAddr,
    accounts: Vec<String>,
    workers: usize,
    stop: Stop,
) -> Tally {
    let counts = Counts::new(4);
    let accounts = Arc::new(accounts);
    let mut tasks = JoinSet::new();
    for w in 0..workers {
        let (counts, accounts, stop) = (counts.clone(), accounts.clone(), stop.clone());
        tasks.spawn(async move {
            let mut i = w;
            while !*stop.borrow() {
                let user = &accounts[i % accounts.len()];
                let source = IpAddr::V4(Ipv4Addr::new(127, 67, 0, (i % 100) as u8 + 1));
                let body = http::form(&[("user_id", user), ("password", "not the password")]);
                match http::post_form_from(Some(source), addr, "/auth/login", &body).await {
                    Ok(r) if r.status == 303 => counts.add(0),
                    Ok(r) if r.status == 429 => counts.add(1),
                    Ok(r) if r.status == 503 => counts.add(2),
                    _ => counts.add(3),
                }
                i += workers;
            }
        });
    }
    tasks.join_all().await;
    counts.tally(&[
        "refused as wrong",
        "throttled (429)",
        "busy (503)",
        "other answers",
    ])
}
