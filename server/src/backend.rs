//! The app's data interface, served from the database and the request's session.

use app::{
    api::{Contact, HistoryData, HomeData},
    backend::{Backend, BoxFuture},
    rules::FormError,
};
use http::request::Parts;
use sqlx::SqlitePool;
use tower_sessions::Session;

use crate::{blocks, contacts, history, sessions};

/// How many calls one page of the history shows.
const HISTORY_PAGE: u32 = 50;

pub struct SiteBackend {
    pub db: SqlitePool,
}

async fn signed_in(request: &Parts, db: &SqlitePool) -> Option<String> {
    let session = request.extensions.get::<Session>()?;
    sessions::current_user(session, db).await
}

impl Backend for SiteBackend {
    fn history<'a>(
        &'a self,
        request: &'a Parts,
        before: Option<i64>,
    ) -> BoxFuture<'a, Result<Option<HistoryData>, FormError>> {
        Box::pin(async move {
            let Some(user_id) = signed_in(request, &self.db).await else {
                return Ok(None);
            };
            let as_of = crate::db::unix_now();
            let page = history::page(&self.db, &user_id, HISTORY_PAGE, before).await;
            // Fetched by the page itself (a server function's POST, as when moving to the
            // history within the site), the list is being looked at: mark it seen in the same
            // request, so the next page's count already knows. A GET of /history renders it
            // without marking anything; the page marks it once it is on screen.
            let newest = before.is_none() && request.method == http::Method::POST;
            let seen = match (&page, newest) {
                (Ok(_), true) => history::mark_seen(&self.db, &user_id, as_of).await,
                _ => Ok(()),
            };
            match (page, seen) {
                (Ok(page), Ok(())) => Ok(Some(HistoryData {
                    user_id,
                    entries: page.entries,
                    as_of,
                    older: page.older,
                })),
                (Err(e), _) | (_, Err(e)) => {
                    tracing::error!("call history: {e}");
                    Err(FormError::Internal)
                }
            }
        })
    }

    fn mark_history_seen<'a>(
        &'a self,
        request: &'a Parts,
        as_of: i64,
    ) -> BoxFuture<'a, Result<(), FormError>> {
        Box::pin(async move {
            let Some(user_id) = signed_in(request, &self.db).await else {
                return Err(FormError::Internal);
            };
            // Never past now: a page cannot mark calls seen that have not happened yet.
            let up_to = as_of.min(crate::db::unix_now());
            history::mark_seen(&self.db, &user_id, up_to)
                .await
                .map_err(|e| {
                    tracing::error!("marking history seen: {e}");
                    FormError::Internal
                })
        })
    }

    fn home<'a>(
        &'a self,
        request: &'a Parts,
    ) -> BoxFuture<'a, Result<Option<HomeData>, FormError>> {
        Box::pin(async move {
            let Some(user_id) = signed_in(request, &self.db).await else {
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
            let blocked = blocks::list(&self.db, &user_id).await.map_err(|e| {
                tracing::error!("listing blocked users: {e}");
                FormError::Internal
            })?;
            let requests = contacts::requests(&self.db, &user_id).await.map_err(|e| {
                tracing::error!("listing contact requests: {e}");
                FormError::Internal
            })?;
            Ok(Some(HomeData {
                missed,
                blocked,
                requests,
                user_id,
                contacts: contacts
                    .into_iter()
                    .map(|c| Contact {
                        user_id: c.user_id,
                        accepted: c.accepted,
                    })
                    .collect(),
            }))
        })
    }
}
