//! The calling site, shared by the server (SSR, feature `ssr`) and the browser (feature `hydrate`).
//!
//! - [`rules`]: the account and contact rules both sides check, with the messages users see.
//! - [`api`]: the data the pages load, as server functions; their server half goes through
//!   [`backend::Backend`], which the `server` crate implements, so that databases and password
//!   hashing never reach the Wasm bundle.
//! - [`calling`]: the calling engine behind the UI and the `TRTCCalling` JavaScript API (the
//!   `engine` crate's, re-exported).
//! - [`pages`]: the routes: sign-up, sign-in and the contact list.
//! - [`protocol`]: the signaling messages between browser and server, their decoder, and the
//!   error codes and refusals both sides use (the `engine` crate's, re-exported).
//!
//! Where things go: a new request starts in [`protocol::client`]; a new rule about calls in the
//! browser goes in the engine's machine ([`calling::machine`]), never in the web glue; a new
//! screen state in `pages::call::view`'s reducer; a new page in [`pages`] with its data behind
//! [`api`]. `docs/architecture.md` follows one call through all of it.

pub mod api;
#[cfg(feature = "ssr")]
pub mod backend;
pub mod forms;
pub mod pages;
pub mod rules;

pub use engine::{calling, protocol};

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    StaticSegment,
};

/// Paths that need a signed-in user; the server redirects to `/login` without one.
pub const PROTECTED_PATHS: &[&str] = &["/", "/history", "/account"];

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let css = format!("/{}/{}.css", options.site_pkg_dir, options.output_name);
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                // A plain link in the head, so the first paint is already styled.
                <link rel="stylesheet" href=css/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_context(pages::call::CallSession::new());
    view! {
        <Title text="Calling"/>
        <Router>
            <pages::call::CallLayer/>
            <Routes fallback=pages::NotFound>
                <Route path=StaticSegment("") view=pages::home::HomePage/>
                <Route path=StaticSegment("history") view=pages::history::HistoryPage/>
                <Route path=StaticSegment("account") view=pages::account::AccountPage/>
                <Route path=StaticSegment("login") view=pages::auth::LoginPage/>
                <Route path=StaticSegment("register") view=pages::auth::RegisterPage/>
            </Routes>
        </Router>
    }
}
