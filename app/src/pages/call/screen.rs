//! The call screen: remote videos in a grid, the local preview in a corner, a timer, controls.

use leptos::prelude::*;

use super::{CallSession, CallView, Member};

use crate::{pages::home::initials, protocol::CallType};

#[component]
pub fn CallScreen() -> impl IntoView {
    let session = expect_context::<CallSession>();
    let members = Memo::new(move |_| match session.view.get() {
        CallView::InCall { members, .. } => members,
        _ => Vec::new(),
    });
    let video =
        Memo::new(move |_| matches!(session.view.get(), CallView::InCall { video: true, .. }));
    let count = move || members.with(Vec::len).max(1);
    let names = move || {
        members.with(|m| {
            m.iter()
                .map(|m| m.user_id.clone())
                .collect::<Vec<_>>()
                .join(", ")
        })
    };

    let seconds = RwSignal::new(0u64);
    #[cfg(feature = "hydrate")]
    {
        let tick = set_interval_with_handle(
            move || seconds.update(|s| *s += 1),
            std::time::Duration::from_secs(1),
        )
        .ok();
        Effect::new(move |_| session.start_local_view("local-preview"));
        on_cleanup(move || {
            session.stop_local_view("local-preview");
            if let Some(t) = tick {
                t.clear();
            }
        });
    }
    let timer = move || {
        let s = seconds.get();
        format!("{:02}:{:02}", s / 60, s % 60)
    };

    view! {
        <section class="call-screen" aria-label="Call">
            <header class="call-head">
                <span class="call-with">{names}</span>
                <span class="timer" aria-label="Call duration">{timer}</span>
            </header>
            <div class="grid" style=move || format!("--count: {}", count())>
                <For each=move || members.get() key=|m| m.user_id.clone() let:member>
                    <Tile user=member.user_id video=video/>
                </For>
            </div>
            <div class="local-preview" class:hidden=move || !video.get() || !session.camera.get()>
                <div id="local-preview" class="video"></div>
                <span class="label">"You"</span>
            </div>
            <Controls video=video/>
        </section>
    }
    .into_any()
}

/// One participant: their video, or their initials when the camera is off or the call is
/// audio only, with their name and a marker when their microphone is off.
#[component]
fn Tile(user: String, video: Memo<bool>) -> impl IntoView {
    let session = expect_context::<CallSession>();
    let name = user.clone();
    let state = Memo::new(move |_| match session.view.get() {
        CallView::InCall { members, .. } => members.into_iter().find(|m| m.user_id == name),
        _ => None,
    });
    let dom_id = format!("tile-{user}");
    #[cfg(feature = "hydrate")]
    {
        let (u, d) = (user.clone(), dom_id.clone());
        Effect::new(move |_| session.start_remote_view(&u, &d));
        let (u, d) = (user.clone(), dom_id.clone());
        on_cleanup(move || session.stop_remote_view(&u, &d));
    }
    let camera_on = move || video.get() && state.get().is_some_and(|m: Member| m.video);
    let muted = move || state.get().is_some_and(|m| !m.audio);
    let speaking = move || state.get().is_some_and(|m| m.speaking);
    let reconnecting = move || state.get().is_some_and(|m| m.reconnecting);
    let quality = move || state.get().and_then(|m| m.quality);
    let muted_label = format!("{user} is muted");
    view! {
        <figure class="tile" class:speaking=speaking aria-label=user.clone()>
            <div id=dom_id class="video" class:hidden=move || !camera_on()></div>
            <div class="placeholder" class:hidden=camera_on aria-hidden="true">
                <span class="avatar huge">{initials(&user)}</span>
            </div>
            <Show when=reconnecting>
                <div class="reconnecting" role="status">"Reconnecting…"</div>
            </Show>
            <figcaption>
                <span class="name">{user.clone()}</span>
                {move || quality().map(|q| view! {
                    <span class=format!("quality-bars {q}") role="img" aria-label=format!("Connection {q}")>
                        <i></i><i></i><i></i>
                    </span>
                })}
                <Show when=speaking>
                    <span class="sr-only">"speaking"</span>
                </Show>
                <Show when=muted>
                    <span class="muted-marker" role="img" aria-label=muted_label.clone()>"Muted"</span>
                </Show>
            </figcaption>
        </figure>
    }
    .into_any()
}

/// A list of one kind of device; picking one switches to it in the running call.
#[component]
fn DevicePicker(kind: &'static str, label: &'static str) -> impl IntoView {
    let session = expect_context::<CallSession>();
    // Labels appear once the page may use the devices, which it now can.
    Effect::new(move |_| session.refresh_devices());
    let options = move || {
        session
            .devices
            .get()
            .into_iter()
            .filter(|d| d.kind == kind)
            .enumerate()
            .map(|(i, d)| {
                let text = if d.label.is_empty() {
                    format!("{label} {}", i + 1)
                } else {
                    d.label
                };
                view! { <option value=d.id>{text}</option> }
            })
            .collect_view()
    };
    view! {
        <label class="quality">
            <span>{label}</span>
            <select on:change=move |e| session.use_device(kind, event_target_value(&e))>{options}</select>
        </label>
    }
    .into_any()
}

#[component]
fn Controls(video: Memo<bool>) -> impl IntoView {
    let session = expect_context::<CallSession>();
    let one_to_one = move || matches!(session.view.get(), CallView::InCall { ref members, .. } if members.len() == 1);
    view! {
        <div class="controls" role="toolbar" aria-label="Call controls">
            <button
                class="round"
                class:off=move || session.muted.get()
                aria-pressed=move || session.muted.get().to_string()
                on:click=move |_| session.toggle_mute()
            >
                {move || if session.muted.get() { "Unmute" } else { "Mute" }}
            </button>
            <Show when=move || video.get()>
                <button
                    class="round"
                    class:off=move || !session.camera.get()
                    on:click=move |_| session.toggle_camera()
                >
                    {move || if session.camera.get() { "Camera off" } else { "Camera on" }}
                </button>
            </Show>
            <Show when=one_to_one>
                <button class="round" on:click=move |_| {
                    let to = if video.get_untracked() { CallType::Audio } else { CallType::Video };
                    session.switch_type(to);
                }>
                    {move || if video.get() { "Switch to audio" } else { "Switch to video" }}
                </button>
            </Show>
            <details class="settings">
                <summary>"Devices and quality"</summary>
                <div class="settings-body">
                    <DevicePicker kind="videoinput" label="Camera"/>
                    <DevicePicker kind="audioinput" label="Microphone"/>
                    <Show when=move || session.can_choose_speaker.get()>
                        <DevicePicker kind="audiooutput" label="Speaker"/>
                    </Show>
                    <label class="quality">
                        <span>"Quality"</span>
                        <select on:change=move |e| session.set_quality(&event_target_value(&e))>
                            <option value="480p" selected>"480p"</option>
                            <option value="720p">"720p"</option>
                            <option value="1080p">"1080p"</option>
                        </select>
                    </label>
                </div>
            </details>
            <button class="round danger" on:click=move |_| session.hangup()>"Hang up"</button>
        </div>
    }
    .into_any()
}
