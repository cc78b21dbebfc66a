//! The switchboard behind a lock, wired to each connection's outbox.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Instant,
};

use tokio::sync::{mpsc, Notify};

use app::protocol::{CallMsg, ServerMsg};

use super::switchboard::{CallLookups, ConnId, Output, Presence, Record, Switchboard};
use crate::db::unix_now;

/// The switchboard's clock: the runtime's, so that tests can pause and advance it.
pub fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// What a connection task is told to do.
#[derive(Debug)]
pub enum Outgoing {
    Frame(String),
    Close,
    /// The server is stopping: close, saying so, so that the client comes back.
    Restart,
}

/// Frames a connection may have queued before it counts as too slow and is dropped.
pub const OUTBOX: usize = 512;
/// Bytes of frames it may have queued: a frame may be 64 KiB, so 512 of them would be 32 MiB.
pub const OUTBOX_BYTES: usize = 1 << 20;

/// A connection's outbox as the hub holds it: bounded in frames and in bytes, with a way to
/// end the connection at once, without waiting on what is queued, when it does not keep up.
#[derive(Clone)]
pub struct Outbox {
    frames: mpsc::Sender<Outgoing>,
    bytes: Arc<AtomicUsize>,
    kill: Arc<Notify>,
}

/// The connection's side of its [`Outbox`].
pub struct Inbox {
    frames: mpsc::Receiver<Outgoing>,
    bytes: Arc<AtomicUsize>,
    pub kill: Arc<Notify>,
}

/// A new outbox and the connection's end of it.
pub fn outbox() -> (Outbox, Inbox) {
    let (tx, rx) = mpsc::channel(OUTBOX);
    let bytes = Arc::new(AtomicUsize::new(0));
    let kill = Arc::new(Notify::new());
    let outbox = Outbox {
        frames: tx,
        bytes: bytes.clone(),
        kill: kill.clone(),
    };
    (
        outbox,
        Inbox {
            frames: rx,
            bytes,
            kill,
        },
    )
}

impl Outbox {
    /// Queues `frame`; false when the connection is too far behind to take it.
    pub fn push(&self, frame: String) -> bool {
        let len = frame.len();
        if self.bytes.load(Ordering::Relaxed) + len > OUTBOX_BYTES {
            return false;
        }
        match self.frames.try_send(Outgoing::Frame(frame)) {
            Ok(()) => {
                self.bytes.fetch_add(len, Ordering::Relaxed);
                true
            }
            Err(_) => false,
        }
    }

    /// Closes after what is queued (a kicked-out tab still hears why); at once when full.
    fn close(&self) {
        if self.frames.try_send(Outgoing::Close).is_err() {
            self.kill();
        }
    }

    /// Closes after what is queued, telling the client the server is restarting.
    fn restart(&self) {
        if self.frames.try_send(Outgoing::Restart).is_err() {
            self.kill();
        }
    }

    /// Ends the connection now: the socket is dropped, whatever is queued or being written.
    fn kill(&self) {
        self.kill.notify_one();
    }
}

impl Inbox {
    pub async fn recv(&mut self) -> Option<Outgoing> {
        let out = self.frames.recv().await;
        self.taken(&out);
        out
    }

    pub fn try_recv(&mut self) -> Option<Outgoing> {
        let out = self.frames.try_recv().ok();
        self.taken(&out);
        out
    }

    fn taken(&self, out: &Option<Outgoing>) {
        if let Some(Outgoing::Frame(frame)) = out {
            self.bytes.fetch_sub(frame.len(), Ordering::Relaxed);
        }
    }
}

struct Inner {
    board: Switchboard,
    outboxes: HashMap<ConnId, Outbox>,
}

/// Where the switchboard's records and presence changes go: to tasks that need the database.
struct Sinks {
    records: mpsc::Sender<(i64, Record)>,
    presence: mpsc::Sender<(String, Presence)>,
}

/// The receiving ends of [`Hub`]'s records and presence changes, for the tasks that handle them.
pub struct HubFeeds {
    pub records: mpsc::Receiver<(i64, Record)>,
    pub presence: mpsc::Receiver<(String, Presence)>,
}

/// Presence changes waiting to be fanned out before new ones are dropped.
const PRESENCE_BACKLOG: usize = 16 * 1024;

pub struct Hub {
    inner: Mutex<Inner>,
    sinks: Sinks,
    next_conn: AtomicU64,
    /// The board's [`Switchboard::max_list`], which never changes.
    max_list: usize,
    /// Wakes the timer task when a new deadline may be sooner than the one it sleeps towards.
    pub deadlines_changed: Notify,
}

impl Hub {
    pub fn new(board: Switchboard) -> (Self, HubFeeds) {
        let (records, records_rx) = mpsc::channel(crate::history::BACKLOG);
        let (presence, presence_rx) = mpsc::channel(PRESENCE_BACKLOG);
        let max_list = board.max_list();
        let hub = Self {
            max_list,
            inner: Mutex::new(Inner {
                board,
                outboxes: HashMap::new(),
            }),
            sinks: Sinks { records, presence },
            next_conn: AtomicU64::new(1),
            deadlines_changed: Notify::new(),
        };
        (
            hub,
            HubFeeds {
                records: records_rx,
                presence: presence_rx,
            },
        )
    }

    pub fn next_conn_id(&self) -> ConnId {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    fn with<R>(&self, f: impl FnOnce(&mut Switchboard, &mut HashMap<ConnId, Outbox>) -> R) -> R {
        // A panic while holding the lock would be a bug in the switchboard; the state it left is
        // still the best there is, so keep serving rather than poisoning every connection.
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let Inner { board, outboxes } = &mut *inner;
        let result = f(board, outboxes);
        dispatch(board, outboxes, &self.sinks);
        result
    }

    pub fn login(&self, conn: ConnId, user: String, outbox: Outbox) {
        self.with(|board, outboxes| {
            outboxes.insert(conn, outbox);
            board.login(now(), conn, user);
        });
    }

    pub fn apply(&self, conn: ConnId, msg: CallMsg, lookups: CallLookups) {
        let may_ring = matches!(msg, CallMsg::Call { .. });
        self.with(|board, _| board.apply(now(), conn, msg, lookups));
        if may_ring {
            self.deadlines_changed.notify_one();
        }
    }

    /// Ends `user`'s signaling session, wherever it is (see [`Switchboard::sign_out`]).
    pub fn sign_out(&self, user: &str) {
        self.with(|board, _| board.sign_out(now(), user));
    }

    /// The server is stopping: every call ends (and is recorded), and every connection closes
    /// as restarting.
    pub fn shutdown(&self) {
        self.with(|board, outboxes| {
            for (_, outbox) in outboxes.drain() {
                outbox.restart();
            }
            board.shutdown(now());
        });
    }

    pub fn disconnect(&self, conn: ConnId) {
        self.with(|board, outboxes| {
            outboxes.remove(&conn);
            board.disconnect(now(), conn);
        });
    }

    pub fn tick(&self) -> Option<Instant> {
        self.with(|board, _| {
            board.tick(now());
            board.next_deadline()
        })
    }

    /// Whether a `userIDList` of `len` names is worth looking at ([`Switchboard::max_list`]);
    /// asked before the database and the lock, so it reads a copy taken at the start.
    pub fn list_fits(&self, len: usize) -> bool {
        len <= self.max_list
    }

    /// What `user`'s contacts have been told of their presence.
    pub fn announced_presence(&self, user: &str) -> Presence {
        self.with(|board, _| board.announced_presence(user))
    }

    /// Sends `msg` to `user` if they are online.
    pub fn notify(&self, user: &str, msg: &ServerMsg) {
        self.with(|board, outboxes| {
            let Some(outbox) = board.conn_of(user).and_then(|c| outboxes.get(&c)) else {
                return;
            };
            if let Ok(frame) = serde_json::to_string(msg) {
                if !outbox.push(frame) {
                    outbox.kill();
                }
            }
        });
    }
}

/// Hands the switchboard's outputs to the connections. A connection whose outbox is full is
/// not keeping up: it is dropped rather than allowed to hold memory without bound.
fn dispatch(board: &mut Switchboard, outboxes: &mut HashMap<ConnId, Outbox>, sinks: &Sinks) {
    loop {
        let mut slow = Vec::new();
        while let Some(output) = board.poll_output() {
            match output {
                Output::Send { conn, msg } => {
                    let Some(outbox) = outboxes.get(&conn) else {
                        continue;
                    };
                    let frame = match serde_json::to_string(&msg) {
                        Ok(f) => f,
                        Err(e) => {
                            tracing::error!("encoding a frame: {e}");
                            continue;
                        }
                    };
                    if !outbox.push(frame) {
                        slow.push(conn);
                    }
                }
                Output::Close { conn } => {
                    if let Some(outbox) = outboxes.remove(&conn) {
                        outbox.close();
                    }
                }
                Output::Record(record) => {
                    if sinks.records.try_send((unix_now(), record)).is_err() {
                        tracing::warn!("call history is backed up; a record was dropped");
                    }
                }
                Output::Presence { user, presence } => {
                    if sinks.presence.try_send((user, presence)).is_err() {
                        tracing::warn!("presence fan-out is backed up; a change was dropped");
                    }
                }
            }
        }
        if slow.is_empty() {
            return;
        }
        for conn in slow {
            if let Some(outbox) = outboxes.remove(&conn) {
                tracing::warn!(conn, "dropping a connection that does not keep up");
                outbox.kill();
            }
            board.disconnect(now(), conn);
        }
    }
}

/// Drives ringing timeouts and offline announcements: sleeps until the next deadline, or until
/// a new call may have set an earlier one, and never longer than a second, so that a deadline
/// set anywhere is late by at most that much.
pub async fn run_timer(hub: std::sync::Arc<Hub>) {
    const LONGEST_SLEEP: std::time::Duration = std::time::Duration::from_secs(1);
    let mut next = hub.tick();
    loop {
        let wake = now() + LONGEST_SLEEP;
        let at = next.map_or(wake, |d| d.min(wake));
        tokio::select! {
            _ = tokio::time::sleep_until(at.into()) => {}
            _ = hub.deadlines_changed.notified() => {}
        }
        next = hub.tick();
    }
}
