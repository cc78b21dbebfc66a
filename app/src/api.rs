//! What the pages load from the server. Each server function's body runs on the server and
//! reaches the data through [`crate::backend::Backend`]; the browser gets a typed HTTP stub.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One entry of the contact list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub user_id: String,
    /// False while they have not accepted the request (or declined it, which is not told).
    pub accepted: bool,
}

/// What the home page shows: who is signed in and their contacts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HomeData {
    pub user_id: String,
    pub contacts: Vec<Contact>,
    /// Incoming calls missed since the user last opened their history.
    pub missed: u32,
    /// Whom the user has blocked.
    pub blocked: Vec<String>,
    /// Who asked to be the user's contact and waits for an answer, the newest first.
    pub requests: Vec<String>,
}

/// One call in someone's history: one invitee of one invitation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub invite_id: String,
    /// The other side: the callee of an outgoing call, the caller of an incoming one.
    pub peer: String,
    pub outgoing: bool,
    pub video: bool,
    pub group: bool,
    /// Unix seconds.
    pub started_at: i64,
    pub answered_at: Option<i64>,
    pub ended_at: Option<i64>,
    /// `ringing`, `answered`, `declined`, `busy`, `no_answer` or `cancelled`.
    pub outcome: String,
}

impl HistoryEntry {
    /// An incoming call that was never answered.
    pub fn missed(&self) -> bool {
        !self.outgoing && matches!(self.outcome.as_str(), "no_answer" | "cancelled")
    }
}

/// The signed-in user's home data, or `None` when nobody is signed in.
#[server]
pub async fn load_home() -> Result<Option<HomeData>, ServerFnError> {
    let backend = expect_context::<crate::backend::SharedBackend>();
    let parts = expect_context::<http::request::Parts>();
    backend
        .home(&parts)
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))
}

/// What the history page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryData {
    pub user_id: String,
    pub entries: Vec<HistoryEntry>,
    /// The server's Unix time when the list was read: what the page shows is complete up to
    /// then, so that is how far it may mark calls seen.
    pub as_of: i64,
    /// Where the next page of older calls starts, if there are more.
    pub older: Option<i64>,
}

/// The signed-in user's calls, a page at a time: the newest, or those older than `before` (a
/// page's `older`). `None` when nobody is signed in.
#[server]
pub async fn load_history(before: Option<i64>) -> Result<Option<HistoryData>, ServerFnError> {
    let backend = expect_context::<crate::backend::SharedBackend>();
    let parts = expect_context::<http::request::Parts>();
    backend
        .history(&parts, before)
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))
}

/// The user has seen their history as it was at `as_of`: missed calls up to then stop counting.
/// A POST of its own (server functions are POSTs), so that merely loading the page, which any
/// site can make a browser do, marks nothing.
#[server(endpoint = "history/seen")]
pub async fn mark_history_seen(as_of: i64) -> Result<(), ServerFnError> {
    let backend = expect_context::<crate::backend::SharedBackend>();
    let parts = expect_context::<http::request::Parts>();
    backend
        .mark_history_seen(&parts, as_of)
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))
}
