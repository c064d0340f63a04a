//! The API's error bodies (`{"detail": "…"}`, the seeds' shape) and the extractors that
//! turn bad requests into them instead of axum's plain-text rejections.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{HeaderValue, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;

use crate::core::Error;

/// Everything a handler can answer besides success.
#[derive(Debug)]
pub enum ApiError {
    /// The engine's errors, with the statuses of CONTRACT.md (400, 404, 409, 500, 503).
    Core(Error),
    /// No key, a malformed one, a wrong or a revoked one.
    Unauthorized(String),
    /// A key that may not do this (register, edit, delete without `--admin`).
    Forbidden(String),
    TooLarge,
    RateLimited {
        retry_after_s: u64,
    },
    /// The source's line of waiting queries did not move within the queue timeout.
    Busy(String),
    NoRoute,
    NoMethod,
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError::Core(e)
    }
}

pub type ApiResult<T> = std::result::Result<T, ApiError>;

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Core(e) => {
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            }
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::NoRoute => StatusCode::NOT_FOUND,
            ApiError::NoMethod => StatusCode::METHOD_NOT_ALLOWED,
        }
    }

    pub fn detail(&self) -> String {
        match self {
            ApiError::Core(e) => e.detail().to_string(),
            ApiError::Unauthorized(m) | ApiError::Forbidden(m) | ApiError::Busy(m) => m.clone(),
            ApiError::TooLarge => format!(
                "request body too large: at most {} bytes",
                super::MAX_BODY_BYTES
            ),
            ApiError::RateLimited { retry_after_s } => {
                format!("rate limit exceeded for this key: retry in {retry_after_s} s")
            }
            ApiError::NoRoute => "no such endpoint".into(),
            ApiError::NoMethod => "method not allowed on this endpoint".into(),
        }
    }
}

/// Every error's body, as the seeds show it: `{"detail": "…"}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub detail: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(status = status.as_u16(), detail = %self.detail(), "request failed");
        }
        let body = ErrorBody {
            detail: self.detail(),
        };
        let mut resp = (status, axum::Json(body)).into_response();
        let headers = resp.headers_mut();
        match &self {
            ApiError::Unauthorized(_) => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            ApiError::RateLimited { retry_after_s } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_s));
            }
            _ => {}
        }
        resp
    }
}

/// A JSON body of type `T`; a body that is too large, not JSON or not of the shape asked
/// for is a 413 or a 400 naming what is wrong.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &S) -> Result<Self, ApiError> {
        let bytes = read_body(req).await?;
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| ApiError::Core(Error::Invalid(format!("request body: {e}"))))
    }
}

/// The body as text, for the parsers of the core that name each bad field themselves.
pub struct TextBody(pub String);

impl<S: Send + Sync> FromRequest<S> for TextBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &S) -> Result<Self, ApiError> {
        let bytes = read_body(req).await?;
        String::from_utf8(bytes)
            .map(TextBody)
            .map_err(|_| ApiError::Core(Error::Invalid("request body is not UTF-8".into())))
    }
}

/// Reads a body of at most [`super::MAX_BODY_BYTES`]. A larger one is read on (and
/// dropped) up to [`DRAIN_BYTES`] before the 413 goes out: a client that sends its whole
/// body before reading, as most do, then gets the answer instead of a reset connection.
async fn read_body(req: Request) -> Result<Vec<u8>, ApiError> {
    use http_body_util::BodyExt;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > DRAIN_BYTES as u64) {
        return Err(ApiError::TooLarge);
    }
    let mut body = req.into_body();
    let mut kept = Vec::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            ApiError::Core(Error::Invalid(format!("cannot read the request body: {e}")))
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        seen = seen.saturating_add(data.len());
        if seen > DRAIN_BYTES {
            return Err(ApiError::TooLarge);
        }
        if seen <= super::MAX_BODY_BYTES {
            kept.extend_from_slice(&data);
        }
    }
    if seen > super::MAX_BODY_BYTES {
        return Err(ApiError::TooLarge);
    }
    Ok(kept)
}

/// How much of a too-large body is read before the connection is given up.
const DRAIN_BYTES: usize = 8 << 20;

/// Query parameters of type `T`; bad ones are a 400 naming the parameter.
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Params(q.0))
            .map_err(|e| ApiError::Core(Error::Invalid(format!("query string: {}", e.body_text()))))
    }
}

/// `{"status":"ok"}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Healthz {
    status: &'static str,
}

/// `GET /healthz`: the process answers. No key needed, nothing about sources said.
#[utoipa::path(get, path = "/healthz", security(()), responses(
    (status = 200, description = "The server is up", body = Healthz),
))]
pub async fn healthz() -> axum::Json<Healthz> {
    axum::Json(Healthz { status: "ok" })
}

pub async fn no_route() -> ApiError {
    ApiError::NoRoute
}

pub async fn no_method() -> ApiError {
    ApiError::NoMethod
}
