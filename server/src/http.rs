//! Serving HTTP: what `axum::serve` does, plus the bounds it leaves out.
//!
//! `axum::serve` gives hyper no timer, so hyper cannot time anything: a client that sends one
//! header byte a minute (slowloris) or opens keep-alive connections and never uses them holds a
//! task and a socket for as long as it likes, and nothing caps how many. Here every connection
//! has to finish its request head within [`HEADER_READ_WITHIN`] (hyper's header-read timer,
//! which also runs while a kept-alive connection waits for its next request, so it is the idle
//! timeout too), and at most [`HttpLimits::max_connections`] are served at once: past that,
//! new ones wait in the kernel's backlog until one ends. Upgraded WebSockets leave this count
//! when they upgrade; signaling counts them itself (`signaling::admission`).
//!
//! Each request carries its peer's address as `ConnectInfo<SocketAddr>`.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use axum::{extract::ConnectInfo, serve::Listener, Router};
use hyper::{body::Incoming, server::conn::http1};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    service::TowerToHyperService,
};
use tokio::sync::{watch, Semaphore};
use tower::ServiceExt;

/// A request head (request line and headers) must arrive within this; a kept-alive
/// connection must send its next request within this too.
pub const HEADER_READ_WITHIN: Duration = Duration::from_secs(10);
/// On shutdown, requests in flight get this long to finish.
pub const DRAIN_WITHIN: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, Debug)]
pub struct HttpLimits {
    /// HTTP connections served at once.
    pub max_connections: usize,
    pub header_read_within: Duration,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            max_connections: 4096,
            header_read_within: HEADER_READ_WITHIN,
        }
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then lets the requests in flight
/// finish (for at most [`DRAIN_WITHIN`]).
pub async fn serve<L>(
    mut listener: L,
    router: Router,
    limits: HttpLimits,
    shutdown: impl Future<Output = ()>,
) where
    L: Listener<Addr = SocketAddr>,
{
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    // Each connection holds a receiver; shutdown is over when every one is dropped.
    let (stop, stopped) = watch::channel(false);
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_within);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (io, peer) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let service = router
            .clone()
            .map_request(move |mut req: http::Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                req
            });
        let conn = builder
            .serve_connection(TokioIo::new(io), TowerToHyperService::new(service))
            .with_upgrades();
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            tokio::pin!(conn);
            let result = tokio::select! {
                result = conn.as_mut() => result,
                _ = async { stopped.wait_for(|stop| *stop).await.map(|_| ()) } => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = result {
                tracing::trace!("connection from {peer}: {e}");
            }
            drop((permit, stopped));
        });
    }
    drop(listener);
    drop(stopped);
    let _ = stop.send(true);
    if tokio::time::timeout(DRAIN_WITHIN, stop.closed())
        .await
        .is_err()
    {
        tracing::info!("requests still running after {DRAIN_WITHIN:?}; stopping anyway");
    }
}
