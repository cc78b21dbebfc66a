//! The app's data interface, served from the database and the request's session.

use app::{
    api::{Contact, HomeData},
    backend::{Backend, BoxFuture},
    rules::FormError,
};
use http::request::Parts;
use sqlx::SqlitePool;
use tower_sessions::Session;

use crate::{contacts, sessions};

pub struct SiteBackend {
    pub db: SqlitePool,
}

impl Backend for SiteBackend {
    fn home<'a>(
        &'a self,
        request: &'a Parts,
    ) -> BoxFuture<'a, Result<Option<HomeData>, FormError>> {
        Box::pin(async move {
            let Some(session) = request.extensions.get::<Session>() else {
                return Ok(None);
            };
            let Some(user_id) = sessions::current_user(session).await else {
                return Ok(None);
            };
            let contacts = contacts::list(&self.db, &user_id).await.map_err(|e| {
                tracing::error!("listing contacts: {e}");
                FormError::Internal
            })?;
            Ok(Some(HomeData {
                user_id,
                contacts: contacts
                    .into_iter()
                    .map(|user_id| Contact { user_id })
                    .collect(),
            }))
        })
    }
}
