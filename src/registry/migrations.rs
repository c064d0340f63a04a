//! Versioned schema changes, tracked in SQLite's `user_version`. Each step runs once, inside
//! the write lock, so two processes opening a new home at once cannot both apply it.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use crate::core::{Error, Result};

/// Step N takes the schema from version N to N+1. Append only; never edit a shipped step.
const STEPS: &[&str] = &[
    // 1: the source registry.
    "CREATE TABLE sources (
        id            TEXT PRIMARY KEY,
        name          TEXT NOT NULL,
        source_type   TEXT NOT NULL,
        connection    TEXT NOT NULL,
        secret        BLOB,
        description   TEXT NOT NULL DEFAULT '',
        tags          TEXT NOT NULL DEFAULT '[]',
        registered_by TEXT NOT NULL,
        registered_at TEXT NOT NULL,
        status        TEXT NOT NULL DEFAULT 'active',
        deleted_at    TEXT
    );
    CREATE UNIQUE INDEX sources_live_name ON sources(name) WHERE deleted_at IS NULL;",
    // 2: every query run per source (the UI's history), and the editor's text per source.
    // Both go with their source when it is purged; a removal drops them in code.
    "CREATE TABLE query_history (
        id          INTEGER PRIMARY KEY,
        source_id   TEXT NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
        sql         TEXT NOT NULL,
        started_at  TEXT NOT NULL,
        duration_ms INTEGER NOT NULL,
        rows        INTEGER,
        truncated   INTEGER NOT NULL DEFAULT 0,
        outcome     TEXT NOT NULL CHECK (outcome IN ('ok', 'rejected', 'failed')),
        error       TEXT
    );
    CREATE INDEX query_history_source ON query_history(source_id, id);
    CREATE TABLE editor_texts (
        source_id TEXT PRIMARY KEY REFERENCES sources(id) ON DELETE CASCADE,
        sql       TEXT NOT NULL,
        saved_at  TEXT NOT NULL
    );",
    // 3: API keys of `tdb serve`. Only the key's SHA-256 is kept; `prefix` finds the row.
    // A revoked key keeps its row (its name is free again) so the audit trail's prefixes
    // still say whose it was.
    "CREATE TABLE api_keys (
        id           TEXT PRIMARY KEY,
        name         TEXT NOT NULL,
        prefix       TEXT NOT NULL,
        hash         BLOB NOT NULL,
        sources      TEXT,
        tag          TEXT,
        admin        INTEGER NOT NULL DEFAULT 0,
        rate_per_min INTEGER,
        created_at   TEXT NOT NULL,
        last_used_at TEXT,
        revoked_at   TEXT
    );
    CREATE UNIQUE INDEX api_keys_live_name ON api_keys(name) WHERE revoked_at IS NULL;
    CREATE INDEX api_keys_prefix ON api_keys(prefix);",
];

/// `path` only names the file in errors.
pub fn migrate(db: &mut Connection, path: &Path) -> Result<()> {
    let named = |e: Error| match e {
        Error::Internal(m) => Error::Internal(format!(
            "{m} (the registry {}; if it is damaged, restore it from a backup or move it away)",
            path.display()
        )),
        other => other,
    };
    migrate_steps(db).map_err(named)
}

fn migrate_steps(db: &mut Connection) -> Result<()> {
    let target = STEPS.len() as i64;
    if version(db)? == target {
        return Ok(());
    }
    let tx = db
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| Error::internal("registry: cannot lock for migration", e))?;
    let current = version(&tx)?;
    if current > target {
        return Err(Error::Internal(format!(
            "the registry was written by a newer tdb (schema {current}, this build knows {target}); upgrade tdb to use it"
        )));
    }
    for (i, step) in STEPS.iter().enumerate().skip(current as usize) {
        tx.execute_batch(step)
            .map_err(|e| Error::Internal(format!("registry: migration {} failed: {e}", i + 1)))?;
    }
    tx.pragma_update(None, "user_version", target)
        .map_err(|e| Error::internal("registry: cannot record the schema version", e))?;
    tx.commit()
        .map_err(|e| Error::internal("registry: cannot commit the migration", e))
}

fn version(db: &Connection) -> Result<i64> {
    db.query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| Error::internal("registry: cannot read the schema version", e))
}
