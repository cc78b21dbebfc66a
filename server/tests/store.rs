//! Account and contact rules against a real SQLite database.

mod common;

use app::rules::FormError;
use common::TempDb;
use server::{
    accounts::{AccountError, Accounts, Hasher},
    contacts::{self, Added, ContactError},
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

    assert_eq!(names(&pool, "alice").await, ["bob", "Carol"]);
    // A request shows in the asker's list only.
    assert!(contacts::list(&pool, "bob").await.unwrap().is_empty());

    assert!(contacts::remove(&pool, "alice", "bob").await.unwrap());
    assert!(!contacts::remove(&pool, "alice", "bob").await.unwrap());
    assert_eq!(names(&pool, "alice").await, ["Carol"]);
}

async fn names(pool: &sqlx::SqlitePool, owner: &str) -> Vec<String> {
    let list = contacts::list(pool, owner).await.unwrap();
    list.into_iter().map(|c| c.user_id).collect()
}

/// (name, accepted) for each of `owner`'s list.
async fn standing(pool: &sqlx::SqlitePool, owner: &str) -> Vec<(String, bool)> {
    let list = contacts::list(pool, owner).await.unwrap();
    list.into_iter().map(|c| (c.user_id, c.accepted)).collect()
}

#[tokio::test]
async fn presence_waits_for_consent_and_a_decline_is_silent() {
    let (_tmp, pool, accounts) = setup().await;
    for user in ["alice", "bob", "carol", "dave"] {
        accounts.register(user, "password1", 0).await.unwrap();
    }
    // Asking is not watching.
    assert_eq!(
        contacts::add(&pool, "alice", "bob", 1).await.unwrap(),
        Added::Requested
    );
    assert_eq!(standing(&pool, "alice").await, [("bob".into(), false)]);
    assert!(contacts::watchers(&pool, "bob").await.unwrap().is_empty());
    assert!(contacts::accepted(&pool, "alice").await.unwrap().is_empty());
    assert_eq!(contacts::requests(&pool, "bob").await.unwrap(), ["alice"]);

    // Bob accepts: each is in the other's list and sees the other.
    contacts::accept(&pool, "bob", "alice", 2).await.unwrap();
    assert_eq!(standing(&pool, "alice").await, [("bob".into(), true)]);
    assert_eq!(standing(&pool, "bob").await, [("alice".into(), true)]);
    assert_eq!(contacts::watchers(&pool, "bob").await.unwrap(), ["alice"]);
    assert_eq!(contacts::watchers(&pool, "alice").await.unwrap(), ["bob"]);
    assert!(contacts::requests(&pool, "bob").await.unwrap().is_empty());
    assert!(matches!(
        contacts::accept(&pool, "bob", "alice", 3).await,
        Err(ContactError::NoRequest)
    ));

    // Carol declines dave: dave still sees a request sent, and nothing of carol.
    contacts::add(&pool, "dave", "carol", 3).await.unwrap();
    assert!(contacts::decline(&pool, "carol", "dave").await.unwrap());
    assert!(!contacts::decline(&pool, "carol", "dave").await.unwrap());
    assert_eq!(standing(&pool, "dave").await, [("carol".into(), false)]);
    assert!(contacts::requests(&pool, "carol").await.unwrap().is_empty());
    assert!(contacts::watchers(&pool, "carol").await.unwrap().is_empty());
    assert!(matches!(
        contacts::add(&pool, "dave", "carol", 4).await,
        Err(ContactError::Duplicate)
    ));
    // Carol changes her mind by adding dave: that accepts his old request.
    assert_eq!(
        contacts::add(&pool, "carol", "dave", 5).await.unwrap(),
        Added::Accepted
    );
    assert_eq!(standing(&pool, "dave").await, [("carol".into(), true)]);

    // Nobody can accept a request that was never made.
    assert!(matches!(
        contacts::accept(&pool, "carol", "alice", 6).await,
        Err(ContactError::NoRequest)
    ));

    // Removing ends it both ways.
    assert!(contacts::remove(&pool, "alice", "bob").await.unwrap());
    assert!(contacts::list(&pool, "bob").await.unwrap().is_empty());
    assert!(contacts::watchers(&pool, "alice").await.unwrap().is_empty());
}

#[tokio::test]
async fn requests_list_the_newest_and_stay_bounded() {
    let (_tmp, pool, accounts) = setup().await;
    accounts.register("star", "password1", 0).await.unwrap();
    let fans = contacts::MAX_LISTED_REQUESTS + 5;
    for i in 0..fans {
        let fan = format!("fan{i}");
        sqlx::query("INSERT INTO users (user_id, password_hash, created_at) VALUES (?, 'x', 0)")
            .bind(&fan)
            .execute(&pool)
            .await
            .unwrap();
        contacts::add(&pool, &fan, "star", i).await.unwrap();
    }
    let listed = contacts::requests(&pool, "star").await.unwrap();
    assert_eq!(listed.len() as i64, contacts::MAX_LISTED_REQUESTS);
    assert_eq!(listed[0], format!("fan{}", fans - 1));
}

/// Contacts made before consent existed: pairs who had added each other stay contacts,
/// one-way additions become requests the other side answers.
#[tokio::test]
async fn contacts_from_before_consent_are_kept_where_both_agreed() {
    let tmp = TempDb::new();
    let before = tmp.path().join("migrations-before-consent");
    std::fs::create_dir_all(&before).unwrap();
    let migrations = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    for entry in std::fs::read_dir(&migrations).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.as_str() < "0007" {
            std::fs::copy(&path, before.join(&name)).unwrap();
        }
    }
    {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(tmp.path().join("calling.db"))
            .create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
        sqlx::migrate::Migrator::new(before.as_path())
            .await
            .unwrap()
            .run(&pool)
            .await
            .unwrap();
        for user in ["alice", "bob", "carol"] {
            sqlx::query(
                "INSERT INTO users (user_id, password_hash, created_at) VALUES (?, 'x', 0)",
            )
            .bind(user)
            .execute(&pool)
            .await
            .unwrap();
        }
        for (owner, contact) in [("alice", "bob"), ("bob", "alice"), ("carol", "alice")] {
            sqlx::query("INSERT INTO contacts (owner_id, contact_id, created_at) VALUES (?, ?, 0)")
                .bind(owner)
                .bind(contact)
                .execute(&pool)
                .await
                .unwrap();
        }
        pool.close().await;
    }

    let pool = db::open(&tmp.url()).await.unwrap();
    assert_eq!(standing(&pool, "alice").await, [("bob".into(), true)]);
    assert_eq!(standing(&pool, "carol").await, [("alice".into(), false)]);
    assert_eq!(contacts::requests(&pool, "alice").await.unwrap(), ["carol"]);
}
