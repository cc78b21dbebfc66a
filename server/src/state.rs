//! What every handler can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use sqlx::SqlitePool;

use crate::{accounts::Accounts, usersig::SecretKey};

/// How this site mints UserSigs.
pub struct SigIssuer {
    pub key: SecretKey,
    pub sdk_app_id: u64,
    /// Lifetime of minted sigs, in seconds.
    pub ttl: i64,
}

#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: SqlitePool,
    pub accounts: Arc<Accounts>,
    pub sigs: Arc<SigIssuer>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
