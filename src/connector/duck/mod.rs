//! The columnar engine the file kinds share: DuckDB, loaded at run time ([`lib`]), queried
//! through its C API ([`engine`]).
//!
//! Every query opens the engine afresh on the source's files, so it always sees them as
//! they are now and holds nothing between queries:
//!
//! - files read in place (Parquet, JSON): an in-memory database with the view `data` over
//!   the files a path or glob matched when the query began;
//! - a database file (a DuckDB source, or the cache an Excel or CSV file was imported into):
//!   opened read-only.
//!
//! Then, before any SQL of the user's: the engine may read only those files
//! (`allowed_paths`), external access is off (`enable_external_access=false`: no other
//! file, no URL, no extension to install or load) and its configuration is locked
//! (`lock_configuration=true`: no `SET` can undo any of it). Memory is capped (the source's
//! `memory_limit`), threads are the machine's cores, and a query that needs more memory
//! spills under `<home>/cache/`. Cancel and the statement timeout interrupt the engine.

pub mod engine;
pub mod ffi;
mod files;
pub mod kind;
pub mod lib;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::sqlite_ro::blocking;
use super::stream::{Step, relay_blocking};
use super::{BoxFuture, Connector, Hold, RowSink, TestReport};
use crate::core::guard::{Guarded, TableName};
use crate::core::kind::GuardPolicy;
use crate::core::progress::ProgressFn;
use crate::core::schema::{ColumnInfo, SchemaInfo, TableAbout, TableInfo};
use crate::core::value::{ResultBudget, ResultSet, Value};
use crate::core::{Error, Result};
use engine::{Conn, Database, quote_literal};
pub use files::{FileSet, admit_files, matching_files};

/// The engine's memory limit when the source sets none.
pub const DEFAULT_MEMORY_LIMIT: &str = "256MiB";

/// A source whose rows are imported into a file of tdb's before they are queried (an Excel
/// workbook, a CSV file).
pub trait Import: Send + Sync {
    /// The file holding the source's rows, built first when the source changed since the
    /// last import; `progress` hears how far a build is, `cancel` stops it.
    fn ensure(&self, progress: Option<&ProgressFn>, cancel: &CancellationToken) -> Result<Cached>;

    /// Whether the source file can be read (a connection test), without importing it.
    fn reachable(&self) -> Result<()>;
}

/// An import's result, as the engine reads it.
pub enum Cached {
    /// A DuckDB database of tdb's whose table `data` holds the rows.
    Database(PathBuf),
    /// A Parquet file of the rows.
    Parquet(PathBuf),
}

impl Cached {
    fn path(&self) -> &Path {
        match self {
            Cached::Database(p) | Cached::Parquet(p) => p,
        }
    }
}

/// What a query reads.
#[derive(Clone)]
pub enum Layout {
    /// Files read in place through the view `data`: `reader` is the table function
    /// (`read_parquet`), `options` its named arguments after the list of files.
    Files {
        path: PathBuf,
        reader: &'static str,
        options: &'static str,
    },
    /// A database file, read-only; `table` is what `data` names (`None`: the whole
    /// database).
    Database {
        path: PathBuf,
        table: Option<String>,
    },
    /// A file imported into a file of tdb's (`import`), its rows `data`.
    Imported {
        path: PathBuf,
        import: Arc<dyn Import>,
    },
}

/// How the engine runs for one source.
#[derive(Debug, Clone)]
pub struct Limits {
    pub memory_limit: String,
    pub timeout: Duration,
    /// Where a query that needs more memory spills (`<home>/cache/spill`).
    pub spill: PathBuf,
}

/// A source on the engine.
pub struct DuckSource {
    pub layout: Layout,
    pub limits: Limits,
    pub policy: GuardPolicy,
    /// Names the source in messages: `a Parquet source`.
    pub what: &'static str,
}

impl DuckSource {
    fn label(&self) -> String {
        match &self.layout {
            Layout::Files { path, .. }
            | Layout::Database { path, .. }
            | Layout::Imported { path, .. } => path.display().to_string(),
        }
    }

    fn base_settings(&self) -> Vec<(&'static str, String)> {
        DuckSource::engine_settings(&self.limits)
    }

    /// The engine's settings for `limits`: memory, threads (the machine's cores), the
    /// spill folder, and no extension fetched or loaded.
    pub fn engine_settings(limits: &Limits) -> Vec<(&'static str, String)> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let spill = limits.spill.join(format!("duckdb-{}", std::process::id()));
        vec![
            ("memory_limit", limits.memory_limit.clone()),
            ("threads", threads.to_string()),
            ("temp_directory", spill.to_string_lossy().into_owned()),
            ("autoinstall_known_extensions", "false".into()),
            ("autoload_known_extensions", "false".into()),
            ("allow_community_extensions", "false".into()),
            // Each query opens the engine afresh, so a cache of the files' bytes would only
            // grow the process with the file (the kernel's page cache keeps them anyway).
            ("enable_external_file_cache", "false".into()),
        ]
    }

    /// The engine, opened on the source's files with external access off; `cancel` stops
    /// an import the source needs first. Its configuration is locked by [`session`] on the
    /// connection that runs the query.
    fn open(&self, cancel: &CancellationToken) -> Result<Database> {
        if cancel.is_cancelled() {
            return Err(Error::Cancelled);
        }
        match &self.layout {
            Layout::Files {
                path,
                reader,
                options,
            } => {
                let files = matching_files(path).map_err(|e| self.unreachable(e))?;
                self.open_files(&files.paths, reader, options)
            }
            Layout::Database { path, .. } => self.open_database(path),
            Layout::Imported { import, .. } => {
                let cached = import.ensure(None, cancel)?;
                match self.open_cached(&cached) {
                    Ok(db) => Ok(db),
                    // A cache the engine cannot read (damaged, cut short) is built again.
                    Err(e @ Error::QueryFailed(_)) => {
                        tracing::warn!(cache = %cached.path().display(), "unusable cache ({e}); rebuilding");
                        std::fs::remove_file(cached.path())
                            .map_err(|e| Error::internal("cannot remove a damaged cache", e))?;
                        self.open_cached(&import.ensure(None, cancel)?)
                    }
                    Err(e) => Err(e),
                }
            }
        }
    }

    fn open_cached(&self, cached: &Cached) -> Result<Database> {
        match cached {
            Cached::Database(path) => self.open_database(path),
            Cached::Parquet(path) => {
                self.open_files(std::slice::from_ref(path), "read_parquet", "")
            }
        }
    }

    /// An engine in memory with the view `data` over `files`, then limited to them.
    fn open_files(&self, files: &[PathBuf], reader: &str, options: &str) -> Result<Database> {
        let db = Database::open(None, &self.base_settings())?;
        {
            let conn = db.connect()?;
            let list = files
                .iter()
                .map(|p| quote_literal(&p.to_string_lossy()))
                .collect::<Vec<_>>()
                .join(", ");
            conn.execute(&format!(
                "CREATE VIEW data AS SELECT * FROM {reader}([{list}]{options})"
            ))
            .map_err(|e| self.unreadable(e))?;
            conn.execute(&format!(
                "SET allowed_paths = [{list}]; SET enable_external_access = false"
            ))
            .map_err(|e| Error::internal("cannot lock the DuckDB engine", e))?;
        }
        Ok(db)
    }

    /// A database file, read-only, with external access off before it is opened.
    fn open_database(&self, path: &Path) -> Result<Database> {
        crate::core::regular_file::open_regular(path).map_err(|e| self.unreachable(e.reason()))?;
        let mut settings = self.base_settings();
        settings.push(("access_mode", "READ_ONLY".into()));
        settings.push(("enable_external_access", "false".into()));
        Database::open(Some(path), &settings)
    }

    fn unreachable(&self, why: String) -> Error {
        Error::Unreachable(format!("cannot read {} {}: {why}", self.what, self.label()))
    }

    /// The engine could not read the files (not Parquet, malformed JSON): the query fails
    /// naming them, with the engine's words.
    fn unreadable(&self, e: Error) -> Error {
        Error::QueryFailed(format!("cannot read {}: {}", self.label(), e.detail()))
    }

    fn query(&self, sql: &str, limit: usize, cancel: &CancellationToken) -> Result<ResultSet> {
        let db = self.open(cancel)?;
        let conn = session(&db)?;
        let timeout = self.limits.timeout;
        let mut rows = conn
            .query(sql, false, cancel, Instant::now() + timeout)
            .map_err(|f| self.explain(&conn, f.into_error(timeout)))?;
        let budget = ResultBudget::from_env()?;
        let mut out = ResultSet {
            columns: rows.columns().to_vec(),
            rows: Vec::new(),
            truncated: false,
        };
        let mut bytes = 0u64;
        while let Some(chunk) = rows.next_chunk().map_err(|f| f.into_error(timeout))? {
            for row in chunk {
                if out.rows.len() == limit {
                    out.truncated = true;
                    return Ok(out);
                }
                bytes += row.iter().map(cell_bytes).sum::<u64>();
                // Past the budget the result ends as truncated; a first row alone past it
                // is an error (nothing of it could be shown).
                if bytes > budget.bytes() {
                    if out.rows.is_empty() {
                        return Err(Error::QueryFailed(format!(
                            "a value larger than the result budget of {budget} was asked \
                             for; select fewer or smaller values (e.g. substr(col, 1, 1000)), \
                             or raise {}",
                            ResultBudget::ENV
                        )));
                    }
                    out.truncated = true;
                    return Ok(out);
                }
                out.rows.push(row);
            }
        }
        Ok(out)
    }

    fn stream(
        &self,
        sql: &str,
        cancel: &CancellationToken,
        next: &mut dyn FnMut(Step) -> Option<usize>,
    ) -> Result<()> {
        let db = self.open(cancel)?;
        let conn = session(&db)?;
        let timeout = self.limits.timeout;
        let mut rows = conn
            .query(sql, true, cancel, Instant::now() + timeout)
            .map_err(|f| self.explain(&conn, f.into_error(timeout)))?;
        let Some(mut wanted) = next(Step::Columns(rows.columns().to_vec())) else {
            return Ok(());
        };
        let mut batch: Vec<Vec<Value>> = Vec::new();
        let mut pending = std::collections::VecDeque::new();
        loop {
            while pending.is_empty() {
                match rows.next_chunk().map_err(|f| f.into_error(timeout))? {
                    Some(chunk) => pending.extend(chunk),
                    None => {
                        next(Step::Rows(std::mem::take(&mut batch), false));
                        return Ok(());
                    }
                }
            }
            while batch.len() < wanted {
                match pending.pop_front() {
                    Some(row) => batch.push(row),
                    None => break,
                }
            }
            if batch.len() == wanted {
                // More rows may follow: read ahead one chunk to say so.
                if pending.is_empty()
                    && let Some(chunk) = rows.next_chunk().map_err(|f| f.into_error(timeout))?
                {
                    pending.extend(chunk);
                }
                let more = !pending.is_empty();
                match next(Step::Rows(std::mem::take(&mut batch), more)) {
                    Some(n) if more => wanted = n,
                    _ => return Ok(()),
                }
            }
        }
    }

    /// A whole-database source has no `data`: say so, naming its tables.
    fn explain(&self, conn: &Conn<'_>, error: Error) -> Error {
        let whole = matches!(&self.layout, Layout::Database { table: None, .. });
        let missing = matches!(&error, Error::QueryFailed(m) if m.contains("Table with name data does not exist"));
        if !(whole && missing) {
            return error;
        }
        let names = tables(conn, self.limits.timeout)
            .map(|t| {
                t.into_iter()
                    .map(|r| qualified(&r.schema, &r.name))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        let list = if names.is_empty() {
            "it has no tables".to_string()
        } else {
            format!("its tables: {}", names.join(", "))
        };
        Error::QueryFailed(format!(
            "`data` names no table: {} is a whole database ({list}); name a table in the \
             query, or register the source with a table",
            self.label()
        ))
    }

    fn schema(&self, cancel: &CancellationToken) -> Result<SchemaInfo> {
        let db = self.open(cancel)?;
        let conn = session(&db)?;
        let t = self.limits.timeout;
        match &self.layout {
            Layout::Files { path, reader, .. } => {
                let columns = columns(&conn, "main", "data", t)?;
                let rows = if *reader == "read_parquet" {
                    parquet_rows(path)
                } else {
                    None
                };
                Ok(SchemaInfo {
                    columns,
                    about: TableAbout {
                        rows,
                        ..Default::default()
                    },
                    tables: None,
                })
            }
            Layout::Database { .. } | Layout::Imported { .. } => {
                let table = match &self.layout {
                    Layout::Database { table, .. } => table.clone(),
                    _ => Some("data".to_string()),
                };
                let all = tables(&conn, t)?;
                let mut infos = Vec::with_capacity(all.len());
                for Relation {
                    schema,
                    name,
                    kind,
                    rows,
                } in all
                {
                    infos.push(TableInfo {
                        columns: columns(&conn, &schema, &name, t)?,
                        about: TableAbout {
                            rows,
                            ..Default::default()
                        },
                        schema,
                        name,
                        kind,
                    });
                }
                match table {
                    Some(table) => {
                        let found = infos
                            .into_iter()
                            .find(|i| i.name.eq_ignore_ascii_case(&table))
                            .ok_or_else(|| {
                                Error::QueryFailed(format!(
                                    "{}: no table or view named {table}",
                                    self.label()
                                ))
                            })?;
                        let mut about = found.about;
                        // A Parquet cache knows its rows from its footer.
                        if let Layout::Imported { import, .. } = &self.layout
                            && about.rows.is_none()
                            && let Cached::Parquet(path) = import.ensure(None, cancel)?
                        {
                            about.rows = parquet_rows(&path);
                        }
                        Ok(SchemaInfo {
                            columns: found.columns,
                            about,
                            tables: None,
                        })
                    }
                    None => Ok(SchemaInfo {
                        columns: Vec::new(),
                        about: TableAbout::default(),
                        tables: Some(infos),
                    }),
                }
            }
        }
    }
}

/// The connection a query runs on: the engine's streamed results buffered little (a few
/// chunks ahead of the reader, not row groups), then the configuration locked
/// (`lock_configuration`: no `SET` can undo any of it).
fn session(db: &Database) -> Result<Conn<'_>> {
    let conn = db.connect()?;
    conn.execute("SET streaming_buffer_size = '64KiB'; SET lock_configuration = true")
        .map_err(|e| Error::internal("cannot lock the DuckDB engine", e))?;
    Ok(conn)
}

fn qualified(schema: &str, name: &str) -> String {
    if schema == "main" {
        name.to_string()
    } else {
        format!("{schema}.{name}")
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::Text(s) | Value::Number(s) | Value::Numeric(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

fn cell_bytes(v: &Value) -> u64 {
    match v {
        Value::Text(s) | Value::Number(s) | Value::Numeric(s) | Value::Json(s) => s.len() as u64,
        Value::Bytes(b) => b.len() as u64,
        _ => 8,
    }
}

/// A table or view of a database's own catalogs.
struct Relation {
    schema: String,
    name: String,
    kind: String,
    /// For a table, the row count DuckDB keeps (no scan).
    rows: Option<u64>,
}

/// Every table and view of the database's own catalogs.
fn tables(conn: &Conn<'_>, timeout: Duration) -> Result<Vec<Relation>> {
    let rows = conn.rows(
        "SELECT schema_name, table_name, 'table', estimated_size FROM duckdb_tables() \
         WHERE NOT internal AND NOT temporary \
         UNION ALL SELECT schema_name, view_name, 'view', NULL FROM duckdb_views() \
         WHERE NOT internal AND NOT temporary ORDER BY 1, 2",
        timeout,
    )?;
    Ok(rows
        .iter()
        .map(|r| {
            let rows = match r.get(3) {
                Some(Value::Int(n)) => u64::try_from(*n).ok(),
                _ => None,
            };
            Relation {
                schema: r.first().map(text).unwrap_or_default(),
                name: r.get(1).map(text).unwrap_or_default(),
                kind: r.get(2).map(text).unwrap_or_default(),
                rows,
            }
        })
        .collect())
}

/// A table's columns with their types as DuckDB spells them.
fn columns(
    conn: &Conn<'_>,
    schema: &str,
    table: &str,
    timeout: Duration,
) -> Result<Vec<ColumnInfo>> {
    let rows = conn.rows(
        &format!(
            "SELECT column_name, data_type, NOT is_nullable FROM duckdb_columns() \
             WHERE schema_name = {} AND table_name = {} ORDER BY column_index",
            quote_literal(schema),
            quote_literal(table)
        ),
        timeout,
    )?;
    Ok(rows
        .iter()
        .map(|r| {
            let mut c = ColumnInfo::new(
                r.first().map(text).unwrap_or_default(),
                r.get(1).map(text).unwrap_or_default(),
            );
            c.not_null = matches!(r.get(2), Some(Value::Bool(true)));
            c
        })
        .collect())
}

/// The rows a Parquet file set holds, from the files' footers (no scan).
fn parquet_rows(path: &Path) -> Option<u64> {
    let files = matching_files(path).ok()?;
    let db = Database::open(
        None,
        &[
            ("autoinstall_known_extensions", "false".into()),
            ("autoload_known_extensions", "false".into()),
        ],
    )
    .ok()?;
    let conn = db.connect().ok()?;
    let list = files
        .paths
        .iter()
        .map(|p| quote_literal(&p.to_string_lossy()))
        .collect::<Vec<_>>()
        .join(", ");
    let rows = conn
        .rows(
            &format!("SELECT CAST(sum(num_rows) AS BIGINT) FROM parquet_file_metadata([{list}])"),
            Duration::from_secs(10),
        )
        .ok()?;
    match rows.first().and_then(|r| r.first()) {
        Some(Value::Int(n)) => u64::try_from(*n).ok(),
        _ => None,
    }
}

/// The [`Connector`] every kind on the engine shares.
pub struct DuckConnector {
    source: Arc<DuckSource>,
}

impl DuckConnector {
    pub fn new(source: DuckSource) -> DuckConnector {
        DuckConnector {
            source: Arc::new(source),
        }
    }
}

impl Connector for DuckConnector {
    fn policy(&self) -> GuardPolicy {
        self.source.policy
    }

    fn data_table(&self) -> Option<TableName> {
        match &self.source.layout {
            // The view (or the imported table) is called `data` itself.
            Layout::Files { .. } | Layout::Imported { .. } => None,
            Layout::Database { table, .. } => table.as_ref().map(|t| TableName {
                schema: None,
                name: t.clone(),
            }),
        }
    }

    /// An imported source is imported now (with progress), so its first query does not
    /// wait for it; files read in place need nothing.
    fn prepare(
        &self,
        progress: Option<ProgressFn>,
        cancel: CancellationToken,
    ) -> BoxFuture<'_, Result<()>> {
        let source = Arc::clone(&self.source);
        Box::pin(blocking(
            cancel.child_token(),
            move |cancel| match &source.layout {
                Layout::Imported { import, .. } => {
                    import.ensure(progress.as_ref(), cancel).map(drop)
                }
                Layout::Files { .. } | Layout::Database { .. } => Ok(()),
            },
        ))
    }

    /// The guard's DuckDB policy refuses every function that reaches beyond the source, and
    /// the engine's locked configuration refuses them again; `guarded.calls` needs no
    /// resolving here.
    fn query<'a>(
        &'a self,
        guarded: &'a Guarded,
        cancel: CancellationToken,
    ) -> BoxFuture<'a, Result<ResultSet>> {
        let source = Arc::clone(&self.source);
        let sql = guarded.executed_sql.clone();
        let limit = guarded.limit;
        Box::pin(blocking(cancel.child_token(), move |cancel| {
            source.query(&sql, limit, cancel)
        }))
    }

    fn stream<'a>(
        &'a self,
        guarded: &'a Guarded,
        sink: &'a mut dyn RowSink,
        _hold: Hold,
        cancel: CancellationToken,
    ) -> BoxFuture<'a, Result<u64>> {
        let source = Arc::clone(&self.source);
        let sql = guarded.executed_sql.clone();
        let token = cancel.child_token();
        Box::pin(async move {
            let _stop = token.clone().drop_guard();
            relay_blocking(sink, move |next| source.stream(&sql, &token, next)).await
        })
    }

    fn schema(&self) -> BoxFuture<'_, Result<SchemaInfo>> {
        let source = Arc::clone(&self.source);
        Box::pin(blocking(CancellationToken::new(), move |cancel| {
            source.schema(cancel)
        }))
    }

    fn test(&self) -> BoxFuture<'_, Result<TestReport>> {
        let source = Arc::clone(&self.source);
        Box::pin(blocking(CancellationToken::new(), move |cancel| {
            // An import can take long: the file being there and readable is the test.
            if let Layout::Imported { import, .. } = &source.layout {
                return import.reachable().map(|()| TestReport::default());
            }
            let db = source.open(cancel)?;
            let conn = session(&db)?;
            conn.rows("SELECT 1", source.limits.timeout)?;
            Ok(TestReport::default())
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(layout: Layout, dir: &Path) -> DuckSource {
        DuckSource {
            layout,
            limits: Limits {
                memory_limit: DEFAULT_MEMORY_LIMIT.into(),
                timeout: Duration::from_secs(30),
                spill: dir.join("spill"),
            },
            policy: kind::POLICY,
            what: "a test source",
        }
    }

    /// Writes files with an engine of its own (no lock-down).
    fn write(sql: &str) {
        let db = Database::open(None, &[]).unwrap();
        db.connect().unwrap().execute(sql).unwrap();
    }

    fn listing(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn the_locked_engine_reads_the_sources_files_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().canonicalize().unwrap();
        let file = d.join("a.parquet");
        write(&format!(
            "COPY (SELECT range AS n FROM range(3)) TO {}",
            quote_literal(&file.to_string_lossy())
        ));
        std::fs::write(d.join("secret.csv"), "a\n1\n").unwrap();
        let before = listing(&d);
        let src = source(
            Layout::Files {
                path: file.clone(),
                reader: "read_parquet",
                options: "",
            },
            &d,
        );
        let db = src.open(&CancellationToken::new()).unwrap();
        let conn = session(&db).unwrap();
        let rows = conn
            .rows("SELECT count(*) FROM data", Duration::from_secs(5))
            .unwrap();
        assert_eq!(rows, vec![vec![Value::Int(3)]]);
        let p = |name: &str| quote_literal(&d.join(name).to_string_lossy());
        // Straight to the engine, past the guard and past tdb's check of the statement's
        // type: the engine's own lock refuses every one.
        let hostile = [
            format!("SELECT * FROM read_csv({})", p("secret.csv")),
            "SELECT * FROM read_text('/etc/hostname')".to_string(),
            "SELECT * FROM read_blob('/etc/hostname')".to_string(),
            "SELECT * FROM glob('/etc/*')".to_string(),
            format!("SELECT * FROM {}", p("secret.csv")),
            "SET enable_external_access = true".to_string(),
            "SET lock_configuration = false".to_string(),
            format!("SET allowed_paths = [{}]", p("secret.csv")),
            format!("COPY (SELECT 1) TO {}", p("out.csv")),
            format!("ATTACH {} AS evil", p("evil.db")),
            "INSTALL httpfs".to_string(),
            "LOAD httpfs".to_string(),
            format!("EXPORT DATABASE {}", p("exported")),
            "SELECT * FROM read_csv('https://example.com/x.csv')".to_string(),
        ];
        for sql in &hostile {
            assert!(conn.execute(sql).is_err(), "the engine ran {sql}");
        }
        // tdb's own check: only reads run through `query`.
        for sql in [
            "CREATE TABLE t AS SELECT 1",
            "CALL pragma_version()",
            "SET threads = 1",
        ] {
            let e = conn.rows(sql, Duration::from_secs(5)).unwrap_err();
            assert_eq!(e.exit_code(), 10, "{sql}: {e}");
        }
        drop(conn);
        drop(db);
        assert_eq!(listing(&d), before, "a file appeared or went");
    }

    #[test]
    fn a_database_file_is_opened_read_only() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().canonicalize().unwrap();
        let file = d.join("shop.duckdb");
        write(&format!(
            "ATTACH {} AS shop; CREATE TABLE shop.orders AS SELECT range AS id FROM range(5)",
            quote_literal(&file.to_string_lossy())
        ));
        let src = source(
            Layout::Database {
                path: file.clone(),
                table: Some("orders".into()),
            },
            &d,
        );
        let bytes = std::fs::read(&file).unwrap();
        let db = src.open(&CancellationToken::new()).unwrap();
        let conn = session(&db).unwrap();
        for sql in [
            "INSERT INTO orders VALUES (9)",
            "CREATE TABLE t (i INTEGER)",
            "DROP TABLE orders",
        ] {
            assert!(conn.execute(sql).is_err(), "the engine ran {sql}");
        }
        // A checkpoint of a read-only database writes nothing.
        let _ = conn.execute("CHECKPOINT");
        drop(conn);
        drop(db);
        assert!(
            std::fs::read(&file).unwrap() == bytes,
            "the database file changed"
        );
        let schema = src.schema(&CancellationToken::new()).unwrap();
        assert_eq!(schema.about.rows, Some(5));
        assert_eq!(schema.columns[0].name, "id");
        assert_eq!(schema.columns[0].type_name, "BIGINT");
    }

    #[test]
    fn cancel_and_the_deadline_interrupt_the_engine() {
        let dir = tempfile::tempdir().unwrap();
        let src = source(
            Layout::Files {
                path: PathBuf::from("/dev/null"),
                reader: "read_parquet",
                options: "",
            },
            dir.path(),
        );
        let db = Database::open(None, &src.base_settings()).unwrap();
        let conn = db.connect().unwrap();
        let slow = "SELECT count(*) FROM range(1000000000000) a WHERE a.range % 7 = 3";
        let cancel = CancellationToken::new();
        let c = cancel.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            c.cancel();
        });
        let far = Instant::now() + Duration::from_secs(600);
        let r = conn.query(slow, false, &cancel, far).map(|_| ());
        assert!(matches!(r, Err(engine::Failure::Cancelled)), "{r:?}");
        t.join().unwrap();
        let soon = Instant::now() + Duration::from_millis(200);
        let r = conn
            .query(slow, true, &CancellationToken::new(), soon)
            .map(|_| ());
        // A streaming statement may start before it runs into its deadline.
        match r {
            Err(engine::Failure::TimedOut) => {}
            Ok(()) => panic!("the statement outlived its deadline"),
            Err(other) => panic!("{other:?}"),
        }
        // The connection still works after an interrupt.
        let rows = conn.rows("SELECT 42", Duration::from_secs(5)).unwrap();
        assert_eq!(rows, vec![vec![Value::Int(42)]]);
    }
}
