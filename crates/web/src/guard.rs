//! Every route says who may call it, and that is decided before the handler runs: before its
//! path, query or body is read and before anything is looked up. A caller who may not gets the
//! same answer whatever it asked about, so an anonymous caller cannot learn which ids exist.
//!
//! The router is built only from [`Route`] tables (`api::routes`, `pages::routes`), and
//! [`routes`] lists the same tables: the test that asks every route anonymously and with the
//! wrong role walks that list, so a new route cannot be added without a gate.
//!
//! Architecture Invariant: the gate asks `domain::access::may_attempt` (who may ever do this
//! kind of action); the use case then asks `domain::access::can` for the record itself.

use crate::AppState;
use crate::auth::Viewer;
use crate::error::ApiError;
use axum::Router;
use axum::extract::{OriginalUri, Request, State};
use axum::handler::Handler;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, on};
use counterpart_domain::access::{ActionKind, may_attempt};
use std::sync::Arc;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: signing in and out.
    Anyone,
    /// Whoever may do this kind of action on some record (`ReadPublished` admits the public).
    To(ActionKind),
}

/// Which face of the application a route belongs to: how a refusal is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// A page: sign-in required redirects to the sign-in form, other refusals are error pages.
    Page,
    /// The JSON API under `/api/v1`: the error shape.
    Api,
}

/// One route of the application with its gate.
pub struct Route {
    pub method: Method,
    /// The path as the router spells it (`/projects/{id}`), under the surface's prefix.
    pub path: &'static str,
    pub access: Access,
    handler: MethodRouter<Arc<AppState>>,
}

impl Route {
    pub fn new<H, T>(method: Method, path: &'static str, access: Access, handler: H) -> Route
    where
        H: Handler<T, Arc<AppState>>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(method.clone()).expect("a routable method");
        Route {
            method,
            path,
            access,
            handler: on(filter, handler),
        }
    }
}

/// A route as the tests see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteInfo {
    pub method: Method,
    /// The full path (`/api/v1/projects/{id}`).
    pub path: String,
    pub access: Access,
    pub surface: Surface,
}

/// The routes of one surface as a router, each behind its gate.
pub fn router(
    state: &Arc<AppState>,
    surface: Surface,
    routes: Vec<Route>,
) -> Router<Arc<AppState>> {
    routes.into_iter().fold(Router::new(), |router, route| {
        let gate = Gate {
            access: route.access,
            surface,
        };
        let guarded = route.handler.route_layer(middleware::from_fn_with_state(
            state.clone(),
            move |state: State<Arc<AppState>>, request: Request, next: Next| {
                gate.admit(state, request, next)
            },
        ));
        router.route(route.path, guarded)
    })
}

/// Every route of the application, as the router serves it.
pub fn routes() -> Vec<RouteInfo> {
    let list = |surface: Surface, prefix: &str, routes: Vec<Route>| {
        routes
            .into_iter()
            .map(|r| RouteInfo {
                method: r.method,
                path: format!("{prefix}{}", r.path),
                access: r.access,
                surface,
            })
            .collect::<Vec<_>>()
    };
    let mut all = list(Surface::Page, "", crate::pages::routes());
    all.extend(list(Surface::Api, crate::API_PREFIX, crate::api::routes()));
    all
}

#[derive(Debug, Clone, Copy)]
struct Gate {
    access: Access,
    surface: Surface,
}

impl Gate {
    /// Find who is asking (once: handlers take the [`Viewer`] from the request), refuse those
    /// who may not, and for a cookie-signed API write the missing CSRF header; only then run
    /// the handler.
    async fn admit(
        self,
        State(state): State<Arc<AppState>>,
        request: Request,
        next: Next,
    ) -> Response {
        let (mut parts, body) = request.into_parts();
        // The path as the client sent it (a nested router sees it without its prefix).
        let path = match parts.extensions.get::<OriginalUri>() {
            Some(OriginalUri(uri)) => uri.path().to_owned(),
            None => parts.uri.path().to_owned(),
        };
        let asked = format!("{} {path}", parts.method);
        let viewer = match Viewer::resolve(&parts, &state).await {
            Ok(viewer) => viewer,
            Err(e) => {
                state.security.record("bad_token", "public", asked);
                return self.refuse(&parts, &Viewer::public(), e);
            }
        };
        if let Err(e) = self.check(&parts, &viewer) {
            if e.status == StatusCode::FORBIDDEN {
                let kind = if e.detail.code == "csrf" {
                    "csrf"
                } else {
                    "refused"
                };
                state.security.record(kind, viewer.actor.name(), asked);
            }
            return self.refuse(&parts, &viewer, e);
        }
        let who = viewer.actor.name().to_owned();
        parts.extensions.insert(viewer);
        let response = next.run(Request::from_parts(parts, body)).await;
        // Refused by the use case for the record itself (another office's project…).
        if response.status() == StatusCode::FORBIDDEN {
            state.security.record("refused", &who, asked);
        }
        response
    }

    fn check(&self, parts: &Parts, viewer: &Viewer) -> Result<(), ApiError> {
        if let Access::To(kind) = self.access {
            may_attempt(&viewer.actor, kind)?;
        }
        let writes = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if writes && self.surface == Surface::Api {
            // Page forms carry their token in the body, checked by their handlers.
            viewer.check_csrf(
                parts
                    .headers
                    .get("x-csrf-token")
                    .and_then(|v| v.to_str().ok()),
            )?;
        }
        Ok(())
    }

    fn refuse(&self, parts: &Parts, viewer: &Viewer, e: ApiError) -> Response {
        match self.surface {
            Surface::Api => e.into_response(),
            Surface::Page => crate::pages::refuse(parts, viewer, e),
        }
    }
}
