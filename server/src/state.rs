//! What every handler can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use sqlx::SqlitePool;

use crate::{
    accounts::Accounts,
    config::Registration,
    signaling::{admission::Admission, hub::Hub},
    throttle::SignInThrottle,
    turn::{edge::RelayLink, ice::IceIssuer},
    usersig::SecretKey,
};

/// How this site mints UserSigs.
pub struct SigIssuer {
    pub key: SecretKey,
    pub sdk_app_id: u64,
    /// Lifetime of minted sigs, in seconds.
    pub ttl: i64,
}

/// The signaling WebSocket's shared parts.
pub struct Signaling {
    pub hub: Arc<Hub>,
    pub allowed_origins: Vec<String>,
    /// Caps on sockets, before and after login.
    pub admission: Arc<Admission>,
    /// Each login's `iceServers`, with relay credentials minted for it.
    pub ice: IceIssuer,
    /// The embedded relay, told of each credential minted.
    pub relay: Option<RelayLink>,
}

#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: SqlitePool,
    pub accounts: Arc<Accounts>,
    pub sigs: Arc<SigIssuer>,
    pub signaling: Arc<Signaling>,
    pub registration: Registration,
    /// Count clients by `X-Forwarded-For` (see `peer`).
    pub behind_proxy: bool,
    pub sign_ins: Arc<std::sync::Mutex<SignInThrottle>>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
