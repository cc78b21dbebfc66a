//! The call history: every call made and received, newest first, missed ones marked.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use super::{
    call::CallSession,
    home::{BlockButton, TopBar},
};
use crate::{
    api::{load_history, mark_history_seen, HistoryData, HistoryEntry},
    protocol::CallType,
};

#[component]
pub fn HistoryPage() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let before = move || {
        query
            .read()
            .get("before")
            .and_then(|b| b.parse::<i64>().ok())
    };
    let data = Resource::new(before, load_history);
    view! {
        <Title text="History · Calling"/>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let before_now = before();
                match data.await {
                    Ok(Some(data)) => view! { <History data newest=before_now.is_none()/> }.into_any(),
                    Ok(None) => view! { <Redirect path="/login"/> }.into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn History(data: HistoryData, newest: bool) -> impl IntoView {
    let entries = data.entries;
    let older = data.older.map(|id| format!("/history?before={id}"));
    // Looking at the history is what clears the missed-call badge: once it is on screen (an
    // effect runs only in the browser), for the calls it shows.
    let session = expect_context::<CallSession>();
    let as_of = data.as_of;
    Effect::new(move |_| {
        // An older page does not show the newest calls: it marks nothing.
        if !newest {
            return;
        }
        session.missed.set(0);
        leptos::task::spawn_local(async move {
            let _ = mark_history_seen(as_of).await;
        });
    });
    let older = older.map(|href| view! { <p class="more"><a href=href>"Older calls"</a></p> });
    view! {
        <TopBar user_id=data.user_id/>
        <main class="page">
            <section aria-labelledby="history-heading">
                <h1 id="history-heading">"History"</h1>
                {if entries.is_empty() {
                    view! { <p class="empty">"No calls yet."</p> }.into_any()
                } else {
                    view! {
                        <ul class="contact-list history" aria-label="Your calls">
                            {entries.into_iter().map(|e| view! { <Row entry=e/> }).collect_view()}
                        </ul>
                    }
                        .into_any()
                }}
                {older}
            </section>
        </main>
    }
}

fn describe(e: &HistoryEntry) -> &'static str {
    match (e.outgoing, e.outcome.as_str()) {
        (_, "answered") if e.outgoing => "Outgoing",
        (_, "answered") => "Incoming",
        (false, "no_answer" | "cancelled") => "Missed",
        (false, "declined") => "Declined",
        (false, "busy") => "Busy",
        (true, "declined") => "Declined",
        (true, "busy") => "Busy",
        (true, "no_answer") => "No answer",
        (true, "cancelled") => "Cancelled",
        (_, "ringing") => "Ringing",
        _ => "Call",
    }
}

/// `2026-11-26 14:05 UTC`: the same on the server and in the browser, so hydration agrees.
fn when(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year}-{month:02}-{day:02} {:02}:{:02} UTC",
        secs / 3600,
        secs % 3600 / 60
    )
}

fn duration(e: &HistoryEntry) -> Option<String> {
    let secs = e.ended_at? - e.answered_at?;
    Some(format!("{}:{:02}", secs / 60, secs % 60))
}

#[component]
fn Row(entry: HistoryEntry) -> impl IntoView {
    let session = expect_context::<CallSession>();
    let label = describe(&entry);
    let missed = entry.missed();
    let kind = if entry.video { "Video" } else { "Audio" };
    let peer = entry.peer.clone();
    let call_type = if entry.video {
        CallType::Video
    } else {
        CallType::Audio
    };
    let back_label = format!("Call back {peer}");
    let details = format!(
        "{kind} call · {}{}",
        when(entry.started_at),
        duration(&entry)
            .map(|d| format!(" · {d}"))
            .unwrap_or_default()
    );
    view! {
        <li class="contact" class:missed=missed>
            <span class="avatar" aria-hidden="true">{super::home::initials(&entry.peer)}</span>
            <div class="who">
                <span class="name">{entry.peer.clone()}</span>
                <span class="meta">
                    <span class="outcome" class:missed=missed>{label}</span>
                    " · "
                    {details}
                </span>
            </div>
            <button class="ghost small" aria-label=back_label on:click=move |_| session.call(vec![peer.clone()], call_type)>
                "Call back"
            </button>
            {(!entry.outgoing).then(|| view! { <BlockButton user=entry.peer.clone() back="/history"/> })}
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::when;

    #[test]
    fn dates_are_civil_utc() {
        assert_eq!(when(0), "1970-01-01 00:00 UTC");
        assert_eq!(when(1_700_000_000), "2023-11-14 22:13 UTC");
        assert_eq!(when(951_782_400), "2000-02-29 00:00 UTC");
    }
}
