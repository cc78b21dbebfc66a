//! HTTPS and WSS served by the binary's own TLS, with a certificate the test makes: pages,
//! the session cookie, the signaling socket, and clients that never finish a handshake.

mod common;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use common::{config, leptos_options, TempDb, APP, KEY};
use futures_util::{SinkExt, StreamExt};
use rustls_pki_types::{CertificateDer, ServerName};
use serde_json::{json, Value};
use server::{
    tls::{Tls, TlsFiles},
    usersig::{mint, SecretKey},
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use tokio_rustls::{client::TlsStream, TlsConnector};
use tokio_tungstenite::tungstenite::Message;

struct Site {
    addr: SocketAddr,
    connector: TlsConnector,
    _db: TempDb,
}

/// The site on 127.0.0.1 over TLS, with a fresh self-signed certificate for `localhost`, and a
/// client that trusts only that certificate.
async fn serve_tls() -> Site {
    let db = TempDb::new();
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .expect("params")
        .self_signed(&key)
        .expect("certificate");
    let files = TlsFiles {
        cert: db.path().join("site.crt"),
        key: db.path().join("site.key"),
    };
    std::fs::write(&files.cert, cert.pem()).expect("write cert");
    std::fs::write(&files.key, key.serialize_pem()).expect("write key");

    let mut config = config(&db, Some(KEY));
    config.secure_cookie = true; // What CALLING_TLS_CERT implies; see config.rs's tests.
    let tls = Tls::load(files).expect("load certificate");
    let site = server::build(config, leptos_options("target/site"))
        .await
        .expect("build site");
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let listener = tls.listen(tcp).expect("listen");
    let addr = axum::serve::Listener::local_addr(&listener).expect("addr");
    for task in site.background {
        tokio::spawn(task);
    }
    tokio::spawn(async move { axum::serve(listener, site.router).await });

    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from(cert.der().to_vec()))
        .expect("trust the test certificate");
    let client = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    Site {
        addr,
        connector: TlsConnector::from(Arc::new(client)),
        _db: db,
    }
}

impl Site {
    async fn connect(&self) -> TlsStream<TcpStream> {
        let tcp = TcpStream::connect(self.addr).await.expect("connect");
        let name = ServerName::try_from("localhost").expect("name");
        tokio::time::timeout(Duration::from_secs(5), self.connector.connect(name, tcp))
            .await
            .expect("handshake within 5 s")
            .expect("handshake")
    }

    /// One HTTP/1.1 exchange; returns the whole response as text.
    async fn request(&self, head: &str, body: &str) -> String {
        let mut tls = self.connect().await;
        let request = format!(
            "{head}\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        tls.write_all(request.as_bytes()).await.expect("write");
        let mut response = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), tls.read_to_end(&mut response))
            .await
            .expect("response within 5 s")
            .ok();
        String::from_utf8_lossy(&response).into_owned()
    }
}

#[tokio::test]
async fn pages_and_the_session_cookie_come_over_https() {
    let site = serve_tls().await;
    let page = site.request("GET /login HTTP/1.1", "").await;
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("Sign in"));

    let registered = site
        .request(
            "POST /auth/register HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded",
            "user_id=alice&password=correct-horse",
        )
        .await;
    assert!(registered.starts_with("HTTP/1.1 303"), "{registered}");
    let cookie = registered
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .expect("a session cookie");
    assert!(cookie.contains("Secure"), "{cookie}");
}

#[tokio::test]
async fn the_signaling_socket_works_over_wss() {
    let site = serve_tls().await;
    let tls = site.connect().await;
    let url = format!("wss://localhost:{}/ws", site.addr.port());
    let (mut ws, _) = tokio_tungstenite::client_async(url, tls)
        .await
        .expect("upgrade");
    let now = server::db::unix_now();
    let sig = mint(&SecretKey::new(KEY.into()), APP, "alice", now, 3600, None);
    let login = json!({"type": "login", "userID": "alice", "userSig": sig});
    ws.send(Message::Text(login.to_string().into()))
        .await
        .expect("send");
    let reply = loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => break serde_json::from_str::<Value>(&t).unwrap(),
            Ok(Some(Ok(_))) => continue,
            other => panic!("no reply: {other:?}"),
        }
    };
    assert_eq!(reply["type"], "loggedIn", "{reply}");
}

#[tokio::test]
async fn clients_that_stall_or_speak_plain_http_hold_up_nobody() {
    let site = serve_tls().await;
    // Connections that never start a handshake, and one that speaks plain HTTP.
    let mut idle = Vec::new();
    for _ in 0..20 {
        idle.push(TcpStream::connect(site.addr).await.expect("connect"));
    }
    let mut plain = TcpStream::connect(site.addr).await.expect("connect");
    plain
        .write_all(b"GET /login HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .expect("write");
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), plain.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "a plain-HTTP client is disconnected");
    assert!(!String::from_utf8_lossy(&answer).contains("Sign in"));

    let page = site.request("GET /login HTTP/1.1", "").await;
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    drop(idle);
}
