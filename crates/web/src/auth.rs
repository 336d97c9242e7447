//! Who is asking: a browser with a session cookie, a client with an API token
//! (`Authorization: Bearer …`), or the public. Cookies are `HttpOnly`, `SameSite=Lax`, and
//! `Secure` behind TLS; a cookie-signed write must carry the session's CSRF token (form field
//! `csrf` or header `X-CSRF-Token`); failed sign-ins are rate-limited per account name.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use counterpart_app::access::{actor_of, digest};
use counterpart_domain::access::Actor;
use counterpart_store::Session;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The session cookie's name over plain HTTP (a development machine, the demo), where
/// browsers refuse a prefixed name.
pub const SESSION_COOKIE: &str = "cp_session";
/// Its name over TLS: a browser keeps a `__Host-` cookie only if it is Secure, for this very
/// host and for path `/`, so another host or page cannot plant or shadow it.
pub const SESSION_COOKIE_TLS: &str = "__Host-cp_session";

/// The session cookie's name, over TLS or not.
pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure {
        SESSION_COOKIE_TLS
    } else {
        SESSION_COOKIE
    }
}

/// The one asking, and how they proved it.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub actor: Actor,
    /// Present when signed in by cookie: writes must carry its CSRF token.
    pub session: Option<Session>,
}

impl Viewer {
    pub fn public() -> Self {
        Viewer {
            actor: Actor::Public,
            session: None,
        }
    }

    /// A write signed by a cookie must present the session's CSRF token; token and public
    /// requests carry no ambient credentials, so there is nothing to forge.
    pub fn check_csrf(&self, presented: Option<&str>) -> Result<(), ApiError> {
        let Some(session) = &self.session else {
            return Ok(());
        };
        let presented = presented.unwrap_or("");
        if constant_time_eq(presented.as_bytes(), session.csrf.as_bytes()) {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "csrf",
                "the form's security token is missing or stale: reload the page and try again",
            ))
        }
    }

    pub fn csrf(&self) -> &str {
        self.session.as_ref().map_or("", |s| s.csrf.as_str())
    }
}

/// Two secrets compared in constant time.
pub fn same_secret(a: &str, b: &str) -> bool {
    constant_time_eq(a.as_bytes(), b.as_bytes())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub fn now_seconds() -> i64 {
    jiff::Timestamp::now().as_second()
}

impl Viewer {
    /// Who sent this request: its API token, its session cookie, or nobody. A token that is
    /// unknown or whose account is disabled is refused outright; a stale cookie is the public.
    pub async fn resolve(parts: &Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(value) = parts.headers.get(axum::http::header::AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim)
                .unwrap_or("");
            let user = state.store.token_user(&digest(token)).await?;
            return match user {
                Some(user) => Ok(Viewer {
                    actor: actor_of(&user),
                    session: None,
                }),
                None => Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "bad_token",
                    "the API token is unknown or its account is disabled",
                )),
            };
        }
        let jar = CookieJar::from_headers(&parts.headers);
        if let Some(cookie) = jar
            .get(SESSION_COOKIE_TLS)
            .or_else(|| jar.get(SESSION_COOKIE))
        {
            let found = state
                .store
                .session(&digest(cookie.value()), now_seconds())
                .await?;
            if let Some((session, user)) = found {
                return Ok(Viewer {
                    actor: actor_of(&user),
                    session: Some(session),
                });
            }
        }
        Ok(Viewer::public())
    }
}

/// The viewer the route's gate found (`guard`), or — outside a gated route, as in the
/// fallback — found now.
impl FromRequestParts<Arc<AppState>> for Viewer {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Viewer>() {
            Some(viewer) => Ok(viewer.clone()),
            None => Viewer::resolve(parts, state).await,
        }
    }
}

/// The session cookie for a token; `secure` behind TLS.
pub fn session_cookie(token: String, secure: bool) -> Cookie<'static> {
    Cookie::build((session_cookie_name(secure), token))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .path("/")
        .max_age(cookie_duration(counterpart_app::access::SESSION_SECONDS))
        .build()
}

fn cookie_duration(seconds: i64) -> cookie::time::Duration {
    cookie::time::Duration::seconds(seconds)
}

/// Whether this request reached us over TLS (directly or through a proxy that says so).
pub fn is_tls(parts_headers: &axum::http::HeaderMap, always: bool) -> bool {
    always
        || parts_headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// Failed sign-ins per account name: after `MAX_FAILURES` within `WINDOW`, further attempts
/// are refused until the window has passed.
#[derive(Default)]
pub struct Limiter {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

pub const MAX_FAILURES: u32 = 5;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

impl Limiter {
    /// `Err(seconds to wait)` when this name is locked out.
    pub fn check(&self, name: &str) -> Result<(), u64> {
        let map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        match map.get(&name.to_lowercase()) {
            Some((n, since)) if *n >= MAX_FAILURES && since.elapsed() < WINDOW => {
                Err((WINDOW - since.elapsed()).as_secs().max(1))
            }
            _ => Ok(()),
        }
    }

    pub fn failed(&self, name: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let entry = map
            .entry(name.to_lowercase())
            .or_insert((0, Instant::now()));
        if entry.1.elapsed() >= WINDOW {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
    }

    pub fn succeeded(&self, name: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(&name.to_lowercase());
    }
}
