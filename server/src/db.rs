//! The SQLite database: opening it, migrations, and server settings kept in it.

use std::{str::FromStr, time::Duration};

use sqlx::{
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions},
    SqlitePool,
};

use crate::usersig::SecretKey;

/// Opens (creating the file and its folder if needed) and migrates the database.
pub async fn open(url: &str) -> Result<SqlitePool, sqlx::Error> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    if let Some(dir) = options.get_filename().parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir)?;
        }
    }
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await?;
    sqlx::migrate!("./migrations").run(&pool).await?;
    Ok(pool)
}

/// The UserSig secret: the configured one, else the one stored on first start.
pub async fn secret_key(
    pool: &SqlitePool,
    configured: Option<SecretKey>,
) -> Result<SecretKey, sqlx::Error> {
    match configured {
        Some(key) => Ok(key),
        None => stored_secret(pool, "secret_key").await.map(SecretKey::new),
    }
}

/// The secret kept under `name` in the settings, generated the first time it is asked for.
pub async fn stored_secret(pool: &SqlitePool, name: &str) -> Result<String, sqlx::Error> {
    // `INSERT OR IGNORE` keeps the first secret if two servers start on one database at once.
    sqlx::query("INSERT OR IGNORE INTO settings (name, value) VALUES (?, ?)")
        .bind(name)
        .bind(generate_key()?)
        .execute(pool)
        .await?;
    sqlx::query_scalar("SELECT value FROM settings WHERE name = ?")
        .bind(name)
        .fetch_one(pool)
        .await
}

/// 32 random bytes as 64 hex digits, the shape of Tencent's console keys.
fn generate_key() -> Result<String, sqlx::Error> {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let mut bytes = [0u8; 32];
    OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| sqlx::Error::Io(std::io::Error::other(e.to_string())))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Current Unix time in seconds; read at the edges only.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
