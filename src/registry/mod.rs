//! The source registry: SQLite in WAL mode at `<home>/registry.db`.
//!
//! Every statement binds its parameters. Writes take the write lock up front
//! (`BEGIN IMMEDIATE`) and wait on a busy timeout, so two tdb processes on one home (two
//! terminals on one bastion) both succeed.

pub mod history;
pub mod keys;
mod migrations;
pub mod secrets;

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::config::DbConfig;
use rusqlite::{Connection as Db, ErrorCode, OptionalExtension, TransactionBehavior, params};
use secrecy::SecretString;
use serde_json::{Map, Value as Json};

use crate::connector;
use crate::core::kind::field_errors;
use crate::core::secret::StoredSecret;
use crate::core::source::{
    Connection, NewSource, SecretChange, SourceRecord, Status, validate_description, validate_name,
    validate_tags,
};
use crate::core::{Error, Result};
use crate::home::{Home, touch_private_file};
use secrets::KeySource;

/// How long a write waits for another process holding the lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Registry {
    db: Db,
    keys: KeySource,
    home: Home,
}

/// The changes `tdb source edit` asks for; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct EditRequest {
    pub name: Option<String>,
    pub description: Option<String>,
    pub tags: Option<Vec<String>>,
    /// Keys to change in the connection (a merge patch: `null` removes an optional key).
    pub connection: Option<Map<String, Json>>,
}

/// Whether a removal kept the record for the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    Soft,
    Purge,
}

fn db_err(context: &str) -> impl Fn(rusqlite::Error) -> Error + '_ {
    move |e| Error::Internal(format!("registry: {context}: {e}"))
}

/// Puts the registry in WAL mode, asking first so that an existing registry only reads.
///
/// The first statement of a connection sets up the WAL index, and when another process is
/// doing the same at that instant SQLite answers "database is locked" without calling the
/// busy handler. Two `tdb` commands started together meet that, so it is retried here with
/// short pauses, up to the same patience as any other lock.
fn ensure_wal(db: &Db) -> rusqlite::Result<()> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        let attempt = db
            .query_row("PRAGMA journal_mode", [], |r| r.get::<_, String>(0))
            .and_then(|mode| {
                if mode.eq_ignore_ascii_case("wal") {
                    Ok(())
                } else {
                    db.pragma_update(None, "journal_mode", "WAL")
                }
            });
        match attempt {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if matches!(e.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
                    && started.elapsed() < BUSY_TIMEOUT =>
            {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            other => return other,
        }
    }
}

/// A registry file that cannot be one: not a regular file, not SQLite, or empty in a home
/// that shows it held sources. Checked before SQLite sees it, because SQLite would make an
/// empty or missing file a new, empty registry and every source would be gone without a
/// word.
fn check_registry_file(home: &Home, path: &Path) -> Result<()> {
    // What this home left behind once it had a registry. Looked at before the registry's
    // size: each is created only after the registry was written, so seen first it proves
    // the registry was not empty then.
    let used = home_was_used(home);
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(Error::Internal(format!(
                "cannot read the registry {}: {e}; make it readable by this user",
                path.display()
            )));
        }
    };
    if let Some(kind) = crate::core::regular_file::non_regular_kind(&meta) {
        return Err(Error::Internal(format!(
            "the registry {} is {kind}, not a file; move it away (tdb then makes a new, empty registry)",
            path.display()
        )));
    }
    if meta.len() == 0 {
        if used.is_empty() || !stays_empty(path) {
            return Ok(());
        }
        return Err(Error::Internal(format!(
            "the registry {} is empty, but this home has been used ({} present): it was \
             probably truncated. Restore it from a backup; to start over with no sources, \
             remove it and tdb makes a new one",
            path.display(),
            used.join(", ")
        )));
    }
    let mut head = [0u8; 100];
    let read = std::fs::File::open(path).and_then(|mut f| {
        use std::io::Read;
        f.read_exact(&mut head)
    });
    if read.is_err() || &head[..16] != b"SQLite format 3\0" {
        return Err(not_a_registry(path, "it is not a SQLite database"));
    }
    if is_foreign_database(&head, meta.len()) {
        return Err(not_a_registry(
            path,
            "it is a SQLite database of another program, not a tdb registry",
        ));
    }
    Ok(())
}

/// Pages beyond the first but no schema version: tables that tdb's migrations did not make
/// (they set the version in the same commit as the tables), so migrating would write tdb's
/// tables into another program's database. Read from the header, not through SQLite,
/// which would first switch the file to WAL mode, writing to it.
fn is_foreign_database(head: &[u8; 100], len: u64) -> bool {
    let be32 = |i: usize| u32::from_be_bytes([head[i], head[i + 1], head[i + 2], head[i + 3]]);
    let page_size = match u16::from_be_bytes([head[16], head[17]]) {
        1 => 65_536,
        n => u64::from(n.max(512)),
    };
    // The page count in the header is valid only when "version-valid-for" matches the
    // change counter; otherwise the file's length says it.
    let pages = if be32(92) == be32(24) {
        u64::from(be32(28))
    } else {
        len / page_size
    };
    let user_version = be32(60);
    user_version == 0 && pages > 1
}

/// The files a home holds once a registry there was in use.
fn home_was_used(home: &Home) -> Vec<&'static str> {
    let root = home.root();
    let mut found = Vec::new();
    for (name, label) in [
        ("master.key", "master.key"),
        ("master.kdf", "master.kdf"),
        ("tdb_audit.jsonl", "the audit log"),
    ] {
        if root.join(name).exists() {
            found.push(label);
        }
    }
    if std::fs::read_dir(home.cache_dir()).is_ok_and(|mut d| d.next().is_some()) {
        found.push("cached files");
    }
    found
}

/// Another tdb that has just created the file writes its first page within moments; only a
/// file still empty after that is a lost registry.
fn stays_empty(path: &Path) -> bool {
    for _ in 0..20 {
        std::thread::sleep(Duration::from_millis(25));
        if std::fs::metadata(path).map_or(true, |m| m.len() > 0) {
            return false;
        }
    }
    true
}

fn not_a_registry(path: &Path, why: &str) -> Error {
    Error::Internal(format!(
        "the registry {} is damaged ({why}); restore it from a backup, or move it away to \
         start with an empty registry (tdb never writes over it)",
        path.display()
    ))
}

/// SQLite's errors at open, with the file named when they mean it is damaged.
fn open_err<'a>(path: &'a Path, context: &'static str) -> impl Fn(rusqlite::Error) -> Error + 'a {
    move |e| match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => not_a_registry(path, "it is not a SQLite database"),
        Some(ErrorCode::DatabaseCorrupt) => not_a_registry(path, &e.to_string()),
        _ => Error::Internal(format!("registry {}: {context}: {e}", path.display())),
    }
}

/// Past this size the WAL is checkpointed and truncated when the registry is opened. Every
/// process reads the whole WAL at open (about 0.4 ms for 300 KB here) and a fold costs a
/// checkpoint's fsyncs once every dozen or so queries: 256 KiB keeps both small.
const WAL_FOLD_AT: u64 = 256 << 10;

/// Checkpoints the WAL into the database and truncates it once it is over [`WAL_FOLD_AT`].
///
/// SQLite's automatic checkpoint does not serve short processes: it runs at a commit, but
/// the WAL only starts over at the next write of the same connection, and a new process
/// forgets what was already copied back. Without this the WAL would grow with every run and
/// every open would read all of it. When another process is reading (the UI, say), the
/// checkpoint gives way at once and the next open tries again.
fn fold_wal(db: &Db, path: &Path) -> Result<()> {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let size = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    if size <= WAL_FOLD_AT {
        return Ok(());
    }
    db.busy_timeout(Duration::ZERO)
        .map_err(db_err("busy timeout"))?;
    let busy = db.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
        r.get::<_, i64>(0)
    });
    db.busy_timeout(BUSY_TIMEOUT)
        .map_err(db_err("busy timeout"))?;
    if !matches!(busy, Ok(0)) {
        tracing::debug!("registry WAL of {size} bytes left for the next open: {busy:?}");
    }
    Ok(())
}

const RECORD_COLUMNS: &str = "id, name, source_type, connection, secret IS NOT NULL, description, tags, registered_by, registered_at, status";

impl Registry {
    /// Opens (creating if needed) the registry of `home`.
    pub fn open(home: &Home) -> Result<Self> {
        let keys = KeySource::new(home.key_path());
        keys.check_env()?;
        home.ensure()?;
        let path = home.registry_path();
        check_registry_file(home, &path)?;
        // Created 0600 before SQLite sees it; SQLite gives -wal and -shm the same mode.
        touch_private_file(&path)?;
        let db = Db::open(&path).map_err(open_err(&path, "open"))?;
        db.busy_timeout(BUSY_TIMEOUT)
            .map_err(db_err("busy timeout"))?;
        ensure_wal(&db).map_err(open_err(&path, "WAL mode"))?;
        db.pragma_update(None, "synchronous", "NORMAL")
            .map_err(db_err("synchronous"))?;
        // Every `tdb query` is a short process that adds a history row. By default the last
        // connection to close checkpoints the WAL and deletes it, and the next process
        // creates it again: four fsyncs a run, most of a query's cost over its network time.
        // Kept, the WAL is folded back at the next open once it has grown (below). A crash of
        // tdb loses nothing either way; a power cut may lose the last commits, never the
        // database (WAL with synchronous=NORMAL).
        db.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
            .map_err(db_err("checkpoint on close"))?;
        fold_wal(&db, &path)?;
        db.pragma_update(None, "foreign_keys", "ON")
            .map_err(db_err("foreign keys"))?;
        let mut reg = Registry {
            db,
            keys,
            home: home.clone(),
        };
        migrations::migrate(&mut reg.db, &path)?;
        Ok(reg)
    }

    pub fn home(&self) -> &Home {
        &self.home
    }

    /// Registers a source (seed 000 "Register"); the name must be free among live sources.
    /// The connection passes its kind's checks on the disk first (a CSV file must exist).
    pub fn add(&mut self, mut new: NewSource, actor: &str) -> Result<SourceRecord> {
        new.connection = connector::admit(new.connection)?;
        let id = uuid::Uuid::new_v4().to_string();
        let secret = match &new.secret {
            Some(s) => Some(self.keys.get_or_create()?.seal(&id, s)?),
            None => None,
        };
        let registered_at = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let tags = serde_json::to_string(&new.tags).unwrap_or_else(|_| "[]".into());
        let tx = self
            .db
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db_err("begin"))?;
        let inserted = tx.execute(
            "INSERT INTO sources (id, name, source_type, connection, secret, description, tags, registered_by, registered_at, status)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'active')",
            params![
                id,
                new.name,
                new.connection.kind().name(),
                new.connection.to_stored_json().to_string(),
                secret,
                new.description,
                tags,
                actor,
                registered_at,
            ],
        );
        match inserted {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                return Err(name_taken(&new.name));
            }
            Err(e) => return Err(db_err("insert")(e)),
        }
        tx.commit().map_err(db_err("commit"))?;
        self.get(&id)
    }

    /// Live sources in registration order, optionally only those with `tag`.
    pub fn list(&self, tag: Option<&str>) -> Result<Vec<SourceRecord>> {
        let sql =
            format!("SELECT {RECORD_COLUMNS} FROM sources WHERE deleted_at IS NULL ORDER BY rowid");
        let mut stmt = self.db.prepare_cached(&sql).map_err(db_err("list"))?;
        let rows = stmt.query_map([], row_to_record).map_err(db_err("list"))?;
        let mut out = Vec::new();
        for r in rows {
            let rec = r.map_err(db_err("list"))??;
            if tag.is_none_or(|t| rec.tags.iter().any(|x| x == t)) {
                out.push(rec);
            }
        }
        Ok(out)
    }

    /// A live source by id or by name.
    pub fn get(&self, reference: &str) -> Result<SourceRecord> {
        self.find(reference)?.ok_or_else(|| not_found(reference))
    }

    fn find(&self, reference: &str) -> Result<Option<SourceRecord>> {
        let sql = format!(
            "SELECT {RECORD_COLUMNS} FROM sources
             WHERE deleted_at IS NULL AND (id = ?1 OR name = ?1)
             ORDER BY id = ?1 DESC LIMIT 1"
        );
        let mut stmt = self.db.prepare_cached(&sql).map_err(db_err("get"))?;
        let found = stmt
            .query_row([reference], row_to_record)
            .optional()
            .map_err(db_err("get"))?;
        found.transpose()
    }

    /// The stored password of a source, as far as this machine's key can recover it.
    pub fn secret(&self, rec: &SourceRecord) -> Result<StoredSecret> {
        if !rec.has_password {
            return Ok(StoredSecret::None);
        }
        let blob: Option<Vec<u8>> = self
            .db
            .query_row("SELECT secret FROM sources WHERE id = ?1", [&rec.id], |r| {
                r.get(0)
            })
            .optional()
            .map_err(db_err("secret"))?
            .flatten();
        let Some(blob) = blob else {
            return Ok(StoredSecret::None);
        };
        let Some(key) = self.keys.existing()? else {
            return Ok(StoredSecret::Undecryptable);
        };
        Ok(match key.open(&rec.id, &blob) {
            Some(opened) => {
                if opened.stale {
                    self.reseal(&key, &rec.id, &blob, &opened.secret);
                }
                StoredSecret::Present(opened.secret)
            }
            None => StoredSecret::Undecryptable,
        })
    }

    /// A secret that opened only under an older key (the unsalted digest of earlier tdb, or
    /// `$TDB_MASTER_KEY_OLD`) is sealed again under the current key, so the old key is not
    /// needed next time. Only if the row still holds the blob that was read: a password set
    /// meanwhile by another process wins. A failure leaves the old blob, which still opens.
    fn reseal(&self, key: &secrets::MasterKey, id: &str, old: &[u8], secret: &SecretString) {
        let updated = key.seal(id, secret).and_then(|sealed| {
            self.db
                .execute(
                    "UPDATE sources SET secret = ?2 WHERE id = ?1 AND secret = ?3",
                    params![id, sealed, old],
                )
                .map_err(db_err("re-encrypt secret"))
        });
        match updated {
            Ok(0) => {} // another process re-encrypted or replaced it first
            Ok(_) => tracing::info!("password of source {id} re-encrypted under the current key"),
            Err(e) => tracing::warn!("cannot re-encrypt the password of source {id}: {e}"),
        }
    }

    /// Applies `edit` (seed 001 PATCH) and returns the new record.
    pub fn edit(&mut self, reference: &str, edit: EditRequest) -> Result<SourceRecord> {
        let rec = self.get(reference)?;
        let name = match &edit.name {
            Some(n) => validate_name(n)?,
            None => rec.name.clone(),
        };
        let description = match &edit.description {
            Some(d) => validate_description(d)?,
            None => rec.description.clone(),
        };
        let tags = match edit.tags {
            Some(t) => validate_tags(t)?,
            None => rec.tags.clone(),
        };
        let mut secret_change = SecretChange::Keep;
        let connection = match &edit.connection {
            None => rec.connection.clone(),
            Some(patch) => {
                let kind = rec.connection.kind();
                let merged = kind.merge(rec.connection.stored(), patch);
                let here = crate::home::Here::now();
                let valid = kind
                    .validate(&merged, &here.context())
                    .map_err(|e| field_errors(&e))?;
                let conn = connector::admit(Connection::new(kind, valid.stored))?;
                let change = valid.secret;
                secret_change = change;
                conn
            }
        };
        let sealed = match &secret_change {
            SecretChange::Set(s) => Some(self.keys.get_or_create()?.seal(&rec.id, s)?),
            _ => None,
        };
        let tx = self
            .db
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db_err("begin"))?;
        let updated = tx.execute(
            "UPDATE sources SET name = ?2, description = ?3, tags = ?4, connection = ?5
             WHERE id = ?1 AND deleted_at IS NULL",
            params![
                rec.id,
                name,
                description,
                serde_json::to_string(&tags).unwrap_or_else(|_| "[]".into()),
                connection.to_stored_json().to_string(),
            ],
        );
        match updated {
            Ok(0) => return Err(not_found(reference)),
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => return Err(name_taken(&name)),
            Err(e) => return Err(db_err("update")(e)),
        }
        match secret_change {
            SecretChange::Keep => {}
            SecretChange::Set(_) => {
                tx.execute(
                    "UPDATE sources SET secret = ?2 WHERE id = ?1",
                    params![rec.id, sealed],
                )
                .map_err(db_err("update secret"))?;
            }
            SecretChange::Clear => {
                tx.execute("UPDATE sources SET secret = NULL WHERE id = ?1", [&rec.id])
                    .map_err(db_err("clear secret"))?;
            }
        }
        tx.commit().map_err(db_err("commit"))?;
        self.get(&rec.id)
    }

    /// Stores a new password (seed 001 PATCH credentials). Clears `password_env`, since the
    /// stored password now wins.
    pub fn set_password(&mut self, reference: &str, secret: &SecretString) -> Result<SourceRecord> {
        let rec = self.get(reference)?;
        let kind = rec.connection.kind();
        if !kind.takes_password() {
            return Err(Error::Invalid(format!(
                "source \"{}\" is a {kind} source; it has no password",
                rec.name
            )));
        }
        let mut stored = rec.connection.stored().clone();
        stored.remove("password_env");
        let sealed = self.keys.get_or_create()?.seal(&rec.id, secret)?;
        let n = self
            .db
            .execute(
                "UPDATE sources SET secret = ?2, connection = ?3 WHERE id = ?1 AND deleted_at IS NULL",
                params![
                    rec.id,
                    sealed,
                    Json::Object(stored).to_string()
                ],
            )
            .map_err(db_err("set password"))?;
        if n == 0 {
            return Err(not_found(reference));
        }
        self.get(&rec.id)
    }

    /// Deletes a source: its secret and caches go at once; the rest of the row stays for the
    /// audit trail unless purged. The name is free again either way.
    pub fn remove(&mut self, reference: &str, how: Removal) -> Result<SourceRecord> {
        let rec = self.get(reference)?;
        let n = match how {
            Removal::Soft => self.db.execute(
                "UPDATE sources SET deleted_at = ?2, secret = NULL WHERE id = ?1 AND deleted_at IS NULL",
                params![rec.id, chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)],
            ),
            Removal::Purge => self.db.execute("DELETE FROM sources WHERE id = ?1", [&rec.id]),
        }
        .map_err(db_err("remove"))?;
        if n == 0 {
            return Err(not_found(reference));
        }
        self.drop_caches(&rec.id);
        if let Err(e) = self.forget_history(&rec.id) {
            tracing::warn!("cannot drop the history of {}: {e}", rec.id);
        }
        Ok(rec)
    }

    fn drop_caches(&self, id: &str) {
        let Ok(entries) = std::fs::read_dir(self.home.cache_dir()) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            if name.to_string_lossy().starts_with(id) {
                let path = entry.path();
                let removed = if path.is_dir() {
                    std::fs::remove_dir_all(&path)
                } else {
                    std::fs::remove_file(&path)
                };
                if let Err(e) = removed {
                    tracing::warn!("cannot remove cache {}: {e}", path.display());
                }
            }
        }
    }

    /// Records the outcome of the last test or query; a no-op when nothing changed.
    pub fn set_status(&self, id: &str, status: Status) -> Result<()> {
        self.db
            .execute(
                "UPDATE sources SET status = ?2 WHERE id = ?1 AND status <> ?2",
                params![id, status.as_str()],
            )
            .map_err(db_err("status"))?;
        Ok(())
    }

    /// A number that changes when another connection (another tdb process) commits a change
    /// to the registry, so a long-running UI can notice and list sources again.
    pub fn data_version(&self) -> Result<i64> {
        self.db
            .query_row("PRAGMA data_version", [], |r| r.get(0))
            .map_err(db_err("data version"))
    }

    pub fn path(&self) -> std::path::PathBuf {
        self.home.registry_path()
    }

    pub fn key_path(&self) -> &Path {
        self.keys.path()
    }
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
    )
}

fn not_found(reference: &str) -> Error {
    Error::NotFound(format!("source not found: {reference}"))
}

fn name_taken(name: &str) -> Error {
    Error::Conflict(format!("a source named \"{name}\" already exists"))
}

fn row_to_record(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<SourceRecord>> {
    let source_type: String = r.get(2)?;
    let connection: String = r.get(3)?;
    let tags: String = r.get(6)?;
    let status: String = r.get(9)?;
    let id: String = r.get(0)?;
    let name: String = r.get(1)?;
    let has_password: bool = r.get(4)?;
    let description: String = r.get(5)?;
    let registered_by: String = r.get(7)?;
    let registered_at: String = r.get(8)?;
    Ok((|| {
        let source_type = connector::find_kind(&source_type).map_err(|_| {
            Error::Internal(format!(
                "registry: source \"{name}\" has type \"{source_type}\", which this build of tdb does not know; upgrade tdb"
            ))
        })?;
        Ok(SourceRecord {
            connection: Connection::from_stored_json(source_type, &connection)?,
            tags: serde_json::from_str(&tags).unwrap_or_default(),
            status: Status::parse(&status).unwrap_or(Status::Active),
            id,
            name,
            has_password,
            description,
            registered_by,
            registered_at,
        })
    })())
}
