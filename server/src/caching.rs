//! Cache headers. Asset names carry no content hash, so browsers may keep them but must check
//! back (a cheap 304 thanks to Last-Modified); pages carry the user's data and stay private.

use axum::{
    extract::Request,
    http::{header, HeaderValue},
    middleware::Next,
    response::Response,
};

pub async fn cache_headers(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    if response.headers().contains_key(header::CACHE_CONTROL) {
        return response;
    }
    let policy = if path.starts_with("/pkg/") {
        "public, no-cache"
    } else if path == "/favicon.svg" {
        "public, max-age=86400"
    } else {
        "private, no-cache"
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    response
}
