//! Run with: `make run` (or `cargo leptos serve --release`).
//! `server user add <userID>` creates an account, its password read from standard input.

use anyhow::Context;
use axum::serve::ListenerExt;
use tracing_subscriber::EnvFilter;

const USAGE: &str = "usage: server [user add <userID>]   (the password is read from stdin)";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| {
            // stun_proto logs every relay client's first, challenged request as an error.
            "info,stun_proto::auth=off".into()
        }))
        .init();

    let config = server::config::Config::from_env()?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        [] => {}
        ["user", "add", user_id] => {
            let mut password = String::new();
            std::io::stdin()
                .read_line(&mut password)
                .context("reading the password")?;
            let password = password.trim_end_matches(['\r', '\n']);
            server::admin::add_user(&config, user_id, password).await?;
            println!("added {user_id}");
            return Ok(());
        }
        _ => anyhow::bail!(USAGE),
    }

    let leptos =
        leptos::prelude::get_configuration(None).context("reading the Leptos configuration")?;
    let addr = leptos.leptos_options.site_addr;
    let tls = config
        .tls
        .clone()
        .map(server::tls::Tls::load)
        .transpose()
        .context("CALLING_TLS_CERT, CALLING_TLS_KEY")?;
    let site = server::build(config, leptos.leptos_options).await?;

    for task in site.background {
        tokio::spawn(task);
    }
    let drain = site.drain;

    let tcp = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("listening on {addr}"))?;
    let local = tcp.local_addr()?;
    match tls {
        Some(tls) => {
            tokio::spawn(tls.reloader());
            let listener = tls.listen(tcp)?;
            tracing::info!("serving on https://{local}");
            server::http::serve(listener, site.router, site.http, shutdown_signal()).await;
        }
        None => {
            tracing::info!("serving on http://{local}");
            // Signaling sends small frames in quick succession (a reply, then the events it
            // caused); with Nagle's algorithm the second waits for the peer's delayed ACK, up
            // to 40 ms.
            let listener = tcp.tap_io(|tcp| {
                if let Err(e) = tcp.set_nodelay(true) {
                    tracing::debug!("TCP_NODELAY: {e}");
                }
            });
            server::http::serve(listener, site.router, site.http, shutdown_signal()).await;
        }
    }
    drain.run().await;
    tracing::info!("stopped");
    Ok(())
}

/// Ctrl-C or SIGTERM: stop accepting, finish what is in flight.
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
}
