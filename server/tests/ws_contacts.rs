//! Contacts over the signaling WebSocket, on real sockets: presence, the history calls leave,
//! and blocking. Not on a paused clock: they wait on SQLite's own thread, which a paused clock
//! runs past.

mod common;

use std::time::Duration;

use common::{
    config, serve,
    site::{location, Site},
    ws::{login_reply, recv, send, Ws},
    TempDb, KEY,
};
use futures_util::StreamExt;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

async fn login(addr: std::net::SocketAddr, user: &str) -> Ws {
    login_reply(addr, user).await.0
}

#[tokio::test]
async fn contacts_see_presence_and_calls_reach_the_history() {
    let db = TempDb::new();
    let addr = serve(config(&db, Some(KEY))).await;
    let pool = server::db::open(&db.url()).await.unwrap();
    let accounts = server::accounts::Accounts::new(pool.clone(), server::accounts::Hasher::new(1));
    for u in ["alice", "bob"] {
        accounts.register(u, "password1", 0).await.unwrap();
    }
    for (owner, contact) in [("alice", "bob"), ("bob", "alice")] {
        server::contacts::add(&pool, owner, contact, 0)
            .await
            .unwrap();
    }

    let mut alice = login(addr, "alice").await;
    assert_eq!(
        recv(&mut alice).await,
        json!({"type": "presence", "userID": "bob", "status": "offline"})
    );
    let mut bob = login(addr, "bob").await;
    assert_eq!(
        recv(&mut alice).await,
        json!({"type": "presence", "userID": "bob", "status": "online"})
    );

    send(
        &mut alice,
        json!({"type": "call", "req": 1, "userIDList": ["bob"], "callType": 1, "timeout": 30}),
    )
    .await;
    let invite_id = recv(&mut alice).await["inviteID"]
        .as_str()
        .unwrap()
        .to_string();
    recv(&mut bob).await;
    send(
        &mut bob,
        json!({"type": "accept", "req": 2, "inviteID": invite_id}),
    )
    .await;
    assert_eq!(recv(&mut alice).await["type"], "userEnter");
    assert_eq!(recv(&mut alice).await["type"], "media");
    assert_eq!(
        recv(&mut alice).await,
        json!({"type": "presence", "userID": "bob", "status": "inCall"})
    );
    send(&mut bob, json!({"type": "hangup", "req": 3})).await;
    drop(bob);
    let mut seen = Vec::new();
    while seen.last() != Some(&json!("offline")) {
        let v = recv(&mut alice).await;
        if v["type"] == "presence" {
            seen.push(v["status"].clone());
        }
    }
    assert_eq!(seen, [json!("online"), json!("offline")]);

    // The history is written in the background, in batches; give it a few moments.
    let mut entries = Vec::new();
    for _ in 0..250 {
        entries = server::history::list(&pool, "bob", 10).await.unwrap();
        if entries.first().is_some_and(|e| e.ended_at.is_some()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let e = &entries[0];
    assert_eq!(
        (e.peer.as_str(), e.outgoing, e.outcome.as_str()),
        ("alice", false, "answered")
    );
    assert!(e.answered_at.is_some() && e.ended_at.is_some());
    assert!(!e.missed());
    let mine = server::history::list(&pool, "alice", 10).await.unwrap();
    assert_eq!((mine[0].peer.as_str(), mine[0].outgoing), ("bob", true));
}

/// Nothing arrives on `ws` for a moment.
async fn quiet(ws: &mut Ws) {
    let heard = tokio::time::timeout(Duration::from_millis(300), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(t))) => return t.to_string(),
                Some(Ok(_)) => continue,
                _ => return String::new(),
            }
        }
    })
    .await;
    assert!(heard.is_err(), "heard {heard:?}");
}

/// A registered user's session and signaling socket.
async fn person(site: &Site, user: &str) -> (String, Ws) {
    let cookie = site.session(user, "password1", true).await;
    let sig = site.usersig(&cookie).await;
    let ws = site.ws_login(user, &sig).await.unwrap();
    (cookie, ws)
}

#[tokio::test]
async fn presence_flows_only_once_a_request_is_accepted() {
    let db = TempDb::new();
    let site = Site::start(&db).await;
    let (alice_c, mut alice) = person(&site, "alice").await;
    let (bob_c, mut bob) = person(&site, "bob").await;
    let (carol_c, mut carol) = person(&site, "carol").await;

    // Asking shows alice nothing of bob, and bob nothing of alice.
    let r = site
        .post("/contacts/add", "contact_id=bob", Some(&alice_c))
        .await;
    assert_eq!(location(&r), "/");
    quiet(&mut alice).await;
    quiet(&mut bob).await;
    // Bob accepts: both open sockets learn the other is online.
    let r = site
        .post("/contacts/accept", "contact_id=alice", Some(&bob_c))
        .await;
    assert_eq!(location(&r), "/");
    assert_eq!(
        recv(&mut alice).await,
        json!({"type": "presence", "userID": "bob", "status": "online"})
    );
    assert_eq!(
        recv(&mut bob).await,
        json!({"type": "presence", "userID": "alice", "status": "online"})
    );
    // A second accept finds nothing to accept.
    let r = site
        .post("/contacts/accept", "contact_id=alice", Some(&bob_c))
        .await;
    assert_eq!(location(&r), "/?error=no_contact_request");

    // Carol asks, bob declines: carol is told nothing, then or when bob comes and goes.
    site.post("/contacts/add", "contact_id=bob", Some(&carol_c))
        .await;
    let r = site
        .post("/contacts/decline", "contact_id=carol", Some(&bob_c))
        .await;
    assert_eq!(location(&r), "/");
    drop(bob);
    assert_eq!(
        recv(&mut alice).await,
        json!({"type": "presence", "userID": "bob", "status": "offline"})
    );
    quiet(&mut carol).await;
    let bob_sig = site.usersig(&bob_c).await;
    let _bob = site.ws_login("bob", &bob_sig).await.unwrap();
    assert_eq!(
        recv(&mut alice).await,
        json!({"type": "presence", "userID": "bob", "status": "online"})
    );
    quiet(&mut carol).await;
    // Nor does a fresh login of carol's list bob's presence.
    drop(carol);
    let carol_sig = site.usersig(&carol_c).await;
    let mut carol = site.ws_login("carol", &carol_sig).await.unwrap();
    quiet(&mut carol).await;
}

#[tokio::test]
async fn a_blocked_user_can_neither_ring_nor_watch_the_blocker() {
    let db = TempDb::new();
    let addr = serve(config(&db, Some(KEY))).await;
    let pool = server::db::open(&db.url()).await.unwrap();
    let accounts = server::accounts::Accounts::new(pool.clone(), server::accounts::Hasher::new(1));
    for u in ["alice", "mallory"] {
        accounts.register(u, "password1", 0).await.unwrap();
    }
    server::contacts::add(&pool, "mallory", "alice", 0)
        .await
        .unwrap();
    server::blocks::block(&pool, "alice", "mallory", 0)
        .await
        .unwrap();
    // Blocking ends the contact, and it cannot be made again from either side.
    assert!(server::contacts::list(&pool, "mallory")
        .await
        .unwrap()
        .is_empty());
    assert!(matches!(
        server::contacts::add(&pool, "mallory", "alice", 0).await,
        Err(server::contacts::ContactError::Blocked)
    ));

    let mut alice = login(addr, "alice").await;
    let mut mallory = login(addr, "mallory").await;
    send(
        &mut mallory,
        json!({"type": "call", "req": 1, "userIDList": ["alice"], "callType": 2, "timeout": 2}),
    )
    .await;
    assert_eq!(recv(&mut mallory).await["type"], "result");
    // Two seconds of ringing on mallory's side; nothing at all on alice's.
    assert_eq!(recv(&mut mallory).await["type"], "noResp");
    quiet(&mut alice).await;
}
