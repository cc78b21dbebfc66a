//! Contact lists, by consent. Adding someone sends them a request; only once they accept does
//! the one who asked see their presence, and the two are then each other's contacts. A request
//! they decline is not reported: to the one who asked it stays a request sent. Adding someone
//! who has asked for you accepts their request at once.

use std::fmt;

use app::rules::{check_contact, FormError};
use sqlx::SqlitePool;

/// Contacts one account may have: more than anyone keeps, few enough that a list, and the
/// presence fan-out to it, stays small. Requests sent count too.
pub const MAX_CONTACTS: i64 = 1000;

/// Most requests the site lists at once, the newest first; the rest wait their turn.
pub const MAX_LISTED_REQUESTS: i64 = 100;

#[derive(Debug)]
pub enum ContactError {
    Rule(FormError),
    NoSuchUser,
    Duplicate,
    /// One of the two has blocked the other.
    Blocked,
    /// The owner has [`MAX_CONTACTS`] already.
    Full,
    /// Accepting what nobody asked for.
    NoRequest,
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
            Self::NoRequest => write!(f, "no such contact request"),
            Self::Storage(e) => write!(f, "database: {e}"),
        }
    }
}

impl std::error::Error for ContactError {}

impl From<sqlx::Error> for ContactError {
    fn from(e: sqlx::Error) -> Self {
        Self::Storage(e)
    }
}

impl From<ContactError> for FormError {
    fn from(e: ContactError) -> Self {
        match e {
            ContactError::Rule(rule) => rule,
            ContactError::NoSuchUser => FormError::NoSuchUser,
            ContactError::Duplicate => FormError::ContactDuplicate,
            ContactError::Blocked => FormError::ContactBlocked,
            ContactError::Full => FormError::ContactsFull,
            ContactError::NoRequest => FormError::NoContactRequest,
            ContactError::Storage(_) => FormError::Internal,
        }
    }
}

/// One entry of a contact list, as its owner sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    pub user_id: String,
    /// False while the request is unanswered, and after it was declined.
    pub accepted: bool,
}

/// What adding someone did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Added {
    /// A request now waits for their answer.
    Requested,
    /// They had asked for the owner: both are now contacts.
    Accepted,
}

/// `owner`'s contact list, requests included, in alphabetical order regardless of case.
pub async fn list(db: &SqlitePool, owner: &str) -> Result<Vec<Listed>, sqlx::Error> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT contact_id, state FROM contacts WHERE owner_id = ?
         ORDER BY contact_id COLLATE NOCASE, contact_id",
    )
    .bind(owner)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(user_id, state)| Listed {
            user_id,
            accepted: state == ACCEPTED,
        })
        .collect())
}

/// The contacts whose presence `owner` may see.
pub async fn accepted(db: &SqlitePool, owner: &str) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT contact_id FROM contacts WHERE owner_id = ? AND state = 'accepted'
         ORDER BY contact_id COLLATE NOCASE, contact_id",
    )
    .bind(owner)
    .fetch_all(db)
    .await
}

/// Who is waiting for `user` to answer, the newest first, at most [`MAX_LISTED_REQUESTS`].
pub async fn requests(db: &SqlitePool, user: &str) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT owner_id FROM contacts WHERE contact_id = ? AND state = 'pending'
         ORDER BY created_at DESC, owner_id LIMIT ?",
    )
    .bind(user)
    .bind(MAX_LISTED_REQUESTS)
    .fetch_all(db)
    .await
}

const ACCEPTED: &str = "accepted";

/// `owner` asks for `contact`, or accepts at once if `contact` had asked for them.
pub async fn add(
    db: &SqlitePool,
    owner: &str,
    contact: &str,
    now: i64,
) -> Result<Added, ContactError> {
    check_contact(owner, contact).map_err(ContactError::Rule)?;
    let mut tx = db.begin().await?;
    // The foreign key refuses unknown users, the primary key duplicates and the condition a
    // block either way and a full list, in one statement (the transaction's first, so it
    // takes the write lock at once), with no window between checking and inserting.
    let done = sqlx::query(
        "INSERT INTO contacts (owner_id, contact_id, created_at, state)
         SELECT ?1, ?2, ?3, CASE WHEN EXISTS (SELECT 1 FROM contacts
                                             WHERE owner_id = ?2 AND contact_id = ?1)
                                THEN 'accepted' ELSE 'pending' END
         WHERE NOT EXISTS (SELECT 1 FROM blocks WHERE (owner_id = ?1 AND blocked_id = ?2)
                                                   OR (owner_id = ?2 AND blocked_id = ?1))
         AND (SELECT COUNT(*) FROM contacts WHERE owner_id = ?1) < ?4",
    )
    .bind(owner)
    .bind(contact)
    .bind(now)
    .bind(MAX_CONTACTS)
    .execute(&mut *tx)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => ContactError::NoSuchUser,
        sqlx::Error::Database(d) if d.is_unique_violation() => ContactError::Duplicate,
        _ => ContactError::Storage(e),
    })?;
    if done.rows_affected() == 0 {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM contacts WHERE owner_id = ?")
            .bind(owner)
            .fetch_one(&mut *tx)
            .await?;
        return Err(if count >= MAX_CONTACTS {
            ContactError::Full
        } else {
            ContactError::Blocked
        });
    }
    let answered =
        sqlx::query("UPDATE contacts SET state = 'accepted' WHERE owner_id = ? AND contact_id = ?")
            .bind(contact)
            .bind(owner)
            .execute(&mut *tx)
            .await?;
    tx.commit().await?;
    Ok(if answered.rows_affected() > 0 {
        Added::Accepted
    } else {
        Added::Requested
    })
}

/// `user` accepts `requester`'s request (pending or once declined): each is now in the
/// other's list, and sees the other's presence.
pub async fn accept(
    db: &SqlitePool,
    user: &str,
    requester: &str,
    now: i64,
) -> Result<(), ContactError> {
    let mut tx = db.begin().await?;
    let asked = sqlx::query(
        "UPDATE contacts SET state = 'accepted'
         WHERE owner_id = ? AND contact_id = ? AND state <> 'accepted'",
    )
    .bind(requester)
    .bind(user)
    .execute(&mut *tx)
    .await?;
    if asked.rows_affected() == 0 {
        return Err(ContactError::NoRequest);
    }
    let back = sqlx::query(
        "INSERT INTO contacts (owner_id, contact_id, created_at, state)
         SELECT ?1, ?2, ?3, 'accepted'
         WHERE (SELECT COUNT(*) FROM contacts WHERE owner_id = ?1) < ?4
         ON CONFLICT (owner_id, contact_id) DO UPDATE SET state = 'accepted'",
    )
    .bind(user)
    .bind(requester)
    .bind(now)
    .bind(MAX_CONTACTS)
    .execute(&mut *tx)
    .await?;
    if back.rows_affected() == 0 {
        return Err(ContactError::Full);
    }
    tx.commit().await?;
    Ok(())
}

/// `user` declines `requester`'s request, without telling them; true if there was one.
pub async fn decline(db: &SqlitePool, user: &str, requester: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE contacts SET state = 'declined'
         WHERE owner_id = ? AND contact_id = ? AND state = 'pending'",
    )
    .bind(requester)
    .bind(user)
    .execute(db)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Who may see `user`'s presence: those whose request they accepted.
pub async fn watchers(db: &SqlitePool, user: &str) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT owner_id FROM contacts WHERE contact_id = ? AND state = 'accepted'")
        .bind(user)
        .fetch_all(db)
        .await
}

/// Ends the contact between `owner` and `contact`, both ways (or withdraws `owner`'s request);
/// true if `contact` was in `owner`'s list.
pub async fn remove(db: &SqlitePool, owner: &str, contact: &str) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin().await?;
    let done = sqlx::query("DELETE FROM contacts WHERE owner_id = ? AND contact_id = ?")
        .bind(owner)
        .bind(contact)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() > 0 {
        sqlx::query(
            "DELETE FROM contacts WHERE owner_id = ? AND contact_id = ? AND state = 'accepted'",
        )
        .bind(contact)
        .bind(owner)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(done.rows_affected() > 0)
}
