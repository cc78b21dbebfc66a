//! The site's pages.

pub mod auth;
pub mod home;

use leptos::prelude::*;
use leptos_meta::Title;

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
