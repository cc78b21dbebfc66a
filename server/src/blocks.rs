//! Blocking: a user's invitations to someone who blocked them are never delivered (to them the
//! blocker looks offline), the two stop being each other's contacts, and the blocker's history
//! hides the calls the blocked placed to them.

use std::collections::HashSet;

use app::rules::check_user_id;
use sqlx::SqlitePool;

/// Most users one account may block: enough for any harassment, bounded for the database.
pub const MAX_BLOCKED: i64 = 1000;

#[derive(Debug)]
pub enum BlockError {
    InvalidUserId,
    Yourself,
    TooMany,
    Storage(sqlx::Error),
}

impl std::fmt::Display for BlockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::InvalidUserId => write!(f, "not a valid user ID"),
            Self::Yourself => write!(f, "you cannot block yourself"),
            Self::TooMany => write!(f, "at most {MAX_BLOCKED} users can be blocked"),
            Self::Storage(e) => write!(f, "database: {e}"),
        }
    }
}

impl From<sqlx::Error> for BlockError {
    fn from(e: sqlx::Error) -> Self {
        Self::Storage(e)
    }
}

/// `owner` blocks `other`: also ends their contact both ways, in one transaction.
pub async fn block(db: &SqlitePool, owner: &str, other: &str, now: i64) -> Result<(), BlockError> {
    check_user_id(other).map_err(|_| BlockError::InvalidUserId)?;
    if owner == other {
        return Err(BlockError::Yourself);
    }
    let mut tx = db.begin().await?;
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM blocks WHERE owner_id = ?")
        .bind(owner)
        .fetch_one(&mut *tx)
        .await?;
    if count >= MAX_BLOCKED {
        return Err(BlockError::TooMany);
    }
    sqlx::query(
        "INSERT INTO blocks (owner_id, blocked_id, created_at) VALUES (?, ?, ?)
         ON CONFLICT DO NOTHING",
    )
    .bind(owner)
    .bind(other)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "DELETE FROM contacts WHERE (owner_id = ?1 AND contact_id = ?2)
         OR (owner_id = ?2 AND contact_id = ?1)",
    )
    .bind(owner)
    .bind(other)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn unblock(db: &SqlitePool, owner: &str, other: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM blocks WHERE owner_id = ? AND blocked_id = ?")
        .bind(owner)
        .bind(other)
        .execute(db)
        .await?;
    Ok(())
}

/// Whom `owner` has blocked, alphabetically.
pub async fn list(db: &SqlitePool, owner: &str) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT blocked_id FROM blocks WHERE owner_id = ?
         ORDER BY blocked_id COLLATE NOCASE, blocked_id",
    )
    .bind(owner)
    .fetch_all(db)
    .await
}

/// Which of `candidates` have blocked `caller`: one primary-key look-up per candidate (the
/// list is bounded before it gets here), however many users have blocked the caller.
pub async fn blocked_by(
    db: &SqlitePool,
    caller: &str,
    candidates: &[String],
) -> Result<HashSet<String>, sqlx::Error> {
    let list = serde_json::to_string(candidates).unwrap_or_else(|_| "[]".into());
    let blockers: Vec<String> = sqlx::query_scalar(
        "SELECT owner_id FROM blocks
         WHERE blocked_id = ?1 AND owner_id IN (SELECT value FROM json_each(?2))",
    )
    .bind(caller)
    .bind(list)
    .fetch_all(db)
    .await?;
    Ok(blockers.into_iter().collect())
}

/// Whether either of the two has blocked the other.
pub async fn between(db: &SqlitePool, a: &str, b: &str) -> Result<bool, sqlx::Error> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM blocks WHERE (owner_id = ?1 AND blocked_id = ?2)
         OR (owner_id = ?2 AND blocked_id = ?1) LIMIT 1",
    )
    .bind(a)
    .bind(b)
    .fetch_optional(db)
    .await?;
    Ok(found.is_some())
}
