//! The `/ws` edge: upgrade checks, login, framing and limits, feeding the [`Hub`].
//!
//! The connection loop ([`serve`]) is generic over a [`Sink`] and a [`Stream`] of messages, as
//! in axum's testing-websockets example, so that tests can drive it over in-memory channels on
//! a paused clock.
//!
//! Idle connections must stay cheap: tungstenite's read and write buffers default to 128 KiB
//! each, so they are set to 4 KiB here. Frames over [`MAX_FRAME`] get an error and are dropped;
//! only frames past [`HARD_MAX_FRAME`] (which could only be abuse) close the connection.

use std::{collections::VecDeque, sync::Arc};

use app::{
    protocol::{
        decode, req_of, CallMsg, ClientMsg, IceServer, Login, Refusal, ServerMsg, Undecodable,
    },
    rules::check_user_id,
};
use axum::{
    extract::{
        ws::{CloseFrame, Message, WebSocket},
        State, WebSocketUpgrade,
    },
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use tokio::time::{Duration, Instant};

use super::{
    admission::{Pending, Refused, Socket},
    groups,
    hub::{self, Hub, Inbox, Outbox, Outgoing},
    limits::RateLimit,
    switchboard::{CallLookups, ConnId},
};
use crate::{blocks, db::unix_now, peer::ClientIp, state::AppState, usersig};

pub const MAX_FRAME: usize = 64 * 1024;
pub const HARD_MAX_FRAME: usize = 256 * 1024;
const BUFFER: usize = 4 * 1024;
pub const LOGIN_WITHIN: Duration = Duration::from_secs(10);
pub const PING_EVERY: Duration = Duration::from_secs(20);
/// Nothing heard (not even a pong) for this long: the peer is gone.
pub const DEAD_AFTER: Duration = Duration::from_secs(50);
/// A frame the client has not taken within this long (it stopped reading, and the socket's
/// buffers are full) ends the connection. Writes also end at the login and dead-peer
/// deadlines, so that no write can hold a connection past them.
pub const WRITE_WITHIN: Duration = Duration::from_secs(10);
/// The close code that tells a client the server is restarting and it should come back
/// (RFC 6455's registry: 1012, "Service Restart").
pub const RESTARTING: u16 = 1012;
/// What a client refused for the socket caps is told to wait, in seconds.
const RETRY_AFTER_S: &str = "10";
const RATE_PER_SECOND: f64 = 50.0;
const RATE_BURST: f64 = 200.0;

pub async fn upgrade(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if !crate::origin::allowed(&headers, &state.signaling.allowed_origins) {
        return (StatusCode::FORBIDDEN, "origin not allowed").into_response();
    }
    let places = match state.signaling.admission.admit(ip) {
        Ok(places) => places,
        Err(refused) => {
            let (status, why) = match refused {
                Refused::Address => (
                    StatusCode::TOO_MANY_REQUESTS,
                    "too many connections from this address are still logging in",
                ),
                Refused::Full => (StatusCode::SERVICE_UNAVAILABLE, "too many connections"),
            };
            return (status, [(header::RETRY_AFTER, RETRY_AFTER_S)], why).into_response();
        }
    };
    ws.read_buffer_size(BUFFER)
        .write_buffer_size(BUFFER)
        .max_message_size(HARD_MAX_FRAME)
        .max_frame_size(HARD_MAX_FRAME)
        .on_upgrade(move |socket: WebSocket| {
            let (sink, stream) = socket.split();
            serve_admitted(state, places, sink, stream)
        })
}

enum Flow {
    Continue,
    Close,
}

/// One connection's state, and the sink its frames go out on.
struct Connection<W> {
    state: AppState,
    hub: Arc<Hub>,
    id: ConnId,
    user: Option<String>,
    outbox: Outbox,
    /// Set when the hub ended this connection for not keeping up: nothing more is written.
    kill: Arc<tokio::sync::Notify>,
    killed: bool,
    limit: RateLimit,
    /// When to send fresh `iceServers`, before the relay credentials expire.
    refresh_ice: Option<Instant>,
    /// The relay usernames this session was given, newest last, released when it ends.
    relay_usernames: VecDeque<String>,
    /// The client was told it is over the rate; it hears nothing more until it is not.
    told_limited: bool,
    /// Until login: the deadline, and this socket's place among those logging in.
    login_by: Option<Instant>,
    pending: Option<Pending>,
    /// When the client was last heard from.
    heard: Instant,
    /// The server is stopping: the close frame says so (1012, "service restart").
    restarting: bool,
    sink: W,
}

/// Relay credentials a session holds at once: a refresh comes half way through a credential's
/// life, so no more than three are unexpired; older ones are released as new ones come.
const HELD_CREDENTIALS: usize = 4;

/// One connection's life: frames in, outbox out, pings, until either side closes.
pub async fn serve<W, R, E>(state: AppState, sink: W, stream: R)
where
    W: Sink<Message> + Unpin,
    R: Stream<Item = Result<Message, E>> + Unpin,
{
    serve_admitted(state, None, sink, stream).await
}

/// [`serve`], holding the places `admitted` gave it until it logs in and until it ends.
async fn serve_admitted<W, R, E>(
    state: AppState,
    admitted: impl Into<Option<(Socket, Pending)>>,
    sink: W,
    mut stream: R,
) where
    W: Sink<Message> + Unpin,
    R: Stream<Item = Result<Message, E>> + Unpin,
{
    let (_socket, pending) = admitted.into().unzip();
    let hub = state.signaling.hub.clone();
    let (outbox, mut inbox) = hub::outbox();
    let mut conn = Connection {
        id: hub.next_conn_id(),
        hub,
        state,
        user: None,
        outbox,
        kill: inbox.kill.clone(),
        killed: false,
        limit: RateLimit::new(hub::now(), RATE_PER_SECOND, RATE_BURST),
        refresh_ice: None,
        relay_usernames: VecDeque::new(),
        told_limited: false,
        login_by: Some(Instant::now() + LOGIN_WITHIN),
        pending,
        heard: Instant::now(),
        restarting: false,
        sink,
    };
    let mut ping = tokio::time::interval(PING_EVERY);
    let kill = inbox.kill.clone();
    loop {
        let refresh_ice = conn.refresh_ice;
        let login_by = conn.login_by;
        let flow = tokio::select! {
            // First: a connection the hub has dropped ends now, whatever else is ready.
            biased;
            () = kill.notified() => {
                conn.killed = true;
                Flow::Close
            }
            frame = stream.next() => match frame {
                Some(Ok(msg)) => {
                    conn.heard = Instant::now();
                    conn.on_frame(msg).await
                }
                Some(Err(_)) | None => Flow::Close,
            },
            out = inbox.recv() => match out {
                Some(Outgoing::Frame(frame)) => conn.send_text(frame).await,
                Some(Outgoing::Restart) => {
                    conn.restarting = true;
                    Flow::Close
                }
                Some(Outgoing::Close) | None => Flow::Close,
            },
            _ = ping.tick() => {
                if conn.heard.elapsed() > DEAD_AFTER {
                    Flow::Close
                } else {
                    conn.send_raw(Message::Ping(Vec::new().into())).await
                }
            }
            _ = crate::sleep_until(refresh_ice), if refresh_ice.is_some() => conn.send_ice_servers().await,
            _ = crate::sleep_until(login_by), if login_by.is_some() => {
                let _ = conn.refuse(None, Refusal::LoginTimeout).await;
                Flow::Close
            }
        };
        if let Flow::Close = flow {
            break;
        }
    }
    conn.close(inbox).await;
}

impl<W: Sink<Message> + Unpin> Connection<W> {
    /// Frames already queued (KICKED_OUT, for one) still go out before the close, unless the
    /// hub dropped the connection for not keeping up: then the socket is simply dropped.
    async fn close(mut self, mut inbox: Inbox) {
        while !self.killed {
            let Some(Outgoing::Frame(frame)) = inbox.try_recv() else {
                break;
            };
            if let Flow::Close = self.send_text(frame).await {
                break;
            }
        }
        if !self.killed {
            let frame = self.restarting.then(|| CloseFrame {
                code: RESTARTING,
                reason: "server restarting".into(),
            });
            let _ = self.send_raw(Message::Close(frame)).await;
        }
        if self.user.is_some() {
            self.hub.disconnect(self.id);
        }
        // Logged out, closed or kicked out: its relay credentials are no good to anyone now.
        if let Some(relay) = &self.state.signaling.relay {
            relay
                .released(self.relay_usernames.drain(..).collect())
                .await;
        }
    }

    /// Writes `msg`, unless the hub drops the connection while the write waits on a client
    /// that does not read.
    async fn send_raw(&mut self, msg: Message) -> Flow {
        if self.killed {
            return Flow::Close;
        }
        let kill = self.kill.clone();
        let deadline = self.write_deadline();
        let sent = tokio::select! {
            biased;
            () = kill.notified() => {
                self.killed = true;
                return Flow::Close;
            }
            sent = tokio::time::timeout_at(deadline, self.sink.send(msg)) => sent,
        };
        match sent {
            Ok(Ok(())) => Flow::Continue,
            Ok(Err(_)) => Flow::Close,
            Err(_) => {
                // The client does not read: whatever it is owed, it cannot take it.
                self.killed = true;
                Flow::Close
            }
        }
    }

    /// The latest a write may finish: [`WRITE_WITHIN`], or sooner if the login or the
    /// dead-peer deadline comes first.
    fn write_deadline(&self) -> Instant {
        let mut deadline = (Instant::now() + WRITE_WITHIN).min(self.heard + DEAD_AFTER);
        if let Some(login_by) = self.login_by {
            deadline = deadline.min(login_by);
        }
        deadline
    }

    async fn send_text(&mut self, frame: String) -> Flow {
        self.send_raw(Message::Text(frame.into())).await
    }

    async fn send(&mut self, msg: &ServerMsg) -> Flow {
        match serde_json::to_string(msg) {
            Ok(frame) => self.send_text(frame).await,
            Err(_) => Flow::Continue,
        }
    }

    async fn refuse(&mut self, req: Option<u32>, refusal: Refusal) -> Flow {
        self.send(&refusal.frame(req)).await
    }

    async fn on_frame(&mut self, msg: Message) -> Flow {
        match msg {
            Message::Text(text) => self.on_text(text.as_str()).await,
            Message::Binary(_) => self.refuse(None, Refusal::BinaryFrame).await,
            Message::Ping(_) | Message::Pong(_) => Flow::Continue,
            Message::Close(_) => Flow::Close,
        }
    }

    async fn on_text(&mut self, text: &str) -> Flow {
        // Every frame counts against the rate, an oversized one too; a flood gets one answer,
        // not one per frame, so that answering cannot fill the buffers faster than the flood.
        if !self.limit.allow(hub::now()) {
            if std::mem::replace(&mut self.told_limited, true) {
                return Flow::Continue;
            }
            return self.refuse(req_of(text), Refusal::RateLimited).await;
        }
        self.told_limited = false;
        if text.len() > MAX_FRAME {
            return self.refuse(req_of(text), Refusal::FrameTooLarge).await;
        }
        let msg = match decode(text) {
            Ok(msg) => msg,
            Err(Undecodable { req, refusal }) => return self.refuse(req, refusal).await,
        };
        let Some(user) = self.user.clone() else {
            return match msg {
                ClientMsg::Login(login) => self.login(login).await,
                _ => self.refuse(None, Refusal::NotLoggedIn).await,
            };
        };
        match msg {
            ClientMsg::Login(_) => self.refuse(None, Refusal::AlreadyLoggedIn).await,
            ClientMsg::Call(msg) => self.on_call(&user, msg).await,
            ClientMsg::Group(msg) => {
                let reply = groups::answer(&self.state.db, &user, msg, unix_now()).await;
                self.send(&reply).await
            }
        }
    }

    async fn login(&mut self, Login { user_id, user_sig }: Login) -> Flow {
        let sigs = &self.state.sigs;
        let checked = check_user_id(&user_id)
            .map_err(|e| e.to_string())
            .and_then(|()| {
                usersig::verify(&sigs.key, sigs.sdk_app_id, &user_id, &user_sig, unix_now())
                    .map_err(|e| e.to_string())
            });
        let checked = match checked {
            Ok(sig) => self.not_revoked(&user_id, sig.time).await,
            Err(why) => Err(why),
        };
        if let Err(why) = checked {
            let _ = self.refuse(None, Refusal::BadUserSig(why)).await;
            return Flow::Close;
        }
        let welcome = ServerMsg::LoggedIn {
            user_id: user_id.clone(),
            ice_servers: self.issue_ice(&user_id).await,
        };
        if let Flow::Close = self.send(&welcome).await {
            return Flow::Close;
        }
        self.user = Some(user_id.clone());
        self.login_by = None;
        self.pending = None;
        self.hub
            .login(self.id, user_id.clone(), self.outbox.clone());
        for msg in super::presence::snapshot(&self.state.db, &self.hub, &user_id).await {
            if let Flow::Close = self.send(&msg).await {
                return Flow::Close;
            }
        }
        Flow::Continue
    }

    /// A sig made before the user signed out, changed their password or deleted the account
    /// no longer logs in.
    async fn not_revoked(&self, user_id: &str, sig_time: i64) -> Result<(), String> {
        match crate::self_service::sig_floor(&self.state.db, user_id).await {
            Ok(Some(floor)) if sig_time < floor => Err(
                "this UserSig was revoked (signed out or password changed): get a new one".into(),
            ),
            Ok(_) => Ok(()),
            Err(e) => {
                tracing::error!("reading the sig floor: {e}");
                Err("the server could not check this UserSig; try again".into())
            }
        }
    }

    /// `user`'s servers, minted now; remembers when to refresh them.
    async fn issue_ice(&mut self, user: &str) -> Vec<IceServer> {
        let now = unix_now();
        let signaling = &self.state.signaling;
        let issued = signaling.ice.issue(user, now);
        if let (Some(relay), Some(username)) = (&signaling.relay, issued.username) {
            relay.minted(&username).await;
            self.relay_usernames.push_back(username);
            if self.relay_usernames.len() > HELD_CREDENTIALS {
                let oldest = self.relay_usernames.pop_front().into_iter().collect();
                relay.released(oldest).await;
            }
        }
        self.refresh_ice = issued
            .refresh_at
            .map(|at| Instant::now() + Duration::from_secs(at.saturating_sub(now).max(1) as u64));
        issued.servers
    }

    async fn send_ice_servers(&mut self) -> Flow {
        let Some(user) = self.user.clone() else {
            self.refresh_ice = None;
            return Flow::Continue;
        };
        let ice_servers = self.issue_ice(&user).await;
        self.send(&ServerMsg::IceServers { ice_servers }).await
    }

    /// A call request goes to the switchboard with what the database knows of it: its
    /// group's members when it names one, and which invitees have blocked the caller.
    async fn on_call(&mut self, user: &str, msg: CallMsg) -> Flow {
        let mut lookups = CallLookups::default();
        if let CallMsg::Call {
            req,
            user_ids,
            group_id,
            ..
        } = &msg
        {
            // Before the database: a list no call could hold must cost nothing but this.
            if !self.hub.list_fits(user_ids.len()) {
                return self.refuse(Some(*req), Refusal::CallTooLarge).await;
            }
            if let Some(id) = group_id {
                match groups::resolve(&self.state.db, user, id).await {
                    Ok(group) => lookups.group = Some(group),
                    Err(refusal) => return self.refuse(Some(*req), refusal).await,
                }
            }
            match blocks::blocked_by(&self.state.db, user, user_ids).await {
                Ok(blocked_by) => lookups.blocked_by = blocked_by,
                Err(e) => {
                    tracing::error!("looking up blocks: {e}");
                    return self.refuse(Some(*req), Refusal::Storage).await;
                }
            }
        }
        self.hub.apply(self.id, msg, lookups);
        Flow::Continue
    }
}
