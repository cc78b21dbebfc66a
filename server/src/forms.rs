//! The HTML forms' endpoints. Each answers with a redirect: to the next page on success, or
//! back to the form with `?error=<code>` so the page can say what went wrong.

use app::rules::FormError;
use axum::{extract::State, response::Redirect, routing::post, Form, Router};
use serde::Deserialize;
use tower_sessions::Session;

use crate::{accounts::AccountError, contacts, db::unix_now, sessions, state::AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/register", post(register))
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
        .route("/contacts/add", post(add_contact))
        .route("/contacts/remove", post(remove_contact))
}

/// Missing fields read as empty, so they get the rule's message instead of a bare 422.
#[derive(Deserialize)]
struct Credentials {
    #[serde(default)]
    user_id: String,
    #[serde(default)]
    password: String,
}

#[derive(Deserialize)]
struct ContactForm {
    #[serde(default)]
    contact_id: String,
}

/// Back to `path` with the error, keeping what the user typed in the ID field.
fn back(path: &str, error: FormError, user: Option<&str>) -> Redirect {
    let mut query = vec![("error", error.code())];
    if let Some(user) = user {
        // Echo a bounded amount: the field is for correcting a typo, not for storing essays.
        let end = user.char_indices().nth(64).map_or(user.len(), |(i, _)| i);
        query.push(("user", &user[..end]));
    }
    let query = serde_urlencoded::to_string(query).unwrap_or_default();
    Redirect::to(&format!("{path}?{query}"))
}

fn report(context: &str, error: &dyn std::fmt::Display) {
    tracing::error!("{context}: {error}");
}

async fn register(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<Credentials>,
) -> Redirect {
    let user_id = form.user_id.trim();
    let result = state
        .accounts
        .register(user_id, &form.password, unix_now())
        .await;
    enter(&session, "/register", user_id, result).await
}

async fn login(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<Credentials>,
) -> Redirect {
    let user_id = form.user_id.trim();
    let result = state.accounts.authenticate(user_id, &form.password).await;
    enter(&session, "/login", user_id, result).await
}

/// After registering or signing in: home with a fresh session, or back to the form.
async fn enter(
    session: &Session,
    form_path: &str,
    user_id: &str,
    result: Result<(), AccountError>,
) -> Redirect {
    if let Err(e) = result {
        if e.is_internal() {
            report(form_path, &e);
        }
        return back(form_path, e.into(), Some(user_id));
    }
    if let Err(e) = sessions::sign_in(session, user_id).await {
        report("starting a session", &e);
        return back("/login", FormError::Internal, Some(user_id));
    }
    Redirect::to("/")
}

async fn logout(session: Session) -> Redirect {
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
    let Some(owner) = sessions::current_user(&session).await else {
        return Redirect::to("/login");
    };
    match contacts::add(&state.db, &owner, form.contact_id.trim(), unix_now()).await {
        Ok(()) => Redirect::to("/"),
        Err(e) => {
            if let contacts::ContactError::Storage(s) = &e {
                report("add contact", s);
            }
            back("/", e.into(), None)
        }
    }
}

async fn remove_contact(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<ContactForm>,
) -> Redirect {
    let Some(owner) = sessions::current_user(&session).await else {
        return Redirect::to("/login");
    };
    match contacts::remove(&state.db, &owner, form.contact_id.trim()).await {
        Ok(_) => Redirect::to("/"),
        Err(e) => {
            report("remove contact", &e);
            back("/", FormError::Internal, None)
        }
    }
}
