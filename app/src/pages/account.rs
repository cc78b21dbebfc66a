//! The account page: change the password, sign out everywhere, delete the account. Plain forms
//! that post to the server, like sign-in; each asks for the password where a stolen session
//! alone must not be enough.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Redirect, hooks::use_query_map};

use super::{home::TopBar, use_form_error, FormAlert};
use crate::{api::load_home, rules::PASSWORD_MIN};

#[component]
pub fn AccountPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| load_home());
    view! {
        <Title text="Account · Calling"/>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(Some(home)) => view! { <Account user_id=home.user_id/> }.into_any(),
                    Ok(None) => view! { <Redirect path="/login"/> }.into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Account(user_id: String) -> impl IntoView {
    let error = use_form_error();
    let query = use_query_map();
    let done = move || {
        (query.read().get("done").as_deref() == Some("password"))
            .then(|| view! { <p class="notice" role="status">"Password changed. Every other browser is signed out."</p> })
    };
    let hint = format!("At least {PASSWORD_MIN} characters.");
    view! {
        <TopBar user_id=user_id.clone()/>
        <main class="page account">
            <h1>"Account"</h1>
            <FormAlert message=error/>
            {done}
            <section class="card" aria-labelledby="password-heading">
                <h2 id="password-heading">"Change password"</h2>
                <form method="post" action="/account/password" class="stack">
                    <input type="text" name="username" autocomplete="username" value=user_id hidden/>
                    <label for="current_password">"Current password"</label>
                    <input id="current_password" name="current_password" type="password"
                        autocomplete="current-password" required/>
                    <label for="new_password">"New password"</label>
                    <input id="new_password" name="new_password" type="password"
                        autocomplete="new-password" required aria-describedby="new-password-hint"/>
                    <p id="new-password-hint" class="hint">{hint}</p>
                    <button type="submit" class="primary">"Change password"</button>
                </form>
            </section>
            <section class="card" aria-labelledby="everywhere-heading">
                <h2 id="everywhere-heading">"Sign out everywhere"</h2>
                <p class="hint">"Every browser signed in as you is signed out, and calls in progress end."</p>
                <form method="post" action="/account/sign-out-everywhere">
                    <button type="submit" class="ghost">"Sign out everywhere"</button>
                </form>
            </section>
            <section class="card danger" aria-labelledby="delete-heading">
                <h2 id="delete-heading">"Delete account"</h2>
                <p class="hint">"Your contacts, groups and call history are deleted with it. This cannot be undone."</p>
                <form method="post" action="/account/delete" class="stack">
                    <label for="delete_password">"Password"</label>
                    <input id="delete_password" name="password" type="password"
                        autocomplete="current-password" required/>
                    <button type="submit" class="danger">"Delete my account"</button>
                </form>
            </section>
        </main>
    }
}
