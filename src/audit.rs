//! The append-only, hash-chained audit log (CONTRACT.md "Audit log").
//!
//! One JSON object per line, keys in a fixed order:
//!
//! ```text
//! {"seq":42,"event":"query","source_id":"…","source_name":"orders","sql":"SELECT …",
//!  "executed_sql":"SELECT … LIMIT 101","rows_returned":2,"truncated":false,"duration_ms":12,
//!  "actor":"alice@bastion-1","ssh_client":"10.0.0.5","session":"…",
//!  "timestamp":"2026-05-22T09:15:00.123456Z","prev_sha256":"…"}
//! ```
//!
//! `seq` counts from 1 without gaps; `prev_sha256` is the lowercase hex SHA-256 of the
//! previous line's bytes (without its newline), 64 zeros on the first line. A line is
//! written by one `write` under an exclusive lock on the log and synced before the lock is
//! released, so any number of tdb processes can share one log (two terminals on one
//! bastion) and every line is whole.
//!
//! No secret can reach the log: an [`Event`] carries names, ids, SQL text and messages, never
//! a connection description, and connectors keep passwords out of their error messages.
//!
//! # A query's lines
//!
//! A query that passed the guard is written down before its source sees it: a
//! `query_started` line with a fresh `query_id`, and, when it is over, exactly one line with
//! the same id: `query` (rows came back), `query_failed` (it failed, timed out, was
//! cancelled, or tdb stopped first) or `query_rejected` (the source's own policy refused it
//! unrun). If the first line cannot be written the query does not run at all (exit 15). SQL
//! the guard refuses gets a `query_rejected` line without an id; SQL too long to run keeps
//! only its first characters there, with its length and SHA-256.
//!
//! Only a regular file is ever written: a device, a FIFO or a folder at the log's path is
//! refused before anything is opened for writing, and the mode of a file tdb did not create
//! is never changed (tdb.log warns when others may read it).
//!
//! # The head file
//!
//! A chain alone cannot notice a change to its last line, or the last lines being removed:
//! nothing after them records their hash. So every write also stores the newest line's
//! `seq` and hash in `<log>.head` (e.g. `tdb_audit.jsonl.head`, mode 0600), and
//! [`AuditLog::verify`] checks the end of the log against it. The log's line format is
//! untouched by this. Moving or rotating the log means moving its head file with it. A log
//! without a head file (copied alone, or written by something else in the same format) is
//! checked as a chain only.
//!
//! # Damage and what writers do about it
//!
//! Writers never fail because of what is already in the log; they keep the evidence and let
//! [`AuditLog::verify`] name it:
//!
//! - A last line without its newline is the remains of an interrupted write (a crash or a
//!   full disk in the middle of `write`). The next writer ends it with a newline, so it
//!   stays in the file as a line of its own, and writes its line after it.
//! - A writer continues the chain from the last line tdb completed: the head, when the last
//!   line that parses (walking back past damaged lines) is the one the head describes, or is
//!   newer (tdb stopped between writing a line and its head); otherwise (the last line was
//!   changed or lines were removed) it chains to what the head recorded, so `verify` keeps
//!   reporting the change instead of the new line sealing it. With no usable head it chains
//!   to the last line that parses (`seq` + 1, the hash of that line).
//!
//! The chain detects accidental damage and edits made by hand; someone able to rewrite both
//! files can rebuild the whole chain, which only a copy kept elsewhere can reveal.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::core::source::SourceRecord;
use crate::core::{Error, Result};
use crate::identity;

/// `prev_sha256` of the first line.
pub const GENESIS_SHA256: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// No line tdb writes comes near this (SQL is at most 10,000 characters); a longer line in
/// the log is damage and is hashed without being held in memory.
const MAX_LINE_BYTES: u64 = 16 << 20;

/// Reads go through the file in blocks of this size.
const CHUNK: usize = 64 << 10;

/// How much of a query's SQL a line keeps when the SQL is too long to be run: enough to
/// recognise it, little enough that the line stays small whatever was sent.
pub const SQL_PREFIX_CHARS: usize = 1000;

/// What identifies SQL too long to be kept whole in a line: its length and hash, and
/// whether tdb stopped reading it (stdin that went on past what tdb reads), in which case
/// the length and hash cover only what was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlDigest {
    pub chars: u64,
    pub bytes: u64,
    pub sha256: String,
    /// The input went on after `bytes`; nothing beyond them was read.
    pub cut: bool,
}

impl SqlDigest {
    /// The digest of a whole text.
    pub fn of(text: &str) -> SqlDigest {
        SqlDigest {
            chars: text.chars().count() as u64,
            bytes: text.len() as u64,
            sha256: sha256_hex(text.as_bytes()),
            cut: false,
        }
    }
}

/// The first [`SQL_PREFIX_CHARS`] characters of `sql`.
pub fn sql_prefix(sql: &str) -> String {
    sql.chars().take(SQL_PREFIX_CHARS).collect()
}

/// Something worth a line in the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A query about to be sent to its source. It is on disk before the source sees the
    /// statement; the `query`, `query_failed` or `query_rejected` line that closes it repeats
    /// its `query_id`.
    QueryStarted {
        query_id: String,
        source_id: String,
        source_name: String,
        sql: String,
        executed_sql: String,
    },
    /// A query that ran and returned rows (every success: the seed's rule).
    Query {
        query_id: String,
        source_id: String,
        source_name: String,
        /// What the user wrote.
        sql: String,
        /// What ran after the guard rewrote it (`data` alias, LIMIT).
        executed_sql: String,
        rows_returned: u64,
        truncated: bool,
        duration_ms: u64,
        /// For every row written out (`tdb query --all`, an export of the whole result): the
        /// bytes written.
        bytes: Option<u64>,
    },
    /// More rows of a query read after its `query` line (the results pane fetching the next
    /// page from the statement it holds open); repeats the query's `query_id`.
    QueryFetched {
        query_id: String,
        source_id: String,
        source_name: String,
        rows_fetched: u64,
        /// Rows of the query read so far, this batch included.
        rows_total: u64,
        /// Whether the statement has rows after these.
        more: bool,
        /// Since the query started.
        elapsed_ms: u64,
    },
    /// SQL that was refused; nothing ran. `query_id` is set when the refusal came from the
    /// source after a `query_started` (a function the server resolved and the policy denies).
    QueryRejected {
        query_id: Option<String>,
        source_id: String,
        source_name: String,
        /// The SQL, or only its first [`SQL_PREFIX_CHARS`] characters when `digest` is set.
        sql: String,
        /// Set for SQL too long to keep whole.
        digest: Option<SqlDigest>,
        /// The refusal message the user saw.
        detail: String,
    },
    /// A query that reached the source and failed, timed out or was cancelled.
    QueryFailed {
        query_id: String,
        source_id: String,
        source_name: String,
        sql: String,
        executed_sql: String,
        /// The error message the user saw.
        detail: String,
        duration_ms: u64,
    },
    SourceRegistered {
        source_id: String,
        source_name: String,
        source_type: String,
    },
    /// A source was edited or given a new password. `changed` names the fields (`name`,
    /// `tags`, `connection.port`, `connection.password`, …); the values maps hold their old
    /// and new values except for secrets, which never have a value here.
    SourceUpdated {
        source_id: String,
        /// The name after the change (a rename shows the old one in `previous_values`).
        source_name: String,
        changed: Vec<String>,
        previous_values: Map<String, Value>,
        new_values: Map<String, Value>,
    },
    SourceDeleted {
        source_id: String,
        source_name: String,
        /// Whether the record was purged too, not only deactivated.
        purged: bool,
    },
}

impl Event {
    /// A source was registered (from the command line or the terminal UI).
    pub fn source_registered(rec: &SourceRecord) -> Event {
        Event::SourceRegistered {
            source_id: rec.id.clone(),
            source_name: rec.name.clone(),
            source_type: rec.source_type().to_string(),
        }
    }

    /// A source changed from `before` to `after`. The password cannot be compared from the
    /// records (they only say one is stored), so the caller says whether it changed.
    pub fn source_updated(
        before: &SourceRecord,
        after: &SourceRecord,
        password_changed: bool,
    ) -> Event {
        let old = public_fields(before);
        let new = public_fields(after);
        let mut changed = Vec::new();
        let mut previous_values = Map::new();
        let mut new_values = Map::new();
        let keys = new
            .keys()
            .chain(old.keys().filter(|k| !new.contains_key(*k)));
        for key in keys {
            let (a, b) = (old.get(key), new.get(key));
            if a == b {
                continue;
            }
            changed.push(key.clone());
            previous_values.insert(key.clone(), a.cloned().unwrap_or(Value::Null));
            new_values.insert(key.clone(), b.cloned().unwrap_or(Value::Null));
        }
        if password_changed {
            changed.push("connection.password".into());
        }
        Event::SourceUpdated {
            source_id: after.id.clone(),
            source_name: after.name.clone(),
            changed,
            previous_values,
            new_values,
        }
    }

    /// A source was deleted; `purged` says whether its record went too.
    pub fn source_deleted(rec: &SourceRecord, purged: bool) -> Event {
        Event::SourceDeleted {
            source_id: rec.id.clone(),
            source_name: rec.name.clone(),
            purged,
        }
    }

    /// The `event` value of the line.
    pub fn name(&self) -> &'static str {
        match self {
            Event::QueryStarted { .. } => "query_started",
            Event::Query { .. } => "query",
            Event::QueryFetched { .. } => "query_fetched",
            Event::QueryRejected { .. } => "query_rejected",
            Event::QueryFailed { .. } => "query_failed",
            Event::SourceRegistered { .. } => "source_registered",
            Event::SourceUpdated { .. } => "source_updated",
            Event::SourceDeleted { .. } => "source_deleted",
        }
    }

    /// Appends the event's own keys in CONTRACT.md's order; `query_id` comes first, so the
    /// lines of one query read alike.
    fn put_fields(&self, m: &mut Map<String, Value>) {
        match self {
            Event::QueryStarted {
                query_id,
                source_id,
                source_name,
                sql,
                executed_sql,
            } => {
                put_query_head(m, Some(query_id), source_id, source_name, sql);
                put(m, "executed_sql", executed_sql.as_str().into());
            }
            Event::Query {
                query_id,
                source_id,
                source_name,
                sql,
                executed_sql,
                rows_returned,
                truncated,
                duration_ms,
                bytes,
            } => {
                put_query_head(m, Some(query_id), source_id, source_name, sql);
                put(m, "executed_sql", executed_sql.as_str().into());
                put(m, "rows_returned", (*rows_returned).into());
                if let Some(b) = bytes {
                    put(m, "bytes", (*b).into());
                }
                put(m, "truncated", (*truncated).into());
                put(m, "duration_ms", (*duration_ms).into());
            }
            Event::QueryFetched {
                query_id,
                source_id,
                source_name,
                rows_fetched,
                rows_total,
                more,
                elapsed_ms,
            } => {
                put(m, "query_id", query_id.as_str().into());
                put(m, "source_id", source_id.as_str().into());
                put(m, "source_name", source_name.as_str().into());
                put(m, "rows_fetched", (*rows_fetched).into());
                put(m, "rows_total", (*rows_total).into());
                put(m, "more", (*more).into());
                put(m, "elapsed_ms", (*elapsed_ms).into());
            }
            Event::QueryRejected {
                query_id,
                source_id,
                source_name,
                sql,
                digest,
                detail,
            } => {
                put_query_head(m, query_id.as_ref(), source_id, source_name, sql);
                if let Some(d) = digest {
                    put(m, "sql_chars", d.chars.into());
                    put(m, "sql_bytes", d.bytes.into());
                    put(m, "sql_sha256", d.sha256.as_str().into());
                    put(m, "sql_cut", d.cut.into());
                }
                put(m, "detail", detail.as_str().into());
            }
            Event::QueryFailed {
                query_id,
                source_id,
                source_name,
                sql,
                executed_sql,
                detail,
                duration_ms,
            } => {
                put_query_head(m, Some(query_id), source_id, source_name, sql);
                put(m, "executed_sql", executed_sql.as_str().into());
                put(m, "detail", detail.as_str().into());
                put(m, "duration_ms", (*duration_ms).into());
            }
            Event::SourceRegistered {
                source_id,
                source_name,
                source_type,
            } => {
                put(m, "source_id", source_id.as_str().into());
                put(m, "source_name", source_name.as_str().into());
                put(m, "source_type", source_type.as_str().into());
            }
            Event::SourceUpdated {
                source_id,
                source_name,
                changed,
                previous_values,
                new_values,
            } => {
                put(m, "source_id", source_id.as_str().into());
                put(m, "source_name", source_name.as_str().into());
                put(m, "changed", changed.clone().into());
                put(m, "previous_values", Value::Object(previous_values.clone()));
                put(m, "new_values", Value::Object(new_values.clone()));
            }
            Event::SourceDeleted {
                source_id,
                source_name,
                purged,
            } => {
                put(m, "source_id", source_id.as_str().into());
                put(m, "source_name", source_name.as_str().into());
                put(m, "purged", (*purged).into());
            }
        }
    }
}

/// Adds one key to an audit line (keys keep their insertion order).
fn put(m: &mut Map<String, Value>, key: &str, value: Value) {
    m.insert(key.to_string(), value);
}

/// The keys every query line starts with, in CONTRACT.md's order.
fn put_query_head(
    m: &mut Map<String, Value>,
    query_id: Option<&String>,
    source_id: &str,
    source_name: &str,
    sql: &str,
) {
    if let Some(id) = query_id {
        put(m, "query_id", id.as_str().into());
    }
    put(m, "source_id", source_id.into());
    put(m, "source_name", source_name.into());
    put(m, "sql", sql.into());
}

/// A record's fields as `source show --json` prints them, flattened (`connection.port`),
/// without the masked password: what a `source_updated` line may show.
fn public_fields(rec: &SourceRecord) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("name".into(), rec.name.as_str().into());
    m.insert("description".into(), rec.description.as_str().into());
    m.insert("tags".into(), rec.tags.clone().into());
    if let Value::Object(conn) = rec.connection.to_public_json(false) {
        for (k, v) in conn {
            if k != "password" {
                m.insert(format!("connection.{k}"), v);
            }
        }
    }
    m
}

/// The result of [`AuditLog::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// Every line parses, `seq` runs 1..=lines, every link and the head match.
    Intact { lines: usize },
    /// The first place where the log is not what tdb wrote. `line` is 1-based; it is one
    /// past the last line when lines were removed from the end. `reason` reads as the
    /// continuation of "line N: ".
    Broken { line: usize, reason: String },
}

/// Who and when, the part of a line that does not come from the event.
#[derive(Debug, Clone)]
struct Stamp {
    actor: String,
    ssh_client: Option<String>,
    session: String,
    timestamp: String,
}

impl Stamp {
    fn now() -> Self {
        Stamp {
            actor: identity::actor(),
            ssh_client: identity::ssh_client(),
            session: identity::session().to_string(),
            timestamp: chrono::Utc::now()
                .format("%Y-%m-%dT%H:%M:%S%.6fZ")
                .to_string(),
        }
    }
}

/// Who asked through `tdb serve`: the API key's prefix (never the key) and the client's
/// address. Lines written for a caller carry both, after the event's own fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub api_key: String,
    pub client: String,
}

/// The line for `event`, without its newline.
fn render_line(
    seq: u64,
    event: &Event,
    caller: Option<&Caller>,
    stamp: &Stamp,
    prev_sha256: &str,
) -> Result<String> {
    let mut m = Map::new();
    m.insert("seq".into(), seq.into());
    m.insert("event".into(), event.name().into());
    event.put_fields(&mut m);
    if let Some(c) = caller {
        m.insert("api_key".into(), c.api_key.as_str().into());
        m.insert("client".into(), c.client.as_str().into());
    }
    m.insert("actor".into(), stamp.actor.as_str().into());
    m.insert("ssh_client".into(), stamp.ssh_client.clone().into());
    m.insert("session".into(), stamp.session.as_str().into());
    m.insert("timestamp".into(), stamp.timestamp.as_str().into());
    m.insert("prev_sha256".into(), prev_sha256.into());
    serde_json::to_string(&Value::Object(m))
        .map_err(|e| Error::internal("cannot encode an audit line", e))
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The append-only audit log at one path.
#[derive(Debug, Clone)]
pub struct AuditLog {
    path: PathBuf,
    caller: Option<std::sync::Arc<Caller>>,
}

impl AuditLog {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        AuditLog {
            path: path.into(),
            caller: None,
        }
    }

    /// The same log, writing lines that name `caller`.
    pub fn for_caller(&self, caller: Caller) -> Self {
        AuditLog {
            path: self.path.clone(),
            caller: Some(std::sync::Arc::new(caller)),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `<log>.head`: the newest line's seq and hash (see the module doc).
    pub fn head_path(&self) -> PathBuf {
        let mut p = self.path.as_os_str().to_owned();
        p.push(".head");
        PathBuf::from(p)
    }

    /// Appends one line for `event`; returns its seq. Creates the log (0600) if needed; the
    /// folder must exist. Any failure is [`Error::AuditUnwritable`]: whoever asked must not
    /// go on as if the event had been recorded.
    pub fn record(&self, event: &Event) -> Result<u64> {
        // Who is asking is looked up once per process (getpwuid may ask nscd and read
        // /etc/passwd): before the lock, so other tdb processes never wait for it.
        identity::actor();
        let file = self.open_for_append()?;
        file.lock().map_err(|e| self.write_err("lock", e))?;
        let seq = self.append_locked(&file, event);
        // Closing would release the lock as well; unlocking here keeps the order explicit.
        let _ = file.unlock();
        seq
    }

    /// Opens the log for appending, refusing anything but a regular file (a device such as
    /// /dev/null or /dev/full, a FIFO, a folder) before a byte is written, and never
    /// changing the mode of a file tdb did not create.
    fn open_for_append(&self) -> Result<File> {
        let mut opts = OpenOptions::new();
        opts.read(true).append(true).create(true).mode(0o600);
        let file = open_regular(&self.path, &opts).map_err(|e| self.write_err("open", e))?;
        warn_if_open_to_others(&self.path, &file);
        Ok(file)
    }

    fn append_locked(&self, file: &File, event: &Event) -> Result<u64> {
        let len = file
            .metadata()
            .map_err(|e| self.write_err("read", e))?
            .len();
        let tip = read_tip(file, len).map_err(|e| self.write_err("read", e))?;
        let head_path = self.head_path();
        let head = read_head(&head_path).unwrap_or_else(|e| HeadState::Damaged(e.to_string()));
        let (prev_seq, prev_sha256) = self.chain_from(&tip, head);
        let seq = prev_seq + 1;
        // The timestamp is taken under the lock, so timestamps never run backwards in seq order.
        let line = render_line(
            seq,
            event,
            self.caller.as_deref(),
            &Stamp::now(),
            &prev_sha256,
        )?;
        if line.len() as u64 > MAX_LINE_BYTES {
            return Err(Error::Internal(format!(
                "audit event too large for {} ({} bytes)",
                self.path.display(),
                line.len()
            )));
        }
        let mut buf = Vec::with_capacity(line.len() + 2);
        if !tip.ends_with_newline {
            buf.push(b'\n');
        }
        buf.extend_from_slice(line.as_bytes());
        buf.push(b'\n');
        let mut writer = file;
        writer
            .write_all(&buf)
            .map_err(|e| self.write_err("write", e))?;
        file.sync_data().map_err(|e| self.write_err("sync", e))?;
        let head = Head {
            seq,
            sha256: sha256_hex(line.as_bytes()),
        };
        // The line is written and synced: that is the record. A head that could not be
        // written makes `verify` say so until the next write succeeds.
        if let Err(e) = write_head(&head_path, &head) {
            tracing::warn!(path = %head_path.display(), error = %e, "cannot update the audit head");
        }
        Ok(seq)
    }

    /// The (seq, hash) the next line chains to: the rule in the module doc.
    fn chain_from(&self, tip: &Tip, head: HeadState) -> (u64, String) {
        let head = match head {
            HeadState::Present(h) => h,
            HeadState::Damaged(why) => {
                tracing::warn!(path = %self.head_path().display(), %why, "audit head damaged; chaining to the log's last line");
                return tip.last_valid.clone().unwrap_or_else(genesis);
            }
            HeadState::Missing => return tip.last_valid.clone().unwrap_or_else(genesis),
        };
        match &tip.last_valid {
            Some((seq, sha)) if *seq > head.seq || (*seq == head.seq && *sha == head.sha256) => {
                (*seq, sha.clone())
            }
            _ => {
                tracing::warn!(
                    path = %self.path.display(),
                    head_seq = head.seq,
                    "the audit log's last line is not the one tdb wrote last; chaining to the head so `tdb audit verify` reports it"
                );
                (head.seq, head.sha256)
            }
        }
    }

    /// The last `n` lines (all with `None`), oldest first, read from the end so a long log
    /// costs only what is returned. A line that is not a JSON object (damage) comes back as a
    /// JSON string holding its text, so a damaged log can still be read; `verify` says why.
    pub fn tail(&self, n: Option<usize>) -> Result<Vec<Value>> {
        let (file, _) = self.snapshot()?;
        let Some((file, len)) = file else {
            return Ok(Vec::new());
        };
        let read = || -> io::Result<Vec<Value>> {
            match n {
                None => Forward::new(file, len)
                    .map(|l| l.map(RawLine::into_value))
                    .collect(),
                Some(n) => {
                    let mut lines = Backward::new(&file, len)?
                        .take(n)
                        .map(|l| l.map(|(_, l)| l.into_value()))
                        .collect::<io::Result<Vec<_>>>()?;
                    lines.reverse();
                    Ok(lines)
                }
            }
        };
        read().map_err(|e| self.err("read", e))
    }

    /// Checks every line and the head. An empty or missing log (with no head) is intact.
    pub fn verify(&self) -> Result<Verification> {
        let (file, head) = self.snapshot()?;
        let head_name = self.head_path().display().to_string();
        let mut lines = match file {
            Some((file, len)) => Forward::new(file, len),
            None => Forward::empty(),
        }
        .peekable();
        let broken = |line: usize, reason: String| Ok(Verification::Broken { line, reason });

        let mut n = 0usize;
        let mut prev_sha256 = GENESIS_SHA256.to_string();
        while let Some(line) = lines.next() {
            let line = line.map_err(|e| self.err("read", e))?;
            n += 1;
            let obj = match line.object() {
                Ok(obj) => obj,
                Err(why) => return broken(n, why),
            };
            let Some(seq) = obj.get("seq").and_then(Value::as_u64) else {
                return broken(n, "no integer \"seq\"".into());
            };
            if seq != n as u64 {
                return broken(n, seq_reason(seq, n as u64));
            }
            let Some(prev) = obj.get("prev_sha256").and_then(Value::as_str) else {
                return broken(n, "no \"prev_sha256\"".into());
            };
            if prev != prev_sha256 {
                // Either line n-1 changed, or this line did (or was put here). If the line
                // after this one (or the head) still vouches for this line, it is line n-1.
                let vouched = match lines.peek() {
                    Some(Ok(next)) => next.prev_sha256().as_deref() == Some(&line.sha256),
                    Some(Err(_)) => false,
                    None => matches!(&head, HeadState::Present(h)
                        if h.seq == seq && h.sha256 == line.sha256),
                };
                return if vouched && n > 1 {
                    broken(
                        n - 1,
                        format!(
                            "its SHA-256 does not match the prev_sha256 recorded by line {n}: \
                             this line was changed"
                        ),
                    )
                } else if n == 1 {
                    broken(
                        1,
                        "its prev_sha256 is not the 64 zeros that start the chain: \
                         it was changed, or lines before it were removed"
                            .into(),
                    )
                } else {
                    broken(
                        n,
                        format!(
                            "its prev_sha256 does not match line {}: this line was changed \
                             or inserted",
                            n - 1
                        ),
                    )
                };
            }
            prev_sha256 = line.sha256;
        }

        let last = n as u64;
        match head {
            HeadState::Missing => Ok(Verification::Intact { lines: n }),
            HeadState::Damaged(why) => broken(
                n.max(1),
                format!(
                    "{head_name} is damaged ({why}), so the end of the log cannot be checked; \
                     the next audited event rewrites it"
                ),
            ),
            HeadState::Present(h) if h.seq > last => broken(
                n + 1,
                format!(
                    "the log ends at seq {last} but {head_name} records seq {}: the last {} \
                     line(s) were removed",
                    h.seq,
                    h.seq - last
                ),
            ),
            HeadState::Present(h) if h.seq < last => broken(
                h.seq as usize + 1,
                format!(
                    "this line and those after it are not covered by {head_name} (seq {}): \
                     tdb stopped between writing a line and its head, or something other \
                     than tdb appended to the log; the next audited event updates the head",
                    h.seq
                ),
            ),
            HeadState::Present(h) if h.sha256 != prev_sha256 => broken(
                n,
                format!(
                    "its SHA-256 does not match the one {head_name} records for seq {last}: \
                     this line was changed"
                ),
            ),
            HeadState::Present(_) => Ok(Verification::Intact { lines: n }),
        }
    }

    /// The log's length and head as of one moment (under a shared lock, so no write is half
    /// done). Lines are only ever appended, so reading up to that length afterwards, without
    /// the lock, sees a consistent log while writers carry on.
    fn snapshot(&self) -> Result<(Option<(File, u64)>, HeadState)> {
        // A head that cannot be read is reported by `verify` like a damaged one; it must not
        // stop `tail` from reading the log.
        let head =
            || read_head(&self.head_path()).unwrap_or_else(|e| HeadState::Damaged(e.to_string()));
        let file = match open_regular(&self.path, OpenOptions::new().read(true)) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((None, head())),
            Err(e) => return Err(self.err("open", e)),
        };
        file.lock_shared().map_err(|e| self.err("lock", e))?;
        let len = file.metadata().map(|m| m.len());
        let head = head();
        let _ = file.unlock();
        let len = len.map_err(|e| self.err("read", e))?;
        Ok((Some((file, len)), head))
    }

    fn err(&self, what: &str, e: impl std::fmt::Display) -> Error {
        Error::Internal(format!(
            "cannot {what} the audit log {}: {e}",
            self.path.display()
        ))
    }

    fn write_err(&self, what: &str, e: impl std::fmt::Display) -> Error {
        Error::AuditUnwritable(format!(
            "cannot {what} the audit log {}: {e}; fix it or choose another file with \
             --audit-log FILE or $TDB_AUDIT_LOG",
            self.path.display()
        ))
    }
}

/// Opens `path` only if it is a regular file. The path is looked at first, so a FIFO or a
/// device is never opened at all; the open itself does not block (O_NONBLOCK, which is
/// meaningless for a regular file) and does not take a terminal as the controlling one
/// (O_NOCTTY), in case the path was swapped in between; and the opened descriptor is
/// checked again, which is what decides.
fn open_regular(path: &Path, opts: &OpenOptions) -> io::Result<File> {
    match fs::metadata(path) {
        Ok(m) if !m.file_type().is_file() => return Err(not_regular(&m)),
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut opts = opts.clone();
    opts.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    let file = opts.open(path)?;
    let meta = file.metadata()?;
    if !meta.file_type().is_file() {
        return Err(not_regular(&meta));
    }
    Ok(file)
}

fn not_regular(meta: &fs::Metadata) -> io::Error {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    let kind = if t.is_dir() {
        "a folder"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    };
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("it is {kind}, not a regular file"),
    )
}

/// tdb creates its files 0600 but never changes the mode of an existing one (it may be
/// shared on purpose, or not be tdb's at all); a log others can read is worth a warning.
fn warn_if_open_to_others(path: &Path, file: &File) {
    if let Ok(m) = file.metadata()
        && m.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(
            path = %path.display(),
            mode = format!("{:o}", m.permissions().mode() & 0o777),
            "the audit file can be read or written by other users; tdb leaves its mode alone (chmod 600 it to make it private)"
        );
    }
}

fn seq_reason(seq: u64, expected: u64) -> String {
    if seq > expected {
        format!(
            "seq is {seq} where {expected} was expected: {} line(s) before it are missing, \
             or lines were moved",
            seq - expected
        )
    } else {
        format!(
            "seq is {seq} where {expected} was expected: a line was repeated, inserted or \
             moved here"
        )
    }
}

fn genesis() -> (u64, String) {
    (0, GENESIS_SHA256.to_string())
}

/// The newest line tdb completed, as recorded in the head file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Head {
    seq: u64,
    sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HeadState {
    Missing,
    Damaged(String),
    Present(Head),
}

fn read_head(path: &Path) -> io::Result<HeadState> {
    let mut bytes = Vec::new();
    match open_regular(path, OpenOptions::new().read(true)) {
        // A head is one short line; anything longer is damage and need not be read whole.
        Ok(f) => f.take(4096).read_to_end(&mut bytes)?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(HeadState::Missing),
        Err(e) => return Err(e),
    };
    let parsed = serde_json::from_slice::<Value>(&bytes).ok();
    let seq = parsed
        .as_ref()
        .and_then(|v| v.get("seq"))
        .and_then(Value::as_u64)
        .filter(|&s| s > 0);
    let sha = parsed
        .as_ref()
        .and_then(|v| v.get("sha256"))
        .and_then(Value::as_str)
        .filter(|s| s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
    Ok(match (seq, sha) {
        (Some(seq), Some(sha)) => HeadState::Present(Head {
            seq,
            sha256: sha.to_string(),
        }),
        _ => HeadState::Damaged("not a {\"seq\",\"sha256\"} record".into()),
    })
}

/// Rewrites the head in place (it only grows, and `set_len` trims if it ever shrank). Not
/// synced: after a power cut it may lag the log, which writers handle (they chain from a
/// newer last line) and `verify` reports until the next write.
fn write_head(path: &Path, head: &Head) -> io::Result<()> {
    let mut opts = OpenOptions::new();
    opts.write(true).create(true).truncate(false).mode(0o600);
    let file = open_regular(path, &opts)?;
    warn_if_open_to_others(path, &file);
    let text = format!("{{\"seq\":{},\"sha256\":\"{}\"}}\n", head.seq, head.sha256);
    file.write_all_at(text.as_bytes(), 0)?;
    file.set_len(text.len() as u64)
}

/// What a writer needs to know about the end of the log.
struct Tip {
    /// False when the last line was cut short (no newline): the next write starts with one.
    ends_with_newline: bool,
    /// (seq, hash) of the last line that parses as an object with a `seq`.
    last_valid: Option<(u64, String)>,
}

fn read_tip(file: &File, len: u64) -> io::Result<Tip> {
    if len == 0 {
        return Ok(Tip {
            ends_with_newline: true,
            last_valid: None,
        });
    }
    let mut last = [0u8];
    file.read_exact_at(&mut last, len - 1)?;
    let ends_with_newline = last[0] == b'\n';
    for line in Backward::new(file, len)? {
        let (_, line) = line?;
        if let Some(seq) = line
            .object()
            .ok()
            .and_then(|o| o.get("seq").and_then(Value::as_u64))
        {
            return Ok(Tip {
                ends_with_newline,
                last_valid: Some((seq, line.sha256)),
            });
        }
    }
    Ok(Tip {
        ends_with_newline,
        last_valid: None,
    })
}

/// One line read back: its hash always, its bytes unless it is too long to be tdb's.
struct RawLine {
    sha256: String,
    bytes: Option<Vec<u8>>,
    len: u64,
}

impl RawLine {
    fn object(&self) -> std::result::Result<Map<String, Value>, String> {
        let Some(bytes) = &self.bytes else {
            return Err(format!(
                "{} bytes long, more than any line tdb writes",
                self.len
            ));
        };
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(m)) => Ok(m),
            Ok(_) => Err("not a JSON object".into()),
            Err(_) if bytes.is_empty() => Err("an empty line".into()),
            Err(_) => Err(
                "not valid JSON (a damaged line, or one cut short by an interrupted write)".into(),
            ),
        }
    }

    fn prev_sha256(&self) -> Option<String> {
        self.object()
            .ok()?
            .get("prev_sha256")?
            .as_str()
            .map(str::to_string)
    }

    fn into_value(self) -> Value {
        match self.object() {
            Ok(m) => Value::Object(m),
            Err(_) => match self.bytes {
                Some(b) => Value::String(String::from_utf8_lossy(&b).into_owned()),
                None => Value::String(format!("<{} bytes>", self.len)),
            },
        }
    }
}

/// Reads the bytes `start..end` of `file` as one line.
fn read_line(file: &File, start: u64, end: u64) -> io::Result<RawLine> {
    let len = end - start;
    if len <= MAX_LINE_BYTES {
        let mut bytes = vec![0u8; len as usize];
        file.read_exact_at(&mut bytes, start)?;
        return Ok(RawLine {
            sha256: sha256_hex(&bytes),
            bytes: Some(bytes),
            len,
        });
    }
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut pos = start;
    while pos < end {
        let n = ((end - pos) as usize).min(CHUNK);
        file.read_exact_at(&mut buf[..n], pos)?;
        hasher.update(&buf[..n]);
        pos += n as u64;
    }
    Ok(RawLine {
        sha256: hex::encode(hasher.finalize()),
        bytes: None,
        len,
    })
}

/// Lines of the first `len` bytes of a file, newest first, each with its start offset.
struct Backward<'a> {
    file: &'a File,
    /// Where the next line to return ends (its newline, or the end of the file).
    end: Option<u64>,
    buf: Vec<u8>,
}

impl<'a> Backward<'a> {
    fn new(file: &'a File, len: u64) -> io::Result<Self> {
        let end = if len == 0 {
            None
        } else {
            let mut last = [0u8];
            file.read_exact_at(&mut last, len - 1)?;
            Some(if last[0] == b'\n' { len - 1 } else { len })
        };
        Ok(Backward {
            file,
            end,
            buf: Vec::new(),
        })
    }

    /// The offset just after the newline before `end`, or 0.
    fn line_start(&mut self, end: u64) -> io::Result<u64> {
        let mut hi = end;
        while hi > 0 {
            let lo = hi.saturating_sub(CHUNK as u64);
            self.buf.resize((hi - lo) as usize, 0);
            self.file.read_exact_at(&mut self.buf, lo)?;
            if let Some(i) = self.buf.iter().rposition(|&b| b == b'\n') {
                return Ok(lo + i as u64 + 1);
            }
            hi = lo;
        }
        Ok(0)
    }
}

impl Iterator for Backward<'_> {
    type Item = io::Result<(u64, RawLine)>;

    fn next(&mut self) -> Option<Self::Item> {
        let end = self.end.take()?;
        let line = self
            .line_start(end)
            .and_then(|start| Ok((start, read_line(self.file, start, end)?)));
        if let Ok((start, _)) = &line {
            self.end = start.checked_sub(1);
        }
        Some(line)
    }
}

/// Lines of the first `len` bytes of a file, oldest first, streamed: memory stays small
/// however long the log is.
struct Forward {
    reader: Option<BufReader<io::Take<File>>>,
}

impl Forward {
    fn new(file: File, len: u64) -> Self {
        Forward {
            reader: Some(BufReader::with_capacity(CHUNK, file.take(len))),
        }
    }

    fn empty() -> Self {
        Forward { reader: None }
    }
}

impl Iterator for Forward {
    type Item = io::Result<RawLine>;

    fn next(&mut self) -> Option<Self::Item> {
        let reader = self.reader.as_mut()?;
        let mut hasher = Sha256::new();
        let mut bytes = Vec::new();
        let mut len = 0u64;
        let mut started = false;
        loop {
            let (used, found) = {
                let buf = match reader.fill_buf() {
                    Ok(buf) => buf,
                    Err(e) => {
                        self.reader = None;
                        return Some(Err(e));
                    }
                };
                if buf.is_empty() {
                    self.reader = None;
                    if !started {
                        return None;
                    }
                    break;
                }
                started = true;
                let (part, used, found) = match buf.iter().position(|&b| b == b'\n') {
                    Some(i) => (&buf[..i], i + 1, true),
                    None => (buf, buf.len(), false),
                };
                hasher.update(part);
                len += part.len() as u64;
                if len <= MAX_LINE_BYTES {
                    bytes.extend_from_slice(part);
                } else {
                    bytes = Vec::new();
                }
                (used, found)
            };
            reader.consume(used);
            if found {
                break;
            }
        }
        Some(Ok(RawLine {
            sha256: hex::encode(hasher.finalize()),
            bytes: (len <= MAX_LINE_BYTES).then_some(bytes),
            len,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed_stamp(ssh: Option<&str>) -> Stamp {
        Stamp {
            actor: "alice@bastion-1".into(),
            ssh_client: ssh.map(str::to_string),
            session: "6f1c".into(),
            timestamp: "2026-05-22T09:15:00.123456Z".into(),
        }
    }

    fn query(rows: u64) -> Event {
        Event::Query {
            query_id: "9b1e".into(),
            source_id: "3f0c".into(),
            source_name: "orders".into(),
            sql: "SELECT * FROM data".into(),
            executed_sql: "SELECT * FROM \"public\".\"orders\" LIMIT 101".into(),
            rows_returned: rows,
            truncated: false,
            duration_ms: 12,
            bytes: None,
        }
    }

    fn keys(line: &str) -> Vec<String> {
        let v: Value = serde_json::from_str(line).unwrap();
        v.as_object().unwrap().keys().cloned().collect()
    }

    #[test]
    fn query_line_is_exactly_the_contract_shape() {
        let line = render_line(42, &query(2), None, &fixed_stamp(Some("10.0.0.5")), "ab").unwrap();
        assert_eq!(
            line,
            r#"{"seq":42,"event":"query","query_id":"9b1e","source_id":"3f0c","source_name":"orders","sql":"SELECT * FROM data","executed_sql":"SELECT * FROM \"public\".\"orders\" LIMIT 101","rows_returned":2,"truncated":false,"duration_ms":12,"actor":"alice@bastion-1","ssh_client":"10.0.0.5","session":"6f1c","timestamp":"2026-05-22T09:15:00.123456Z","prev_sha256":"ab"}"#
        );
    }

    #[test]
    fn every_event_has_its_keys_in_order() {
        let tail = ["actor", "ssh_client", "session", "timestamp", "prev_sha256"];
        let cases: Vec<(Event, Vec<&str>)> = vec![
            (
                Event::QueryStarted {
                    query_id: "q".into(),
                    source_id: "i".into(),
                    source_name: "n".into(),
                    sql: "SELECT 1".into(),
                    executed_sql: "SELECT 1 LIMIT 101".into(),
                },
                vec![
                    "query_id",
                    "source_id",
                    "source_name",
                    "sql",
                    "executed_sql",
                ],
            ),
            (
                Event::QueryRejected {
                    query_id: None,
                    source_id: "i".into(),
                    source_name: "n".into(),
                    sql: "DELETE FROM t".into(),
                    digest: None,
                    detail: "SQL validation failed: Only SELECT statements are allowed".into(),
                },
                vec!["source_id", "source_name", "sql", "detail"],
            ),
            (
                Event::QueryRejected {
                    query_id: Some("q".into()),
                    source_id: "i".into(),
                    source_name: "n".into(),
                    sql: "SELECT 1".into(),
                    digest: Some(SqlDigest::of("SELECT 1")),
                    detail: "too long".into(),
                },
                vec![
                    "query_id",
                    "source_id",
                    "source_name",
                    "sql",
                    "sql_chars",
                    "sql_bytes",
                    "sql_sha256",
                    "sql_cut",
                    "detail",
                ],
            ),
            (
                Event::QueryFailed {
                    query_id: "q".into(),
                    source_id: "i".into(),
                    source_name: "n".into(),
                    sql: "SELECT 1/0".into(),
                    executed_sql: "SELECT 1/0 LIMIT 101".into(),
                    detail: "division by zero".into(),
                    duration_ms: 3,
                },
                vec![
                    "query_id",
                    "source_id",
                    "source_name",
                    "sql",
                    "executed_sql",
                    "detail",
                    "duration_ms",
                ],
            ),
            (
                Event::SourceRegistered {
                    source_id: "i".into(),
                    source_name: "n".into(),
                    source_type: "postgres".into(),
                },
                vec!["source_id", "source_name", "source_type"],
            ),
            (
                Event::SourceUpdated {
                    source_id: "i".into(),
                    source_name: "n".into(),
                    changed: vec!["name".into()],
                    previous_values: Map::new(),
                    new_values: Map::new(),
                },
                vec![
                    "source_id",
                    "source_name",
                    "changed",
                    "previous_values",
                    "new_values",
                ],
            ),
            (
                Event::SourceDeleted {
                    source_id: "i".into(),
                    source_name: "n".into(),
                    purged: true,
                },
                vec!["source_id", "source_name", "purged"],
            ),
        ];
        for (event, fields) in cases {
            let line = render_line(1, &event, None, &fixed_stamp(None), GENESIS_SHA256).unwrap();
            let mut expected = vec!["seq", "event"];
            expected.extend(fields);
            expected.extend(tail);
            assert_eq!(keys(&line), expected, "{line}");
            let v: Value = serde_json::from_str(&line).unwrap();
            assert_eq!(v["event"], event.name());
            assert_eq!(v["ssh_client"], Value::Null);
        }
    }

    use crate::connector::postgres::{PgConnection, Postgres, SslMode};

    fn pg_source() -> SourceRecord {
        use crate::core::source::Status;
        SourceRecord {
            id: "3f0c".into(),
            name: "orders".into(),
            connection: Postgres::connection(&PgConnection {
                host: "db.internal".into(),
                port: 5432,
                dbname: "production".into(),
                user: "reader".into(),
                password_env: None,
                table: Some("orders".into()),
                schema: "public".into(),
                sslmode: SslMode::Prefer,
                connect_timeout_s: 10,
                statement_timeout_s: 30,
                allow_functions: vec![],
                ssh: None,
            })
            .unwrap(),
            has_password: true,
            description: "old".into(),
            tags: vec!["a".into()],
            registered_by: "alice@bastion".into(),
            registered_at: "2026-05-22T09:00:00Z".into(),
            status: Status::Active,
        }
    }

    #[test]
    fn source_updated_names_what_changed_and_never_a_password() {
        let before = pg_source();
        let mut after = before.clone();
        after.name = "orders_eu".into();
        after.tags = vec![];
        let mut spec: PgConnection = after.connection.spec().unwrap();
        spec.port = 6432;
        spec.password_env = Some("PG_PW".into());
        after.connection = Postgres::connection(&spec).unwrap();
        after.has_password = false;
        let event = Event::source_updated(&before, &after, true);
        let line = render_line(1, &event, None, &fixed_stamp(None), GENESIS_SHA256).unwrap();
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["event"], "source_updated");
        assert_eq!(v["source_name"], "orders_eu");
        assert_eq!(
            v["changed"],
            serde_json::json!([
                "name",
                "tags",
                "connection.port",
                "connection.password_env",
                "connection.password"
            ])
        );
        assert_eq!(v["previous_values"]["name"], "orders");
        assert_eq!(v["new_values"]["name"], "orders_eu");
        assert_eq!(v["previous_values"]["connection.port"], 5432);
        assert_eq!(v["new_values"]["connection.port"], 6432);
        assert_eq!(v["previous_values"]["connection.password_env"], Value::Null);
        assert_eq!(v["new_values"]["tags"], serde_json::json!([]));
        assert!(!line.contains("********"), "{line}");
        assert!(v["new_values"].get("connection.password").is_none());
        // Nothing changed: an edit that saved the same values still leaves its line.
        let same = Event::source_updated(&before, &before, false);
        let Event::SourceUpdated { changed, .. } = same else {
            panic!("{same:?}")
        };
        assert!(changed.is_empty());
    }

    #[test]
    fn timestamp_is_utc_with_microseconds() {
        let t = Stamp::now().timestamp;
        assert_eq!(t.len(), "2026-05-22T09:15:00.123456Z".len(), "{t}");
        assert!(t.ends_with('Z'));
        assert_eq!(&t[19..20], ".");
        assert!(chrono::DateTime::parse_from_rfc3339(&t).is_ok());
    }

    #[test]
    fn lines_chain_to_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(dir.path().join("a.jsonl"));
        for i in 1..=3 {
            assert_eq!(log.record(&query(i)).unwrap(), i);
        }
        let text = fs::read_to_string(log.path()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        let mut prev = GENESIS_SHA256.to_string();
        for (i, line) in lines.iter().enumerate() {
            let v: Value = serde_json::from_str(line).unwrap();
            assert_eq!(v["seq"], i as u64 + 1);
            assert_eq!(v["prev_sha256"], prev.as_str());
            assert_eq!(v["actor"], identity::actor());
            assert_eq!(v["session"], identity::session());
            prev = sha256_hex(line.as_bytes());
        }
        assert!(text.ends_with('\n'));
        let head = fs::read_to_string(log.head_path()).unwrap();
        assert_eq!(head, format!("{{\"seq\":3,\"sha256\":\"{prev}\"}}\n"));
        assert_eq!(log.verify().unwrap(), Verification::Intact { lines: 3 });
    }

    #[test]
    fn files_tdb_creates_are_private_and_others_keep_their_mode() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(dir.path().join("a.jsonl"));
        log.record(&query(1)).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(log.path()), 0o600);
        assert_eq!(mode(&log.head_path()), 0o600);
        // Someone opened them up on purpose (or they are not tdb's): tdb leaves them so.
        fs::set_permissions(log.path(), fs::Permissions::from_mode(0o644)).unwrap();
        fs::set_permissions(log.head_path(), fs::Permissions::from_mode(0o640)).unwrap();
        log.record(&query(2)).unwrap();
        assert_eq!(mode(log.path()), 0o644);
        assert_eq!(mode(&log.head_path()), 0o640);
        assert_eq!(log.verify().unwrap(), Verification::Intact { lines: 2 });
    }

    #[test]
    fn only_a_regular_file_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid C string; mkfifo has no other preconditions.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        let cases = [
            (PathBuf::from("/dev/null"), "a character device"),
            (PathBuf::from("/dev/full"), "a character device"),
            (dir.path().to_path_buf(), "a folder"),
            (fifo.clone(), "a FIFO"),
        ];
        for (path, kind) in cases {
            let log = AuditLog::new(&path);
            let err = log.record(&query(1)).unwrap_err();
            assert!(matches!(err, Error::AuditUnwritable(_)), "{err:?}");
            assert!(err.detail().contains(kind), "{err}");
            assert!(err.detail().contains(&path.display().to_string()), "{err}");
            // Reading does not block on a FIFO either.
            assert!(log.verify().is_err(), "{}", path.display());
        }
        assert!(!PathBuf::from("/dev/null.head").exists());
        assert!(!fifo.with_extension("head").exists());
    }

    #[test]
    fn missing_and_empty_logs_are_intact() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(dir.path().join("a.jsonl"));
        assert_eq!(log.verify().unwrap(), Verification::Intact { lines: 0 });
        assert!(log.tail(None).unwrap().is_empty());
        fs::write(log.path(), "").unwrap();
        assert_eq!(log.verify().unwrap(), Verification::Intact { lines: 0 });
        assert!(log.tail(Some(3)).unwrap().is_empty());
    }

    #[test]
    fn tail_reads_from_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(dir.path().join("a.jsonl"));
        for i in 1..=5 {
            log.record(&query(i)).unwrap();
        }
        let seqs = |v: Vec<Value>| {
            v.iter()
                .map(|l| l["seq"].as_u64().unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(seqs(log.tail(Some(2)).unwrap()), [4, 5]);
        assert_eq!(seqs(log.tail(Some(9)).unwrap()), [1, 2, 3, 4, 5]);
        assert_eq!(seqs(log.tail(None).unwrap()), [1, 2, 3, 4, 5]);
        assert!(log.tail(Some(0)).unwrap().is_empty());
        assert_eq!(
            keys(&log.tail(Some(1)).unwrap()[0].to_string())[..2],
            ["seq", "event"]
        );
    }

    #[test]
    fn long_lines_cross_read_blocks() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(dir.path().join("a.jsonl"));
        let big = |n: usize| Event::QueryRejected {
            query_id: None,
            source_id: "i".into(),
            source_name: "n".into(),
            sql: "x".repeat(n),
            digest: None,
            detail: "too long".into(),
        };
        for n in [10, CHUNK * 2 + 17, 5, CHUNK - 3, 1] {
            log.record(&big(n)).unwrap();
        }
        let tail = log.tail(Some(4)).unwrap();
        let lens: Vec<usize> = tail
            .iter()
            .map(|v| v["sql"].as_str().unwrap().len())
            .collect();
        assert_eq!(lens, [CHUNK * 2 + 17, 5, CHUNK - 3, 1]);
        assert_eq!(log.verify().unwrap(), Verification::Intact { lines: 5 });
    }

    #[test]
    fn a_line_cut_short_is_kept_and_reported_and_writing_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(dir.path().join("a.jsonl"));
        for i in 1..=3 {
            log.record(&query(i)).unwrap();
        }
        // A crash in the middle of the fourth write.
        let mut f = OpenOptions::new().append(true).open(log.path()).unwrap();
        f.write_all(br#"{"seq":4,"event":"que"#).unwrap();
        drop(f);
        assert!(matches!(
            log.verify().unwrap(),
            Verification::Broken { line: 4, .. }
        ));
        assert_eq!(log.record(&query(4)).unwrap(), 4);
        assert_eq!(log.record(&query(5)).unwrap(), 5);
        let text = fs::read_to_string(log.path()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 6);
        assert_eq!(lines[3], r#"{"seq":4,"event":"que"#);
        // The new lines chain to the last complete line, skipping the remains.
        let v: Value = serde_json::from_str(lines[4]).unwrap();
        assert_eq!(v["seq"], 4);
        assert_eq!(v["prev_sha256"], sha256_hex(lines[2].as_bytes()));
        match log.verify().unwrap() {
            Verification::Broken { line, reason } => {
                assert_eq!(line, 4);
                assert!(reason.contains("not valid JSON"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        // tail still shows every line, the damaged one as text.
        let tail = log.tail(Some(3)).unwrap();
        assert_eq!(tail[0], Value::String(r#"{"seq":4,"event":"que"#.into()));
        assert_eq!(tail[2]["seq"], 5);
    }

    #[test]
    fn an_oversized_line_is_hashed_without_being_held() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(dir.path().join("a.jsonl"));
        log.record(&query(1)).unwrap();
        let huge = MAX_LINE_BYTES as usize + 5;
        let mut f = OpenOptions::new().append(true).open(log.path()).unwrap();
        f.write_all(&vec![b'x'; huge]).unwrap();
        drop(f);
        assert_eq!(log.record(&query(2)).unwrap(), 2);
        match log.verify().unwrap() {
            Verification::Broken { line, reason } => {
                assert_eq!(line, 2);
                assert!(reason.contains("bytes long"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        let tail = log.tail(Some(2)).unwrap();
        assert_eq!(tail[0], Value::String(format!("<{huge} bytes>")));
        assert_eq!(tail[1]["seq"], 2);
    }

    #[test]
    fn without_a_head_writers_chain_to_the_last_line_that_parses() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(dir.path().join("a.jsonl"));
        log.record(&query(1)).unwrap();
        log.record(&query(2)).unwrap();
        fs::remove_file(log.head_path()).unwrap();
        let mut f = OpenOptions::new().append(true).open(log.path()).unwrap();
        f.write_all(b"garbage\n\n").unwrap();
        drop(f);
        assert_eq!(log.record(&query(3)).unwrap(), 3);
        let text = fs::read_to_string(log.path()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let v: Value = serde_json::from_str(lines[4]).unwrap();
        assert_eq!(v["prev_sha256"], sha256_hex(lines[1].as_bytes()));
        assert!(matches!(
            log.verify().unwrap(),
            Verification::Broken { line: 3, .. }
        ));
    }

    #[test]
    fn a_log_without_its_head_is_checked_as_a_chain() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(dir.path().join("a.jsonl"));
        for i in 1..=3 {
            log.record(&query(i)).unwrap();
        }
        fs::remove_file(log.head_path()).unwrap();
        assert_eq!(log.verify().unwrap(), Verification::Intact { lines: 3 });
        // The next write brings the head back.
        log.record(&query(4)).unwrap();
        assert!(log.head_path().exists());
        assert_eq!(log.verify().unwrap(), Verification::Intact { lines: 4 });
    }

    #[test]
    fn a_head_left_behind_by_a_crash_is_reported_then_caught_up() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(dir.path().join("a.jsonl"));
        log.record(&query(1)).unwrap();
        let head_after_one = fs::read(log.head_path()).unwrap();
        log.record(&query(2)).unwrap();
        // As if tdb died between writing line 2 and its head.
        fs::write(log.head_path(), &head_after_one).unwrap();
        match log.verify().unwrap() {
            Verification::Broken { line, reason } => {
                assert_eq!(line, 2);
                assert!(reason.contains("not covered"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(log.record(&query(3)).unwrap(), 3);
        assert_eq!(log.verify().unwrap(), Verification::Intact { lines: 3 });
    }

    #[test]
    fn a_damaged_head_is_reported_and_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(dir.path().join("a.jsonl"));
        log.record(&query(1)).unwrap();
        fs::write(log.head_path(), "{\"seq\":1,\"sh").unwrap();
        assert!(matches!(
            log.verify().unwrap(),
            Verification::Broken { line: 1, .. }
        ));
        assert_eq!(log.record(&query(2)).unwrap(), 2);
        assert_eq!(log.verify().unwrap(), Verification::Intact { lines: 2 });
    }

    #[test]
    fn a_missing_folder_is_an_error_naming_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(dir.path().join("nope/a.jsonl"));
        let err = log.record(&query(1)).unwrap_err();
        assert!(matches!(err, Error::AuditUnwritable(_)));
        assert_eq!(err.exit_code(), 15);
        assert!(err.detail().contains("nope/a.jsonl"), "{err}");
    }
}
