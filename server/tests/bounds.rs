//! What one account can make the database hold: contacts, groups and call history are
//! bounded, history is kept only for calls with someone who has an account, and is read a
//! page at a time.

mod common;

use app::protocol::{CallType, Refusal};
use common::TempDb;
use server::{
    contacts::{self, ContactError, MAX_CONTACTS},
    db,
    history::{self, WriterStop, KEPT_PER_USER},
    signaling::{
        groups::{self, MAX_OWNED},
        switchboard::Record,
    },
};

/// Accounts made straight in the table: the hash is never checked here.
async fn users(pool: &sqlx::SqlitePool, ids: impl IntoIterator<Item = String>) {
    let mut tx = pool.begin().await.unwrap();
    for id in ids {
        sqlx::query("INSERT INTO users (user_id, password_hash, created_at) VALUES (?, 'x', 0)")
            .bind(id)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
}

fn placed(n: usize, caller: &str, callee: &str) -> (i64, Record) {
    (
        n as i64,
        Record::Placed {
            invite_id: format!("i{n:05}"),
            caller: caller.into(),
            callee: callee.into(),
            call_type: CallType::Audio,
            group: false,
        },
    )
}

/// Writes `records` through the history writer and waits until they are committed.
async fn write(pool: &sqlx::SqlitePool, records: Vec<(i64, Record)>) {
    let (tx, rx) = tokio::sync::mpsc::channel(history::BACKLOG);
    let (stop, drained) = WriterStop::new();
    let writer = tokio::spawn(history::run_writer(pool.clone(), rx, drained));
    for r in records {
        tx.send(r).await.unwrap();
    }
    assert!(stop.finish(std::time::Duration::from_secs(30)).await);
    writer.await.unwrap();
}

#[tokio::test]
async fn contacts_stop_at_the_cap() {
    let tmp = TempDb::new();
    let pool = db::open(&tmp.url()).await.unwrap();
    let n = MAX_CONTACTS as usize + 1;
    users(
        &pool,
        std::iter::once("alice".to_owned()).chain((0..n).map(|i| format!("u{i}"))),
    )
    .await;
    for i in 0..MAX_CONTACTS {
        contacts::add(&pool, "alice", &format!("u{i}"), 0)
            .await
            .unwrap();
    }
    assert!(matches!(
        contacts::add(&pool, "alice", &format!("u{MAX_CONTACTS}"), 0).await,
        Err(ContactError::Full)
    ));
    assert_eq!(
        contacts::list(&pool, "alice").await.unwrap().len(),
        MAX_CONTACTS as usize
    );
}

#[tokio::test]
async fn groups_one_may_create_stop_at_the_cap() {
    let tmp = TempDb::new();
    let pool = db::open(&tmp.url()).await.unwrap();
    let members = vec!["bob".to_owned()];
    for i in 0..MAX_OWNED {
        groups::create(&pool, "alice", "G", &members, &format!("g{i}"), 0)
            .await
            .unwrap();
    }
    assert_eq!(
        groups::create(&pool, "alice", "G", &members, "one-more", 0).await,
        Err(Refusal::TooManyGroups)
    );
    // Bob did not make them: he may still make his own.
    assert!(groups::create(&pool, "bob", "Mine", &[], "bobs", 0)
        .await
        .is_ok());
}

#[tokio::test]
async fn history_keeps_only_calls_with_an_account_and_only_the_newest() {
    let tmp = TempDb::new();
    let pool = db::open(&tmp.url()).await.unwrap();
    users(&pool, ["alice".to_owned()]).await;
    let extra = 5;
    let mut records = vec![placed(99_999, "stranger1", "stranger2")];
    records.extend((0..KEPT_PER_USER as usize + extra).map(|n| placed(n, "alice", "someone")));
    write(&pool, records).await;

    let all: Vec<String> = sqlx::query_scalar("SELECT invite_id FROM call_history ORDER BY rowid")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert!(
        !all.contains(&"i99999".to_owned()),
        "a call between two strangers was kept"
    );
    assert_eq!(all.len(), KEPT_PER_USER as usize);
    assert_eq!(all[0], format!("i{extra:05}"), "the oldest went first");
}

#[tokio::test]
async fn history_reads_a_page_at_a_time() {
    let tmp = TempDb::new();
    let pool = db::open(&tmp.url()).await.unwrap();
    users(&pool, ["alice".to_owned()]).await;
    write(&pool, (0..5).map(|n| placed(n, "alice", "bob")).collect()).await;
    let mut seen = Vec::new();
    let mut before = None;
    for _ in 0..5 {
        let page = history::page(&pool, "alice", 2, before).await.unwrap();
        seen.extend(page.entries.into_iter().map(|e| e.invite_id));
        before = page.older;
        if before.is_none() {
            break;
        }
    }
    assert_eq!(seen, ["i00004", "i00003", "i00002", "i00001", "i00000"]);
}
