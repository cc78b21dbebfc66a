//! The `/ws` edge: upgrade checks, login, framing and limits, feeding the [`Hub`].
//!
//! Idle connections must stay cheap: tungstenite's read and write buffers default to 128 KiB
//! each, so they are set to 4 KiB here. Frames over [`MAX_FRAME`] get an error and are dropped;
//! only frames past [`HARD_MAX_FRAME`] (which could only be abuse) close the connection.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use app::{
    protocol::{code, ClientMsg, Outcome, ServerMsg},
    rules::check_user_id,
};
use axum::{
    extract::{
        ws::{Message, WebSocket},
        State, WebSocketUpgrade,
    },
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use tokio::sync::mpsc;

use super::{
    groups::{self, GroupError},
    hub::{Hub, Outgoing, OUTBOX},
    limits::RateLimit,
    switchboard::{Command, ConnId},
};
use crate::{db::unix_now, state::AppState, usersig};

pub const MAX_FRAME: usize = 64 * 1024;
pub const HARD_MAX_FRAME: usize = 256 * 1024;
const BUFFER: usize = 4 * 1024;
const LOGIN_WITHIN: Duration = Duration::from_secs(10);
const PING_EVERY: Duration = Duration::from_secs(20);
/// Nothing heard (not even a pong) for this long: the peer is gone.
const DEAD_AFTER: Duration = Duration::from_secs(50);
const RATE_PER_SECOND: f64 = 50.0;
const RATE_BURST: f64 = 200.0;

pub async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if !origin_allowed(&headers, &state.signaling.allowed_origins) {
        return (StatusCode::FORBIDDEN, "origin not allowed").into_response();
    }
    ws.read_buffer_size(BUFFER)
        .write_buffer_size(BUFFER)
        .max_message_size(HARD_MAX_FRAME)
        .max_frame_size(HARD_MAX_FRAME)
        .on_upgrade(move |socket| serve(state, socket))
}

/// Browsers always send `Origin`; it must be this site or an allowed one. Clients that are not
/// browsers send none, and cannot be stopped by it anyway.
fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    if allowed.iter().any(|a| a == origin) {
        return true;
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    !host.is_empty()
        && (origin.strip_prefix("http://") == Some(host)
            || origin.strip_prefix("https://") == Some(host))
}

enum Flow {
    Continue,
    Close,
}

struct Connection {
    state: AppState,
    hub: Arc<Hub>,
    id: ConnId,
    user: Option<String>,
    outbox: mpsc::Sender<Outgoing>,
    limit: RateLimit,
}

impl Connection {
    fn new(state: AppState) -> (Self, mpsc::Receiver<Outgoing>) {
        let hub = state.signaling.hub.clone();
        let (outbox, inbox) = mpsc::channel(OUTBOX);
        let id = hub.next_conn_id();
        let conn = Self {
            state,
            hub,
            id,
            user: None,
            outbox,
            limit: RateLimit::new(Instant::now(), RATE_PER_SECOND, RATE_BURST),
        };
        (conn, inbox)
    }
}

/// One connection's life: frames in, outbox out, pings, until either side closes.
async fn serve(state: AppState, mut socket: WebSocket) {
    let (mut conn, mut inbox) = Connection::new(state);
    let login_by = tokio::time::sleep(LOGIN_WITHIN);
    tokio::pin!(login_by);
    let mut ping = tokio::time::interval(PING_EVERY);
    let mut heard = Instant::now();
    loop {
        let flow = tokio::select! {
            frame = socket.recv() => match frame {
                Some(Ok(Message::Text(text))) => {
                    heard = Instant::now();
                    conn.on_text(&mut socket, text.as_str()).await
                }
                Some(Ok(Message::Binary(_))) => {
                    heard = Instant::now();
                    send(&mut socket, &error(None, code::MALFORMED, "frames are JSON text")).await
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {
                    heard = Instant::now();
                    Flow::Continue
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => Flow::Close,
            },
            out = inbox.recv() => match out {
                Some(Outgoing::Frame(frame)) => {
                    if socket.send(Message::Text(frame.into())).await.is_err() { Flow::Close } else { Flow::Continue }
                }
                Some(Outgoing::Close) | None => Flow::Close,
            },
            _ = ping.tick() => {
                if heard.elapsed() > DEAD_AFTER || socket.send(Message::Ping(Vec::new().into())).await.is_err() {
                    Flow::Close
                } else {
                    Flow::Continue
                }
            }
            _ = &mut login_by, if conn.user.is_none() => {
                let _ = send(&mut socket, &error(None, code::NOT_LOGGED_IN, "log in within 10 seconds")).await;
                Flow::Close
            }
        };
        if let Flow::Close = flow {
            break;
        }
    }
    // Frames already queued (KICKED_OUT, for one) still go out before the close.
    while let Ok(Outgoing::Frame(frame)) = inbox.try_recv() {
        if socket.send(Message::Text(frame.into())).await.is_err() {
            break;
        }
    }
    let _ = socket.send(Message::Close(None)).await;
    if conn.user.is_some() {
        conn.hub.disconnect(conn.id);
    }
}

fn error(req: Option<u32>, code: u32, message: impl Into<String>) -> ServerMsg {
    ServerMsg::Error {
        req,
        code,
        message: message.into(),
    }
}

async fn send(socket: &mut WebSocket, msg: &ServerMsg) -> Flow {
    let Ok(frame) = serde_json::to_string(msg) else {
        return Flow::Continue;
    };
    match socket.send(Message::Text(frame.into())).await {
        Ok(()) => Flow::Continue,
        Err(_) => Flow::Close,
    }
}

/// Why a frame could not be decoded, with the request number when one could be read.
fn decode(text: &str) -> Result<ClientMsg, ServerMsg> {
    serde_json::from_str::<ClientMsg>(text).map_err(|e| {
        let value: Option<serde_json::Value> = serde_json::from_str(text).ok();
        let req = value
            .as_ref()
            .and_then(|v| v.get("req"))
            .and_then(serde_json::Value::as_u64)
            .and_then(|r| u32::try_from(r).ok());
        match value.as_ref().map(|v| v.get("type")) {
            None => error(None, code::MALFORMED, "the frame is not JSON"),
            Some(None) => error(req, code::MALFORMED, "the frame has no \"type\""),
            Some(Some(t)) if t.is_string() && e.to_string().contains("unknown variant") => {
                error(req, code::UNKNOWN_TYPE, format!("unknown type {t}"))
            }
            Some(Some(_)) => error(req, code::INVALID_ARGUMENT, e.to_string()),
        }
    })
}

impl Connection {
    async fn on_text(&mut self, socket: &mut WebSocket, text: &str) -> Flow {
        if text.len() > MAX_FRAME {
            return send(
                socket,
                &error(None, code::FRAME_TOO_LARGE, "frames are limited to 64 KiB"),
            )
            .await;
        }
        if !self.limit.allow(Instant::now()) {
            return send(
                socket,
                &error(
                    None,
                    code::RATE_LIMITED,
                    "too many messages; this one was dropped",
                ),
            )
            .await;
        }
        let msg = match decode(text) {
            Ok(msg) => msg,
            Err(reply) => return send(socket, &reply).await,
        };
        match (&self.user, msg) {
            (None, ClientMsg::Login { user_id, user_sig }) => {
                self.login(socket, user_id, user_sig).await
            }
            (None, _) => send(socket, &error(None, code::NOT_LOGGED_IN, "log in first")).await,
            (Some(_), ClientMsg::Login { .. }) => {
                send(
                    socket,
                    &error(
                        None,
                        code::ALREADY_LOGGED_IN,
                        "this connection is already logged in",
                    ),
                )
                .await
            }
            (Some(user), msg) => {
                let user = user.clone();
                self.on_message(socket, &user, msg).await
            }
        }
    }

    async fn login(&mut self, socket: &mut WebSocket, user_id: String, user_sig: String) -> Flow {
        let sigs = &self.state.sigs;
        let checked = check_user_id(&user_id)
            .map_err(|e| e.to_string())
            .and_then(|()| {
                usersig::verify(&sigs.key, sigs.sdk_app_id, &user_id, &user_sig, unix_now())
                    .map_err(|e| e.to_string())
            });
        if let Err(why) = checked {
            let _ = send(socket, &error(None, code::BAD_USERSIG, why)).await;
            return Flow::Close;
        }
        let welcome = ServerMsg::LoggedIn {
            user_id: user_id.clone(),
            ice_servers: self.state.signaling.ice_servers.clone(),
        };
        if let Flow::Close = send(socket, &welcome).await {
            return Flow::Close;
        }
        self.user = Some(user_id.clone());
        self.hub
            .login(self.id, user_id.clone(), self.outbox.clone());
        for msg in super::presence::snapshot(&self.state.db, &self.hub, &user_id).await {
            if let Flow::Close = send(socket, &msg).await {
                return Flow::Close;
            }
        }
        Flow::Continue
    }

    async fn on_message(&mut self, socket: &mut WebSocket, user: &str, msg: ClientMsg) -> Flow {
        let db = &self.state.db;
        let command = match msg {
            ClientMsg::Login { .. } => return Flow::Continue,
            ClientMsg::CreateGroup {
                req,
                name,
                user_ids,
            } => {
                let group_id = format!("g{:016x}", rand_u64());
                let reply =
                    match groups::create(db, user, &name, &user_ids, &group_id, unix_now()).await {
                        Ok(group_id) => ServerMsg::Result {
                            req,
                            outcome: Outcome {
                                group_id: Some(group_id),
                                ..Outcome::default()
                            },
                        },
                        Err(e) => group_error(req, e),
                    };
                return send(socket, &reply).await;
            }
            ClientMsg::ListGroups { req } => {
                let reply = match groups::list(db, user).await {
                    Ok(list) => ServerMsg::Result {
                        req,
                        outcome: Outcome {
                            groups: Some(list),
                            ..Outcome::default()
                        },
                    },
                    Err(e) => group_error(req, e),
                };
                return send(socket, &reply).await;
            }
            ClientMsg::Call {
                req,
                user_ids,
                call_type,
                timeout,
                group_id,
            } => {
                let group = match group_id {
                    None => None,
                    Some(id) => match groups::resolve(db, user, &id).await {
                        Ok(g) => Some(g),
                        Err(e) => return send(socket, &group_error(req, e)).await,
                    },
                };
                Command::Call {
                    req,
                    user_ids,
                    call_type,
                    timeout,
                    group,
                }
            }
            ClientMsg::Accept { req, invite_id } => Command::Accept { req, invite_id },
            ClientMsg::Reject {
                req,
                invite_id,
                is_busy,
            } => Command::Reject {
                req,
                invite_id,
                is_busy,
            },
            ClientMsg::Hangup { req } => Command::Hangup { req },
            ClientMsg::Signal { to, data } => Command::Signal { to, data },
            ClientMsg::Media { audio, video } => Command::Media { audio, video },
            ClientMsg::SwitchType { req, call_type } => Command::SwitchType { req, call_type },
        };
        self.hub.command(self.id, command);
        Flow::Continue
    }
}

fn group_error(req: u32, e: GroupError) -> ServerMsg {
    let code = match e {
        GroupError::NotFound => code::NO_SUCH_GROUP,
        GroupError::NotMember => code::NOT_GROUP_MEMBER,
        GroupError::Storage(ref s) => {
            tracing::error!("groups: {s}");
            code::SERVER
        }
        _ => code::INVALID_ARGUMENT,
    };
    error(Some(req), code, e.to_string())
}

/// Random bits for IDs that should not be guessable.
pub fn rand_u64() -> u64 {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    OsRng.next_u64()
}
