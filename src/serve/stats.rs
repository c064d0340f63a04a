//! What the server counts (`GET /v1/metrics`) and what it remembers of each source's
//! recent tests and queries (`GET /v1/sources/{id}/health`), since it started.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State as AxState};
use axum::middleware::Next;
use axum::response::Response;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::api::ApiResult;
use super::auth::Caller;
use super::state::State;

/// Kept per source for its health history.
const HEALTH_KEEP: usize = 100;

pub struct Metrics {
    started: Instant,
    requests: AtomicU64,
    client_errors: AtomicU64,
    server_errors: AtomicU64,
    auth_failures: AtomicU64,
    rate_limited: AtomicU64,
    queries_ok: AtomicU64,
    queries_failed: AtomicU64,
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics {
            started: Instant::now(),
            requests: AtomicU64::new(0),
            client_errors: AtomicU64::new(0),
            server_errors: AtomicU64::new(0),
            auth_failures: AtomicU64::new(0),
            rate_limited: AtomicU64::new(0),
            queries_ok: AtomicU64::new(0),
            queries_failed: AtomicU64::new(0),
        }
    }

    pub fn auth_failed(&self) {
        self.auth_failures.fetch_add(1, Ordering::Relaxed);
    }

    pub fn rate_limited(&self) {
        self.rate_limited.fetch_add(1, Ordering::Relaxed);
    }

    pub fn query(&self, ok: bool) {
        let counter = if ok {
            &self.queries_ok
        } else {
            &self.queries_failed
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn uptime(&self) -> Duration {
        self.started.elapsed()
    }
}

/// Counts every request and what it was answered with.
pub async fn count_requests(
    AxState(st): AxState<Arc<State>>,
    req: Request,
    next: Next,
) -> Response {
    st.metrics.requests.fetch_add(1, Ordering::Relaxed);
    let resp = next.run(req).await;
    let status = resp.status();
    if status.is_client_error() {
        st.metrics.client_errors.fetch_add(1, Ordering::Relaxed);
    } else if status.is_server_error() {
        st.metrics.server_errors.fetch_add(1, Ordering::Relaxed);
    }
    resp
}

/// `/v1/metrics`: `{"uptime_s","requests","client_errors","server_errors","auth_failures",
/// "rate_limited","queries":{"ok","failed","running"},"sources":[{"source_id",
/// "source_name","capacity","in_use","waiting","queue_timeouts"}]}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub struct MetricsOut(serde_json::Value);

/// A source's health: `{"source_id","source_name","status","uptime_percent","checks",
/// "avg_response_ms","last_checked_at","status_changes":[{"at","from","to"}],
/// "history":[{"at","kind","ok","response_ms","status"}]}`, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub struct HealthOut(pub serde_json::Value);

/// `GET /v1/metrics` (seed 001): requests, errors, auth failures, and each source's
/// running queries and line. Each key sees the lines of its own sources.
#[utoipa::path(get, path = "/v1/metrics", responses(
    (status = 200, description = "Counters since the server started", body = MetricsOut),
    (status = 401, description = "Missing or invalid key", body = super::api::ErrorBody),
    (status = 429, description = "Rate limit exceeded", body = super::api::ErrorBody),
))]
pub async fn metrics(
    AxState(st): AxState<Arc<State>>,
    caller: Caller,
) -> ApiResult<axum::Json<MetricsOut>> {
    let m = &st.metrics;
    let lines = st.limits.lines();
    let scope = caller.key.scope.clone();
    let ids: Vec<String> = lines.iter().map(|(id, _)| id.clone()).collect();
    let visible = st
        .engine(move |e| {
            Ok(ids
                .into_iter()
                .filter_map(|id| {
                    e.registry()
                        .get(&id)
                        .ok()
                        .filter(|rec| scope.allows(rec))
                        .map(|rec| (id, rec.name))
                })
                .collect::<HashMap<_, _>>())
        })
        .await?;
    let sources: Vec<_> = lines
        .into_iter()
        .filter_map(|(id, l)| {
            let name = visible.get(&id)?;
            Some(json!({
                "source_id": id,
                "source_name": name,
                "capacity": l.capacity,
                "in_use": l.in_use,
                "waiting": l.waiting,
                "queue_timeouts": l.queue_timeouts,
            }))
        })
        .collect();
    Ok(axum::Json(MetricsOut(json!({
        "uptime_s": m.uptime().as_secs(),
        "requests": m.requests.load(Ordering::Relaxed),
        "client_errors": m.client_errors.load(Ordering::Relaxed),
        "server_errors": m.server_errors.load(Ordering::Relaxed),
        "auth_failures": m.auth_failures.load(Ordering::Relaxed),
        "rate_limited": m.rate_limited.load(Ordering::Relaxed),
        "queries": {
            "ok": m.queries_ok.load(Ordering::Relaxed),
            "failed": m.queries_failed.load(Ordering::Relaxed),
            "running": st.limits.running(),
        },
        "sources": sources,
    }))))
}

/// One test or query of a source, as its health history keeps it.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub at: String,
    /// `test`, `query` or `schema`.
    pub kind: &'static str,
    pub ok: bool,
    pub response_ms: f64,
    /// The source's status after it.
    pub status: String,
}

#[derive(Default)]
pub struct Health {
    by_source: Mutex<HashMap<String, VecDeque<Check>>>,
}

impl Health {
    pub fn record(&self, source_id: &str, kind: &'static str, reachable: bool, took: Duration) {
        let check = Check {
            at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            kind,
            ok: reachable,
            response_ms: (took.as_secs_f64() * 10_000.0).round() / 10.0,
            status: if reachable { "active" } else { "failed" }.into(),
        };
        let mut all = self.by_source.lock().unwrap_or_else(|p| p.into_inner());
        let kept = all.entry(source_id.to_string()).or_default();
        if kept.len() == HEALTH_KEEP {
            kept.pop_front();
        }
        kept.push_back(check);
    }

    /// The source's health: its checks newest first, where its status changed, uptime.
    pub fn report(&self, source_id: &str, source_name: &str, status: &str) -> serde_json::Value {
        let all = self.by_source.lock().unwrap_or_else(|p| p.into_inner());
        let kept: Vec<Check> = all
            .get(source_id)
            .map(|q| q.iter().cloned().collect())
            .unwrap_or_default();
        drop(all);
        let ok = kept.iter().filter(|c| c.ok).count();
        let uptime = if kept.is_empty() {
            None
        } else {
            Some((ok as f64 * 1000.0 / kept.len() as f64).round() / 10.0)
        };
        let avg = if kept.is_empty() {
            None
        } else {
            let sum: f64 = kept.iter().map(|c| c.response_ms).sum();
            Some((sum * 10.0 / kept.len() as f64).round() / 10.0)
        };
        let changes: Vec<_> = kept
            .windows(2)
            .filter(|w| w[0].status != w[1].status)
            .map(|w| json!({"at": w[1].at, "from": w[0].status, "to": w[1].status}))
            .rev()
            .collect();
        let history: Vec<_> = kept.iter().rev().collect();
        json!({
            "source_id": source_id,
            "source_name": source_name,
            "status": status,
            "uptime_percent": uptime,
            "checks": kept.len(),
            "avg_response_ms": avg,
            "last_checked_at": kept.last().map(|c| c.at.clone()),
            "status_changes": changes,
            "history": history,
        })
    }
}
