//! Sign-up and sign-in. Both are plain HTML forms that post to the server, so they work the same
//! before the Wasm has loaded, with password managers, and without JavaScript at all.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{use_form_error, FormAlert};
use crate::rules::{PASSWORD_MIN, USER_ID_MAX};

#[component]
pub fn LoginPage() -> impl IntoView {
    view! {
        <Title text="Sign in · Calling"/>
        <AuthForm
            heading="Sign in"
            action="/auth/login"
            submit="Sign in"
            password_autocomplete="current-password"
            other_text="New here?"
            other_href="/register"
            other_label="Create an account"
        />
    }
}

#[component]
pub fn RegisterPage() -> impl IntoView {
    view! {
        <Title text="Create account · Calling"/>
        <AuthForm
            heading="Create your account"
            action="/auth/register"
            submit="Create account"
            password_autocomplete="new-password"
            other_text="Already have an account?"
            other_href="/login"
            other_label="Sign in"
        />
    }
}

#[component]
fn AuthForm(
    heading: &'static str,
    action: &'static str,
    submit: &'static str,
    password_autocomplete: &'static str,
    other_text: &'static str,
    other_href: &'static str,
    other_label: &'static str,
) -> impl IntoView {
    let query = use_query_map();
    let error = use_form_error();
    let user = move || query.read().get("user").unwrap_or_default();
    let notice = move || {
        (query.read().get("notice").as_deref() == Some("deleted")).then(|| {
            view! { <p class="notice" role="status">"Your account and everything in it were deleted."</p> }
        })
    };
    let hint = format!(
        "Up to {USER_ID_MAX} letters, digits, hyphens and underscores. Passwords need at least {PASSWORD_MIN} characters."
    );
    view! {
        <main class="auth">
            <section class="card" aria-labelledby="auth-heading">
                <p class="brand">"Calling"</p>
                <h1 id="auth-heading">{heading}</h1>
                <form method="post" action=action class="stack">
                    <label for="user_id">"User ID"</label>
                    <input
                        id="user_id"
                        name="user_id"
                        type="text"
                        autocomplete="username"
                        autocapitalize="none"
                        spellcheck="false"
                        required
                        value=user
                        aria-describedby="auth-hint"
                    />
                    <label for="password">"Password"</label>
                    <input
                        id="password"
                        name="password"
                        type="password"
                        autocomplete=password_autocomplete
                        required
                    />
                    <p id="auth-hint" class="hint">{hint}</p>
                    <FormAlert message=error/>
                    {notice}
                    <button type="submit" class="primary">{submit}</button>
                </form>
                <p class="switch">{other_text} " " <a href=other_href>{other_label}</a></p>
            </section>
        </main>
    }
}
