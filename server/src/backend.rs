//! The app's data interface, served from the database and the request's session.

use app::{
    api::{Contact, HistoryData, HomeData},
    backend::{Backend, BoxFuture},
    rules::FormError,
};
use http::request::Parts;
use sqlx::SqlitePool;
use tower_sessions::Session;

use crate::{contacts, history, sessions};

/// How many calls the history page shows.
const HISTORY_LIMIT: u32 = 200;

pub struct SiteBackend {
    pub db: SqlitePool,
}

async fn signed_in(request: &Parts) -> Option<String> {
    let session = request.extensions.get::<Session>()?;
    sessions::current_user(session).await
}

impl Backend for SiteBackend {
    fn history<'a>(
        &'a self,
        request: &'a Parts,
    ) -> BoxFuture<'a, Result<Option<HistoryData>, FormError>> {
        Box::pin(async move {
            let Some(user_id) = signed_in(request).await else {
                return Ok(None);
            };
            let entries = history::list(&self.db, &user_id, HISTORY_LIMIT).await;
            let seen = history::mark_seen(&self.db, &user_id, crate::db::unix_now()).await;
            match (entries, seen) {
                (Ok(entries), Ok(())) => Ok(Some(HistoryData { user_id, entries })),
                (Err(e), _) | (_, Err(e)) => {
                    tracing::error!("call history: {e}");
                    Err(FormError::Internal)
                }
            }
        })
    }

    fn home<'a>(
        &'a self,
        request: &'a Parts,
    ) -> BoxFuture<'a, Result<Option<HomeData>, FormError>> {
        Box::pin(async move {
            let Some(user_id) = signed_in(request).await else {
                return Ok(None);
            };
            let contacts = contacts::list(&self.db, &user_id).await.map_err(|e| {
                tracing::error!("listing contacts: {e}");
                FormError::Internal
            })?;
            let missed = history::missed_since_seen(&self.db, &user_id)
                .await
                .map_err(|e| {
                    tracing::error!("counting missed calls: {e}");
                    FormError::Internal
                })?;
            Ok(Some(HomeData {
                missed,
                user_id,
                contacts: contacts
                    .into_iter()
                    .map(|user_id| Contact { user_id })
                    .collect(),
            }))
        })
    }
}
