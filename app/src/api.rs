//! What the pages load from the server. Each server function's body runs on the server and
//! reaches the data through [`crate::backend::Backend`]; the browser gets a typed HTTP stub.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One entry of the contact list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub user_id: String,
}

/// What the home page shows: who is signed in and their contacts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HomeData {
    pub user_id: String,
    pub contacts: Vec<Contact>,
    /// Incoming calls missed since the user last opened their history.
    pub missed: u32,
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
}

/// The signed-in user's recent calls, or `None` when nobody is signed in.
#[server]
pub async fn load_history() -> Result<Option<HistoryData>, ServerFnError> {
    let backend = expect_context::<crate::backend::SharedBackend>();
    let parts = expect_context::<http::request::Parts>();
    backend
        .history(&parts)
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))
}
