//! Where a CSV source's cache lives: `<home>/cache/<id>.csv-<stamp>.parquet`, the file's rows
//! as the columnar engine wrote them. The stamp is a hash of what identifies the file now
//! (path, size, mtime in ns, inode, device) and how it is read (delimiter, header flag,
//! [`FORMAT`]), so a changed file has no cache until it is imported again, and nothing has
//! to be read to know a cache is fresh.
//!
//! Builds run under an exclusive lock on `<id>.lock` (two processes preparing one source
//! both succeed: the second waits, then finds the cache), into `<id>.csv-tmp-<pid>-<nanos>`,
//! renamed into place only once complete. A build that dies leaves only a temp file, which
//! is never read and is removed by the next build, as are the caches of earlier versions
//! of the file. Readers never lock: a rename swaps the whole file. No fsync: a cache is
//! disposable (safe to delete), and one that does not open is built again.

use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::CsvConnection;
use crate::core::{Error, Result};

/// Version of the import rules; a cache built under other rules is never used.
const FORMAT: u32 = 2;

/// What identifies the imported file and how it was read, hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    pub size: u64,
    hash: String,
}

impl Stamp {
    pub fn new(spec: &CsvConnection, meta: &fs::Metadata) -> Self {
        let key = format!(
            "{FORMAT}\0{}\0{}\0{}.{}\0{}\0{}\0{}\0{}",
            spec.path.to_string_lossy(),
            meta.size(),
            meta.mtime(),
            meta.mtime_nsec(),
            meta.ino(),
            meta.dev(),
            spec.delimiter,
            spec.has_header
        );
        Stamp {
            size: meta.size(),
            hash: hex::encode(&Sha256::digest(key.as_bytes())[..8]),
        }
    }
}

/// Where one source's files live.
#[derive(Debug, Clone)]
pub struct CachePaths {
    dir: PathBuf,
    stem: String,
    lock: PathBuf,
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
            lock: dir.join(format!("{stem}.lock")),
            stem,
            dir,
        }
    }

    /// The cache of the file `stamp` describes (it may not exist).
    pub fn cache(&self, stamp: &Stamp) -> PathBuf {
        self.dir
            .join(format!("{}.csv-{}.parquet", self.stem, stamp.hash))
    }

    pub fn new_tmp(&self) -> PathBuf {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        self.dir.join(format!(
            "{}.csv-tmp-{}-{nanos}",
            self.stem,
            std::process::id()
        ))
    }

    /// Removes everything of this source's but `keep`: temp files of builds that died,
    /// caches of earlier versions of the file, and the SQLite cache of tdb's before the
    /// columnar engine (`<id>.sqlite`). Call only under the lock.
    pub fn remove_stale(&self, keep: Option<&Path>) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        let ours = [
            format!("{}.csv-", self.stem),
            format!("{}.sqlite", self.stem),
        ];
        for entry in entries.flatten() {
            let path = entry.path();
            let mine = entry
                .file_name()
                .to_str()
                .is_some_and(|n| ours.iter().any(|p| n.starts_with(p.as_str())));
            if mine && Some(path.as_path()) != keep {
                let _ = fs::remove_file(&path);
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
