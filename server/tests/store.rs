//! Account and contact rules against a real SQLite database.

mod common;

use app::rules::FormError;
use common::TempDb;
use server::{
    accounts::{AccountError, Accounts, Hasher},
    contacts::{self, ContactError},
    db,
};

async fn setup() -> (TempDb, sqlx::SqlitePool, Accounts) {
    let tmp = TempDb::new();
    let pool = db::open(&tmp.url()).await.expect("open db");
    let accounts = Accounts::new(pool.clone(), Hasher::new(2));
    (tmp, pool, accounts)
}

#[tokio::test]
async fn account_rules() {
    let (_tmp, _pool, accounts) = setup().await;
    accounts.register("alice", "password1", 0).await.unwrap();
    assert!(matches!(
        accounts.register("alice", "password2", 0).await,
        Err(AccountError::Taken)
    ));
    assert!(matches!(
        accounts.register("bad id", "password1", 0).await,
        Err(AccountError::Rule(FormError::UserIdChars))
    ));
    assert!(matches!(
        accounts.register("bob", "short", 0).await,
        Err(AccountError::Rule(FormError::PasswordShort))
    ));
    assert!(!accounts.exists("bob").await.unwrap());

    accounts.authenticate("alice", "password1").await.unwrap();
    for (user, password) in [
        ("alice", "password2"),
        ("Alice", "password1"),
        ("nobody", "password1"),
        ("bad id", "x"),
    ] {
        assert!(
            matches!(
                accounts.authenticate(user, password).await,
                Err(AccountError::BadCredentials)
            ),
            "{user}"
        );
    }
}

#[tokio::test]
async fn contact_rules() {
    let (_tmp, pool, accounts) = setup().await;
    for user in ["alice", "bob", "Carol"] {
        accounts.register(user, "password1", 0).await.unwrap();
    }
    contacts::add(&pool, "alice", "bob", 0).await.unwrap();
    contacts::add(&pool, "alice", "Carol", 0).await.unwrap();
    assert!(matches!(
        contacts::add(&pool, "alice", "bob", 0).await,
        Err(ContactError::Duplicate)
    ));
    assert!(matches!(
        contacts::add(&pool, "alice", "alice", 0).await,
        Err(ContactError::Rule(FormError::ContactSelf))
    ));
    assert!(matches!(
        contacts::add(&pool, "alice", "carol", 0).await,
        Err(ContactError::NoSuchUser)
    ));
    assert!(matches!(
        contacts::add(&pool, "alice", "no one", 0).await,
        Err(ContactError::Rule(FormError::UserIdChars))
    ));

    assert_eq!(
        contacts::list(&pool, "alice").await.unwrap(),
        ["bob", "Carol"]
    );
    // Contact lists are one-way.
    assert!(contacts::list(&pool, "bob").await.unwrap().is_empty());

    assert!(contacts::remove(&pool, "alice", "bob").await.unwrap());
    assert!(!contacts::remove(&pool, "alice", "bob").await.unwrap());
    assert_eq!(contacts::list(&pool, "alice").await.unwrap(), ["Carol"]);
}
