//! Which pages may act on this site: the `Origin` check that stops cross-site request forgery.
//!
//! `SameSite=Lax` cookies keep a foreign page's form posts from carrying a session, but not
//! from making one: a foreign page could sign its visitor in to the attacker's account (login
//! CSRF) and watch what they do there. So every request that changes something (any method
//! but GET, HEAD and OPTIONS) must come from this site's own origin or one listed in
//! `CALLING_ALLOWED_ORIGINS`, as the signaling WebSocket's upgrade must. Browsers send
//! `Origin` on every such request; a request without one comes from a program, not from a
//! page a visitor was lured to, and is let through (it must still authenticate).

use axum::{
    extract::{Request, State},
    http::{header, HeaderMap, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::state::AppState;

/// True if `headers` carry no `Origin`, or this site's, or one of `allowed`.
pub fn allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    // `null` (a sandboxed frame, a privacy-stripped redirect) matches nothing below.
    if allowed.iter().any(|a| a == origin) {
        return true;
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    !host.is_empty()
        && (origin.strip_prefix("http://") == Some(host)
            || origin.strip_prefix("https://") == Some(host))
}

/// Refuses state-changing requests from foreign pages with 403.
pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if !safe && !allowed(request.headers(), &state.signaling.allowed_origins) {
        return (
            StatusCode::FORBIDDEN,
            "This request came from another site's page and was refused.",
        )
            .into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, host.parse().unwrap());
        if let Some(o) = origin {
            h.insert(header::ORIGIN, o.parse().unwrap());
        }
        h
    }

    #[test]
    fn own_listed_and_absent_origins_pass_others_do_not() {
        let listed = vec!["https://app.example.org".to_owned()];
        let host = "calls.example.org";
        assert!(allowed(&headers(None, host), &listed));
        assert!(allowed(
            &headers(Some("https://calls.example.org"), host),
            &listed
        ));
        assert!(allowed(
            &headers(Some("https://app.example.org"), host),
            &listed
        ));
        assert!(!allowed(
            &headers(Some("https://evil.example"), host),
            &listed
        ));
        assert!(!allowed(&headers(Some("null"), host), &listed));
        assert!(!allowed(
            &headers(Some("https://calls.example.org.evil.example"), host),
            &listed
        ));
    }
}
