//! The SQLite connector: a database file, opened read-only (`mode=ro` through
//! `SQLITE_OPEN_READ_ONLY`, never `immutable`: another program may be writing the file, and
//! SQLite's normal locking keeps each read consistent under that program's WAL), queried
//! through the shared read-only engine ([`crate::connector::sqlite_ro`]: authorizer,
//! `query_only`, defensive flag, `sqlite3_stmt_readonly`, the guard's SQLite deny list).
//!
//! Each query opens the file afresh: it costs well under a millisecond, sees the file as it
//! is now, and holds no lock between queries.
//!
//! Errors: a missing, unreadable or non-database file is [`Error::Unreachable`] (exit 13)
//! naming the path; SQL that tries to write is [`Error::Invalid`] (exit 10).

mod kind;

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::sqlite_ro::{Flavor, ReadOnlyDb, blocking, plain_value};
use super::stream::{Step, relay_blocking};
use super::{BoxFuture, Connector, Hold, RowSink, TestReport};
use crate::core::progress::ProgressFn;
use crate::core::schema::{ColumnInfo, SchemaInfo, TableInfo};
use crate::core::guard::{Guarded, TableName};
use crate::core::kind::{GuardPolicy, KindRules};
use crate::core::regular_file::open_regular;
use crate::core::value::ResultSet;
use crate::core::{Error, Result};
pub use kind::{KIND, Sqlite, SqliteConnection};

/// How long one statement may run (the kind has no field for it).
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);

/// A user's database: others may write it, and cells are what SQLite stores; a column's
/// type is its declared type as written (`VARCHAR(20)`, `INTEGER`).
const FLAVOR: Flavor = Flavor {
    what: "a SQLite source",
    value: plain_value,
    type_name: declared,
};

fn declared(decl: &str) -> String {
    decl.to_string()
}

pub struct SqliteConnector {
    inner: Arc<Inner>,
}

struct Inner {
    spec: SqliteConnection,
}

impl SqliteConnector {
    pub fn new(spec: SqliteConnection) -> SqliteConnector {
        SqliteConnector {
            inner: Arc::new(Inner { spec }),
        }
    }
}

impl Inner {
    fn label(&self) -> String {
        self.spec.path.display().to_string()
    }

    /// The database, opened read-only. The file is checked first without blocking: a FIFO
    /// put where the database was must not hang the query.
    fn open(&self) -> Result<ReadOnlyDb> {
        let unreachable = |why: String| {
            Error::Unreachable(format!(
                "cannot open the SQLite database {}: {why}",
                self.label()
            ))
        };
        open_regular(&self.spec.path).map_err(|e| unreachable(e.reason()))?;
        let db = ReadOnlyDb::open(&self.spec.path, FLAVOR).map_err(|e| unreachable(e.to_string()))?;
        // Opening is lazy: reading the schema is what tells a database from other bytes.
        db.conn
            .query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(()))
            .map_err(|e| unreachable(e.to_string()))?;
        Ok(db)
    }

    fn query(&self, sql: &str, limit: usize, cancel: &CancellationToken) -> Result<ResultSet> {
        let mut db = self.open()?;
        match db.run(sql, limit, STATEMENT_TIMEOUT, cancel) {
            Ok(rs) => Ok(rs),
            Err(e) => Err(self.explain(&db, e)),
        }
    }

    /// Streams one statement's rows ([`Connector::stream`]).
    fn stream(
        &self,
        sql: &str,
        cancel: &CancellationToken,
        next: &mut dyn FnMut(Step) -> Option<usize>,
    ) -> Result<()> {
        let mut db = self.open()?;
        match db.stream(sql, STATEMENT_TIMEOUT, cancel, next) {
            Ok(()) => Ok(()),
            Err(e) => Err(self.explain(&db, e)),
        }
    }

    /// A whole-database source has no `data`: say so, naming the tables there are.
    fn explain(&self, db: &ReadOnlyDb, error: Error) -> Error {
        let missing_data = self.spec.table.is_none()
            && matches!(&error, Error::QueryFailed(m) if m.contains("no such table: data"));
        if !missing_data {
            return error;
        }
        let names = tables(db)
            .map(|t| t.into_iter().map(|(name, _)| name).collect::<Vec<_>>())
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

    fn schema(&self) -> Result<SchemaInfo> {
        let db = self.open()?;
        let mut infos = Vec::new();
        for (name, kind) in tables(&db)? {
            let columns = columns(&db, &name)?;
            infos.push(TableInfo {
                about: Default::default(),
                schema: "main".into(),
                name,
                kind,
                columns,
            });
        }
        Ok(match &self.spec.table {
            Some(table) => {
                let columns = infos
                    .into_iter()
                    .find(|t| t.name == *table)
                    .map(|t| t.columns)
                    .ok_or_else(|| {
                        Error::QueryFailed(format!(
                            "{}: no table or view named {table}",
                            self.label()
                        ))
                    })?;
                SchemaInfo {
                    about: Default::default(),
                    columns,
                    tables: None,
                }
            }
            None => SchemaInfo {
                about: Default::default(),
                columns: Vec::new(),
                tables: Some(infos),
            },
        })
    }
}

fn failed(e: rusqlite::Error) -> Error {
    Error::QueryFailed(format!("cannot read the schema: {e}"))
}

/// Every table and view but SQLite's own, by name.
fn tables(db: &ReadOnlyDb) -> Result<Vec<(String, String)>> {
    let mut stmt = db
        .conn
        .prepare(
            "SELECT name, type FROM sqlite_schema \
             WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
             ORDER BY name",
        )
        .map_err(failed)?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .map_err(failed)?;
    rows.collect::<rusqlite::Result<_>>().map_err(failed)
}

/// A table's columns with their declared types, NOT NULL, primary key and the columns
/// their foreign keys point at.
fn columns(db: &ReadOnlyDb, table: &str) -> Result<Vec<ColumnInfo>> {
    let mut refs: Vec<(String, String)> = Vec::new();
    {
        let mut stmt = db
            .conn
            .prepare("SELECT \"from\", \"table\", \"to\" FROM pragma_foreign_key_list(?1)")
            .map_err(failed)?;
        let rows = stmt
            .query_map([table], |r| {
                let to: Option<String> = r.get(2)?;
                let target: String = r.get(1)?;
                Ok((
                    r.get::<_, String>(0)?,
                    match to {
                        Some(col) => format!("{target}({col})"),
                        None => target,
                    },
                ))
            })
            .map_err(failed)?;
        for row in rows {
            refs.push(row.map_err(failed)?);
        }
    }
    let mut stmt = db
        .conn
        .prepare("SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1) ORDER BY cid")
        .map_err(failed)?;
    let rows = stmt
        .query_map([table], |r| {
            let name: String = r.get(0)?;
            let mut c = ColumnInfo::new(name.clone(), r.get::<_, String>(1)?);
            c.not_null = r.get::<_, i64>(2)? != 0;
            c.primary_key = r.get::<_, i64>(3)? != 0;
            c.references = refs
                .iter()
                .find(|(from, _)| *from == name)
                .map(|(_, to)| to.clone());
            Ok(c)
        })
        .map_err(failed)?;
    rows.collect::<rusqlite::Result<_>>().map_err(failed)
}

impl Connector for SqliteConnector {
    fn policy(&self) -> GuardPolicy {
        KIND.policy()
    }

    fn data_table(&self) -> Option<TableName> {
        self.inner.spec.table.as_ref().map(|t| TableName {
            schema: None,
            name: t.clone(),
        })
    }

    fn prepare(
        &self,
        _progress: Option<ProgressFn>,
        _cancel: CancellationToken,
    ) -> BoxFuture<'_, Result<()>> {
        Box::pin(async { Ok(()) })
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
        Box::pin(blocking(CancellationToken::new(), move |_| inner.schema()))
    }

    fn test(&self) -> BoxFuture<'_, Result<TestReport>> {
        let inner = Arc::clone(&self.inner);
        Box::pin(blocking(CancellationToken::new(), move |_| {
            inner.open().map(|_| TestReport::default())
        }))
    }
}
