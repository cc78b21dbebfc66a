//! One connection's loop (`ws::serve`) driven over in-memory channels instead of sockets, on a
//! paused clock that moves only when every task waits (tokio's auto-advance): the login
//! deadline, pings, the dead-peer check and ringing timeouts take no real time.

mod common;

use std::{convert::Infallible, time::Duration};

use app::protocol::ErrorCode;
use axum::extract::ws::Message;
use common::{config, leptos_options, TempDb, APP, KEY};
use futures_channel::mpsc::{unbounded, UnboundedReceiver, UnboundedSender};
use futures_util::StreamExt;
use serde_json::{json, Value};
use server::{
    signaling::ws::{serve, DEAD_AFTER, LOGIN_WITHIN, PING_EVERY, WRITE_WITHIN},
    state::AppState,
    usersig::{mint, SecretKey},
};

/// Longest a test waits for a frame, on the paused clock.
const PATIENCE: Duration = Duration::from_secs(30);

/// The client's ends of one connection.
struct Client {
    to_server: UnboundedSender<Result<Message, Infallible>>,
    from_server: UnboundedReceiver<Message>,
}

/// Builds the site and starts its background tasks, on the running clock.
///
/// The database is used only with the clock running: SQLite works on its own thread, which the
/// paused clock does not wait for, so while a task waits for it the clock would run ahead to
/// every timer in turn (the pool's acquire timeout among them). Tests pause once their
/// connections are logged in and idle.
async fn start(db: &TempDb) -> AppState {
    // No site files: compressing them would hold the paused clock back while it runs.
    let root = db.path().display().to_string();
    let site = server::build(config(db, Some(KEY)), leptos_options(&root))
        .await
        .expect("build site");
    for task in site.background {
        tokio::spawn(task);
    }
    site.state
}

fn connect(state: &AppState) -> Client {
    let (to_server, stream) = unbounded();
    let (sink, from_server) = unbounded();
    tokio::spawn(serve(state.clone(), sink, stream));
    Client {
        to_server,
        from_server,
    }
}

impl Client {
    fn send_raw(&self, msg: Message) {
        self.to_server.unbounded_send(Ok(msg)).expect("server gone");
    }

    fn send(&self, v: Value) {
        self.send_raw(Message::Text(v.to_string().into()));
    }

    /// The next frame of any kind, or `None` once the server has closed.
    async fn next(&mut self) -> Option<Message> {
        tokio::time::timeout(PATIENCE, self.from_server.next())
            .await
            .expect("a frame or a close in time")
    }

    /// The next JSON frame, skipping pings.
    async fn recv(&mut self) -> Value {
        loop {
            match self.next().await {
                Some(Message::Text(t)) => return serde_json::from_str(t.as_str()).expect("json"),
                Some(Message::Ping(_)) => continue,
                other => panic!("expected a frame, got {other:?}"),
            }
        }
    }

    /// The server closes the connection (a close frame, then the end of the channel).
    async fn closed(&mut self) {
        loop {
            match self.next().await {
                None | Some(Message::Close(_)) => return,
                Some(Message::Ping(_)) => continue,
                Some(other) => panic!("expected the close, got {other:?}"),
            }
        }
    }

    /// Nothing arrives for `d`, pings aside.
    async fn quiet_for(&mut self, d: Duration) {
        let deadline = tokio::time::Instant::now() + d;
        while let Ok(frame) = tokio::time::timeout_at(deadline, self.from_server.next()).await {
            assert!(matches!(frame, Some(Message::Ping(_))), "got {frame:?}");
        }
    }
}

/// A new connection logged in as `user`, done with the database: an answered request shows
/// that its task has finished the login's contact look-up.
async fn login(state: &AppState, user: &str) -> Client {
    let mut c = connect(state);
    let sig = mint(
        &SecretKey::new(KEY.into()),
        APP,
        user,
        server::db::unix_now(),
        3600,
        None,
    );
    c.send(json!({"type": "login", "userID": user, "userSig": sig}));
    assert_eq!(c.recv().await["type"], "loggedIn");
    c.send(json!({"type": "hangup", "req": 0}));
    assert_eq!(c.recv().await["code"], ErrorCode::NotInCall.code());
    c
}

#[tokio::test]
async fn a_connection_must_log_in_within_10_seconds() {
    let db = TempDb::new();
    let state = start(&db).await;
    tokio::time::pause();
    let mut c = connect(&state);
    c.quiet_for(LOGIN_WITHIN - Duration::from_millis(100)).await;
    let v = c.recv().await;
    assert_eq!(v["code"], ErrorCode::NotLoggedIn.code());
    assert_eq!(v["message"], "log in within 10 seconds");
    c.closed().await;
}

#[tokio::test]
async fn a_peer_that_answers_pings_stays_and_a_silent_one_is_dropped() {
    let db = TempDb::new();
    let state = start(&db).await;
    let mut alive = login(&state, "alice").await;
    let mut silent = login(&state, "bob").await;
    tokio::time::pause();
    // Four ping periods: alice answers each ping; bob never does.
    for _ in 0..4 {
        match alive.next().await {
            Some(Message::Ping(_)) => alive.send_raw(Message::Pong(Vec::new().into())),
            other => panic!("expected a ping, got {other:?}"),
        }
    }
    // By the fourth ping more than DEAD_AFTER has passed without a word from bob.
    assert!(PING_EVERY * 3 > DEAD_AFTER);
    silent.closed().await;
    // alice is still logged in and answered.
    alive.send(json!({"type": "hangup", "req": 1}));
    assert_eq!(alive.recv().await["code"], ErrorCode::NotInCall.code());
}

#[tokio::test]
async fn ringing_times_out_on_the_server() {
    let db = TempDb::new();
    let state = start(&db).await;
    let mut alice = login(&state, "alice").await;
    let mut bob = login(&state, "bob").await;
    // Placing a call reads the database (who blocked the caller): on the running clock.
    alice.send(
        json!({"type": "call", "req": 1, "userIDList": ["bob"], "callType": 1, "timeout": 5}),
    );
    assert_eq!(alice.recv().await["type"], "result");
    assert_eq!(bob.recv().await["type"], "invited");
    tokio::time::pause();
    bob.quiet_for(Duration::from_secs(3)).await;
    assert_eq!(bob.recv().await["type"], "callingTimeout");
    assert_eq!(alice.recv().await["type"], "noResp");
    assert_eq!(alice.recv().await["type"], "callEnd");
}

#[tokio::test]
async fn a_client_that_never_reads_is_dropped_at_the_login_deadline() {
    let db = TempDb::new();
    let state = start(&db).await;
    tokio::time::pause();
    let (_to_server, stream) = unbounded::<Result<Message, Infallible>>();
    // Room for one frame (the first ping), never read: every later write waits forever.
    let (sink, _never_read) = futures_channel::mpsc::channel::<Message>(0);
    let ended = tokio::time::timeout(
        LOGIN_WITHIN + Duration::from_secs(1),
        serve(state, sink, stream),
    );
    assert!(
        ended.await.is_ok(),
        "a write to a client that does not read held the connection past its login deadline"
    );
}

#[tokio::test]
async fn a_logged_in_client_that_stops_reading_is_dropped() {
    let db = TempDb::new();
    let state = start(&db).await;
    let (to_server, stream) = unbounded::<Result<Message, Infallible>>();
    let (sink, mut from_server) = futures_channel::mpsc::channel::<Message>(4);
    let task = tokio::spawn(serve(state, sink, stream));
    let sig = mint(
        &SecretKey::new(KEY.into()),
        APP,
        "alice",
        server::db::unix_now(),
        3600,
        None,
    );
    let login = json!({"type": "login", "userID": "alice", "userSig": sig});
    to_server
        .unbounded_send(Ok(Message::Text(login.to_string().into())))
        .unwrap();
    loop {
        match tokio::time::timeout(PATIENCE, from_server.next())
            .await
            .unwrap()
        {
            Some(Message::Text(t)) if t.as_str().contains("loggedIn") => break,
            Some(Message::Ping(_)) => continue,
            other => panic!("expected the login, got {other:?}"),
        }
    }
    // Settle the login's database work, then stop reading for good while still talking, so
    // that only a stuck write can end the connection.
    to_server
        .unbounded_send(Ok(Message::Text(
            json!({"type": "hangup", "req": 0}).to_string().into(),
        )))
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    tokio::time::pause();
    let talker = tokio::spawn(async move {
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_secs(5)).await;
            if to_server
                .unbounded_send(Ok(Message::Pong(Vec::new().into())))
                .is_err()
            {
                return;
            }
        }
    });
    // The outbox fills with pings (one per PING_EVERY) until a write waits; it may wait
    // WRITE_WITHIN.
    let fills_by = PING_EVERY * 6;
    let ended = tokio::time::timeout(fills_by + WRITE_WITHIN, task).await;
    assert!(
        ended.is_ok(),
        "a client that stopped reading is still connected"
    );
    talker.abort();
    drop(from_server);
}
