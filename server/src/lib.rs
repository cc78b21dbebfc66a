//! The calling site's server: accounts, sessions, UserSigs and contacts over HTTP, with the
//! pages rendered by the `app` crate.
//!
//! - [`config`]: environment variables.
//! - [`db`]: SQLite, migrations, the stored UserSig key.
//! - [`accounts`]: registration and sign-in (argon2id off the async runtime); [`admin`]: the
//!   operator's command line.
//! - [`sessions`]: session cookies stored in SQLite, and the page guard; [`self_service`]:
//!   password change, signing out everywhere and deleting an account, and what each revokes.
//! - [`usersig`]: Tencent TLSSigAPIv2 UserSigs, minted and verified (the `server/usersig` crate,
//!   on its own so that its decoder can be fuzzed).
//! - [`contacts`]: contact lists; [`blocks`]: whom each user has blocked.
//! - [`signaling`]: the `/ws` WebSocket: invitations, rooms and WebRTC negotiation.
//! - [`history`]: the call history the server records.
//! - [`caching`]: cache headers for pages and assets.
//! - [`forms`], [`api`]: the HTTP edges; [`backend`]: the data the pages load.
//! - [`http`]: the accept loop, with hyper's timeouts and a connection cap; [`peer`]: the
//!   client's address; [`throttle`]: failed sign-ins per address and account; [`origin`]: the
//!   `Origin` check on every request that changes something.
//!
//! Where things go: call logic in the switchboard (`signaling::switchboard`), pure and tested on
//! a fake clock in `tests/calls/`; socket handling in `signaling::ws`; anything stored in its own
//! module over the database. A TURN relay would be a `turn` module with its own settings and
//! errors, asked by signaling only for credentials; a cluster backend a trait at the hub's seam
//! (`signaling::hub`), with the switchboard unchanged. `docs/architecture.md` follows one call
//! through the code.

pub mod accounts;
pub mod admin;
pub mod api;
pub mod assets;
pub mod backend;
pub mod blocks;
pub mod caching;
pub mod config;
pub mod contacts;
pub mod db;
pub mod forms;
pub mod history;
pub mod http;
pub mod origin;
pub mod peer;
pub mod self_service;
pub mod sessions;
pub mod signaling;
pub mod state;
pub mod throttle;
pub mod tls;
pub mod turn;
pub use usersig;

use std::sync::Arc;

use app::{backend::SharedBackend, shell, App};
use axum::{
    middleware::{from_fn, from_fn_with_state},
    routing::get,
    Router,
};
use leptos::prelude::{provide_context, LeptosOptions};
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::{compression::CompressionLayer, limit::RequestBodyLimitLayer, CompressionLevel};
use tower_sessions::ExpiredDeletion;

use crate::{
    accounts::{Accounts, Hasher},
    config::Config,
    signaling::hub::Hub,
    state::{AppState, SigIssuer, Signaling},
};

/// Request bodies are forms and small JSON documents.
const MAX_BODY: usize = 64 * 1024;

/// Sleeps until `deadline`; never wakes for `None`, for a `select!` branch that is off until a
/// deadline is set.
pub(crate) async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// A task the site needs running beside it.
pub type Task = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// The assembled site: its router, the tasks it needs running beside it, and the state its
/// handlers share (for tests that drive a connection without HTTP).
pub struct Site {
    pub router: Router,
    /// What to do once the HTTP server has stopped: see [`Drain::run`].
    pub drain: Drain,
    /// The HTTP server's caps and timeouts, for [`http::serve`].
    pub http: http::HttpLimits,
    pub background: Vec<Task>,
    pub state: AppState,
}

/// Why the site could not start.
#[derive(Debug)]
pub enum BuildError {
    Database(sqlx::Error),
    Turn(turn::TurnError),
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Database(e) => write!(f, "opening the database: {e}"),
            Self::Turn(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for BuildError {}

impl From<sqlx::Error> for BuildError {
    fn from(e: sqlx::Error) -> Self {
        Self::Database(e)
    }
}

impl From<turn::TurnError> for BuildError {
    fn from(e: turn::TurnError) -> Self {
        Self::Turn(e)
    }
}

/// Opens the database, runs migrations and assembles the router.
pub async fn build(config: Config, leptos_options: LeptosOptions) -> Result<Site, BuildError> {
    let http = config.http;
    let db = db::open(&config.database_url).await?;
    let key = db::secret_key(&db, config.secret_key).await?;
    let session_store = sessions::store(db.clone()).await?;
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    history::close_interrupted(&db, db::unix_now()).await?;
    let mut turn = turn::start(config.turn, config.ice_servers, &db).await?;
    let relay_task = turn.relay.as_mut().and_then(|r| r.task.take());
    // Invitation and room IDs straight from the OS's generator: unguessable.
    let board = signaling::switchboard::Switchboard::new(
        config.max_call_size,
        Box::new(signaling::rand_u64),
    )
    .with_max_ring(config.max_ring);
    let (hub, feeds) = Hub::new(board);
    let hub = Arc::new(hub);
    let state = AppState {
        leptos_options: leptos_options.clone(),
        db: db.clone(),
        accounts: Arc::new(Accounts::new(db.clone(), Hasher::new(cores))),
        sigs: Arc::new(SigIssuer {
            key,
            sdk_app_id: config.sdk_app_id,
            ttl: config.usersig_ttl,
        }),
        signaling: Arc::new(Signaling {
            hub: hub.clone(),
            allowed_origins: config.allowed_origins,
            admission: signaling::admission::Admission::new(config.admission),
            ice: turn.issuer,
            relay: turn.relay.as_ref().map(|r| r.link.clone()),
        }),
        registration: config.registration,
        behind_proxy: config.behind_proxy,
        sign_ins: Arc::default(),
    };
    let backend: SharedBackend = Arc::new(backend::SiteBackend { db: db.clone() });
    let pkg_dir =
        std::path::Path::new(&*leptos_options.site_root).join(&*leptos_options.site_pkg_dir);
    assets::remove_stale(&pkg_dir);
    let pkg_route = format!("/{}", leptos_options.site_pkg_dir);
    let router = Router::new()
        .merge(forms::routes())
        .merge(api::routes())
        .leptos_routes_with_context(
            &state,
            generate_route_list(App),
            move || provide_context(backend.clone()),
            move || shell(leptos_options.clone()),
        )
        .nest_service(&pkg_route, assets::service(&pkg_dir))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        // Pages, JSON and assets go out compressed; the WebSocket, added after, is left alone.
        // Level 4 is most of brotli's and gzip's gain for a fraction of their best level's time,
        // which matters while every response is compressed as it is served.
        .layer(CompressionLayer::new().quality(CompressionLevel::Precise(4)))
        .layer(from_fn(caching::cache_headers))
        .route("/ws", get(signaling::ws::upgrade))
        .layer(from_fn_with_state(state.clone(), forms::registration_gate))
        .layer(from_fn_with_state(state.clone(), origin::guard))
        .layer(from_fn_with_state(state.clone(), sessions::guard))
        .layer(sessions::layer(session_store.clone(), config.secure_cookie))
        .layer(RequestBodyLimitLayer::new(MAX_BODY))
        .with_state(state.clone());
    let (writer_stop, drained) = history::WriterStop::new();
    let drain = Drain {
        hub: hub.clone(),
        admission: state.signaling.admission.clone(),
        writer: writer_stop,
    };
    let mut background = background(hub, db, feeds, drained, pkg_dir, session_store);
    background.extend(relay_task);
    Ok(Site {
        router,
        drain,
        http,
        background,
        state,
    })
}

/// Timers, history, presence, asset compression and session clean-up.
fn background(
    hub: Arc<Hub>,
    db: sqlx::SqlitePool,
    feeds: signaling::hub::HubFeeds,
    drained: history::Drained,
    pkg_dir: std::path::PathBuf,
    session_store: tower_sessions_sqlx_store::SqliteStore,
) -> Vec<Task> {
    vec![
        Box::pin(signaling::hub::run_timer(hub.clone())),
        Box::pin(async move {
            let _ = tokio::task::spawn_blocking(move || assets::precompress(&pkg_dir)).await;
        }),
        Box::pin(history::run_writer(db.clone(), feeds.records, drained)),
        Box::pin(signaling::presence::run_fanout(
            db.clone(),
            hub,
            feeds.presence,
        )),
        Box::pin(async move {
            let _ = session_store
                .continuously_delete_expired(std::time::Duration::from_secs(3600))
                .await;
        }),
    ]
}

/// Stopping without losing anything: calls in progress end and are recorded, every signaling
/// connection is closed as restarting (clients come back by themselves), and the history
/// writer commits what is queued.
pub struct Drain {
    hub: Arc<Hub>,
    admission: Arc<signaling::admission::Admission>,
    writer: history::WriterStop,
}

impl Drain {
    /// Sockets get this long to take their close frame.
    const SOCKETS_WITHIN: std::time::Duration = std::time::Duration::from_secs(5);
    /// The history writer gets this long to commit.
    const HISTORY_WITHIN: std::time::Duration = std::time::Duration::from_secs(10);

    pub async fn run(self) {
        self.hub.shutdown();
        let deadline = tokio::time::Instant::now() + Self::SOCKETS_WITHIN;
        while self.admission.sockets() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        if self.admission.sockets() > 0 {
            tracing::info!(
                "{} sockets still open at shutdown",
                self.admission.sockets()
            );
        }
        if !self.writer.finish(Self::HISTORY_WITHIN).await {
            tracing::error!("the call history could not be written in time at shutdown");
        }
    }
}
