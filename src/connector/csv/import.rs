//! Building a cache database from a CSV file, streaming, with types inferred on the fly.
//!
//! Two threads: this one parses records and converts each field to the value it is stored
//! as; an inserter thread owns the SQLite connection and inserts batches of rows. A bounded
//! channel and recycled batches keep memory flat whatever the file size.
//!
//! Types: the first [`PREFIX_ROWS`] records are read before anything is stored and give
//! each column its provisional type ([`super::infer`]). After that every value still narrows
//! its column's type set. The table is created without declared types, so SQLite stores each
//! value exactly as bound, and the final types are written into the schema at the end. When
//! a column narrows in a way the rows already stored survive (NULL-only to anything, integer
//! to real, date to timestamp, date/timestamp to text) nothing else happens. When it does not
//! (say an integer column meets `N/A`, whose earlier rows were stored as integers), the
//! attempt stops storing, reads the rest of the file only to learn the final types, and the
//! import starts over with them: at most one extra pass, never a wrong table.
//!
//! Rules for awkward files (each has a test in `tests/csv_connector.rs`):
//! - ragged rows are an error naming the line and both field counts: padding or dropping
//!   fields would silently shift or lose data;
//! - invalid UTF-8 and unterminated quotes are errors naming the line (see
//!   [`super::reader`]);
//! - an empty file (or one holding only a BOM or blank lines) is an error: there is no
//!   column to make a table of;
//! - header names are trimmed; blank ones become `column_N` (N = 1-based position);
//!   duplicates, compared case-insensitively as SQLite does, get `_2`, `_3`, …; NUL
//!   characters are dropped;
//! - at most 2000 columns (SQLite's limit) and 64 MiB per record, each an error past it.
//!
//! Progress goes to the caller at most every 100 ms, checked at each batch; after a restart
//! `rows` and `bytes` count again from the start of the file.

use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};
use tokio_util::sync::CancellationToken;

use super::infer::{self, ColumnState, ColumnType};
use super::insert::RawInsert;
use super::reader::{MAX_FIELDS, Record, RecordReader};
use crate::core::progress::{Progress, ProgressFn};
use crate::core::{Error, Result};

/// Records read before the first row is stored, to settle most types without a restart.
const PREFIX_ROWS: usize = 10_000;
/// …unless they hold more bytes than this.
const PREFIX_BYTES: usize = 8 << 20;
/// A batch is sent to the inserter when it holds this many rows or text bytes.
const BATCH_ROWS: usize = 4096;
const BATCH_BYTES: usize = 2 << 20;
/// Batches in flight between the threads.
const CHANNEL_DEPTH: usize = 4;
/// Rows per multi-row INSERT (fewer when the table is wide: SQLite allows 32766 parameters).
const ROWS_PER_INSERT: usize = 32;
const MAX_PARAMS: usize = 32_766;
const PROGRESS_EVERY: Duration = Duration::from_millis(100);
/// The cache's page size: of 4, 8 and 16 KiB, 16 cost the least CPU to build (fewer page
/// splits) and scans no slower.
const PAGE_SIZE: u32 = 16_384;
/// The build's page cache, in KiB (part of the flat memory budget).
const BUILD_CACHE_KIB: u32 = 16_384;

/// What an import needs besides the file.
pub struct BuildOptions<'a> {
    pub delimiter: u8,
    pub has_header: bool,
    /// Names the file in error messages.
    pub label: &'a str,
    /// Key/value pairs stored in `_tdb_meta` so a later run can trust the cache.
    pub meta: Vec<(&'static str, rusqlite::types::Value)>,
    pub progress: Option<&'a ProgressFn>,
    pub cancel: &'a CancellationToken,
}

/// The table an import produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub names: Vec<String>,
    pub types: Vec<ColumnType>,
    pub rows: u64,
}

/// Builds a complete cache at `dest` (which must not exist) from `file`, read from its start.
pub fn build(file: &File, total_bytes: u64, dest: &Path, opts: &BuildOptions) -> Result<Imported> {
    let mut known: Option<Vec<ColumnState>> = None;
    // A second attempt starts from the final types, so it cannot meet a surprise unless
    // the file changes underneath; a third covers that, then we give up.
    for _ in 0..3 {
        (&*file)
            .seek(SeekFrom::Start(0))
            .map_err(|e| Error::Unreachable(format!("cannot read {}: {e}", opts.label)))?;
        remove_if_exists(dest)?;
        create_private(dest)?;
        match attempt(file, total_bytes, dest, opts, known.as_deref()) {
            Ok(Attempt::Done(imported)) => return Ok(imported),
            Ok(Attempt::Restart(states)) => {
                tracing::debug!(
                    file = opts.label,
                    "column types widened late; importing again"
                );
                known = Some(states);
            }
            Err(e) => {
                let _ = std::fs::remove_file(dest);
                return Err(e);
            }
        }
    }
    let _ = std::fs::remove_file(dest);
    Err(Error::QueryFailed(format!(
        "{}: the file kept changing while it was being imported; try again once it is complete",
        opts.label
    )))
}

/// The cache holds the file's data, so it is as private as the registry: SQLite would make
/// it 0644 (less the umask), but it keeps the mode of a file that already exists, empty.
fn create_private(p: &Path) -> Result<()> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(p)
        .map(drop)
        .map_err(|e| Error::internal(&format!("cannot create {}", p.display()), e))
}

fn remove_if_exists(p: &Path) -> Result<()> {
    match std::fs::remove_file(p) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::internal(
            &format!("cannot remove {}", p.display()),
            e,
        )),
    }
}

enum Attempt {
    Done(Imported),
    /// Rows were stored with a type that turned out too narrow; here are the final types.
    Restart(Vec<ColumnState>),
}

/// One cell of a batch; text lives in the batch's byte buffer.
#[derive(Debug, Clone, Copy)]
pub enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Text { start: usize, end: usize },
}

#[derive(Default)]
struct Batch {
    cells: Vec<Cell>,
    buf: Vec<u8>,
    rows: usize,
}

impl Batch {
    fn clear(&mut self) {
        self.cells.clear();
        self.buf.clear();
        self.rows = 0;
    }

    fn push_text(&mut self, v: &[u8]) {
        let start = self.buf.len();
        self.buf.extend_from_slice(v);
        self.cells.push(Cell::Text {
            start,
            end: self.buf.len(),
        });
    }
}

enum Msg {
    Rows(Batch),
    Finish { types: Vec<ColumnType>, rows: u64 },
}

/// Header names as the module doc describes.
pub fn column_names(header: Option<&Record>, n: usize) -> Vec<String> {
    let mut used = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let raw = header
            .map(|h| String::from_utf8_lossy(h.field(i)).replace('\0', ""))
            .unwrap_or_default();
        let base = match raw.trim() {
            "" => format!("column_{}", i + 1),
            t => t.to_string(),
        };
        let mut name = base.clone();
        let mut k = 2;
        while !used.insert(name.to_ascii_lowercase()) {
            name = format!("{base}_{k}");
            k += 1;
        }
        out.push(name);
    }
    out
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `CREATE TABLE data (…)`, untyped while importing, typed once the types are known.
fn create_sql(names: &[String], types: Option<&[ColumnType]>) -> String {
    let cols: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, n)| match types.and_then(|t| t.get(i)) {
            Some(t) => format!("{} {}", quote_ident(n), t.decl()),
            None => quote_ident(n),
        })
        .collect();
    format!("CREATE TABLE data ({})", cols.join(", "))
}

/// Parser-side state of one attempt.
struct Parser<'a> {
    opts: &'a BuildOptions<'a>,
    states: Vec<ColumnState>,
    n: usize,
    header_line: u64,
    rows: u64,
    total_bytes: u64,
    last_progress: Instant,
}

impl Parser<'_> {
    fn ragged(&self, rec: &Record) -> Error {
        let origin = if self.opts.has_header {
            format!("as in the header on line {}", self.header_line)
        } else {
            format!("as in the first record, on line {}", self.header_line)
        };
        Error::QueryFailed(format!(
            "{}: line {}: expected {} fields ({origin}), found {}",
            self.opts.label,
            rec.line(),
            self.n,
            rec.len()
        ))
    }

    /// Narrows the column types with one record, storing nothing.
    fn learn(&mut self, rec: &Record) -> Result<()> {
        if rec.len() != self.n {
            return Err(self.ragged(rec));
        }
        let (data, ends) = rec.parts();
        self.learn_raw(data, ends);
        Ok(())
    }

    /// Appends one record to `batch`; false when a column narrowed in a way the rows
    /// already stored do not survive.
    fn convert(&mut self, data: &[u8], ends: &[usize], batch: &mut Batch) -> bool {
        let mut start = 0;
        for (st, &end) in self.states.iter_mut().zip(ends) {
            let v = &data[start..end];
            start = end;
            if v.is_empty() {
                batch.cells.push(Cell::Null);
                continue;
            }
            let before = st.current();
            if before == Some(ColumnType::Text) {
                batch.push_text(v);
                continue;
            }
            // Numbers are parsed once, for both the check and the stored value.
            let number = if st.mask & (infer::INT | infer::REAL) != 0 {
                infer::number_fits(v)
            } else {
                infer::Number::default()
            };
            let mask =
                (number.mask | infer::fits(v, st.mask & !(infer::INT | infer::REAL))) & st.mask;
            let now = ColumnType::from_mask(mask);
            if before != Some(now) && !infer::widening_is_free(before, now) {
                return false;
            }
            st.mask = mask;
            st.seen = true;
            match now {
                ColumnType::Integer => batch.cells.push(Cell::Int(number.int)),
                ColumnType::Real => batch.cells.push(Cell::Real(number.real)),
                ColumnType::Boolean => batch
                    .cells
                    .push(Cell::Int(i64::from(infer::parse_bool(v) == Some(true)))),
                ColumnType::Date | ColumnType::Timestamp | ColumnType::Text => batch.push_text(v),
            }
        }
        batch.rows += 1;
        true
    }

    fn report(&mut self, bytes: u64, force: bool) {
        if let Some(p) = self.opts.progress
            && (force || self.last_progress.elapsed() >= PROGRESS_EVERY)
        {
            self.last_progress = Instant::now();
            p(Progress {
                rows: self.rows,
                bytes,
                total_bytes: self.total_bytes,
                done: false,
            });
        }
    }

    fn check_cancel(&self) -> Result<()> {
        if self.opts.cancel.is_cancelled() {
            Err(Error::QueryFailed(format!(
                "{}: import cancelled",
                self.opts.label
            )))
        } else {
            Ok(())
        }
    }
}

/// Raw records read before anything is stored.
#[derive(Default)]
struct Prefix {
    data: Vec<u8>,
    /// Field ends relative to each record's start, `n` per record.
    ends: Vec<usize>,
    /// Where each record starts in `data`.
    starts: Vec<usize>,
}

fn attempt(
    file: &File,
    total_bytes: u64,
    dest: &Path,
    opts: &BuildOptions,
    known: Option<&[ColumnState]>,
) -> Result<Attempt> {
    let mut reader = RecordReader::new(file, opts.delimiter, opts.label.to_string());
    let mut prefix = Prefix::default();
    let (names, header_line) = {
        let Some(first) = reader.next_record()? else {
            let what = if opts.has_header {
                "a header line"
            } else {
                "at least one record"
            };
            return Err(Error::QueryFailed(format!(
                "{}: the file is empty: a CSV source needs {what}",
                opts.label
            )));
        };
        if first.len() > MAX_FIELDS {
            return Err(Error::QueryFailed(format!(
                "{}: line {}: {} columns; tdb handles at most {MAX_FIELDS}",
                opts.label,
                first.line(),
                first.len()
            )));
        }
        let line = first.line();
        if opts.has_header {
            (column_names(Some(&first), first.len()), line)
        } else {
            let (d, e) = first.parts();
            prefix.starts.push(0);
            prefix.data.extend_from_slice(d);
            prefix.ends.extend_from_slice(e);
            (column_names(None, first.len()), line)
        }
    };
    let n = names.len();
    let mut p = Parser {
        opts,
        states: known
            .map(<[ColumnState]>::to_vec)
            .unwrap_or_else(|| vec![ColumnState::default(); n]),
        n,
        header_line,
        rows: 0,
        total_bytes,
        last_progress: Instant::now(),
    };
    p.report(0, true);
    // Settle provisional types on a prefix.
    if !prefix.starts.is_empty() {
        let (d, e) = (&prefix.data[..], &prefix.ends[..]);
        p.learn_raw(d, e);
    }
    while prefix.starts.len() < PREFIX_ROWS && prefix.data.len() < PREFIX_BYTES {
        let Some(rec) = reader.next_record()? else {
            break;
        };
        p.learn(&rec)?;
        let (d, e) = rec.parts();
        prefix.starts.push(prefix.data.len());
        prefix.data.extend_from_slice(d);
        prefix.ends.extend_from_slice(e);
    }

    std::thread::scope(|s| {
        let (tx, rx) = sync_channel::<Msg>(CHANNEL_DEPTH);
        let (pool_tx, pool_rx) = channel::<Batch>();
        let names_ref = &names;
        let meta = &opts.meta[..];
        let inserter = s.spawn(move || insert_all(dest, names_ref, meta, rx, pool_tx));
        let parsed = feed(&mut p, &mut reader, &prefix, tx, pool_rx);
        let inserted = inserter
            .join()
            .unwrap_or_else(|_| Err(Error::Internal("the cache writer thread panicked".into())));
        match parsed {
            // The inserter's own error explains why it stopped taking rows.
            Err(Feed::InserterGone) => Err(inserted
                .err()
                .unwrap_or_else(|| Error::Internal("the cache writer stopped early".into()))),
            Err(Feed::Failed(e)) => Err(e),
            Ok(false) => Ok(Attempt::Restart(p.states.clone())),
            Ok(true) => {
                inserted?;
                Ok(Attempt::Done(Imported {
                    names: names.clone(),
                    types: p.states.iter().map(|s| s.final_type()).collect(),
                    rows: p.rows,
                }))
            }
        }
    })
}

enum Feed {
    InserterGone,
    Failed(Error),
}

impl From<Error> for Feed {
    fn from(e: Error) -> Self {
        Feed::Failed(e)
    }
}

impl Parser<'_> {
    /// [`Self::learn`] for a record whose field count is known to be right.
    fn learn_raw(&mut self, data: &[u8], ends: &[usize]) {
        let mut start = 0;
        for (st, &end) in self.states.iter_mut().zip(ends) {
            let v = &data[start..end];
            start = end;
            if !v.is_empty() {
                st.seen = true;
                if st.mask != 0 {
                    st.mask = infer::fits(v, st.mask);
                }
            }
        }
    }
}

/// Converts the prefix, then the rest of the file, into batches for the inserter. Ok(true)
/// when every row was sent and the inserter told to finish; Ok(false) when the types
/// widened late (the rest of the file was still read, to learn the final types).
fn feed<R: std::io::Read>(
    p: &mut Parser,
    reader: &mut RecordReader<R>,
    prefix: &Prefix,
    tx: SyncSender<Msg>,
    pool: Receiver<Batch>,
) -> std::result::Result<bool, Feed> {
    let new_batch = |pool: &Receiver<Batch>| {
        let mut b = pool.try_recv().unwrap_or_default();
        b.clear();
        b
    };
    let mut batch = new_batch(&pool);
    let send = |p: &mut Parser, batch: Batch, bytes: u64| -> std::result::Result<(), Feed> {
        p.check_cancel()?;
        tx.send(Msg::Rows(batch)).map_err(|_| Feed::InserterGone)?;
        p.report(bytes, false);
        Ok(())
    };
    // After each row: a full batch goes to the inserter and a recycled one takes its place.
    let flush_if_full =
        |p: &mut Parser, batch: &mut Batch, bytes: u64| -> std::result::Result<(), Feed> {
            if batch.rows >= BATCH_ROWS || batch.buf.len() >= BATCH_BYTES {
                let full = std::mem::replace(batch, new_batch(&pool));
                send(p, full, bytes)?;
            }
            Ok(())
        };
    let mut widened = false;
    for (i, &start) in prefix.starts.iter().enumerate() {
        let end = prefix
            .starts
            .get(i + 1)
            .copied()
            .unwrap_or(prefix.data.len());
        let ends = &prefix.ends[i * p.n..(i + 1) * p.n];
        // Prefix ends are relative to each record's start.
        if !p.convert(&prefix.data[start..end], ends, &mut batch) {
            widened = true;
            break;
        }
        p.rows += 1;
        flush_if_full(p, &mut batch, reader.bytes_consumed())?;
    }
    if !widened {
        while let Some(rec) = reader.next_record()? {
            if rec.len() != p.n {
                return Err(p.ragged(&rec).into());
            }
            let (d, e) = rec.parts();
            if !p.convert(d, e, &mut batch) {
                // Learn from this record's remaining fields too, below.
                p.learn(&rec)?;
                widened = true;
                break;
            }
            p.rows += 1;
            flush_if_full(p, &mut batch, reader.bytes_consumed())?;
        }
    }
    if widened {
        drop(tx);
        let mut seen = 0u32;
        while let Some(rec) = reader.next_record()? {
            p.learn(&rec)?;
            seen = seen.wrapping_add(1);
            if seen.is_multiple_of(65_536) {
                p.check_cancel()?;
                p.report(reader.bytes_consumed(), false);
            }
        }
        return Ok(false);
    }
    if batch.rows > 0 {
        send(p, batch, reader.bytes_consumed())?;
    }
    let types = p.states.iter().map(|s| s.final_type()).collect();
    tx.send(Msg::Finish {
        types,
        rows: p.rows,
    })
    .map_err(|_| Feed::InserterGone)?;
    p.report(reader.bytes_consumed(), true);
    Ok(true)
}

fn db_err(dest: &Path) -> impl Fn(rusqlite::Error) -> Error + '_ {
    move |e| Error::Internal(format!("cannot build the cache {}: {e}", dest.display()))
}

/// The inserter thread: creates the database and stores every batch until `Finish`.
fn insert_all(
    dest: &Path,
    names: &[String],
    meta: &[(&'static str, rusqlite::types::Value)],
    rx: Receiver<Msg>,
    pool: Sender<Batch>,
) -> Result<()> {
    let err = db_err(dest);
    let conn = Connection::open_with_flags(
        dest,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(&err)?;
    // The file is private to this build until it is renamed into place: no journal, no
    // syncs, no locking chatter. A crash leaves a temp file nobody trusts.
    conn.execute_batch(&format!(
        "PRAGMA page_size={PAGE_SIZE}; PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;
         PRAGMA locking_mode=EXCLUSIVE; PRAGMA cache_size=-{BUILD_CACHE_KIB};
         PRAGMA temp_store=MEMORY; BEGIN;"
    ))
    .map_err(&err)?;
    conn.execute_batch(&create_sql(names, None)).map_err(&err)?;
    conn.execute_batch("CREATE TABLE _tdb_meta (key TEXT PRIMARY KEY, value)")
        .map_err(&err)?;
    let n = names.len();
    let per_stmt = ROWS_PER_INSERT.min(MAX_PARAMS / n.max(1)).max(1);
    let insert_sql = |rows: usize| {
        let one = format!("({})", vec!["?"; n].join(","));
        format!("INSERT INTO data VALUES {}", vec![one; rows].join(","))
    };
    let insert_err =
        |e: String| Error::Internal(format!("cannot build the cache {}: {e}", dest.display()));
    let mut multi = RawInsert::prepare(&conn, &insert_sql(per_stmt)).map_err(insert_err)?;
    let mut single = RawInsert::prepare(&conn, &insert_sql(1)).map_err(insert_err)?;
    let finish = loop {
        match rx.recv() {
            Ok(Msg::Rows(batch)) => {
                // Whole multi-row statements first, then the rest one row at a time.
                let whole = batch.rows / per_stmt * per_stmt * n;
                let (head, tail) = batch.cells.split_at(whole.min(batch.cells.len()));
                multi.insert(head, &batch.buf).map_err(insert_err)?;
                single.insert(tail, &batch.buf).map_err(insert_err)?;
                let _ = pool.send(batch);
            }
            Ok(Msg::Finish { types, rows }) => break Some((types, rows)),
            Err(_) => break None,
        }
    };
    drop(multi);
    drop(single);
    let Some((types, rows)) = finish else {
        // The parser stopped (error or restart); the caller deletes the file.
        return Ok(());
    };
    finalize(&conn, names, &types, rows, meta).map_err(&err)?;
    conn.close().map_err(|(_, e)| err(e))
}

/// Writes the final column types into the schema, then commits.
///
/// The table was created untyped so that each value is stored exactly as bound; now its
/// declared types (and so the affinity and `column_decltype` readers see) are set by
/// rewriting the CREATE statement, the documented `writable_schema` procedure for changes
/// that leave stored records valid. They are valid by construction: an integer column holds
/// integers, a real column reals or integers (read back as reals through REAL affinity), a
/// boolean column 0/1, date/timestamp/text columns text.
fn finalize(
    conn: &Connection,
    names: &[String],
    types: &[ColumnType],
    rows: u64,
    meta: &[(&'static str, rusqlite::types::Value)],
) -> rusqlite::Result<()> {
    use rusqlite::config::DbConfig;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_WRITABLE_SCHEMA, true)?;
    conn.execute(
        "UPDATE sqlite_schema SET sql = ?1 WHERE type = 'table' AND name = 'data'",
        [create_sql(names, Some(types))],
    )?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_WRITABLE_SCHEMA, false)?;
    conn.execute(
        "INSERT INTO _tdb_meta (key, value) VALUES ('rows', ?1)",
        [i64::try_from(rows).unwrap_or(i64::MAX)],
    )?;
    for (key, value) in meta {
        conn.execute(
            "INSERT OR REPLACE INTO _tdb_meta (key, value) VALUES (?1, ?2)",
            rusqlite::params![key, value],
        )?;
    }
    conn.execute_batch("COMMIT")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_deduplicated_and_never_blank() {
        let mut r = RecordReader::new(
            &b" id ,Name,,name,id_2,id,\"a\"\"b\"\n"[..],
            b',',
            "t".into(),
        );
        let rec = r.next_record().unwrap().unwrap();
        assert_eq!(
            column_names(Some(&rec), rec.len()),
            vec!["id", "Name", "column_3", "name_2", "id_2", "id_3", "a\"b"]
        );
        assert_eq!(column_names(None, 2), vec!["column_1", "column_2"]);
    }

    #[test]
    fn create_sql_quotes_names() {
        let names = vec!["a\"b".to_string(), "c".into()];
        assert_eq!(
            create_sql(&names, None),
            r#"CREATE TABLE data ("a""b", "c")"#
        );
        assert_eq!(
            create_sql(&names, Some(&[ColumnType::Integer, ColumnType::Boolean])),
            r#"CREATE TABLE data ("a""b" INTEGER, "c" BOOLEAN)"#
        );
    }
}
