//! A safe face on the C API: a database, its connections, statements run with a watch
//! (cancel and timeout interrupt the engine), and their rows decoded into [`Value`]s.
//!
//! Values leave as DuckDB writes them: booleans, integers, text and bytes are read from the
//! engine's vectors; every other type (floats, decimals, dates, timestamps, intervals,
//! lists, structs, UUIDs…) is cast to `VARCHAR` by DuckDB itself in a wrapping `SELECT`, so
//! the digits and spelling are the engine's own.

use std::ffi::{CStr, CString, c_char};
use std::marker::PhantomData;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::ffi::{self, Api, DuckResult, Handle, StringT};
use super::lib;
use crate::core::value::{Column, Value};
use crate::core::{Error, Result};

/// A message from the engine, or why there is none.
fn message(p: *const c_char, fallback: &str) -> String {
    if p.is_null() {
        return fallback.to_string();
    }
    // SAFETY: DuckDB's messages are NUL-terminated strings it owns while the object lives.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

fn c_string(s: &str) -> std::result::Result<CString, String> {
    CString::new(s).map_err(|_| "the text contains a NUL character".to_string())
}

/// An open DuckDB database (in memory, or a file).
pub struct Database {
    api: &'static Api,
    handle: Handle,
}

// SAFETY: a DuckDB database object may be used from any thread (connections are made on it
// concurrently by design).
unsafe impl Send for Database {}
unsafe impl Sync for Database {}

impl Database {
    /// Opens `path` (`None`: a database in memory) with `settings` applied before any file is
    /// touched (`access_mode`, `memory_limit`, `threads`, …).
    pub fn open(path: Option<&Path>, settings: &[(&str, String)]) -> Result<Database> {
        let api = lib::api()?;
        let fail = |e: String| Error::QueryFailed(format!("the DuckDB engine: {e}"));
        let mut config: Handle = std::ptr::null_mut();
        // SAFETY: out-pointer to a config the calls below own and destroy.
        if unsafe { (api.duckdb_create_config)(&mut config) } != ffi::SUCCESS {
            return Err(fail("cannot create a configuration".into()));
        }
        let set = || -> std::result::Result<(), String> {
            for (name, value) in settings {
                let (n, v) = (c_string(name)?, c_string(value)?);
                // SAFETY: the config is live; the strings outlive the call.
                if unsafe { (api.duckdb_set_config)(config, n.as_ptr(), v.as_ptr()) }
                    != ffi::SUCCESS
                {
                    return Err(format!("cannot set {name} to {value}"));
                }
            }
            Ok(())
        };
        let applied = set();
        let opened = applied.and_then(|()| {
            let path = match path {
                Some(p) => Some(c_string(&p.to_string_lossy())?),
                None => None,
            };
            let mut handle: Handle = std::ptr::null_mut();
            let mut err: *mut c_char = std::ptr::null_mut();
            // SAFETY: a NULL path opens an in-memory database; `err` is freed below.
            let state = unsafe {
                (api.duckdb_open_ext)(
                    path.as_ref().map_or(std::ptr::null(), |p| p.as_ptr()),
                    &mut handle,
                    config,
                    &mut err,
                )
            };
            if state != ffi::SUCCESS {
                let m = message(err, "cannot open the database");
                if !err.is_null() {
                    // SAFETY: `duckdb_open_ext`'s error is freed with `duckdb_free`.
                    unsafe { (api.duckdb_free)(err.cast()) };
                }
                return Err(m);
            }
            Ok(handle)
        });
        // SAFETY: the config is no longer needed once the database is open.
        unsafe { (api.duckdb_destroy_config)(&mut config) };
        let handle = opened.map_err(|e| match path {
            Some(p) => Error::Unreachable(format!("cannot open {}: {e}", p.display())),
            None => fail(e),
        })?;
        Ok(Database { api, handle })
    }

    pub fn connect(&self) -> Result<Conn<'_>> {
        let mut handle: Handle = std::ptr::null_mut();
        // SAFETY: the database is open for as long as `self` lives.
        if unsafe { (self.api.duckdb_connect)(self.handle, &mut handle) } != ffi::SUCCESS {
            return Err(Error::QueryFailed(
                "the DuckDB engine: cannot open a connection".into(),
            ));
        }
        Ok(Conn {
            api: self.api,
            handle,
            _db: PhantomData,
        })
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        // SAFETY: every connection borrowed `self`, so none is left.
        unsafe { (self.api.duckdb_close)(&mut self.handle) };
    }
}

/// A connection: one statement at a time.
pub struct Conn<'d> {
    api: &'static Api,
    handle: Handle,
    _db: PhantomData<&'d Database>,
}

impl Drop for Conn<'_> {
    fn drop(&mut self) {
        // SAFETY: statements and results borrowed `self`, so none is left.
        unsafe { (self.api.duckdb_disconnect)(&mut self.handle) };
    }
}

/// Why a statement failed.
#[derive(Debug)]
pub enum Failure {
    /// The engine's own message.
    Engine(String),
    /// The statement is not a read (DuckDB's own classification of it).
    NotARead,
    Cancelled,
    TimedOut,
}

impl Failure {
    /// The error for a user's query; `timeout` is what was allowed.
    pub fn into_error(self, timeout: Duration) -> Error {
        match self {
            Failure::Engine(m) => Error::QueryFailed(format!("query failed: {m}")),
            Failure::NotARead => Error::rejected(
                "DuckDB reads this statement as one that is not a query; send one SELECT",
            ),
            Failure::Cancelled => Error::Cancelled,
            Failure::TimedOut => {
                Error::QueryFailed(format!("query timed out after {} s", timeout.as_secs_f64()))
            }
        }
    }
}

impl Failure {
    /// The failure of the statement [`cast_wrapper`] made, as the user's text sees it: the
    /// user's first line is the wrapper's second, so `LINE n:` in the engine's message
    /// becomes `LINE n-1:`.
    fn unwrapped(self) -> Failure {
        match self {
            Failure::Engine(m) => Failure::Engine(shift_lines(&m)),
            other => other,
        }
    }
}

fn shift_lines(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find("LINE ") {
        let (before, after) = rest.split_at(at + 5);
        out.push_str(before);
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        match after[..digits].parse::<u64>() {
            Ok(n) if n > 1 && after[digits..].starts_with(':') => {
                out.push_str(&(n - 1).to_string());
            }
            _ => out.push_str(&after[..digits]),
        }
        rest = &after[digits..];
    }
    out.push_str(rest);
    out
}

/// How a column's cells are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decode {
    Bool,
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    Text,
    Json,
    Bytes,
    /// Cast to VARCHAR by the wrapping query; the variant says what the text is.
    Cast(Cast),
    /// A column of NULLs (`SELECT NULL`).
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cast {
    /// A float or a wide integer: a JSON number with the engine's digits.
    Number,
    Decimal,
    Text,
}

fn decode_of(type_id: u32, alias: Option<&str>) -> Decode {
    use ffi::*;
    match type_id {
        T_BOOLEAN => Decode::Bool,
        T_TINYINT => Decode::I8,
        T_SMALLINT => Decode::I16,
        T_INTEGER => Decode::I32,
        T_BIGINT => Decode::I64,
        T_UTINYINT => Decode::U8,
        T_USMALLINT => Decode::U16,
        T_UINTEGER => Decode::U32,
        T_UBIGINT => Decode::U64,
        T_VARCHAR if alias.is_some_and(|a| a.eq_ignore_ascii_case("json")) => Decode::Json,
        T_VARCHAR => Decode::Text,
        T_BLOB => Decode::Bytes,
        T_SQLNULL => Decode::Null,
        T_FLOAT | T_DOUBLE | T_HUGEINT | T_UHUGEINT | T_BIGNUM => Decode::Cast(Cast::Number),
        T_DECIMAL => Decode::Cast(Cast::Decimal),
        _ => Decode::Cast(Cast::Text),
    }
}

/// The name of a type id, as DuckDB spells it.
fn type_name(type_id: u32, alias: Option<&str>) -> &'static str {
    use ffi::*;
    if alias.is_some_and(|a| a.eq_ignore_ascii_case("json")) {
        return "JSON";
    }
    match type_id {
        T_BOOLEAN => "BOOLEAN",
        T_TINYINT => "TINYINT",
        T_SMALLINT => "SMALLINT",
        T_INTEGER => "INTEGER",
        T_BIGINT => "BIGINT",
        T_UTINYINT => "UTINYINT",
        T_USMALLINT => "USMALLINT",
        T_UINTEGER => "UINTEGER",
        T_UBIGINT => "UBIGINT",
        T_FLOAT => "FLOAT",
        T_DOUBLE => "DOUBLE",
        12 => "TIMESTAMP",
        13 => "DATE",
        14 => "TIME",
        15 => "INTERVAL",
        T_HUGEINT => "HUGEINT",
        T_UHUGEINT => "UHUGEINT",
        T_VARCHAR => "VARCHAR",
        T_BLOB => "BLOB",
        T_DECIMAL => "DECIMAL",
        20 => "TIMESTAMP_S",
        21 => "TIMESTAMP_MS",
        22 => "TIMESTAMP_NS",
        23 => "ENUM",
        24 => "LIST",
        25 => "STRUCT",
        26 => "MAP",
        27 => "UUID",
        28 => "UNION",
        29 => "BIT",
        30 => "TIME WITH TIME ZONE",
        31 => "TIMESTAMP WITH TIME ZONE",
        33 => "ARRAY",
        T_BIGNUM => "BIGNUM",
        T_SQLNULL => "NULL",
        39 => "TIME_NS",
        40 => "GEOMETRY",
        41 => "VARIANT",
        _ => "UNKNOWN",
    }
}

/// A prepared statement.
struct Prepared<'c> {
    api: &'static Api,
    handle: Handle,
    _conn: PhantomData<&'c ()>,
}

impl Drop for Prepared<'_> {
    fn drop(&mut self) {
        // SAFETY: the statement was prepared on a connection that outlives it.
        unsafe { (self.api.duckdb_destroy_prepare)(&mut self.handle) };
    }
}

impl Prepared<'_> {
    /// Names, types and how to read each column.
    fn columns(&self) -> Vec<(String, u32, Option<String>)> {
        let api = self.api;
        // SAFETY: the statement is prepared (checked by the caller); indexes are in range.
        let n = unsafe { (api.duckdb_prepared_statement_column_count)(self.handle) };
        (0..n)
            .map(|i| unsafe {
                let name_ptr = (api.duckdb_prepared_statement_column_name)(self.handle, i);
                let name = message(name_ptr, "");
                if !name_ptr.is_null() {
                    (api.duckdb_free)(name_ptr as *mut _);
                }
                let type_id = (api.duckdb_prepared_statement_column_type)(self.handle, i);
                let mut logical =
                    (api.duckdb_prepared_statement_column_logical_type)(self.handle, i);
                let mut alias = None;
                if !logical.is_null() {
                    let a = (api.duckdb_logical_type_get_alias)(logical);
                    if !a.is_null() {
                        alias = Some(message(a, ""));
                        (api.duckdb_free)(a.cast());
                    }
                    (api.duckdb_destroy_logical_type)(&mut logical);
                }
                (name, type_id, alias)
            })
            .collect()
    }
}

/// Interrupts a connection's statement on cancel or at its deadline, from a thread of its
/// own; dropping it stops the thread before the connection can go.
struct Watch {
    why: Arc<AtomicU8>,
    done: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

const WHY_CANCELLED: u8 = 1;
const WHY_TIMED_OUT: u8 = 2;

/// A connection handle that may cross to the watch thread.
struct Interrupt(&'static Api, Handle);
// SAFETY: `duckdb_interrupt` is made to be called from another thread; the watch is joined
// before the connection is closed.
unsafe impl Send for Interrupt {}

impl Watch {
    fn start(conn: &Conn<'_>, cancel: &CancellationToken, deadline: Instant) -> Watch {
        let why = Arc::new(AtomicU8::new(0));
        let done = Arc::new(AtomicBool::new(false));
        let target = Interrupt(conn.api, conn.handle);
        let (w, d, cancel) = (Arc::clone(&why), Arc::clone(&done), cancel.clone());
        let thread = std::thread::Builder::new()
            .name("tdb-duckdb-watch".into())
            .spawn(move || {
                let target = target;
                while !d.load(Ordering::Acquire) {
                    let reason = if cancel.is_cancelled() {
                        WHY_CANCELLED
                    } else if Instant::now() >= deadline {
                        WHY_TIMED_OUT
                    } else {
                        std::thread::park_timeout(Duration::from_millis(10));
                        continue;
                    };
                    w.store(reason, Ordering::Release);
                    // SAFETY: the connection is open until this thread is joined.
                    unsafe { (target.0.duckdb_interrupt)(target.1) };
                    break;
                }
            })
            .ok();
        Watch { why, done, thread }
    }

    /// The failure an interrupted statement's error stands for.
    fn explain(&self, engine: String) -> Failure {
        match self.why.load(Ordering::Acquire) {
            WHY_CANCELLED => Failure::Cancelled,
            WHY_TIMED_OUT => Failure::TimedOut,
            _ => Failure::Engine(engine),
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

/// A running statement's rows, a chunk at a time.
pub struct Rows<'c> {
    api: &'static Api,
    result: DuckResult,
    columns: Vec<Column>,
    decode: Vec<Decode>,
    // Dropped after the result: it interrupts the connection until then.
    watch: Watch,
    _conn: PhantomData<&'c ()>,
}

impl Drop for Rows<'_> {
    fn drop(&mut self) {
        // SAFETY: the result came from `duckdb_execute_pending` and is destroyed once.
        unsafe { (self.api.duckdb_destroy_result)(&mut self.result) };
    }
}

impl Rows<'_> {
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The next chunk's rows (up to 2048), `None` at the end.
    pub fn next_chunk(&mut self) -> std::result::Result<Option<Vec<Vec<Value>>>, Failure> {
        let api = self.api;
        // SAFETY: the result is live; the chunk is destroyed below.
        let mut chunk = unsafe { (api.duckdb_fetch_chunk)(self.result) };
        if chunk.is_null() {
            // A streaming result that failed part way ends with no chunk and an error.
            let err = unsafe { (api.duckdb_result_error)(&mut self.result) };
            if !err.is_null() {
                return Err(self.watch.explain(message(err, "the query failed")));
            }
            return Ok(None);
        }
        let rows = unsafe { decode_chunk(api, chunk, &self.decode) };
        unsafe { (api.duckdb_destroy_data_chunk)(&mut chunk) };
        if rows.is_empty() {
            return Ok(None);
        }
        Ok(Some(rows))
    }
}

/// Reads every cell of a chunk.
///
/// # Safety
/// `chunk` is a live chunk whose vectors have the types `decode` was made from.
unsafe fn decode_chunk(api: &Api, chunk: Handle, decode: &[Decode]) -> Vec<Vec<Value>> {
    let n = unsafe { (api.duckdb_data_chunk_get_size)(chunk) } as usize;
    let mut rows: Vec<Vec<Value>> = (0..n).map(|_| Vec::with_capacity(decode.len())).collect();
    for (col, how) in decode.iter().enumerate() {
        let vector = unsafe { (api.duckdb_data_chunk_get_vector)(chunk, col as u64) };
        let data = unsafe { (api.duckdb_vector_get_data)(vector) };
        let validity = unsafe { (api.duckdb_vector_get_validity)(vector) };
        for (i, row) in rows.iter_mut().enumerate() {
            let valid = validity.is_null() || unsafe { *validity.add(i / 64) >> (i % 64) & 1 == 1 };
            let v = if !valid || data.is_null() {
                Value::Null
            } else {
                unsafe { cell(data, i, *how) }
            };
            row.push(v);
        }
    }
    rows
}

/// One cell of a flat vector.
///
/// # Safety
/// `data` points at a vector of the type `how` was made from, with more than `i` entries.
unsafe fn cell(data: *mut std::ffi::c_void, i: usize, how: Decode) -> Value {
    unsafe {
        match how {
            Decode::Bool => Value::Bool(*data.cast::<u8>().add(i) != 0),
            Decode::I8 => Value::Int(i64::from(*data.cast::<i8>().add(i))),
            Decode::I16 => Value::Int(i64::from(*data.cast::<i16>().add(i))),
            Decode::I32 => Value::Int(i64::from(*data.cast::<i32>().add(i))),
            Decode::I64 => Value::Int(*data.cast::<i64>().add(i)),
            Decode::U8 => Value::Int(i64::from(*data.cast::<u8>().add(i))),
            Decode::U16 => Value::Int(i64::from(*data.cast::<u16>().add(i))),
            Decode::U32 => Value::Int(i64::from(*data.cast::<u32>().add(i))),
            Decode::U64 => {
                let v = *data.cast::<u64>().add(i);
                i64::try_from(v).map_or_else(|_| Value::Number(v.to_string()), Value::Int)
            }
            Decode::Null => Value::Null,
            Decode::Bytes => Value::Bytes(string_bytes(data, i).to_vec()),
            Decode::Text | Decode::Json | Decode::Cast(_) => {
                let text = String::from_utf8_lossy(string_bytes(data, i)).into_owned();
                match how {
                    Decode::Json => Value::Json(text),
                    Decode::Cast(Cast::Number) => Value::Number(text),
                    Decode::Cast(Cast::Decimal) => Value::Numeric(text),
                    _ => Value::Text(text),
                }
            }
        }
    }
}

/// The bytes of a `duckdb_string_t` entry.
///
/// # Safety
/// `data` is a VARCHAR or BLOB vector with more than `i` entries.
unsafe fn string_bytes<'a>(data: *mut std::ffi::c_void, i: usize) -> &'a [u8] {
    unsafe {
        let s = data.cast::<StringT>().add(i);
        let len = (*s).length as usize;
        if len <= 12 {
            std::slice::from_raw_parts(s.cast::<u8>().add(4), len)
        } else {
            std::slice::from_raw_parts((*s).ptr, len)
        }
    }
}

/// Rows appended to a table, the fast way in (an imported workbook).
pub struct Appender<'c> {
    api: &'static Api,
    handle: Handle,
    _conn: PhantomData<&'c ()>,
}

impl Drop for Appender<'_> {
    fn drop(&mut self) {
        // SAFETY: created by `duckdb_appender_create`, destroyed once.
        unsafe { (self.api.duckdb_appender_destroy)(&mut self.handle) };
    }
}

impl Appender<'_> {
    fn check(&self, state: ffi::State) -> Result<()> {
        if state == ffi::SUCCESS {
            return Ok(());
        }
        // SAFETY: the appender is live; its error is a string it owns.
        let m = message(
            unsafe { (self.api.duckdb_appender_error)(self.handle) },
            "failed",
        );
        Err(Error::QueryFailed(m))
    }

    pub fn null(&mut self) -> Result<()> {
        self.check(unsafe { (self.api.duckdb_append_null)(self.handle) })
    }

    pub fn bool(&mut self, v: bool) -> Result<()> {
        self.check(unsafe { (self.api.duckdb_append_bool)(self.handle, v) })
    }

    pub fn int(&mut self, v: i64) -> Result<()> {
        self.check(unsafe { (self.api.duckdb_append_int64)(self.handle, v) })
    }

    pub fn float(&mut self, v: f64) -> Result<()> {
        self.check(unsafe { (self.api.duckdb_append_double)(self.handle, v) })
    }

    /// Text, which DuckDB casts to the column's type (a timestamp's text, say).
    pub fn text(&mut self, v: &str) -> Result<()> {
        // SAFETY: the bytes outlive the call; DuckDB copies them.
        self.check(unsafe {
            (self.api.duckdb_append_varchar_length)(self.handle, v.as_ptr().cast(), v.len() as u64)
        })
    }

    pub fn end_row(&mut self) -> Result<()> {
        self.check(unsafe { (self.api.duckdb_appender_end_row)(self.handle) })
    }

    /// Flushes every row into the table.
    pub fn close(self) -> Result<()> {
        self.check(unsafe { (self.api.duckdb_appender_close)(self.handle) })
    }
}

/// `name` as a DuckDB identifier.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `text` as a DuckDB string literal.
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

impl Conn<'_> {
    /// Runs statements of tdb's own (set-up), failing with the engine's message.
    pub fn execute(&self, sql: &str) -> Result<()> {
        let c = c_string(sql).map_err(Error::QueryFailed)?;
        let mut result = DuckResult::zeroed();
        // SAFETY: the result is destroyed whatever the state.
        let state = unsafe { (self.api.duckdb_query)(self.handle, c.as_ptr(), &mut result) };
        let err = (state != ffi::SUCCESS).then(|| {
            message(
                unsafe { (self.api.duckdb_result_error)(&mut result) },
                "failed",
            )
        });
        unsafe { (self.api.duckdb_destroy_result)(&mut result) };
        match err {
            Some(e) => Err(Error::QueryFailed(e)),
            None => Ok(()),
        }
    }

    /// An appender for `table` of the default schema.
    pub fn appender(&self, table: &str) -> Result<Appender<'_>> {
        let t = c_string(table).map_err(Error::QueryFailed)?;
        let mut handle: Handle = std::ptr::null_mut();
        // SAFETY: the appender is destroyed by its drop, even when creation failed.
        let state = unsafe {
            (self.api.duckdb_appender_create)(
                self.handle,
                std::ptr::null(),
                t.as_ptr(),
                &mut handle,
            )
        };
        let a = Appender {
            api: self.api,
            handle,
            _conn: PhantomData,
        };
        a.check(state)?;
        Ok(a)
    }

    /// How far the running statement is (for a progress bar).
    fn progress(&self) -> ffi::QueryProgress {
        // SAFETY: the connection is open.
        unsafe { (self.api.duckdb_query_progress)(self.handle) }
    }

    fn prepare(&self, sql: &str) -> std::result::Result<Prepared<'_>, Failure> {
        let c = c_string(sql).map_err(Failure::Engine)?;
        let mut handle: Handle = std::ptr::null_mut();
        // SAFETY: the statement is destroyed by `Prepared`'s drop, even when it failed.
        let state = unsafe { (self.api.duckdb_prepare)(self.handle, c.as_ptr(), &mut handle) };
        let p = Prepared {
            api: self.api,
            handle,
            _conn: PhantomData,
        };
        if state != ffi::SUCCESS {
            let m = message(
                unsafe { (self.api.duckdb_prepare_error)(handle) },
                "cannot prepare",
            );
            return Err(Failure::Engine(m));
        }
        Ok(p)
    }

    /// Runs one read (`SELECT` or `EXPLAIN`, as DuckDB itself classifies it: anything else
    /// fails with [`Failure::NotARead`] before it runs). `streaming` reads rows as they are
    /// fetched rather than all at once. Cancel and `deadline` interrupt the engine.
    pub fn query(
        &self,
        sql: &str,
        streaming: bool,
        cancel: &CancellationToken,
        deadline: Instant,
    ) -> std::result::Result<Rows<'_>, Failure> {
        let first = self.prepare(sql)?;
        // SAFETY: the statement prepared.
        let kind = unsafe { (self.api.duckdb_prepared_statement_type)(first.handle) };
        if kind != ffi::STATEMENT_SELECT && kind != ffi::STATEMENT_EXPLAIN {
            return Err(Failure::NotARead);
        }
        let described = first.columns();
        let decode: Vec<Decode> = described
            .iter()
            .map(|(_, t, alias)| decode_of(*t, alias.as_deref()))
            .collect();
        let columns: Vec<Column> = described
            .iter()
            .map(|(name, t, alias)| Column {
                name: name.clone(),
                type_name: type_name(*t, alias.as_deref()).to_string(),
            })
            .collect();
        let casts = decode.iter().any(|d| matches!(d, Decode::Cast(_)));
        let wrapped = casts && kind == ffi::STATEMENT_SELECT;
        let statement = if wrapped {
            drop(first);
            self.prepare(&cast_wrapper(sql, &decode))
                .map_err(|f| f.unwrapped())?
        } else {
            first
        };
        let watch = Watch::start(self, cancel, deadline);
        let result = self
            .drive(&statement, streaming, &watch, &mut |_| {})
            .map_err(|f| if wrapped { f.unwrapped() } else { f })?;
        Ok(Rows {
            api: self.api,
            result,
            columns,
            decode: decode.clone(),
            watch,
            _conn: PhantomData,
        })
    }

    /// Runs a prepared statement to its result under `watch`, telling `tick` how far it
    /// is about every 100 ms.
    fn drive(
        &self,
        statement: &Prepared<'_>,
        streaming: bool,
        watch: &Watch,
        tick: &mut dyn FnMut(ffi::QueryProgress),
    ) -> std::result::Result<DuckResult, Failure> {
        let mut pending: Handle = std::ptr::null_mut();
        // SAFETY: the pending result is destroyed below, whatever happens.
        let state = unsafe {
            if streaming {
                (self.api.duckdb_pending_prepared_streaming)(statement.handle, &mut pending)
            } else {
                (self.api.duckdb_pending_prepared)(statement.handle, &mut pending)
            }
        };
        let outcome = (|| {
            if state != ffi::SUCCESS {
                let m = message(
                    unsafe { (self.api.duckdb_pending_error)(pending) },
                    "failed",
                );
                return Err(watch.explain(m));
            }
            let mut told = Instant::now();
            loop {
                // SAFETY: the pending result is live.
                match unsafe { (self.api.duckdb_pending_execute_task)(pending) } {
                    ffi::PENDING_READY => break,
                    ffi::PENDING_ERROR => {
                        let m = message(
                            unsafe { (self.api.duckdb_pending_error)(pending) },
                            "failed",
                        );
                        return Err(watch.explain(m));
                    }
                    _ => {}
                }
                if told.elapsed() >= Duration::from_millis(100) {
                    tick(self.progress());
                    told = Instant::now();
                }
            }
            let mut result = DuckResult::zeroed();
            // SAFETY: as above; the result is the caller's from here, or destroyed.
            if unsafe { (self.api.duckdb_execute_pending)(pending, &mut result) } != ffi::SUCCESS {
                let m = message(
                    unsafe { (self.api.duckdb_result_error)(&mut result) },
                    "failed",
                );
                unsafe { (self.api.duckdb_destroy_result)(&mut result) };
                return Err(watch.explain(m));
            }
            Ok(result)
        })();
        unsafe { (self.api.duckdb_destroy_pending)(&mut pending) };
        outcome
    }

    /// Runs one statement of tdb's own (an import), which `cancel` interrupts; `tick` hears
    /// how far it is (the engine's progress bar must be on: `enable_progress_bar`).
    pub fn run(
        &self,
        sql: &str,
        cancel: &CancellationToken,
        tick: &mut dyn FnMut(ffi::QueryProgress),
    ) -> std::result::Result<(), Failure> {
        let statement = self.prepare(sql)?;
        let far = Instant::now() + Duration::from_secs(365 * 86_400);
        let watch = Watch::start(self, cancel, far);
        let mut result = self.drive(&statement, false, &watch, tick)?;
        // SAFETY: the result succeeded and is no longer needed.
        unsafe { (self.api.duckdb_destroy_result)(&mut result) };
        Ok(())
    }

    /// A small query of tdb's own (the schema pane, row counts), with no watch needed
    /// beyond `timeout`.
    pub fn rows(&self, sql: &str, timeout: Duration) -> Result<Vec<Vec<Value>>> {
        let mut rows = self
            .query(
                sql,
                false,
                &CancellationToken::new(),
                Instant::now() + timeout,
            )
            .map_err(|f| f.into_error(timeout))?;
        let mut out = Vec::new();
        while let Some(chunk) = rows.next_chunk().map_err(|f| f.into_error(timeout))? {
            out.extend(chunk);
        }
        Ok(out)
    }
}

/// `sql` read through a projection that has DuckDB write every column `decode` marks as a
/// cast to text; the columns keep their names (taken from the first prepare).
fn cast_wrapper(sql: &str, decode: &[Decode]) -> String {
    let names: Vec<String> = (0..decode.len()).map(|i| format!("\"tdb_c{i}\"")).collect();
    let select: Vec<String> = names
        .iter()
        .zip(decode)
        .map(|(n, d)| match d {
            Decode::Cast(_) => format!("CAST({n} AS VARCHAR)"),
            _ => n.clone(),
        })
        .collect();
    format!(
        "SELECT {} FROM (\n{}\n) AS tdb_t({})",
        select.join(", "),
        trim_statement_end(sql),
        names.join(", ")
    )
}

/// `sql` without the semicolons and blanks that may end a statement.
fn trim_statement_end(sql: &str) -> &str {
    sql.trim_end_matches(|c: char| c == ';' || c.is_whitespace())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wrapper_casts_only_what_needs_it_and_keeps_positions() {
        let sql = cast_wrapper(
            "SELECT 1, 2.5 ;\n",
            &[Decode::I32, Decode::Cast(Cast::Decimal)],
        );
        assert_eq!(
            sql,
            "SELECT \"tdb_c0\", CAST(\"tdb_c1\" AS VARCHAR) FROM (\nSELECT 1, 2.5\n) AS \
             tdb_t(\"tdb_c0\", \"tdb_c1\")"
        );
    }

    #[test]
    fn wrapped_errors_point_at_the_users_lines() {
        assert_eq!(
            shift_lines("Binder Error: x\n\nLINE 3: from t"),
            "Binder Error: x\n\nLINE 2: from t"
        );
        assert_eq!(shift_lines("LINE 1: odd"), "LINE 1: odd");
        assert_eq!(shift_lines("no line"), "no line");
    }

    #[test]
    fn types_are_read_natively_or_cast() {
        assert_eq!(decode_of(ffi::T_BIGINT, None), Decode::I64);
        assert_eq!(decode_of(ffi::T_VARCHAR, Some("JSON")), Decode::Json);
        assert_eq!(decode_of(ffi::T_DOUBLE, None), Decode::Cast(Cast::Number));
        assert_eq!(decode_of(ffi::T_DECIMAL, None), Decode::Cast(Cast::Decimal));
        assert_eq!(decode_of(13, None), Decode::Cast(Cast::Text));
        assert_eq!(type_name(ffi::T_VARCHAR, Some("json")), "JSON");
    }
}
