//! Calling several contacts at once: pick them from the list, call them, or save them as a
//! named group to call again later.

use leptos::prelude::*;

use super::call::CallSession;
use crate::protocol::{CallType, GroupInfo};

/// The contact list's selection and filter, shared by its rows.
#[derive(Clone, Copy)]
pub struct Picking {
    pub picked: RwSignal<Vec<String>>,
    pub filter: RwSignal<String>,
}

impl Picking {
    pub fn new() -> Self {
        Self {
            picked: RwSignal::new(Vec::new()),
            filter: RwSignal::new(String::new()),
        }
    }

    pub fn toggle(&self, id: &str, on: bool) {
        self.picked.update(|p| {
            p.retain(|x| x != id);
            if on {
                p.push(id.to_owned());
            }
        });
    }

    pub fn shows(&self, id: &str) -> bool {
        self.filter
            .with(|f| id.to_lowercase().contains(&f.trim().to_lowercase()))
    }
}

impl Default for Picking {
    fn default() -> Self {
        Self::new()
    }
}

/// Appears once two or more contacts are picked.
#[component]
pub fn GroupBar() -> impl IntoView {
    let session = expect_context::<CallSession>();
    let picking = expect_context::<Picking>();
    let name = RwSignal::new(String::new());
    let call = move |call_type| session.call(picking.picked.get_untracked(), call_type);
    view! {
        <Show when=move || picking.picked.with(|p| p.len() >= 2)>
            <div class="group-bar" role="region" aria-label="Selected contacts">
                <span class="count">{move || format!("{} selected", picking.picked.with(Vec::len))}</span>
                <button type="button" class="icon-button" on:click=move |_| call(CallType::Audio)>"Group audio call"</button>
                <button type="button" class="icon-button" on:click=move |_| call(CallType::Video)>"Group video call"</button>
                <form class="save-group" on:submit=move |e| {
                    e.prevent_default();
                    let n = name.get_untracked();
                    if !n.trim().is_empty() {
                        session.create_group(n, picking.picked.get_untracked());
                        name.set(String::new());
                        picking.picked.set(Vec::new());
                    }
                }>
                    <input type="text" aria-label="Group name" placeholder="Group name" maxlength="64"
                        prop:value=move || name.get()
                        on:input=move |e| name.set(event_target_value(&e))/>
                    <button type="submit" class="ghost small">"Save as group"</button>
                </form>
            </div>
        </Show>
    }
    .into_any()
}

/// The user's named groups, each one a button away from a call.
#[component]
pub fn GroupList() -> impl IntoView {
    let session = expect_context::<CallSession>();
    view! {
        <Show when=move || session.groups.with(|g| !g.is_empty())>
            <section class="groups" aria-labelledby="groups-heading">
                <h2 id="groups-heading">"Groups"</h2>
                <ul class="contact-list" aria-label="Your groups">
                    <For each=move || session.groups.get() key=|g| g.group_id.clone() let:group>
                        <GroupRow group/>
                    </For>
                </ul>
            </section>
        </Show>
    }
    .into_any()
}

#[component]
fn GroupRow(group: GroupInfo) -> impl IntoView {
    let session = expect_context::<CallSession>();
    let audio_label = format!("Audio call group {}", group.name);
    let video_label = format!("Video call group {}", group.name);
    let (a, v) = (group.clone(), group.clone());
    view! {
        <li class="contact">
            <span class="avatar" aria-hidden="true">{super::home::initials(&group.name)}</span>
            <div class="who">
                <span class="name">{group.name.clone()}</span>
                <span class="meta">{group.user_ids.join(", ")}</span>
            </div>
            <button type="button" class="icon-button" aria-label=audio_label
                on:click=move |_| session.call_group(&a, CallType::Audio)>"Audio"</button>
            <button type="button" class="icon-button" aria-label=video_label
                on:click=move |_| session.call_group(&v, CallType::Video)>"Video"</button>
        </li>
    }
}
