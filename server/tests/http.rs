//! The site over real HTTP on an ephemeral port: sign-up, sign-in, sessions and UserSigs.

mod common;

use common::{config, serve, serve_site, TempDb, APP, KEY};
use reqwest::{header, redirect::Policy, Client, Response, StatusCode};
use server::usersig::{self, SecretKey};

fn client() -> Client {
    Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client")
}

fn location(r: &Response) -> &str {
    r.headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// The `name=value` part of the session cookie the response set.
fn session_cookie(r: &Response) -> Option<String> {
    r.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("calling_session="))
        .map(|c| c.split(';').next().unwrap_or("").to_string())
}

async fn post_form(base: &str, path: &str, body: &str, cookie: Option<&str>) -> Response {
    let mut req = client()
        .post(format!("{base}{path}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body.to_string());
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    req.send().await.expect("post")
}

async fn get(base: &str, path: &str, cookie: Option<&str>) -> Response {
    let mut req = client().get(format!("{base}{path}"));
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    req.send().await.expect("get")
}

async fn json(r: Response) -> serde_json::Value {
    serde_json::from_str(&r.text().await.expect("body")).expect("json body")
}

#[tokio::test]
async fn register_sign_in_and_fetch_a_verifiable_usersig() {
    let db = TempDb::new();
    let base = format!("http://{}", serve(config(&db, Some(KEY))).await);

    let r = post_form(
        &base,
        "/auth/register",
        "user_id=alice&password=correct-horse",
        None,
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/");
    let set = r.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    let cookie = session_cookie(&r).expect("session cookie");

    let r = get(&base, "/api/usersig", Some(&cookie)).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()[header::CACHE_CONTROL],
        "no-store",
        "a credential is kept by no cache"
    );
    let body = json(r).await;
    assert_eq!(body["SDKAppID"], APP);
    assert_eq!(body["userID"], "alice");
    let sig = body["userSig"].as_str().expect("userSig");
    let now = server::db::unix_now();
    let checked =
        usersig::verify(&SecretKey::new(KEY.into()), APP, "alice", sig, now).expect("valid sig");
    assert_eq!(checked.expire, 86_400);

    // The server's own checker agrees, and refuses the sig for someone else.
    let verify = |user: &str| {
        client()
            .post(format!("{base}/api/usersig/verify"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(serde_json::json!({"userID": user, "userSig": sig}).to_string())
            .send()
    };
    let r = verify("alice").await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(json(r).await["valid"], true);
    let r = verify("bob").await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json(r).await["error"], "usersig_other_user");

    // Signing out ends the session for good.
    let r = post_form(&base, "/auth/logout", "", Some(&cookie)).await;
    assert_eq!(location(&r), "/login");
    let r = get(&base, "/api/usersig", Some(&cookie)).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json(r).await["error"], "not_signed_in");

    // Signing in again gives a different session.
    let r = post_form(
        &base,
        "/auth/login",
        "user_id=alice&password=correct-horse",
        None,
    )
    .await;
    assert_eq!(location(&r), "/");
    let again = session_cookie(&r).expect("new session cookie");
    assert_ne!(again, cookie);
    assert_eq!(
        get(&base, "/api/usersig", Some(&again)).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn wrong_password_and_unknown_user_read_the_same() {
    let db = TempDb::new();
    let base = format!("http://{}", serve(config(&db, Some(KEY))).await);
    post_form(
        &base,
        "/auth/register",
        "user_id=bob&password=12345678",
        None,
    )
    .await;

    let wrong = post_form(&base, "/auth/login", "user_id=bob&password=87654321", None).await;
    let unknown = post_form(
        &base,
        "/auth/login",
        "user_id=nobody&password=87654321",
        None,
    )
    .await;
    assert_eq!(location(&wrong), "/login?error=bad_credentials&user=bob");
    assert_eq!(
        location(&unknown),
        "/login?error=bad_credentials&user=nobody"
    );
    assert!(session_cookie(&wrong).is_none());
}

#[tokio::test]
async fn register_errors_come_back_as_codes() {
    let db = TempDb::new();
    let base = format!("http://{}", serve(config(&db, Some(KEY))).await);
    let cases = [
        (
            "user_id=a%20b&password=12345678",
            "/register?error=user_id_chars&user=a+b",
        ),
        (
            "user_id=carol&password=short",
            "/register?error=password_short&user=carol",
        ),
        ("password=12345678", "/register?error=user_id_empty&user="),
    ];
    for (body, want) in cases {
        let r = post_form(&base, "/auth/register", body, None).await;
        assert_eq!(location(&r), want, "{body}");
    }
    post_form(
        &base,
        "/auth/register",
        "user_id=carol&password=12345678",
        None,
    )
    .await;
    let r = post_form(
        &base,
        "/auth/register",
        "user_id=carol&password=12345678",
        None,
    )
    .await;
    assert_eq!(location(&r), "/register?error=user_id_taken&user=carol");
    // IDs are case-sensitive: Carol is someone else.
    let r = post_form(
        &base,
        "/auth/register",
        "user_id=Carol&password=12345678",
        None,
    )
    .await;
    assert_eq!(location(&r), "/");
}

#[tokio::test]
async fn pages_render_and_guard_by_session() {
    let db = TempDb::new();
    let base = format!("http://{}", serve(config(&db, Some(KEY))).await);

    let r = get(&base, "/", None).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/login");

    let r = get(&base, "/login", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("<label for=\"user_id\">User ID</label>"),
        "{html}"
    );
    assert!(html.contains("Sign in"));

    let r = post_form(
        &base,
        "/auth/register",
        "user_id=dave&password=12345678",
        None,
    )
    .await;
    let cookie = session_cookie(&r).unwrap();
    post_form(
        &base,
        "/auth/register",
        "user_id=erin&password=12345678",
        None,
    )
    .await;
    let r = post_form(&base, "/contacts/add", "contact_id=erin", Some(&cookie)).await;
    assert_eq!(location(&r), "/");

    let r = get(&base, "/", Some(&cookie)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("dave") && html.contains("erin"), "{html}");
    // Signed in, the sign-in page sends you home.
    assert_eq!(location(&get(&base, "/login", Some(&cookie)).await), "/");

    assert_eq!(
        get(&base, "/no-such-page", None).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn generated_key_survives_a_restart() {
    let db = TempDb::new();
    let base = format!("http://{}", serve(config(&db, None)).await);
    let r = post_form(
        &base,
        "/auth/register",
        "user_id=frank&password=12345678",
        None,
    )
    .await;
    let cookie = session_cookie(&r).unwrap();
    let sig = json(get(&base, "/api/usersig", Some(&cookie)).await).await["userSig"]
        .as_str()
        .unwrap()
        .to_string();

    // A second server on the same database: same key, same sessions, same accounts.
    let base2 = format!("http://{}", serve(config(&db, None)).await);
    let r = client()
        .post(format!("{base2}/api/usersig/verify"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(serde_json::json!({"userID": "frank", "userSig": sig}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        get(&base2, "/api/usersig", Some(&cookie)).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn pages_and_assets_are_compressed_with_cache_headers() {
    let db = TempDb::new();
    let site = db.path().join("site");
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    std::fs::write(
        site.join("pkg/calling.css"),
        "body { color: red; }\n".repeat(50),
    )
    .unwrap();
    let addr = serve_site(config(&db, Some(KEY)), site.to_str().unwrap()).await;
    let base = format!("http://{addr}");
    let fetch = |path: &str, encoding: &str| {
        client()
            .get(format!("{base}{path}"))
            .header(header::ACCEPT_ENCODING, encoding)
            .send()
    };

    let r = fetch("/login", "gzip").await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()[header::CONTENT_ENCODING], "gzip");
    assert_eq!(r.headers()[header::CACHE_CONTROL], "private, no-cache");

    let r = fetch("/pkg/calling.css", "br").await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()[header::CONTENT_ENCODING], "br");
    assert_eq!(r.headers()[header::CACHE_CONTROL], "public, no-cache");
    assert!(r.headers().contains_key(header::LAST_MODIFIED));
    let compressed = r.bytes().await.unwrap().len();
    assert!(compressed < 1050 / 4, "{compressed} bytes");

    // Without Accept-Encoding the file goes out as it is.
    let r = client()
        .get(format!("{base}/pkg/calling.css"))
        .send()
        .await
        .unwrap();
    assert!(!r.headers().contains_key(header::CONTENT_ENCODING));
    assert_eq!(r.bytes().await.unwrap().len(), 1050);
}

#[tokio::test]
async fn a_foreign_page_cannot_post_to_the_site() {
    let db = TempDb::new();
    let addr = serve(config(&db, Some(KEY))).await;
    let base = format!("http://{addr}");
    let post = |path: &'static str, body: &'static str, origin: String| {
        client()
            .post(format!("{base}{path}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ORIGIN, origin)
            .body(body)
            .send()
    };
    let evil = || "https://evil.example".to_string();
    // Login CSRF: a foreign page would sign its visitor in to an account of its own.
    let r = post(
        "/auth/register",
        "user_id=mallory&password=mallorys+password",
        evil(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(session_cookie(&r).is_none());
    let r = post(
        "/auth/login",
        "user_id=mallory&password=mallorys+password",
        evil(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = post("/auth/logout", "", "null".into()).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The site's own pages post as before.
    let r = post(
        "/auth/register",
        "user_id=alice&password=alices+password",
        base.clone(),
    )
    .await
    .unwrap();
    assert_eq!(location(&r), "/");
    // Reading is not guarded: links from anywhere still work.
    let r = client()
        .get(format!("{base}/login"))
        .header(header::ORIGIN, evil())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn opening_the_history_marks_nothing_seen_until_the_page_posts() {
    let db = TempDb::new();
    let base = format!("http://{}", serve(config(&db, Some(KEY))).await);
    let r = post_form(
        &base,
        "/auth/register",
        "user_id=alice&password=alices+password",
        None,
    )
    .await;
    let cookie = session_cookie(&r).expect("session");
    let pool = server::db::open(&db.url()).await.unwrap();
    let now = server::db::unix_now();
    sqlx::query(
        "INSERT INTO call_history (invite_id, caller_id, callee_id, call_type, is_group, \
         started_at, ended_at, outcome) VALUES ('i1', 'bob', 'alice', 1, 0, ?, ?, 'no_answer')",
    )
    .bind(now - 10)
    .bind(now - 5)
    .execute(&pool)
    .await
    .unwrap();
    let missed = || server::history::missed_since_seen(&pool, "alice");
    assert_eq!(missed().await.unwrap(), 1);

    // A GET is what any site can make a browser do (an image tag): it must change nothing.
    let r = get(&base, "/history", Some(&cookie)).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(missed().await.unwrap(), 1);

    let r = post_form(
        &base,
        "/api/history/seen",
        &format!("as_of={now}"),
        Some(&cookie),
    )
    .await;
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(missed().await.unwrap(), 0);
}

#[tokio::test]
async fn the_block_button_blocks_and_the_home_page_can_unblock() {
    let db = TempDb::new();
    let base = format!("http://{}", serve(config(&db, Some(KEY))).await);
    let r = post_form(
        &base,
        "/auth/register",
        "user_id=alice&password=alices+password",
        None,
    )
    .await;
    let cookie = session_cookie(&r).expect("session");
    let r = post_form(
        &base,
        "/blocks/add",
        "user_id=mallory&back=/history",
        Some(&cookie),
    )
    .await;
    assert_eq!(location(&r), "/history");
    let home = get(&base, "/", Some(&cookie)).await.text().await.unwrap();
    assert!(home.contains("Unblock mallory"), "{home}");
    // A form cannot send the browser elsewhere afterwards.
    let r = post_form(
        &base,
        "/blocks/remove",
        "user_id=mallory&back=https://evil.example/",
        Some(&cookie),
    )
    .await;
    assert_eq!(location(&r), "/");
    let home = get(&base, "/", Some(&cookie)).await.text().await.unwrap();
    assert!(!home.contains("Unblock mallory"));
    let r = post_form(&base, "/blocks/add", "user_id=alice", Some(&cookie)).await;
    assert_eq!(location(&r), "/?error=block_self");
}

#[tokio::test]
async fn a_long_history_comes_a_page_at_a_time() {
    let db = TempDb::new();
    let base = format!("http://{}", serve(config(&db, Some(KEY))).await);
    let r = post_form(
        &base,
        "/auth/register",
        "user_id=alice&password=alices+password",
        None,
    )
    .await;
    let cookie = session_cookie(&r).expect("session");
    let pool = server::db::open(&db.url()).await.unwrap();
    for n in 0..60 {
        sqlx::query(
            "INSERT INTO call_history (invite_id, caller_id, callee_id, call_type, is_group, \
             started_at, ended_at, outcome) VALUES (?, 'alice', ?, 1, 0, ?, ?, 'no_answer')",
        )
        .bind(format!("i{n}"))
        .bind(format!("peer{n}"))
        .bind(1_000 + n)
        .bind(1_010 + n)
        .execute(&pool)
        .await
        .unwrap();
    }
    let first = get(&base, "/history", Some(&cookie))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        first.contains("peer59") && !first.contains("peer9<"),
        "newest fifty first"
    );
    let href = first
        .split("href=\"/history?before=")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a link to older calls");
    let older = get(&base, &format!("/history?before={href}"), Some(&cookie))
        .await
        .text()
        .await
        .unwrap();
    assert!(older.contains("peer9<") && older.contains("peer0<") && !older.contains("peer59"));
    assert!(!older.contains("Older calls"));
}
