//! What a signed-in user does to their own account, and how each takes back what the account
//! was given: sessions (`users.sessions_valid_from`), UserSigs (`sig_floors`) and the signaling
//! connection (the hub's `sign_out`).
//!
//! - Signing out (this browser): its session ends; every sig minted so far stops logging in and
//!   the connection is closed. Other browsers stay signed in and fetch a fresh sig when they
//!   reconnect.
//! - Signing out everywhere, or changing the password: the same, and every session ends (the
//!   browser that changed the password gets a fresh one).
//! - Deleting the account: the same, and the account goes with its contacts (both ways), its
//!   blocks, the groups it owns, its memberships and its call history. The sig floor stays,
//!   so that nobody who registers the ID later inherits the old sigs.
//!
//! A sig's time is in whole seconds, so the floor is the next second and sigs minted from now on
//! carry at least that time: none minted before the revocation passes, every one after does.

use sqlx::SqlitePool;

use crate::accounts::{AccountError, Accounts};

/// Unix time in milliseconds, for session times: two sign-ins a second apart must compare.
pub fn unix_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The earliest sig time that still logs in for `user`, if anything was ever revoked.
pub async fn sig_floor(db: &SqlitePool, user: &str) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT valid_from FROM sig_floors WHERE user_id = ?")
        .bind(user)
        .fetch_optional(db)
        .await
}

/// The time to put in a sig minted now: never below the floor.
pub fn mint_time(now: i64, floor: Option<i64>) -> i64 {
    floor.map_or(now, |f| f.max(now))
}

/// Every sig `user` holds stops logging in.
pub async fn revoke_sigs(db: &SqlitePool, user: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sig_floors (user_id, valid_from) VALUES (?1, ?2)
         ON CONFLICT (user_id) DO UPDATE SET valid_from = MAX(valid_from, ?2)",
    )
    .bind(user)
    .bind(now + 1)
    .execute(db)
    .await?;
    Ok(())
}

/// Every session of `user` signed in before `now_ms` ends.
pub async fn revoke_sessions(db: &SqlitePool, user: &str, now_ms: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET sessions_valid_from = ? WHERE user_id = ?")
        .bind(now_ms)
        .bind(user)
        .execute(db)
        .await?;
    Ok(())
}

/// When sessions of `user` must have signed in to count; `None` if there is no such account.
pub async fn sessions_valid_from(db: &SqlitePool, user: &str) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT sessions_valid_from FROM users WHERE user_id = ?")
        .bind(user)
        .fetch_optional(db)
        .await
}

/// Replaces `user`'s password once the current one is proven, and ends every session and sig.
pub async fn change_password(
    accounts: &Accounts,
    db: &SqlitePool,
    user: &str,
    current: &str,
    new: &str,
    now: i64,
) -> Result<(), AccountError> {
    app::rules::check_password(new).map_err(AccountError::Rule)?;
    accounts.authenticate(user, current).await?;
    let hash = accounts.hash(new).await?;
    sqlx::query("UPDATE users SET password_hash = ?, sessions_valid_from = ? WHERE user_id = ?")
        .bind(hash.as_str())
        .bind(unix_now_ms())
        .bind(user)
        .execute(db)
        .await?;
    revoke_sigs(db, user, now).await?;
    Ok(())
}

/// Deletes `user` and everything that is theirs, once their password is proven.
pub async fn delete_account(
    accounts: &Accounts,
    db: &SqlitePool,
    user: &str,
    password: &str,
    now: i64,
) -> Result<(), AccountError> {
    accounts.authenticate(user, password).await?;
    let mut tx = db.begin().await?;
    // Contacts (both ways) and the user's own blocks go with the row, by their foreign keys.
    for statement in [
        "DELETE FROM call_group_members WHERE user_id = ?1
            OR group_id IN (SELECT group_id FROM call_groups WHERE owner_id = ?1)",
        "DELETE FROM call_groups WHERE owner_id = ?1",
        "DELETE FROM call_history WHERE caller_id = ?1 OR callee_id = ?1",
        "DELETE FROM users WHERE user_id = ?1",
    ] {
        sqlx::query(statement).bind(user).execute(&mut *tx).await?;
    }
    sqlx::query(
        "INSERT INTO sig_floors (user_id, valid_from) VALUES (?1, ?2)
         ON CONFLICT (user_id) DO UPDATE SET valid_from = MAX(valid_from, ?2)",
    )
    .bind(user)
    .bind(now + 1)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::mint_time;

    #[test]
    fn sigs_minted_after_a_revocation_carry_the_floor() {
        assert_eq!(mint_time(100, None), 100);
        assert_eq!(mint_time(100, Some(101)), 101);
        assert_eq!(mint_time(200, Some(101)), 200);
    }
}
