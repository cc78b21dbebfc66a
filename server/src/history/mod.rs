//! Call history, recorded by the server as calls happen (clients report nothing), and read back
//! for the history page. [`writer`] puts the switchboard's records in the database.

mod writer;

use app::api::HistoryEntry;
use sqlx::{SqliteConnection, SqlitePool};

pub use writer::{run_writer, Drained, WriterStop, BACKLOG, COMMIT_WITHIN};

use crate::signaling::switchboard::{Ending, Record};

async fn store(db: &mut SqliteConnection, at: i64, record: &Record) -> Result<(), sqlx::Error> {
    match record {
        Record::Placed {
            invite_id,
            caller,
            callee,
            call_type,
            group,
        } => {
            // Only calls with someone who has an account here: IDs a customer's backend made
            // up are not ours to keep a record of, without bound.
            sqlx::query(
                "INSERT OR IGNORE INTO call_history
                 (invite_id, caller_id, callee_id, call_type, is_group, started_at, outcome)
                 SELECT ?1, ?2, ?3, ?4, ?5, ?6, 'ringing'
                 WHERE EXISTS (SELECT 1 FROM users WHERE user_id IN (?2, ?3))",
            )
            .bind(invite_id)
            .bind(caller)
            .bind(callee)
            .bind(u8::from(*call_type))
            .bind(*group)
            .bind(at)
            .execute(&mut *db)
            .await?;
        }
        Record::Answered { invite_id, callee } => {
            sqlx::query(
                "UPDATE call_history SET answered_at = ?, outcome = 'answered'
                 WHERE invite_id = ? AND callee_id = ?",
            )
            .bind(at)
            .bind(invite_id)
            .bind(callee)
            .execute(&mut *db)
            .await?;
        }
        Record::Ended {
            invite_id,
            callee,
            ending,
        } => {
            sqlx::query(
                "UPDATE call_history SET ended_at = ?, outcome = ?
                 WHERE invite_id = ? AND callee_id = ? AND ended_at IS NULL",
            )
            .bind(at)
            .bind(ending.as_str())
            .bind(invite_id)
            .bind(callee)
            .execute(&mut *db)
            .await?;
        }
    }
    Ok(())
}

/// Calls kept per user, newest first; older ones are dropped as new ones come. A row is both
/// sides' history, so it counts for both.
pub const KEPT_PER_USER: i64 = 1000;

/// Drops `user`'s calls beyond the newest [`KEPT_PER_USER`].
async fn prune(db: &mut SqliteConnection, user: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "DELETE FROM call_history WHERE rowid IN (
             SELECT rowid FROM call_history WHERE caller_id = ?1
             UNION ALL
             SELECT rowid FROM call_history WHERE callee_id = ?1
             ORDER BY rowid DESC LIMIT -1 OFFSET ?2)",
    )
    .bind(user)
    .bind(KEPT_PER_USER)
    .execute(&mut *db)
    .await?;
    Ok(())
}

/// Calls still open when the server stopped ended then: at the last moment it was known alive
/// (the writer's heartbeat), or `now` if it never beat.
pub async fn close_interrupted(db: &SqlitePool, now: i64) -> Result<(), sqlx::Error> {
    let alive = writer::last_alive(db).await?.map_or(now, |at| at.min(now));
    sqlx::query(
        "UPDATE call_history SET ended_at = ?,
         outcome = CASE outcome WHEN 'ringing' THEN ? ELSE outcome END
         WHERE ended_at IS NULL",
    )
    .bind(alive)
    .bind(Ending::NoAnswer.as_str())
    .execute(db)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    invite_id: String,
    caller_id: String,
    callee_id: String,
    call_type: i64,
    is_group: bool,
    started_at: i64,
    answered_at: Option<i64>,
    ended_at: Option<i64>,
    outcome: String,
}

/// One page of a user's history.
pub struct Page {
    pub entries: Vec<HistoryEntry>,
    /// Where the next, older page starts, if there is one.
    pub older: Option<i64>,
}

/// `user`'s calls, made and received, newest first; not those from users they have blocked.
pub async fn list(
    db: &SqlitePool,
    user: &str,
    limit: u32,
) -> Result<Vec<HistoryEntry>, sqlx::Error> {
    Ok(page(db, user, limit, None).await?.entries)
}

/// Up to `limit` of `user`'s calls older than `before` (a page's `older`), newest first.
pub async fn page(
    db: &SqlitePool,
    user: &str,
    limit: u32,
    before: Option<i64>,
) -> Result<Page, sqlx::Error> {
    // Rows go in as calls are placed, so their order is the order of the calls.
    let mut rows: Vec<Row> = sqlx::query_as(
        "SELECT rowid AS id, invite_id, caller_id, callee_id, call_type, is_group, started_at,
                answered_at, ended_at, outcome
         FROM call_history WHERE (caller_id = ?1 OR callee_id = ?1) AND rowid < ?3
         AND NOT (callee_id = ?1 AND caller_id IN (SELECT blocked_id FROM blocks WHERE owner_id = ?1))
         ORDER BY rowid DESC LIMIT ?2",
    )
    .bind(user)
    .bind(i64::from(limit) + 1)
    .bind(before.unwrap_or(i64::MAX))
    .fetch_all(db)
    .await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let older = more.then(|| rows.last().map(|r| r.id)).flatten();
    let entries = rows
        .into_iter()
        .map(|r| {
            let outgoing = r.caller_id == user;
            HistoryEntry {
                invite_id: r.invite_id,
                peer: if outgoing { r.callee_id } else { r.caller_id },
                outgoing,
                video: r.call_type == 2,
                group: r.is_group,
                started_at: r.started_at,
                answered_at: r.answered_at,
                ended_at: r.ended_at,
                outcome: r.outcome,
            }
        })
        .collect();
    Ok(Page { entries, older })
}

/// Incoming calls `user` missed since they last opened their history.
pub async fn missed_since_seen(db: &SqlitePool, user: &str) -> Result<u32, sqlx::Error> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM call_history
         WHERE callee_id = ?1 AND outcome IN ('no_answer', 'cancelled')
         AND ended_at > (SELECT history_seen_at FROM users WHERE user_id = ?1)
         AND caller_id NOT IN (SELECT blocked_id FROM blocks WHERE owner_id = ?1)",
    )
    .bind(user)
    .fetch_one(db)
    .await?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// `user` has just seen their history.
pub async fn mark_seen(db: &SqlitePool, user: &str, now: i64) -> Result<(), sqlx::Error> {
    // Only forward: an old page marking what it showed must not bring back newer calls.
    sqlx::query("UPDATE users SET history_seen_at = MAX(history_seen_at, ?) WHERE user_id = ?")
        .bind(now)
        .bind(user)
        .execute(db)
        .await?;
    Ok(())
}
