//! The CSV connector: a file is imported, streaming, into a per-source SQLite cache (see
//! [`cache`]) with column types inferred from the data ([`infer`]), then queried read-only
//! ([`crate::connector::sqlite_ro`]) as the table `data`.
//!
//! Every entry point makes sure the cache is fresh first (rebuilding it when the file's
//! size, mtime or inode changed), so no caller can forget to import. Blocking work runs on
//! tokio's blocking pool, never on the async runtime.
//!
//! Errors: a missing or unreadable file is [`Error::Unreachable`] (exit 13) naming the path;
//! a file that is not a CSV tdb can read (ragged row, invalid UTF-8, unterminated quote,
//! empty) is [`Error::QueryFailed`] (exit 14) naming the line; SQL that tries to write is
//! [`Error::Rejected`] (exit 10), as the guard would report it; tdb's own cache failing is
//! [`Error::Internal`].

mod cache;
mod import;
mod infer;
mod kind;
mod insert;
mod reader;

use std::fs::File;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::stream::{Step, relay_blocking};
use super::{BoxFuture, Connector, Hold, RowSink, TestReport};
use crate::core::guard::{Guarded, TableName};
use crate::core::kind::{GuardPolicy, KindRules};
use crate::core::progress::{Progress, ProgressFn};
use crate::core::regular_file::{OpenError, open_regular, stat_regular};
use crate::core::schema::SchemaInfo;
use crate::core::source::SourceRecord;
pub use kind::{Csv, CsvConnection, KIND};
use crate::core::value::ResultSet;
use crate::core::{Error, Result};
use crate::home::Home;
use cache::{CachePaths, Stamp};
use crate::connector::sqlite_ro::{ReadOnlyDb, blocking};

pub use infer::ColumnType;

/// How long one statement may run unless the caller says otherwise.
pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);

pub struct CsvConnector {
    inner: Arc<Inner>,
}

#[derive(Clone)]
struct Inner {
    spec: CsvConnection,
    home: Home,
    paths: CachePaths,
    timeout: Duration,
}

impl CsvConnector {
    pub fn new(record: &SourceRecord, spec: CsvConnection, home: &Home) -> Result<Self> {
        if !spec.delimiter.is_ascii() || matches!(spec.delimiter, '"' | '\n' | '\r') {
            return Err(Error::Invalid(format!(
                "connection.delimiter: \"{}\" cannot separate fields",
                spec.delimiter.escape_debug()
            )));
        }
        Ok(CsvConnector {
            inner: Arc::new(Inner {
                paths: CachePaths::new(home.cache_dir(), &record.id),
                spec,
                home: home.clone(),
                timeout: DEFAULT_STATEMENT_TIMEOUT,
            }),
        })
    }

    /// The same connector with another statement timeout.
    pub fn with_statement_timeout(self, timeout: Duration) -> Self {
        let mut inner = Arc::unwrap_or_clone(self.inner);
        inner.timeout = timeout;
        CsvConnector {
            inner: Arc::new(inner),
        }
    }

    /// Where this source's cache lives (tests and `source rm` use it).
    pub fn cache_path(&self) -> &std::path::Path {
        &self.inner.paths.db
    }
}

impl Inner {
    fn label(&self) -> String {
        self.spec.path.display().to_string()
    }

    fn unreachable(&self, e: std::io::Error) -> Error {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            _ => e.to_string(),
        };
        Error::Unreachable(format!("cannot read the CSV file {}: {why}", self.label()))
    }

    fn open_failed(&self, e: OpenError) -> Error {
        match e {
            OpenError::Io(e) => self.unreachable(e),
            OpenError::NotRegular(kind) => Error::Unreachable(format!(
                "cannot read the CSV file {}: it is {kind}, not a regular file",
                self.label()
            )),
        }
    }

    /// Opens the source file and stamps it from the open handle. Never blocks: a FIFO or a
    /// device put where the file was is refused at once (see [`open_regular`]).
    fn open_source(&self) -> Result<(File, Stamp)> {
        let (file, meta) = open_regular(&self.spec.path).map_err(|e| self.open_failed(e))?;
        Ok((file, Stamp::new(&self.spec, &meta)))
    }

    fn stamp_now(&self) -> Result<Stamp> {
        let meta = stat_regular(&self.spec.path).map_err(|e| self.open_failed(e))?;
        Ok(Stamp::new(&self.spec, &meta))
    }

    /// A fresh cache, opened read-only, importing first when needed.
    fn ensure(
        &self,
        progress: Option<&ProgressFn>,
        cancel: &CancellationToken,
    ) -> Result<ReadOnlyDb> {
        let stamp = self.stamp_now()?;
        if let Some(db) = cache::open_if_fresh(&self.paths.db, &stamp) {
            return Ok(db);
        }
        self.home.ensure_cache_dir()?;
        let _lock = self.paths.lock()?;
        for _ in 0..3 {
            let (file, stamp) = self.open_source()?;
            // Another process may have built it while we waited for the lock.
            if let Some(db) = cache::open_if_fresh(&self.paths.db, &stamp) {
                return Ok(db);
            }
            self.paths.remove_stale_tmps();
            let tmp = self.paths.new_tmp();
            let delimiter = u8::try_from(self.spec.delimiter).map_err(|_| {
                Error::Invalid("connection.delimiter: must be one ASCII character".into())
            })?;
            let label = self.label();
            let opts = import::BuildOptions {
                delimiter,
                has_header: self.spec.has_header,
                label: &label,
                meta: stamp.to_meta(),
                progress,
                cancel,
            };
            let imported = import::build(&file, stamp.size.max(0) as u64, &tmp, &opts)?;
            // The file must not have changed while we read it, or the cache would mix two
            // versions under the first one's stamp.
            if self.stamp_now()? != stamp {
                let _ = std::fs::remove_file(&tmp);
                continue;
            }
            std::fs::rename(&tmp, &self.paths.db).map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                Error::internal(
                    &format!("cannot move the cache into {}", self.paths.db.display()),
                    e,
                )
            })?;
            if let Some(p) = progress {
                p(Progress {
                    rows: imported.rows,
                    bytes: stamp.size.max(0) as u64,
                    total_bytes: stamp.size.max(0) as u64,
                    done: true,
                });
            }
            return cache::open_if_fresh(&self.paths.db, &stamp).ok_or_else(|| {
                Error::Internal(format!(
                    "the cache {} was just built but does not open",
                    self.paths.db.display()
                ))
            });
        }
        Err(Error::QueryFailed(format!(
            "{}: the file kept changing while it was being imported; try again once it is complete",
            self.label()
        )))
    }

    /// Drops a cache that SQLite found damaged, so the next use rebuilds it.
    fn discard(&self) -> Result<()> {
        let _lock = self.paths.lock()?;
        match std::fs::remove_file(&self.paths.db) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::internal("cannot remove a damaged cache", e)),
        }
    }

    fn query(&self, sql: &str, limit: usize, cancel: &CancellationToken) -> Result<ResultSet> {
        let mut retried = false;
        loop {
            let mut db = self.ensure(None, cancel)?;
            match db.run(sql, limit, self.timeout, cancel) {
                Ok(rs) => return Ok(rs),
                Err(e) if e.corrupt && !retried => {
                    tracing::warn!(cache = %self.paths.db.display(), "damaged cache; rebuilding");
                    drop(db);
                    self.discard()?;
                    retried = true;
                }
                Err(e) => return Err(e.error),
            }
        }
    }

    /// Streams one statement's rows ([`Connector::stream`]). A cache SQLite finds damaged
    /// is dropped, so the next run rebuilds it (rows may have gone out already: no retry).
    fn stream(
        &self,
        sql: &str,
        cancel: &CancellationToken,
        next: &mut dyn FnMut(Step) -> Option<usize>,
    ) -> Result<()> {
        let mut db = self.ensure(None, cancel)?;
        match db.stream(sql, self.timeout, cancel, next) {
            Ok(()) => Ok(()),
            Err(e) => {
                if e.corrupt {
                    drop(db);
                    self.discard()?;
                }
                Err(e.error)
            }
        }
    }

    fn schema(&self, cancel: &CancellationToken) -> Result<SchemaInfo> {
        let db = self.ensure(None, cancel)?;
        let columns = db
            .columns("SELECT * FROM data")
            .map_err(|e| e.error)?
            .into_iter()
            .map(|(name, decl)| {
                crate::core::schema::ColumnInfo::new(name, cache::type_name(decl.as_deref().unwrap_or("TEXT")))
            })
            .collect();
        Ok(SchemaInfo {
            about: Default::default(),
            columns,
            tables: None,
        })
    }
}

impl Connector for CsvConnector {
    fn policy(&self) -> GuardPolicy {
        KIND.policy()
    }

    fn data_table(&self) -> Option<TableName> {
        Some(TableName {
            schema: None,
            name: "data".into(),
        })
    }

    fn prepare(
        &self,
        progress: Option<ProgressFn>,
        cancel: CancellationToken,
    ) -> BoxFuture<'_, Result<()>> {
        let inner = Arc::clone(&self.inner);
        Box::pin(blocking(cancel.child_token(), move |cancel| {
            inner.ensure(progress.as_ref(), cancel).map(drop)
        }))
    }

    /// SQLite has no functions but its built-ins and the guard's deny list covers the ones
    /// that reach files, so `guarded.calls` needs no resolving here.
    fn query<'a>(
        &'a self,
        guarded: &'a Guarded,
        cancel: CancellationToken,
    ) -> BoxFuture<'a, Result<ResultSet>> {
        let inner = Arc::clone(&self.inner);
        let sql = guarded.executed_sql.clone();
        let limit = guarded.limit;
        Box::pin(blocking(cancel.child_token(), move |cancel| {
            inner.query(&sql, limit, cancel)
        }))
    }

    /// The statement stays open on a worker thread between batches; SQLite needs no idle
    /// limit of its own (`hold` is kept by the caller closing the stream).
    fn stream<'a>(
        &'a self,
        guarded: &'a Guarded,
        sink: &'a mut dyn RowSink,
        _hold: Hold,
        cancel: CancellationToken,
    ) -> BoxFuture<'a, Result<u64>> {
        let inner = Arc::clone(&self.inner);
        let sql = guarded.executed_sql.clone();
        let token = cancel.child_token();
        Box::pin(async move {
            // Dropping the read (tdb exiting) stops the worker too.
            let _stop = token.clone().drop_guard();
            relay_blocking(sink, move |next| inner.stream(&sql, &token, next)).await
        })
    }

    fn schema(&self) -> BoxFuture<'_, Result<SchemaInfo>> {
        let inner = Arc::clone(&self.inner);
        Box::pin(blocking(CancellationToken::new(), move |cancel| {
            inner.schema(cancel)
        }))
    }

    fn test(&self) -> BoxFuture<'_, Result<TestReport>> {
        let inner = Arc::clone(&self.inner);
        Box::pin(blocking(CancellationToken::new(), move |_| {
            inner.open_source().map(|_| TestReport::default())
        }))
    }
}
