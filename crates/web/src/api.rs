//! The JSON API under `/api/v1`, and its OpenAPI 3.1 document generated from these handlers
//! (`/api/v1/openapi.json`). One error shape ([`ErrorBody`]); lists are paged (`page`,
//! `per_page`) and filtered; every table downloads as CSV, streamed row by row.
//!
//! Reads of published aggregates are public; reads of records need an account; writes need the
//! right account (see `domain::access`). Send `Authorization: Bearer TOKEN`, or the session
//! cookie with the header `X-CSRF-Token`.

use crate::AppState;
use crate::auth::Viewer;
use crate::error::{ApiError, ErrorBody};
use crate::guard::{Access, Route};
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use counterpart_app::report::{self};
use counterpart_app::write::{self, NewProject, NewStep, NewTransfer};
use counterpart_domain::access::{Action, ActionKind, can};
use counterpart_domain::ledger::Applied;
use counterpart_domain::project::{
    Category, Project, ProjectStatus, ProjectStep, Transfer, TransferKind,
};
use counterpart_domain::region::RegionTree;
use counterpart_domain::{RecordId, Year};
use counterpart_store::{ProjectFilter, Store, TransferFilter};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, OpenApi, ToSchema};

/// `Query`, answering a malformed query string in the API's error shape.
pub struct Q<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequestParts<S> for Q<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| Q(value))
            .map_err(|e| ApiError::bad_request(e.body_text()))
    }
}

/// `Path`, answering a malformed path segment in the API's error shape.
pub struct P<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned + Send> axum::extract::FromRequestParts<S>
    for P<T>
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| P(value))
            .map_err(|e| ApiError::bad_request(e.body_text()))
    }
}

/// The API's routes, each with who may call it (see `guard`).
pub fn routes() -> Vec<Route> {
    use ActionKind::*;
    let published = Access::To(ReadPublished);
    vec![
        Route::new(Method::GET, "/openapi.json", published, openapi),
        Route::new(Method::GET, "/summary", published, summary),
        Route::new(Method::GET, "/compliance", published, compliance),
        Route::new(Method::GET, "/providers/{code}", published, provider),
        Route::new(Method::GET, "/recipients/{code}", published, recipient),
        Route::new(Method::GET, "/projects", Access::To(ReadRecords), projects),
        Route::new(
            Method::POST,
            "/projects",
            Access::To(WriteProvider),
            create_project,
        ),
        Route::new(
            Method::GET,
            "/projects/{id}",
            Access::To(ReadRecords),
            project,
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
            Access::To(WriteProvider),
            create_step,
        ),
        Route::new(
            Method::GET,
            "/transfers",
            Access::To(ReadRecords),
            transfers,
        ),
        Route::new(
            Method::POST,
            "/transfers",
            Access::To(WriteProvider),
            create_transfer,
        ),
        Route::new(Method::GET, "/audit", Access::To(ReadAudit), audit),
        Route::new(
            Method::GET,
            "/tables/{file}",
            Access::To(ReadRecords),
            table_file,
        ),
    ]
}

pub async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint: see /api/v1/openapi.json")
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Counterpart API",
        version = "1",
        description = "Pairing-assistance programs: published aggregates, projects, the funds ledger, sign-offs and the audit log. Errors: {\"error\": {\"code\", \"message\", \"fields\"}}."
    ),
    paths(
        summary, compliance, provider, recipient, projects, project, create_project, sign_off,
        create_step, transfers, create_transfer, audit, table_file
    ),
    components(schemas(
        ErrorBody, ReportFormat, ProjectView, TransferView, ProjectPage, TransferPage, ProjectDetail,
        SignOffView, StepView, NewStepBody, AuditView, Posted, NewProjectBody, NewTransferBody
    )),
    modifiers(&Security)
)]
pub struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI 3.1 document of this API.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(document())
}

// ---- reports: published aggregates -------------------------------------------------------

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// Only this year.
    year: Option<u16>,
    /// Only this provider (code or name).
    provider: Option<String>,
    /// json (default), csv (one tidy table: section,row,column,value,unit) or xlsx (a sheet per
    /// section).
    format: Option<ReportFormat>,
}

/// How a report is sent.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    #[default]
    Json,
    Csv,
    Xlsx,
}

/// A report in the format asked for.
fn report_response(
    report: &report::Report,
    format: Option<ReportFormat>,
) -> Result<Response, ApiError> {
    let attachment = |ext: &str| format!("attachment; filename=\"{}.{ext}\"", report.report);
    match format.unwrap_or_default() {
        ReportFormat::Json => Ok(Json(report).into_response()),
        ReportFormat::Csv => {
            let mut bytes = Vec::new();
            report::write_csv(report, &mut bytes).map_err(|e| ApiError::internal(&e))?;
            Ok((
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                    (header::CONTENT_DISPOSITION, attachment("csv")),
                ],
                bytes,
            )
                .into_response())
        }
        ReportFormat::Xlsx => {
            let bytes =
                counterpart_app::export::report_xlsx(report).map_err(|e| ApiError::internal(&e))?;
            Ok((
                [
                    (header::CONTENT_TYPE, XLSX.to_owned()),
                    (header::CONTENT_DISPOSITION, attachment("xlsx")),
                ],
                bytes,
            )
                .into_response())
        }
    }
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormatQuery {
    /// json (default), csv or xlsx.
    format: Option<ReportFormat>,
}

pub fn year_of(year: Option<u16>) -> Result<Option<Year>, ApiError> {
    year.map(Year::new)
        .transpose()
        .map_err(|e| ApiError::bad_request(format!("year: {e}")))
}

/// What every route that needs an account answers first when there is none (the gate,
/// `guard.rs`, answers it before the handler runs).
#[derive(utoipa::IntoResponses)]
#[response(status = 401, description = "Sign in first")]
#[expect(
    dead_code,
    reason = "a type for the OpenAPI document only, never built"
)]
struct SignInFirst(ErrorBody);

/// The program's summary: headline figures with provenance, years, pairs.
#[utoipa::path(get, path = "/api/v1/summary", tag = "published", params(FormatQuery),
    responses((status = 200, description = "A report: sections of columns and rows, with notes", 
               content((serde_json::Value = "application/json"), (String = "text/csv"),
                       (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
              (status = 400, description = "A bad format", body = ErrorBody)))]
async fn summary(
    State(state): State<Arc<AppState>>,
    Q(q): Q<FormatQuery>,
) -> Result<Response, ApiError> {
    let report = state.summary().await?;
    report_response(&report, q.format)
}

/// Each provider-year held to the program's rules.
#[utoipa::path(get, path = "/api/v1/compliance", tag = "published", params(ReportQuery),
    responses((status = 200, description = "A report", 
               content((serde_json::Value = "application/json"), (String = "text/csv"),
                       (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
              (status = 400, description = "A bad filter", body = ErrorBody),
              (status = 404, description = "No such provider", body = ErrorBody)))]
async fn compliance(
    State(state): State<Arc<AppState>>,
    Q(q): Q<ReportQuery>,
) -> Result<Response, ApiError> {
    let year = year_of(q.year)?;
    let report = state.compliance(year, q.provider.clone()).await?;
    report_response(&report, q.format)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct YearQuery {
    /// Only this year.
    year: Option<u16>,
    /// json (default), csv or xlsx.
    format: Option<ReportFormat>,
}

/// A provider's scorecard: quota against money by year, its pairs.
#[utoipa::path(get, path = "/api/v1/providers/{code}", tag = "published",
    params(("code" = String, Path, description = "Provider code or name"), YearQuery),
    responses((status = 200, description = "A report", 
               content((serde_json::Value = "application/json"), (String = "text/csv"),
                       (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
              (status = 400, description = "A bad year or format", body = ErrorBody),
              (status = 404, description = "No such provider", body = ErrorBody)))]
async fn provider(
    State(state): State<Arc<AppState>>,
    P(code): P<String>,
    Q(q): Q<YearQuery>,
) -> Result<Response, ApiError> {
    let year = year_of(q.year)?;
    let report = state.provider(code, year).await?;
    report_response(&report, q.format)
}

/// A recipient area: who helps it, money arrived, outcomes against targets.
#[utoipa::path(get, path = "/api/v1/recipients/{code}", tag = "published",
    params(("code" = String, Path, description = "Recipient code or name"), YearQuery),
    responses((status = 200, description = "A report", 
               content((serde_json::Value = "application/json"), (String = "text/csv"),
                       (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
              (status = 400, description = "A bad year or format", body = ErrorBody),
              (status = 404, description = "No such recipient", body = ErrorBody)))]
async fn recipient(
    State(state): State<Arc<AppState>>,
    P(code): P<String>,
    Q(q): Q<YearQuery>,
) -> Result<Response, ApiError> {
    let year = year_of(q.year)?;
    let report = state.recipient(code, year).await?;
    report_response(&report, q.format)
}

// ---- records ------------------------------------------------------------------------------

/// A project.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectView {
    pub id: String,
    pub provider: String,
    pub recipient: String,
    pub category: String,
    pub status: String,
    pub title_en: String,
    pub title_zh: String,
    pub year: u16,
    pub budget_fen: i64,
    pub housing_units: u64,
    pub school_places: u64,
    pub hospital_beds: u64,
    pub jobs: u64,
    pub people_trained: u64,
    /// People the project serves.
    pub beneficiaries: u64,
    /// published, recorded or simulated.
    pub provenance: String,
}

impl From<&Project> for ProjectView {
    fn from(p: &Project) -> Self {
        ProjectView {
            id: p.id.to_string(),
            provider: p.provider.to_string(),
            recipient: p.recipient.to_string(),
            category: p.category.code().into(),
            status: p.status.code().into(),
            title_en: p.title_en.clone(),
            title_zh: p.title_zh.clone(),
            year: p.year.get(),
            budget_fen: p.budget.get(),
            housing_units: p.outputs.housing_units,
            school_places: p.outputs.school_places,
            hospital_beds: p.outputs.hospital_beds,
            jobs: p.outputs.jobs,
            people_trained: p.outputs.people_trained,
            beneficiaries: p.outputs.beneficiaries,
            provenance: p.provenance.kind().into(),
        }
    }
}

/// A transfer of the ledger.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransferView {
    pub id: String,
    pub project: String,
    pub kind: String,
    pub amount_fen: i64,
    pub currency: String,
    pub value_date: String,
    /// The transfer this one corrects (reversals, adjustments).
    pub corrects: Option<String>,
    pub phase: String,
    pub provenance: String,
}

impl From<&Transfer> for TransferView {
    fn from(t: &Transfer) -> Self {
        TransferView {
            id: t.id.to_string(),
            project: t.project.to_string(),
            kind: t.kind.code().into(),
            amount_fen: t.amount.get(),
            currency: t.currency.to_string(),
            value_date: t.value_date.to_string(),
            corrects: t.corrects.as_ref().map(ToString::to_string),
            phase: t.phase.code().into(),
            provenance: t.provenance.kind().into(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectPage {
    pub items: Vec<ProjectView>,
    pub page: u64,
    pub per_page: u64,
    pub total: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TransferPage {
    pub items: Vec<TransferView>,
    pub page: u64,
    pub per_page: u64,
    pub total: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignOffView {
    pub office: String,
    pub signed_by: String,
    pub at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectDetail {
    pub project: ProjectView,
    /// The dated steps of the project's life, in order.
    pub steps: Vec<StepView>,
    pub transfers: Vec<TransferView>,
    pub signoff: Option<SignOffView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StepView {
    /// approved, under_construction, completed, handed_over, in_operation or cancelled.
    pub status: String,
    pub date: String,
    pub provenance: String,
}

impl From<&ProjectStep> for StepView {
    fn from(s: &ProjectStep) -> Self {
        StepView {
            status: s.status.code().to_owned(),
            date: s.date.to_string(),
            provenance: s.provenance.kind().to_owned(),
        }
    }
}

/// The next step of a project's life.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewStepBody {
    /// The status reached: the one after the project's current status (or cancelled, before
    /// completion).
    pub status: String,
    /// The day it happened, YYYY-MM-DD: not before the last step, not in the future.
    pub date: String,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProjectQuery {
    /// Provider code.
    pub provider: Option<String>,
    /// Recipient area (code or name): the area and everything below it.
    pub recipient: Option<String>,
    pub category: Option<String>,
    pub year: Option<u16>,
    pub status: Option<String>,
    /// From 1.
    pub page: Option<u64>,
    /// 1–500, 50 by default.
    pub per_page: Option<u64>,
}

pub const MAX_PER_PAGE: u64 = 500;

/// `(page, per_page, offset)` of a request.
pub fn paging(page: Option<u64>, per_page: Option<u64>) -> Result<(u64, u64, u64), ApiError> {
    let page = page.unwrap_or(1);
    let per_page = per_page.unwrap_or(50);
    if page == 0 || page > 1_000_000 {
        return Err(ApiError::bad_request(
            "page: count from 1 (at most 1,000,000)",
        ));
    }
    if per_page == 0 || per_page > MAX_PER_PAGE {
        return Err(ApiError::bad_request(format!(
            "per_page: 1 to {MAX_PER_PAGE}"
        )));
    }
    Ok((page, per_page, (page - 1) * per_page))
}

/// The store's filter for a query; `tree` resolves names and areas.
pub fn project_filter(q: &ProjectQuery, tree: &RegionTree) -> Result<ProjectFilter, ApiError> {
    let nonempty = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let region = |text: &str, what: &str| {
        tree.find(text).map(|r| r.code.clone()).ok_or_else(|| {
            ApiError::bad_request(format!("{what}: {text:?} is not a region of the program"))
        })
    };
    Ok(ProjectFilter {
        provider: nonempty(&q.provider)
            .map(|p| region(&p, "provider"))
            .transpose()?,
        recipients: nonempty(&q.recipient)
            .map(|r| region(&r, "recipient").map(|code| tree.subtree(&code)))
            .transpose()?,
        category: nonempty(&q.category)
            .map(|c| {
                Category::parse(&c).map_err(|e| ApiError::bad_request(format!("category: {e}")))
            })
            .transpose()?,
        year: year_of(q.year)?,
        status: nonempty(&q.status)
            .map(|s| {
                ProjectStatus::parse(&s).map_err(|e| ApiError::bad_request(format!("status: {e}")))
            })
            .transpose()?,
    })
}

async fn records_reader(state: &AppState, viewer: &Viewer) -> Result<Arc<crate::Frame>, ApiError> {
    let frame = state.frame().await?;
    can(&viewer.actor, &Action::ReadRecords, &frame.tree)?;
    Ok(frame)
}

/// Projects, filtered and paged (newest year first).
#[utoipa::path(get, path = "/api/v1/projects", tag = "records", params(ProjectQuery),
    security(("token" = [])),
    responses((status = 200, body = ProjectPage),
              (status = 400, description = "A bad filter", body = ErrorBody),
              SignInFirst))]
async fn projects(
    State(state): State<Arc<AppState>>,
    viewer: Viewer,
    Q(q): Q<ProjectQuery>,
) -> Result<Json<ProjectPage>, ApiError> {
    let frame = records_reader(&state, &viewer).await?;
    let filter = project_filter(&q, &frame.tree)?;
    let (page, per_page, offset) = paging(q.page, q.per_page)?;
    let found = state.projects_page(&filter, offset, per_page).await?;
    Ok(Json(ProjectPage {
        items: found.items.iter().map(ProjectView::from).collect(),
        page,
        per_page,
        total: found.total,
    }))
}

fn record_id(text: &str, what: &str) -> Result<RecordId, ApiError> {
    RecordId::parse(text).map_err(|e| ApiError::not_found(format!("{what} {text:?}: {e}")))
}

/// One project with its transfers and sign-off.
#[utoipa::path(get, path = "/api/v1/projects/{id}", tag = "records",
    params(("id" = String, Path, description = "Project id")),
    security(("token" = [])),
    responses((status = 200, body = ProjectDetail),
              (status = 400, description = "A malformed id", body = ErrorBody),
              SignInFirst,
              (status = 404, description = "No such project", body = ErrorBody)))]
async fn project(
    State(state): State<Arc<AppState>>,
    viewer: Viewer,
    P(id): P<String>,
) -> Result<Json<ProjectDetail>, ApiError> {
    records_reader(&state, &viewer).await?;
    Ok(Json(project_detail(state.store.as_ref(), &id).await?))
}

pub async fn project_detail(store: &dyn Store, id: &str) -> Result<ProjectDetail, ApiError> {
    let id = record_id(id, "project")?;
    let project = store
        .project(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no project {id}")))?;
    let filter = TransferFilter {
        project: Some(id.clone()),
        ..Default::default()
    };
    let transfers = store.transfers_page(&filter, 0, 10_000).await?;
    let signoff = store.signoff(&id).await?;
    let steps = store.project_steps(&id).await?;
    Ok(ProjectDetail {
        project: ProjectView::from(&project),
        steps: steps.iter().map(StepView::from).collect(),
        transfers: transfers.iter().map(TransferView::from).collect(),
        signoff: signoff.map(|s| SignOffView {
            office: s.office.to_string(),
            signed_by: s.signed_by,
            at: s.at,
        }),
    })
}

/// A new project, every field as text (parsed and checked like an import).
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewProjectBody {
    pub id: String,
    /// Provider code; a provider office may only name its own.
    pub provider: String,
    /// Recipient code or name: an area its provider is paired with that year.
    pub recipient: String,
    pub category: String,
    #[serde(default)]
    pub status: Option<String>,
    pub title_en: String,
    pub title_zh: String,
    pub year: u16,
    /// In yuan, e.g. "1250000.50".
    pub budget_yuan: String,
}

/// Record a project (admin, or the office of its provider).
#[utoipa::path(post, path = "/api/v1/projects", tag = "writes", request_body = NewProjectBody,
    security(("token" = [])),
    responses((status = 201, body = ProjectView),
              (status = 400, description = "A body that is not JSON", body = ErrorBody),
              SignInFirst,
              (status = 403, description = "Not this account's provider, or a stale CSRF token", body = ErrorBody),
              (status = 415, description = "Not application/json", body = ErrorBody),
              (status = 422, description = "Fields at fault; nothing written", body = ErrorBody)))]
async fn create_project(
    State(state): State<Arc<AppState>>,
    viewer: Viewer,
    body: Result<Json<NewProjectBody>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<ProjectView>), ApiError> {
    let Json(body) = body.map_err(json_rejection)?;
    let frame = state.frame().await?;
    let new = NewProject {
        id: body.id,
        provider: body.provider,
        recipient: body.recipient,
        category: body.category,
        status: body.status.unwrap_or_default(),
        title_en: body.title_en,
        title_zh: body.title_zh,
        year: body.year.to_string(),
        budget_yuan: body.budget_yuan,
    };
    let project =
        write::record_project(state.store.as_ref(), &viewer.actor, &frame.records, &new).await?;
    Ok((StatusCode::CREATED, Json(ProjectView::from(&project))))
}

pub fn json_rejection(e: axum::extract::rejection::JsonRejection) -> ApiError {
    ApiError::new(e.status(), "bad_body", e.body_text())
}

/// A sign-off as recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignedOff {
    pub project: String,
    pub office: String,
    pub signed_by: String,
    pub at: String,
}

/// Sign off a project (admin, or the recipient office of its area).
#[utoipa::path(post, path = "/api/v1/projects/{id}/signoff", tag = "writes",
    params(("id" = String, Path, description = "Project id")),
    security(("token" = [])),
    responses((status = 201, body = SignOffView),
              (status = 400, description = "A malformed id", body = ErrorBody),
              SignInFirst,
              (status = 403, description = "Not this account's area", body = ErrorBody),
              (status = 404, description = "No such project", body = ErrorBody),
              (status = 409, description = "Already signed off", body = ErrorBody),
              (status = 422, description = "An id that cannot name a project", body = ErrorBody)))]
async fn sign_off(
    State(state): State<Arc<AppState>>,
    viewer: Viewer,
    P(id): P<String>,
) -> Result<(StatusCode, Json<SignOffView>), ApiError> {
    let frame = state.frame().await?;
    let signoff = write::sign_off(state.store.as_ref(), &viewer.actor, &frame.records, &id).await?;
    Ok((
        StatusCode::CREATED,
        Json(SignOffView {
            office: signoff.office.to_string(),
            signed_by: signoff.signed_by,
            at: signoff.at,
        }),
    ))
}

/// Record the next step of a project's life (admin, or the office of its provider); the
/// project's status moves with it.
#[utoipa::path(post, path = "/api/v1/projects/{id}/steps", tag = "writes", request_body = NewStepBody,
    params(("id" = String, Path, description = "Project id")),
    security(("token" = [])),
    responses((status = 201, body = StepView),
              (status = 400, description = "A body that is not JSON", body = ErrorBody),
              SignInFirst,
              (status = 403, description = "Not this account's provider", body = ErrorBody),
              (status = 404, description = "No such project", body = ErrorBody),
              (status = 409, description = "The project changed status meanwhile", body = ErrorBody),
              (status = 415, description = "Not application/json", body = ErrorBody),
              (status = 422, description = "A step out of order or a date out of place; nothing written", body = ErrorBody)))]
async fn create_step(
    State(state): State<Arc<AppState>>,
    viewer: Viewer,
    P(id): P<String>,
    body: Result<Json<NewStepBody>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<StepView>), ApiError> {
    let Json(body) = body.map_err(json_rejection)?;
    let frame = state.frame().await?;
    let step = write::advance_project(
        state.store.as_ref(),
        &viewer.actor,
        &frame.records,
        &id,
        &NewStep {
            status: body.status,
            date: body.date,
        },
        today(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(StepView::from(&step))))
}

/// Today in UTC.
pub fn today() -> counterpart_domain::Date {
    jiff::tz::TimeZone::UTC
        .to_datetime(jiff::Timestamp::now())
        .date()
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TransferQuery {
    /// Only this project's.
    pub project: Option<String>,
    /// commit, disburse, spend, decommit, reclassify, reversal or adjustment.
    pub kind: Option<String>,
    /// Only this provider's projects.
    pub provider: Option<String>,
    /// Only projects in this recipient area.
    pub recipient: Option<String>,
    pub year: Option<u16>,
    pub page: Option<u64>,
    pub per_page: Option<u64>,
}

pub fn transfer_filter(q: &TransferQuery, tree: &RegionTree) -> Result<TransferFilter, ApiError> {
    let projects = project_filter(
        &ProjectQuery {
            provider: q.provider.clone(),
            recipient: q.recipient.clone(),
            year: q.year,
            ..Default::default()
        },
        tree,
    )?;
    let nonempty = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    Ok(TransferFilter {
        projects,
        project: nonempty(&q.project)
            .map(|p| {
                RecordId::parse(&p).map_err(|e| ApiError::bad_request(format!("project: {e}")))
            })
            .transpose()?,
        kind: nonempty(&q.kind)
            .map(|k| {
                TransferKind::parse(&k).map_err(|e| ApiError::bad_request(format!("kind: {e}")))
            })
            .transpose()?,
    })
}

/// The ledger's transfers, filtered and paged (latest value date first).
#[utoipa::path(get, path = "/api/v1/transfers", tag = "records", params(TransferQuery),
    security(("token" = [])),
    responses((status = 200, body = TransferPage),
              (status = 400, description = "A bad filter", body = ErrorBody),
              SignInFirst))]
async fn transfers(
    State(state): State<Arc<AppState>>,
    viewer: Viewer,
    Q(q): Q<TransferQuery>,
) -> Result<Json<TransferPage>, ApiError> {
    let frame = records_reader(&state, &viewer).await?;
    let filter = transfer_filter(&q, &frame.tree)?;
    let (page, per_page, offset) = paging(q.page, q.per_page)?;
    let found = state.transfers_page(&filter, offset, per_page).await?;
    Ok(Json(TransferPage {
        items: found.items.iter().map(TransferView::from).collect(),
        page,
        per_page,
        total: found.total,
    }))
}

/// A transfer to post, every field as text.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewTransferBody {
    /// The client's id: retrying with the same id and content has one effect.
    pub id: String,
    pub project: String,
    pub kind: String,
    /// In yuan, e.g. "300000".
    pub amount_yuan: String,
    /// YYYY-MM-DD.
    pub value_date: String,
    pub corrects: Option<String>,
}

/// What a posting did.
#[derive(Debug, Serialize, ToSchema)]
pub struct Posted {
    pub id: String,
    /// False when this was a retry of a transfer already posted (nothing changed).
    pub created: bool,
    pub sequence: u64,
}

/// Post a transfer of a project through the ledger (admin, or the office of its provider).
#[utoipa::path(post, path = "/api/v1/transfers", tag = "writes", request_body = NewTransferBody,
    security(("token" = [])),
    responses((status = 201, body = Posted), (status = 200, description = "A retry: already posted", body = Posted),
              (status = 400, description = "A body that is not JSON", body = ErrorBody),
              SignInFirst,
              (status = 403, description = "Not this account's provider", body = ErrorBody),
              (status = 404, description = "No such project or transfer", body = ErrorBody),
              (status = 409, description = "Refused by a ledger rule (its code says which)", body = ErrorBody),
              (status = 415, description = "Not application/json", body = ErrorBody),
              (status = 422, description = "Fields at fault", body = ErrorBody)))]
async fn create_transfer(
    State(state): State<Arc<AppState>>,
    viewer: Viewer,
    body: Result<Json<NewTransferBody>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<Posted>), ApiError> {
    let Json(body) = body.map_err(json_rejection)?;
    let frame = state.frame().await?;
    let new = NewTransfer {
        id: body.id,
        project: body.project,
        kind: body.kind,
        amount_yuan: body.amount_yuan,
        value_date: body.value_date,
        corrects: body.corrects,
    };
    let applied =
        write::post_transfer(state.store.as_ref(), &viewer.actor, &frame.records, &new).await?;
    Ok(posted(applied))
}

pub fn posted(applied: Applied) -> (StatusCode, Json<Posted>) {
    match applied {
        Applied::Created(r) => (
            StatusCode::CREATED,
            Json(Posted {
                id: r.entry.id.to_string(),
                created: true,
                sequence: r.sequence,
            }),
        ),
        Applied::Duplicate(r) => (
            StatusCode::OK,
            Json(Posted {
                id: r.entry.id.to_string(),
                created: false,
                sequence: r.sequence,
            }),
        ),
    }
}

/// A line of the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditView {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Lines older than this id.
    pub before: Option<i64>,
    /// 1–500, 100 by default.
    pub limit: Option<u64>,
}

/// The audit log, newest first (admin and auditor).
#[utoipa::path(get, path = "/api/v1/audit", tag = "records", params(AuditQuery),
    security(("token" = [])),
    responses((status = 200, body = [AuditView]),
              (status = 400, description = "A bad limit", body = ErrorBody),
              SignInFirst,
              (status = 403, description = "Not admin or auditor", body = ErrorBody)))]
async fn audit(
    State(state): State<Arc<AppState>>,
    viewer: Viewer,
    Q(q): Q<AuditQuery>,
) -> Result<Json<Vec<AuditView>>, ApiError> {
    let frame = state.frame().await?;
    can(&viewer.actor, &Action::ReadAudit, &frame.tree)?;
    let limit = q.limit.unwrap_or(100);
    if limit == 0 || limit > MAX_PER_PAGE {
        return Err(ApiError::bad_request(format!("limit: 1 to {MAX_PER_PAGE}")));
    }
    let rows = state.store.audit_log(q.before, limit).await?;
    Ok(Json(rows.into_iter().map(audit_view).collect()))
}

pub fn audit_view(row: counterpart_store::AuditRow) -> AuditView {
    let parse = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
    AuditView {
        id: row.id,
        at: row.entry.at,
        actor: row.entry.actor,
        action: row.entry.action,
        target: row.entry.target,
        before: parse(row.entry.before),
        after: parse(row.entry.after),
    }
}

/// A whole table as CSV (`transfers.csv`, `projects.csv`, …) or XLSX (`transfers.xlsx`),
/// streamed row by row from one snapshot: constant memory however long the table.
#[utoipa::path(get, path = "/api/v1/tables/{file}", tag = "records",
    params(("file" = String, Path, description = "A table name with .csv or .xlsx, e.g. transfers.csv")),
    security(("token" = [])),
    responses((status = 200, description = "CSV with a header line, or an XLSX workbook",
               content((String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
              (status = 400, description = "A malformed name", body = ErrorBody),
              SignInFirst,
              (status = 404, description = "No such table", body = ErrorBody)))]
async fn table_file(
    State(state): State<Arc<AppState>>,
    viewer: Viewer,
    P(file): P<String>,
) -> Result<Response, ApiError> {
    records_reader(&state, &viewer).await?;
    let (name, kind) = match (file.strip_suffix(".csv"), file.strip_suffix(".xlsx")) {
        (Some(name), _) => (name, TableFile::Csv),
        (_, Some(name)) => (name, TableFile::Xlsx),
        _ => {
            return Err(ApiError::not_found(format!(
                "{file}: ask for NAME.csv or NAME.xlsx"
            )));
        }
    };
    let table =
        counterpart_app::export::table(name).map_err(|e| ApiError::not_found(e.to_string()))?;
    let content_type = match kind {
        TableFile::Csv => "text/csv; charset=utf-8",
        TableFile::Xlsx => XLSX,
    };
    let body = stream_table(state.store.clone(), table, kind);
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        body,
    )
        .into_response())
}

/// Bytes written by the exporter, handed over in chunks of about 64 KiB; the exporter waits
/// while the client is slow (a bounded channel), so memory stays flat.
struct ChunkWriter {
    buffer: Vec<u8>,
    out: std::sync::mpsc::SyncSender<Bytes>,
}

const CHUNK_BYTES: usize = 64 * 1024;

impl std::io::Write for ChunkWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= CHUNK_BYTES {
            self.flush()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::take(&mut self.buffer));
        self.out.send(chunk).map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away")
        })
    }
}

#[derive(Debug, Clone, Copy)]
enum TableFile {
    Csv,
    Xlsx,
}

/// Write a table as XLSX (constant memory, into a temporary file), then hand the file on.
async fn xlsx_into(
    store: &dyn Store,
    table: &'static counterpart_store::Table,
    mut out: ChunkWriter,
) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let path = dir.path().join("table.xlsx");
    counterpart_app::export::table_xlsx(store, table, &path)
        .await
        .map_err(|e| e.to_string())?;
    let mut file = std::fs::File::open(&path).map_err(|e| e.to_string())?;
    std::io::copy(&mut file, &mut out).map_err(|e| e.to_string())?;
    std::io::Write::flush(&mut out).map_err(|e| e.to_string())
}

/// A table's file as a response body. The export runs on a blocking thread of its own (it
/// waits on the client), a relay moves chunks into the async body.
fn stream_table(
    store: Arc<dyn Store>,
    table: &'static counterpart_store::Table,
    kind: TableFile,
) -> Body {
    let (chunks, from_exporter) = std::sync::mpsc::sync_channel::<Bytes>(4);
    let (to_body, body) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let handle = tokio::runtime::Handle::current();
    let failed = to_body.clone();
    tokio::task::spawn_blocking(move || {
        let writer = ChunkWriter {
            buffer: Vec::with_capacity(CHUNK_BYTES),
            out: chunks,
        };
        let result = match kind {
            TableFile::Csv => handle
                .block_on(counterpart_app::export::table_csv(
                    store.as_ref(),
                    table,
                    writer,
                ))
                .map(|_| ())
                .map_err(|e| e.to_string()),
            TableFile::Xlsx => handle.block_on(xlsx_into(store.as_ref(), table, writer)),
        };
        if let Err(e) = result {
            eprintln!("error: streaming {} ({kind:?}): {e}", table.name);
            let _ = failed.blocking_send(Err(std::io::Error::other(e)));
        }
    });
    std::thread::spawn(move || {
        while let Ok(chunk) = from_exporter.recv() {
            if to_body.blocking_send(Ok(chunk)).is_err() {
                break;
            }
        }
    });
    Body::from_stream(futures_util::stream::unfold(body, |mut body| async move {
        body.recv().await.map(|item| (item, body))
    }))
}
