//! One error shape for the whole API, and the same errors as HTML pages:
//! `{"error": {"code": "...", "message": "...", "fields": [{"field": "...", "message": "..."}]}}`.
//! A failure is logged once, here, when it is the server's fault.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use counterpart_app::access::AccessError;
use counterpart_app::report::ReportError;
use counterpart_app::write::WriteError;
use counterpart_domain::access::Denied;
use counterpart_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// A field that is wrong, and what is wrong with it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// What went wrong: a stable code, a sentence for people, the fields at fault.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
}

/// The body of every error response.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub detail: ErrorDetail,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            detail: ErrorDetail {
                code: code.to_owned(),
                message: message.into(),
                fields: Vec::new(),
            },
        }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", what)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn internal(e: &dyn std::fmt::Display) -> Self {
        eprintln!("error: {e}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the server failed; the error is in its log",
        )
    }

    pub fn message(&self) -> &str {
        &self.detail.message
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(ErrorBody { error: self.detail })).into_response()
    }
}

impl From<Denied> for ApiError {
    fn from(d: Denied) -> Self {
        let status = match d {
            Denied::SignInRequired => StatusCode::UNAUTHORIZED,
            _ => StatusCode::FORBIDDEN,
        };
        ApiError::new(status, d.code(), d.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::internal(&e)
    }
}

impl From<ReportError> for ApiError {
    fn from(e: ReportError) -> Self {
        match e {
            ReportError::NotFound { .. } => {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", e.to_string())
            }
            ReportError::Invalid(_) => ApiError::bad_request(e.to_string()),
            ReportError::NoProgram => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "no_program", e.to_string())
            }
            other => ApiError::internal(&other),
        }
    }
}

impl From<WriteError> for ApiError {
    fn from(e: WriteError) -> Self {
        let code = e.code();
        match e {
            WriteError::Denied(d) => d.into(),
            WriteError::Invalid(fields) => ApiError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                detail: ErrorDetail {
                    code: code.to_owned(),
                    message: "the record has errors; nothing was written".into(),
                    fields: fields
                        .into_iter()
                        .map(|(field, message)| FieldError { field, message })
                        .collect(),
                },
            },
            WriteError::UnknownProject(_) => {
                ApiError::new(StatusCode::NOT_FOUND, code, e.to_string())
            }
            WriteError::AlreadySignedOff(_) | WriteError::Conflict(_) => {
                ApiError::new(StatusCode::CONFLICT, code, e.to_string())
            }
            WriteError::Posting(ref p) if code != "internal" => {
                let status = match p {
                    counterpart_app::ledger::PostingError::UnknownProject(_)
                    | counterpart_app::ledger::PostingError::UnknownTransfer(_) => {
                        StatusCode::NOT_FOUND
                    }
                    _ => StatusCode::CONFLICT,
                };
                ApiError::new(status, code, e.to_string())
            }
            other => ApiError::internal(&other),
        }
    }
}

impl From<AccessError> for ApiError {
    fn from(e: AccessError) -> Self {
        let status = match e {
            AccessError::Denied(d) => return d.into(),
            AccessError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AccessError::Exists(_) => StatusCode::CONFLICT,
            AccessError::Unknown(_) => StatusCode::NOT_FOUND,
            AccessError::WrongPassword => StatusCode::FORBIDDEN,
            other => return ApiError::internal(&other),
        };
        ApiError::new(status, e.code(), e.to_string())
    }
}
