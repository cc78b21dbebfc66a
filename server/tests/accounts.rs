//! Taking back what an account was given: a password change, signing out (here and
//! everywhere) and deleting the account end sessions, sigs and the signaling connection.

mod common;

use common::{
    site::{cookie_of, location, next_json, Site},
    ws::Ws,
    TempDb,
};
use serde_json::json;

/// The socket is told it was kicked out, then closed.
async fn kicked(ws: &mut Ws) {
    let mut seen = Vec::new();
    while let Some(v) = next_json(ws).await {
        seen.push(v["type"].clone());
    }
    assert!(seen.contains(&json!("kickedOut")), "{seen:?}");
}

#[tokio::test]
async fn changing_the_password_signs_out_other_browsers_and_revokes_sigs() {
    let db = TempDb::new();
    let site = Site::start(&db).await;
    let here = site.session("alice", "first password", true).await;
    let elsewhere = site.session("alice", "first password", false).await;
    let old_sig = site.usersig(&here).await;
    let mut socket = site.ws_login("alice", &old_sig).await.expect("logged in");

    let r = site
        .post(
            "/account/password",
            "current_password=wrong+password&new_password=second+password",
            Some(&here),
        )
        .await;
    assert_eq!(location(&r), "/account?error=wrong_password");
    let r = site
        .post(
            "/account/password",
            "current_password=first+password&new_password=second+password",
            Some(&here),
        )
        .await;
    assert_eq!(location(&r), "/account?done=password");
    let here = cookie_of(&r).expect("this browser gets a new session");

    kicked(&mut socket).await;
    assert!(
        !site.signed_in(&elsewhere).await,
        "the other browser is signed out"
    );
    assert!(site.signed_in(&here).await);
    let Err(refused) = site.ws_login("alice", &old_sig).await else {
        panic!("a revoked sig logged in");
    };
    assert!(refused.contains("revoked"), "{refused}");
    let new_sig = site.usersig(&here).await;
    assert!(site.ws_login("alice", &new_sig).await.is_ok());

    let r = site
        .post("/auth/login", "user_id=alice&password=first+password", None)
        .await;
    assert!(location(&r).contains("error=bad_credentials"));
    site.session("alice", "second password", false).await;
}

#[tokio::test]
async fn signing_out_everywhere_ends_every_session() {
    let db = TempDb::new();
    let site = Site::start(&db).await;
    let here = site.session("alice", "alices password", true).await;
    let elsewhere = site.session("alice", "alices password", false).await;
    let r = site
        .post("/account/sign-out-everywhere", "", Some(&here))
        .await;
    assert_eq!(location(&r), "/login");
    assert!(!site.signed_in(&here).await);
    assert!(!site.signed_in(&elsewhere).await);
    // Signing in again works as before.
    let again = site.session("alice", "alices password", false).await;
    assert!(site.signed_in(&again).await);
}

#[tokio::test]
async fn signing_out_revokes_the_sig_and_closes_the_socket() {
    let db = TempDb::new();
    let site = Site::start(&db).await;
    let here = site.session("alice", "alices password", true).await;
    let sig = site.usersig(&here).await;
    let mut socket = site.ws_login("alice", &sig).await.expect("logged in");
    let r = site.post("/auth/logout", "", Some(&here)).await;
    assert_eq!(location(&r), "/login");
    kicked(&mut socket).await;
    assert!(site.ws_login("alice", &sig).await.is_err());
}

#[tokio::test]
async fn deleting_an_account_takes_its_data_and_its_sigs() {
    let db = TempDb::new();
    let site = Site::start(&db).await;
    let alice = site.session("alice", "alices password", true).await;
    let bob = site.session("bob", "bobs password", true).await;
    let pool = server::db::open(&db.url()).await.unwrap();
    server::contacts::add(&pool, "alice", "bob", 0)
        .await
        .unwrap();
    server::contacts::add(&pool, "bob", "alice", 0)
        .await
        .unwrap();
    let both = ["alice".to_owned(), "bob".to_owned()];
    let alices_group = server::signaling::groups::create(&pool, "alice", "A", &both, "ga", 0)
        .await
        .unwrap();
    let bobs_group = server::signaling::groups::create(&pool, "bob", "B", &both, "gb", 0)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO call_history (invite_id, caller_id, callee_id, call_type, is_group, \
         started_at, outcome) VALUES ('i1', 'bob', 'alice', 1, 0, 1, 'no_answer')",
    )
    .execute(&pool)
    .await
    .unwrap();
    let sig = site.usersig(&alice).await;

    let r = site
        .post("/account/delete", "password=not+it", Some(&alice))
        .await;
    assert_eq!(location(&r), "/account?error=wrong_password");
    assert!(site.signed_in(&alice).await, "nothing happened");
    let r = site
        .post("/account/delete", "password=alices+password", Some(&alice))
        .await;
    assert_eq!(location(&r), "/login?notice=deleted");

    assert!(!site.signed_in(&alice).await);
    assert!(server::contacts::list(&pool, "bob")
        .await
        .unwrap()
        .is_empty());
    let members = |g: String| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, String>(
                "SELECT user_id FROM call_group_members WHERE group_id = ?",
            )
            .bind(g)
            .fetch_all(&pool)
            .await
            .unwrap()
        }
    };
    assert!(members(alices_group).await.is_empty(), "her group is gone");
    assert_eq!(members(bobs_group).await, ["bob"]);
    assert!(server::history::list(&pool, "bob", 10)
        .await
        .unwrap()
        .is_empty());
    assert!(site.ws_login("alice", &sig).await.is_err());
    assert!(site.signed_in(&bob).await, "bob is untouched");

    // Someone new may take the ID; the old sigs do not come with it.
    let newcomer = site.session("alice", "newcomers password", true).await;
    assert!(site.ws_login("alice", &sig).await.is_err());
    let fresh = site.usersig(&newcomer).await;
    assert!(site.ws_login("alice", &fresh).await.is_ok());
}
