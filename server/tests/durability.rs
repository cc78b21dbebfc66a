//! The server binary killed and stopped for real: `kill -9` during calls and sign-ups loses no
//! committed account, contact or group and at most the last moment of history, and ends the
//! calls it interrupted when it was last alive; SIGTERM loses nothing, ends calls, and closes
//! every socket as restarting (1012).

mod common;

use std::{
    net::SocketAddr,
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use common::{TempDb, APP, KEY};
use futures_util::{SinkExt, StreamExt};
use reqwest::{header, redirect::Policy};
use serde_json::{json, Value};
use tokio_tungstenite::{
    connect_async,
    tungstenite::{protocol::frame::coding::CloseCode, Message},
};

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A running server process on `db`.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    async fn start(db: &TempDb) -> Self {
        let addr = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            probe.local_addr().unwrap()
        };
        let site = db.path().join("site");
        std::fs::create_dir_all(&site).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_server"))
            .env("LEPTOS_SITE_ADDR", addr.to_string())
            .env("LEPTOS_SITE_ROOT", &site)
            .env("LEPTOS_OUTPUT_NAME", "calling")
            .env("LEPTOS_WASM_OUTPUT_NAME", "calling")
            .env("LEPTOS_SITE_PKG_DIR", "pkg")
            .env("LEPTOS_ENV", "PROD")
            .env("DATABASE_URL", db.url())
            .env("CALLING_SECRET_KEY", KEY)
            .env("CALLING_TURN_LISTEN", "127.0.0.1:0")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .spawn()
            .expect("the server binary starts");
        let server = Self { child, addr };
        let deadline = Instant::now() + Duration::from_secs(30);
        while tokio::net::TcpStream::connect(addr).await.is_err() {
            assert!(
                Instant::now() < deadline,
                "the server did not listen within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        server
    }

    fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn signal(&self, signal: libc::c_int) {
        // SAFETY: kill takes plain integers; the pid is our own child's.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, signal);
        }
    }

    /// Waits for the process to end; its exit status.
    fn wait(&mut self, within: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not stop within {within:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn register(base: &str, user: &str) -> Result<String, String> {
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let r = client
        .post(format!("{base}/auth/register"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!("user_id={user}&password=a+good+password"))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let location = r
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok());
    if location != Some("/") {
        return Err(format!("{} {location:?}", r.status()));
    }
    let cookie = r
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("calling_session="))
        .map(|c| c.split(';').next().unwrap_or("").to_owned())
        .ok_or("no cookie")?;
    Ok(cookie)
}

async fn add_contact(base: &str, cookie: &str, contact: &str) {
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let r = client
        .post(format!("{base}/contacts/add"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, cookie)
        .body(format!("contact_id={contact}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()[header::LOCATION], "/");
}

async fn login(addr: SocketAddr, user: &str) -> Ws {
    let (mut ws, _) = connect_async(format!("ws://{addr}/ws")).await.unwrap();
    let sig = server::usersig::mint(
        &server::usersig::SecretKey::new(KEY.into()),
        APP,
        user,
        server::db::unix_now(),
        3600,
        None,
    );
    send(
        &mut ws,
        json!({"type": "login", "userID": user, "userSig": sig}),
    )
    .await;
    assert_eq!(recv(&mut ws).await["type"], "loggedIn");
    ws
}

async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::Text(v.to_string().into())).await.unwrap();
}

/// The next JSON frame; pings and presence skipped.
async fn recv(ws: &mut Ws) -> Value {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a frame within 10 s")
            .expect("open")
            .expect("a frame");
        if let Message::Text(t) = frame {
            let v: Value = serde_json::from_str(t.as_str()).unwrap();
            if v["type"] != "presence" {
                return v;
            }
        }
    }
}

/// `caller` calls `callee`; with `answer`, the callee accepts. The invitation's ID.
async fn call(caller: &mut Ws, callee: &mut Ws, to: &str, answer: bool) -> String {
    send(
        caller,
        json!({"type": "call", "req": 1, "userIDList": [to], "callType": 1, "timeout": 60}),
    )
    .await;
    let invite = recv(caller).await["inviteID"].as_str().unwrap().to_owned();
    assert_eq!(recv(callee).await["type"], "invited");
    if answer {
        send(
            callee,
            json!({"type": "accept", "req": 2, "inviteID": invite}),
        )
        .await;
        assert_eq!(recv(callee).await["type"], "result");
    }
    invite
}

struct Row {
    outcome: String,
    answered_at: Option<i64>,
    ended_at: Option<i64>,
}

async fn history_row(db: &Path, invite: &str) -> Option<Row> {
    let pool = server::db::open(&format!("sqlite://{}/calling.db", db.display()))
        .await
        .unwrap();
    let row: Option<(String, Option<i64>, Option<i64>)> = sqlx::query_as(
        "SELECT outcome, answered_at, ended_at FROM call_history WHERE invite_id = ?",
    )
    .bind(invite)
    .fetch_optional(&pool)
    .await
    .unwrap();
    pool.close().await;
    row.map(|(outcome, answered_at, ended_at)| Row {
        outcome,
        answered_at,
        ended_at,
    })
}

#[tokio::test]
async fn kill_9_loses_nothing_committed_and_ends_calls_when_it_was_last_alive() {
    let db = TempDb::new();
    let mut server = Server::start(&db).await;
    let base = server.base();
    let alice = register(&base, "alice").await.unwrap();
    register(&base, "bob").await.unwrap();
    register(&base, "carol").await.unwrap();
    register(&base, "dave").await.unwrap();
    add_contact(&base, &alice, "bob").await;
    let mut a = login(server.addr, "alice").await;
    let mut b = login(server.addr, "bob").await;
    let mut c = login(server.addr, "carol").await;
    let mut d = login(server.addr, "dave").await;
    send(
        &mut a,
        json!({"type": "createGroup", "req": 9, "name": "Team", "userIDList": ["bob"]}),
    )
    .await;
    let group = recv(&mut a).await["groupID"].as_str().unwrap().to_owned();
    let answered = call(&mut a, &mut b, "bob", true).await;
    let ringing = call(&mut c, &mut d, "dave", false).await;

    // Sign-ups keep coming while the server dies; every one it confirmed must survive.
    let storm = {
        let base = base.clone();
        tokio::spawn(async move {
            let mut confirmed = Vec::new();
            for n in 0..200 {
                let user = format!("storm{n}");
                match register(&base, &user).await {
                    Ok(_) => confirmed.push(user),
                    Err(_) => break,
                }
            }
            confirmed
        })
    };
    // Longer than a group commit, so the calls' records are written.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let killed_at = server::db::unix_now();
    server.signal(libc::SIGKILL);
    server.wait(Duration::from_secs(10));
    let confirmed = storm.await.unwrap();
    assert!(!confirmed.is_empty(), "no sign-up finished before the kill");
    drop((a, b, c, d));
    // Down for a few seconds, so that "ended at the restart" and "ended when last alive" differ.
    tokio::time::sleep(Duration::from_millis(2500)).await;

    // Started again on the same database: the close of the interrupted calls happens at start.
    let server = Server::start(&db).await;
    let pool = server::db::open(&db.url()).await.unwrap();
    let users: Vec<String> = sqlx::query_scalar("SELECT user_id FROM users")
        .fetch_all(&pool)
        .await
        .unwrap();
    for user in ["alice", "bob", "carol"]
        .iter()
        .map(|s| s.to_string())
        .chain(confirmed.clone())
    {
        assert!(users.contains(&user), "{user} was confirmed but is gone");
    }
    let contacts = server::contacts::list(&pool, "alice").await.unwrap();
    assert_eq!(
        contacts
            .iter()
            .map(|c| c.user_id.as_str())
            .collect::<Vec<_>>(),
        ["bob"]
    );
    let members: Vec<String> = sqlx::query_scalar(
        "SELECT user_id FROM call_group_members WHERE group_id = ? ORDER BY user_id",
    )
    .bind(&group)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(members, ["alice", "bob"]);

    let row = history_row(db.path(), &answered)
        .await
        .expect("the answered call was written");
    assert_eq!(row.outcome, "answered");
    assert!(row.answered_at.is_some());
    let ended = row.ended_at.expect("ended at restart");
    // At the last heartbeat before the kill (one a second), not at the restart.
    assert!(
        (killed_at - 2..=killed_at).contains(&ended),
        "ended at {ended}, killed at {killed_at}"
    );
    let row = history_row(db.path(), &ringing)
        .await
        .expect("the ringing call was written");
    assert_eq!(row.outcome, "no_answer");
    assert!(row.ended_at.is_some_and(|e| e <= killed_at));
    drop(server);
}

#[tokio::test]
async fn sigterm_ends_calls_closes_sockets_as_restarting_and_loses_nothing() {
    let db = TempDb::new();
    let mut server = Server::start(&db).await;
    let base = server.base();
    register(&base, "alice").await.unwrap();
    register(&base, "bob").await.unwrap();
    let mut a = login(server.addr, "alice").await;
    let mut b = login(server.addr, "bob").await;
    // No pause before the signal: the answer's record is still queued when it comes.
    let invite = call(&mut a, &mut b, "bob", true).await;
    server.signal(libc::SIGTERM);
    for ws in [&mut a, &mut b] {
        let close = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match ws.next().await {
                    Some(Ok(Message::Close(frame))) => return frame,
                    Some(Ok(_)) => continue,
                    _ => return None,
                }
            }
        })
        .await
        .expect("closed within 10 s")
        .expect("with a close frame");
        assert_eq!(close.code, CloseCode::Restart);
    }
    let status = server.wait(Duration::from_secs(20));
    assert!(status.success(), "{status}");
    let row = history_row(db.path(), &invite)
        .await
        .expect("written before exit");
    assert_eq!(row.outcome, "answered");
    assert!(row.answered_at.is_some() && row.ended_at.is_some());
}
