//! Contact lists: who a user can see and call.

use std::fmt;

use app::rules::{check_contact, FormError};
use sqlx::SqlitePool;

/// Contacts one account may have: more than anyone keeps, few enough that a list, and the
/// presence fan-out to it, stays small.
pub const MAX_CONTACTS: i64 = 1000;

#[derive(Debug)]
pub enum ContactError {
    Rule(FormError),
    NoSuchUser,
    Duplicate,
    /// One of the two has blocked the other.
    Blocked,
    /// The owner has [`MAX_CONTACTS`] already.
    Full,
    Storage(sqlx::Error),
}

impl fmt::Display for ContactError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rule(e) => write!(f, "{e}"),
            Self::NoSuchUser => write!(f, "no such user"),
            Self::Duplicate => write!(f, "already a contact"),
            Self::Blocked => write!(f, "blocked"),
            Self::Full => write!(f, "at most {MAX_CONTACTS} contacts"),
            Self::Storage(e) => write!(f, "database: {e}"),
        }
    }
}

impl std::error::Error for ContactError {}

impl From<ContactError> for FormError {
    fn from(e: ContactError) -> Self {
        match e {
            ContactError::Rule(rule) => rule,
            ContactError::NoSuchUser => FormError::NoSuchUser,
            ContactError::Duplicate => FormError::ContactDuplicate,
            ContactError::Blocked => FormError::ContactBlocked,
            ContactError::Full => FormError::ContactsFull,
            ContactError::Storage(_) => FormError::Internal,
        }
    }
}

/// `owner`'s contacts, in alphabetical order regardless of case.
pub async fn list(db: &SqlitePool, owner: &str) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT contact_id FROM contacts WHERE owner_id = ? ORDER BY contact_id COLLATE NOCASE, contact_id",
    )
    .bind(owner)
    .fetch_all(db)
    .await
}

pub async fn add(
    db: &SqlitePool,
    owner: &str,
    contact: &str,
    now: i64,
) -> Result<(), ContactError> {
    check_contact(owner, contact).map_err(ContactError::Rule)?;
    // The foreign key refuses unknown users, the primary key duplicates and the condition a
    // block either way, in one statement, so there is no window between checking and
    // inserting.
    let done = sqlx::query(
        "INSERT INTO contacts (owner_id, contact_id, created_at) SELECT ?1, ?2, ?3
         WHERE NOT EXISTS (SELECT 1 FROM blocks WHERE (owner_id = ?1 AND blocked_id = ?2)
                                                   OR (owner_id = ?2 AND blocked_id = ?1))
         AND (SELECT COUNT(*) FROM contacts WHERE owner_id = ?1) < ?4",
    )
    .bind(owner)
    .bind(contact)
    .bind(now)
    .bind(MAX_CONTACTS)
    .execute(db)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => ContactError::NoSuchUser,
        sqlx::Error::Database(d) if d.is_unique_violation() => ContactError::Duplicate,
        _ => ContactError::Storage(e),
    })?;
    if done.rows_affected() == 0 {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM contacts WHERE owner_id = ?")
            .bind(owner)
            .fetch_one(db)
            .await
            .map_err(ContactError::Storage)?;
        return Err(if count >= MAX_CONTACTS {
            ContactError::Full
        } else {
            ContactError::Blocked
        });
    }
    Ok(())
}

/// Who has `user` as a contact: the audience of their presence.
pub async fn watchers(db: &SqlitePool, user: &str) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT owner_id FROM contacts WHERE contact_id = ?")
        .bind(user)
        .fetch_all(db)
        .await
}

/// Removes `contact` from `owner`'s list; true if it was there.
pub async fn remove(db: &SqlitePool, owner: &str, contact: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM contacts WHERE owner_id = ? AND contact_id = ?")
        .bind(owner)
        .bind(contact)
        .execute(db)
        .await?;
    Ok(done.rows_affected() > 0)
}
