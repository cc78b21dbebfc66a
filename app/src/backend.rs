//! The server half of the app's data, as an interface the `server` crate implements.
//!
//! Keeping it a trait lets the pages stay in this crate while accounts, sessions and the
//! database stay in `server`, and keeps every server-only dependency out of the Wasm bundle.

use std::{future::Future, pin::Pin, sync::Arc};

use crate::{
    api::{HistoryData, HomeData},
    rules::FormError,
};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

pub trait Backend: Send + Sync + 'static {
    /// The signed-in user's home data, found from the request's session; `None` if signed out.
    fn home<'a>(
        &'a self,
        request: &'a http::request::Parts,
    ) -> BoxFuture<'a, Result<Option<HomeData>, FormError>>;

    /// A page of the signed-in user's calls, newest first, older than `before` if given;
    /// `None` if signed out.
    fn history<'a>(
        &'a self,
        request: &'a http::request::Parts,
        before: Option<i64>,
    ) -> BoxFuture<'a, Result<Option<HistoryData>, FormError>>;

    /// Marks the signed-in user's calls up to `as_of` (Unix seconds) seen.
    fn mark_history_seen<'a>(
        &'a self,
        request: &'a http::request::Parts,
        as_of: i64,
    ) -> BoxFuture<'a, Result<(), FormError>>;
}

/// How the backend travels in Leptos' context.
pub type SharedBackend = Arc<dyn Backend>;
