//! `POST /v1/query` (seed 002 "Run a query"): the same flow as `tdb query`, its audit lines
//! naming the key's prefix and the client's address.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State as AxState;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::ToSchema;

use super::api::{ApiError, ApiResult, ErrorBody, JsonBody};
use super::auth::Caller;
use super::state::State;
use crate::backend::engine::QueryOutcome;
use crate::core::Error;
use crate::core::guard::{DEFAULT_LIMIT, check_limit};
use crate::core::source::SourceRecord;

/// The seed's request body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryRequest {
    /// The source's id or name.
    pub source_id: String,
    /// One read-only statement; `data` names the source's table.
    #[schema(min_length = 1, max_length = 10000)]
    pub sql: String,
    /// Rows to return at most (default 100).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

/// A source's own statement timeout (network kinds), else 30 s like theirs by default.
fn statement_timeout(source: &SourceRecord) -> Duration {
    let secs = source
        .connection
        .stored()
        .get("statement_timeout_s")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(30);
    Duration::from_secs(secs)
}

/// A query's time beyond the statement timeout before the request gives up on it: the
/// engine's own timeout normally answers first, with its own message.
const TIMEOUT_MARGIN: Duration = Duration::from_secs(2);

/// `POST /v1/query`: guard, run and audit one read-only statement.
#[utoipa::path(post, path = "/v1/query", request_body = QueryRequest, responses(
    (status = 200, description = "The rows", body = QueryOutcome),
    (status = 400, description = "SQL validation failed, or a bad field", body = ErrorBody),
    (status = 401, description = "Missing or invalid key", body = ErrorBody),
    (status = 404, description = "No such source (or not this key's)", body = ErrorBody),
    (status = 413, description = "Body too large", body = ErrorBody),
    (status = 429, description = "Rate limit exceeded", body = ErrorBody),
    (status = 500, description = "The query failed or timed out while executing", body = ErrorBody),
    (status = 503, description = "The source is unreachable, or busy past the queue timeout", body = ErrorBody),
))]
pub async fn run(
    AxState(st): AxState<Arc<State>>,
    caller: Caller,
    JsonBody(req): JsonBody<QueryRequest>,
) -> ApiResult<Response> {
    let limit = check_limit(req.limit.unwrap_or(DEFAULT_LIMIT as i64))?;
    let source = st.visible(&caller.key, &req.source_id).await?;
    let slot = st
        .limits
        .slot(&source.id, &source.name)
        .await
        .map_err(ApiError::Busy)?;
    let timeout = statement_timeout(&source);
    let audit = caller.audit();
    let sql = req.sql;
    let planned = st
        .engine(move |e| e.plan_for(source, &sql, Some(limit), Some(&audit)))
        .await
        .inspect_err(|e| {
            if let Error::Rejected(why) = e {
                // The seed: rejected queries are warnings (and, per CONTRACT, audited).
                tracing::warn!(key = %caller.key.prefix, client = %caller.client, "refused: {why}");
            }
        })?;
    let ticket = planned.ticket();
    let source_id = planned.source.id.clone();
    let cancel = st.stopping.child_token();
    // The run is a task of its own: a client that hangs up drops this handler, and the
    // guard's cancel then stops the query on its source while the task writes its line.
    let hung_up = cancel.clone().drop_guard();
    let started = Instant::now();
    let task = tokio::spawn(async move {
        // The source's slot is held until the statement has really ended.
        let _slot = slot;
        let run = planned.run(cancel.clone(), None);
        tokio::pin!(run);
        tokio::select! {
            r = &mut run => r,
            () = tokio::time::sleep(timeout + TIMEOUT_MARGIN) => {
                cancel.cancel();
                match run.await {
                    Err(Error::Cancelled) => Err(Error::QueryFailed(format!(
                        "the query ran past the source's statement timeout ({} s) and was cancelled",
                        timeout.as_secs()
                    ))),
                    other => other,
                }
            }
        }
    });
    let outcome = task
        .await
        .map_err(|e| Error::internal("a query task failed", e))?;
    hung_up.disarm();
    let took = started.elapsed();
    let outcome = match outcome {
        Err(Error::Cancelled) if st.stopping.is_cancelled() => Err(Error::QueryFailed(
            "tdb serve is shutting down: the query was cancelled on the server".into(),
        )),
        other => other,
    };
    st.metrics.query(outcome.is_ok());
    let reachable = !matches!(outcome, Err(Error::Unreachable(_)));
    st.health.record(&source_id, "query", reachable, took);
    let entry = ticket.entry(&outcome);
    let status_of: Result<(), Error> = match &outcome {
        Ok(_) => Ok(()),
        Err(e) => Err(e.clone()),
    };
    // The history and the status are for the UI and `tdb source list`: the answer does
    // not wait for them.
    let recorder = st.clone();
    tokio::spawn(async move {
        let recorded = recorder
            .engine(move |e| {
                e.settle(&ticket.source_id, &status_of);
                e.remember(entry);
                Ok(())
            })
            .await;
        if let Err(e) = recorded {
            tracing::warn!("cannot record a query's outcome: {e}");
        }
    });
    let outcome: QueryOutcome = outcome?;
    Ok(axum::Json(outcome).into_response())
}
