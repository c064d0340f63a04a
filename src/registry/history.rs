//! The registry's memory of what was run and typed: every query run per source (capped at
//! [`KEEP_PER_SOURCE`]) and the editor's text per source, so both survive a restart.
//!
//! Each write is one autocommit statement waiting on the busy timeout, so two tdb processes
//! recording at once (a `tdb query` beside the UI) both succeed.

use rusqlite::{OptionalExtension, params};

use super::{Registry, db_err};
use crate::core::Result;
use crate::core::history::{HistoryEntry, KEEP_PER_SOURCE, Outcome, short_error};

impl Registry {
    /// Appends a run to its source's history, then drops the runs beyond the cap.
    pub fn record_history(&self, entry: &HistoryEntry) -> Result<()> {
        self.db
            .prepare_cached(
                "INSERT INTO query_history
                   (source_id, sql, started_at, duration_ms, rows, truncated, outcome, error)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .and_then(|mut st| {
                st.execute(params![
                    entry.source_id,
                    entry.sql,
                    entry.started_at,
                    i64::try_from(entry.duration_ms).unwrap_or(i64::MAX),
                    entry.rows.map(|r| i64::try_from(r).unwrap_or(i64::MAX)),
                    entry.truncated,
                    entry.outcome.as_str(),
                    entry.error.as_deref().map(short_error),
                ])
            })
            .map_err(db_err("record history"))?;
        self.db
            .prepare_cached(
                "DELETE FROM query_history WHERE source_id = ?1 AND id <= (
                   SELECT id FROM query_history WHERE source_id = ?1
                   ORDER BY id DESC LIMIT 1 OFFSET ?2)",
            )
            .and_then(|mut st| st.execute(params![entry.source_id, KEEP_PER_SOURCE as i64]))
            .map_err(db_err("trim history"))?;
        Ok(())
    }

    /// A source's runs, newest first, at most `limit`.
    pub fn history(&self, source_id: &str, limit: usize) -> Result<Vec<HistoryEntry>> {
        let mut st = self
            .db
            .prepare_cached(
                "SELECT source_id, sql, started_at, duration_ms, rows, truncated, outcome, error
                 FROM query_history WHERE source_id = ?1 ORDER BY id DESC LIMIT ?2",
            )
            .map_err(db_err("history"))?;
        let rows = st
            .query_map(
                params![source_id, i64::try_from(limit).unwrap_or(i64::MAX)],
                |r| {
                    let outcome: String = r.get(6)?;
                    Ok(HistoryEntry {
                        source_id: r.get(0)?,
                        sql: r.get(1)?,
                        started_at: r.get(2)?,
                        duration_ms: u64::try_from(r.get::<_, i64>(3)?).unwrap_or(0),
                        rows: r
                            .get::<_, Option<i64>>(4)?
                            .map(|n| u64::try_from(n).unwrap_or(0)),
                        truncated: r.get(5)?,
                        // The CHECK constraint allows nothing else.
                        outcome: Outcome::parse(&outcome).unwrap_or(Outcome::Failed),
                        error: r.get(7)?,
                    })
                },
            )
            .map_err(db_err("history"))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db_err("history"))
    }

    /// The editor's text of a source as last saved, if it ever was.
    pub fn editor_text(&self, source_id: &str) -> Result<Option<String>> {
        self.db
            .query_row(
                "SELECT sql FROM editor_texts WHERE source_id = ?1",
                [source_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(db_err("editor text"))
    }

    /// Keeps the editor's text of a source for the next start.
    pub fn save_editor_text(&self, source_id: &str, sql: &str) -> Result<()> {
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        self.db
            .execute(
                "INSERT INTO editor_texts (source_id, sql, saved_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(source_id) DO UPDATE SET sql = excluded.sql, saved_at = excluded.saved_at",
                params![source_id, sql, now],
            )
            .map_err(db_err("save editor text"))?;
        Ok(())
    }

    /// Drops a removed source's history and editor text (a purge cascades on its own).
    pub(super) fn forget_history(&self, source_id: &str) -> Result<()> {
        for sql in [
            "DELETE FROM query_history WHERE source_id = ?1",
            "DELETE FROM editor_texts WHERE source_id = ?1",
        ] {
            self.db
                .execute(sql, [source_id])
                .map_err(db_err("forget history"))?;
        }
        Ok(())
    }
}
