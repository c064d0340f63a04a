//! The per-source cache file: `<home>/cache/<id>.sqlite`, trusted only when it proves it was
//! built, completely, from the file as it is now.
//!
//! Layout: one SQLite database per source holding the table `data` and a key/value table
//! `_tdb_meta` with the stamp of the CSV file it was imported from (path, size, mtime in ns,
//! inode, device, delimiter, header flag) and [`FORMAT`], bumped whenever the import rules
//! change. A cache is used only when its stamp equals the file's stamp now and its length
//! matches the page count in its own header (a truncated copy fails that).
//!
//! Builds run under an exclusive lock on `<id>.lock` (so two processes preparing one source
//! both succeed: the second waits, then finds the cache fresh), into
//! `<id>.sqlite.tmp-<pid>-<nanos>` beside the cache, renamed into place only once complete.
//! A build that dies leaves only a temp file, which is never read and is removed by the next
//! build. Readers never lock: a rename swaps the whole file, and an open reader keeps the
//! version it opened. No fsync: a cache is disposable, and one damaged by a power cut is
//! detected (length check, or SQLite's corruption error on use) and rebuilt.

use std::fs::{self, File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use rusqlite::types::Value as SqlValue;

use rusqlite::types::ValueRef;

use super::CsvConnection;
use super::infer::ColumnType;
use crate::connector::sqlite_ro::{Flavor, ReadOnlyDb, plain_value};
use crate::core::value::Value;
use crate::core::{Error, Result};

/// Version of the import rules; a cache built under other rules is rebuilt.
pub const FORMAT: i64 = 1;

/// What identifies the imported file and how it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    pub path: String,
    pub size: i64,
    pub mtime_ns: i64,
    pub ino: i64,
    pub dev: i64,
    pub delimiter: String,
    pub has_header: bool,
}

impl Stamp {
    pub fn new(spec: &CsvConnection, meta: &fs::Metadata) -> Self {
        // Wrapping casts: these are compared for equality only.
        Stamp {
            path: spec.path.to_string_lossy().into_owned(),
            size: meta.size() as i64,
            mtime_ns: meta
                .mtime()
                .wrapping_mul(1_000_000_000)
                .wrapping_add(meta.mtime_nsec()),
            ino: meta.ino() as i64,
            dev: meta.dev() as i64,
            delimiter: spec.delimiter.to_string(),
            has_header: spec.has_header,
        }
    }

    pub fn to_meta(&self) -> Vec<(&'static str, SqlValue)> {
        vec![
            ("format", SqlValue::Integer(FORMAT)),
            ("source_path", SqlValue::Text(self.path.clone())),
            ("source_size", SqlValue::Integer(self.size)),
            ("source_mtime_ns", SqlValue::Integer(self.mtime_ns)),
            ("source_ino", SqlValue::Integer(self.ino)),
            ("source_dev", SqlValue::Integer(self.dev)),
            ("delimiter", SqlValue::Text(self.delimiter.clone())),
            ("has_header", SqlValue::Integer(i64::from(self.has_header))),
        ]
    }

    /// The stamp a cache claims, if it holds a complete one of this [`FORMAT`].
    fn read(db: &ReadOnlyDb) -> Option<Self> {
        let mut stmt = db.conn.prepare("SELECT key, value FROM _tdb_meta").ok()?;
        let pairs: Vec<(String, SqlValue)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .ok()?
            .collect::<rusqlite::Result<_>>()
            .ok()?;
        let get = |k: &str| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v);
        let int = |k: &str| match get(k) {
            Some(SqlValue::Integer(i)) => Some(*i),
            _ => None,
        };
        let text = |k: &str| match get(k) {
            Some(SqlValue::Text(t)) => Some(t.clone()),
            _ => None,
        };
        if int("format")? != FORMAT {
            return None;
        }
        int("rows")?;
        Some(Stamp {
            path: text("source_path")?,
            size: int("source_size")?,
            mtime_ns: int("source_mtime_ns")?,
            ino: int("source_ino")?,
            dev: int("source_dev")?,
            delimiter: text("delimiter")?,
            has_header: int("has_header")? != 0,
        })
    }
}

/// Where one source's files live.
#[derive(Debug, Clone)]
pub struct CachePaths {
    pub dir: PathBuf,
    pub db: PathBuf,
    pub lock: PathBuf,
    /// Temp files are this prefix plus a unique suffix.
    pub tmp_prefix: String,
}

impl CachePaths {
    pub fn new(dir: PathBuf, source_id: &str) -> Self {
        // Ids are uuids; anything else is hex-encoded so it cannot escape the folder.
        let stem = if !source_id.is_empty()
            && source_id.len() <= 64
            && source_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            source_id.to_string()
        } else {
            hex::encode(source_id.as_bytes())
        };
        CachePaths {
            db: dir.join(format!("{stem}.sqlite")),
            lock: dir.join(format!("{stem}.lock")),
            tmp_prefix: format!("{stem}.sqlite.tmp-"),
            dir,
        }
    }

    pub fn new_tmp(&self) -> PathBuf {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        self.dir
            .join(format!("{}{}-{nanos}", self.tmp_prefix, std::process::id()))
    }

    /// Removes temp files of builds that died. Call only under the lock.
    pub fn remove_stale_tmps(&self) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            if entry
                .file_name()
                .to_str()
                .is_some_and(|n| n.starts_with(&self.tmp_prefix))
            {
                let _ = fs::remove_file(entry.path());
            }
        }
    }

    /// Blocks until this process is the only one building this source's cache.
    pub fn lock(&self) -> Result<File> {
        let f = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&self.lock)
            .map_err(|e| Error::internal(&format!("cannot open {}", self.lock.display()), e))?;
        f.lock()
            .map_err(|e| Error::internal(&format!("cannot lock {}", self.lock.display()), e))?;
        Ok(f)
    }
}

/// Whether the file is as long as the SQLite header says: a truncated or half-copied
/// database fails this before SQLite reads a page of it.
fn length_matches_header(path: &Path) -> bool {
    let check = || -> std::io::Result<bool> {
        let mut f = File::open(path)?;
        let len = f.metadata()?.len();
        let mut h = [0u8; 100];
        f.read_exact(&mut h)?;
        let be32 = |i: usize| u32::from_be_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
        let page_size = match u16::from_be_bytes([h[16], h[17]]) {
            1 => 65_536,
            n => u64::from(n),
        };
        let pages = u64::from(be32(28));
        // The page count is valid only when "version-valid-for" equals the change counter.
        Ok(&h[..16] == b"SQLite format 3\0"
            && be32(92) == be32(24)
            && pages > 0
            && len == pages * page_size)
    };
    check().unwrap_or(false)
}

/// How the cache is read: it is tdb's own, so nobody writes it meanwhile (immutable), and
/// its declared types are the inferred ones (a BOOLEAN column's 0/1 reads as a bool).
pub const FLAVOR: Flavor = Flavor {
    immutable: true,
    what: "a CSV source",
    value: cell,
    type_name,
};

fn cell(v: ValueRef<'_>, decl: Option<&str>) -> Value {
    match (v, decl.and_then(ColumnType::from_decl)) {
        (ValueRef::Integer(i), Some(ColumnType::Boolean)) => Value::Bool(i != 0),
        _ => plain_value(v, decl),
    }
}

/// The inferred type's name (`integer`, `date`), whatever SQLite spelled.
pub fn type_name(decl: &str) -> String {
    ColumnType::from_decl(decl)
        .unwrap_or(ColumnType::Text)
        .name()
        .to_string()
}

/// The cache opened read-only, if it exists and was built from the file `stamp` describes.
pub fn open_if_fresh(db: &Path, stamp: &Stamp) -> Option<ReadOnlyDb> {
    if !length_matches_header(db) {
        return None;
    }
    let ro = ReadOnlyDb::open(db, FLAVOR).ok()?;
    (Stamp::read(&ro).as_ref() == Some(stamp)).then_some(ro)
}
