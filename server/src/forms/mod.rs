//! The HTML forms' endpoints. Each answers with a redirect: to the next page on success, or
//! back to the form with `?error=<code>` so the page can say what went wrong.

mod account;

use std::time::{Duration, Instant};

use app::{
    forms::{BlockForm, ContactForm, Credentials},
    rules::FormError,
};
use axum::{
    extract::State,
    http::{header, StatusCode},
    response::{IntoResponse, Redirect, Response},
    routing::post,
    Form, Router,
};
use tower_sessions::Session;

use crate::{
    accounts::AccountError, blocks, config::Registration, contacts, db::unix_now, peer::ClientIp,
    self_service, sessions, signaling::presence, state::AppState, throttle::SignInThrottle,
};

/// How long a client should wait when the hashing queue is full.
pub(super) const BUSY_RETRY: Duration = Duration::from_secs(2);

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/register", post(register))
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
        .route("/contacts/add", post(add_contact))
        .route("/contacts/remove", post(remove_contact))
        .route("/contacts/accept", post(accept_contact))
        .route("/contacts/decline", post(decline_contact))
        .route("/blocks/add", post(block))
        .route("/blocks/remove", post(unblock))
        .merge(account::routes())
}

/// `path` with the error, keeping what the user typed in the ID field.
fn form_with_error(path: &str, error: FormError, user: Option<&str>) -> String {
    let mut query = vec![("error", error.code())];
    if let Some(user) = user {
        // Echo a bounded amount: the field is for correcting a typo, not for storing essays.
        let end = user.char_indices().nth(64).map_or(user.len(), |(i, _)| i);
        query.push(("user", &user[..end]));
    }
    let query = serde_urlencoded::to_string(query).unwrap_or_default();
    format!("{path}?{query}")
}

/// Back to `path` with the error.
fn back(path: &str, error: FormError, user: Option<&str>) -> Redirect {
    Redirect::to(&form_with_error(path, error, user))
}

/// A refusal that must keep its status (429, 503) and `Retry-After` for clients that read
/// them, while a browser is sent on to the form and its message by a refresh (a redirect
/// would have to be a 3xx).
fn retry_later(
    status: StatusCode,
    wait: Duration,
    path: &str,
    error: FormError,
    user: &str,
) -> Response {
    let url = form_with_error(path, error, Some(user));
    // The URL is built by serde_urlencoded, so it has no quotes or angle brackets to escape.
    let body = format!(
        "<!doctype html><meta charset=utf-8><meta http-equiv=refresh content=\"0;url={url}\">\
         <title>Please wait</title><p>{error} <a href=\"{url}\">Back</a></p>"
    );
    (
        status,
        [
            (header::RETRY_AFTER, wait.as_secs().max(1).to_string()),
            (header::CONTENT_TYPE, "text/html; charset=utf-8".to_owned()),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response()
}

/// How long a throttled guess waits for its answer. A guesser that waits for each answer (as
/// password-guessing tools do) then guesses a few times a second per connection, instead of as
/// fast as the server can say no, which took the CPU that calls need; the wait costs a
/// connection slot and no CPU.
pub(super) const THROTTLED_ANSWER_AFTER: Duration = Duration::from_secs(1);

/// The answer to a guess the throttle refused: 429, after [`THROTTLED_ANSWER_AFTER`].
pub(super) async fn too_many_guesses(retry_after: Duration, path: &str, user: &str) -> Response {
    tokio::time::sleep(THROTTLED_ANSWER_AFTER).await;
    retry_later(
        StatusCode::TOO_MANY_REQUESTS,
        retry_after,
        path,
        FormError::Throttled,
        user,
    )
}

fn sign_ins(state: &AppState) -> std::sync::MutexGuard<'_, SignInThrottle> {
    state.sign_ins.lock().unwrap_or_else(|e| e.into_inner())
}

fn report(context: &str, error: &dyn std::fmt::Display) {
    tracing::error!("{context}: {error}");
}

/// On a closed site the sign-up page sends visitors to sign in, saying why.
pub async fn registration_gate(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if state.registration == Registration::Closed && request.uri().path() == "/register" {
        return back("/login", FormError::RegistrationClosed, None).into_response();
    }
    next.run(request).await
}

async fn register(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<Credentials>,
) -> Response {
    let user_id = form.user_id.trim();
    let result = match state.registration {
        Registration::Open => {
            state
                .accounts
                .register(user_id, &form.password, unix_now())
                .await
        }
        Registration::Closed => Err(AccountError::RegistrationClosed),
    };
    enter(&session, "/register", user_id, result).await
}

async fn login(
    State(state): State<AppState>,
    ip: ClientIp,
    session: Session,
    Form(form): Form<Credentials>,
) -> Response {
    let user_id = form.user_id.trim();
    let checked = sign_ins(&state).check(Instant::now(), user_id, ip);
    if let Err(throttled) = checked {
        return too_many_guesses(throttled.retry_after, "/login", user_id).await;
    }
    let result = state.accounts.authenticate(user_id, &form.password).await;
    match &result {
        Ok(()) => sign_ins(&state).succeeded(user_id, ip),
        Err(AccountError::BadCredentials) => sign_ins(&state).failed(Instant::now(), user_id, ip),
        Err(_) => {}
    }
    enter(&session, "/login", user_id, result).await
}

/// After registering or signing in: home with a fresh session, or back to the form.
async fn enter(
    session: &Session,
    form_path: &str,
    user_id: &str,
    result: Result<(), AccountError>,
) -> Response {
    match result {
        Err(AccountError::Busy) => {
            return retry_later(
                StatusCode::SERVICE_UNAVAILABLE,
                BUSY_RETRY,
                form_path,
                FormError::Busy,
                user_id,
            )
        }
        Err(e) => {
            if e.is_internal() {
                report(form_path, &e);
            }
            return back(form_path, e.into(), Some(user_id)).into_response();
        }
        Ok(()) => {}
    }
    if let Err(e) = sessions::sign_in(session, user_id).await {
        report("starting a session", &e);
        return back("/login", FormError::Internal, Some(user_id)).into_response();
    }
    Redirect::to("/").into_response()
}

/// Ends this browser's session, and with it every sig minted so far and the signaling
/// connection (see `self_service`).
async fn logout(State(state): State<AppState>, session: Session) -> Redirect {
    if let Some(user) = sessions::current_user(&session, &state.db).await {
        if let Err(e) = self_service::revoke_sigs(&state.db, &user, unix_now()).await {
            report("logout", &e);
        }
        state.signaling.hub.sign_out(&user);
    }
    if let Err(e) = sessions::sign_out(&session).await {
        report("logout", &e);
    }
    Redirect::to("/login")
}

async fn add_contact(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<ContactForm>,
) -> Redirect {
    let Some(owner) = sessions::current_user(&session, &state.db).await else {
        return Redirect::to("/login");
    };
    let contact = form.contact_id.trim();
    match contacts::add(&state.db, &owner, contact, unix_now()).await {
        Ok(added) => {
            if added == contacts::Added::Accepted {
                presence::introduce(&state.signaling.hub, &owner, contact);
            }
            Redirect::to("/")
        }
        Err(e) => contact_refused("add contact", e),
    }
}

fn contact_refused(what: &str, e: contacts::ContactError) -> Redirect {
    if let contacts::ContactError::Storage(s) = &e {
        report(what, s);
    }
    back("/", e.into(), None)
}

/// Accepting a request: from now on each sees the other's presence, open pages included.
async fn accept_contact(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<ContactForm>,
) -> Redirect {
    let Some(user) = sessions::current_user(&session, &state.db).await else {
        return Redirect::to("/login");
    };
    let requester = form.contact_id.trim();
    match contacts::accept(&state.db, &user, requester, unix_now()).await {
        Ok(()) => {
            presence::introduce(&state.signaling.hub, &user, requester);
            Redirect::to("/")
        }
        Err(e) => contact_refused("accept contact", e),
    }
}

/// Declining says nothing to the one who asked; a request already gone is no error here.
async fn decline_contact(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<ContactForm>,
) -> Redirect {
    let Some(user) = sessions::current_user(&session, &state.db).await else {
        return Redirect::to("/login");
    };
    let declined = contacts::decline(&state.db, &user, form.contact_id.trim()).await;
    home_unless_failed("decline contact", declined)
}

async fn remove_contact(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<ContactForm>,
) -> Redirect {
    let Some(owner) = sessions::current_user(&session, &state.db).await else {
        return Redirect::to("/login");
    };
    let removed = contacts::remove(&state.db, &owner, form.contact_id.trim()).await;
    home_unless_failed("remove contact", removed)
}

/// Home, whatever `done` found; back with an internal error if the database failed.
fn home_unless_failed<T>(what: &str, done: Result<T, sqlx::Error>) -> Redirect {
    match done {
        Ok(_) => Redirect::to("/"),
        Err(e) => {
            report(what, &e);
            back("/", FormError::Internal, None)
        }
    }
}

async fn block(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<BlockForm>,
) -> Redirect {
    let Some(owner) = sessions::current_user(&session, &state.db).await else {
        return Redirect::to("/login");
    };
    match blocks::block(&state.db, &owner, form.user_id.trim(), unix_now()).await {
        Ok(()) => Redirect::to(form.back()),
        Err(e) => {
            let error = match e {
                blocks::BlockError::Storage(s) => {
                    report("block", &s);
                    FormError::Internal
                }
                blocks::BlockError::InvalidUserId => FormError::UserIdChars,
                blocks::BlockError::Yourself => FormError::BlockSelf,
                blocks::BlockError::TooMany => FormError::BlockedTooMany,
            };
            back(form.back(), error, None)
        }
    }
}

async fn unblock(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<BlockForm>,
) -> Redirect {
    let Some(owner) = sessions::current_user(&session, &state.db).await else {
        return Redirect::to("/login");
    };
    match blocks::unblock(&state.db, &owner, form.user_id.trim()).await {
        Ok(()) => Redirect::to(form.back()),
        Err(e) => {
            report("unblock", &e);
            back(form.back(), FormError::Internal, None)
        }
    }
}
