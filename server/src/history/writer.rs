//! Writing the switchboard's records: in batches, one transaction each (group commit). A batch
//! is whatever has queued while the previous commit ran, so an idle server writes each record
//! at once and a busy one writes many per transaction; either way a record waits for at most
//! one commit before its own (a few milliseconds, well within [`COMMIT_WITHIN`]), which is what
//! a crash can lose. Each commit, and an idle beat every [`BEAT_EVERY`], also stores the time the
//! server was last known alive: on the next start, calls a crash left open end then, not at the
//! restart. On shutdown the writer is told to stop; it writes whatever is queued, then says so.

use std::time::Duration;

use sqlx::SqlitePool;
use tokio::sync::{mpsc, oneshot, watch};

use super::{prune, store};
use crate::{db::unix_now, signaling::switchboard::Record};

/// Records waiting to be written; past this many, new ones are dropped with a warning rather
/// than holding memory while the database is stuck.
pub const BACKLOG: usize = 16 * 1024;
/// How far behind the records the database may be, at most, while it keeps up.
pub const COMMIT_WITHIN: Duration = Duration::from_millis(100);
/// Records in one transaction at most: a burst is written in several, each short.
const BATCH: usize = 512;
/// How often an idle writer stores that the server is alive.
const BEAT_EVERY: Duration = Duration::from_secs(1);
const ALIVE_KEY: &str = "alive_at";

/// Tells the writer to finish: it writes what is queued and then answers on the channel.
pub struct WriterStop {
    stop: watch::Sender<bool>,
    done: oneshot::Receiver<()>,
}

/// The writer's side of [`WriterStop`].
pub struct Drained {
    stop: watch::Receiver<bool>,
    done: oneshot::Sender<()>,
}

impl WriterStop {
    pub fn new() -> (Self, Drained) {
        let (stop, stop_rx) = watch::channel(false);
        let (done_tx, done) = oneshot::channel();
        (
            Self { stop, done },
            Drained {
                stop: stop_rx,
                done: done_tx,
            },
        )
    }

    /// Waits, for at most `within`, until everything queued is written; false if it was not.
    pub async fn finish(self, within: Duration) -> bool {
        let _ = self.stop.send(true);
        matches!(tokio::time::timeout(within, self.done).await, Ok(Ok(())))
    }
}

/// Writes records in the order they happened, each stamped with the time it was made.
pub async fn run_writer(
    db: SqlitePool,
    mut records: mpsc::Receiver<(i64, Record)>,
    drained: Drained,
) {
    let Drained { mut stop, done } = drained;
    let mut batch = Vec::with_capacity(BATCH);
    let mut beat = tokio::time::interval(BEAT_EVERY);
    beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let first = tokio::select! {
            first = records.recv() => first.map(Some),
            _ = beat.tick() => Some(None),
            // A dropped `WriterStop` (a site built without its drain) is not a stop.
            Ok(_) = stop.wait_for(|s| *s) => None,
        };
        let stopping = match first {
            Some(Some(record)) => {
                batch.push(record);
                gather(&mut records, &mut batch);
                false
            }
            Some(None) => false,
            None => true,
        };
        if stopping {
            while batch.len() < BACKLOG {
                match records.try_recv() {
                    Ok(record) => batch.push(record),
                    Err(_) => break,
                }
            }
        }
        commit(&db, &mut batch).await;
        if stopping {
            let _ = done.send(());
            return;
        }
    }
}

/// Adds what is already queued to `batch`, up to a full batch.
fn gather(records: &mut mpsc::Receiver<(i64, Record)>, batch: &mut Vec<(i64, Record)>) {
    while batch.len() < BATCH {
        match records.try_recv() {
            Ok(record) => batch.push(record),
            Err(_) => return,
        }
    }
}

/// Writes `batch` (emptying it) and the heartbeat in chunks of [`BATCH`], one transaction
/// each. A failed chunk is logged and dropped: the database is stuck or full, and holding
/// records would only grow memory.
async fn commit(db: &SqlitePool, batch: &mut Vec<(i64, Record)>) {
    let records = std::mem::take(batch);
    let mut chunks = records.chunks(BATCH).peekable();
    if chunks.peek().is_none() {
        if let Err(e) = beat(db).await {
            tracing::error!("call history heartbeat: {e}");
        }
        return;
    }
    for chunk in chunks {
        if let Err(e) = write(db, chunk).await {
            tracing::error!("call history: {e}; {} records lost", chunk.len());
        }
    }
}

async fn write(db: &SqlitePool, chunk: &[(i64, Record)]) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    let mut placed = std::collections::BTreeSet::new();
    for (at, record) in chunk {
        store(&mut tx, *at, record).await?;
        if let Record::Placed { caller, callee, .. } = record {
            placed.insert(caller.as_str());
            placed.insert(callee.as_str());
        }
    }
    // Whoever got a new call may have passed the cap.
    for user in placed {
        prune(&mut tx, user).await?;
    }
    set_alive(&mut tx).await?;
    tx.commit().await
}

async fn beat(db: &SqlitePool) -> Result<(), sqlx::Error> {
    let mut conn = db.acquire().await?;
    set_alive(&mut conn).await
}

async fn set_alive(conn: &mut sqlx::SqliteConnection) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO settings (name, value) VALUES (?1, ?2)
         ON CONFLICT (name) DO UPDATE SET value = ?2",
    )
    .bind(ALIVE_KEY)
    .bind(unix_now().to_string())
    .execute(conn)
    .await?;
    Ok(())
}

/// When the server last said it was alive, if ever.
pub async fn last_alive(db: &SqlitePool) -> Result<Option<i64>, sqlx::Error> {
    let value: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE name = ?")
        .bind(ALIVE_KEY)
        .fetch_optional(db)
        .await?;
    Ok(value.and_then(|v| v.parse().ok()))
}
