//! Importing a CSV file into its cache ([`super::cache`]): the columnar engine reads the
//! file in parallel (`read_csv`, strict) and writes its rows, typed, to a Parquet file.
//!
//! How the file is read, so nothing is guessed that could lose or shift data:
//! - the dialect is the source's (delimiter, `"` as quote and escape, header or not), never
//!   sniffed: no rows skipped, no comment lines, no padding of short rows;
//! - column names are tdb's ([`column_names`]): header names trimmed, blank ones
//!   `column_N`, repeats (compared case-insensitively) `_2`, `_3`, …;
//! - column types are the engine's, detected on a sample of the file: BIGINT, DOUBLE,
//!   BOOLEAN, DATE (ISO `YYYY-MM-DD` only: `03/04/2024` could be March or April, so it stays
//!   text), TIME, TIMESTAMP, TIMESTAMP WITH TIME ZONE, else VARCHAR. A value past the
//!   sample that does not fit its column's type makes the import start over with the types
//!   detected on the whole file: never a wrong or partial table. Numbers keep leading zeros
//!   as text (`02134`);
//! - empty fields (`,,` and `,"",`) are NULL.
//!
//! A file the engine refuses is read again by tdb's own strict reader ([`super::reader`])
//! so the error names the line as a text editor counts it: ragged rows (expected and found
//! field counts), invalid UTF-8 (line, field, byte), an unterminated quote (the line it
//! opened on). An empty file is an error: there is no column to make a table of.
//!
//! Progress: the engine's own, in bytes of the file, at most every 100 ms.

use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::path::Path;

use tokio_util::sync::CancellationToken;

use super::CsvConnection;
use super::cache::{CachePaths, Stamp};
use super::reader::{Record, RecordReader};
use crate::connector::duck::engine::{Database, Failure, quote_literal};
use crate::connector::duck::{Cached, Import};
use crate::core::progress::{Progress, ProgressFn};
use crate::core::regular_file::{OpenError, open_regular, stat_regular};
use crate::core::{Error, Result};
use crate::home::Home;

/// Rows the engine reads to detect the column types before the whole file.
const SAMPLE_ROWS: u64 = 20_480;
/// Bytes of the file each of the engine's readers holds at a time: its default (32 MiB)
/// made a 1 GB import peak at 500 MiB; 4 MiB keeps it near 200 MiB and is as fast. A line
/// may be up to 2 MB (the engine's `max_line_size`), so this holds two of the longest.
const READ_BUFFER: u64 = 4 << 20;
/// The start of the file read to estimate its rows while it is imported.
const RATE_SAMPLE_BYTES: u64 = 1 << 20;

/// A CSV source's file and where its cache goes.
pub struct CsvImport {
    pub spec: CsvConnection,
    pub paths: CachePaths,
    pub home: Home,
    /// The engine's settings while importing (memory, threads, spill folder).
    pub settings: Vec<(&'static str, String)>,
}

impl CsvImport {
    fn label(&self) -> String {
        self.spec.path.display().to_string()
    }

    fn delimiter(&self) -> Result<u8> {
        u8::try_from(self.spec.delimiter)
            .map_err(|_| Error::Invalid("connection.delimiter: must be one ASCII character".into()))
    }

    fn open_failed(&self, e: OpenError) -> Error {
        Error::Unreachable(format!(
            "cannot read the CSV file {}: {}",
            self.label(),
            e.reason()
        ))
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

    /// Where the cache of the file as it is now goes (it may not exist yet).
    pub fn cache_path(&self) -> Result<std::path::PathBuf> {
        Ok(self.paths.cache(&self.stamp_now()?))
    }

    /// The column names, from the first record, and the records a byte of the file holds
    /// (from its first MiB, for the progress report's row estimate).
    fn names(&self, file: &File) -> Result<(Vec<String>, f64)> {
        let mut reader = RecordReader::new(file, self.delimiter()?, self.label());
        let names = match reader.next_record()? {
            Some(first) if self.spec.has_header => column_names(Some(&first), first.len()),
            Some(first) => column_names(None, first.len()),
            None => return Err(self.empty()),
        };
        let mut records = u64::from(!self.spec.has_header);
        let start = reader.bytes_consumed();
        while reader.bytes_consumed() - start < RATE_SAMPLE_BYTES {
            match reader.next_record() {
                Ok(Some(_)) => records += 1,
                // The import names the problem, with the engine's help.
                Ok(None) | Err(_) => break,
            }
        }
        let read = (reader.bytes_consumed() - start).max(1);
        Ok((names, records as f64 / read as f64))
    }

    fn empty(&self) -> Error {
        let what = if self.spec.has_header {
            "a header line"
        } else {
            "at least one record"
        };
        Error::QueryFailed(format!(
            "{}: the file is empty: a CSV source needs {what}",
            self.label()
        ))
    }

    /// Reads the whole file with tdb's strict reader: the first problem, naming its line.
    fn check(&self, mut file: &File) -> Result<()> {
        file.seek(SeekFrom::Start(0))
            .map_err(|e| Error::internal("cannot read the CSV file again", e))?;
        let mut reader = RecordReader::new(file, self.delimiter()?, self.label());
        let Some(first) = reader.next_record()? else {
            return Err(self.empty());
        };
        let (width, first_line) = (first.len(), first.line());
        while let Some(rec) = reader.next_record()? {
            if rec.len() != width {
                return Err(self.ragged(&rec, width, first_line));
            }
        }
        Ok(())
    }

    fn ragged(&self, rec: &Record<'_>, width: usize, first_line: u64) -> Error {
        let origin = if self.spec.has_header {
            format!("as in the header on line {first_line}")
        } else {
            format!("as in the first record, on line {first_line}")
        };
        Error::QueryFailed(format!(
            "{}: line {}: expected {width} fields ({origin}), found {}",
            self.label(),
            rec.line(),
            rec.len()
        ))
    }

    /// The engine's statement writing the file's rows to `dest`: uncompressed Parquet, 10%
    /// quicker to write and to read than Snappy's for half again the bytes (a cache is a
    /// local, disposable copy).
    fn copy_sql(&self, names: &[String], dest: &Path, whole_file: bool) -> String {
        let names: Vec<String> = names.iter().map(|n| quote_literal(n)).collect();
        let sample = if whole_file {
            "-1".to_string()
        } else {
            SAMPLE_ROWS.to_string()
        };
        format!(
            "COPY (SELECT * FROM read_csv({path}, delim = {delim}, quote = '\"', escape = '\"', \
             header = {header}, skip = 0, comment = '', strict_mode = true, \
             null_padding = false, dateformat = '%Y-%m-%d', names = [{names}], \
             sample_size = {sample}, buffer_size = {READ_BUFFER})) \
             TO {dest} (FORMAT parquet, COMPRESSION uncompressed, USE_TMP_FILE false)",
            path = quote_literal(&self.spec.path.to_string_lossy()),
            delim = quote_literal(&self.spec.delimiter.to_string()),
            header = self.spec.has_header,
            names = names.join(", "),
            dest = quote_literal(&dest.to_string_lossy()),
        )
    }

    /// Imports the file into a new cache at `dest`; the rows written.
    fn build(
        &self,
        file: &File,
        size: u64,
        dest: &Path,
        progress: Option<&ProgressFn>,
        cancel: &CancellationToken,
    ) -> Result<u64> {
        let (names, per_byte) = self.names(file)?;
        let mut estimate = 0u64;
        let db = Database::open(None, &self.settings)?;
        let conn = db.connect()?;
        // The engine keeps count of a statement's progress only with its bar on.
        conn.execute("SET enable_progress_bar = true; SET enable_progress_bar_print = false")?;
        let mut tick = |p: crate::connector::duck::ffi::QueryProgress| {
            if let Some(report) = progress
                && p.percentage >= 0.0
            {
                let bytes = ((p.percentage / 100.0) * size as f64) as u64;
                estimate = estimate.max((bytes as f64 * per_byte) as u64);
                report(Progress {
                    rows: estimate,
                    bytes,
                    total_bytes: size,
                    done: false,
                });
            }
        };
        let cancelled = || Error::QueryFailed(format!("{}: import cancelled", self.label()));
        let mut whole_file = false;
        loop {
            let sql = self.copy_sql(&names, dest, whole_file);
            // A cancel that came before the engine could be interrupted (or as it finished)
            // still stops the import: nothing is kept.
            if cancel.is_cancelled() {
                return Err(cancelled());
            }
            match conn.run(&sql, cancel, &mut tick) {
                Ok(()) if cancel.is_cancelled() => return Err(cancelled()),
                Ok(()) => break,
                Err(Failure::Cancelled) => return Err(cancelled()),
                Err(Failure::Engine(m)) if !whole_file && m.contains("Could not convert") => {
                    tracing::info!(file = %self.label(), "a value past the sample; reading the types of the whole file");
                    whole_file = true;
                }
                Err(Failure::Engine(m)) => {
                    self.check(file)?;
                    let first = m.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
                    return Err(Error::QueryFailed(format!(
                        "{}: the engine cannot read it: {first}",
                        self.label()
                    )));
                }
                Err(other) => return Err(other.into_error(std::time::Duration::ZERO)),
            }
        }
        let rows = conn.rows(
            &format!(
                "SELECT CAST(count(*) AS BIGINT) FROM read_parquet({})",
                quote_literal(&dest.to_string_lossy())
            ),
            std::time::Duration::from_secs(60),
        )?;
        Ok(match rows.first().and_then(|r| r.first()) {
            Some(crate::core::value::Value::Int(n)) => u64::try_from(*n).unwrap_or(0),
            _ => 0,
        })
    }
}

impl Import for CsvImport {
    fn ensure(&self, progress: Option<&ProgressFn>, cancel: &CancellationToken) -> Result<Cached> {
        let dest = self.paths.cache(&self.stamp_now()?);
        if dest.is_file() {
            return Ok(Cached::Parquet(dest));
        }
        self.home.ensure_cache_dir()?;
        let _lock = self.paths.lock()?;
        for _ in 0..3 {
            let (file, stamp) = self.open_source()?;
            let dest = self.paths.cache(&stamp);
            // Another process may have built it while we waited for the lock.
            if dest.is_file() {
                return Ok(Cached::Parquet(dest));
            }
            self.paths.remove_stale(None);
            let tmp = self.paths.new_tmp();
            if let Some(report) = progress {
                report(Progress {
                    rows: 0,
                    bytes: 0,
                    total_bytes: stamp.size,
                    done: false,
                });
            }
            let rows = self
                .build(&file, stamp.size, &tmp, progress, cancel)
                .inspect_err(|_| {
                    let _ = std::fs::remove_file(&tmp);
                })?;
            // The file must not have changed while we read it, or the cache would mix two
            // versions under the first one's stamp.
            if self.stamp_now()? != stamp {
                let _ = std::fs::remove_file(&tmp);
                continue;
            }
            // Like every file of tdb's home: the owner's only (the engine wrote it 0644).
            {
                use std::os::unix::fs::PermissionsExt;
                let _ = std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600));
            }
            std::fs::rename(&tmp, &dest).map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                Error::internal(&format!("cannot move the cache into {}", dest.display()), e)
            })?;
            self.paths.remove_stale(Some(&dest));
            if let Some(report) = progress {
                report(Progress {
                    rows,
                    bytes: stamp.size,
                    total_bytes: stamp.size,
                    done: true,
                });
            }
            return Ok(Cached::Parquet(dest));
        }
        Err(Error::QueryFailed(format!(
            "{}: the file kept changing while it was being imported; try again once it is complete",
            self.label()
        )))
    }

    fn reachable(&self) -> Result<()> {
        self.open_source().map(drop)
    }
}

/// Header names as the module doc describes (NUL characters dropped).
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
        while !used.insert(name.to_lowercase()) {
            name = format!("{base}_{k}");
            k += 1;
        }
        out.push(name);
    }
    out
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
}
