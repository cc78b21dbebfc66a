//! The signed-in home page: the contact list.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use super::{
    call::CallSession,
    groups::{GroupBar, GroupList, Picking},
    use_form_error, FormAlert,
};
use crate::{
    api::{load_home, Contact, HomeData},
    protocol::{CallType, Presence},
};

#[component]
pub fn HomePage() -> impl IntoView {
    let data = Resource::new(|| (), |_| load_home());
    view! {
        <Title text="Contacts · Calling"/>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(Some(home)) => view! { <Home home/> }.into_any(),
                    Ok(None) => view! { <Redirect path="/login"/> }.into_any(),
                    Err(e) => {
                        view! {
                            <main class="page">
                                <p class="form-error" role="alert">{e.to_string()}</p>
                            </main>
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn Home(home: HomeData) -> impl IntoView {
    view! {
        <TopBar user_id=home.user_id.clone() missed=home.missed/>
        <main class="page">
            <RequestList requests=home.requests/>
            <ContactList contacts=home.contacts/>
            <BlockedList blocked=home.blocked/>
        </main>
    }
}

/// Who asked to be the user's contact: accept, decline (they are not told) or block.
#[component]
fn RequestList(requests: Vec<String>) -> impl IntoView {
    (!requests.is_empty()).then(|| {
        view! {
            <section class="requests" aria-labelledby="requests-heading">
                <h2 id="requests-heading">"Contact requests"</h2>
                <p class="hint">"Once you accept, each of you sees when the other is online."</p>
                <ul class="contact-list" aria-label="Contact requests">
                    {requests
                        .into_iter()
                        .map(|id| {
                            let accept_label = format!("Accept {id}");
                            let decline_label = format!("Decline {id}");
                            view! {
                                <li class="contact">
                                    <span class="avatar" aria-hidden="true">{initials(&id)}</span>
                                    <div class="who">
                                        <span class="name">{id.clone()}</span>
                                        <span class="meta">"Wants to add you"</span>
                                    </div>
                                    <form method="post" action="/contacts/accept">
                                        <input type="hidden" name="contact_id" value=id.clone()/>
                                        <button type="submit" class="primary small" aria-label=accept_label>
                                            "Accept"
                                        </button>
                                    </form>
                                    <form method="post" action="/contacts/decline">
                                        <input type="hidden" name="contact_id" value=id.clone()/>
                                        <button type="submit" class="ghost small" aria-label=decline_label>
                                            "Decline"
                                        </button>
                                    </form>
                                    <BlockButton user=id back="/"/>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </section>
        }
    })
}

/// Whom the user blocked, each with a way back.
#[component]
fn BlockedList(blocked: Vec<String>) -> impl IntoView {
    (!blocked.is_empty()).then(|| {
        view! {
            <section class="blocked" aria-labelledby="blocked-heading">
                <h2 id="blocked-heading">"Blocked"</h2>
                <p class="hint">"Their calls never reach you; to them you look offline."</p>
                <ul class="contact-list" aria-label="Blocked users">
                    {blocked
                        .into_iter()
                        .map(|id| {
                            let label = format!("Unblock {id}");
                            view! {
                                <li class="contact">
                                    <span class="avatar" aria-hidden="true">{initials(&id)}</span>
                                    <div class="who"><span class="name">{id.clone()}</span></div>
                                    <form method="post" action="/blocks/remove">
                                        <input type="hidden" name="user_id" value=id/>
                                        <button type="submit" class="ghost small" aria-label=label>
                                            "Unblock"
                                        </button>
                                    </form>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </section>
        }
    })
}

/// A form button that blocks `user`, then comes back to `back`.
#[component]
pub fn BlockButton(user: String, back: &'static str) -> impl IntoView {
    let label = format!("Block {user}");
    view! {
        <form method="post" action="/blocks/add">
            <input type="hidden" name="user_id" value=user/>
            <input type="hidden" name="back" value=back/>
            <button type="submit" class="ghost small" aria-label=label>"Block"</button>
        </form>
    }
}

/// The bar across every signed-in page: who you are and how to leave.
#[component]
pub fn TopBar(user_id: String, #[prop(optional)] missed: u32) -> impl IntoView {
    let session = expect_context::<CallSession>();
    view! {
        <header class="topbar">
            <a class="brand" href="/">"Calling"</a>
            <nav aria-label="Main">
                <a href="/">"Contacts"</a>
                <a href="/history">
                    "History"
                    {move || {
                        let n = missed + session.missed.get();
                        (n > 0).then(|| view! { <span class="badge" aria-label=format!("{n} missed")>{n}</span> })
                    }}
                </a>
            </nav>
            <div class="me">
                <span class="avatar" aria-hidden="true">{initials(&user_id)}</span>
                <span class="who">"Signed in as " <a href="/account" aria-label="Account"><strong>{user_id}</strong></a></span>
                <form method="post" action="/auth/logout">
                    <button type="submit" class="ghost">"Sign out"</button>
                </form>
            </div>
        </header>
    }
    .into_any()
}

#[component]
fn ContactList(contacts: Vec<Contact>) -> impl IntoView {
    let error = use_form_error();
    let count = contacts.len();
    let picking = Picking::new();
    provide_context(picking);
    view! {
        <section class="contacts" aria-labelledby="contacts-heading">
            <div class="section-head">
                <h1 id="contacts-heading">"Contacts"</h1>
                <span class="count">{count_label(count)}</span>
            </div>
            <form method="post" action="/contacts/add" class="add-contact">
                <label for="contact_id">"Add a contact by user ID"</label>
                <div class="row">
                    <input
                        id="contact_id"
                        name="contact_id"
                        type="text"
                        autocomplete="off"
                        autocapitalize="none"
                        spellcheck="false"
                        required
                    />
                    <button type="submit" class="primary">"Add contact"</button>
                </div>
            </form>
            <FormAlert message=error/>
            {(count >= FILTER_FROM).then(|| view! {
                <input type="search" class="filter" aria-label="Filter contacts" placeholder="Filter contacts"
                    on:input=move |e| picking.filter.set(event_target_value(&e))/>
            })}
            <GroupBar/>
            {if contacts.is_empty() {
                view! {
                    <p class="empty">"No contacts yet. Add someone by their user ID to call them."</p>
                }
                    .into_any()
            } else {
                view! {
                    <ul class="contact-list" aria-label="Your contacts">
                        {contacts
                            .into_iter()
                            .map(|c| view! { <ContactRow contact=c/> })
                            .collect_view()}
                    </ul>
                }
                    .into_any()
            }}
            <GroupList/>
        </section>
    }
    .into_any()
}

/// A list this long gets a filter box.
const FILTER_FROM: usize = 6;

#[component]
fn ContactRow(contact: Contact) -> impl IntoView {
    let session = expect_context::<CallSession>();
    let id = contact.user_id;
    let accepted = contact.accepted;
    let remove_label = if accepted {
        format!("Remove {id}")
    } else {
        format!("Withdraw request to {id}")
    };
    let audio_label = format!("Audio call {id}");
    let video_label = format!("Video call {id}");
    let who = id.clone();
    // A request shows as sent until the server tells this contact's presence, which it does
    // once they accept, this page open or not.
    let status = Memo::new(move |_| match session.known_presence_of(&who) {
        Some(Presence::Online) => "Online",
        Some(Presence::InCall) => "In a call",
        None if !accepted => "Request sent",
        Some(Presence::Offline) | None => "Offline",
    });
    let (a, v) = (id.clone(), id.clone());
    let picking = expect_context::<Picking>();
    let (shown, picked) = (id.clone(), id.clone());
    let select_label = format!("Select {id}");
    view! {
        <li class="contact" style:display=move || if picking.shows(&shown) { "" } else { "none" }>
            <input type="checkbox" class="pick" aria-label=select_label
                on:change=move |e| picking.toggle(&picked, event_target_checked(&e))/>
            <span class="avatar" aria-hidden="true">
                {initials(&id)}
                <span class=move || format!("dot {}", status.get().to_lowercase().replace(" ", "-"))></span>
            </span>
            <div class="who">
                <span class="name">{id.clone()}</span>
                <span class="meta presence">{status}</span>
            </div>
            <button type="button" class="icon-button" aria-label=audio_label
                on:click=move |_| session.call(vec![a.clone()], CallType::Audio)>"Audio"</button>
            <button type="button" class="icon-button" aria-label=video_label
                on:click=move |_| session.call(vec![v.clone()], CallType::Video)>"Video"</button>
            <form method="post" action="/contacts/remove">
                <input type="hidden" name="contact_id" value=id.clone()/>
                <button type="submit" class="ghost small" aria-label=remove_label>
                    {if accepted { "Remove" } else { "Withdraw" }}
                </button>
            </form>
            <BlockButton user=id back="/"/>
        </li>
    }
}

fn count_label(n: usize) -> String {
    match n {
        1 => "1 contact".to_string(),
        n => format!("{n} contacts"),
    }
}

/// Up to two letters for an avatar: the first character and the first after a separator.
pub fn initials(user_id: &str) -> String {
    let mut out = String::new();
    let mut take_next = true;
    for c in user_id.chars() {
        if c == '-' || c == '_' {
            take_next = true;
            continue;
        }
        if take_next && out.len() < 2 {
            out.push(c.to_ascii_uppercase());
        }
        take_next = false;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::initials;

    #[test]
    fn initials_take_word_starts() {
        assert_eq!(initials("alice"), "A");
        assert_eq!(initials("mary-jane"), "MJ");
        assert_eq!(initials("a_b_c"), "AB");
        assert_eq!(initials("_x"), "X");
        assert_eq!(initials(""), "");
    }
}
