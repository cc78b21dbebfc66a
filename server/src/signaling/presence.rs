//! Presence: each user's contacts learn, within moments, whether they are online, in a call or
//! offline. Only those whose contact request someone accepted see that person's presence.

use std::sync::Arc;

use app::protocol::ServerMsg;
use sqlx::SqlitePool;
use tokio::sync::mpsc;

use super::{hub::Hub, switchboard::Presence};
use crate::contacts;

/// Tells everyone who has the user as a contact about each change.
pub async fn run_fanout(
    db: SqlitePool,
    hub: Arc<Hub>,
    mut changes: mpsc::Receiver<(String, Presence)>,
) {
    while let Some((user, status)) = changes.recv().await {
        match contacts::watchers(&db, &user).await {
            Ok(watchers) => {
                let msg = ServerMsg::Presence {
                    user_id: user,
                    status,
                };
                for watcher in watchers {
                    hub.notify(&watcher, &msg);
                }
            }
            Err(e) => tracing::error!("presence of {user}: {e}"),
        }
    }
}

/// Two users just became contacts: each online one learns the other's presence at once.
pub fn introduce(hub: &Hub, a: &str, b: &str) {
    for (to, about) in [(a, b), (b, a)] {
        let msg = ServerMsg::Presence {
            user_id: about.to_string(),
            status: hub.announced_presence(about),
        };
        hub.notify(to, &msg);
    }
}

/// The presence of each of `user`'s accepted contacts, sent right after login.
pub async fn snapshot(db: &SqlitePool, hub: &Hub, user: &str) -> Vec<ServerMsg> {
    match contacts::accepted(db, user).await {
        Ok(list) => list
            .into_iter()
            .map(|contact| {
                let status = hub.announced_presence(&contact);
                ServerMsg::Presence {
                    user_id: contact,
                    status,
                }
            })
            .collect(),
        Err(e) => {
            tracing::error!("contacts of {user}: {e}");
            Vec::new()
        }
    }
}
