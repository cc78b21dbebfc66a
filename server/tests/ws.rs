//! The signaling WebSocket over real sockets on an ephemeral port: the upgrade, framing and
//! the request flow. What depends on the clock is in `connection.rs`, on a paused one;
//! contacts, presence, history and blocking are in `ws_contacts.rs`.

mod common;

use std::time::Duration;

use app::protocol::ErrorCode;
use common::{
    config, serve,
    ws::{connect, login_reply, recv, send, sig, Ws},
    TempDb, APP, KEY,
};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use server::usersig::{mint, SecretKey};
use tokio_tungstenite::{
    connect_async,
    tungstenite::{client::IntoClientRequest, Message},
};

/// A logged-in socket, its relay credentials checked.
async fn login(addr: std::net::SocketAddr, user: &str) -> Ws {
    let (ws, v) = login_reply(addr, user).await;
    relay_credentials(&v["iceServers"], user);
    ws
}

/// Our relay's STUN URL, then its TURN URLs (UDP and TCP) with a credential for `user` that
/// coturn's formula verifies.
fn relay_credentials(servers: &serde_json::Value, user: &str) {
    let stun = servers[0]["urls"][0].as_str().expect("a stun URL");
    assert!(stun.starts_with("stun:127.0.0.1:"), "{servers}");
    let port = &stun["stun:127.0.0.1:".len()..];
    assert_eq!(
        servers[1]["urls"],
        json!([
            format!("turn:127.0.0.1:{port}?transport=udp"),
            format!("turn:127.0.0.1:{port}?transport=tcp")
        ])
    );
    let username = servers[1]["username"].as_str().expect("username");
    let (expiry, who) = username.split_once(':').expect("<expiry>:<user>");
    assert_eq!(who, user);
    let left = expiry.parse::<i64>().unwrap() - server::db::unix_now();
    assert!((86_390..=86_400).contains(&left), "{left}");
    assert_eq!(
        servers[1]["credential"],
        server::turn::credentials::TurnSecret::new(common::TURN_SECRET).password(username)
    );
}

/// The connection is closed by the server.
async fn closed(ws: &mut Ws) {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("close within 5 s")
        {
            None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
            Some(Ok(_)) => continue,
        }
    }
}

#[tokio::test]
async fn login_with_good_forged_and_expired_sigs() {
    let db = TempDb::new();
    let addr = serve(config(&db, Some(KEY))).await;
    login(addr, "alice").await;

    let forged = mint(
        &SecretKey::new("wrong key".into()),
        APP,
        "bob",
        server::db::unix_now(),
        3600,
        None,
    );
    let expired = sig("bob", -7200, 3600);
    let others = sig("carol", 0, 3600);
    for bad in [forged, expired, others] {
        let mut ws = connect(addr).await;
        send(
            &mut ws,
            json!({"type": "login", "userID": "bob", "userSig": bad}),
        )
        .await;
        let v = recv(&mut ws).await;
        assert_eq!(v["type"], "error");
        assert_eq!(v["code"], ErrorCode::BadUserSig.code());
        closed(&mut ws).await;
    }
}

#[tokio::test]
async fn nothing_is_accepted_before_login() {
    let db = TempDb::new();
    let addr = serve(config(&db, Some(KEY))).await;
    let mut ws = connect(addr).await;
    send(&mut ws, json!({"type": "hangup", "req": 1})).await;
    assert_eq!(recv(&mut ws).await["code"], ErrorCode::NotLoggedIn.code());
    // The connection stays open for a login.
    send(
        &mut ws,
        json!({"type": "login", "userID": "alice", "userSig": sig("alice", 0, 60)}),
    )
    .await;
    assert_eq!(recv(&mut ws).await["type"], "loggedIn");
}

#[tokio::test]
async fn bad_frames_get_errors_and_the_connection_survives() {
    let db = TempDb::new();
    let addr = serve(config(&db, Some(KEY))).await;
    let mut ws = login(addr, "alice").await;

    ws.send(Message::Text("{not json".into())).await.unwrap();
    assert_eq!(recv(&mut ws).await["code"], ErrorCode::Malformed.code());
    send(&mut ws, json!({"type": "teleport", "req": 7})).await;
    let v = recv(&mut ws).await;
    assert_eq!(
        (v["code"].as_u64(), v["req"].as_u64()),
        (Some(ErrorCode::UnknownType.code().into()), Some(7))
    );
    send(
        &mut ws,
        json!({"type": "call", "req": 8, "userIDList": ["bob"], "callType": 9}),
    )
    .await;
    let v = recv(&mut ws).await;
    assert_eq!(
        (v["code"].as_u64(), v["req"].as_u64()),
        (Some(ErrorCode::InvalidArgument.code().into()), Some(8))
    );
    let huge = json!({"type": "hangup", "req": 12, "pad": "x".repeat(70 * 1024)});
    send(&mut ws, huge).await;
    let v = recv(&mut ws).await;
    assert_eq!(
        (v["code"].as_u64(), v["req"].as_u64()),
        (Some(ErrorCode::FrameTooLarge.code().into()), Some(12)),
        "the answer settles the request it refuses"
    );
    ws.send(Message::Binary(vec![1, 2, 3].into()))
        .await
        .unwrap();
    assert_eq!(recv(&mut ws).await["code"], ErrorCode::Malformed.code());

    // Still alive and logged in.
    send(&mut ws, json!({"type": "hangup", "req": 9})).await;
    let v = recv(&mut ws).await;
    assert_eq!(
        (v["code"].as_u64(), v["req"].as_u64()),
        (Some(ErrorCode::NotInCall.code().into()), Some(9))
    );
}

#[tokio::test]
async fn invite_accept_and_hangup_between_two_clients() {
    let db = TempDb::new();
    let addr = serve(config(&db, Some(KEY))).await;
    let mut alice = login(addr, "alice").await;
    let mut bob = login(addr, "bob").await;

    send(
        &mut alice,
        json!({"type": "call", "req": 1, "userIDList": ["bob"], "callType": 2, "timeout": 30}),
    )
    .await;
    let reply = recv(&mut alice).await;
    assert_eq!(reply["type"], "result");
    let invite_id = reply["inviteID"].as_str().unwrap().to_string();
    let room_id = reply["roomID"].as_u64().unwrap();

    let invited = recv(&mut bob).await;
    assert_eq!(invited["type"], "invited");
    assert_eq!(invited["sponsor"], "alice");
    assert_eq!(invited["inviteID"], invite_id);
    assert_eq!(
        invited["inviteData"],
        json!({"version": 4, "callType": 2, "roomID": room_id})
    );

    send(
        &mut bob,
        json!({"type": "accept", "req": 1, "inviteID": invite_id}),
    )
    .await;
    assert_eq!(recv(&mut bob).await["type"], "result");
    assert_eq!(
        recv(&mut bob).await,
        json!({"type": "userEnter", "roomID": room_id, "userID": "alice"})
    );
    assert_eq!(
        recv(&mut alice).await,
        json!({"type": "userEnter", "roomID": room_id, "userID": "bob"})
    );
    recv(&mut bob).await; // alice's media state
    recv(&mut alice).await; // bob's

    send(
        &mut alice,
        json!({"type": "signal", "userID": "bob", "data": {"kind": "offer", "sdp": "v=0"}}),
    )
    .await;
    assert_eq!(
        recv(&mut bob).await,
        json!({"type": "signal", "userID": "alice", "data": {"kind": "offer", "sdp": "v=0"}})
    );

    send(&mut bob, json!({"type": "hangup", "req": 2})).await;
    assert_eq!(recv(&mut bob).await["type"], "result");
    assert_eq!(
        recv(&mut alice).await,
        json!({"type": "userLeave", "roomID": room_id, "userID": "bob"})
    );
    assert_eq!(
        recv(&mut alice).await,
        json!({"type": "callEnd", "roomID": room_id})
    );
}

#[tokio::test]
async fn second_login_kicks_the_first() {
    let db = TempDb::new();
    let addr = serve(config(&db, Some(KEY))).await;
    let mut first = login(addr, "alice").await;
    let _second = login(addr, "alice").await;
    assert_eq!(recv(&mut first).await, json!({"type": "kickedOut"}));
    closed(&mut first).await;
}

#[tokio::test]
async fn groups_are_created_listed_and_called() {
    let db = TempDb::new();
    let addr = serve(config(&db, Some(KEY))).await;
    let mut alice = login(addr, "alice").await;
    let mut bob = login(addr, "bob").await;
    let mut eve = login(addr, "eve").await;

    send(
        &mut alice,
        json!({"type": "createGroup", "req": 1, "name": "Team", "userIDList": ["bob"]}),
    )
    .await;
    let group_id = recv(&mut alice).await["groupID"]
        .as_str()
        .unwrap()
        .to_string();
    send(&mut bob, json!({"type": "listGroups", "req": 2})).await;
    assert_eq!(
        recv(&mut bob).await["groups"],
        json!([{"groupID": group_id, "name": "Team", "userIDList": ["alice", "bob"]}])
    );
    send(&mut eve, json!({"type": "listGroups", "req": 3})).await;
    assert_eq!(recv(&mut eve).await["groups"], json!([]));
    send(&mut eve, json!({"type": "call", "req": 4, "userIDList": ["bob"], "callType": 1, "groupID": group_id})).await;
    assert_eq!(
        recv(&mut eve).await["code"],
        ErrorCode::NotGroupMember.code()
    );

    send(&mut alice, json!({"type": "call", "req": 5, "userIDList": ["bob"], "callType": 1, "groupID": group_id})).await;
    assert_eq!(recv(&mut alice).await["type"], "result");
    let invited = recv(&mut bob).await;
    assert_eq!(invited["isFromGroup"], true);
    assert_eq!(invited["groupID"], group_id);
}

#[tokio::test]
async fn a_member_list_longer_than_any_group_is_refused_before_it_is_read() {
    let db = TempDb::new();
    let addr = serve(config(&db, Some(KEY))).await;
    let mut alice = login(addr, "alice").await;
    // Far more names than a group holds, a bad one last: refused for the length alone.
    let mut members: Vec<String> = (0..2_000).map(|i| format!("u{i}")).collect();
    members.push("not valid!".into());
    send(
        &mut alice,
        json!({"type": "createGroup", "req": 1, "name": "Crowd", "userIDList": members}),
    )
    .await;
    let v = recv(&mut alice).await;
    assert_eq!(v["code"], ErrorCode::InvalidArgument.code(), "{v}");
    assert_eq!(v["message"], "a group has at most 200 members", "{v}");
}

/// The inverse of splitmix64's finaliser: what an attacker would run on an ID to read the
/// counter inside it, if IDs were a mix of a seed and a counter.
fn unmix(mut x: u64) -> u64 {
    fn unshift(y: u64, k: u32) -> u64 {
        let mut x = y;
        for _ in 0..64 / k + 1 {
            x = y ^ (x >> k);
        }
        x
    }
    fn inverse(a: u64) -> u64 {
        let mut x = a;
        for _ in 0..6 {
            x = x.wrapping_mul(2u64.wrapping_sub(a.wrapping_mul(x)));
        }
        x
    }
    x = unshift(x, 31);
    x = x.wrapping_mul(inverse(0x94d0_49bb_1331_11eb));
    x = unshift(x, 27);
    x = x.wrapping_mul(inverse(0xbf58_476d_1ce4_e5b9));
    x = unshift(x, 30);
    x.wrapping_sub(0x9e37_79b9_7f4a_7c15)
}

#[tokio::test]
async fn invitation_ids_do_not_give_away_the_next_one() {
    assert_eq!(unmix(0xe220_a839_7b1d_cdaf), 0, "unmix inverts splitmix64");
    let db = TempDb::new();
    let addr = serve(config(&db, Some(KEY))).await;
    let mut ids = Vec::new();
    for (caller, callee) in [("alice", "bob"), ("carol", "dave")] {
        let mut ws = login(addr, caller).await;
        let _callee = login(addr, callee).await;
        send(
            &mut ws,
            json!({"type": "call", "req": 1, "userIDList": [callee], "callType": 1}),
        )
        .await;
        let reply = recv(&mut ws).await;
        let id = reply["inviteID"]
            .as_str()
            .expect("an invitation")
            .to_owned();
        ids.push(u64::from_str_radix(&id, 16).expect("hex"));
    }
    // Mixed from a seed and a counter, two invitations a room apart would differ by a small
    // number once unmixed; from the OS's generator, they share nothing.
    let apart = unmix(ids[0]) ^ unmix(ids[1]);
    assert!(
        apart > 1 << 16,
        "consecutive IDs unmix to nearby counters: {apart}"
    );
}

#[tokio::test]
async fn a_flood_gets_an_answer_per_run_not_per_frame_and_oversized_frames_count() {
    let db = TempDb::new();
    let addr = serve(config(&db, Some(KEY))).await;
    let mut ws = login(addr, "alice").await;
    // Oversized frames spend the allowance like any other: 200 of them, then normal ones.
    let huge = json!({"type": "hangup", "pad": "x".repeat(65 * 1024)}).to_string();
    for _ in 0..200 {
        ws.send(Message::Text(huge.clone().into())).await.unwrap();
    }
    for req in 1000..1300 {
        send(&mut ws, json!({"type": "hangup", "req": req})).await;
    }
    let mut limited = Vec::new();
    // Until the server has said all it will: 13 MB take a while on a busy machine.
    loop {
        let t = match tokio::time::timeout(Duration::from_secs(3), ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => t,
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
            _ => break,
        };
        let v: Value = serde_json::from_str(t.as_str()).unwrap();
        if v["code"] == ErrorCode::RateLimited.code() {
            limited.push(v["req"].clone());
        }
    }
    // One answer per run of refused frames: a few runs, as the allowance refills at 50 a
    // second between them, and not one answer per frame.
    assert!(
        !limited.is_empty() && limited.len() < 20,
        "{} answers to 300 frames over the rate",
        limited.len()
    );
    assert!(
        limited.iter().all(Value::is_u64),
        "each names the request it refused"
    );
}

#[tokio::test]
async fn a_client_that_stops_reading_is_dropped_for_real() {
    let db = TempDb::new();
    let addr = serve(config(&db, Some(KEY))).await;
    let mut alice = login(addr, "alice").await;
    let mut bob = login(addr, "bob").await;
    send(
        &mut alice,
        json!({"type": "call", "req": 1, "userIDList": ["bob"], "callType": 1}),
    )
    .await;
    assert_eq!(recv(&mut alice).await["type"], "result");
    let invite_id = recv(&mut bob).await["inviteID"].clone();
    send(
        &mut bob,
        json!({"type": "accept", "req": 1, "inviteID": invite_id}),
    )
    .await;
    assert_eq!(recv(&mut bob).await["type"], "result");
    assert_eq!(recv(&mut alice).await["type"], "userEnter");

    // Bob reads nothing more; alice sends him 12 MB of signals, far past the socket's buffers
    // and his outbox's bound.
    let sdp = "a".repeat(60 * 1024);
    for _ in 0..200 {
        send(
            &mut alice,
            json!({"type": "signal", "userID": "bob", "data": {"kind": "offer", "sdp": sdp}}),
        )
        .await;
    }
    // The hub drops him: alice sees him leave.
    let left = loop {
        let v = recv(&mut alice).await;
        if v["type"] == "userLeave" {
            break v;
        }
    };
    assert_eq!(left["userID"], "bob");
    // And his socket really ends: what was already on the wire, then the end of the stream,
    // not a connection that answers pings forever.
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(Ok(_)) = bob.next().await {}
    })
    .await;
    assert!(ended.is_ok(), "the dropped connection is still open");
}

#[tokio::test]
async fn foreign_origins_are_refused() {
    let db = TempDb::new();
    let addr = serve(config(&db, Some(KEY))).await;
    let mut req = format!("ws://{addr}/ws").into_client_request().unwrap();
    req.headers_mut()
        .insert("Origin", "https://evil.example".parse().unwrap());
    assert!(connect_async(req).await.is_err());
    let mut req = format!("ws://{addr}/ws").into_client_request().unwrap();
    req.headers_mut()
        .insert("Origin", format!("http://{addr}").parse().unwrap());
    assert!(connect_async(req).await.is_ok());
}
