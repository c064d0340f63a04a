//! The Sources API (seed 000, and seed 001's lifecycle operations): the registry through
//! HTTP, secrets masked in every answer. Only admin keys register, edit or delete; every
//! key sees only the sources of its scope, and any other is not found.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Path, State as AxState};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use utoipa::{IntoParams, ToSchema};

use super::api::{ApiResult, ErrorBody, JsonBody, Params, TextBody};
use super::auth::Caller;
use super::state::State;
use crate::audit::Event;
use crate::backend::engine::password_changed;
use crate::core::schema::{ColumnInfo, TableInfo};
use crate::core::secret::StoredSecret;
use crate::core::source::{RegisterRequest, SourceRecord};
use crate::core::{Error, Result};
use crate::home::Here;
use crate::registry::{EditRequest, Removal};

/// A source's full record (seed 000's SourceRecord); every secret shows as `********`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SourceOut {
    id: String,
    name: String,
    source_type: String,
    /// The kind's connection fields, secrets masked.
    #[schema(value_type = Object)]
    connection: Json,
    description: String,
    tags: Vec<String>,
    /// The prefix of the key that registered it (or `user@host` from the command line).
    registered_by: String,
    registered_at: String,
    /// `active`, `failed` or `testing`.
    status: String,
}

impl From<&SourceRecord> for SourceOut {
    fn from(r: &SourceRecord) -> SourceOut {
        SourceOut {
            id: r.id.clone(),
            name: r.name.clone(),
            source_type: r.source_type().name().to_string(),
            connection: r.connection.to_public_json(r.has_password),
            description: r.description.clone(),
            tags: r.tags.clone(),
            registered_by: r.registered_by.clone(),
            registered_at: r.registered_at.clone(),
            status: r.status.as_str().to_string(),
        }
    }
}

/// One line of the list: no connection details.
#[derive(Debug, Serialize, ToSchema)]
pub struct SourceSummary {
    id: String,
    name: String,
    source_type: String,
    description: String,
    tags: Vec<String>,
    registered_at: String,
}

impl From<&SourceRecord> for SourceSummary {
    fn from(r: &SourceRecord) -> SourceSummary {
        SourceSummary {
            id: r.id.clone(),
            name: r.name.clone(),
            source_type: r.source_type().name().to_string(),
            description: r.description.clone(),
            tags: r.tags.clone(),
            registered_at: r.registered_at.clone(),
        }
    }
}

type JsonResponse<T> = ApiResult<axum::Json<T>>;

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `POST /v1/sources`: 201 with the record; 400 for a bad field or an unknown
/// `source_type`; 409 when the name is taken.
#[utoipa::path(post, path = "/v1/sources", request_body = RegisterRequest, responses(
    (status = 201, description = "Source registered", body = SourceOut),
    (status = 400, description = "A bad field, or a source_type this build does not have", body = ErrorBody),
    (status = 401, description = "Missing or invalid key", body = ErrorBody),
    (status = 403, description = "Not an admin key", body = ErrorBody),
    (status = 409, description = "A source with this name exists", body = ErrorBody),
    (status = 413, description = "Body too large", body = ErrorBody),
    (status = 429, description = "Rate limit exceeded", body = ErrorBody),
))]
pub async fn register(
    AxState(st): AxState<Arc<State>>,
    caller: Caller,
    TextBody(body): TextBody,
) -> ApiResult<Response> {
    caller.require_admin()?;
    let request = RegisterRequest::from_json_text(&body)?;
    let audit = caller.audit();
    let actor = caller.key.prefix.clone();
    let rec = st
        .engine(move |e| {
            let new = request.validate(crate::connector::find_kind, &Here::now().context())?;
            let rec = e.registry_mut().add(new, &actor)?;
            audit_change(e, audit, &Event::source_registered(&rec));
            Ok(rec)
        })
        .await?;
    Ok((StatusCode::CREATED, axum::Json(SourceOut::from(&rec))).into_response())
}

/// A registry change is made; its audit line failing is logged, as the command line warns.
fn audit_change(e: &crate::backend::engine::Engine, caller: crate::audit::Caller, event: &Event) {
    if let Err(err) = e.audit().for_caller(caller).record(event) {
        tracing::warn!("could not write the audit log: {err}");
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only sources with this tag.
    tag: Option<String>,
    /// At most this many (1–1000); all by default.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
    /// Skip this many first.
    #[serde(default)]
    offset: usize,
}

/// `GET /v1/sources`: summaries in registration order; `?tag=`, `?limit=&offset=` pages
/// (seed 001), with the count before paging in `X-Total-Count`.
#[utoipa::path(get, path = "/v1/sources", params(ListParams), responses(
    (status = 200, description = "Summaries of the sources this key sees", body = Vec<SourceSummary>,
     headers(("x-total-count" = usize, description = "Sources matching, before paging"))),
    (status = 400, description = "A bad query parameter", body = ErrorBody),
    (status = 401, description = "Missing or invalid key", body = ErrorBody),
    (status = 429, description = "Rate limit exceeded", body = ErrorBody),
))]
pub async fn list(
    AxState(st): AxState<Arc<State>>,
    caller: Caller,
    Params(p): Params<ListParams>,
) -> ApiResult<Response> {
    if let Some(n) = p.limit
        && !(1..=1000).contains(&n)
    {
        return Err(Error::Invalid(format!("limit: must be from 1 to 1000, got {n}")).into());
    }
    let scope = caller.key.scope.clone();
    let tag = p.tag.clone();
    let all = st
        .engine(move |e| e.registry().list(tag.as_deref()))
        .await?;
    let visible: Vec<SourceRecord> = all.into_iter().filter(|r| scope.allows(r)).collect();
    let total = visible.len();
    let page: Vec<SourceSummary> = visible
        .iter()
        .skip(p.offset)
        .take(p.limit.unwrap_or(usize::MAX))
        .map(SourceSummary::from)
        .collect();
    let mut resp = axum::Json(page).into_response();
    resp.headers_mut()
        .insert("x-total-count", HeaderValue::from(total));
    Ok(resp)
}

/// `GET /v1/sources/{id}`: the record, secrets masked; 404.
#[utoipa::path(get, path = "/v1/sources/{id}", params(("id" = String, Path, description = "The source's id or name")), responses(
    (status = 200, description = "The source's record", body = SourceOut),
    (status = 401, description = "Missing or invalid key", body = ErrorBody),
    (status = 404, description = "No such source (or not this key's)", body = ErrorBody),
    (status = 429, description = "Rate limit exceeded", body = ErrorBody),
))]
pub async fn show(
    AxState(st): AxState<Arc<State>>,
    caller: Caller,
    Path(id): Path<String>,
) -> JsonResponse<SourceOut> {
    let rec = st.visible(&caller.key, &id).await?;
    Ok(axum::Json(SourceOut::from(&rec)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeleteParams {
    /// Remove every trace of the source, not only its name, secret and caches.
    #[serde(default)]
    force: bool,
}

/// `DELETE /v1/sources/{id}`: 204. Soft by default (the record stays for the audit trail;
/// name, secret and caches go at once); `?force=true` removes every trace.
#[utoipa::path(delete, path = "/v1/sources/{id}", params(("id" = String, Path, description = "The source's id or name"), DeleteParams), responses(
    (status = 204, description = "Source deleted"),
    (status = 400, description = "A bad query parameter", body = ErrorBody),
    (status = 401, description = "Missing or invalid key", body = ErrorBody),
    (status = 403, description = "Not an admin key", body = ErrorBody),
    (status = 404, description = "No such source (or not this key's)", body = ErrorBody),
    (status = 429, description = "Rate limit exceeded", body = ErrorBody),
))]
pub async fn delete(
    AxState(st): AxState<Arc<State>>,
    caller: Caller,
    Path(id): Path<String>,
    Params(p): Params<DeleteParams>,
) -> ApiResult<StatusCode> {
    caller.require_admin()?;
    let rec = st.visible(&caller.key, &id).await?;
    let audit = caller.audit();
    let how = if p.force {
        Removal::Purge
    } else {
        Removal::Soft
    };
    st.engine(move |e| {
        let rec = e.registry_mut().remove(&rec.id, how)?;
        audit_change(e, audit, &Event::source_deleted(&rec, p.force));
        e.forget(&rec.id);
        Ok(())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRequest {
    name: Option<String>,
    description: Option<String>,
    tags: Option<Vec<String>>,
    /// Connection keys to change (a merge patch: `null` removes an optional key).
    #[schema(value_type = Option<Object>)]
    connection: Option<Map<String, Json>>,
}

/// `PATCH /v1/sources/{id}` (seed 001): name, description, tags, connection keys.
#[utoipa::path(patch, path = "/v1/sources/{id}", params(("id" = String, Path, description = "The source's id or name")), request_body = UpdateRequest, responses(
    (status = 200, description = "The record as changed", body = SourceOut),
    (status = 400, description = "A bad field, or nothing to change", body = ErrorBody),
    (status = 401, description = "Missing or invalid key", body = ErrorBody),
    (status = 403, description = "Not an admin key", body = ErrorBody),
    (status = 404, description = "No such source (or not this key's)", body = ErrorBody),
    (status = 409, description = "The new name is taken", body = ErrorBody),
    (status = 413, description = "Body too large", body = ErrorBody),
    (status = 429, description = "Rate limit exceeded", body = ErrorBody),
))]
pub async fn update(
    AxState(st): AxState<Arc<State>>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<UpdateRequest>,
) -> JsonResponse<SourceOut> {
    caller.require_admin()?;
    if req.name.is_none()
        && req.description.is_none()
        && req.tags.is_none()
        && req.connection.is_none()
    {
        return Err(Error::Invalid(
            "nothing to change: give name, description, tags or connection".into(),
        )
        .into());
    }
    let old = st.visible(&caller.key, &id).await?;
    let audit = caller.audit();
    let rec = st
        .engine(move |e| {
            let old_secret = secret_or_unknown(e, &old);
            let rec = e.registry_mut().edit(
                &old.id,
                EditRequest {
                    name: req.name,
                    description: req.description,
                    tags: req.tags,
                    connection: req.connection,
                },
            )?;
            let changed = password_changed(&old_secret, &secret_or_unknown(e, &rec));
            audit_change(e, audit, &Event::source_updated(&old, &rec, changed));
            e.forget(&rec.id);
            Ok(rec)
        })
        .await?;
    Ok(axum::Json(SourceOut::from(&rec)))
}

fn secret_or_unknown(e: &crate::backend::engine::Engine, rec: &SourceRecord) -> StoredSecret {
    e.registry()
        .secret(rec)
        .unwrap_or(StoredSecret::Undecryptable)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CredentialsRequest {
    /// The new password or token; stored encrypted, never shown again.
    #[schema(min_length = 1)]
    password: String,
}

/// `PATCH /v1/sources/{id}/credentials` (seed 001): a new secret, encrypted at rest; the
/// answer is the record, masked.
#[utoipa::path(patch, path = "/v1/sources/{id}/credentials", params(("id" = String, Path, description = "The source's id or name")), request_body = CredentialsRequest, responses(
    (status = 200, description = "The record, the new secret masked", body = SourceOut),
    (status = 400, description = "A bad or empty password, or a kind without one", body = ErrorBody),
    (status = 401, description = "Missing or invalid key", body = ErrorBody),
    (status = 403, description = "Not an admin key", body = ErrorBody),
    (status = 404, description = "No such source (or not this key's)", body = ErrorBody),
    (status = 413, description = "Body too large", body = ErrorBody),
    (status = 429, description = "Rate limit exceeded", body = ErrorBody),
))]
pub async fn credentials(
    AxState(st): AxState<Arc<State>>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<CredentialsRequest>,
) -> JsonResponse<SourceOut> {
    caller.require_admin()?;
    if req.password.is_empty() {
        return Err(Error::Invalid("password: must not be empty".into()).into());
    }
    let secret = SecretString::from(req.password);
    let old = st.visible(&caller.key, &id).await?;
    let audit = caller.audit();
    let rec = st
        .engine(move |e| {
            let rec = e.registry_mut().set_password(&old.id, &secret)?;
            audit_change(e, audit, &Event::source_updated(&old, &rec, true));
            e.forget(&rec.id);
            Ok(rec)
        })
        .await?;
    Ok(axum::Json(SourceOut::from(&rec)))
}

/// A live schema (seed 000 "Get schema"); `tables` when the source is a whole database.
#[derive(Debug, Serialize, ToSchema)]
pub struct SchemaOut {
    source_id: String,
    source_name: String,
    /// `{"name","type",…}` of the table behind `data`.
    #[schema(value_type = Vec<Object>)]
    columns: Vec<ColumnInfo>,
    inspected_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    tables: Option<Vec<TableInfo>>,
}

/// `GET /v1/sources/{id}/schema`: the live schema; 503 when the source cannot be reached.
#[utoipa::path(get, path = "/v1/sources/{id}/schema", params(("id" = String, Path, description = "The source's id or name")), responses(
    (status = 200, description = "The live schema", body = SchemaOut),
    (status = 401, description = "Missing or invalid key", body = ErrorBody),
    (status = 404, description = "No such source (or not this key's)", body = ErrorBody),
    (status = 429, description = "Rate limit exceeded", body = ErrorBody),
    (status = 500, description = "The source answered with an error", body = ErrorBody),
    (status = 503, description = "The source is registered but unreachable", body = ErrorBody),
))]
pub async fn schema(
    AxState(st): AxState<Arc<State>>,
    caller: Caller,
    Path(id): Path<String>,
) -> JsonResponse<SchemaOut> {
    let rec = st.visible(&caller.key, &id).await?;
    let for_connector = rec.clone();
    let connector = st.engine(move |e| e.connector(&for_connector)).await?;
    let started = Instant::now();
    let info = async {
        connector.prepare(None, st.stopping.child_token()).await?;
        connector.schema().await
    }
    .await;
    record_schema_read(&st, &rec.id, &info, started).await;
    let info = info?;
    Ok(axum::Json(SchemaOut {
        source_id: rec.id,
        source_name: rec.name,
        columns: info.columns,
        inspected_at: now(),
        tables: info.tables,
    }))
}

/// Keeps what a schema read said of the source: its health history and status.
async fn record_schema_read<T>(
    st: &Arc<State>,
    source_id: &str,
    outcome: &Result<T>,
    started: Instant,
) {
    let reachable = !matches!(outcome, Err(Error::Unreachable(_)));
    st.health
        .record(source_id, "schema", reachable, started.elapsed());
    let status: Result<()> = match outcome {
        Ok(_) => Ok(()),
        Err(e) => Err(e.clone()),
    };
    let id = source_id.to_string();
    if let Err(e) = st
        .engine(move |e| {
            e.settle(&id, &status);
            Ok(())
        })
        .await
    {
        tracing::warn!("cannot record the status of {source_id}: {e}");
    }
}

/// A connection test, as `tdb source test --json` prints it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TestOut {
    source_id: String,
    ok: bool,
    latency_ms: f64,
    /// The source's status after the test: `active` or `failed`.
    status: String,
    /// `ok`, or why the source could not be reached.
    detail: String,
    warnings: Vec<String>,
}

/// `POST /v1/sources/{id}/test` (seed 001); the status becomes active or failed.
#[utoipa::path(post, path = "/v1/sources/{id}/test", params(("id" = String, Path, description = "The source's id or name")), responses(
    (status = 200, description = "The outcome of the test, reachable or not", body = TestOut),
    (status = 401, description = "Missing or invalid key", body = ErrorBody),
    (status = 404, description = "No such source (or not this key's)", body = ErrorBody),
    (status = 429, description = "Rate limit exceeded", body = ErrorBody),
))]
pub async fn test(
    AxState(st): AxState<Arc<State>>,
    caller: Caller,
    Path(id): Path<String>,
) -> JsonResponse<TestOut> {
    let rec = st.visible(&caller.key, &id).await?;
    let for_connector = rec.clone();
    let connector = st.engine(move |e| e.connector(&for_connector)).await;
    let started = Instant::now();
    let outcome = match connector {
        Ok(c) => c.test().await,
        Err(e) => Err(e),
    };
    let elapsed = started.elapsed();
    let reachable = outcome.is_ok();
    st.health.record(&rec.id, "test", reachable, elapsed);
    let source_id = rec.id.clone();
    let status = if reachable {
        crate::core::source::Status::Active
    } else {
        crate::core::source::Status::Failed
    };
    let after = st
        .engine(move |e| {
            e.registry().set_status(&source_id, status)?;
            e.registry().get(&source_id)
        })
        .await?;
    let latency_ms = (elapsed.as_secs_f64() * 10_000.0).round() / 10.0;
    let (detail, warnings) = match &outcome {
        Ok(report) => ("ok".to_string(), report.warnings.clone()),
        Err(e) => (e.detail().to_string(), Vec::new()),
    };
    Ok(axum::Json(TestOut {
        source_id: after.id,
        ok: reachable,
        latency_ms,
        status: after.status.as_str().to_string(),
        detail,
        warnings,
    }))
}

/// `GET /v1/sources/{id}/health` (seed 001): status, uptime percentage, response times and
/// status changes over the tests, schema reads and queries since the server started.
#[utoipa::path(get, path = "/v1/sources/{id}/health", params(("id" = String, Path, description = "The source's id or name")), responses(
    (status = 200, description = "Status, uptime and history", body = super::stats::HealthOut),
    (status = 401, description = "Missing or invalid key", body = ErrorBody),
    (status = 404, description = "No such source (or not this key's)", body = ErrorBody),
    (status = 429, description = "Rate limit exceeded", body = ErrorBody),
))]
pub async fn health(
    AxState(st): AxState<Arc<State>>,
    caller: Caller,
    Path(id): Path<String>,
) -> JsonResponse<super::stats::HealthOut> {
    let rec = st.visible(&caller.key, &id).await?;
    Ok(axum::Json(super::stats::HealthOut(st.health.report(
        &rec.id,
        &rec.name,
        rec.status.as_str(),
    ))))
}
