//! Server-rendered pages, readable without JavaScript: the program overview, provider
//! scorecards, recipient pages, projects with their transfers and sign-off, the ledger, the
//! pairing proposal, the audit log, and the forms offices write with. Every page in English or
//! Simplified Chinese (`?lang=zh`), region names in both.

use crate::AppState;
use crate::api::{self, ProjectQuery, TransferQuery};
use crate::auth::{self, Viewer};
use crate::error::ApiError;
use crate::guard::{Access, Route};
use crate::i18n::{Lang, Phrases};
use axum::Form;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar};
use counterpart_app::lang::Voice;
use counterpart_app::publish::section_html;
use counterpart_app::report::Report;
use counterpart_app::write::{self, NewProject, NewStep, NewTransfer};
use counterpart_domain::access::{AccountRole, Action, ActionKind, Actor, can};
use counterpart_domain::project::{Category, ProjectStatus, TransferKind};
use counterpart_domain::records::Records;
use counterpart_domain::region::RegionTree;
use counterpart_domain::{Fen, RegionCode, Year};
use counterpart_store::ProjectFilter;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// The pages' routes, each with who may call it (see `guard`).
pub fn routes() -> Vec<Route> {
    use ActionKind::*;
    let published = Access::To(ReadPublished);
    let records = Access::To(ReadRecords);
    let provider_write = Access::To(WriteProvider);
    vec![
        Route::new(Method::GET, "/", published, overview),
        Route::new(Method::GET, STYLESHEET, published, stylesheet),
        Route::new(Method::GET, "/providers/{code}", published, provider),
        Route::new(Method::GET, "/recipients/{code}", published, recipient),
        Route::new(Method::GET, "/projects", records, projects),
        Route::new(
            Method::GET,
            "/projects/new",
            provider_write,
            new_project_form,
        ),
        Route::new(Method::POST, "/projects/new", provider_write, new_project),
        Route::new(Method::GET, "/projects/{id}", records, project),
        Route::new(
            Method::POST,
            "/projects/{id}/transfers",
            provider_write,
            post_transfer,
        ),
        Route::new(
            Method::POST,
            "/projects/{id}/signoff",
            Access::To(SignOff),
            sign_off,
        ),
        Route::new(
            Method::POST,
            "/projects/{id}/steps",
            provider_write,
            record_step,
        ),
        Route::new(Method::GET, "/ledger", records, ledger),
        Route::new(Method::GET, "/pairing", published, pairing),
        Route::new(Method::GET, "/assessment", published, assessment),
        Route::new(Method::GET, "/people", records, people),
        Route::new(Method::GET, "/audit", Access::To(ReadAudit), audit),
        Route::new(Method::GET, "/account", records, account_form),
        Route::new(Method::POST, "/account/password", records, change_password),
        Route::new(
            Method::POST,
            "/account/second-factor",
            records,
            enrol_second_factor,
        ),
        Route::new(Method::GET, "/login", Access::Anyone, login_form),
        Route::new(Method::POST, "/login", Access::Anyone, login),
        Route::new(Method::POST, "/logout", Access::Anyone, logout),
    ]
}

/// A refusal by a route's gate, as a page: sign-in required goes to the sign-in form (and
/// back here after), any other refusal is an error page.
pub fn refuse(parts: &Parts, viewer: &Viewer, e: ApiError) -> Response {
    Ui::of(parts).error(viewer, e)
}

/// The pages' one stylesheet: served from here, so the CSP admits no inline style element.
const STYLESHEET: &str = "/static/app.css";

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLE,
    )
        .into_response()
}

const STYLE: &str = "body{font-family:system-ui,'Noto Sans CJK SC','WenQuanYi Micro Hei',sans-serif;max-width:78rem;margin:0 auto;padding:0 1rem 3rem;color:#1b1b1b}\
header{display:flex;flex-wrap:wrap;gap:1rem;align-items:center;border-bottom:2px solid #00796b;padding:.6rem 0;margin-bottom:1rem}\
header a{color:#00594f;text-decoration:none;font-weight:500}header .me{margin-left:auto;font-size:.9rem;color:#444}\
header form{display:inline}button,input,select{font:inherit;padding:.25rem .5rem}button{cursor:pointer}\
table{border-collapse:collapse;margin:1rem 0;font-size:.9rem}th,td{border-bottom:1px solid #ddd;padding:.3rem .6rem;text-align:left;vertical-align:top}\
td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f4f4f4}\
.notes{background:#fff8e1;padding:.5rem 1rem;border-left:4px solid #f0b400}.data{font-size:.85rem;color:#555}\
.error{background:#fdecea;border-left:4px solid #c62828;padding:.5rem 1rem}.ok{background:#e8f5e9;border-left:4px solid #2e7d32;padding:.5rem 1rem}\
.tiles{display:flex;flex-wrap:wrap;gap:4px}.tile{width:9.5rem;padding:.3rem;font-size:.75rem;color:#fff;border-radius:3px}\
.tile small{display:block;opacity:.9}.legend span{display:inline-block;margin:.15rem .4rem;padding:.1rem .4rem;color:#fff;border-radius:3px;font-size:.8rem}\
form.stack label{display:block;margin:.4rem 0}form.stack label span{display:inline-block;min-width:11rem}.filters{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end}\
table{display:block;max-width:100%;overflow-x:auto}svg{max-width:100%;height:auto}";

fn no_names() -> &'static counterpart_app::lang::Names {
    static NAMES: std::sync::OnceLock<counterpart_app::lang::Names> = std::sync::OnceLock::new();
    NAMES.get_or_init(Default::default)
}

/// The language of the page and the path to switch it on.
pub struct Ui {
    lang: Lang,
    chosen: Option<Lang>,
    path: String,
    query: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Ui {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Ui::of(parts))
    }
}

impl Ui {
    fn of(parts: &Parts) -> Ui {
        let query: Vec<&str> = parts
            .uri
            .query()
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty() && !p.starts_with("lang="))
            .collect();
        Ui {
            lang: crate::i18n::lang_of(parts),
            chosen: crate::i18n::chosen(parts),
            path: parts.uri.path().to_owned(),
            query: query.join("&"),
        }
    }
}

impl Ui {
    fn t(&self, key: &'static str) -> &'static str {
        self.lang.t(key)
    }

    /// A coded value (`under_construction`, `disburse`, `simulated`) in the page's language.
    fn code(&self, code: &str) -> String {
        match self.lang {
            Lang::En => code.to_owned(),
            Lang::Zh => Voice::new(self.lang, no_names()).text(code).into_owned(),
        }
    }

    /// The page's language with the program's names, for report texts.
    fn voice<'a>(&self, frame: &'a crate::Frame) -> Voice<'a> {
        Voice::new(self.lang, &frame.names)
    }

    fn switch_href(&self) -> String {
        let sep = if self.query.is_empty() { "" } else { "&" };
        format!(
            "{}?{}{sep}lang={}",
            self.path,
            self.query,
            self.lang.other().code()
        )
    }

    /// A bilingual region name, the page's language first.
    fn region(&self, tree: &RegionTree, code: &RegionCode) -> String {
        match tree.get(code) {
            Some(r) if self.lang == Lang::Zh => format!("{} {}", r.name_zh, r.name_en),
            Some(r) => format!("{} {}", r.name_en, r.name_zh),
            None => code.to_string(),
        }
    }

    fn page(&self, viewer: &Viewer, title: &str, body: Markup) -> Response {
        self.page_with(StatusCode::OK, viewer, title, body)
    }

    fn page_with(
        &self,
        status: StatusCode,
        viewer: &Viewer,
        title: &str,
        body: Markup,
    ) -> Response {
        let markup = html! {
            (DOCTYPE)
            html lang=(self.lang.html_lang()) {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (title) " · " (self.t("app")) }
                    link rel="stylesheet" href=(STYLESHEET);
                }
                body {
                    header {
                        a href="/" { strong { (self.t("app")) } }
                        a href="/" { (self.t("overview")) }
                        a href="/projects" { (self.t("projects")) }
                        a href="/ledger" { (self.t("ledger")) }
                        a href="/people" { (self.t("people")) }
                        a href="/pairing" { (self.t("pairing")) }
                        a href="/assessment" { (self.t("assessment")) }
                        @if matches!(viewer.actor.role(), Some(AccountRole::Admin | AccountRole::Auditor)) {
                            a href="/audit" { (self.t("audit")) }
                        }
                        a #lang href=(self.switch_href()) { (self.t("switch")) }
                        span.me {
                            @match &viewer.actor {
                                Actor::Public => { a href="/login" { (self.t("sign_in")) } }
                                Actor::Account { name, role, office } => {
                                    (self.t("signed_in_as")) " " strong #me translate="no" { (name) } " (" (self.code(role.code()))
                                    @if let Some(o) = office { " · " span translate="no" { (o) } } ") "
                                    a href="/account" { (self.t("account")) } " "
                                    form method="post" action="/logout" {
                                        input type="hidden" name="csrf" value=(viewer.csrf());
                                        button { (self.t("sign_out")) }
                                    }
                                }
                            }
                        }
                    }
                    main {
                        h1 { (title) }
                        (body)
                    }
                }
            }
        };
        let mut response = (status, Html(markup.into_string())).into_response();
        if let Some(lang) = self.chosen {
            let cookie = Cookie::build(("lang", lang.code()))
                .path("/")
                .same_site(axum_extra::extract::cookie::SameSite::Lax)
                .build();
            if let Ok(value) = cookie.to_string().parse() {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
        }
        response
    }

    /// An error as a page: sign-in errors go to the sign-in form.
    fn error(&self, viewer: &Viewer, e: ApiError) -> Response {
        if e.status == StatusCode::UNAUTHORIZED {
            // Back to this very page, filters included, once signed in.
            let here = if self.query.is_empty() {
                self.path.clone()
            } else {
                format!("{}?{}", self.path, self.query)
            };
            let next: String = form_urlencoded::byte_serialize(here.as_bytes()).collect();
            return Redirect::to(&format!("/login?next={next}")).into_response();
        }
        let body = html! { p.error #message { (e.message()) " (" (e.detail.code) ")" } };
        self.page_with(e.status, viewer, self.t("error"), body)
    }
}

type PageResult = Result<Response, ApiError>;

/// A page handler's body run, and its result shown: the page, or the error page for `viewer`.
async fn page(ui: &Ui, viewer: &Viewer, body: impl Future<Output = PageResult>) -> Response {
    body.await.unwrap_or_else(|e| ui.error(viewer, e))
}

pub async fn not_found(ui: Ui, viewer: Viewer) -> Response {
    ui.error(&viewer, ApiError::not_found("no such page"))
}

fn yuan(fen: Fen) -> String {
    let whole = fen.get() / 100;
    let digits = whole.abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    let cents = fen.get().abs() % 100;
    let sign = if fen.get() < 0 { "-" } else { "" };
    if cents == 0 {
        format!("{sign}{out}")
    } else {
        format!("{sign}{out}.{cents:02}")
    }
}

fn report_body(report: &Report, voice: &Voice) -> Markup {
    html! {
        @for note in &report.notes { p.notes { (voice.text(note)) } }
        @for section in &report.sections { (section_html(section, "", voice)) }
    }
}

fn simulated_banner(ui: &Ui, simulated: bool) -> Markup {
    html! { @if simulated { p.notes #simulated { (ui.t("simulated_banner")) } } }
}

/// A colour per provider, stable across pages.
fn colour(code: &RegionCode) -> String {
    let hash = code
        .as_str()
        .bytes()
        .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    format!("hsl({}, 55%, 38%)", hash % 360)
}

// ---- overview, providers, recipients ------------------------------------------------------

async fn overview(State(state): State<Arc<AppState>>, ui: Ui, viewer: Viewer) -> Response {
    page(&ui, &viewer, async {
        let summary = state.summary().await?;
        let store = state.store.clone();
        let lang = ui.lang;
        let charts = state
            .computed(format!("overview-charts/{}", lang.code()), || async move {
                let names = counterpart_app::lang::Names::default();
                let voice = Voice::new(lang, &names);
                let funds =
                    counterpart_app::annual::funds_by_year_chart(store.as_ref(), 900, &voice)
                        .await
                        .map_err(|e| ApiError::internal(&e))?;
                let targets = counterpart_app::annual::targets_chart(store.as_ref(), 900, lang)
                    .await
                    .map_err(|e| ApiError::internal(&e))?;
                Ok((funds, targets))
            })
            .await?;
        let ((chart, simulated), targets) = (&charts.0, &charts.1);
        let simulated = *simulated;
        let frame = state.frame().await?;
        let voice = &ui.voice(&frame);
        let (frame, tree) = (&frame.records, &frame.tree);
        let body = html! {
            (simulated_banner(&ui, simulated))
            @for note in &summary.notes { p.data { (voice.text(note)) } }
            @if let Some(h) = summary.section("headline") { (section_html(h, "", voice)) }
            h2 { (ui.t("funds_by_year")) }
            div #funds-chart { (PreEscaped(chart)) }
            p.data { (ui.t("provenance")) ": " (voice.text(&counterpart_app::report::computed_label(simulated))) }
            @if let Some((svg, caption, simulated)) = targets {
                h2 { (ui.t("poverty")) }
                div #targets-chart { (PreEscaped(svg)) }
                p.data { (caption) ". " (ui.t("provenance")) ": " @if *simulated { (ui.t("series_simulated")) } @else { (ui.t("series_published")) } }
            }
            (pairs_map(&ui, frame, tree))
            @for section in summary.sections.iter().filter(|s| s.key != "headline") { (section_html(section, "", voice)) }
            p { a href="/api/v1/summary?format=csv" { "CSV" } " · " a href="/api/v1/summary?format=xlsx" { "XLSX" } " · " a href="/api/v1/summary" { "JSON" } " · " a href="/api/v1/openapi.json" { "OpenAPI" } }
        };
        Ok(ui.page(&viewer, &voice.text(&summary.title), body))
    })
    .await
}

/// Recipient areas as tiles coloured by their providers (pairs in force in the latest year).
fn pairs_map(ui: &Ui, frame: &Records, tree: &RegionTree) -> Markup {
    let latest = frame.pairs.iter().map(|p| p.first_year).max();
    let mut by_recipient: BTreeMap<&RegionCode, BTreeSet<&RegionCode>> = BTreeMap::new();
    for pair in &frame.pairs {
        if latest.is_some_and(|y| pair.first_year <= y && pair.last_year.is_none_or(|l| l >= y)) {
            by_recipient
                .entry(&pair.recipient)
                .or_default()
                .insert(&pair.provider);
        }
    }
    let providers: BTreeSet<&RegionCode> = by_recipient.values().flatten().copied().collect();
    html! {
        h2 { (ui.t("pairs_map")) }
        p.legend { @for p in &providers { a href={ "/providers/" (p) } { span style={ "background:" (colour(p)) } { (ui.region(tree, p)) } } } }
        div.tiles #pairs-map {
            @for (recipient, providers) in &by_recipient {
                @let first = providers.iter().next().copied();
                a.tile href={ "/recipients/" (recipient) } style={ "background:" (first.map_or_else(|| "#777".to_owned(), colour)) } {
                    (ui.region(tree, recipient))
                    small { @for (i, p) in providers.iter().enumerate() { @if i > 0 { ", " } (ui.region(tree, p)) } }
                }
            }
        }
        p.data { (ui.t("provenance")) ": " (ui.t("published_pairing_table")) }
    }
}

#[derive(Debug, Deserialize)]
struct YearQuery {
    year: Option<u16>,
}

async fn provider(
    State(state): State<Arc<AppState>>,
    ui: Ui,
    viewer: Viewer,
    Path(code): Path<String>,
    Query(q): Query<YearQuery>,
) -> Response {
    page(&ui, &viewer, async {
        let year = api::year_of(q.year)?;
        let report = state.provider(code.clone(), year).await?;
        // Arrears and early warnings: the provider's compliance findings, year by year.
        let compliance = state.compliance(year, Some(code.clone())).await?;
        let frame = state.frame().await?;
        let voice = &ui.voice(&frame);
        let body = html! {
            p { a href={ "/projects?provider=" (code) } { (ui.t("projects")) } " · " a href={ "/ledger?provider=" (code) } { (ui.t("ledger")) } " · " a href={ "/people?provider=" (code) } { (ui.t("people")) }
                " · " a href={ "/api/v1/providers/" (code) "?format=csv" } { "CSV" } " · " a href={ "/api/v1/providers/" (code) "?format=xlsx" } { "XLSX" } }
            (years_chart(&ui, &report, voice)?)
            (report_body(&report, voice))
            (report_body(&compliance, voice))
        };
        // "Provider scorecard: Shanghai 上海市, 2019", in the page's language.
        let title = match RegionCode::parse(&code).ok().filter(|c| frame.tree.get(c).is_some()) {
            Some(c) => format!(
                "{}: {}{}",
                ui.t("scorecard"),
                ui.region(&frame.tree, &c),
                year.map_or(String::new(), |y| format!(", {y}"))
            ),
            None => report.title.clone(),
        };
        Ok(ui.page(&viewer, &title, body))
    })
    .await
}

/// A report's money by year as a chart, with its provenance; nothing when it has none.
fn years_chart(ui: &Ui, report: &Report, voice: &Voice) -> Result<Markup, ApiError> {
    let chart = counterpart_app::annual::years_chart(report, 900, voice)
        .map_err(|e| ApiError::internal(&e))?;
    Ok(html! {
        @if let Some((svg, simulated)) = chart {
            div.chart #years-chart { (PreEscaped(svg)) }
            p.data { (ui.t("provenance")) ": " (voice.text(&counterpart_app::report::computed_label(simulated))) }
        }
    })
}

async fn recipient(
    State(state): State<Arc<AppState>>,
    ui: Ui,
    viewer: Viewer,
    Path(code): Path<String>,
    Query(q): Query<YearQuery>,
) -> Response {
    page(&ui, &viewer, async {
        let year = api::year_of(q.year)?;
        let report = state.recipient(code.clone(), year).await?;
        let frame = state.frame().await?;
        let voice = &ui.voice(&frame);
        let body = html! {
            p { a href={ "/projects?recipient=" (code) } { (ui.t("projects")) }
                " · " a href={ "/api/v1/recipients/" (code) "?format=csv" } { "CSV" } " · " a href={ "/api/v1/recipients/" (code) "?format=xlsx" } { "XLSX" } }
            (years_chart(&ui, &report, voice)?)
            (report_body(&report, voice))
        };
        Ok(ui.page(&viewer, &voice.text(&report.title), body))
    })
    .await
}

// ---- projects --------------------------------------------------------------------------------

async fn reader(state: &AppState, viewer: &Viewer) -> Result<Arc<crate::Frame>, ApiError> {
    let frame = state.frame().await?;
    can(&viewer.actor, &Action::ReadRecords, &frame.tree)?;
    Ok(frame)
}

/// A provider office's own code: its records come first (the filter's "all" shows everyone's).
fn own_office(viewer: &Viewer) -> Option<String> {
    match (viewer.actor.role(), viewer.actor.office()) {
        (Some(AccountRole::ProviderOffice), Some(office)) => Some(office.to_string()),
        _ => None,
    }
}

/// The year a new record most likely belongs to: this year, within the program's years.
fn current_year(frame: &Records) -> String {
    let now: u16 = jiff::Timestamp::now()
        .strftime("%Y")
        .to_string()
        .parse()
        .unwrap_or(0);
    match &frame.program {
        Some(p) => now.clamp(p.first_year.get(), p.last_year.get()).to_string(),
        None => now.to_string(),
    }
}

fn providers_of(frame: &Records) -> Vec<RegionCode> {
    let set: BTreeSet<RegionCode> = frame.pairs.iter().map(|p| p.provider.clone()).collect();
    set.into_iter().collect()
}

fn pager(ui: &Ui, page: u64, per_page: u64, total: u64) -> Markup {
    let pages = total.div_ceil(per_page).max(1);
    let link = |p: u64| {
        let rest: Vec<&str> = ui
            .query
            .split('&')
            .filter(|q| !q.is_empty() && !q.starts_with("page="))
            .collect();
        let sep = if rest.is_empty() { "" } else { "&" };
        format!("{}?{}{sep}page={p}", ui.path, rest.join("&"))
    };
    html! {
        p.pager {
            @if page > 1 { a rel="prev" href=(link(page - 1)) { "← " (ui.t("previous")) } " " }
            (ui.t("page")) " " (page) " " (ui.t("of")) " " (pages) " (" (total) ")"
            @if page < pages { " " a rel="next" href=(link(page + 1)) { (ui.t("next")) " →" } }
        }
    }
}

async fn projects(
    State(state): State<Arc<AppState>>,
    ui: Ui,
    viewer: Viewer,
    Query(mut q): Query<ProjectQuery>,
) -> Response {
    page(&ui, &viewer, async {
        let frame = reader(&state, &viewer).await?;
        let tree = &frame.tree;
        q.provider = q.provider.or_else(|| own_office(&viewer));
        let filter = api::project_filter(&q, tree)?;
        let (page, per_page, offset) = api::paging(q.page, q.per_page)?;
        let found = state.projects_page(&filter, offset, per_page).await?;
        let may_record = matches!(viewer.actor.role(), Some(AccountRole::Admin | AccountRole::ProviderOffice));
        // What awaits this office, or the other side: a recipient office's projects to sign
        // off; a provider office's finished projects still waiting for the recipient's.
        let awaiting = match (&viewer.actor.role(), viewer.actor.office()) {
            (Some(AccountRole::RecipientOffice), Some(office)) => {
                let filter = ProjectFilter { recipients: Some(tree.subtree(office)), ..Default::default() };
                Some(("awaiting", state.store.awaiting_signoff(&filter, 20).await?))
            }
            (Some(AccountRole::ProviderOffice), Some(office)) => {
                let filter = ProjectFilter { provider: Some(office.clone()), ..Default::default() };
                Some(("awaiting_other", state.store.awaiting_signoff(&filter, 20).await?))
            }
            _ => None,
        };
        let selected = |a: &Option<String>, b: &str| a.as_deref() == Some(b);
        let body = html! {
            @if may_record { p { a #new-project href="/projects/new" { (ui.t("new_project")) } } }
            @if let Some((heading, waiting)) = &awaiting {
                h2 { (ui.t(heading)) " (" (waiting.total) ")" }
                ul #awaiting { @for p in &waiting.items { li { a href={ "/projects/" (p.id) } { (p.id) } " " @if ui.lang == Lang::Zh { (p.title_zh) } @else { (p.title_en) } } } }
            }
            form.filters method="get" action="/projects" {
                label { (ui.t("provider")) br; select name="provider" {
                    option value="" { (ui.t("all")) }
                    @for p in providers_of(&frame.records) { option value=(p) selected[selected(&q.provider, p.as_str())] { (ui.region(tree, &p)) } }
                } }
                label { (ui.t("recipient")) br; input name="recipient" value=(q.recipient.clone().unwrap_or_default()) size="14"; }
                label { (ui.t("category")) br; select name="category" {
                    option value="" { (ui.t("all")) }
                    @for c in Category::ALL { option value=(c.code()) selected[selected(&q.category, c.code())] { (ui.code(c.name_en())) } }
                } }
                label { (ui.t("year")) br; input name="year" type="number" value=(q.year.map(|y| y.to_string()).unwrap_or_default()) style="width:6rem"; }
                label { (ui.t("status")) br; select name="status" {
                    option value="" { (ui.t("all")) }
                    @for s in ProjectStatus::ALL { option value=(s.code()) selected[selected(&q.status, s.code())] { (ui.code(s.code())) } }
                } }
                button { (ui.t("filter")) }
            }
            table #projects {
                thead { tr { th { (ui.t("id")) } th { (ui.t("title")) } th { (ui.t("provider")) } th { (ui.t("recipient")) } th { (ui.t("category")) } th { (ui.t("year")) } th { (ui.t("status")) } th { (ui.t("budget")) } th { (ui.t("provenance")) } } }
                tbody {
                    @for p in &found.items {
                        tr {
                            td { a href={ "/projects/" (p.id) } { (p.id) } }
                            td { @if ui.lang == Lang::Zh { (p.title_zh) } @else { (p.title_en) } }
                            td { (ui.region(tree, &p.provider)) }
                            td { (ui.region(tree, &p.recipient)) }
                            td { (ui.code(p.category.name_en())) }
                            td { (p.year) }
                            td { (ui.code(p.status.code())) }
                            td.n { (yuan(p.budget)) }
                            td { (ui.code(p.provenance.kind())) }
                        }
                    }
                }
            }
            (pager(&ui, page, per_page, found.total))
            p { a href="/api/v1/tables/projects.csv" { (ui.t("download_csv")) } }
        };
        Ok(ui.page(&viewer, ui.t("projects"), body))
    })
    .await
}

async fn project(
    State(state): State<Arc<AppState>>,
    ui: Ui,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Response {
    page(
        &ui,
        &viewer,
        project_page(&state, &ui, &viewer, &id, StatusCode::OK, None),
    )
    .await
}

/// A project's page; `message` is the outcome of a form just sent (ok or error).
async fn project_page(
    state: &AppState,
    ui: &Ui,
    viewer: &Viewer,
    id: &str,
    status: StatusCode,
    message: Option<Result<String, ApiError>>,
) -> PageResult {
    let frame = reader(state, viewer).await?;
    let tree = &frame.tree;
    let detail = api::project_detail(state.store.as_ref(), id).await?;
    let p = &detail.project;
    let provider = RegionCode::parse(&p.provider).map_err(|e| ApiError::internal(&e))?;
    let recipient = RegionCode::parse(&p.recipient).map_err(|e| ApiError::internal(&e))?;
    let may_post = can(
        &viewer.actor,
        &Action::WriteProvider {
            provider: &provider,
        },
        tree,
    )
    .is_ok();
    let current = ProjectStatus::parse(&p.status).map_err(|e| ApiError::internal(&e))?;
    let next_steps: Vec<ProjectStatus> = ProjectStatus::ALL
        .into_iter()
        .filter(|s| current.may_go_to(*s).is_ok())
        .collect();
    let may_sign = detail.signoff.is_none()
        && can(
            &viewer.actor,
            &Action::SignOff {
                recipient: &recipient,
            },
            tree,
        )
        .is_ok();
    let body = html! {
        @match &message {
            Some(Ok(text)) => p.ok #message { (text) },
            Some(Err(e)) => div.error #message {
                p { (e.message()) " (" (e.detail.code) ")" }
                @if !e.detail.fields.is_empty() { ul { @for f in &e.detail.fields { li { strong { (f.field) } ": " (f.message) } } } }
            },
            None => {}
        }
        @if p.provenance == "simulated" { p.notes { (ui.t("simulated_banner")) } }
        table #project {
            tr { th { (ui.t("title_en")) } td lang="en" { (p.title_en) } }
            tr { th { (ui.t("title_zh")) } td { (p.title_zh) } }
            tr { th { (ui.t("provider")) } td { a href={ "/providers/" (p.provider) } { (ui.region(tree, &provider)) } } }
            tr { th { (ui.t("recipient")) } td { a href={ "/recipients/" (p.recipient) } { (ui.region(tree, &recipient)) } } }
            tr { th { (ui.t("category")) } td { (ui.code(&p.category)) } }
            tr { th { (ui.t("year")) } td { (p.year) } }
            tr { th { (ui.t("status")) } td { (ui.code(&p.status)) } }
            tr { th { (ui.t("budget")) } td.n { (yuan(Fen::new(p.budget_fen))) } }
            @for (key, n) in [("housing_units", p.housing_units), ("school_places", p.school_places), ("hospital_beds", p.hospital_beds), ("jobs", p.jobs), ("people_trained", p.people_trained), ("beneficiaries", p.beneficiaries)] {
                @if n > 0 { tr { th { (ui.t(key)) } td.n #{ "output-" (key) } { (n) } } }
            }
            tr { th { (ui.t("provenance")) } td { (ui.code(&p.provenance)) } }
            tr { th { (ui.t("sign_off")) } td #signoff {
                @match &detail.signoff {
                    Some(s) => { (ui.t("signed_off")) ": " (s.office) " · " (s.signed_by) " · " (s.at) }
                    None => { (ui.t("not_signed_off")) }
                }
            } }
        }
        h2 { (ui.t("steps")) }
        table #steps {
            thead { tr { th { (ui.t("status")) } th { (ui.t("date")) } th { (ui.t("provenance")) } } }
            tbody { @for st in &detail.steps { tr { td { (ui.code(&st.status)) } td { (st.date) } td { (ui.code(&st.provenance)) } } } }
        }
        @if may_post && !next_steps.is_empty() {
            form.stack #record-step method="post" action={ "/projects/" (p.id) "/steps" } {
                input type="hidden" name="csrf" value=(viewer.csrf());
                label { span { (ui.t("next_step")) } select name="status" {
                    @for k in &next_steps { option value=(k.code()) { (ui.code(k.code())) } }
                } }
                label { span { (ui.t("date")) } input name="date" type="date" required; }
                button { (ui.t("record_step")) }
            }
        }
        h2 { (ui.t("transfers")) }
        table #transfers {
            thead { tr { th { (ui.t("id")) } th { (ui.t("kind")) } th { (ui.t("amount")) } th { (ui.t("value_date")) } th { (ui.t("corrects")) } th { (ui.t("provenance")) } } }
            tbody { @for t in &detail.transfers { tr {
                td { (t.id) } td { (ui.code(&t.kind)) } td.n { (yuan(Fen::new(t.amount_fen))) } td { (t.value_date) }
                td { (t.corrects.clone().unwrap_or_default()) } td { (ui.code(&t.provenance)) }
            } } }
        }
        @if may_post {
            h2 { (ui.t("post_transfer")) }
            form.stack #post-transfer method="post" action={ "/projects/" (p.id) "/transfers" } {
                input type="hidden" name="csrf" value=(viewer.csrf());
                label { span { (ui.t("id")) } input name="id" required value={ (p.id) ".t" (detail.transfers.len() + 1) }; }
                label { span { (ui.t("kind")) } select name="kind" {
                    @for k in [TransferKind::Commit, TransferKind::Disburse, TransferKind::Spend, TransferKind::Decommit, TransferKind::Reversal] {
                        option value=(k.code()) { (ui.code(k.code())) }
                    }
                } }
                label { span { (ui.t("amount")) } input name="amount_yuan" required; }
                label { span { (ui.t("value_date")) } input name="value_date" type="date" required; }
                label { span { (ui.t("corrects")) } input name="corrects"; }
                button { (ui.t("post")) }
            }
        }
        @if may_sign {
            form #sign-off method="post" action={ "/projects/" (p.id) "/signoff" } {
                input type="hidden" name="csrf" value=(viewer.csrf());
                button { (ui.t("sign_off")) }
            }
        }
    };
    Ok(ui.page_with(
        status,
        viewer,
        &format!("{} {}", ui.t("project"), p.id),
        body,
    ))
}

#[derive(Debug, Deserialize)]
struct StepForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    date: String,
}

async fn record_step(
    State(state): State<Arc<AppState>>,
    ui: Ui,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<StepForm>,
) -> Response {
    let outcome = async {
        viewer.check_csrf(Some(&form.csrf))?;
        let frame = state.frame().await?;
        let new = NewStep {
            status: form.status.clone(),
            date: form.date.clone(),
        };
        let step = write::advance_project(
            state.store.as_ref(),
            &viewer.actor,
            &frame.records,
            &id,
            &new,
            api::today(),
        )
        .await?;
        Ok::<_, ApiError>(format!(
            "{}: {} {}",
            ui.t("step_recorded"),
            step.status.code(),
            step.date
        ))
    }
    .await;
    form_outcome(&state, &ui, &viewer, &id, outcome).await
}

#[derive(Debug, Deserialize)]
struct TransferForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    amount_yuan: String,
    #[serde(default)]
    value_date: String,
    #[serde(default)]
    corrects: String,
}

async fn post_transfer(
    State(state): State<Arc<AppState>>,
    ui: Ui,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<TransferForm>,
) -> Response {
    let outcome = async {
        viewer.check_csrf(Some(&form.csrf))?;
        let frame = state.frame().await?;
        let new = NewTransfer {
            id: form.id.clone(),
            project: id.clone(),
            kind: form.kind.clone(),
            amount_yuan: form.amount_yuan.clone(),
            value_date: form.value_date.clone(),
            corrects: Some(form.corrects.clone()),
        };
        write::post_transfer(state.store.as_ref(), &viewer.actor, &frame.records, &new).await?;
        Ok::<_, ApiError>(())
    }
    .await;
    form_outcome(
        &state,
        &ui,
        &viewer,
        &id,
        outcome.map(|()| format!("{} {}", ui.t("posted"), form.id)),
    )
    .await
}

async fn form_outcome(
    state: &AppState,
    ui: &Ui,
    viewer: &Viewer,
    id: &str,
    outcome: Result<String, ApiError>,
) -> Response {
    if let Err(e) = &outcome
        && matches!(e.status, StatusCode::UNAUTHORIZED)
    {
        return ui.error(viewer, e.clone());
    }
    let status = match &outcome {
        Ok(_) => StatusCode::OK,
        Err(e) => e.status,
    };
    let page_ui = Ui {
        lang: ui.lang,
        chosen: None,
        path: format!("/projects/{id}"),
        query: String::new(),
    };
    match project_page(state, &page_ui, viewer, id, status, Some(outcome)).await {
        Ok(page) => page,
        Err(e) => ui.error(viewer, e),
    }
}

#[derive(Debug, Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn sign_off(
    State(state): State<Arc<AppState>>,
    ui: Ui,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let outcome = async {
        viewer.check_csrf(Some(&form.csrf))?;
        let frame = state.frame().await?;
        let s = write::sign_off(state.store.as_ref(), &viewer.actor, &frame.records, &id).await?;
        Ok::<_, ApiError>(format!(
            "{}: {} · {}",
            ui.t("signed_off"),
            s.office,
            s.signed_by
        ))
    }
    .await;
    form_outcome(&state, &ui, &viewer, &id, outcome).await
}

#[derive(Debug, Default, Deserialize)]
struct ProjectForm {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    project: NewProject,
}

async fn new_project_form(State(state): State<Arc<AppState>>, ui: Ui, viewer: Viewer) -> Response {
    let blank = NewProject::default();
    page(
        &ui,
        &viewer,
        project_form(&state, &ui, &viewer, &blank, None),
    )
    .await
}

async fn project_form(
    state: &AppState,
    ui: &Ui,
    viewer: &Viewer,
    values: &NewProject,
    error: Option<ApiError>,
) -> PageResult {
    let frame = reader(state, viewer).await?;
    let tree = &frame.tree;
    let providers: Vec<RegionCode> = match (viewer.actor.role(), viewer.actor.office()) {
        (Some(AccountRole::ProviderOffice), Some(office)) => vec![office.clone()],
        (Some(AccountRole::Admin), _) => providers_of(&frame.records),
        _ => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "role_forbidden",
                ui.t("denied_other"),
            ));
        }
    };
    let year = current_year(&frame.records);
    // The recipients the office may record for: the areas of its pairs.
    let mut recipients: Vec<&RegionCode> = frame
        .records
        .pairs
        .iter()
        .filter(|p| providers.contains(&p.provider))
        .map(|p| &p.recipient)
        .collect();
    recipients.sort();
    recipients.dedup();
    let value = |v: &str, default: &str| {
        if v.is_empty() {
            default.to_owned()
        } else {
            v.to_owned()
        }
    };
    let status = error.as_ref().map_or(StatusCode::OK, |e| e.status);
    let body = html! {
        @if let Some(e) = &error {
            div.error #message {
                p { (e.message()) " (" (e.detail.code) ")" }
                ul { @for f in &e.detail.fields { li { strong { (f.field) } ": " (f.message) } } }
            }
        }
        form.stack #project-form method="post" action="/projects/new" {
            input type="hidden" name="csrf" value=(viewer.csrf());
            label { span { (ui.t("id")) } input name="id" required value=(values.id); }
            label { span { (ui.t("provider")) } select name="provider" {
                @for p in &providers { option value=(p) selected[values.provider == p.as_str()] { (ui.region(tree, p)) } }
            } }
            label { span { (ui.t("recipient")) } select name="recipient" required {
                @for r in &recipients { option value=(r) selected[values.recipient == r.as_str()] { (ui.region(tree, r)) } }
            } }
            label { span { (ui.t("category")) } select name="category" {
                @for c in Category::ALL { option value=(c.code()) selected[values.category == c.code()] { (ui.code(c.name_en())) } }
            } }
            label { span { (ui.t("status")) } select name="status" {
                @for s in ProjectStatus::ALL { option value=(s.code()) selected[values.status == s.code() || (values.status.is_empty() && s == ProjectStatus::Approved)] { (ui.code(s.code())) } }
            } }
            label { span { (ui.t("title_en")) } input name="title_en" required value=(values.title_en); }
            label { span { (ui.t("title_zh")) } input name="title_zh" required value=(values.title_zh); }
            label { span { (ui.t("year")) } input name="year" required value=(value(&values.year, &year)); }
            label { span { (ui.t("budget")) } input name="budget_yuan" required value=(values.budget_yuan); }
            button { (ui.t("record")) }
        }
    };
    Ok(ui.page_with(status, viewer, ui.t("new_project"), body))
}

async fn new_project(
    State(state): State<Arc<AppState>>,
    ui: Ui,
    viewer: Viewer,
    Form(form): Form<ProjectForm>,
) -> Response {
    let outcome = async {
        viewer.check_csrf(Some(&form.csrf))?;
        let frame = state.frame().await?;
        Ok::<_, ApiError>(
            write::record_project(
                state.store.as_ref(),
                &viewer.actor,
                &frame.records,
                &form.project,
            )
            .await?,
        )
    }
    .await;
    match outcome {
        Ok(p) => Redirect::to(&format!("/projects/{}", p.id)).into_response(),
        Err(e) if e.status == StatusCode::UNAUTHORIZED => ui.error(&viewer, e),
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let again = project_form(&state, &ui, &viewer, &form.project, Some(e));
            page(&ui, &viewer, again).await
        }
        Err(e) => ui.error(&viewer, e),
    }
}

// ---- ledger, pairing, audit ---------------------------------------------------------------------

async fn ledger(
    State(state): State<Arc<AppState>>,
    ui: Ui,
    viewer: Viewer,
    Query(mut q): Query<TransferQuery>,
) -> Response {
    page(&ui, &viewer, async {
        let frame = reader(&state, &viewer).await?;
        let tree = &frame.tree;
        q.provider = q.provider.or_else(|| own_office(&viewer));
        let filter = api::transfer_filter(&q, tree)?;
        let (page, per_page, offset) = api::paging(q.page, q.per_page)?;
        let found = state.transfers_page(&filter, offset, per_page).await?;
        // One provider's ledger opens with its money by year: committed, delivered, spent and
        // arrears against the quota, from its scorecard.
        let balances = match &filter.projects.provider {
            Some(code) => Some(state.provider(code.to_string(), None).await?),
            None => None,
        };
        let voice = ui.voice(&frame);
        let selected = |a: &Option<String>, b: &str| a.as_deref() == Some(b);
        let body = html! {
            @if let Some(years) = balances.as_ref().and_then(|r| r.section("years")) {
                div #balances { (section_html(years, "", &voice)) }
            }
            form.filters method="get" action="/ledger" {
                label { (ui.t("provider")) br; select name="provider" {
                    option value="" { (ui.t("all")) }
                    @for p in providers_of(&frame.records) { option value=(p) selected[selected(&q.provider, p.as_str())] { (ui.region(tree, &p)) } }
                } }
                label { (ui.t("kind")) br; select name="kind" {
                    option value="" { (ui.t("all")) }
                    @for k in ["commit", "disburse", "spend", "decommit", "reclassify", "reversal", "adjustment"] { option value=(k) selected[selected(&q.kind, k)] { (ui.code(k)) } }
                } }
                label { (ui.t("projects")) br; input name="project" value=(q.project.clone().unwrap_or_default()) size="14"; }
                button { (ui.t("filter")) }
            }
            table #ledger {
                thead { tr { th { (ui.t("id")) } th { (ui.t("projects")) } th { (ui.t("kind")) } th { (ui.t("amount")) } th { (ui.t("value_date")) } th { (ui.t("corrects")) } th { (ui.t("provenance")) } } }
                tbody { @for t in &found.items { tr {
                    td { (t.id) } td { a href={ "/projects/" (t.project) } { (t.project) } } td { (ui.code(t.kind.code())) }
                    td.n { (yuan(t.amount)) } td { (t.value_date) }
                    td { @if let Some(c) = &t.corrects { (c) } } td { (ui.code(t.provenance.kind())) }
                } } }
            }
            (pager(&ui, page, per_page, found.total))
            p { a href="/api/v1/tables/transfers.csv" { (ui.t("download_csv")) } }
        };
        Ok(ui.page(&viewer, ui.t("ledger"), body))
    })
    .await
}

/// Rows of /people on one page.
const PEOPLE_PER_PAGE: u64 = 100;

#[derive(Debug, Deserialize)]
struct PeopleQuery {
    provider: Option<String>,
    year: Option<u16>,
    role: Option<String>,
    page: Option<u64>,
}

/// Officials and experts posted: postings that started each year, by provider, recipient area
/// and role.
async fn people(
    State(state): State<Arc<AppState>>,
    ui: Ui,
    viewer: Viewer,
    Query(q): Query<PeopleQuery>,
) -> Response {
    page(&ui, &viewer, async {
        let frame = reader(&state, &viewer).await?;
        let tree = &frame.tree;
        // A provider office sees its own people first; "all" shows everyone's.
        let wanted = q.provider.clone().or_else(|| own_office(&viewer));
        let provider = match wanted.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            Some(p) => Some(tree.find(p).map(|r| r.code.clone()).ok_or_else(|| ApiError::bad_request(format!("provider: {p:?} is not a region of the program")))?),
            None => None,
        };
        let role = q.role.as_deref().filter(|r| !r.is_empty());
        let store = state.store.clone();
        let all = state
            .computed("postings".into(), || async move { Ok(store.postings_summary().await?) })
            .await?;
        let rows: Vec<_> = all
            .iter()
            .filter(|r| provider.as_ref().is_none_or(|p| &r.provider == p))
            .filter(|r| q.year.is_none_or(|y| r.year.get() == y))
            .filter(|r| role.is_none_or(|code| r.role.code() == code))
            .collect();
        let total: u64 = rows.iter().map(|r| r.postings).sum();
        let simulated = rows.iter().any(|r| r.simulated);
        let (page, per_page, offset) = api::paging(q.page, Some(PEOPLE_PER_PAGE))?;
        let shown = rows.iter().skip(usize::try_from(offset).unwrap_or(usize::MAX)).take(usize::try_from(per_page).unwrap_or(usize::MAX));
        let voice = ui.voice(&frame);
        let selected = |a: Option<&str>, b: &str| a == Some(b);
        let body = html! {
            (simulated_banner(&ui, simulated))
            form.filters method="get" action="/people" {
                label { (ui.t("provider")) br; select name="provider" {
                    option value="" { (ui.t("all")) }
                    @for p in providers_of(&frame.records) { option value=(p) selected[provider.as_ref() == Some(&p)] { (ui.region(tree, &p)) } }
                } }
                label { (ui.t("year")) br; input name="year" type="number" value=(q.year.map(|y| y.to_string()).unwrap_or_default()) style="width:6rem"; }
                label { (ui.t("role")) br; select name="role" {
                    option value="" { (ui.t("all")) }
                    @for r in [counterpart_domain::people::Role::Cadre, counterpart_domain::people::Role::Professional] { option value=(r.code()) selected[selected(role, r.code())] { (ui.code(r.code())) } }
                } }
                button { (ui.t("filter")) }
            }
            p #people-total { (ui.t("postings_total")) ": " (counterpart_app::lang::grouped(i64::try_from(total).unwrap_or(i64::MAX))) }
            table #people {
                thead { tr { th { (ui.t("year")) } th { (ui.t("provider")) } th { (ui.t("recipient")) } th { (ui.t("role")) } th { (ui.t("postings")) } th { (ui.t("provenance")) } } }
                tbody { @for r in shown { tr {
                    td { (r.year) } td { (ui.region(tree, &r.provider)) } td { (ui.region(tree, &r.recipient)) } td { (ui.code(r.role.code())) }
                    td.n { (counterpart_app::lang::grouped(i64::try_from(r.postings).unwrap_or(i64::MAX))) } td { (voice.text(&counterpart_app::report::computed_label(r.simulated))) }
                } } }
            }
            (pager(&ui, page, per_page, rows.len() as u64))
            p { a href="/api/v1/tables/postings.csv" { (ui.t("download_csv")) } }
        };
        Ok(ui.page(&viewer, ui.t("people"), body))
    })
    .await
}

/// The pairing proposal with its explanations, computed once per process.
pub async fn pairing_report(state: &AppState) -> &Result<Report, String> {
    state
        .pairing
        .get_or_init(|| async {
            counterpart_app::pair::pair(state.store.as_ref(), &Default::default())
                .await
                .map_err(|e| e.to_string())
        })
        .await
}

/// The pairing page's controls: the weights, and a pair to explain ("why not this pair?").
#[derive(Debug, Default, Deserialize)]
struct PairingQuery {
    fit: Option<i64>,
    gap: Option<i64>,
    proportionality: Option<i64>,
    continuity: Option<i64>,
    provider: Option<String>,
    recipient: Option<String>,
}

impl PairingQuery {
    fn is_default(&self) -> bool {
        let blank = |s: &Option<String>| s.as_deref().is_none_or(|s| s.trim().is_empty());
        let weights = counterpart_app::pair::Weights::default();
        self.fit.is_none_or(|v| v == weights.fit)
            && self.gap.is_none_or(|v| v == weights.gap)
            && self
                .proportionality
                .is_none_or(|v| v == weights.proportionality)
            && self.continuity.is_none_or(|v| v == weights.continuity)
            && (blank(&self.provider) || blank(&self.recipient))
    }
}

/// The proposed pairing with its explanations. Anyone sees the proposal for the default
/// weights; the program office and auditors may change the weights and ask why a pair is not
/// proposed (each such proposal is a search of a few seconds, kept until the records change).
async fn pairing(
    State(state): State<Arc<AppState>>,
    ui: Ui,
    viewer: Viewer,
    Query(q): Query<PairingQuery>,
) -> Response {
    page(&ui, &viewer, async {
        let frame = state.frame().await?;
        let voice = &ui.voice(&frame);
        let may_ask = matches!(viewer.actor.role(), Some(AccountRole::Admin | AccountRole::Auditor));
        let report: Arc<Report> = if q.is_default() {
            match pairing_report(&state).await {
                Ok(report) => Arc::new(report.clone()),
                Err(e) => return Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "pairing_failed", e.clone())),
            }
        } else if !may_ask {
            return Err(ApiError::new(StatusCode::FORBIDDEN, "role_forbidden", ui.t("pairing_staff_only")));
        } else {
            let defaults = counterpart_app::pair::Weights::default();
            let weights = counterpart_app::pair::Weights {
                fit: q.fit.unwrap_or(defaults.fit),
                gap: q.gap.unwrap_or(defaults.gap),
                proportionality: q.proportionality.unwrap_or(defaults.proportionality),
                continuity: q.continuity.unwrap_or(defaults.continuity),
            };
            for (name, value) in [("fit", weights.fit), ("gap", weights.gap), ("proportionality", weights.proportionality), ("continuity", weights.continuity)] {
                if !(0..=1000).contains(&value) {
                    return Err(ApiError::bad_request(format!("{name}: {value} is outside 0–1000")));
                }
            }
            let explain: Vec<String> = match (q.provider.as_deref().map(str::trim), q.recipient.as_deref().map(str::trim)) {
                (Some(p), Some(r)) if !p.is_empty() && !r.is_empty() => vec![format!("{p}={r}")],
                _ => Vec::new(),
            };
            let key = format!("pairing/{weights:?}/{explain:?}");
            let store = state.store.clone();
            state
                .report(key, || async move {
                    let options = counterpart_app::pair::PairOptions { weights: Some(weights), explain, ..Default::default() };
                    counterpart_app::pair::pair(store.as_ref(), &options).await
                })
                .await?
        };
        let weights = counterpart_app::pair::Weights::default();
        let value = |v: Option<i64>, d: i64| v.unwrap_or(d);
        let units = pairing_units(&frame.records, &frame.tree);
        let body = html! {
            @if may_ask {
                form.filters #weights method="get" action="/pairing" {
                    label { (ui.t("weight_fit")) br; input name="fit" type="number" min="0" max="1000" value=(value(q.fit, weights.fit)) style="width:6rem"; }
                    label { (ui.t("weight_gap")) br; input name="gap" type="number" min="0" max="1000" value=(value(q.gap, weights.gap)) style="width:6rem"; }
                    label { (ui.t("weight_proportionality")) br; input name="proportionality" type="number" min="0" max="1000" value=(value(q.proportionality, weights.proportionality)) style="width:6rem"; }
                    label { (ui.t("weight_continuity")) br; input name="continuity" type="number" min="0" max="1000" value=(value(q.continuity, weights.continuity)) style="width:6rem"; }
                    label { (ui.t("why_not_provider")) br; select name="provider" {
                        option value="" { "—" }
                        @for p in providers_of(&frame.records) { option value=(p) selected[q.provider.as_deref() == Some(p.as_str())] { (ui.region(&frame.tree, &p)) } }
                    } }
                    label { (ui.t("why_not_recipient")) br; select name="recipient" {
                        option value="" { "—" }
                        @for u in &units { option value=(u) selected[q.recipient.as_deref() == Some(u.as_str())] { (ui.region(&frame.tree, u)) } }
                    } }
                    button { (ui.t("propose")) }
                }
                p.data { (ui.t("pairing_controls_note")) }
            } @else {
                p.data { (ui.t("pairing_sign_in_note")) }
            }
            (report_body(&report, voice))
        };
        Ok(ui.page(&viewer, &voice.text(&report.title), body))
    })
    .await
}

/// The units a pair is proposed with: the prefectures of the paired areas, and the divisions
/// that no prefecture encloses.
fn pairing_units(frame: &Records, tree: &RegionTree) -> Vec<RegionCode> {
    use counterpart_domain::region::RegionKind;
    let set: BTreeSet<RegionCode> = frame
        .pairs
        .iter()
        .filter_map(|p| {
            tree.enclosing(&p.recipient, RegionKind::Prefecture)
                .or_else(|| tree.enclosing(&p.recipient, RegionKind::XpccDivision))
                .map(|r| r.code.clone())
        })
        .collect();
    set.into_iter().collect()
}

#[derive(Debug, Deserialize)]
struct AssessmentQuery {
    year: Option<u16>,
    provider: Option<String>,
}

/// The annual assessment by pair: the program's last year unless `?year=` says otherwise, one
/// provider's pairs with `?provider=`; a form to change either.
async fn assessment(
    State(state): State<Arc<AppState>>,
    ui: Ui,
    viewer: Viewer,
    Query(q): Query<AssessmentQuery>,
) -> Response {
    page(&ui, &viewer, async {
        let frame = state.frame().await?;
        let program = frame
            .records
            .program
            .clone()
            .ok_or_else(|| ApiError::not_found("the database holds no program yet"))?;
        let year = q
            .year
            .map(Year::new)
            .transpose()
            .map_err(|e| ApiError::bad_request(format!("year: {e}")))?;
        let provider = q.provider.filter(|p| !p.is_empty());
        let key = format!("assessment/{year:?}/{}", provider.as_deref().unwrap_or(""));
        let store = state.store.clone();
        let wanted = provider.clone();
        let report = state
            .report(key, || async move {
                counterpart_app::report::assessment(store.as_ref(), year, wanted.as_deref()).await
            })
            .await?;
        let shown = year.unwrap_or(program.last_year);
        let body = html! {
            form.filters method="get" action="/assessment" {
                label { (ui.t("year")) " " input type="number" name="year" value=(shown.get())
                    min=(program.first_year.get()) max=(program.last_year.get()); }
                label { (ui.t("provider")) " " input type="text" name="provider"
                    value=(provider.clone().unwrap_or_default()); }
                button { (ui.t("filter")) }
            }
            (report_body(&report, &ui.voice(&frame)))
        };
        Ok(ui.page(&viewer, &ui.voice(&frame).text(&report.title), body))
    })
    .await
}

#[derive(Debug, Deserialize)]
struct AuditQuery {
    before: Option<i64>,
}

async fn audit(
    State(state): State<Arc<AppState>>,
    ui: Ui,
    viewer: Viewer,
    Query(q): Query<AuditQuery>,
) -> Response {
    page(&ui, &viewer, async {
        let frame = state.frame().await?;
        can(&viewer.actor, &Action::ReadAudit, &frame.tree)?;
        let rows = state.store.audit_log(q.before, 100).await?;
        let last = rows.last().map(|r| r.id);
        let body = html! {
            table #audit {
                thead { tr { th { "#" } th { (ui.t("when")) } th { (ui.t("who")) } th { (ui.t("what")) } th { (ui.t("target")) } th { (ui.t("before")) } th { (ui.t("after")) } } }
                tbody { @for r in &rows { tr {
                    td { (r.id) } td { (r.entry.at) } td { (r.entry.actor) } td { (r.entry.action) } td { (r.entry.target) }
                    td.data { (r.entry.before.clone().unwrap_or_default()) } td.data { (r.entry.after.clone().unwrap_or_default()) }
                } } }
            }
            @if let Some(last) = last { @if rows.len() == 100 { p { a href={ "/audit?before=" (last) } { (ui.t("next")) " →" } } } }
            h2 { (ui.t("security_events")) }
            p.data { (ui.t("security_events_note")) }
            table #security-events {
                thead { tr { th { (ui.t("when")) } th { (ui.t("what")) } th { (ui.t("who")) } th { (ui.t("target")) } } }
                tbody { @for e in state.security.recent().iter().take(200) { tr {
                    td { (e.at) } td { (e.kind) } td { (e.who) } td { (e.detail) }
                } } }
            }
        };
        Ok(ui.page(&viewer, ui.t("audit"), body))
    })
    .await
}

// ---- signing in and out -------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
struct LoginQuery {
    next: Option<String>,
}

/// Only local paths: never send a user elsewhere after signing in.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/".to_owned(),
    }
}

async fn login_form(
    State(state): State<Arc<AppState>>,
    ui: Ui,
    viewer: Viewer,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Response {
    let tls = auth::is_tls(&headers, state.secure_cookies);
    login_page(&ui, &viewer, tls, q.next.as_deref(), None, StatusCode::OK)
}

/// The sign-in form has no session to hold its CSRF token yet: the token goes both into a
/// cookie of its own and into the form, and a sign-in must send the two alike (double submit).
/// Over TLS the cookie is `__Secure-` (kept only if Secure).
const LOGIN_CSRF_COOKIE: &str = "cp_login";
const LOGIN_CSRF_COOKIE_TLS: &str = "__Secure-cp_login";

/// The sign-in page, with a fresh CSRF token in its form and cookie.
fn login_page(
    ui: &Ui,
    viewer: &Viewer,
    tls: bool,
    next: Option<&str>,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let token = counterpart_app::access::secret();
    let body = html! {
        @if let Some(e) = error { p.error #message { (e) } }
        form.stack #login method="post" action="/login" {
            input type="hidden" name="csrf" value=(token);
            input type="hidden" name="next" value=(safe_next(next));
            label { span { (ui.t("name")) } input name="name" autocomplete="username" required; }
            label { span { (ui.t("password")) } input name="password" type="password" autocomplete="current-password" required; }
            label { span { (ui.t("one_time_code")) } input name="code" autocomplete="one-time-code" inputmode="numeric" maxlength="6"; }
            button { (ui.t("sign_in")) }
        }
    };
    let mut response = ui.page_with(status, viewer, ui.t("sign_in"), body);
    let name = if tls {
        LOGIN_CSRF_COOKIE_TLS
    } else {
        LOGIN_CSRF_COOKIE
    };
    let cookie = Cookie::build((name, token))
        .http_only(true)
        .secure(tls)
        .same_site(axum_extra::extract::cookie::SameSite::Strict)
        .path("/login")
        .build();
    if let Ok(value) = cookie.to_string().parse() {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    /// The one-time code, for an account with a second factor.
    #[serde(default)]
    code: String,
    next: Option<String>,
}

async fn login(
    State(state): State<Arc<AppState>>,
    ui: Ui,
    current: Viewer,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Response {
    let viewer = Viewer::public();
    let tls = auth::is_tls(&headers, state.secure_cookies);
    let expected = jar
        .get(LOGIN_CSRF_COOKIE_TLS)
        .or_else(|| jar.get(LOGIN_CSRF_COOKIE))
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    if expected.is_empty() || !auth::same_secret(&expected, &form.csrf) {
        state.security.record("csrf", &form.name, "POST /login");
        let message = "the sign-in form's security token is missing or stale: try again (csrf)";
        return login_page(
            &ui,
            &viewer,
            tls,
            form.next.as_deref(),
            Some(message),
            StatusCode::FORBIDDEN,
        );
    }
    if let Err(wait) = state.limiter.check(&form.name) {
        state
            .security
            .record("sign_in_limited", &form.name, "POST /login");
        let message = format!(
            "too many failed attempts for this account: wait {} minutes (rate_limited)",
            wait.div_ceil(60)
        );
        return login_page(
            &ui,
            &viewer,
            tls,
            form.next.as_deref(),
            Some(&message),
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    use counterpart_app::access::SignIn;
    match counterpart_app::access::sign_in_checked(
        state.store.as_ref(),
        &form.name,
        &form.password,
        Some(&form.code),
        state.second_factor_required,
        auth::now_seconds(),
    )
    .await
    {
        Ok(SignIn::Opened(signed)) => {
            state.limiter.succeeded(&form.name);
            state
                .security
                .record("sign_in", &signed.user.name, "POST /login");
            // A new session id at every sign-in; the session this browser held before ends.
            if let Some(before) = &current.session
                && let Err(e) = state.store.end_session(&before.token_hash).await
            {
                return ui.error(&viewer, e.into());
            }
            let login_cookie = if tls {
                LOGIN_CSRF_COOKIE_TLS
            } else {
                LOGIN_CSRF_COOKIE
            };
            let jar = jar
                .remove(Cookie::build(login_cookie).path("/login").secure(tls))
                .add(auth::session_cookie(signed.token, tls));
            (jar, Redirect::to(&safe_next(form.next.as_deref()))).into_response()
        }
        Ok(SignIn::Refused) => {
            state.limiter.failed(&form.name);
            state
                .security
                .record("sign_in_failed", &form.name, "POST /login");
            login_page(
                &ui,
                &viewer,
                tls,
                form.next.as_deref(),
                Some("wrong account name, password or one-time code (bad_credentials)"),
                StatusCode::UNAUTHORIZED,
            )
        }
        Ok(SignIn::SecondFactorMissing) => {
            state
                .security
                .record("second_factor_missing", &form.name, "POST /login");
            login_page(
                &ui,
                &viewer,
                tls,
                form.next.as_deref(),
                Some(ui.t("second_factor_missing")),
                StatusCode::FORBIDDEN,
            )
        }
        Err(e) => ui.error(&viewer, e.into()),
    }
}

#[derive(Debug, Deserialize)]
struct AccountQuery {
    /// `setup`: show a fresh key and the form that turns the second factor on.
    second_factor: Option<String>,
}

async fn account_form(
    State(state): State<Arc<AppState>>,
    ui: Ui,
    viewer: Viewer,
    Query(q): Query<AccountQuery>,
) -> Response {
    page(&ui, &viewer, async {
        let on = state
            .store
            .totp_secret(viewer.actor.name())
            .await?
            .is_some();
        let setup = (!on && q.second_factor.as_deref() == Some("setup"))
            .then(counterpart_app::access::new_totp_secret);
        let section = second_factor_section(&ui, &viewer, on, setup.as_deref());
        Ok(account_page(&ui, &viewer, None, section, StatusCode::OK))
    })
    .await
}

/// Two-step sign-in on the account page: on, or off with a link to set it up, or the set-up
/// form with a fresh key (typed into an authenticator app, or its otpauth address).
fn second_factor_section(ui: &Ui, viewer: &Viewer, on: bool, setup: Option<&str>) -> Markup {
    html! {
        h2 { (ui.t("second_factor")) }
        @if on {
            p #second-factor-on { (ui.t("second_factor_on")) }
        } @else if let Some(secret) = setup {
            p { (ui.t("second_factor_setup")) }
            p { (ui.t("key")) ": " code #totp-secret { (secret) } }
            p.data { code #totp-uri { (counterpart_app::access::totp_uri(viewer.actor.name(), secret)) } }
            form.stack #second-factor-form method="post" action="/account/second-factor" {
                input type="hidden" name="csrf" value=(viewer.csrf());
                input type="hidden" name="secret" value=(secret);
                label { span { (ui.t("current_password")) } input name="password" type="password" autocomplete="current-password" required; }
                label { span { (ui.t("one_time_code")) } input name="code" autocomplete="one-time-code" inputmode="numeric" maxlength="6" required; }
                button { (ui.t("second_factor_turn_on")) }
            }
        } @else {
            p #second-factor-off { (ui.t("second_factor_off")) " " a href="/account?second_factor=setup" { (ui.t("second_factor_set_up")) } }
        }
    }
}

#[derive(Debug, Deserialize)]
struct SecondFactorForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    secret: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
}

/// Turn the second factor on: the current password and a code of the new key. Every session
/// of the account ends, this one too: the next sign-in needs a code.
async fn enrol_second_factor(
    State(state): State<Arc<AppState>>,
    ui: Ui,
    viewer: Viewer,
    jar: CookieJar,
    Form(form): Form<SecondFactorForm>,
) -> Response {
    let name = viewer.actor.name().to_owned();
    let outcome = async {
        viewer.check_csrf(Some(&form.csrf))?;
        if let Err(wait) = state.limiter.check(&name) {
            return Err(limited(wait));
        }
        let enrolled = counterpart_app::access::enrol_totp(
            state.store.as_ref(),
            &name,
            &form.password,
            &form.secret,
            &form.code,
            auth::now_seconds(),
        )
        .await;
        if matches!(
            enrolled,
            Err(counterpart_app::access::AccessError::WrongPassword)
        ) {
            state.limiter.failed(&name);
        }
        enrolled.map_err(ApiError::from)
    }
    .await;
    match outcome {
        Ok(()) => {
            state
                .security
                .record("second_factor_on", &name, "POST /account/second-factor");
            let jar = jar
                .remove(Cookie::build(auth::SESSION_COOKIE).path("/"))
                .remove(
                    Cookie::build(auth::SESSION_COOKIE_TLS)
                        .path("/")
                        .secure(true),
                );
            (jar, Redirect::to("/login?next=/account")).into_response()
        }
        Err(e) => {
            let section = second_factor_section(&ui, &viewer, false, Some(&form.secret));
            account_page(&ui, &viewer, Some(Err(&e)), section, e.status)
        }
    }
}

fn limited(wait: u64) -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!(
            "too many failed attempts for this account: wait {} minutes",
            wait.div_ceil(60)
        ),
    )
}

/// The account page: who this is, and the form to change the password, with the outcome of
/// the last change (`Ok` a note, `Err` the refusal).
fn account_page(
    ui: &Ui,
    viewer: &Viewer,
    outcome: Option<Result<(), &ApiError>>,
    second_factor: Markup,
    status: StatusCode,
) -> Response {
    let body = html! {
        @match outcome {
            Some(Ok(())) => { p.ok #message { (ui.t("password_changed")) } }
            Some(Err(e)) => { p.error #message { (e.message()) " (" (e.detail.code) ")" } }
            None => {}
        }
        h2 { (ui.t("change_password")) }
        form.stack #password-form method="post" action="/account/password" {
            input type="hidden" name="csrf" value=(viewer.csrf());
            label { span { (ui.t("current_password")) } input name="current" type="password" autocomplete="current-password" required; }
            label { span { (ui.t("new_password")) } input name="new" type="password" autocomplete="new-password" minlength="10" required; }
            label { span { (ui.t("new_password_again")) } input name="again" type="password" autocomplete="new-password" minlength="10" required; }
            button { (ui.t("change_password")) }
        }
        p.data { (ui.t("password_policy")) }
        (second_factor)
    };
    ui.page_with(status, viewer, ui.t("account"), body)
}

#[derive(Debug, Deserialize)]
struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    again: String,
}

/// Change one's own password: the current one is checked (and failures count towards the
/// sign-in limit of the account), the new one typed twice and held to the policy.
async fn change_password(
    State(state): State<Arc<AppState>>,
    ui: Ui,
    viewer: Viewer,
    Form(form): Form<PasswordForm>,
) -> Response {
    let name = viewer.actor.name().to_owned();
    let outcome = async {
        viewer.check_csrf(Some(&form.csrf))?;
        if let Err(wait) = state.limiter.check(&name) {
            return Err(limited(wait));
        }
        if form.new != form.again {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_account",
                "the two new passwords differ",
            ));
        }
        let frame = state.frame().await?;
        let keep = viewer.session.as_ref().map(|s| s.token_hash.as_str());
        let changed = counterpart_app::access::change_password(
            state.store.as_ref(),
            &frame.records,
            &name,
            &form.current,
            &form.new,
            keep,
        )
        .await;
        if matches!(
            changed,
            Err(counterpart_app::access::AccessError::WrongPassword)
        ) {
            state.limiter.failed(&name);
            state
                .security
                .record("password_change_failed", &name, "POST /account/password");
        }
        changed.map_err(ApiError::from)
    }
    .await;
    let on = matches!(state.store.totp_secret(&name).await, Ok(Some(_)));
    let section = second_factor_section(&ui, &viewer, on, None);
    match outcome {
        Ok(()) => {
            state
                .security
                .record("password_changed", &name, "POST /account/password");
            account_page(&ui, &viewer, Some(Ok(())), section, StatusCode::OK)
        }
        Err(e) => account_page(&ui, &viewer, Some(Err(&e)), section, e.status),
    }
}

async fn logout(
    State(state): State<Arc<AppState>>,
    ui: Ui,
    viewer: Viewer,
    jar: CookieJar,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(e) = viewer.check_csrf(Some(&form.csrf)) {
        return ui.error(&viewer, e);
    }
    if let Some(session) = &viewer.session
        && let Err(e) = state.store.end_session(&session.token_hash).await
    {
        return ui.error(&viewer, e.into());
    }
    if viewer.session.is_some() {
        state
            .security
            .record("sign_out", viewer.actor.name(), "POST /logout");
    }
    let jar = jar
        .remove(Cookie::build(auth::SESSION_COOKIE).path("/"))
        .remove(
            Cookie::build(auth::SESSION_COOKIE_TLS)
                .path("/")
                .secure(true),
        );
    (jar, Redirect::to("/")).into_response()
}
