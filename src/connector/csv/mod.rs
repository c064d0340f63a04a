//! The CSV connector: a file is imported into a per-source cache by the columnar engine
//! ([`import`], [`cache`]), then queried there as the table `data`
//! ([`crate::connector::duck`]), like the other file kinds.
//!
//! Every entry point makes sure the cache is fresh first (importing again when the file's
//! size, mtime or inode changed), so no caller can forget to import; `prepare` does it with
//! a progress report. Blocking work runs on tokio's blocking pool, never on the runtime.
//!
//! Errors: a missing or unreadable file is [`Error::Unreachable`] (exit 13) naming the path;
//! a file that is not a CSV tdb can read (ragged row, invalid UTF-8, unterminated quote,
//! empty) is [`Error::QueryFailed`] (exit 14) naming the line; SQL that tries to write is
//! [`Error::Rejected`] (exit 10), as the guard would report it.

mod cache;
mod import;
mod kind;
mod reader;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::duck::{DEFAULT_MEMORY_LIMIT, DuckConnector, DuckSource, Layout, Limits};
use super::{BoxFuture, Connector, Hold, RowSink, TestReport};
use crate::core::guard::{Guarded, TableName};
use crate::core::kind::{GuardPolicy, KindRules};
use crate::core::progress::ProgressFn;
use crate::core::schema::SchemaInfo;
use crate::core::source::SourceRecord;
use crate::core::value::ResultSet;
use crate::core::{Error, Result};
use crate::home::Home;
use cache::CachePaths;
use import::CsvImport;
pub use kind::{Csv, CsvConnection, KIND};

/// How long one statement may run unless the caller says otherwise.
pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);

pub struct CsvConnector {
    import: Arc<CsvImport>,
    engine: DuckConnector,
    limits: Limits,
}

impl CsvConnector {
    pub fn new(record: &SourceRecord, spec: CsvConnection, home: &Home) -> Result<Self> {
        if !spec.delimiter.is_ascii() || matches!(spec.delimiter, '"' | '\n' | '\r') {
            return Err(Error::Invalid(format!(
                "connection.delimiter: \"{}\" cannot separate fields",
                spec.delimiter.escape_debug()
            )));
        }
        let limits = Limits {
            memory_limit: DEFAULT_MEMORY_LIMIT.into(),
            timeout: DEFAULT_STATEMENT_TIMEOUT,
            spill: home.cache_dir().join("spill"),
        };
        let import = Arc::new(CsvImport {
            paths: CachePaths::new(home.cache_dir(), &record.id),
            settings: DuckSource::engine_settings(&limits),
            spec,
            home: home.clone(),
        });
        Ok(CsvConnector {
            engine: engine(&import, &limits),
            import,
            limits,
        })
    }

    /// The same connector with another statement timeout.
    pub fn with_statement_timeout(mut self, timeout: Duration) -> Self {
        self.limits.timeout = timeout;
        self.engine = engine(&self.import, &self.limits);
        self
    }

    /// Where the cache of the file as it is now lives (the tests look at it).
    pub fn cache_path(&self) -> Result<PathBuf> {
        self.import.cache_path()
    }
}

fn engine(import: &Arc<CsvImport>, limits: &Limits) -> DuckConnector {
    DuckConnector::new(DuckSource {
        layout: Layout::Imported {
            path: import.spec.path.clone(),
            import: Arc::clone(import) as Arc<dyn super::duck::Import>,
        },
        limits: limits.clone(),
        policy: KIND.policy(),
        what: "a CSV source",
    })
}

/// Everything is the engine's; the connector only owns how the file is imported.
impl Connector for CsvConnector {
    fn policy(&self) -> GuardPolicy {
        self.engine.policy()
    }

    fn data_table(&self) -> Option<TableName> {
        self.engine.data_table()
    }

    fn prepare(
        &self,
        progress: Option<ProgressFn>,
        cancel: CancellationToken,
    ) -> BoxFuture<'_, Result<()>> {
        self.engine.prepare(progress, cancel)
    }

    fn query<'a>(
        &'a self,
        guarded: &'a Guarded,
        cancel: CancellationToken,
    ) -> BoxFuture<'a, Result<ResultSet>> {
        self.engine.query(guarded, cancel)
    }

    fn stream<'a>(
        &'a self,
        guarded: &'a Guarded,
        sink: &'a mut dyn RowSink,
        hold: Hold,
        cancel: CancellationToken,
    ) -> BoxFuture<'a, Result<u64>> {
        self.engine.stream(guarded, sink, hold, cancel)
    }

    fn schema(&self) -> BoxFuture<'_, Result<SchemaInfo>> {
        self.engine.schema()
    }

    fn test(&self) -> BoxFuture<'_, Result<TestReport>> {
        self.engine.test()
    }
}
