//! What the operator does from the command line: `server user add <userID>` creates an
//! account (the only way to, with `CALLING_REGISTRATION=closed`), its password read from the
//! first line of standard input.

use crate::{
    accounts::{AccountError, Accounts, Hasher},
    config::Config,
    db,
};

/// Creates `user_id` with `password` in the configured database.
pub async fn add_user(config: &Config, user_id: &str, password: &str) -> Result<(), AccountError> {
    let pool = db::open(&config.database_url).await?;
    let accounts = Accounts::new(pool.clone(), Hasher::new(1));
    let added = accounts.register(user_id, password, db::unix_now()).await;
    pool.close().await;
    added
}
