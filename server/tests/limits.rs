//! What a stranger can hold or try over HTTP: slow request heads, idle and surplus
//! connections, sockets that never log in, password guesses, sign-ups on a closed site.

mod common;

use std::time::Duration;

use common::{config, config_with, serve, serve_with, TempDb, KEY};
use reqwest::{header, redirect::Policy, Client, StatusCode};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

fn client() -> Client {
    Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client")
}

async fn post_form(base: &str, path: &str, body: &str) -> reqwest::Response {
    client()
        .post(format!("{base}{path}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body.to_string())
        .send()
        .await
        .expect("post")
}

fn location(r: &reqwest::Response) -> &str {
    r.headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// Reads until the server closes the connection, or gives up after `patience`; true if it
/// closed.
async fn closed_within(tcp: &mut TcpStream, patience: Duration) -> bool {
    let mut buf = [0u8; 4096];
    tokio::time::timeout(patience, async {
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    })
    .await
    .is_ok()
}

#[tokio::test]
async fn a_request_head_sent_a_byte_at_a_time_is_cut_off() {
    let db = TempDb::new();
    let addr = serve_with(config(&db, Some(KEY)), "target/site", |limits| {
        limits.header_read_within = Duration::from_millis(300);
    })
    .await;
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    // Slowloris: a valid start, then one more header byte now and then, never the end.
    tcp.write_all(b"GET /login HTTP/1.1\r\nHost: x\r\nX-A: ")
        .await
        .unwrap();
    let trickle = async {
        for _ in 0..20 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if tcp.write_all(b"a").await.is_err() {
                return;
            }
        }
    };
    trickle.await;
    assert!(
        closed_within(&mut tcp, Duration::from_secs(2)).await,
        "the connection is still open after 2 s of trickling"
    );
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed() {
    let db = TempDb::new();
    let addr = serve_with(config(&db, Some(KEY)), "target/site", |limits| {
        limits.header_read_within = Duration::from_millis(300);
    })
    .await;
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"GET /login HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 512];
    let n = tcp.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"), "{:?}", &buf[..n]);
    assert!(closed_within(&mut tcp, Duration::from_secs(3)).await);
}

#[tokio::test]
async fn connections_past_the_cap_wait_for_a_free_place() {
    let db = TempDb::new();
    let addr = serve_with(config(&db, Some(KEY)), "target/site", |limits| {
        limits.max_connections = 2;
    })
    .await;
    let first = TcpStream::connect(addr).await.unwrap();
    let _second = TcpStream::connect(addr).await.unwrap();
    // Accepted by the kernel, but not served while both places are taken.
    let mut third = TcpStream::connect(addr).await.unwrap();
    third
        .write_all(b"GET /login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 512];
    let early = tokio::time::timeout(Duration::from_millis(500), third.read(&mut buf)).await;
    assert!(early.is_err(), "served past the cap");
    drop(first);
    let n = tokio::time::timeout(Duration::from_secs(5), third.read(&mut buf))
        .await
        .expect("served once a place is free")
        .unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
}

#[tokio::test]
async fn sockets_that_have_not_logged_in_are_capped_per_address() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::{connect_async, tungstenite};

    let db = TempDb::new();
    let cfg = config_with(&db, Some(KEY), &[("CALLING_MAX_PENDING_PER_IP", "2")]);
    let addr = serve(cfg).await;
    let url = format!("ws://{addr}/ws");
    let mut a = connect_async(&url).await.expect("first").0;
    let _b = connect_async(&url).await.expect("second").0;
    match connect_async(&url).await {
        Err(tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
            assert!(response.headers().contains_key(header::RETRY_AFTER));
        }
        other => panic!(
            "a third socket from one address was let in: {:?}",
            other.map(|_| ())
        ),
    }
    // Once one has logged in, its place among those logging in is free again.
    let sig = server::usersig::mint(
        &server::usersig::SecretKey::new(KEY.into()),
        common::APP,
        "alice",
        server::db::unix_now(),
        3600,
        None,
    );
    let login = serde_json::json!({"type": "login", "userID": "alice", "userSig": sig});
    a.send(tungstenite::Message::Text(login.to_string().into()))
        .await
        .unwrap();
    loop {
        match a.next().await.expect("open").expect("frame") {
            tungstenite::Message::Text(t) if t.as_str().contains("loggedIn") => break,
            tungstenite::Message::Text(t) => panic!("{t}"),
            _ => continue,
        }
    }
    connect_async(&url).await.expect("a place after the login");
}

#[tokio::test]
async fn password_guesses_are_throttled_per_address_and_account() {
    let db = TempDb::new();
    let base = format!("http://{}", serve(config(&db, Some(KEY))).await);
    for user in ["alice", "bob"] {
        let r = post_form(
            &base,
            "/auth/register",
            &format!("user_id={user}&password=right+password"),
        )
        .await;
        assert_eq!(location(&r), "/");
    }
    for _ in 0..5 {
        let r = post_form(&base, "/auth/login", "user_id=alice&password=guess+guess").await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert!(location(&r).contains("error=bad_credentials"));
    }
    // The sixth is refused before any hashing, the right password too, and not at once: a
    // guesser waiting for answers guesses slowly.
    for password in ["guess+guess", "right+password"] {
        let asked = std::time::Instant::now();
        let r = post_form(
            &base,
            "/auth/login",
            &format!("user_id=alice&password={password}"),
        )
        .await;
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(asked.elapsed() >= Duration::from_secs(1));
        let wait: u64 = r.headers()[header::RETRY_AFTER]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&wait), "{wait}");
        // A browser is sent on to the sign-in page, which says why.
        let body = r.text().await.unwrap();
        assert!(
            body.contains("url=/login?error=throttled&amp;user=alice")
                || body.contains("url=/login?error=throttled&user=alice"),
            "{body}"
        );
    }
    // Another account from the same address is not held back by alice's.
    let r = post_form(&base, "/auth/login", "user_id=bob&password=right+password").await;
    assert_eq!(location(&r), "/");
}

#[tokio::test]
async fn a_closed_site_takes_no_sign_ups_and_the_operator_adds_accounts() {
    let db = TempDb::new();
    let closed = [("CALLING_REGISTRATION", "closed")];
    let base = format!(
        "http://{}",
        serve(config_with(&db, Some(KEY), &closed)).await
    );
    let page = client()
        .get(format!("{base}/register"))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&page), "/login?error=registration_closed");
    let r = post_form(
        &base,
        "/auth/register",
        "user_id=mallory&password=anything+at+all",
    )
    .await;
    assert_eq!(
        location(&r),
        "/register?error=registration_closed&user=mallory"
    );
    let r = post_form(
        &base,
        "/auth/login",
        "user_id=mallory&password=anything+at+all",
    )
    .await;
    assert!(
        location(&r).contains("error=bad_credentials"),
        "no account was made"
    );

    server::admin::add_user(
        &config_with(&db, Some(KEY), &closed),
        "carol",
        "carols password",
    )
    .await
    .expect("added from the command line");
    let r = post_form(
        &base,
        "/auth/login",
        "user_id=carol&password=carols+password",
    )
    .await;
    assert_eq!(location(&r), "/");
}
