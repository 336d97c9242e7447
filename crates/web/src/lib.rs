//! Counterpart's web application: server-rendered pages (readable without JavaScript, in
//! English and Simplified Chinese), the JSON API under `/api/v1` with its OpenAPI 3.1 document
//! generated from the handlers, accounts with sessions and API tokens.
//!
//! Architecture Invariant: handlers parse the request, call an `app` use case and render its
//! answer. Who may do what is decided by `domain::access::can`, called by the use cases (for
//! writes) and by the handlers (for reads); no handler holds a business rule.
//!
//! Architecture Invariant: every write goes through an `app` use case that writes its audit
//! line in the same transaction.

pub mod api;
mod auth;
mod cache;
mod error;
pub mod events;
pub mod guard;
mod hardening;
mod i18n;
mod pages;

pub use auth::{MAX_FAILURES, SESSION_COOKIE, SESSION_COOKIE_TLS};
pub use error::{ApiError, ErrorBody};
pub use hardening::{CONTENT_SECURITY_POLICY, Limits, MAX_BODY_BYTES};

use axum::Router;
use counterpart_app::report::Report;
use counterpart_store::Store;
use std::net::SocketAddr;
use std::sync::Arc;

/// The frame of the program as the pages and the API use it.
pub struct Frame {
    pub records: counterpart_domain::records::Records,
    pub tree: counterpart_domain::region::RegionTree,
    /// The region and program names, English and Chinese, for pages in either language.
    pub names: counterpart_app::lang::Names,
}

/// How a server is set up.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Mark cookies `Secure` even without a proxy saying the request came over TLS.
    pub secure_cookies: bool,
    /// Refuse sign-ins of accounts without a second factor (`serve --require-second-factor`).
    pub second_factor_required: bool,
}

/// What every request shares.
pub struct AppState {
    pub store: Arc<dyn Store>,
    /// Mark cookies `Secure` even without a proxy saying the request came over TLS.
    pub secure_cookies: bool,
    /// Refuse sign-ins of accounts without a second factor.
    pub second_factor_required: bool,
    limiter: auth::Limiter,
    /// The pairing proposal takes seconds to compute: computed once in the background, then
    /// served from here.
    pairing: tokio::sync::OnceCell<Result<Report, String>>,
    /// Reports and charts by what was asked, until the records change.
    cache: cache::Cache,
    /// Sign-ins, refusals and the like: to standard error, the latest kept for the audit page.
    pub security: events::SecurityLog,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, secure_cookies: bool) -> Arc<Self> {
        Self::with_options(
            store,
            Options {
                secure_cookies,
                second_factor_required: false,
            },
        )
    }

    pub fn with_options(store: Arc<dyn Store>, options: Options) -> Arc<Self> {
        Arc::new(AppState {
            store,
            secure_cookies: options.secure_cookies,
            second_factor_required: options.second_factor_required,
            limiter: auth::Limiter::default(),
            pairing: tokio::sync::OnceCell::new(),
            cache: cache::Cache::default(),
            security: events::SecurityLog::default(),
        })
    }
}

impl AppState {
    /// A report computed from the records as they are now (cached until they change).
    pub async fn report<F, Fut>(&self, key: String, make: F) -> Result<Arc<Report>, ApiError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Report, counterpart_app::report::ReportError>>,
    {
        self.computed(key, || async { Ok(make().await?) }).await
    }

    /// The program's frame (regions, pairs, indicators, targets…) and its region tree, read
    /// once per data version.
    pub async fn frame(&self) -> Result<Arc<Frame>, ApiError> {
        let store = self.store.clone();
        self.computed("frame".into(), || async move {
            let records = store.frame().await?;
            let tree = counterpart_app::write::tree(&records)?;
            let names = counterpart_app::lang::Names::of(&tree, records.program.as_ref());
            Ok(Frame {
                records,
                tree,
                names,
            })
        })
        .await
    }

    /// A page of projects; the count of all that match is cached (it scans, the page does not).
    pub async fn projects_page(
        &self,
        filter: &counterpart_store::ProjectFilter,
        offset: u64,
        limit: u64,
    ) -> Result<counterpart_store::Page<counterpart_domain::project::Project>, ApiError> {
        let items = self.store.projects_page(filter, offset, limit).await?;
        let (store, counted) = (self.store.clone(), filter.clone());
        let total = self
            .computed(format!("count/projects/{filter:?}"), || async move {
                Ok(store.projects_count(&counted).await?)
            })
            .await?;
        Ok(counterpart_store::Page {
            items,
            total: *total,
        })
    }

    /// A page of transfers, the count cached the same way.
    pub async fn transfers_page(
        &self,
        filter: &counterpart_store::TransferFilter,
        offset: u64,
        limit: u64,
    ) -> Result<counterpart_store::Page<counterpart_domain::project::Transfer>, ApiError> {
        let items = self.store.transfers_page(filter, offset, limit).await?;
        let (store, counted) = (self.store.clone(), filter.clone());
        let total = self
            .computed(format!("count/transfers/{filter:?}"), || async move {
                Ok(store.transfers_count(&counted).await?)
            })
            .await?;
        Ok(counterpart_store::Page {
            items,
            total: *total,
        })
    }

    /// The program summary, cached.
    pub async fn summary(&self) -> Result<Arc<Report>, ApiError> {
        let store = self.store.clone();
        self.report("summary".into(), || async move {
            counterpart_app::report::summary(store.as_ref()).await
        })
        .await
    }

    /// Compliance of a year and provider (or all), cached.
    pub async fn compliance(
        &self,
        year: Option<counterpart_domain::Year>,
        provider: Option<String>,
    ) -> Result<Arc<Report>, ApiError> {
        let store = self.store.clone();
        self.report(format!("compliance/{year:?}/{provider:?}"), || async move {
            counterpart_app::report::compliance(store.as_ref(), year, provider.as_deref(), None)
                .await
        })
        .await
    }

    /// A provider's scorecard, cached.
    pub async fn provider(
        &self,
        code: String,
        year: Option<counterpart_domain::Year>,
    ) -> Result<Arc<Report>, ApiError> {
        let store = self.store.clone();
        self.report(format!("provider/{code}/{year:?}"), || async move {
            counterpart_app::report::provider(store.as_ref(), &code, year).await
        })
        .await
    }

    /// A recipient area's report, cached.
    pub async fn recipient(
        &self,
        code: String,
        year: Option<counterpart_domain::Year>,
    ) -> Result<Arc<Report>, ApiError> {
        let store = self.store.clone();
        self.report(format!("recipient/{code}/{year:?}"), || async move {
            counterpart_app::report::recipient(store.as_ref(), &code, year).await
        })
        .await
    }

    /// Anything else computed from the records, cached the same way.
    pub async fn computed<T, F, Fut>(&self, key: String, make: F) -> Result<Arc<T>, ApiError>
    where
        T: Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<T, ApiError>>,
    {
        let version = self.store.data_version().await?;
        self.cache.get_or(key, &version, make).await
    }
}

/// Where the JSON API lives.
pub const API_PREFIX: &str = "/api/v1";

/// Every route of the application, each behind its gate (`guard`), with the security headers,
/// body limit and time limits of `hardening` around them all.
pub fn router(state: Arc<AppState>) -> Router {
    router_with(state, Limits::default())
}

/// [`router`] with other time limits (the tests shorten them).
pub fn router_with(state: Arc<AppState>, limits: Limits) -> Router {
    let pages =
        guard::router(&state, guard::Surface::Page, pages::routes()).fallback(pages::not_found);
    let api = guard::router(&state, guard::Surface::Api, api::routes()).fallback(api::not_found);
    Router::new()
        .merge(pages)
        .nest(API_PREFIX, api)
        .layer(axum::extract::DefaultBodyLimit::max(
            hardening::MAX_BODY_BYTES,
        ))
        .layer(tower_http::timeout::RequestBodyDeadlineLayer::new(
            limits.body_read,
        ))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            limits.respond,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            hardening::shield,
        ))
        .with_state(state)
}

/// Serve until the process is stopped.
pub async fn serve(state: Arc<AppState>, bind: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(bind).await?;
    let warm = state.clone();
    tokio::spawn(async move {
        pages::pairing_report(&warm).await;
    });
    serve_on(listener, state, Limits::default()).await
}

/// Serve on a bound listener: each connection over HTTP/1.1 with keep-alive, closed when its
/// next request's headers take longer than `limits.header_read` to arrive (slow headers, or a
/// connection left idle).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    limits: Limits,
) -> std::io::Result<()> {
    let app = router_with(state, limits);
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            // Out of file descriptors and the like: wait a little rather than spin.
            Err(e) => {
                eprintln!("error: accepting a connection: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(limits.header_read)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            // A client that goes away or times out is no error of the server's.
            let _ = connection.await;
        });
    }
}
