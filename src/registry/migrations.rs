//! Versioned schema changes, tracked in SQLite's `user_version`. Each step runs once, inside
//! the write lock, so two processes opening a new home at once cannot both apply it.

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
];

pub fn migrate(db: &mut Connection) -> Result<()> {
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
            "the registry was written by a newer tdb (schema {current}, this build knows {target}); upgrade tdb"
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
