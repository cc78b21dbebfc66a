//! What shows over any page when a call needs attention.

use leptos::{html, prelude::*};

use super::{screen::CallScreen, CallSession, CallView};
use crate::pages::home::initials;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Shown {
    Nothing,
    Incoming,
    Outgoing,
    InCall,
}

#[component]
pub fn CallLayer() -> impl IntoView {
    let session = expect_context::<CallSession>();
    // Effects run only in the browser, once the page is live.
    Effect::new(move |_| session.start());
    let shown = Memo::new(move |_| match session.view.get() {
        CallView::Idle => Shown::Nothing,
        CallView::Incoming { .. } => Shown::Incoming,
        CallView::Outgoing { outcome: _, .. } => Shown::Outgoing,
        CallView::InCall { .. } => Shown::InCall,
    });
    view! {
        {move || match shown.get() {
            Shown::Nothing => ().into_any(),
            Shown::Incoming => view! { <IncomingDialog/> }.into_any(),
            Shown::Outgoing => view! { <OutgoingScreen/> }.into_any(),
            Shown::InCall => view! { <CallScreen/> }.into_any(),
        }}
        <Show when=move || session.kicked.get()>
            <div class="overlay">
                <div class="dialog" role="alertdialog" aria-modal="true" aria-labelledby="kicked-title">
                    <h2 id="kicked-title">"You signed in somewhere else"</h2>
                    <p>"Calls now ring there. This tab will not ring until you use it again."</p>
                    <div class="actions">
                        <button class="primary" on:click=move |_| {
                            session.kicked.set(false);
                            session.reconnect();
                        }>"Use this tab"</button>
                    </div>
                </div>
            </div>
        </Show>
        <div class="toast-region" aria-live="polite">
            {move || session.notice.get().map(|n| view! {
                <div class="toast" role="status">
                    <span>{n}</span>
                    <button class="ghost small" aria-label="Dismiss" on:click=move |_| session.notice.set(None)>"×"</button>
                </div>
            })}
        </div>
    }
}

#[component]
fn IncomingDialog() -> impl IntoView {
    let session = expect_context::<CallSession>();
    let CallView::Incoming {
        sponsor,
        video,
        others,
        timeout,
        ..
    } = session.view.get_untracked()
    else {
        return ().into_any();
    };
    let left = RwSignal::new(timeout);
    let accept_ref = NodeRef::<html::Button>::new();
    #[cfg(feature = "hydrate")]
    ring_while_shown(left, accept_ref);
    let kind = if video {
        "Incoming video call"
    } else {
        "Incoming audio call"
    };
    let with = if others.is_empty() {
        String::new()
    } else {
        format!(" with {}", others.join(", "))
    };
    view! {
        <div class="overlay">
            <div
                class="dialog incoming"
                role="alertdialog"
                aria-modal="true"
                aria-labelledby="incoming-title"
                aria-describedby="incoming-kind"
                on:keydown=move |e| {
                    if e.key() == "Escape" {
                        session.decline();
                    }
                }
            >
                <span class="avatar big" aria-hidden="true">{initials(&sponsor)}</span>
                <h2 id="incoming-title">{sponsor.clone()}</h2>
                <p id="incoming-kind">{kind}{with}</p>
                // A call without a timeout rings until it is answered or cancelled.
                {(timeout > 0).then(|| view! {
                    <p class="countdown">{move || format!("Stops ringing in {} s", left.get())}</p>
                })}
                <div class="actions">
                    <button class="danger" on:click=move |_| session.decline()>"Decline"</button>
                    <button class="accept" node_ref=accept_ref on:click=move |_| session.accept()>"Accept"</button>
                </div>
            </div>
        </div>
    }
    .into_any()
}

/// While the dialog is up: the ringtone, the countdown, and focus on Accept.
#[cfg(feature = "hydrate")]
fn ring_while_shown(left: RwSignal<u32>, accept_ref: NodeRef<html::Button>) {
    use leptos::prelude::set_interval_with_handle;
    let ringer = StoredValue::new_local(super::ring::Ringer::start());
    let tick = set_interval_with_handle(
        move || left.update(|l| *l = l.saturating_sub(1)),
        std::time::Duration::from_secs(1),
    )
    .ok();
    Effect::new(move |_| {
        if let Some(b) = accept_ref.get() {
            let _ = b.focus();
        }
    });
    on_cleanup(move || {
        ringer.set_value(None);
        if let Some(t) = tick {
            t.clear();
        }
    });
}

#[component]
fn OutgoingScreen() -> impl IntoView {
    let session = expect_context::<CallSession>();
    let details = Memo::new(move |_| match session.view.get() {
        CallView::Outgoing {
            peers,
            video,
            outcome,
        } => Some((peers, video, outcome)),
        _ => None,
    });
    let peers = move || details.get().map(|d| d.0.join(", ")).unwrap_or_default();
    let kind = move || match details.get() {
        Some((_, true, _)) => "Video call",
        _ => "Audio call",
    };
    let outcome = move || details.get().and_then(|d| d.2);
    view! {
        <div class="overlay">
            <div class="dialog outgoing" role="dialog" aria-modal="true" aria-labelledby="outgoing-title">
                <span class="avatar big" aria-hidden="true">{move || initials(&peers())}</span>
                <h2 id="outgoing-title">{peers}</h2>
                <p>{kind}</p>
                <p class="status" role="status">
                    {move || outcome().unwrap_or("Calling…")}
                </p>
                <div class="actions">
                    {move || if outcome().is_some() {
                        view! { <button class="primary" on:click=move |_| session.view.set(CallView::Idle)>"Close"</button> }.into_any()
                    } else {
                        view! { <button class="danger" on:click=move |_| session.hangup()>"Cancel"</button> }.into_any()
                    }}
                </div>
            </div>
        </div>
    }
}
