//! The Sources API (seed 000, and seed 001's lifecycle operations): the registry through
//! HTTP, secrets masked in every answer. Only admin keys register, edit or delete; every
//! key sees only the sources of its scope, and any other is not found.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Path, State as AxState};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{Map, Value as Json, json};

use super::api::{ApiResult, JsonBody, Params, TextBody};
use super::auth::Caller;
use super::state::State;
use crate::audit::Event;
use crate::backend::engine::password_changed;
use crate::core::secret::StoredSecret;
use crate::core::source::{RegisterRequest, SourceRecord};
use crate::core::{Error, Result};
use crate::home::Here;
use crate::registry::{EditRequest, Removal};

type JsonResponse = ApiResult<axum::Json<Json>>;

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `POST /v1/sources`: 201 with the record; 400 for a bad field or an unknown
/// `source_type`; 409 when the name is taken.
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
    Ok((StatusCode::CREATED, axum::Json(rec.to_json())).into_response())
}

/// A registry change is made; its audit line failing is logged, as the command line warns.
fn audit_change(e: &crate::backend::engine::Engine, caller: crate::audit::Caller, event: &Event) {
    if let Err(err) = e.audit().for_caller(caller).record(event) {
        tracing::warn!("could not write the audit log: {err}");
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    tag: Option<String>,
    /// At most this many (1–1000); all by default.
    limit: Option<usize>,
    /// Skip this many first.
    #[serde(default)]
    offset: usize,
}

/// `GET /v1/sources`: summaries in registration order; `?tag=`, `?limit=&offset=` pages
/// (seed 001), with the count before paging in `X-Total-Count`.
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
    let page: Vec<Json> = visible
        .iter()
        .skip(p.offset)
        .take(p.limit.unwrap_or(usize::MAX))
        .map(SourceRecord::to_summary_json)
        .collect();
    let mut resp = axum::Json(Json::Array(page)).into_response();
    resp.headers_mut()
        .insert("x-total-count", HeaderValue::from(total));
    Ok(resp)
}

/// `GET /v1/sources/{id}`: the record, secrets masked; 404.
pub async fn show(
    AxState(st): AxState<Arc<State>>,
    caller: Caller,
    Path(id): Path<String>,
) -> JsonResponse {
    let rec = st.visible(&caller.key, &id).await?;
    Ok(axum::Json(rec.to_json()))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteParams {
    #[serde(default)]
    force: bool,
}

/// `DELETE /v1/sources/{id}`: 204. Soft by default (the record stays for the audit trail;
/// name, secret and caches go at once); `?force=true` removes every trace.
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateRequest {
    name: Option<String>,
    description: Option<String>,
    tags: Option<Vec<String>>,
    /// Connection keys to change (a merge patch: `null` removes an optional key).
    connection: Option<Map<String, Json>>,
}

/// `PATCH /v1/sources/{id}` (seed 001): name, description, tags, connection keys.
pub async fn update(
    AxState(st): AxState<Arc<State>>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<UpdateRequest>,
) -> JsonResponse {
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
    Ok(axum::Json(rec.to_json()))
}

fn secret_or_unknown(e: &crate::backend::engine::Engine, rec: &SourceRecord) -> StoredSecret {
    e.registry()
        .secret(rec)
        .unwrap_or(StoredSecret::Undecryptable)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialsRequest {
    password: String,
}

/// `PATCH /v1/sources/{id}/credentials` (seed 001): a new secret, encrypted at rest; the
/// answer is the record, masked.
pub async fn credentials(
    AxState(st): AxState<Arc<State>>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<CredentialsRequest>,
) -> JsonResponse {
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
    Ok(axum::Json(rec.to_json()))
}

/// `GET /v1/sources/{id}/schema`: the live schema; 503 when the source cannot be reached.
pub async fn schema(
    AxState(st): AxState<Arc<State>>,
    caller: Caller,
    Path(id): Path<String>,
) -> JsonResponse {
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
    let mut v = json!({
        "source_id": rec.id,
        "source_name": rec.name,
        "columns": info.columns,
        "inspected_at": now(),
    });
    if let Some(tables) = &info.tables {
        v["tables"] = json!(tables);
    }
    Ok(axum::Json(v))
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

/// `POST /v1/sources/{id}/test` (seed 001): `{"source_id","ok","latency_ms","status",
/// "detail","warnings"}` as `tdb source test --json` prints it; status becomes active or
/// failed.
pub async fn test(
    AxState(st): AxState<Arc<State>>,
    caller: Caller,
    Path(id): Path<String>,
) -> JsonResponse {
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
    Ok(axum::Json(json!({
        "source_id": after.id,
        "ok": reachable,
        "latency_ms": latency_ms,
        "status": after.status.as_str(),
        "detail": detail,
        "warnings": warnings,
    })))
}

/// `GET /v1/sources/{id}/health` (seed 001): status, uptime percentage, response times and
/// status changes over the tests, schema reads and queries since the server started.
pub async fn health(
    AxState(st): AxState<Arc<State>>,
    caller: Caller,
    Path(id): Path<String>,
) -> JsonResponse {
    let rec = st.visible(&caller.key, &id).await?;
    Ok(axum::Json(st.health.report(
        &rec.id,
        &rec.name,
        rec.status.as_str(),
    )))
}
