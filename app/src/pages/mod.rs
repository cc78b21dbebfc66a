//! The site's pages.

pub mod account;
pub mod auth;
pub mod call;
pub mod groups;
pub mod history;
pub mod home;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::rules::FormError;

/// The message for the `?error=<code>` a form's redirect carried back, if any.
pub fn use_form_error() -> Signal<Option<String>> {
    let query = use_query_map();
    Signal::derive(move || {
        query.read().get("error").map(|code| {
            FormError::from_code(&code)
                .unwrap_or(FormError::Internal)
                .to_string()
        })
    })
}

/// A small notice for a failed form, announced to screen readers.
#[component]
pub fn FormAlert(#[prop(into)] message: Signal<Option<String>>) -> impl IntoView {
    move || {
        message
            .get()
            .map(|m| view! { <p class="form-error" role="alert">{m}</p> })
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found · Calling"/>
        <main class="auth">
            <section class="card">
                <h1>"Page not found"</h1>
                <p><a href="/">"Back to your contacts"</a></p>
            </section>
        </main>
    }
}
