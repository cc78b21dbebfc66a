//! The switchboard behind a lock, wired to each connection's outbox.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex,
    },
    time::Instant,
};

use tokio::sync::{mpsc, Notify};

use super::switchboard::{Command, ConnId, Output, Switchboard};

/// What a connection task is told to do.
#[derive(Debug)]
pub enum Outgoing {
    Frame(String),
    Close,
}

/// Frames a connection may have queued before it counts as too slow and is dropped.
pub const OUTBOX: usize = 512;

struct Inner {
    board: Switchboard,
    outboxes: HashMap<ConnId, mpsc::Sender<Outgoing>>,
}

pub struct Hub {
    inner: Mutex<Inner>,
    next_conn: AtomicU64,
    /// Wakes the timer task when a new deadline may be sooner than the one it sleeps towards.
    pub deadlines_changed: Notify,
}

impl Hub {
    pub fn new(max_call_size: usize, seed: u64) -> Self {
        Self {
            inner: Mutex::new(Inner {
                board: Switchboard::new(max_call_size, seed),
                outboxes: HashMap::new(),
            }),
            next_conn: AtomicU64::new(1),
            deadlines_changed: Notify::new(),
        }
    }

    pub fn next_conn_id(&self) -> ConnId {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    fn with<R>(
        &self,
        f: impl FnOnce(&mut Switchboard, &mut HashMap<ConnId, mpsc::Sender<Outgoing>>) -> R,
    ) -> R {
        // A panic while holding the lock would be a bug in the switchboard; the state it left is
        // still the best there is, so keep serving rather than poisoning every connection.
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let Inner { board, outboxes } = &mut *inner;
        let result = f(board, outboxes);
        dispatch(board, outboxes);
        result
    }

    pub fn login(&self, conn: ConnId, user: String, outbox: mpsc::Sender<Outgoing>) {
        self.with(|board, outboxes| {
            outboxes.insert(conn, outbox);
            board.login(Instant::now(), conn, user);
        });
    }

    pub fn command(&self, conn: ConnId, command: Command) {
        let may_ring = matches!(command, Command::Call { .. });
        self.with(|board, _| board.command(Instant::now(), conn, command));
        if may_ring {
            self.deadlines_changed.notify_one();
        }
    }

    pub fn disconnect(&self, conn: ConnId) {
        self.with(|board, outboxes| {
            outboxes.remove(&conn);
            board.disconnect(Instant::now(), conn);
        });
    }

    pub fn tick(&self) -> Option<Instant> {
        self.with(|board, _| {
            board.tick(Instant::now());
            board.next_deadline()
        })
    }

    pub fn is_online(&self, user: &str) -> bool {
        self.with(|board, _| board.is_online(user))
    }
}

/// Hands the switchboard's outputs to the connections. A connection whose outbox is full is
/// not keeping up: it is dropped rather than allowed to hold memory without bound.
fn dispatch(board: &mut Switchboard, outboxes: &mut HashMap<ConnId, mpsc::Sender<Outgoing>>) {
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
                    if outbox.try_send(Outgoing::Frame(frame)).is_err() {
                        slow.push(conn);
                    }
                }
                Output::Close { conn } => {
                    if let Some(outbox) = outboxes.remove(&conn) {
                        let _ = outbox.try_send(Outgoing::Close);
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
                let _ = outbox.try_send(Outgoing::Close);
            }
            board.disconnect(Instant::now(), conn);
        }
    }
}

/// Drives ringing timeouts: sleeps until the next deadline, or until a new call may have set
/// an earlier one.
pub async fn run_timer(hub: std::sync::Arc<Hub>) {
    let mut next = hub.tick();
    loop {
        let sleep = match next {
            Some(at) => tokio::time::sleep_until(at.into()),
            None => tokio::time::sleep(std::time::Duration::from_secs(3600)),
        };
        tokio::select! {
            _ = sleep => {}
            _ = hub.deadlines_changed.notified() => {}
        }
        next = hub.tick();
    }
}
