//! The account page's forms: change the password, sign out everywhere, delete the account.
//! Each ends the user's other sessions, sigs and signaling connection (see `self_service`).
//! The password forms count failures with sign-in's throttle, so a stolen session cannot be
//! used to guess the password either.

use std::time::Instant;

use app::{
    forms::{Deletion, PasswordChange},
    rules::FormError,
};
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::post,
    Form, Router,
};
use tower_sessions::Session;

use super::{back, report, retry_later, sign_ins, too_many_guesses};
use crate::{
    accounts::AccountError, db::unix_now, peer::ClientIp, self_service, sessions, state::AppState,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/account/password", post(change_password))
        .route("/account/sign-out-everywhere", post(sign_out_everywhere))
        .route("/account/delete", post(delete))
}

const PAGE: &str = "/account";

/// Runs `work` (which checks the password) under the sign-in throttle for `user` at `ip`.
async fn throttled<F>(state: &AppState, user: &str, ip: ClientIp, work: F) -> Result<(), Response>
where
    F: std::future::Future<Output = Result<(), AccountError>>,
{
    let checked = sign_ins(state).check(Instant::now(), user, ip);
    if let Err(t) = checked {
        return Err(too_many_guesses(t.retry_after, PAGE, user).await);
    }
    match work.await {
        Ok(()) => Ok(()),
        Err(AccountError::BadCredentials) => {
            sign_ins(state).failed(Instant::now(), user, ip);
            Err(back(PAGE, FormError::WrongPassword, None).into_response())
        }
        Err(AccountError::Busy) => Err(retry_later(
            StatusCode::SERVICE_UNAVAILABLE,
            super::BUSY_RETRY,
            PAGE,
            FormError::Busy,
            user,
        )),
        Err(e) => {
            if e.is_internal() {
                report(PAGE, &e);
            }
            Err(back(PAGE, e.into(), None).into_response())
        }
    }
}

async fn change_password(
    State(state): State<AppState>,
    ip: ClientIp,
    session: Session,
    Form(form): Form<PasswordChange>,
) -> Response {
    let Some(user) = sessions::current_user(&session, &state.db).await else {
        return Redirect::to("/login").into_response();
    };
    let work = self_service::change_password(
        &state.accounts,
        &state.db,
        &user,
        &form.current_password,
        &form.new_password,
        unix_now(),
    );
    if let Err(refused) = throttled(&state, &user, ip, work).await {
        return refused;
    }
    state.signaling.hub.sign_out(&user);
    // Every session ended with the change; this browser starts a new one.
    if let Err(e) = sessions::sign_in(&session, &user).await {
        report("starting a session", &e);
        return Redirect::to("/login").into_response();
    }
    Redirect::to("/account?done=password").into_response()
}

async fn sign_out_everywhere(State(state): State<AppState>, session: Session) -> Redirect {
    let Some(user) = sessions::current_user(&session, &state.db).await else {
        return Redirect::to("/login");
    };
    let revoked = async {
        self_service::revoke_sessions(&state.db, &user, self_service::unix_now_ms()).await?;
        self_service::revoke_sigs(&state.db, &user, unix_now()).await
    };
    if let Err(e) = revoked.await {
        report("signing out everywhere", &e);
        return back(PAGE, FormError::Internal, None);
    }
    state.signaling.hub.sign_out(&user);
    let _ = sessions::sign_out(&session).await;
    Redirect::to("/login")
}

async fn delete(
    State(state): State<AppState>,
    ip: ClientIp,
    session: Session,
    Form(form): Form<Deletion>,
) -> Response {
    let Some(user) = sessions::current_user(&session, &state.db).await else {
        return Redirect::to("/login").into_response();
    };
    let work = self_service::delete_account(
        &state.accounts,
        &state.db,
        &user,
        &form.password,
        unix_now(),
    );
    if let Err(refused) = throttled(&state, &user, ip, work).await {
        return refused;
    }
    state.signaling.hub.sign_out(&user);
    let _ = sessions::sign_out(&session).await;
    Redirect::to("/login?notice=deleted").into_response()
}
