//! The site over HTTP, as a browser without JavaScript uses it: sessions, forms, the sig
//! endpoint, and a signaling login with the sig a session got.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::{header, redirect::Policy, Client, Response};
use serde_json::{json, Value};
use tokio_tungstenite::{connect_async, tungstenite::Message};

use super::{config, serve, ws::Ws, TempDb, KEY};

pub struct Site {
    pub base: String,
    pub addr: std::net::SocketAddr,
}

pub fn client() -> Client {
    Client::builder().redirect(Policy::none()).build().unwrap()
}

pub fn location(r: &Response) -> String {
    r.headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

pub fn cookie_of(r: &Response) -> Option<String> {
    r.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("calling_session="))
        .map(|c| c.split(';').next().unwrap_or("").to_string())
}

impl Site {
    pub async fn start(db: &TempDb) -> Self {
        let addr = serve(config(db, Some(KEY))).await;
        Self {
            base: format!("http://{addr}"),
            addr,
        }
    }

    pub async fn post(&self, path: &str, body: &str, cookie: Option<&str>) -> Response {
        let mut req = client()
            .post(format!("{}{path}", self.base))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body.to_owned());
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        req.send().await.unwrap()
    }

    pub async fn get(&self, path: &str, cookie: &str) -> Response {
        client()
            .get(format!("{}{path}", self.base))
            .header(header::COOKIE, cookie)
            .send()
            .await
            .unwrap()
    }

    /// A session for `user`: registers them first if `register`.
    pub async fn session(&self, user: &str, password: &str, register: bool) -> String {
        let path = if register {
            "/auth/register"
        } else {
            "/auth/login"
        };
        let body = format!("user_id={user}&password={}", password.replace(' ', "+"));
        let r = self.post(path, &body, None).await;
        assert_eq!(location(&r), "/", "{path} for {user}");
        cookie_of(&r).expect("a session cookie")
    }

    /// Whether `cookie` is still signed in.
    pub async fn signed_in(&self, cookie: &str) -> bool {
        let r = self.get("/", cookie).await;
        r.status() == reqwest::StatusCode::OK
    }

    pub async fn usersig(&self, cookie: &str) -> String {
        let r = self.get("/api/usersig", cookie).await;
        let v: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
        v["userSig"].as_str().expect("a sig").to_owned()
    }

    /// Logs `user` in over the WebSocket: the socket, or the refusal's message.
    pub async fn ws_login(&self, user: &str, sig: &str) -> Result<Ws, String> {
        let (mut ws, _) = connect_async(format!("ws://{}/ws", self.addr))
            .await
            .unwrap();
        let login = json!({"type": "login", "userID": user, "userSig": sig});
        ws.send(Message::Text(login.to_string().into()))
            .await
            .unwrap();
        let v = next_json(&mut ws).await.expect("an answer to the login");
        if v["type"] == "loggedIn" {
            Ok(ws)
        } else {
            assert_eq!(v["code"], 4011, "{v}");
            Err(v["message"].as_str().unwrap_or("").to_owned())
        }
    }
}

/// The next JSON frame, pings skipped; `None` once the socket closed.
pub async fn next_json(ws: &mut Ws) -> Option<Value> {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a frame or the end within 5 s");
        match frame {
            Some(Ok(Message::Text(t))) => return Some(serde_json::from_str(t.as_str()).unwrap()),
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
            Some(Ok(_)) => continue,
        }
    }
}
