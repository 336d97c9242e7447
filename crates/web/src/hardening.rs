//! What every response and connection gets, whatever the route: security headers, a limit on
//! request bodies answered with a clear 413 before any of the body is read, and time limits on
//! slow or idle connections (a client that sends its headers slowly, a body slowly, or nothing
//! at all between requests is cut off instead of holding a connection).

use crate::AppState;
use crate::error::ApiError;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::Duration;

/// The largest request body accepted: the API's and the forms' records are a few hundred bytes.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// How long the server waits, per connection and request.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// From a connection's opening, or the end of its last response, to the end of the next
    /// request's headers: bounds slow headers and idle keep-alive connections alike.
    pub header_read: Duration,
    /// For the whole request body to arrive.
    pub body_read: Duration,
    /// For a handler to produce its response (a streamed body may take longer to send).
    pub respond: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read: Duration::from_secs(15),
            body_read: Duration::from_secs(30),
            respond: Duration::from_secs(60),
        }
    }
}

/// The Content-Security-Policy of every response. The pages hold no script at all; their one
/// stylesheet is served from `/static/`; style attributes colour the pairs map's tiles; requests
/// may go back to this server only.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'none'; object-src 'none'; \
     style-src-elem 'self'; style-src-attr 'unsafe-inline'; img-src 'self' data:; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const HEADERS: [(HeaderName, &str); 5] = [
    (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::REFERRER_POLICY, "same-origin"),
    (
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    ),
];

/// Browsers that reached the server over TLS are told to use nothing else for a year, on its
/// subdomains too.
const STRICT_TRANSPORT_SECURITY: &str = "max-age=31536000; includeSubDomains";

/// Refuse a declared body over [`MAX_BODY_BYTES`] before reading it (a body without a length
/// is cut at the same size by the extractors' limit), and put the security headers on every
/// response (HSTS too when the request came over TLS).
pub async fn shield(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let tls = crate::auth::is_tls(request.headers(), state.secure_cookies);
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let mut response = match declared {
        Some(length) if length > MAX_BODY_BYTES as u64 => too_large(length).into_response(),
        _ => next.run(request).await,
    };
    let headers = response.headers_mut();
    for (name, value) in HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if tls {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(STRICT_TRANSPORT_SECURITY),
        );
    }
    response
}

fn too_large(length: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        format!("the request body is {length} bytes; at most {MAX_BODY_BYTES} are accepted"),
    )
}
