//! Browser sessions: a cookie naming a row in SQLite (so sign-ins survive restarts), and the
//! user it belongs to.

use axum::{
    extract::{Request, State},
    http::Method,
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use sqlx::SqlitePool;
use tower_sessions::{
    cookie::{time::Duration, SameSite},
    Expiry, Session, SessionManagerLayer,
};
use tower_sessions_sqlx_store::SqliteStore;

const USER_KEY: &str = "user_id";
/// When this session signed in, in Unix milliseconds: sessions older than the account's
/// `sessions_valid_from` are over.
const SIGNED_IN_AT: &str = "signed_in_at";
pub const COOKIE_NAME: &str = "calling_session";

/// The session store, its table created.
pub async fn store(db: SqlitePool) -> Result<SqliteStore, sqlx::Error> {
    let store = SqliteStore::new(db);
    store.migrate().await?;
    Ok(store)
}

pub fn layer(store: SqliteStore, secure: bool) -> SessionManagerLayer<SqliteStore> {
    SessionManagerLayer::new(store)
        .with_name(COOKIE_NAME)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(secure)
        .with_expiry(Expiry::OnInactivity(Duration::days(30)))
}

/// The signed-in user, if any. A broken session reads as signed out, and so does one whose
/// account is gone or that was signed in before the account revoked its sessions (it is
/// forgotten on the way).
pub async fn current_user(session: &Session, db: &SqlitePool) -> Option<String> {
    let user = session.get::<String>(USER_KEY).await.ok().flatten()?;
    let signed_in_at = session
        .get::<i64>(SIGNED_IN_AT)
        .await
        .ok()
        .flatten()
        .unwrap_or(0);
    match crate::self_service::sessions_valid_from(db, &user).await {
        Ok(Some(from)) if signed_in_at >= from => Some(user),
        Ok(_) => {
            let _ = session.flush().await;
            None
        }
        Err(e) => {
            tracing::error!("checking a session: {e}");
            None
        }
    }
}

/// Binds the session to `user_id` under a new session ID, so an ID planted before sign-in is
/// worthless after it.
pub async fn sign_in(
    session: &Session,
    user_id: &str,
) -> Result<(), tower_sessions::session::Error> {
    session.cycle_id().await?;
    session.insert(USER_KEY, user_id).await?;
    session
        .insert(SIGNED_IN_AT, crate::self_service::unix_now_ms())
        .await
}

/// Forgets the session, here and in the store.
pub async fn sign_out(session: &Session) -> Result<(), tower_sessions::session::Error> {
    session.flush().await
}

/// Sends visitors without a user from protected pages to `/login`, and signed-in users away
/// from the sign-in pages.
pub async fn guard(
    State(state): State<crate::state::AppState>,
    session: Session,
    request: Request,
    next: Next,
) -> Response {
    if request.method() == Method::GET {
        let path = request.uri().path();
        let protected = app::PROTECTED_PATHS.contains(&path);
        let auth_page = path == "/login" || path == "/register";
        if protected || auth_page {
            let user = current_user(&session, &state.db).await;
            if protected && user.is_none() {
                return Redirect::to("/login").into_response();
            }
            if auth_page && user.is_some() {
                return Redirect::to("/").into_response();
            }
        }
    }
    next.run(request).await
}
