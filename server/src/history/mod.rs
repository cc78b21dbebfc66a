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
            sqlx::query(
                "INSERT OR IGNORE INTO call_history
                 (invite_id, caller_id, callee_id, call_type, is_group, started_at, outcome)
                 VALUES (?, ?, ?, ?, ?, ?, 'ringing')",
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

/// `user`'s calls, made and received, newest first; not those from users they have blocked.
pub async fn list(
    db: &SqlitePool,
    user: &str,
    limit: u32,
) -> Result<Vec<HistoryEntry>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT invite_id, caller_id, callee_id, call_type, is_group, started_at, answered_at, ended_at, outcome
         FROM call_history WHERE (caller_id = ?1 OR callee_id = ?1)
         AND NOT (callee_id = ?1 AND caller_id IN (SELECT blocked_id FROM blocks WHERE owner_id = ?1))
         ORDER BY started_at DESC, rowid DESC LIMIT ?2",
    )
    .bind(user)
    .bind(limit)
    .fetch_all(db)
    .await?;
    Ok(rows
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
        .collect())
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
