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

use crate::audit::{AuditLog, Caller, Event, SqlDigest, sql_prefix};
use crate::connector::{self, Connector, Hold, RowSink, TestReport};
use crate::core::guard::{self, Guarded};
use crate::core::history::{HistoryEntry, Outcome};
use crate::core::progress::ProgressFn;
use crate::core::schema::SchemaInfo;
use crate::core::secret::StoredSecret;
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

    /// Resolves the source and guards the SQL. A refusal is audited as `query_rejected`;
    /// SQL too long to run is audited by its length, hash and first characters only.
    pub fn plan(&mut self, reference: &str, sql: &str, limit: usize) -> Result<Planned> {
        guard::check_limit(i64::try_from(limit).unwrap_or(i64::MAX))?;
        self.plan_with(reference, sql, Some(limit))
    }

    /// [`Engine::plan`] for a statement whose rows are all read, a batch at a time
    /// ([`Planned::stream`]): no row limit is added.
    pub fn plan_unlimited(&mut self, reference: &str, sql: &str) -> Result<Planned> {
        self.plan_with(reference, sql, None)
    }

    fn plan_with(&mut self, reference: &str, sql: &str, limit: Option<usize>) -> Result<Planned> {
        let source = self.registry.get(reference)?;
        self.plan_for(source, sql, limit, None)
    }

    /// [`Engine::plan`] for a source already resolved, with every audit line of the query
    /// naming `caller` (a request to `tdb serve`); no `limit` plans a statement read whole.
    pub fn plan_for(
        &mut self,
        source: SourceRecord,
        sql: &str,
        limit: Option<usize>,
        caller: Option<&Caller>,
    ) -> Result<Planned> {
        if let Some(limit) = limit {
            guard::check_limit(i64::try_from(limit).unwrap_or(i64::MAX))?;
        }
        let audit = match caller {
            Some(c) => self.audit.for_caller(c.clone()),
            None => self.audit.clone(),
        };
        if sql.chars().count() > guard::MAX_SQL_CHARS {
            return Err(self.refuse_oversize_of(
                &audit,
                &source,
                &sql_prefix(sql),
                SqlDigest::of(sql),
            ));
        }
        let connector = self.connector(&source)?;
        let table = connector.data_table();
        let guarded = if sql.trim().is_empty() {
            Err(Error::rejected("the SQL is empty"))
        } else {
            match limit {
                Some(limit) => guard::guard(sql, &connector.policy(), table.as_ref(), limit),
                None => guard::guard_unlimited(sql, &connector.policy(), table.as_ref()),
            }
        };
        let guarded = match guarded {
            Ok(g) => g,
            Err(e) => return Err(self.reject(&audit, &source, sql, None, e)),
        };
        Ok(Planned {
            source,
            sql: sql.to_string(),
            guarded,
            connector,
            audit,
        })
    }

    /// Refuses SQL of which only `prefix` was kept (stdin too long to hold), auditing it by
    /// `digest`. Returns the error to report: the refusal, or why the source or the audit
    /// log stood in the way.
    pub fn refuse_oversize(
        &mut self,
        reference: &str,
        prefix: &str,
        digest: SqlDigest,
        limit: usize,
    ) -> Error {
        if let Err(e) = guard::check_limit(i64::try_from(limit).unwrap_or(i64::MAX)) {
            return e;
        }
        match self.registry.get(reference) {
            Ok(source) => self.refuse_oversize_of(&self.audit, &source, prefix, digest),
            Err(e) => e,
        }
    }

    fn refuse_oversize_of(
        &self,
        audit: &AuditLog,
        source: &SourceRecord,
        prefix: &str,
        digest: SqlDigest,
    ) -> Error {
        let max = guard::MAX_SQL_CHARS;
        let why = if digest.cut {
            format!(
                "the SQL is longer than {} characters (tdb stopped reading after {} bytes); \
                 at most {max} are allowed",
                digest.chars, digest.bytes
            )
        } else {
            format!(
                "the SQL is {} characters long; at most {max} are allowed",
                digest.chars
            )
        };
        let e = Error::rejected(why);
        self.reject(audit, source, prefix, Some(digest), e)
    }

    /// Audits and remembers a refusal; returns the error to report.
    fn reject(
        &self,
        audit: &AuditLog,
        source: &SourceRecord,
        sql: &str,
        digest: Option<SqlDigest>,
        e: Error,
    ) -> Error {
        let line = Event::QueryRejected {
            query_id: None,
            source_id: source.id.clone(),
            source_name: source.name.clone(),
            sql: sql.to_string(),
            digest,
            detail: e.detail().to_string(),
        };
        if let Err(audit) = audit.record(&line) {
            return Error::AuditUnwritable(format!(
                "{} (the SQL was refused anyway: {})",
                audit.detail(),
                e.detail()
            ));
        }
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
        e
    }

    /// Records what a run said about the source's reachability.
    pub fn settle<T>(&self, source_id: &str, outcome: &Result<T>) {
        let status = match outcome {
            Ok(_)
            | Err(Error::QueryFailed(_))
            | Err(Error::QueryFailedAt { .. })
            | Err(Error::Cancelled)
            | Err(Error::Invalid(_))
            | Err(Error::Rejected(_)) => Status::Active,
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

    /// [`Engine::settle_query`] for a streamed run.
    pub fn settle_stream(&self, ticket: &Ticket, outcome: &Result<Streamed>) {
        self.settle(&ticket.source_id, outcome);
        let (duration, rows, result, error) = match outcome {
            Ok(s) => (s.duration, Some(s.rows), Outcome::Ok, None),
            Err(e) => (
                ticket.started.elapsed(),
                None,
                if matches!(e, Error::Rejected(_)) {
                    Outcome::Rejected
                } else {
                    Outcome::Failed
                },
                Some(e.detail().to_string()),
            ),
        };
        self.remember(HistoryEntry {
            source_id: ticket.source_id.clone(),
            sql: ticket.sql.clone(),
            started_at: ticket.started_at.clone(),
            duration_ms: u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
            rows,
            truncated: false,
            outcome: result,
            error,
        });
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
            // Ctrl-C ends the process (no handler here), which stops an import anyway.
            connector
                .prepare(progress, CancellationToken::new())
                .await?;
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
                // The source refused it before running it (its function policy).
                if matches!(e, Error::Rejected(_)) {
                    Outcome::Rejected
                } else {
                    Outcome::Failed
                },
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

    /// Runs the query. A `query_started` line is on disk before the source sees anything
    /// (if it cannot be written, nothing runs: [`Error::AuditUnwritable`]), and one line with
    /// the same `query_id` closes it whatever happens: `query`, `query_rejected` (the source
    /// refused it before running it), `query_failed`, or, when the run is dropped before it
    /// ends (tdb exiting), a `query_failed` saying so.
    pub async fn run(
        self,
        cancel: CancellationToken,
        progress: Option<ProgressFn>,
    ) -> Result<QueryOutcome> {
        let executed_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let started = Instant::now();
        // The source gets ready (connects, imports) while the started line is written and
        // synced on a blocking thread: only the statement has to wait for the line, and
        // the sync and the connection's round trips no longer add up.
        let pending = OpenQuery::new(&self);
        let (open, ready) = tokio::join!(
            tokio::task::spawn_blocking(move || pending.start()),
            self.connector.prepare(progress, cancel.clone()),
        );
        let mut open = open.map_err(|e| {
            Error::AuditUnwritable(format!(
                "the query was not run: the audit writer stopped: {e}"
            ))
        })??;
        let result = async {
            ready?;
            self.connector.query(&self.guarded, cancel).await
        }
        .await;
        let duration = started.elapsed();
        let duration_ms = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
        match result {
            Ok(result) => {
                open.close(Event::Query {
                    query_id: open.query_id.clone(),
                    source_id: self.source.id.clone(),
                    source_name: self.source.name.clone(),
                    sql: self.sql.clone(),
                    executed_sql: self.guarded.executed_sql.clone(),
                    rows_returned: result.rows.len() as u64,
                    truncated: result.truncated,
                    duration_ms,
                    bytes: None,
                })
                .map_err(|e| {
                    Error::Internal(format!(
                        "the query ran, but the audit line that ends it could not be \
                         written, so its rows are withheld: {}",
                        e.detail()
                    ))
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
            Err(e) => Err(open.end_failed(e, duration_ms)),
        }
    }
}

/// How a streamed query ([`Planned::stream`]) is audited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamAudit {
    /// Every row is written out (`tdb query --all`, an export of the whole result): one
    /// `query` line at the end with the rows and the bytes written.
    Whole,
    /// Rows are read a page at a time (the results pane): the first page ends the query
    /// with its `query` line, as a query with a limit would; each later page adds a
    /// `query_fetched` line with the same `query_id`, and a failure after the first page a
    /// `query_failed` one.
    Pages,
}

/// What a streamed query read.
#[derive(Debug, Clone)]
pub struct Streamed {
    pub rows: u64,
    pub duration: Duration,
}

impl Planned {
    /// Runs the query, handing every row to `sink` a batch at a time as it asks
    /// ([`Connector::stream`]), audited as `audit` says: a `query_started` line is on disk
    /// before the source sees anything, as for [`Planned::run`].
    pub async fn stream(
        self,
        sink: &mut dyn RowSink,
        hold: Hold,
        audit: StreamAudit,
        cancel: CancellationToken,
        progress: Option<ProgressFn>,
    ) -> Result<Streamed> {
        let started = Instant::now();
        let pending = OpenQuery::new(&self);
        let (open, ready) = tokio::join!(
            tokio::task::spawn_blocking(move || pending.start()),
            self.connector.prepare(progress, cancel.clone()),
        );
        let open = open.map_err(|e| {
            Error::AuditUnwritable(format!(
                "the query was not run: the audit writer stopped: {e}"
            ))
        })??;
        let mut audited = AuditedSink {
            inner: sink,
            open,
            audit,
            rows: 0,
            asked: false,
            source_id: self.source.id.clone(),
            source_name: self.source.name.clone(),
        };
        let result = async {
            ready?;
            self.connector
                .stream(&self.guarded, &mut audited, hold, cancel)
                .await
        }
        .await;
        let bytes = audited.inner.bytes_written();
        let asked = audited.asked;
        let mut open = audited.open;
        let duration = started.elapsed();
        let duration_ms = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
        match result {
            Ok(rows) => {
                if open.open {
                    open.close(Event::Query {
                        query_id: open.query_id.clone(),
                        source_id: self.source.id.clone(),
                        source_name: self.source.name.clone(),
                        sql: self.sql.clone(),
                        executed_sql: self.guarded.executed_sql.clone(),
                        rows_returned: rows,
                        truncated: false,
                        duration_ms,
                        bytes,
                    })
                    .map_err(|e| {
                        Error::Internal(format!(
                            "the rows were read, but the audit line that ends the query could \
                             not be written: {}",
                            e.detail()
                        ))
                    })?;
                }
                Ok(Streamed { rows, duration })
            }
            // A held statement closed between pages (tdb quitting) ended nothing that ran:
            // its query line is written, and no page was asked for.
            Err(e) if !open.open && !asked => Err(e),
            Err(e) => Err(open.end_failed(e, duration_ms)),
        }
    }
}

/// The caller's sink, with the audit lines of [`StreamAudit::Pages`] written as the pages
/// pass.
struct AuditedSink<'a> {
    inner: &'a mut dyn RowSink,
    open: OpenQuery,
    audit: StreamAudit,
    rows: u64,
    /// A page was asked for after the query's line and has not come yet.
    asked: bool,
    source_id: String,
    source_name: String,
}

impl RowSink for AuditedSink<'_> {
    fn columns(&mut self, columns: &[crate::core::value::Column]) -> Result<()> {
        self.inner.columns(columns)
    }

    fn wanted(&mut self) -> connector::BoxFuture<'_, Option<usize>> {
        Box::pin(async move {
            let n = self.inner.wanted().await;
            self.asked = n.is_some() && !self.open.open;
            n
        })
    }

    fn rows(&mut self, rows: Vec<Vec<crate::core::value::Value>>, more: bool) -> Result<()> {
        let n = rows.len() as u64;
        self.rows += n;
        self.asked = false;
        if self.audit == StreamAudit::Pages {
            let ms = u64::try_from(self.open.started.elapsed().as_millis()).unwrap_or(u64::MAX);
            let line = if self.open.open {
                Event::Query {
                    query_id: self.open.query_id.clone(),
                    source_id: self.source_id.clone(),
                    source_name: self.source_name.clone(),
                    sql: self.open.sql.clone(),
                    executed_sql: self.open.executed_sql.clone(),
                    rows_returned: n,
                    truncated: more,
                    duration_ms: ms,
                    bytes: None,
                }
            } else {
                Event::QueryFetched {
                    query_id: self.open.query_id.clone(),
                    source_id: self.source_id.clone(),
                    source_name: self.source_name.clone(),
                    rows_fetched: n,
                    rows_total: self.rows,
                    more,
                    elapsed_ms: ms,
                }
            };
            let written = if self.open.open {
                self.open.close(line)
            } else {
                self.open.audit.record(&line)
            };
            written.map_err(|e| {
                Error::Internal(format!(
                    "rows were read, but their audit line could not be written, so they are \
                     withheld: {}",
                    e.detail()
                ))
            })?;
        }
        self.inner.rows(rows, more)
    }
}

/// A query whose `query_started` line is written and whose closing line is not yet. If it
/// is dropped open (the run's future dropped when tdb exits before the query ended), the
/// drop writes that `query_failed` line, so no started query is left without an end.
struct OpenQuery {
    audit: AuditLog,
    query_id: String,
    source_id: String,
    source_name: String,
    sql: String,
    executed_sql: String,
    started: Instant,
    open: bool,
}

impl OpenQuery {
    /// The query's lines, none written yet.
    fn new(p: &Planned) -> OpenQuery {
        OpenQuery {
            audit: p.audit.clone(),
            query_id: uuid::Uuid::new_v4().to_string(),
            source_id: p.source.id.clone(),
            source_name: p.source.name.clone(),
            sql: p.sql.clone(),
            executed_sql: p.guarded.executed_sql.clone(),
            started: Instant::now(),
            open: false,
        }
    }

    /// Writes and syncs the `query_started` line (blocking file I/O).
    fn start(mut self) -> Result<OpenQuery> {
        let q = &mut self;
        q.audit
            .record(&Event::QueryStarted {
                query_id: q.query_id.clone(),
                source_id: q.source_id.clone(),
                source_name: q.source_name.clone(),
                sql: q.sql.clone(),
                executed_sql: q.executed_sql.clone(),
            })
            .map_err(|e| {
                Error::AuditUnwritable(format!("the query was not run: {}", e.detail()))
            })?;
        q.open = true;
        Ok(self)
    }

    fn failed(&self, detail: String, duration_ms: u64) -> Event {
        Event::QueryFailed {
            query_id: self.query_id.clone(),
            source_id: self.source_id.clone(),
            source_name: self.source_name.clone(),
            sql: self.sql.clone(),
            executed_sql: self.executed_sql.clone(),
            detail,
            duration_ms,
        }
    }

    /// Ends a query that failed with its closing line: `query_rejected` when the source
    /// refused a started query (its own function policy), else `query_failed`. Returns the
    /// error to report.
    fn end_failed(&mut self, e: Error, duration_ms: u64) -> Error {
        let line = match &e {
            Error::Rejected(refusal) if self.open => Event::QueryRejected {
                query_id: Some(self.query_id.clone()),
                source_id: self.source_id.clone(),
                source_name: self.source_name.clone(),
                sql: self.sql.clone(),
                digest: None,
                detail: refusal.to_string(),
            },
            _ => self.failed(e.detail().to_string(), duration_ms),
        };
        match self.close(line) {
            Ok(_) => e,
            Err(audit) => Error::Internal(format!(
                "{} (and the audit line that ends the query could not be written: {})",
                e.detail(),
                audit.detail()
            )),
        }
    }

    /// Writes the closing line; it is not tried again on drop, even if this write failed.
    fn close(&mut self, line: Event) -> Result<u64> {
        self.open = false;
        self.audit.record(&line)
    }
}

impl Drop for OpenQuery {
    fn drop(&mut self) {
        if !self.open {
            return;
        }
        let ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let line = self.failed(
            "tdb stopped before the query ended; its cancel may not have reached the server".into(),
            ms,
        );
        if let Err(e) = self.audit.record(&line) {
            tracing::warn!("cannot audit the end of query {}: {e}", self.query_id);
        }
    }
}

/// Whether a source's stored password differs between two readings (before and after an
/// edit), for `source_updated`. One that cannot be decrypted on one side only counts as
/// changed, so a change is never hidden (a new password is sealed with this machine's key,
/// so two undecryptable readings are the same old one).
pub fn password_changed(before: &StoredSecret, after: &StoredSecret) -> bool {
    use secrecy::ExposeSecret;
    match (before, after) {
        (StoredSecret::None, StoredSecret::None)
        | (StoredSecret::Undecryptable, StoredSecret::Undecryptable) => false,
        (StoredSecret::Present(a), StoredSecret::Present(b)) => {
            a.expose_secret() != b.expose_secret()
        }
        _ => true,
    }
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    #[test]
    fn a_password_change_is_never_hidden() {
        let present = |s: &str| StoredSecret::Present(SecretString::from(s.to_string()));
        let cases = [
            (StoredSecret::None, StoredSecret::None, false),
            (present("a"), present("a"), false),
            (
                StoredSecret::Undecryptable,
                StoredSecret::Undecryptable,
                false,
            ),
            (present("a"), present("b"), true),
            (StoredSecret::None, present("a"), true),
            (present("a"), StoredSecret::None, true),
            (StoredSecret::Undecryptable, present("a"), true),
        ];
        for (before, after, changed) in cases {
            assert_eq!(
                password_changed(&before, &after),
                changed,
                "{before:?} -> {after:?}"
            );
        }
    }
}
