//! Running SQL on a SQLite database file, read-only for real, whatever SQL arrives.
//!
//! The guard should already have refused anything but one SELECT; this layer does not rely
//! on it. The connection is opened `SQLITE_OPEN_READ_ONLY` (never `immutable`: a user's
//! database may be written by another program meanwhile, so it is read under SQLite's
//! normal locking and stays consistent under that program's WAL), with `query_only`, the
//! defensive flag, an
//! untrusted schema, and an authorizer that allows reading and nothing else: no ATTACH or
//! DETACH, no write, no CREATE/DROP/ALTER, no transaction, no pragma but a few harmless
//! read-only ones, no `load_extension` (or the shell's file functions). A statement that
//! still claims it would write (`sqlite3_stmt_readonly` is false, e.g. VACUUM INTO) is refused
//! before it runs. A progress handler stops a statement when its caller cancels or its time
//! is up.
//!
//! A result holds at most the result budget of cell data ([`ResultBudget`]): the row that
//! would pass it ends the result as a row past the limit does (`truncated`). No single value
//! may exceed the budget either (`SQLITE_LIMIT_LENGTH`), so `zeroblob(1000000000)` or a huge
//! `printf('%.*c', …)` fails at once instead of allocating a gigabyte in one step, which the
//! progress handler (called between steps) could not stop in time.

use std::path::Path;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::config::DbConfig;
use rusqlite::ffi::ErrorCode;
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::limits::Limit;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use tokio_util::sync::CancellationToken;

use crate::core::Result;

use crate::connector::stream::Step;
use crate::core::Error;
use crate::core::guard::{SQLITE_DENIED, denied_family};
use crate::core::value::{Column, ResultBudget, ResultSet, Value};

/// Pragmas that only read, allowed with or without an argument.
const READ_PRAGMAS: &[&str] = &[
    "table_info",
    "table_xinfo",
    "table_list",
    "index_list",
    "index_info",
    "index_xinfo",
    "foreign_key_list",
    "collation_list",
];

/// VM steps between two checks for cancel and timeout.
const PROGRESS_STEPS: i32 = 4096;

/// How a kind reads its SQLite database.
#[derive(Clone, Copy)]
pub struct Flavor {
    /// What the source is, for refusals (`a SQLite source`).
    pub what: &'static str,
    /// A cell, given its column's declared type.
    pub value: fn(ValueRef<'_>, Option<&str>) -> Value,
    /// A result column's type from its declared type, if it has one.
    pub type_name: fn(&str) -> String,
}

/// A database opened for reading only.
pub struct ReadOnlyDb {
    pub conn: Connection,
    flavor: Flavor,
    /// What the authorizer last refused, for the error message.
    denied: Arc<Mutex<Option<String>>>,
}

/// A cell as SQLite stores it.
pub fn plain_value(v: ValueRef<'_>, _decl: Option<&str>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Real(f) => Value::Float(f),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
    }
}

/// `file:` URI for a path: everything but unreserved characters is percent-encoded, so a
/// home folder named `a?b#c` cannot smuggle URI parameters in.
fn file_uri(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut uri = String::from("file:");
    for &b in path.as_os_str().as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.' | b'~') {
            uri.push(char::from(b));
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri
}

fn authorize(ctx: &AuthContext<'_>) -> std::result::Result<(), String> {
    match ctx.action {
        AuthAction::Select | AuthAction::Read { .. } | AuthAction::Recursive => Ok(()),
        AuthAction::Function { function_name } => {
            let f = function_name.to_ascii_lowercase();
            if denied_family(SQLITE_DENIED, &f).is_some() {
                Err(format!("the function {f}()"))
            } else {
                Ok(())
            }
        }
        AuthAction::Pragma { pragma_name, .. } => {
            let p = pragma_name.to_ascii_lowercase();
            if READ_PRAGMAS.contains(&p.as_str()) {
                Ok(())
            } else {
                Err(format!("PRAGMA {p}"))
            }
        }
        AuthAction::Attach { .. } => Err("ATTACH".into()),
        AuthAction::Detach { .. } => Err("DETACH".into()),
        AuthAction::Insert { .. } => Err("INSERT".into()),
        AuthAction::Update { .. } => Err("UPDATE".into()),
        AuthAction::Delete { .. } => Err("DELETE".into()),
        AuthAction::AlterTable { .. } => Err("ALTER TABLE".into()),
        AuthAction::Reindex { .. } => Err("REINDEX".into()),
        AuthAction::Analyze { .. } => Err("ANALYZE".into()),
        AuthAction::Transaction { .. } | AuthAction::Savepoint { .. } => {
            Err("a transaction statement".into())
        }
        AuthAction::CreateIndex { .. }
        | AuthAction::CreateTable { .. }
        | AuthAction::CreateTempIndex { .. }
        | AuthAction::CreateTempTable { .. }
        | AuthAction::CreateTempTrigger { .. }
        | AuthAction::CreateTempView { .. }
        | AuthAction::CreateTrigger { .. }
        | AuthAction::CreateView { .. }
        | AuthAction::CreateVtable { .. } => Err("CREATE".into()),
        AuthAction::DropIndex { .. }
        | AuthAction::DropTable { .. }
        | AuthAction::DropTempIndex { .. }
        | AuthAction::DropTempTable { .. }
        | AuthAction::DropTempTrigger { .. }
        | AuthAction::DropTempView { .. }
        | AuthAction::DropTrigger { .. }
        | AuthAction::DropView { .. }
        | AuthAction::DropVtable { .. } => Err("DROP".into()),
        _ => Err("this statement".into()),
    }
}

impl ReadOnlyDb {
    pub fn open(path: &Path, flavor: Flavor) -> rusqlite::Result<Self> {
        let mut conn = Connection::open_with_flags(
            file_uri(path),
            OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_URI
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)?;
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_TRUSTED_SCHEMA, false)?;
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER, false)?;
        conn.execute_batch("PRAGMA query_only = 1")?;
        let denied = Arc::new(Mutex::new(None));
        let record = Arc::clone(&denied);
        conn.authorizer(Some(move |ctx: AuthContext<'_>| match authorize(&ctx) {
            Ok(()) => Authorization::Allow,
            Err(what) => {
                // Name the statement (DROP), not its bookkeeping (the DELETE on the schema
                // table SQLite checks first): a write to a `sqlite_` table only fills an
                // empty slot.
                let bookkeeping = matches!(
                    ctx.action,
                    AuthAction::Insert { table_name }
                        | AuthAction::Update { table_name, .. }
                        | AuthAction::Delete { table_name }
                        if table_name.starts_with("sqlite_")
                );
                if let Ok(mut slot) = record.lock()
                    && (slot.is_none() || !bookkeeping)
                {
                    *slot = Some(if bookkeeping {
                        "changing the schema".into()
                    } else {
                        what
                    });
                }
                Authorization::Deny
            }
        }))?;
        Ok(ReadOnlyDb {
            conn,
            flavor,
            denied,
        })
    }

    fn refused(&self, what: Option<String>) -> Error {
        let what = what
            .or_else(|| self.denied.lock().ok().and_then(|mut d| d.take()))
            .unwrap_or_else(|| "this statement".into());
        Error::rejected(format!(
            "{what} is not allowed: {} is read-only",
            self.flavor.what
        ))
    }

    /// The columns `sql` returns, with their declared types.
    pub fn columns(&self, sql: &str) -> Result<Vec<(String, Option<String>)>> {
        let stmt = self
            .conn
            .prepare(sql)
            .map_err(|e| self.map_err(e, Why::None, Duration::ZERO))?;
        Ok(stmt
            .columns()
            .map(|c| (c.name().to_string(), c.decl_type().map(String::from)))
            .collect())
    }

    /// Runs one statement, reading at most `limit + 1` rows.
    pub fn run(
        &mut self,
        sql: &str,
        limit: usize,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<ResultSet> {
        let (budget, why) = self.watch(cancel, Arc::new(Mutex::new(Instant::now() + timeout)))?;
        let result = self.run_inner(sql, limit, budget);
        let _ = self.conn.progress_handler(0, None::<fn() -> bool>);
        result.map_err(|e| self.failure(e, budget, &why, timeout))
    }

    /// Runs one statement for [`crate::connector::Connector::stream`]: hands `next` the
    /// columns, then batches of rows, each as many as `next` last asked for. `timeout`
    /// applies to each batch; waiting for `next` does not count.
    pub fn stream(
        &mut self,
        sql: &str,
        timeout: Duration,
        cancel: &CancellationToken,
        next: &mut dyn FnMut(Step) -> Option<usize>,
    ) -> Result<()> {
        let deadline = Arc::new(Mutex::new(Instant::now() + timeout));
        let (budget, why) = self.watch(cancel, Arc::clone(&deadline))?;
        let result = self.stream_inner(sql, timeout, &deadline, next);
        let _ = self.conn.progress_handler(0, None::<fn() -> bool>);
        result.map_err(|e| self.failure(e, budget, &why, timeout))
    }

    /// Sets the result budget as SQLite's value limit and a progress handler that stops the
    /// statement when `cancel` fires or `deadline` passes; the flag it returns says which.
    fn watch(
        &mut self,
        cancel: &CancellationToken,
        deadline: Arc<Mutex<Instant>>,
    ) -> Result<(ResultBudget, Arc<AtomicU8>)> {
        if cancel.is_cancelled() {
            return Err(Error::Cancelled);
        }
        let budget = ResultBudget::from_env()?;
        self.conn
            .set_limit(
                Limit::SQLITE_LIMIT_LENGTH,
                i32::try_from(budget.bytes()).unwrap_or(i32::MAX),
            )
            .map_err(|e| Error::internal("cannot set the result budget", e))?;
        let why = Arc::new(AtomicU8::new(Why::None as u8));
        {
            let why = Arc::clone(&why);
            let cancel = cancel.clone();
            self.conn
                .progress_handler(
                    PROGRESS_STEPS,
                    Some(move || {
                        let late = deadline.lock().is_ok_and(|d| Instant::now() >= *d);
                        let stop = if cancel.is_cancelled() {
                            Why::Cancelled
                        } else if late {
                            Why::TimedOut
                        } else {
                            return false;
                        };
                        why.store(stop as u8, Ordering::Relaxed);
                        true
                    }),
                )
                .map_err(|e| Error::internal("cannot watch the query", e))?;
        }
        Ok((budget, why))
    }

    fn failure(
        &self,
        e: Failure,
        budget: ResultBudget,
        why: &AtomicU8,
        timeout: Duration,
    ) -> Error {
        match e {
            Failure::Sqlite(e) if e.sqlite_error_code() == Some(ErrorCode::TooBig) => {
                Error::QueryFailed(format!(
                    "a value larger than the result budget of {budget} was asked for; select \
                     fewer or smaller values (e.g. substr(col, 1, 1000)), or raise {}",
                    ResultBudget::ENV
                ))
            }
            Failure::Sqlite(e) => self.map_err(e, Why::from(why.load(Ordering::Relaxed)), timeout),
            Failure::Refused(what) => self.refused(Some(what)),
        }
    }

    fn stream_inner(
        &self,
        sql: &str,
        timeout: Duration,
        deadline: &Mutex<Instant>,
        next: &mut dyn FnMut(Step) -> Option<usize>,
    ) -> std::result::Result<(), Failure> {
        if let Ok(mut slot) = self.denied.lock() {
            *slot = None;
        }
        let mut stmt = self.conn.prepare(sql).map_err(Failure::Sqlite)?;
        if !stmt.readonly() {
            return Err(Failure::Refused("a statement that writes".into()));
        }
        let decls: Vec<Option<String>> = stmt
            .columns()
            .map(|c| c.decl_type().map(String::from))
            .collect();
        let names: Vec<String> = stmt.column_names().map(|s| s.to_string()).collect();
        let mut rows = stmt.raw_query();
        let read = |row: &rusqlite::Row<'_>| -> std::result::Result<Vec<Value>, Failure> {
            let mut cells = Vec::with_capacity(decls.len());
            for (i, decl) in decls.iter().enumerate() {
                let v = row.get_ref(i).map_err(Failure::Sqlite)?;
                cells.push((self.flavor.value)(v, decl.as_deref()));
            }
            Ok(cells)
        };
        // One row ahead: it names the type of a column with no declared type, and tells
        // each batch whether more follow.
        let mut ahead = match rows.next().map_err(Failure::Sqlite)? {
            Some(row) => Some(read(row)?),
            None => None,
        };
        let first: Vec<Vec<Value>> = ahead.iter().cloned().collect();
        let columns = names
            .into_iter()
            .enumerate()
            .map(|(i, name)| Column {
                name,
                type_name: match &decls[i] {
                    Some(decl) => (self.flavor.type_name)(decl),
                    None => storage_class(&first, i),
                },
            })
            .collect();
        let Some(mut want) = next(Step::Columns(columns)) else {
            return Ok(());
        };
        loop {
            let restart = Instant::now() + timeout;
            if let Ok(mut d) = deadline.lock() {
                *d = restart;
            }
            let mut batch: Vec<Vec<Value>> = Vec::with_capacity(want.min(4096));
            batch.extend(ahead.take());
            while batch.len() < want {
                match rows.next().map_err(Failure::Sqlite)? {
                    Some(row) => batch.push(read(row)?),
                    None => break,
                }
            }
            if batch.len() == want
                && let Some(row) = rows.next().map_err(Failure::Sqlite)?
            {
                ahead = Some(read(row)?);
            }
            let more = ahead.is_some();
            match next(Step::Rows(batch, more)) {
                Some(n) if more => want = n.max(1),
                _ => return Ok(()),
            }
        }
    }

    fn run_inner(
        &self,
        sql: &str,
        limit: usize,
        budget: ResultBudget,
    ) -> std::result::Result<ResultSet, Failure> {
        if let Ok(mut slot) = self.denied.lock() {
            *slot = None;
        }
        let mut stmt = self.conn.prepare(sql).map_err(Failure::Sqlite)?;
        if !stmt.readonly() {
            return Err(Failure::Refused("a statement that writes".into()));
        }
        let decls: Vec<Option<String>> = stmt
            .columns()
            .map(|c| c.decl_type().map(String::from))
            .collect();
        let names: Vec<String> = stmt.column_names().map(|s| s.to_string()).collect();
        let mut rows = stmt.raw_query();
        let mut out: Vec<Vec<Value>> = Vec::new();
        let mut truncated = false;
        let mut held = 0u64;
        while let Some(row) = rows.next().map_err(Failure::Sqlite)? {
            if out.len() >= limit {
                truncated = true;
                break;
            }
            for i in 0..decls.len() {
                held += cell_bytes(row.get_ref(i).map_err(Failure::Sqlite)?);
            }
            if held > budget.bytes() {
                truncated = true;
                break;
            }
            let mut cells = Vec::with_capacity(decls.len());
            for (i, decl) in decls.iter().enumerate() {
                let v = row.get_ref(i).map_err(Failure::Sqlite)?;
                cells.push((self.flavor.value)(v, decl.as_deref()));
            }
            out.push(cells);
        }
        let columns = names
            .into_iter()
            .enumerate()
            .map(|(i, name)| Column {
                name,
                type_name: match &decls[i] {
                    Some(decl) => (self.flavor.type_name)(decl),
                    None => storage_class(&out, i),
                },
            })
            .collect();
        Ok(ResultSet {
            columns,
            rows: out,
            truncated,
        })
    }

    fn map_err(&self, e: rusqlite::Error, why: Why, timeout: Duration) -> Error {
        // A refused function fails the statement with a plain error: the slot tells.
        if let Some(what) = self.denied.lock().ok().and_then(|mut d| d.take()) {
            return self.refused(Some(what));
        }
        match e.sqlite_error_code() {
            Some(ErrorCode::OperationInterrupted) => match why {
                Why::Cancelled => Error::Cancelled,
                Why::TimedOut => {
                    Error::QueryFailed(format!("query timed out after {} s", timeout.as_secs_f64()))
                }
                Why::None => Error::QueryFailed("query interrupted".into()),
            },
            Some(ErrorCode::AuthorizationForStatementDenied) => self.refused(None),
            _ => match e {
                rusqlite::Error::MultipleStatement => {
                    Error::rejected("only one statement may run at a time")
                }
                e => Error::QueryFailed(format!("query failed: {e}")),
            },
        }
    }
}

/// Runs blocking work on tokio's blocking pool. If the caller drops the future, `token`
/// is cancelled so the work stops too.
pub async fn blocking<T: Send + 'static>(
    token: CancellationToken,
    work: impl FnOnce(&CancellationToken) -> Result<T> + Send + 'static,
) -> Result<T> {
    let guard = token.clone().drop_guard();
    let out = tokio::task::spawn_blocking(move || work(&token))
        .await
        .map_err(|e| Error::internal("the SQLite worker failed", e));
    drop(guard);
    out?
}

enum Failure {
    Sqlite(rusqlite::Error),
    Refused(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Why {
    None = 0,
    Cancelled = 1,
    TimedOut = 2,
}

impl From<u8> for Why {
    fn from(v: u8) -> Self {
        match v {
            1 => Why::Cancelled,
            2 => Why::TimedOut,
            _ => Why::None,
        }
    }
}

/// What a cell costs against the result budget.
fn cell_bytes(v: ValueRef<'_>) -> u64 {
    match v {
        ValueRef::Null => 0,
        ValueRef::Integer(_) | ValueRef::Real(_) => 8,
        ValueRef::Text(b) | ValueRef::Blob(b) => b.len() as u64,
    }
}

/// The type of an expression's column: the storage class of its first non-NULL value.
fn storage_class(rows: &[Vec<Value>], i: usize) -> String {
    let first = rows.iter().map(|r| &r[i]).find(|v| !v.is_null());
    match first {
        Some(Value::Int(_)) => "integer",
        Some(Value::Float(_)) => "real",
        Some(Value::Bool(_)) => "boolean",
        Some(Value::Bytes(_)) => "blob",
        Some(_) => "text",
        None => "null",
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_escapes_everything_special() {
        assert_eq!(
            file_uri(Path::new("/h/a b?c#d%e/x.sqlite")),
            "file:/h/a%20b%3Fc%23d%25e/x.sqlite"
        );
        assert_eq!(file_uri(Path::new("/h/x.db")), "file:/h/x.db");
    }
}
