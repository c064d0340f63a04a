//! The flow every query takes, whoever asks (the command line or the terminal UI's backend):
//! resolve the source, guard the SQL, run it on the source's connector, audit the outcome,
//! record the source's status.
//!
//! It is split in two so a caller can run queries concurrently: [`Engine::plan`] needs the
//! registry (not shareable), [`Planned::run`] needs only an `Arc` of the connector and the
//! audit log, and [`Engine::settle`] records the outcome back in the registry.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::audit::{AuditLog, Event};
use crate::connector::{self, Connector, ProgressFn, SchemaInfo, TestReport};
use crate::core::guard::{self, Guarded};
use crate::core::history::{HistoryEntry, Outcome};
use crate::core::source::{SourceRecord, Status};
use crate::core::value::{JsonRows, ResultSet};
use crate::core::{Error, Result};
use crate::home::Home;
use crate::registry::Registry;

pub struct Engine {
    registry: Registry,
    audit: AuditLog,
    /// Connectors (and their pools) by source id, with the record they were built from so
    /// an edited source gets a fresh one.
    connectors: HashMap<String, (SourceRecord, Arc<dyn Connector>)>,
}

/// A query that passed the guard, ready to run.
pub struct Planned {
    pub source: SourceRecord,
    pub sql: String,
    pub guarded: Guarded,
    connector: Arc<dyn Connector>,
    audit: AuditLog,
}

/// What the history needs to know of a run that is about to start, kept by the caller while
/// the [`Planned`] query runs (it consumes itself).
#[derive(Debug, Clone)]
pub struct Ticket {
    pub source_id: String,
    pub sql: String,
    started_at: String,
    started: Instant,
}

/// A finished query, as CONTRACT.md's result shape needs it.
#[derive(Debug, Clone)]
pub struct QueryOutcome {
    pub source_id: String,
    pub source_name: String,
    pub sql: String,
    pub executed_sql: String,
    pub result: ResultSet,
    pub duration: Duration,
    pub executed_at: String,
}

/// `{"source_id","sql","columns","rows","rows_returned","truncated","executed_at"}`,
/// serialized row by row rather than built as a JSON tree first.
impl serde::Serialize for QueryOutcome {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let names = self.result.unique_column_names();
        let mut m = s.serialize_map(Some(7))?;
        m.serialize_entry("source_id", &self.source_id)?;
        m.serialize_entry("sql", &self.sql)?;
        m.serialize_entry("columns", &names)?;
        m.serialize_entry(
            "rows",
            &JsonRows {
                names: &names,
                rows: &self.result.rows,
            },
        )?;
        m.serialize_entry("rows_returned", &self.result.rows.len())?;
        m.serialize_entry("truncated", &self.result.truncated)?;
        m.serialize_entry("executed_at", &self.executed_at)?;
        m.end()
    }
}

impl Engine {
    pub fn open(home: &Home) -> Result<Self> {
        Ok(Engine {
            registry: Registry::open(home)?,
            audit: AuditLog::new(home.audit_path()),
            connectors: HashMap::new(),
        })
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    pub fn registry_mut(&mut self) -> &mut Registry {
        &mut self.registry
    }

    pub fn audit(&self) -> &AuditLog {
        &self.audit
    }

    /// The connector of a source, reused while the record is unchanged.
    pub fn connector(&mut self, rec: &SourceRecord) -> Result<Arc<dyn Connector>> {
        if let Some((cached, c)) = self.connectors.get(&rec.id)
            && cached.connection == rec.connection
            && cached.has_password == rec.has_password
        {
            return Ok(c.clone());
        }
        let secret = self.registry.secret(rec)?;
        let c: Arc<dyn Connector> = connector::open(rec, secret, self.registry.home())?.into();
        self.connectors
            .insert(rec.id.clone(), (rec.clone(), c.clone()));
        Ok(c)
    }

    /// Forgets a source's connector (after an edit, a new password or a removal).
    pub fn forget(&mut self, source_id: &str) {
        self.connectors.remove(source_id);
    }

    /// Resolves the source and guards the SQL. A refusal is audited as `query_rejected`.
    pub fn plan(&mut self, reference: &str, sql: &str, limit: usize) -> Result<Planned> {
        guard::check_limit(i64::try_from(limit).unwrap_or(i64::MAX))?;
        let source = self.registry.get(reference)?;
        let connector = self.connector(&source)?;
        let table = connector.data_table();
        let guarded = if sql.trim().is_empty() {
            Err(Error::Invalid(
                "SQL validation failed: the SQL is empty".into(),
            ))
        } else {
            guard::guard(sql, connector.dialect(), table.as_ref(), limit)
        };
        let guarded = match guarded {
            Ok(g) => g,
            Err(e) => {
                self.audit.record(&Event::QueryRejected {
                    source_id: source.id.clone(),
                    source_name: source.name.clone(),
                    sql: sql.to_string(),
                    detail: e.detail().to_string(),
                })?;
                if !sql.trim().is_empty() {
                    self.remember(HistoryEntry {
                        source_id: source.id.clone(),
                        sql: sql.to_string(),
                        started_at: now_rfc3339(),
                        duration_ms: 0,
                        rows: None,
                        truncated: false,
                        outcome: Outcome::Rejected,
                        error: Some(e.detail().to_string()),
                    });
                }
                return Err(e);
            }
        };
        Ok(Planned {
            source,
            sql: sql.to_string(),
            guarded,
            connector,
            audit: self.audit.clone(),
        })
    }

    /// Records what a run said about the source's reachability.
    pub fn settle<T>(&self, source_id: &str, outcome: &Result<T>) {
        let status = match outcome {
            Ok(_) | Err(Error::QueryFailed(_)) | Err(Error::Invalid(_)) => Status::Active,
            Err(Error::Unreachable(_)) => Status::Failed,
            Err(_) => return,
        };
        if let Err(e) = self.registry.set_status(source_id, status) {
            tracing::warn!("cannot record the status of {source_id}: {e}");
        }
    }

    /// Records what a query run said about its source (like [`Engine::settle`]) and keeps the
    /// run in the source's history.
    pub fn settle_query(&self, ticket: &Ticket, outcome: &Result<QueryOutcome>) {
        self.settle(&ticket.source_id, outcome);
        self.remember(ticket.entry(outcome));
    }

    /// Keeps a run in its source's history. A history that cannot be written is logged, not
    /// fatal: the query itself went fine.
    pub fn remember(&self, entry: HistoryEntry) {
        if let Err(e) = self.registry.record_history(&entry) {
            tracing::warn!("cannot record the history of {}: {e}", entry.source_id);
        }
    }

    /// The live schema of a source (seed 000 "Get schema").
    pub async fn schema(
        &mut self,
        reference: &str,
        progress: Option<ProgressFn>,
    ) -> Result<(SourceRecord, SchemaInfo)> {
        let source = self.registry.get(reference)?;
        let connector = self.connector(&source)?;
        let outcome = async {
            connector.prepare(progress).await?;
            connector.schema().await
        }
        .await;
        self.settle(&source.id, &outcome);
        Ok((source, outcome?))
    }

    /// Connects and measures the round trip; `status` becomes active or failed.
    pub async fn test(
        &mut self,
        reference: &str,
    ) -> Result<(SourceRecord, Duration, Result<TestReport>)> {
        let source = self.registry.get(reference)?;
        self.registry.set_status(&source.id, Status::Testing)?;
        let started = Instant::now();
        let outcome = match self.connector(&source) {
            Ok(c) => c.test().await,
            Err(e) => Err(e),
        };
        let elapsed = started.elapsed();
        let status = if outcome.is_ok() {
            Status::Active
        } else {
            Status::Failed
        };
        self.registry.set_status(&source.id, status)?;
        let source = self.registry.get(&source.id)?;
        Ok((source, elapsed, outcome))
    }
}

impl Ticket {
    /// The history's record of the run that ended with `outcome`.
    pub fn entry(&self, outcome: &Result<QueryOutcome>) -> HistoryEntry {
        let (duration, rows, truncated, result, error) = match outcome {
            Ok(o) => (
                o.duration,
                Some(o.result.rows.len() as u64),
                o.result.truncated,
                Outcome::Ok,
                None,
            ),
            Err(e) => (
                self.started.elapsed(),
                None,
                false,
                Outcome::Failed,
                Some(e.detail().to_string()),
            ),
        };
        HistoryEntry {
            source_id: self.source_id.clone(),
            sql: self.sql.clone(),
            started_at: self.started_at.clone(),
            duration_ms: u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
            rows,
            truncated,
            outcome: result,
            error,
        }
    }
}

impl Planned {
    /// What [`Engine::settle_query`] needs once the run is over.
    pub fn ticket(&self) -> Ticket {
        Ticket {
            source_id: self.source.id.clone(),
            sql: self.sql.clone(),
            started_at: now_rfc3339(),
            started: Instant::now(),
        }
    }

    /// Runs the query; the outcome, success or failure, is audited.
    pub async fn run(
        self,
        cancel: CancellationToken,
        progress: Option<ProgressFn>,
    ) -> Result<QueryOutcome> {
        let executed_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let started = Instant::now();
        let result = async {
            self.connector.prepare(progress).await?;
            self.connector.query(&self.guarded, cancel).await
        }
        .await;
        let duration = started.elapsed();
        let duration_ms = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
        match result {
            Ok(result) => {
                self.audit.record(&Event::Query {
                    source_id: self.source.id.clone(),
                    source_name: self.source.name.clone(),
                    sql: self.sql.clone(),
                    executed_sql: self.guarded.executed_sql.clone(),
                    rows_returned: result.rows.len() as u64,
                    truncated: result.truncated,
                    duration_ms,
                })?;
                Ok(QueryOutcome {
                    source_id: self.source.id,
                    source_name: self.source.name,
                    sql: self.sql,
                    executed_sql: self.guarded.executed_sql,
                    result,
                    duration,
                    executed_at,
                })
            }
            Err(e) => {
                self.audit.record(&Event::QueryFailed {
                    source_id: self.source.id.clone(),
                    source_name: self.source.name.clone(),
                    sql: self.sql.clone(),
                    executed_sql: self.guarded.executed_sql.clone(),
                    detail: e.detail().to_string(),
                    duration_ms,
                })?;
                Err(e)
            }
        }
    }
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
