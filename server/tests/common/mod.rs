//! Helpers shared by the server's integration tests: a fresh database per test and a site
//! served on an ephemeral loopback port.

#![allow(dead_code)]

pub mod site;
pub mod ws;

use std::{
    net::SocketAddr,
    path::PathBuf,
    sync::atomic::{AtomicU32, Ordering},
};

use leptos::prelude::LeptosOptions;
use server::config::Config;

pub const KEY: &str = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e";
pub const APP: u64 = 1_400_000_000;
pub const TURN_SECRET: &str = "relay secret for tests";

/// A database file of its own under the system's temp folder, removed on drop.
pub struct TempDb {
    dir: PathBuf,
}

impl TempDb {
    pub fn new() -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "calling-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        Self { dir }
    }

    pub fn url(&self) -> String {
        format!("sqlite://{}/calling.db", self.dir.display())
    }

    pub fn path(&self) -> &std::path::Path {
        &self.dir
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn config(db: &TempDb, key: Option<&str>) -> Config {
    config_with(db, key, &[])
}

/// [`config`], with more variables set.
pub fn config_with(db: &TempDb, key: Option<&str>, vars: &[(&str, &str)]) -> Config {
    let url = db.url();
    let key = key.map(str::to_owned);
    Config::from_lookup(|name| match name {
        "DATABASE_URL" => Some(url.clone()),
        "CALLING_SECRET_KEY" => key.clone(),
        "CALLING_TURN_LISTEN" => Some("127.0.0.1:0".into()),
        "CALLING_TURN_SECRET" => Some(TURN_SECRET.into()),
        _ => vars
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string()),
    })
    .expect("test config")
}

pub fn leptos_options(site_root: &str) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("calling")
        .site_root(site_root)
        .build()
}

/// Serves the site on 127.0.0.1 with an OS-chosen port and returns its address.
pub async fn serve(config: Config) -> SocketAddr {
    serve_site(config, "target/site").await
}

/// Like [`serve`], with static files from `site_root`.
pub async fn serve_site(config: Config, site_root: &str) -> SocketAddr {
    serve_with(config, site_root, |_| {}).await
}

/// Like [`serve_site`], with the HTTP limits changed by `limits`.
pub async fn serve_with(
    config: Config,
    site_root: &str,
    limits: impl FnOnce(&mut server::http::HttpLimits),
) -> SocketAddr {
    let mut site = server::build(config, leptos_options(site_root))
        .await
        .expect("build site");
    limits(&mut site.http);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    for task in site.background {
        tokio::spawn(task);
    }
    tokio::spawn(server::http::serve(
        listener,
        site.router,
        site.http,
        std::future::pending(),
    ));
    addr
}
